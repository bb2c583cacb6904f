"""Fixtures over everything a test may need to cover: every family, preset and example scenario.

A new family, preset or example scenario is picked up by the tests that use these
fixtures without editing them.

Markers: ``slow`` marks tests that take more than a few seconds (statistical checks,
end-to-end runs through the console entry point, notebooks). ``pytest -m "not slow"``
is the quick loop while editing; CI runs everything.

Hypothesis profiles (docs/testing.md, "Deterministic CI and fuzzing"): ``ci`` is loaded for
every run, so the README's test command (and ``.ci/run``) tries the same examples on every
run of a commit and passes or fails the same way; ``pytest --hypothesis-profile=fuzz``
explores new examples, many more of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from simsuite.contracts import FAMILIES, all_presets

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SMALL_SCENARIO = TESTS / "scenarios" / "valid-small.yaml"
EXAMPLES = sorted((ROOT / "scenarios").glob("*.yaml"))

# The independent reference implementations (tests/oracles) import as `oracles`.
sys.path.insert(0, str(TESTS))

# Derandomized: the examples are drawn from a seed made from each test's source, so they change
# only with the test (or the hypothesis version); no database of earlier failures is replayed.
settings.register_profile("ci", derandomize=True, database=None, max_examples=250, deadline=None,
                          print_blob=True)
# Exploratory: a fresh random seed each run, 20 times the examples; failures are saved in
# .hypothesis/ and replayed first on the next fuzz run until fixed.
settings.register_profile("fuzz", derandomize=False, max_examples=5000, deadline=None, print_blob=True)
# Loaded here, before the tests are collected; `--hypothesis-profile` (applied later, by the
# hypothesis plugin) replaces it.
settings.load_profile("ci")


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


def run_simsuite(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed ``simsuite`` console script with ``args`` in folder ``cwd``, as a
    user would (output captured as text). Through the entry point, not ``cli.main``: a
    command unregistered from the CLI, or a module that fails to import, fails here."""
    return subprocess.run([simsuite_executable(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    """Environment of a ``simsuite`` subprocess: the test's own, run from a scratch folder."""
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    return env
