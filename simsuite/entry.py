"""The console entry point: catches Ctrl-C from the very first import.

Importing the CLI loads numpy, pydantic and the contract presets (about half a second);
a Ctrl-C in that time must end as cleanly as one during a run.
"""

from __future__ import annotations

import atexit
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


def exit_without_teardown(code: object) -> None:
    """Leave with the status of ``SystemExit(code)``, skipping the interpreter's teardown.

    Tearing down numba, LLVM and the scientific stack takes about 0.5 s after every run
    (0.24 s for numba alone, measured on the 2-core development machine), and nothing
    needs it: every output file is closed and committed before the command returns. The
    ``atexit`` handlers run and the standard streams are flushed, as in a normal exit.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): Python prints the message and exits 1
        sys.stderr.write(f"{code}\n")
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed pipe (``simsuite ... | head``) must not change the status
            pass
    os._exit(status)


def main() -> None:
    """Run the ``simsuite`` command line."""
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        from simsuite.cli import main as cli_main
    except KeyboardInterrupt:
        exit_interrupted()
    try:
        cli_main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    try:
        exit_without_teardown(code)
    except KeyboardInterrupt:
        exit_interrupted()
