"""The family registry is the only switch: a family added from a test file alone runs everywhere.

The toy family below is declared and registered here, without touching the package, and
goes through a Monte Carlo run, the exact method, a sweep, the payoff figure and the
HTML report (through the command line, in this process, since the family lives here).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, Field

import simsuite
from simsuite.cli.app import main
from simsuite.contracts import FAMILIES, Family, all_presets, build_contract, register_family, unregister_family
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelTotal, PanelYear, Settlement
from simsuite.contracts.presets import INPUT
from simsuite.errors import FieldProblem


class StepBonusTerms(BaseModel):
    """A bonus of ``bonus`` x benchmark if the savings rate reaches ``threshold``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    threshold: Annotated[float, Field(ge=0.0, lt=1.0)]
    bonus: Annotated[float, Field(ge=0.0, le=1.0)]


def settle_step(terms: StepBonusTerms, panel: PanelYear) -> Settlement:
    b = np.asarray(panel.benchmark, dtype=float)
    rate = (b - np.asarray(panel.expenditure, dtype=float)) / b
    paid = rate >= terms.threshold
    return Settlement(net=np.where(paid, terms.bonus * b, 0.0), gain_shared=paid)


def reference_step(terms: StepBonusTerms, benchmark: float, expenditure: float) -> float:
    return terms.bonus * benchmark if (benchmark - expenditure) / benchmark >= terms.threshold else 0.0


STEP = Family(
    name="step_bonus", title="a step bonus on the savings rate (test family)", terms=StepBonusTerms,
    settle=settle_step, caps=lambda terms: (UNCAPPED,), reads=frozenset({"panel"}), exact="panel_total",
    exact_total=lambda terms: PanelTotal(UNCAPPED), reference=reference_step,
)


@pytest.fixture
def step_family():
    register_family(STEP)
    yield STEP
    unregister_family(STEP.name)


def toy_scenario(n: int = 2000) -> dict:
    return {
        "name": "toy family",
        "population": {"beneficiaries": n},
        "assumptions": {"true_savings": 0.01},
        "contracts": [{"preset": "mssp-basic-a"},
                      {"family": "step_bonus", "name": "Step", "terms": {"threshold": 0.0, "bonus": 0.01}}],
        "run": {"simulations": 2000, "seed": 3},
    }


@pytest.mark.slow
def test_a_family_registered_from_a_test_runs_through_every_engine(step_family, tmp_path):
    import yaml

    sc = simsuite.scenario_from_dict(toy_scenario())
    ds = simsuite.run(sc)
    net = ds["net"].sel(contract="Step").values
    b = float(ds["benchmark"].sel(contract="Step"))
    # The engine settles it with the family's own rule: either the bonus or nothing.
    assert set(np.unique(np.round(net / (0.01 * b), 9))) <= {0.0, 1.0}
    p_paid = float(ds["summary"].sel(contract="Step", measure="p_shared_savings"))
    se = float(ds["summary_se"].sel(contract="Step", measure="p_shared_savings"))

    exact = simsuite.run_exact(sc)
    p_exact = float(exact["summary"].sel(contract="Step", measure="p_shared_savings"))
    assert abs(p_paid - p_exact) < 4 * se + 1e-6  # the same probability, computed exactly

    swept = simsuite.sweep(sc, "contracts.1.terms.bonus", [0.01, 0.02], simsuite.RunOptions(500, seed=1))
    means = swept["summary"].sel(contract="Step", measure="mean").values
    assert means[1] == pytest.approx(2 * means[0], rel=1e-12)  # same draws, twice the bonus

    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(toy_scenario()))
    report = tmp_path / "toy.html"
    with pytest.raises(SystemExit) as info:
        main(["report", str(path), "--sims", "400", "--side-sims", "200", "--sizes", "1000,3000",
              "--no-sensitivity", "--out", str(report)])
    assert info.value.code == 0
    assert "Step" in report.read_text(encoding="utf-8")


def test_a_family_without_an_exact_method_is_refused_in_one_line(step_family):
    from dataclasses import replace

    unregister_family(STEP.name)
    register_family(replace(STEP, exact="none", exact_total=None))
    sc = simsuite.scenario_from_dict(toy_scenario())
    with pytest.raises(simsuite.scenario.load.InputError, match=r"contracts\[1\]: contract 'Step' \(step_bonus\) "
                                                             r"has no exact method; use Monte Carlo"):
        simsuite.run_exact(sc)


def test_registering_a_name_twice_or_inconsistently_is_refused():
    from dataclasses import replace

    with pytest.raises(ValueError, match="registered twice"):
        register_family(replace(FAMILIES["corridor"]))
    with pytest.raises(ValueError, match="exact_total"):
        register_family(replace(STEP, exact="constant"))
    assert STEP.name not in FAMILIES


def test_every_family_declares_what_the_engines_need(family):
    assert family.name and family.title
    assert issubclass(family.terms, BaseModel)
    assert callable(family.settle) and callable(family.caps) and callable(family.reference)
    assert family.reads <= {"panel", "episodes", "quality"}
    assert family.exact in ("panel_total", "episodes", "constant", "none")
    assert (family.exact == "panel_total") == (family.exact_total is not None)


def test_every_preset_builds_or_names_the_term_it_needs(preset):
    """Each preset validates for each of its performance years; a preset with a term that has
    no published value refuses in one line naming that term."""
    needs = sorted(k for k, v in preset.terms.items() if v == INPUT)
    for year in preset.performance_years or (2026,):
        if needs:
            with pytest.raises(FieldProblem, match="no published value") as info:
                build_contract(preset.id, None, year)
            assert info.value.loc[0] == "overrides" and info.value.loc[1] in needs
        else:
            contract = build_contract(preset.id, None, year)
            assert contract.family == preset.family and contract.family in FAMILIES
            assert all(isinstance(c, CapSpec) for c in contract.caps)


def test_every_preset_names_a_registered_family():
    assert {p.family for p in all_presets().values()} <= set(FAMILIES)
