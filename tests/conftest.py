"""Fixtures over everything a test may need to cover: every family, preset and example scenario.

A new family, preset or example scenario is picked up by the tests that use these
fixtures without editing them.

Markers: ``slow`` marks tests that take more than a few seconds (statistical checks,
end-to-end runs through the console entry point, notebooks). ``pytest -m "not slow"``
is the quick loop while editing; CI runs everything.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from simsuite.contracts import FAMILIES, all_presets

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SMALL_SCENARIO = TESTS / "scenarios" / "valid-small.yaml"
EXAMPLES = sorted((ROOT / "scenarios").glob("*.yaml"))

# The independent reference implementations (tests/oracles) import as `oracles`.
sys.path.insert(0, str(TESTS))


@pytest.fixture(params=sorted(FAMILIES))
def family(request):
    """Every registered contract family (its registry entry)."""
    return FAMILIES[request.param]


@pytest.fixture(params=sorted(all_presets()))
def preset(request):
    """Every shipped preset."""
    return all_presets()[request.param]


@pytest.fixture(params=EXAMPLES, ids=[p.name for p in EXAMPLES])
def example(request) -> Path:
    """Every example scenario in ``scenarios/``."""
    return request.param


@pytest.fixture
def small_scenario() -> Path:
    """A small MSSP scenario that runs in a fraction of a second."""
    return SMALL_SCENARIO


def simsuite_executable() -> str:
    """The installed ``simsuite`` console script (the one a user runs)."""
    here = Path(sys.executable).parent / "simsuite"
    found = str(here) if here.exists() else shutil.which("simsuite")
    if found is None:
        pytest.fail("the simsuite console script is not installed (pip install -e .)")
    return found


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    """Environment of a ``simsuite`` subprocess: the test's own, run from a scratch folder."""
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    return env
