"""Issue 5 (population, uncertainty, own data): the bootstrap against its input file, the
MSSP risk-growth cap at its edge, systemic shocks, uncertain savings, the effort cost,
patients-file panels, and that patient-level data never reaches messages or results.
Issue 16: own costs truncated at the national percentile (42 CFR 425.605(a)(3)); the risk
cap as each family declares it (MSSP only among these presets)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from rng_reference import uniform  # the counter-based hash written with Python integers

from simsuite.engines.exact import exact_problems
from simsuite.engines.montecarlo import options_for, simulate
from simsuite.engines.settlement_inputs import SettlementInputs
from simsuite.errors import InputError
from simsuite.kernels import stream_key
from simsuite.kernels.resample import bootstrap_totals
from simsuite.model.factors import risk_growth, simulation_factors
from simsuite.model.population import CostSource, build_panel
from simsuite.model.resampled_costs import BootstrapPanel
from simsuite.scenario.load import load_scenario, scenario_from_dict
from simsuite.scenario.owndata import enrollment_type_of, read_costs

ROOT = Path(__file__).parent.parent
TYPES = ("esrd", "disabled", "aged_dual", "aged_non_dual")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _scenario(tmp_path: Path, population: dict, assumptions: dict | None = None,
              cost_model: dict | None = None, contracts=("ffs", "mssp-enhanced"), sims: int = 1000):
    data = {"name": "t", "population": population, "assumptions": assumptions or {},
            "contracts": [{"preset": c} for c in contracts], "run": {"simulations": sims, "seed": 5}}
    if cost_model:
        data["cost_model"] = cost_model
    # A source inside tmp_path: data-file paths are relative to the scenario file.
    return scenario_from_dict(data, source=str(tmp_path / "scenario.yaml"))


class FixedCaps(CostSource):
    """National truncation thresholds given in dollars (what `BootstrapPanel` truncates at)."""

    def __init__(self, caps: list[float]):
        self.caps = np.array(caps, dtype=float)

    def caps_at(self, percentile: float | None) -> np.ndarray:
        return self.caps.copy() if percentile is not None and percentile < 1.0 else np.full(self.caps.size, np.inf)


def _history(tmp_path: Path, n: int = 3000, risk: bool = False, seed: int = 1) -> Path:
    """A skewed cost history: zeros, a lognormal body and a few very large costs."""
    rng = np.random.default_rng(seed)
    lines = ["enrollment_type,annual_cost" + (",risk_score" if risk else "")]
    for t, mean in zip(TYPES, (80_000, 12_000, 17_000, 10_000)):
        x = np.where(rng.random(n) < 0.1, 0.0, rng.lognormal(math.log(mean) - 0.8, 1.26, n))
        r = rng.lognormal(-0.2, 0.63, n)
        for i in range(n):
            lines.append(f"{t},{x[i]:.2f}" + (f",{r[i]:.4f}" if risk else ""))
    return _write(tmp_path / "costs.csv", "\n".join(lines) + "\n")


# --- the bootstrap --------------------------------------------------------------------------


def test_bootstrap_kernel_matches_a_scalar_reference(tmp_path):
    hist = read_costs(str(_history(tmp_path, n=50, risk=True)), str(tmp_path / "s.yaml"))
    cohort_start = np.array([0, 2, 3, 3, 7], dtype=np.int64)
    risk = np.array([1.0, 2.0, 0.5, 1.2, 0.7, 1.0, 3.0])
    boot = BootstrapPanel.build(TYPES, cohort_start, risk, hist, national=FixedCaps([150_000, 40_000, 60_000, 30_000]))
    caps = np.vstack([np.full(4, np.inf), boot.caps_at(0.99), np.full(4, 5_000.0)])
    factor = np.array([1.0, 0.97, 1.1, 0.8, 1.0])
    seed, sim_start = 77, 12
    out = np.empty((factor.size, caps.shape[0]))
    bootstrap_totals(np.uint64(stream_key(np.uint64(seed), np.uint64(1))), sim_start, factor, boot.scale,
                     boot.cohort_start, boot.row_start, boot.costs, caps, out)
    expected = np.zeros_like(out)
    for s in range(factor.size):
        for c in range(4):
            rows = boot.rows(c)
            for i in range(cohort_start[c], cohort_start[c + 1]):
                j = min(int(uniform(seed, 1, sim_start + s, i) * rows.size), rows.size - 1)
                x = rows[j] * risk[i] / hist.mean_risk[TYPES[c]] * factor[s]
                expected[s] += np.minimum(x, caps[:, c])
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert (out[:, 0] > out[:, 1]).any() and (out[:, 1] > out[:, 2]).any()


def test_bootstrap_reproduces_the_empirical_mean_and_quantiles(tmp_path):
    """One beneficiary per simulation: the draws are a sample of the file's rows."""
    hist = read_costs(str(_history(tmp_path)), str(tmp_path / "s.yaml"))
    x = hist.costs["aged_non_dual"]
    boot = BootstrapPanel.build(("aged_non_dual",), np.array([0, 1]), np.ones(1),
                                replace(hist, costs={"aged_non_dual": x}), national=FixedCaps([45_000.0]))
    cap = boot.caps_at(0.99)
    assert cap[0] == 45_000.0  # the national threshold, not the file's own percentile
    caps = np.vstack([[np.inf], cap])
    n = 200_000
    out = np.empty((n, 2))
    bootstrap_totals(np.uint64(stream_key(np.uint64(3), np.uint64(1))), 0, np.ones(n), boot.scale,
                     boot.cohort_start, boot.row_start, boot.costs, caps, out)
    draws = out[:, 0]
    assert np.isin(draws, x).all()
    se = x.std() / math.sqrt(n)
    assert abs(draws.mean() - x.mean()) < 4 * se
    # Truncated mean against the exact empirical expectation the benchmark uses.
    assert abs(out[:, 1].mean() - boot.expected_total(cap)) < 4 * out[:, 1].std() / math.sqrt(n)
    assert boot.expected_total(cap) == pytest.approx(np.mean(np.minimum(x, cap[0])), rel=1e-12)
    for p in (0.1, 0.5, 0.9, 0.99):
        q = np.quantile(x, p, method="inverted_cdf")
        # P(draw <= q) is exactly the file's share of rows <= q; the sample share is binomial.
        share = np.mean(x <= q)
        assert abs(np.mean(draws <= q) - share) < 4 * math.sqrt(share * (1 - share) / n) + 1e-12


