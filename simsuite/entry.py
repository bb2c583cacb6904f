"""The console entry point: catches Ctrl-C from the very first import.

Importing the CLI loads numpy, pydantic and the contract presets (about half a second);
a Ctrl-C in that time must end as cleanly as one during a run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

INTERRUPTED_MESSAGE = "simsuite: interrupted; no partial output was left\n"
EXIT_INTERRUPTED = 130


# Set by the SIGINT handler. Python swallows a KeyboardInterrupt raised inside a finalizer
# or callback ("Exception ignored in ..."); the flag lets long loops stop all the same.
interrupted = threading.Event()


def _on_sigint(signum: int, frame: object) -> None:
    interrupted.set()
    raise KeyboardInterrupt


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed, even if it was swallowed since."""
    if interrupted.is_set():
        raise KeyboardInterrupt


def exit_interrupted() -> None:
    """Print the interruption message and leave at once with status 130.

    ``os._exit`` rather than ``sys.exit``: the outputs were already cleaned up by the
    code the interruption unwound through, and interpreter teardown (numba's worker
    threads, half-imported modules) must not turn the exit into a second interruption.
    """
    try:
        sys.stdout.flush()
    except Exception:  # a closed pipe must not hide the message
        pass
    sys.stderr.write(INTERRUPTED_MESSAGE)
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def main() -> None:
    """Run the ``simsuite`` command line."""
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        from simsuite.cli import main as cli_main
    except KeyboardInterrupt:
        exit_interrupted()
    cli_main()
