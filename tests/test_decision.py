"""The path decision (`simsuite.analysis.decision`) and the ratchet (`simsuite.analysis.ratchet`):
hand-made Datasets whose answers are known, and the examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from conftest import ROOT

from simsuite.analysis.decision import (
    agreement_limits,
    choose,
    decide,
    option_value,
    stay_in_level_a_pairs,
)
from simsuite.analysis.ratchet import measure_ratchet
from simsuite.results.cashflow import FINANCE_MEASURES
from simsuite.scenario.load import load_scenario
from simsuite.scenario.schema import RiskAppetite

NAMES = ["glide", "enhanced", "stay"]


def cash_dataset(npv: dict[str, np.ndarray], measures: dict[str, dict[str, float]],
                 errors: dict[str, float] | None = None) -> xr.Dataset:
    """A Dataset with the cash variables `decide` reads, values given by hand."""
    values = np.zeros((len(npv), len(FINANCE_MEASURES)))
    se = np.full_like(values, 1e-3)
    for i, name in enumerate(npv):
        for m, v in measures[name].items():
            values[i, FINANCE_MEASURES.index(m)] = v
        values[i, FINANCE_MEASURES.index("npv")] = float(np.mean(npv[name]))
        se[i, FINANCE_MEASURES.index("npv")] = float(np.std(npv[name], ddof=1) / math.sqrt(len(npv[name])))
        for m, e in (errors or {}).items():
            se[i, FINANCE_MEASURES.index(m)] = e
    return xr.Dataset(
        {"npv": (("contract", "sim"), np.stack(list(npv.values()))),
         "finance_summary": (("contract", "finance_measure"), values),
         "finance_summary_se": (("contract", "finance_measure"), se)},
        coords={"contract": list(npv), "finance_measure": list(FINANCE_MEASURES)})


@pytest.fixture
def three_paths() -> xr.Dataset:
    rng = np.random.default_rng(1)
    npv = {"glide": 5e6 + rng.normal(0, 1e5, 400), "enhanced": 8e6 + rng.normal(0, 1e5, 400),
           "stay": 6e6 + rng.normal(0, 1e5, 400)}
    measures = {"glide": {"p_cumulative_loss": 0.05, "cash_low_1in20": -2.0e6, "cumulative_VaR95": -1e6},
                "enhanced": {"p_cumulative_loss": 0.05, "cash_low_1in20": -4.0e6, "cumulative_VaR95": -3e6},
                "stay": {"p_cumulative_loss": 0.20, "cash_low_1in20": -2.5e6, "cumulative_VaR95": 2e6}}
    return cash_dataset(npv, measures)


def test_agreement_limits_read_the_appetite_over_the_agreement():
    appetite = RiskAppetite(max_var95=1e6, max_tvar95=2e6, max_p_loss=0.1, min_expected_result=0.0,
                            min_cash_balance=-3e6)
    got = [(lim.measure, lim.value, lim.upper) for lim in agreement_limits(appetite)]
    assert got == [("cumulative_VaR95", 1e6, True), ("cumulative_TVaR95", 2e6, True), ("p_cumulative_loss", 0.1, True),
                   ("npv", 0.0, False), ("cash_low_1in20", -3e6, False)]
    assert agreement_limits(RiskAppetite()) == []


def test_decide_takes_the_best_npv_within_the_limits(three_paths):
    ranking = decide(three_paths, RiskAppetite(max_p_loss=0.10, min_cash_balance=-3e6))
    # enhanced has the highest NPV but needs $4M of cash; stay breaks the 10% limit.
    assert ranking.recommended == "glide"
    assert ranking.reasons[0].startswith("glide is recommended: highest expected net present value $4.99M")
    assert "whose probability of a loss over the agreement is within your 10.0% limit" in ranking.reasons[0]
    text = ranking.text()
    assert "enhanced is excluded: its 1-in-20 lowest cash balance -$4.00M" in text and "-$3.00M floor" in text
    assert "stay is excluded: its probability of a loss over the agreement 20.0%" in text
    # Without limits: the highest expected NPV.
    assert decide(three_paths).recommended == "enhanced"


def test_decide_with_risk_aversion_ranks_by_certainty_equivalent(three_paths):
    ranking = decide(three_paths, RiskAppetite(risk_aversion=1e-6))
    assert ranking.objective == "certainty equivalent of the net present value"
    assert ranking.recommended == "enhanced"


def test_a_value_within_two_errors_of_a_limit_is_called_close(three_paths):
    ds = three_paths.copy(deep=True)
    ds["finance_summary_se"].loc[dict(contract="glide", finance_measure="p_cumulative_loss")] = 0.03
    text = decide(ds, RiskAppetite(max_p_loss=0.10, min_cash_balance=-3e6)).reasons[0]
    assert "Caution: its probability of a loss over the agreement 5.0% ± 3.0 points is within 2 standard errors" \
        in text


def test_choose_ranks_a_run_without_cash_by_its_summary():
    ds = xr.Dataset({"net": (("contract", "sim"), np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])),
                     "summary": (("contract", "measure"), np.array([[2.0], [5.0]])),
                     "summary_se": (("contract", "measure"), np.array([[0.5], [0.0]]))},
                    coords={"contract": ["a", "b"], "measure": ["mean"]})
    ranking = choose(ds)
    assert ranking.recommended == "b" and ranking.objective == "expected result"


def test_option_value_is_the_paired_npv_difference_floored_at_zero():
    ds = cash_dataset({"stay": np.array([1.0, 2.0, 3.0]) * 1e6, "glide": np.array([2.0, 2.0, 2.0]) * 1e6},
                      {"stay": {"p_cumulative_loss": 0.1}, "glide": {"p_cumulative_loss": 0.2}})
    o = option_value(ds, "stay", "glide", "stay in BASIC Level A")
    # Differences -1, 0, +1 ($M): mean 0, standard error 1 / sqrt(3) ($M).
    assert o.npv_gain == pytest.approx(0.0, abs=1e-9)
    assert o.npv_gain_se == pytest.approx(1e6 / math.sqrt(3))
    assert o.value == 0.0
    assert o.p_loss == (0.1, 0.2)
    ds2 = cash_dataset({"stay": np.array([1.0, 2.0, 3.0]) * 1e6, "glide": np.array([0.5, 1.0, 1.5]) * 1e6},
                       {"stay": {}, "glide": {}})
    o2 = option_value(ds2, "stay", "glide", "stay in BASIC Level A")
    assert o2.value == pytest.approx(1e6) and "adds $1.00M" in o2.text()


def test_option_says_which_path_meets_the_appetite(three_paths):
    ranking = decide(three_paths, RiskAppetite(max_p_loss=0.10))
    o = option_value(three_paths, "stay", "glide", "stay in BASIC Level A", ranking)
    assert o.qualifies == (False, True) and "Only glide is within your risk appetite." in o.text()


def test_stay_in_level_a_pairs_of_the_example():
    scenario = load_scenario(ROOT / "scenarios" / "aco-2027-new-entrant.yaml")
    assert stay_in_level_a_pairs(scenario) == [("BASIC A, stay in A", "BASIC A, glide to E")]


# ---- the ratchet ------------------------------------------------------------------------------

def year_dataset(benchmark: np.ndarray, expenditure: np.ndarray, net: np.ndarray) -> xr.Dataset:
    dims = ("contract", "sim", "year")
    return xr.Dataset({"benchmark_by_year": (dims, benchmark[None]), "expenditure_by_year": (dims, expenditure[None]),
                       "net_by_year": (dims, net[None])},
                      coords={"contract": ["path"], "year": [2024, 2025, 2026, 2027]})


def test_ratchet_arithmetic_by_hand():
    """Agreements 2024-2025 and 2026-2027. The saving removes 100 a year in every simulation;
    the first agreement's benchmark does not move (share 1), the second's falls by 60 (share 0.4).
    The settlement gains 50 a year, then 20."""
    x0 = np.array([[1000.0, 1000.0, 1000.0, 1000.0], [1200.0, 1200.0, 1200.0, 1200.0]])
    b0 = np.array([[1050.0] * 4, [1250.0] * 4])
    without = year_dataset(b0, x0, np.zeros((2, 4)))
    with_saving = year_dataset(b0 - np.array([0.0, 0.0, 60.0, 60.0]), x0 - 100.0,
                               np.tile([50.0, 50.0, 20.0, 20.0], (2, 1)))
    first, second = measure_ratchet(with_saving, without, {"path": [2024, 2026]})
    assert (first.spending_removed, first.credited, first.share_credited, first.survives) == (100.0, 100.0, 1.0, 1.0)
    assert second.spending_removed == 100.0 and second.credited == pytest.approx(40.0)
    assert second.share_credited == pytest.approx(0.4) and second.survives == pytest.approx(0.4)
    assert second.share_credited_se == pytest.approx(0.0, abs=1e-12)  # the same in every simulation
    assert (first.settlement_gain, second.settlement_gain) == (50.0, 20.0)


@pytest.mark.slow
def test_ratchet_of_the_renewal_example():
    """A lasting 3% saving from 2024: the first agreement's benchmark (built from 2021-2023)
    credits all of it when the ACPT loss guardrail (425.652(b)(5)) cannot bind -- here with no
    national or regional trend shocks, so the ACPT and the two-way blend agree, and no
    organisation-level drift, so every simulation is in the prior savings adjustment's regime
    (positive prior savings, above the regional adjustment); with them, the
    guardrail recalculates the benchmark of some loss years, which the saving changes, and
    about 95% is credited (benchmarks/published_numbers.py --only ratchet). The renewal's benchmark is built from 2026-2028, when the saving was in
    the spending, and the prior savings adjustment gives back half of those years' average
    savings (42 CFR 425.658(b): 50%, here below its cap and above the regional adjustment): so
    the 2029-2033 credit is 0.5 x (the 2026-2028 saving a year) / (the 2029-2033 saving a year)."""
    from simsuite.analysis.ratchet import ratchet_report
    from simsuite.engines.montecarlo import RunOptions, run
    from simsuite.scenario.edit import scenario_with

    scenario = load_scenario(ROOT / "scenarios" / "aco-renewal.yaml")
    for field in ("trends.national_sd", "trends.regional_sd", "organisation.performance_sd",
                  "organisation.permanent_sd"):
        scenario = scenario_with(scenario, field, 0.0)
    options = RunOptions(simulations=300, seed=3)
    with_saving = run(scenario, options)
    report = ratchet_report(scenario, options, results=with_saving)
    without = run(scenario_with(scenario, "assumptions.true_savings", 0.0), options)
    assert report.skipped == ()
    for name in ("ENHANCED", "BASIC E"):
        first, second = [r for r in report.rows if r.contract == name]
        assert first.share_credited == 1.0 and first.years == (2024, 2028)
        removed = (without["expenditure_by_year"] - with_saving["expenditure_by_year"]).sel(contract=name).mean("sim")
        expected = 0.5 * float(removed.sel(year=[2026, 2027, 2028]).mean()) / float(
            removed.sel(year=slice(2029, 2033)).mean())
        assert second.years == (2029, 2033)
        assert second.share_credited == pytest.approx(expected, abs=0.005)
        assert second.survives == pytest.approx(second.share_credited)
    assert "survives the ratchet" in report.text()