def test_bootstrap_risk_scaling_and_expected_totals(tmp_path):
    hist = read_costs(str(_history(tmp_path, n=400, risk=True)), str(tmp_path / "s.yaml"))
    risk = np.array([0.5, 1.0, 2.0])
    boot = BootstrapPanel.build(("disabled",), np.array([0, 3]), risk,
                                replace(hist, costs={"disabled": hist.costs["disabled"]},
                                        mean_risk={"disabled": hist.mean_risk["disabled"]}),
                                national=FixedCaps([20_000.0]))
    np.testing.assert_allclose(boot.scale, risk / hist.mean_risk["disabled"])
    x = hist.costs["disabled"]
    for cap in (np.inf, 20_000.0, 1.0):
        brute = sum(np.mean(np.minimum(k * x, cap)) for k in boot.scale)
        assert boot.expected_by_cohort(np.array([cap]))[0] == pytest.approx(brute, rel=1e-12)


def test_bootstrap_scenario_benchmark_is_the_empirical_expectation(tmp_path):
    _history(tmp_path, n=500)
    sc = _scenario(tmp_path, {"beneficiaries": 800}, cost_model={"bootstrap_file": "costs.csv"})
    res = simulate(sc, options_for(sc, sims=400))
    panel = build_panel(sc.spec)
    counts = np.diff(panel.cohort_start)
    # Truncation at the national 99th percentile of each type (the parametric model's), as CMS
    # truncates (425.605(a)(3)), not at the file's own.
    caps99 = dict(zip(TYPES, panel.caps_at(0.99)))
    own99 = {t: np.quantile(sc.cost_history.costs[t], 0.99, method="inverted_cdf") for t in TYPES}
    assert all(caps99[t] != own99[t] for t in TYPES)
    bench = sum(n * np.mean(np.minimum(sc.cost_history.costs[t], caps99[t])) for t, n in zip(TYPES, counts))
    assert res.benchmark[1, 0] == pytest.approx(bench, rel=1e-12)
    # The panel's mean cost is close to the history's (no savings effort here).
    raw_mean = sum(n * sc.cost_history.costs[t].mean() for t, n in zip(TYPES, counts))
    assert abs(res.panel_cost.mean() - raw_mean) < 4 * res.panel_cost.std() / math.sqrt(400)


