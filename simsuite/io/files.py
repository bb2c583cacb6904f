"""Writing output files so that an interrupted run never leaves a truncated one."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simsuite.errors import InputError


def _partial_name(path: Path) -> Path:
    # Keep the suffix so writers that infer a format from it still work.
    return path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    An exception (or Ctrl-C) leaves the previous ``path``, if any, untouched.
    """
    with atomic_paths([path]) as (tmp,):
        yield tmp


@contextmanager
def atomic_paths(paths: list[str | Path]) -> Iterator[list[Path]]:
    """Like `atomic_path` for several files that belong together.

    Nothing is renamed until every file is written; the renames then run with Ctrl-C
    deferred, so an interrupted run leaves either all the previous files or all the
    new ones, never a mix and never a truncated file.
    """
    finals = [Path(p) for p in paths]
    temps = [_partial_name(p) for p in finals]
    try:
        yield temps
        deferred: list[int] = []
        previous = None
        try:
            previous = signal.signal(signal.SIGINT, lambda signum, frame: deferred.append(signum))
        except ValueError:  # not the main thread: signals cannot be deferred, renames are still quick
            previous = None
        try:
            for tmp, final in zip(temps, finals):
                os.replace(tmp, final)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if deferred:
            raise KeyboardInterrupt
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()


def prepare_out_dir(out_dir: Path) -> None:
    """Create the ``--out`` directory, or raise a one-line `InputError` saying why not."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("--out", "", f"{out_dir} exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("--out", "", f"cannot create {out_dir} ({exc.strerror})") from None
