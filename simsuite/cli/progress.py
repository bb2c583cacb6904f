"""The terminal progress bar of long commands (quiet when stderr is not a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A ``progress(n_done_sims)`` callback drawing a bar on a terminal's stderr; ``None`` otherwise.

    Quiet when stderr is not a terminal (logs, CI, pipes), so outputs stay clean.
    """
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True, show_percent=True) as bar:
        yield bar.update