# --- the MSSP cap on risk-score growth ---------------------------------------------------------


def _patients(tmp_path: Path, rows: list[tuple[str, str, float]], name: str = "panel.csv") -> Path:
    return _write(tmp_path / name, "id,enrollment_type,risk_score\n"
                  + "".join(f"{i},{t},{r!r}\n" for i, t, r in rows))


def test_own_costs_truncate_at_the_national_threshold_not_their_own_percentile(tmp_path):
    # 425.605(a)(3): truncation at "the 99th percentile of national ... expenditures". With a
    # national threshold T = $150,000 (truncation_by_type), costs of $149,999, $150,000 and
    # $150,001 count $149,999, $150,000 and $150,000; a $130,000 cost above the file's own 99th
    # percentile ($120,000 here) is not cut.
    rows = ["enrollment_type,annual_cost"] + ["aged_non_dual,1000.00"] * 97 + [
        "aged_non_dual,120000.00", "aged_non_dual,130000.00", "aged_non_dual,150001.00"]
    for t in ("esrd", "disabled", "aged_dual"):
        rows.append(f"{t},1000.00")
    _write(tmp_path / "costs.csv", "\n".join(rows) + "\n")
    national = {"esrd": 150_000.0, "disabled": 150_000.0, "aged_dual": 150_000.0, "aged_non_dual": 150_000.0}
    sc = _scenario(tmp_path, {"beneficiaries": 1, "mix": {"esrd": 0, "disabled": 0, "aged_dual": 0,
                                                          "aged_non_dual": 1}},
                   cost_model={"bootstrap_file": "costs.csv", "truncation_by_type": national},
                   contracts=("ffs",))
    inputs = SettlementInputs.of(sc)
    cap = inputs.costs.caps_at(0.99)
    assert cap[3] == 150_000.0
    own = np.quantile(sc.cost_history.costs["aged_non_dual"], 0.99, method="inverted_cdf")
    assert own == 130_000.0  # the file's own 99th percentile would have cut the $150,001 row to $130,000
    # E[min(X, T)] over the file: 97 x 1,000 + 120,000 + 130,000 + 150,000 (the $150,001 row cut by $1).
    assert inputs.costs.expected_by_cohort(cap)[3] == pytest.approx((97_000 + 120_000 + 130_000 + 150_000) / 100)


def _growth(scores: list[float], base, demographic=None, start: int = 2024, expected=None):
    """Risk growth of a one-type panel (aged/non-dual) with these risk scores."""
    sc = scenario_from_dict({"name": "t", "population": {"beneficiaries": 10}, "contracts": [{"preset": "ffs"}],
                             "assumptions": {"benchmark_risk_score": base,
                                             **({} if demographic is None else
                                                {"demographic_risk_growth": demographic})}})
    start_idx = np.array([0, 0, 0, 0, len(scores)])
    return risk_growth(start_idx, np.array(scores), TYPES, np.array([0, 0, 0, 1e6]) if expected is None else expected,
                       sc.spec.assumptions, start)


def test_risk_growth_groups_and_weights():
    # One overall base score: one group, the panel's mean score (1.1) over it.
    growth, group = _growth([1.0, 1.1, 1.2], 1.0)
    assert group.tolist() == [0, 0, 0, 0] and growth.hcc_ratio == pytest.approx([1.1])
    # Weight = expected cost at base-year risk: $1M / 1.1 (425.605(a)(1)(ii)(C)).
    assert growth.weights == pytest.approx([1e6 / 1.1]) and growth.demographic_ratio is None
    # By type: one group per cohort; demographic growth 1% -> ratio 1.01.
    growth, group = _growth([1.0, 1.1, 1.2], {"esrd": 1, "disabled": 1, "aged_dual": 1, "aged_non_dual": 1.0},
                            demographic=0.01)
    assert group.tolist() == [0, 1, 2, 3] and growth.hcc_ratio[3] == pytest.approx(1.1)
    assert growth.demographic_ratio == pytest.approx([1.01] * 4)
    assert _growth([1.0], None) is None


