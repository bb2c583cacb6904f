"""The process-wide Ctrl-C flag and the clean exit after an interruption (standard library only).

The console entry point (`simsuite.cli.entry`) installs a SIGINT handler that sets
`interrupted` and raises KeyboardInterrupt. Python swallows a KeyboardInterrupt raised
inside a finalizer or callback ("Exception ignored in ..."), so long loops in library
code (chunks of a run, tasks of a Dask run) call `raise_if_interrupted` between steps:
the flag lets them stop all the same, without importing the command line.
"""

from __future__ import annotations

import os
import sys
import threading

INTERRUPTED_MESSAGE = "simsuite: interrupted; no partial output was left\n"
EXIT_INTERRUPTED = 130

#: Set by the console entry point's SIGINT handler.
interrupted = threading.Event()


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
