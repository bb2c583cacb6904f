"""The code checks that CI runs with the tests: ruff, mypy and the import-layer contracts.

Their configuration is in ``pyproject.toml``. Running them as tests keeps `.ci/run` the
README's one test command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent


def check(*command: str) -> None:
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{' '.join(command)} failed:\n{out.stdout}\n{out.stderr}"


def test_ruff():
    check(str(BIN / "ruff"), "check", "simsuite", "tests", "benchmarks")


@pytest.mark.slow
def test_mypy():
    check(sys.executable, "-m", "mypy", "--no-incremental")


def test_import_layers():
    check(str(BIN / "lint-imports"), "--no-cache")