def test_benchmark_follows_risk_growth_up_to_three_percent(tmp_path):
    # A 2023 agreement: the flat 3% cap per type (425.610(a)(2)(i)), on the ENHANCED contract.
    rows = [(f"P{i}", "aged_non_dual", 1.2) for i in range(600)] + [(f"E{i}", "esrd", 1.0) for i in range(10)]
    _patients(tmp_path, rows)
    base = {"patients_file": "panel.csv"}

    def bench(score, contract=1):
        sc = _scenario(tmp_path, base, {"benchmark_risk_score": score, "agreement_start": 2023}, sims=100)
        return simulate(sc, options_for(sc, sims=100)).benchmark[contract, 0]

    full = bench(None)
    by_type = {"esrd": 1.0, "disabled": 1.0, "aged_dual": 1.0, "aged_non_dual": 1.2 / 1.03}
    assert bench(by_type) == pytest.approx(full, rel=1e-12)  # exactly at the cap
    capped = bench({**by_type, "aged_non_dual": 1.0})  # 20% growth: only 3% counts
    sc = _scenario(tmp_path, base, sims=100)
    panel = build_panel(sc.spec, sc.patients)
    part = panel.expected_by_cohort(panel.caps_at(0.99))
    assert capped == pytest.approx(part[0] + part[3] * 1.03 / 1.2, rel=1e-12)
    # One overall base score: the panel's mean risk score is compared.
    overall = float(np.mean([r for _, _, r in rows]))
    assert bench(overall / 1.03) == pytest.approx(full, rel=1e-12)
    assert bench(overall / 1.03 * 0.99) == pytest.approx(full * 0.99, rel=1e-9)


def test_benchmark_risk_cap_from_2024_agreements_and_only_for_mssp(tmp_path):
    # 425.605(a)(1)(ii): cap = demographic growth + 3 points, applied only if aggregate HCC growth
    # exceeds it. All 600 beneficiaries aged/non-dual at risk 1.2 (10 ESRD at 1.0, unchanged).
    rows = [(f"P{i}", "aged_non_dual", 1.2) for i in range(600)] + [(f"E{i}", "esrd", 1.0) for i in range(10)]
    _patients(tmp_path, rows)
    base = {"patients_file": "panel.csv"}
    sc0 = _scenario(tmp_path, base, sims=100)
    panel = build_panel(sc0.spec, sc0.patients)
    part = panel.expected_by_cohort(panel.caps_at(0.99))
    # Aged/non-dual base 1.12 -> HCC ratio 1.2/1.12 = 1.0714; ESRD ratio 1. Weights are each type's
    # expected cost at base risk: w_E = part[0], w_A = part[3] / 1.0714.
    by_type = {"esrd": 1.0, "disabled": 1.0, "aged_dual": 1.0, "aged_non_dual": 1.12}
    h = 1.2 / 1.12
    w_e, w_a = part[0], part[3] / h
    aggregate = (w_e * 1.0 + w_a * h) / (w_e + w_a) - 1.0

    def bench(demographic, contracts=("ffs", "mssp-enhanced", "reach-global-2026", "capitation-full-risk")):
        extra = {"demographic_risk_growth": float(demographic)} if demographic is not None else {}
        sc = scenario_from_dict({"name": "t", "population": base, "run": {"simulations": 100, "seed": 5},
                                 # 2019 score 1.2: no growth since 2019 for aged/non-dual, so
                                 # REACH's PY2026 cap on it does not bind here.
                                 "assumptions": {"benchmark_risk_score": by_type, **extra, "risk_score_2019": 1.2,
                                                 "participant_revenue_to_benchmark": 0.5},
                                 "contracts": [{"preset": "ffs"}, {"preset": "mssp-enhanced"},
                                               {"preset": "reach-global-2026"},
                                               {"preset": "capitation-full-risk",
                                                "overrides": {"revenue_to_benchmark": 1.0}}]},
                                source=str(tmp_path / "scenario.yaml"))
        return simulate(sc, options_for(sc, sims=100)).benchmark[:, 0]

    # Demographic growth such that the cap sits just above / exactly at / just below aggregate growth.
    at = aggregate - 0.03
    # At the cap ("exceeds" is strict): no cap, the benchmark follows the full growth.
    full = part[0] + part[3]
    assert bench(at)[1] == pytest.approx(full, rel=1e-12)
    assert bench(at + 1e-4)[1] == pytest.approx(full, rel=1e-12)
    # Just below: the cap applies, aged/non-dual limited to 1 + cap = 1 + (at - 1e-4) + 0.03.
    cap = at - 1e-4 + 0.03
    assert bench(at - 1e-4)[1] == pytest.approx(part[0] + part[3] * (1 + cap) / h, rel=1e-12)
    # REACH (symmetric +-3%: 7.1% growth -> 3%) and capitation (no cap) differ.
    values = bench(at - 1e-4)
    uncapped = panel.expected_by_cohort(panel.caps_at(None))
    assert values[3] == pytest.approx(uncapped.sum(), rel=1e-12)  # capitation: no risk cap
    assert values[2] == pytest.approx(uncapped[0] + uncapped[3] * 1.03 / h, rel=1e-12)
    # Without the demographic growth a 2024+ MSSP agreement is refused in one line.
    with pytest.raises(InputError, match="assumptions.demographic_risk_growth: an MSSP agreement starting in 2026"):
        bench(None)


