"""The multi-year engine: the renewal's rebasing against a hand computation from the rule
text, each year's quality standard from its own drawn score, results identical for any
threads, chunks or simulation ranges, and one-line refusals of what it does not simulate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsuite.cli.app import main
from simsuite.contracts.mssp_agreement import MSSP_CAP
from simsuite.engines.agreement import draw_agreement, path_histories, simulate_agreement
from simsuite.engines.montecarlo import RunOptions, run
from simsuite.scenario.load import scenario_from_dict


def one_history(sc, options):
    """The `PanelHistory` of a scenario whose paths all truncate alike."""
    (history,) = path_histories(sc, draw_agreement(sc, options)).values()
    return history


def _scenario(**changes):
    base = {
        "name": "multi-year test",
        "horizon": {"agreement_start": 2024, "agreements": 2},
        "population": {"beneficiaries": 20_000},
        "assumptions": {"true_savings": 0.03, "quality_score": 0.9, "quality_standard": "met",
                        "participant_revenue_to_benchmark": 0.6},
        "region": {"aco_to_region": 0.9, "region_to_nation": 1.0, "aco_share": 0.08},
        "contracts": [{"name": "ENHANCED", "path": {"program": "mssp", "track": "ENHANCED"}}],
        "run": {"simulations": 300, "seed": 11},
    }
    for key, value in changes.items():
        base[key] = value
    return scenario_from_dict(base)


# ---- the ratchet ---------------------------------------------------------------------------


@pytest.mark.slow
def test_renewal_rebases_on_the_organisations_own_savings():
    """A permanent 3% saving, an ACO spending 10% below its region (aco_to_region 0.9), no
    trend shocks, no risk growth. By the rule text, in expectation (C_t: the panel's expected
    truncated spending without the effort, S_t with it, both summed over types; R_t = C_t/0.9
    the region's, also the nation's; U_t the update of 425.652(b)(4)):

    * agreement 1 (BYs 2021-23, 1st regional adjustment of a lower-spending ACO: 35% of the
      gap, 425.656(d)(1)): B_t = (C_23 + 0.35 (R_23 - C_23)) U_t, X_t = S_t;
    * agreement 2 (BYs 2026-28 equally weighted, 425.652(c)(2), now including the saving:
      HB = S_28; 2nd adjustment: 50% of the gap R - S = 14% of C, above the cap of 5% of
      national per capita spending, 425.656(c)(3)): B_29 = (S_28 + 0.05 R_28) U_29; the
      prior savings adjustment (50% of about 7% of C, 425.658(c)) is smaller, so not chosen.
    """
    sc = _scenario()
    options = RunOptions(simulations=300, seed=11)
    drawn = draw_agreement(sc, options)
    arrays = simulate_agreement(sc, options)
    years = sc.spec.horizon.years
    g = sc.spec.cost_model.annual_trend
    panel = drawn.by_year[0].panel  # the first year's model; later years are it trended by g

    def expected(year: int, factor: float) -> float:
        t = years.index(year)
        cap = drawn.by_year[t].caps_for_spec(MSSP_CAP)
        return panel.expected_total(cap, cost_factor=factor * (1 + g) ** t)

    def update(year: int, by3: int) -> float:
        acpt_weight = 1 / 6 if year == 2024 else 1 / 3
        two_way = expected(year, 1.0) / expected(by3, 1.0)
        return (1 - acpt_weight) * two_way + acpt_weight * (1 + g) ** (year - by3)

    rate = (arrays.benchmark[0] - arrays.expenditure[0]) / arrays.benchmark[0]  # (S, P)
    se = rate.std(axis=0) / math.sqrt(rate.shape[0])
    for p, year in enumerate(arrays.years):
        if year <= 2028:
            c23 = expected(2023, 1.0)
            b = (c23 + 0.35 * (c23 / 0.9 - c23)) * update(year, 2023)
        else:
            b = (expected(2028, 0.97) + 0.05 * expected(2028, 1.0) / 0.9) * update(year, 2028)
        hand = 1 - expected(year, 0.97) / b
        # E[(B - X)/B] differs from 1 - E[X]/E[B] by about var(B)/B^2 (< 1e-4 here).
        assert abs(rate[:, p].mean() - hand) < 4 * se[p] + 1e-4, (year, rate[:, p].mean(), hand)
    assert rate[:, 5].mean() < rate[:, 4].mean() - 0.01  # the ratchet: about 6.6% -> 5.4%


# ---- each year's quality standard ------------------------------------------------------------


def test_each_years_quality_standard_comes_from_that_years_drawn_score():
    """Scores spread around the threshold; no alternative standard: a year whose score is
    below the threshold shares no savings (425.512(a)(5), 425.610(d)), one above it does."""
    sc = _scenario(assumptions={"true_savings": 0.05, "quality_score": 0.75, "quality_score_sd": 0.05,
                                "quality_threshold": 0.75, "alternative_standard_probability": 0.0,
                                "participant_revenue_to_benchmark": 0.6},
                   horizon={"agreement_start": 2024}, population={"beneficiaries": 5_000})
    arrays = simulate_agreement(sc, RunOptions(simulations=400, seed=3))
    net, q = arrays.net[0], arrays.quality_score
    # Savings beyond any MSR, outside the ACPT guardrail (whose "neither" case also pays nothing).
    saving = (arrays.benchmark[0] > arrays.expenditure[0] * 1.03) & ~arrays.guardrail[0]
    below, above = saving & (q < 0.75), saving & (q >= 0.75)
    assert below.sum() > 50 and above.sum() > 50
    assert (net[below] == 0).all() and (net[above] > 0).all()
    # The scores differ from year to year within a simulation.
    assert (np.abs(np.diff(q, axis=1)) > 0).mean() > 0.99


# ---- reproducibility -------------------------------------------------------------------------


def test_identical_for_any_threads_chunks_and_simulation_ranges():
    sc = _scenario(population={"beneficiaries": 2_000}, horizon={"agreement_start": 2024}, trends={"national_sd": 0.01, "regional_sd": 0.01},
                   organisation={"performance_sd": 0.02, "permanent_sd": 0.01})
    ref = run(sc, RunOptions(simulations=130, seed=5, threads=1, chunk=4096))
    for threads, chunk in ((2, 4096), (2, 70), (1, 9)):
        other = run(sc, RunOptions(simulations=130, seed=5, threads=threads, chunk=chunk))
        assert ref.identical(other), (threads, chunk)
    whole = simulate_agreement(sc, RunOptions(simulations=130, seed=5))
    part = simulate_agreement(sc, RunOptions(simulations=50, seed=5, first_sim=40))
    for name in ("net", "benchmark", "expenditure", "repayment_mechanism"):
        assert np.array_equal(getattr(whole, name)[:, 40:90], getattr(part, name)), name
    assert np.array_equal(whole.panel_cost[40:90], part.panel_cost)


# ---- what a horizon refuses, in one line -------------------------------------------------------

BASE = """name: t
horizon: {agreement_start: 2027}
population: {beneficiaries: 8000}
assumptions: {quality_score: 0.85, quality_threshold: 0.74, participant_revenue_to_benchmark: 0.3}
contracts:
  - {name: P, path: {program: mssp, track: ENHANCED}}
