"""Ctrl-C during a run: exit 130 within a second, a clear message, and no partial output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SMALL = Path(__file__).parent / "scenarios" / "valid-small.yaml"


def start_long_run(out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "simsuite", "run", str(SMALL), "--out", str(out), "--sims", "20000000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def interrupt_when_simulating(proc: subprocess.Popen) -> tuple[int, str, float]:
    # The run announces its estimated time on stderr just before simulating.
    first = proc.stderr.readline()
    assert first.startswith("estimated run time"), first + proc.communicate()[1]
    time.sleep(1.0)  # well inside the simulation
    assert proc.poll() is None
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, first + err, time.monotonic() - sent


def test_interrupted_run_leaves_no_output(tmp_path):
    out = tmp_path / "out"
    code, err, waited = interrupt_when_simulating(start_long_run(out))
    assert code == 130
    assert err.strip().splitlines()[-1] == "simsuite: interrupted; no partial output was left"
    assert "Traceback" not in err
    assert waited < 1.5
    assert not out.exists() or list(out.iterdir()) == []


def test_interrupted_run_keeps_the_previous_output(tmp_path):
    out = tmp_path / "out"
    first = subprocess.run([sys.executable, "-m", "simsuite", "run", str(SMALL), "--out", str(out), "--sims", "500"],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, _ = interrupt_when_simulating(start_long_run(out))
    assert code == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