# --- systemic shocks ----------------------------------------------------------------------------


def test_shock_factors_have_mean_one_and_the_asked_correlation():
    sc = scenario_from_dict({"name": "t", "population": {"beneficiaries": 1000}, "contracts": [{"preset": "ffs"}],
                             "assumptions": {"cost_trend_sd": 0.05, "benchmark_trend_sd": 0.04,
                                             "trend_correlation": 0.6}})
    n = 100_000
    f = simulation_factors(sc.spec.assumptions, n, seed=8)
    assert abs(f.trend.mean() - 1) < 4 * f.trend.std() / math.sqrt(n)
    assert abs(f.benchmark.mean() - 1) < 4 * f.benchmark.std() / math.sqrt(n)
    # 4 standard errors of a normal sample's sd (sd / sqrt(2 n): 0.22%) and correlation
    # ((1 - rho^2) / sqrt(n): 0.002).
    assert np.log(f.trend).std() == pytest.approx(0.05, rel=4 / math.sqrt(2 * n))
    assert np.corrcoef(np.log(f.trend), np.log(f.benchmark))[0, 1] == pytest.approx(
        0.6, abs=4 * (1 - 0.6**2) / math.sqrt(n))
    # A range of simulations draws the same factors as the whole run.
    part = simulation_factors(sc.spec.assumptions, 100, seed=8, first_sim=5000)
    assert np.array_equal(part.trend, f.trend[5000:5100]) and np.array_equal(part.benchmark, f.benchmark[5000:5100])


def _savings_rate_sd(n: int, shock: float, sims: int = 800) -> float:
    sc = scenario_from_dict({"name": "t", "population": {"beneficiaries": n},
                             # claims noise and this shock only (no calibrated systemic factor)
                             "assumptions": {"cost_trend_sd": shock, "systemic_sd": 0.0},
                             "contracts": [{"preset": "mssp-enhanced"}]})
    r = simulate(sc, options_for(sc, sims=sims, seed=21))
    return float(np.std(1.0 - r.expenditure[0] / r.benchmark[0], ddof=1))


def test_systemic_risk_stops_the_sd_falling_like_one_over_root_n():
    shock = 0.03
    quiet = [_savings_rate_sd(n, 0.0) for n in (2_000, 20_000)]
    # Without a shock, sd ~ sqrt(a / N): a tenfold panel has a sqrt(10) smaller sd (MC error ~3%).
    assert quiet[0] / quiet[1] == pytest.approx(math.sqrt(10), rel=0.12)
    a = quiet[0] ** 2 * 2_000
    loud = [_savings_rate_sd(n, shock) for n in (2_000, 20_000, 100_000)]
    # With a shock, sd^2 ~ a / N + var(F): the sd levels off at the shock's sd.
    var_f = math.exp(shock**2) - 1
    predicted = [math.sqrt(a / n + var_f) for n in (2_000, 20_000, 100_000)]
    for got, want in zip(loud, predicted):
        assert got == pytest.approx(want, rel=0.12)
    assert loud[0] / loud[1] < 0.6 * math.sqrt(10)
    assert loud[1] / loud[2] < 1.3 < math.sqrt(5)  # 1/sqrt(N) would give 2.24
    assert loud[2] > 0.9 * shock  # large panels are not falsely safe


# --- uncertain savings, effort cost --------------------------------------------------------------