"""

REFUSED = {
    "path-without-horizon": (BASE.replace("horizon: {agreement_start: 2027}\n", ""),
                             ":5: contracts[0].path: a path runs over years: give a horizon section "
                             "(e.g. horizon: {agreement_start: 2027})"),
    "section-without-horizon": (BASE.replace("horizon: {agreement_start: 2027}\n", "dynamics: {churn: 0.1}\n"),
                                ":2: dynamics: applies to the years of an agreement: give a horizon section "
                                "(e.g. horizon: {agreement_start: 2027})"),
    "renewal-without-prior-savings": (
        BASE.replace("{agreement_start: 2027}", "{agreement_start: 2027, agreement_number: 2}"),
        ":2: horizon.prior_savings: a renewing ACO (agreement_number 2 or more) needs its savings rates of the "
        "three prior performance years, e.g. [0.02, 0.03, 0.01] (42 CFR 425.658 prior savings adjustment)"),
    "agreement-start-twice": (
        BASE.replace("quality_score: 0.85,", "quality_score: 0.85, agreement_start: 2026,"),
        ":4: assumptions.agreement_start: a scenario with a horizon starts its agreement at "
        "horizon.agreement_start; remove this one"),
    "performance-year-elsewhere": ("performance_year: 2026\n" + BASE,
                                   ":1: performance_year: is 2026 but the horizon starts in 2027; "
                                   "remove performance_year"),
    "unpublished-quality-standard": (
        BASE.replace(" quality_threshold: 0.74,", ""),
        ":4: assumptions.quality_threshold: the MSSP quality performance standard of PY2027 is not published in "
        "any source simsuite holds; give it as a quality score (fraction, e.g. 0.74), or set "
        "assumptions.quality_standard (contracts[0] 'P')"),
    "small-aco-from-2027": (
        BASE.replace("8000", "3000"),
        ":3: population.beneficiaries: an ACO below 5,000 assigned beneficiaries in an agreement starting in 2027 "
        "must be in BASIC with lower savings and loss limits (CY2026 PFS final rule); their values are not "
        "published in any source simsuite holds (contracts[0] 'P')"),
    "unknown-program": (BASE.replace("program: mssp", "program: msp"),
                        ":6: contracts[0].path.program: unknown program 'msp' (did you mean 'mssp'?); programs: commercial, lead, mssp"),
    "stay-in-a-from-e": (
        BASE.replace("track: ENHANCED", "track: BASIC, entry_level: E, stay_in_a: true"),
        ":6: contracts[0].path.stay_in_a: only a BASIC ACO entering at Level A may elect to remain in it "
        "(42 CFR 425.600(a)(4)(i)(C)(3))"),
    "one-year-shock": (
        BASE.replace("quality_score: 0.85,", "quality_score: 0.85, cost_trend_sd: 0.01,"),
        ":4: assumptions.cost_trend_sd: a scenario with a horizon takes its trend shocks from trends.national_sd "
        "and trends.regional_sd; remove this one-year shock"),
    "two-sided-basic-without-revenue": (
        BASE.replace(" participant_revenue_to_benchmark: 0.3", "").replace(
            "track: ENHANCED", "track: BASIC, entry_level: C"),
        ":4: assumptions.participant_revenue_to_benchmark: required by two-sided BASIC contracts: their loss limit "
        "is the lesser of a share of participant revenue and of the benchmark (42 CFR 425.605(d)(1)(iii)-(v)(D)); "
        "give participants' Parts A+B FFS revenue as a fraction of the benchmark (e.g. 0.25) (contracts[0] 'P')"),
    "prior-savings-in-a-first-agreement": (
        BASE.replace("{agreement_start: 2027}", "{agreement_start: 2027, prior_savings: [0.01, 0.02, 0.03]}"),
        ":2: horizon.prior_savings: a first agreement has no prior savings adjustment; remove prior_savings or "
        "set agreement_number"),
    "early-renewal-without-a-renewal": (
        BASE.replace("{agreement_start: 2027}", "{agreement_start: 2027, early_renewal_after: 3}"),
        ":2: horizon.early_renewal_after: renews early into a next agreement: set agreements to 2 or more (the last "
        "simulated agreement runs its 5 years)"),
    "population-adjustment-unknown": (
        BASE + "region: {dual_lis_share: 0.2}\n",
        ":7: region.dual_lis_share: 20% of beneficiaries dual or LIS: an agreement starting in 2027 may get the "
        "population (health equity) benchmark adjustment (CY2025 PFS final rule, 15% or more), whose formula is not "
        "in any source simsuite holds; simsuite cannot build this benchmark (contracts[0] 'P')"),
    "agreement-before-2024": (
        BASE.replace("2027}", "2016}"),
        ":6: contracts[0].path.program: the mssp program simulates agreements starting 2024 or later (their "
        "benchmark rules, 42 CFR 425.652); horizon.agreement_start is 2016"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_a_horizon_refuses_is_one_line(capsys, tmp_path, name):
    text, message = REFUSED[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(path), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2 and out == ""
    assert err == f"simsuite: {path}{message}\n"
    assert not (tmp_path / "out").exists()


# ---- every simulation's benchmark, by hand from the rule text ------------------------------------


def hand_benchmarks(h, start: int, agreements: int, acpt: float) -> tuple[np.ndarray, np.ndarray]:
    """Each simulation's MSSP ENHANCED benchmark and spending in every performance year of a
    first agreement and its renewals, computed with scalar loops from 42 CFR 425.652,
    425.656, 425.658 and 425.605(a)(1) (agreements from 2024) on the simulated history ``h``.

    ENHANCED has no minimum loss rate (0%), so the ACPT guardrail (425.652(b)(5)) is
    triggered by any loss; the two-way benchmark is then used if it gives a smaller loss.
    """
    n_sims, years = h.truncated.shape[0], [int(y) for y in h.years]
    n = h.person_years
    p = n / n.sum()
    e_types = range(len(n))
    bench = np.zeros((n_sims, 5 * agreements))
    spent = np.zeros((n_sims, 5 * agreements))
    for s in range(n_sims):
        def nat(y, s=s):  # national per capita as one value (BY3 person-year weights)
            return sum(p[e] * h.national_per_capita[s, years.index(y), e] for e in e_types)

        def reg(y, s=s):
            return sum(p[e] * h.regional_per_capita[s, years.index(y), e] for e in e_types)

        savings: list[float] = []  # per capita savings of each performance year
        for k in range(agreements):
            a = start + 5 * k
            by = [a - 3, a - 2, a - 1]
            b3 = years.index(a - 1)
            w = (0.1, 0.3, 0.6) if k == 0 else (1 / 3, 1 / 3, 1 / 3)  # 425.652(a)(7), (c)(2)
            wn = h.aco_share
            hb = []
            for e in e_types:
                total = 0.0
                for weight, y in zip(w, by, strict=True):
                    t = years.index(y)
                    x = h.truncated[s, t, e] / n[e] * h.hcc_ratio[b3] / h.hcc_ratio[t]  # (a)(3) BY3 risk
                    trend = wn * nat(a - 1) / nat(y) + (1 - wn) * reg(a - 1) / reg(y)  # (a)(5)
                    total += weight * x * trend
                hb.append(total)
            # 425.656: the regional adjustment (the k+1-th), by type, capped, offset if negative.
            # (b)(3): the region risk-adjusted to the ACO's BY3 case mix.
            gaps = [h.regional_per_capita[s, b3, e] * h.hcc_ratio[b3] - hb[e] for e in e_types]
            lower = sum(p[e] * gaps[e] for e in e_types) > 0
            weight = (0.35, 0.50)[k] if lower else (0.15, 0.25)[k]
            offset = min(max(h.dual_share + h.risk_score * h.hcc_ratio[b3] - 1.0, 0.0), 1.0)
            ra = []
            for e in e_types:
                nat_e = h.national_per_capita[s, b3, e]
                v = min(max(weight * gaps[e], -0.015 * nat_e), 0.05 * nat_e)
                ra.append(v * (1 - offset) if v < 0 else v)
            ra_single = sum(p[e] * ra[e] for e in e_types)
            # 425.658: the prior savings adjustment from the three PYs before the agreement.
            psa, eligible = 0.0, False
            if k > 0:
                avg = sum(savings[-3:]) / 3
                eligible = avg > 0
                psa = min(0.5 * avg, 0.05 * nat(a - 1)) if eligible else 0.0
            # 425.652(a)(8): the regional adjustment if positive and not below an eligible PSA.
            if ra_single > 0 and (not eligible or ra_single >= psa):
                adj = ra
            else:
                adj = [psa] * len(n) if eligible else [0.0] * len(n)
            for j in range(5):
                year = a + j
                t = years.index(year)
                two_way = wn * nat(year) / nat(a - 1) + (1 - wn) * reg(year) / reg(a - 1)
                acpt_weight = 1 / 6 if year == 2024 else 1 / 3
                update = (1 - acpt_weight) * two_way + acpt_weight * (1 + acpt) ** (year - (a - 1))
                hcc = h.hcc_ratio[t] / h.hcc_ratio[b3]
                demo = h.demographic_ratio[t] / h.demographic_ratio[b3]
                ratio = min(hcc, demo + 0.03) if hcc - 1 > demo - 1 + 0.03 else hcc  # 425.605(a)(1)(ii)
                base = sum((hb[e] + adj[e]) * ratio * n[e] for e in e_types)
                b, b2 = base * update, base * two_way
                x = sum(h.truncated[s, t, e] for e in e_types)
                if x > b and x - b2 < x - b:  # the guardrail: a smaller loss on the two-way benchmark
                    b = b2
                bench[s, 5 * k + j], spent[s, 5 * k + j] = b, x
                savings.append((b - x) / n.sum())
    return bench, spent


def test_every_simulations_benchmark_follows_the_rule_text():
    sc = _scenario(population={"beneficiaries": 6_000}, trends={"national_sd": 0.02, "regional_sd": 0.015},
                   organisation={"performance_sd": 0.03, "permanent_sd": 0.02},
                   risk_growth={"coding": 0.012, "demographic": 0.002},
                   region={"aco_to_region": 1.05, "region_to_nation": 0.97, "aco_share": 0.2})
    options = RunOptions(simulations=40, seed=8)
    arrays = simulate_agreement(sc, options)
    h = one_history(sc, options)
    bench, spent = hand_benchmarks(h, 2024, 2, acpt=sc.spec.cost_model.annual_trend)
    np.testing.assert_allclose(arrays.expenditure[0], spent, rtol=1e-12)
    np.testing.assert_allclose(arrays.benchmark[0], bench, rtol=1e-10)
    # The case reaches the branches: both adjustments, the risk cap, the guardrail.
    assert (arrays.guardrail[0]).any()
    assert (h.hcc_ratio[-1] / h.hcc_ratio[-6]) > 1.032


# ---- the history, the money owed, the years, the guardrail, the repayment mechanism -----------


def test_demographic_growth_reaches_the_benchmark_once():
    """An ACO without savings whose case mix grows 1% a year faster than the nation's: by the
    rule text its benchmark follows that growth only through the risk ratio (425.605(a)(1)),
    the trends being risk-neutral (425.652(a)(5), (b)(2)). Computed from the model's expected
    truncated spending (C_t: with the case-mix growth, R_t: without), no regional adjustment
    (the ACO spends 50% above its region: negative, floored at zero, 425.652(a)(8)):
    HB = sum_y w_y C_y m^(3-y) T_y with T_y = R_3 / R_y; B_t = HB m^(t-3) U_t; SR_t = 1 - C_t / B_t."""
    sc = _scenario(assumptions={"true_savings": 0.0, "quality_score": 0.9, "quality_standard": "met",
                                "participant_revenue_to_benchmark": 0.6},
                   horizon={"agreement_start": 2024}, risk_growth={"demographic": 0.01, "coding": 0.0},
                   region={"aco_to_region": 1.5, "region_to_nation": 1.0, "aco_share": 0.08})
    options = RunOptions(simulations=300, seed=21)
    drawn = draw_agreement(sc, options)
    arrays = simulate_agreement(sc, options)
    years, g, m = sc.spec.horizon.years, sc.spec.cost_model.annual_trend, 1.01
    panel = drawn.by_year[0].panel

    def spending(year: int, mix: float) -> float:
        t = years.index(year)
        return panel.expected_total(drawn.by_year[t].caps_for_spec(MSSP_CAP), cost_factor=(1 + g) ** t * mix ** t)

    hb = sum(w * spending(y, m) * m ** (2023 - y) * spending(2023, 1.0) / spending(y, 1.0)
             for w, y in zip((0.1, 0.3, 0.6), (2021, 2022, 2023), strict=True))
    rate = (arrays.benchmark[0] - arrays.expenditure[0]) / arrays.benchmark[0]
    se = rate.std(axis=0) / math.sqrt(rate.shape[0])
    for p, year in enumerate(arrays.years):
        acpt_weight = 1 / 6 if year == 2024 else 1 / 3
        update = ((1 - acpt_weight) * spending(year, 1.0) / spending(2023, 1.0)
                  + acpt_weight * (1 + g) ** (year - 2023))
        hand = 1 - spending(year, m) / (hb * m ** (year - 2023) * update)
        assert abs(rate[:, p].mean() - hand) < 4 * se[p] + 1e-4, (year, rate[:, p].mean(), hand)
        assert abs(hand) < 0.01  # truncation at the national percentile only: well below 1 point


def test_the_effort_is_not_owed_to_the_payer():
    """The repayment mechanism secures shared losses (425.204(f)): the effort's cost changes the
    net result but not what is owed nor P(owed > RM)."""
    base = {"true_savings": 0.0, "quality_score": 0.9, "quality_standard": "met",
            "participant_revenue_to_benchmark": 0.6}
    paths = [{"name": "E", "path": {"program": "mssp", "track": "BASIC", "entry_level": "E"}}]
    plain = _scenario(assumptions=base, contracts=paths, population={"beneficiaries": 5_000},
                      horizon={"agreement_start": 2024})
    effort = _scenario(assumptions={**base, "care_management_pmpm": 10.0}, contracts=paths,
                       population={"beneficiaries": 5_000}, horizon={"agreement_start": 2024})
    options = RunOptions(simulations=200, seed=2)
    a, b = run(plain, options), run(effort, options)
    assert np.array_equal(a["owed"].values, b["owed"].values)
    assert np.array_equal(a["p_loss_above_rm"].values, b["p_loss_above_rm"].values)
    assert (b["net_by_year"] < a["net_by_year"]).all()  # the effort costs every year
    # P(owed > RM) and P(any loss year) from the arrays, by hand.
    owed, rm, net = (b[v].values[0] for v in ("owed", "repayment_mechanism", "net_by_year"))
    np.testing.assert_allclose(b["p_loss_above_rm"].values[0], ((rm > 0) & (owed > rm)).mean(axis=0))
    assert float(b["p_any_loss_year"][0]) == (net < 0).any(axis=1).mean()
    assert (rm > 0).all() and 0 < float(a["p_loss_above_rm_any"][0]) < 1


def test_a_horizon_of_one_year_contracts_only():
    """No path: FFS and capitation settle every performance year, nothing is truncated at the
    MSSP percentile."""
    sc = _scenario(contracts=[{"preset": "ffs"},
                              {"preset": "capitation-full-risk", "overrides": {"revenue_to_benchmark": 1.0}}],
                   horizon={"agreement_start": 2024}, population={"beneficiaries": 2_000})
    ds = run(sc, RunOptions(simulations=100, seed=1))
    assert ds.sizes["year"] == 5 and np.isfinite(ds["net_by_year"].values).all()
    assert (ds["net_by_year"].sel(contract="ffs") == 0).all()
    # Capitation at 100% of the benchmark: the 3% saving is kept, so the mean is positive.
    assert float(ds["summary"].sel(contract="capitation-full-risk", measure="mean")) > 0


def test_a_calendar_year_draws_the_same_whatever_the_horizon_around_it():
    one = simulate_agreement(_scenario(horizon={"agreement_start": 2024}), RunOptions(simulations=60, seed=9))
    two = simulate_agreement(_scenario(), RunOptions(simulations=60, seed=9))
    assert np.array_equal(one.expenditure[0], two.expenditure[0, :, :5])
    assert np.array_equal(one.benchmark[0], two.benchmark[0, :, :5])
    assert np.array_equal(one.quality_score, two.quality_score[:, :5])


def test_neither_savings_nor_losses_under_the_guardrail():
    """An ACPT of 0 against a 4% trend puts the two-way benchmark above the three-way one: where
    spending lands between them, ENHANCED (MLR 0) shares neither savings nor losses
    (425.652(b)(5)(ii))."""
    sc = _scenario(assumptions={"true_savings": 0.0, "quality_score": 0.9, "quality_standard": "met",
                                "participant_revenue_to_benchmark": 0.6},
                   horizon={"agreement_start": 2025, "acpt": 0.0},
                   region={"aco_to_region": 1.5, "region_to_nation": 1.0, "aco_share": 0.08},
                   population={"beneficiaries": 5_000})
    arrays = simulate_agreement(sc, RunOptions(simulations=300, seed=4))
    net, bench, spent, guard = arrays.net[0], arrays.benchmark[0], arrays.expenditure[0], arrays.guardrail[0]
    neither = guard & (spent < bench)
    assert neither.sum() > 20
    assert (net[neither] == 0.0).all() and not arrays.gain_shared[0][neither].any()
    losses = guard & (spent >= bench)
    assert (net[losses] < 0).all()  # losses on the recalculated benchmark, 425.652(b)(5)(i)


def test_repayment_mechanism_set_in_the_first_two_sided_year_and_reset_at_renewal():
    """425.204(f)(4)(ii)-(iv): the lesser of 0.5% of the assigned beneficiaries' expenditure
    and 1% of participant revenue, of the year before [INF]; raised within an agreement only
    by $1,000,000 or more (a 20,000-beneficiary panel grows about $0.3M a year: never);
    recomputed for a new agreement."""
    sc = _scenario(contracts=[{"name": "E", "path": {"program": "mssp", "track": "BASIC", "entry_level": "E"}}],
                   assumptions={"true_savings": 0.03, "quality_score": 0.9, "quality_standard": "met",
                                "participant_revenue_to_benchmark": 0.3})
    options = RunOptions(simulations=30, seed=6)
    h = one_history(sc, options)
    rm = simulate_agreement(sc, options).repayment_mechanism[0]
    for start, p in ((2024, 0), (2029, 5)):
        t = [int(y) for y in h.years].index(start)
        raw, truncated = h.raw[:, t - 1].sum(axis=-1), h.truncated[:, t - 1].sum(axis=-1)
        np.testing.assert_allclose(rm[:, p], np.minimum(0.005 * raw, 0.01 * 0.3 * truncated), rtol=1e-12)
        assert (rm[:, p:p + 5] == rm[:, p:p + 1]).all()
    assert not np.array_equal(rm[:, 0], rm[:, 5])
