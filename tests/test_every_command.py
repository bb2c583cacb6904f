"""Every command on every example scenario, through the installed ``simsuite`` console script.

Each file in ``scenarios/`` goes through ``validate``, ``run``, ``run --method exact`` (or
its one-line refusal), ``sweep`` (one field, two values) and ``report``, as a user would
run them: a subprocess of the console entry point, so an unregistered command, a broken
import or a traceback fails here. Few simulations: this checks that each command works
end to end, not the numbers (other tests do).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, simsuite_executable

pytestmark = pytest.mark.slow


def simsuite(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([simsuite_executable(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def assert_ok(out: subprocess.CompletedProcess) -> None:
    assert out.returncode == 0, f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    assert "Traceback" not in out.stderr


def test_help_lists_every_command(tmp_path):
    out = simsuite("--help", cwd=tmp_path)
    assert_ok(out)
    for command in ("run", "validate", "contracts", "settle", "sweep", "report", "calibrate"):
        assert f"  {command} " in out.stdout, command


def test_validate(example, tmp_path):
    out = simsuite("validate", str(example), cwd=tmp_path)
    assert_ok(out)
    assert out.stdout.startswith(f"{example}: OK")


def test_run(example, tmp_path):
    out = simsuite("run", str(example), "--sims", "400", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert_ok(out)
    assert "expected result" in out.stdout
    for name in ("summary.csv", "results.nc", "loss_distribution.png", "workbook.xlsx"):
        assert (tmp_path / "out" / name).stat().st_size > 0, name


def test_run_exact_or_a_one_line_refusal(example, tmp_path):
    out = simsuite("run", str(example), "--method", "exact", "--out", str(tmp_path / "out"), cwd=tmp_path)
    if out.returncode == 0:
        assert "self-check" in out.stdout and (tmp_path / "out" / "results.nc").exists()
    else:
        assert out.returncode == 2, out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"simsuite: {example}: ") and "Monte Carlo" in lines[0]
        assert not (tmp_path / "out" / "results.nc").exists()


def test_sweep(example, tmp_path):
    out = simsuite("sweep", str(example), "--param", "assumptions.quality_score", "--values", "0.8,0.9",
                   "--sims", "300", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert_ok(out)
    assert (tmp_path / "out" / "sweep.nc").exists() and (tmp_path / "out" / "sweep.png").exists()


def test_report(example, tmp_path):
    report = tmp_path / "report.html"
    # Two panel sizes and the fewest side simulations: every figure and section is still drawn.
    out = simsuite("report", str(example), "--sims", "400", "--side-sims", "100", "--sizes", "6000,20000",
                   "--out", str(report),
                   cwd=tmp_path)
    assert_ok(out)
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    source = example.read_text(encoding="utf-8")
    if "finance:" in source:  # the years, then the cash section with its own fan chart of the savings rate
        assert "The years of the agreement" in text and "Cash, value and the path to take" in text
        assert "Savings rate and cash over the years" in text
    elif "horizon:" in source:  # the years, and the fan chart for the payoff
        assert "The years of the agreement" in text and "Over the years" in text
    else:
        assert "What each contract pays" in text
    assert report.with_suffix(".xlsx").stat().st_size > 0


def test_settle_example(tmp_path):
    out = simsuite("settle", str(ROOT / "scenarios" / "settle-example.csv"), cwd=tmp_path)
    assert_ok(out)
    assert "net to ACO" in out.stdout