def test_uncertain_savings_leave_the_patient_draws_unchanged(tmp_path):
    sims = 2000
    fixed = _scenario(tmp_path, {"beneficiaries": 1500}, {"true_savings": 0.0}, sims=sims)
    unsure = _scenario(tmp_path, {"beneficiaries": 1500}, {"true_savings": {"mean": 0.02, "sd": 0.015}}, sims=sims)
    a, b = simulate(fixed, options_for(fixed)), simulate(unsure, options_for(unsure))
    s = simulation_factors(unsure.spec.assumptions, sims, unsure.spec.run.seed).savings
    assert abs(s.mean() - 0.02) < 4 * 0.015 / math.sqrt(sims)
    assert s.std() == pytest.approx(0.015, rel=0.05)
    # Common random numbers: each simulation's cost is the no-effort cost times (1 - s).
    np.testing.assert_allclose(b.panel_cost, a.panel_cost * (1 - s), rtol=1e-9)
    # Uncertain savings widen the result of a two-sided contract.
    assert b.net[1].std() > a.net[1].std()


def test_effort_cost_arithmetic(tmp_path):
    pop = {"beneficiaries": 1200}
    revenue = {"participant_revenue_to_benchmark": 0.4}  # BASIC E's loss limit reads it
    plain = _scenario(tmp_path, pop, {"true_savings": 0.02, **revenue}, contracts=("ffs", "mssp-basic-e", "mssp-enhanced"))
    costly = _scenario(tmp_path, pop, {"true_savings": 0.02, "care_management_pmpm": 8.5, "ffs_margin_lost": 0.25,
                                       **revenue}, contracts=("ffs", "mssp-basic-e", "mssp-enhanced"))
    a, b = simulate(plain, options_for(plain)), simulate(costly, options_for(costly))
    avoided = b.panel_cost * 0.02 / 0.98  # the no-effort cost minus the actual, same draws
    effort = -8.5 * 12 * 1200 - 0.25 * avoided
    np.testing.assert_allclose(b.net[0], effort, rtol=1e-12)  # FFS: only the effort cost
    np.testing.assert_allclose(b.net - a.net, np.broadcast_to(effort, a.net.shape), rtol=1e-9, atol=1e-6)
    assert (effort < 0).all()


def test_effort_cost_ignores_spending_increases(tmp_path):
    sc = _scenario(tmp_path, {"beneficiaries": 800}, {"true_savings": -0.02, "ffs_margin_lost": 0.3,
                                                       "care_management_pmpm": 2.0}, contracts=("ffs",))
    r = simulate(sc, options_for(sc, sims=200))
    assert np.all(r.net[0] == -2.0 * 12 * 800)


# --- patients-file panels ------------------------------------------------------------------------


def test_patients_file_defines_the_panel(tmp_path):
    rows = [("A", "AGED/NON-DUAL", 1.0), ("B", "Aged/Dual", 2.0), ("C", "ESRD", 0.5), ("D", "aged_non_dual", 3.0)]
    rows += [(f"X{i}", "disabled", 1.0) for i in range(600)]
    _patients(tmp_path, rows)
    sc = _scenario(tmp_path, {"patients_file": "panel.csv"})
    assert sc.spec.population.beneficiaries == len(rows)
    panel = build_panel(sc.spec, sc.patients)
    assert list(np.diff(panel.cohort_start)) == [1, 600, 1, 2]
    np.testing.assert_array_equal(panel.risk_score[panel.cohort_start[3]:], [1.0, 3.0])
    # A beneficiary's expected cost scales with risk_score ** risk_elasticity.
    lm = panel.log_mean_expected[panel.cohort_start[3]:]
    assert math.exp(lm[1] - lm[0]) == pytest.approx(3.0 ** sc.spec.cost_model.risk_elasticity, rel=1e-12)
    res = simulate(sc, options_for(sc, sims=200))
    assert res.benchmark[1, 0] == pytest.approx(panel.expected_total(panel.caps_at(0.99)), rel=1e-12)
    # The exact method accepts it (independent parametric patients) ...
    assert exact_problems(sc) == []


@pytest.mark.parametrize("assumptions, cost_model, field", [
    ({"cost_trend_sd": 0.02}, None, "assumptions.cost_trend_sd"),
    ({"true_savings": {"mean": 0.02, "sd": 0.01}}, None, "assumptions.true_savings"),
    ({"benchmark_trend_sd": 0.02}, None, "assumptions.benchmark_trend_sd"),
    ({"care_management_pmpm": 3.0}, None, "assumptions.care_management_pmpm"),
    ({}, {"bootstrap_file": "costs.csv"}, "cost_model.bootstrap_file"),
])
def test_exact_method_refuses_the_monte_carlo_only_features(tmp_path, assumptions, cost_model, field):
    _history(tmp_path, n=20)
    sc = _scenario(tmp_path, {"beneficiaries": 1000}, assumptions, cost_model)
    problems = exact_problems(sc)
    assert problems and problems[0][0] == field and "Monte Carlo" in problems[0][1]


