"""The console entry point leaves without the interpreter's teardown: same status, same
output, atexit handlers still run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SMALL = Path(__file__).parent / "scenarios" / "valid-small.yaml"


def test_a_finished_run_flushes_everything_and_exits_0(tmp_path):
    # stdout is a pipe here, so it is block-buffered: the last line is lost if not flushed.
    proc = subprocess.run([sys.executable, "-m", "simsuite", "run", str(SMALL), "--sims", "500",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().splitlines()[-1].startswith("simulated in ")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["loss_distribution.png", "results.nc", "summary.csv",
                                                               "workbook.xlsx"]


def test_bad_input_still_exits_2_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "simsuite", "run", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"simsuite: {tmp_path / 'missing.yaml'}: scenario file not found"]


@pytest.mark.parametrize("code, status, err", [(None, 0, ""), (0, 0, ""), (3, 3, ""), ("bad thing", 1, "bad thing\n")])
def test_exit_without_teardown_keeps_the_status_and_runs_atexit_handlers(code, status, err):
    script = ("import atexit\n"
              "from simsuite.cli.entry import exit_without_teardown\n"
              "atexit.register(lambda: print('handler ran'))\n"
              "print('before', end=' ')\n"
              f"exit_without_teardown({code!r})\n"
              "print('not reached')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (status, "before handler ran\n", err)