def test_enrollment_type_spellings():
    assert enrollment_type_of(" AGED/NON-DUAL ") == "aged_non_dual"
    assert enrollment_type_of("Aged Dual") == "aged_dual"
    assert enrollment_type_of("ESRD") == "esrd"
    assert enrollment_type_of("aged") is None


def test_patient_data_is_never_echoed(tmp_path, capsys):
    """Messages and results name rows and columns, never ids, risk scores or costs."""
    secret_id, secret_score = "ZQX-771-SECRET", "31.4159"
    _patients(tmp_path, [(secret_id, "esrd", 1.0), (secret_id, "disabled", 1.0)], "dup.csv")
    _write(tmp_path / "bad.csv", f"id,enrollment_type,risk_score\n{secret_id},{secret_score}x,{secret_score}\n")
    _write(tmp_path / "shifted.csv", f"id,enrollment_type,risk_score\n{secret_id},{secret_score},1\n")
    _write(tmp_path / "costs.csv", f"enrollment_type,annual_cost\naged_non_dual,{secret_score}$\n")
    _write(tmp_path / "nohead.csv", f"{secret_id},esrd,{secret_score}\n")
    # Letters-only secrets (a patient's name) look like labels: they must not be quoted either.
    name = "Jane Doe"
    _write(tmp_path / "named.csv", f"id,enrollment_type,risk_score\n1,{name},1.0\n")
    _write(tmp_path / "named-nohead.csv", f"{name},esrd,1.0\n2,disabled,1.0\n")
    for pop, cm in [({"patients_file": "dup.csv"}, None), ({"patients_file": "bad.csv"}, None),
                    ({"patients_file": "shifted.csv"}, None), ({"patients_file": "nohead.csv"}, None),
                    ({"patients_file": "named.csv"}, None), ({"patients_file": "named-nohead.csv"}, None),
                    ({"beneficiaries": 1000}, {"bootstrap_file": "costs.csv"})]:
        with pytest.raises(InputError) as info:
            _scenario(tmp_path, pop, cost_model=cm)
        msg = str(info.value)
        assert secret_id not in msg and secret_score not in msg and "row" in msg, msg
        assert name.lower() not in msg.lower(), msg
    # A run on a patients file: no id or score in the results' attributes or variables.
    rows = [(f"{secret_id}{i}", "aged_non_dual", 1.0 + i / 1000) for i in range(700)]
    _patients(tmp_path, rows, "ok.csv")
    from simsuite.results.dataset import assemble
    sc = _scenario(tmp_path, {"patients_file": "ok.csv"}, sims=100)
    opts = options_for(sc, sims=100)
    ds = assemble(sc, opts, simulate(sc, opts))
    text = repr(ds.attrs) + "".join(repr(v.attrs) for v in ds.variables.values()) + repr(ds.coords)
    assert secret_id not in text and "1.001" not in text


def test_example_scenario_runs_and_its_data_is_labelled_synthetic():
    sc = load_scenario(ROOT / "scenarios" / "aco-own-data.yaml")
    assert sc.patients is not None and sc.cost_history is not None
    r = simulate(sc, options_for(sc, sims=200))
    assert np.isfinite(r.net).all()
    readme = (ROOT / "scenarios" / "data" / "README.md").read_text()
    assert "synthetic" in readme.lower()
    assert exact_problems(sc)  # Monte Carlo only


def test_figures_from_results_do_not_reread_the_data_files(tmp_path):
    from simsuite.report.figures import payoff_grid
    from simsuite.results.dataset import assemble

    _history(tmp_path, n=200)
    _patients(tmp_path, [(f"P{i}", "aged_non_dual", 1.0) for i in range(600)])
    sc = _scenario(tmp_path, {"patients_file": "panel.csv"}, cost_model={"bootstrap_file": "costs.csv"}, sims=100)
    opts = options_for(sc, sims=100)
    ds = assemble(sc, opts, simulate(sc, opts))
    (tmp_path / "panel.csv").unlink()
    (tmp_path / "costs.csv").unlink()
    curves = payoff_grid(ds, np.array([-0.05, 0.0, 0.05]))
    assert set(curves) == {"ffs", "mssp-enhanced"} and curves["mssp-enhanced"][2] > 0
