"""The LEAD program over its ten years, on hand-built histories: each benchmark and payment
computed by hand here (`simsuite.contracts.lead_agreement`), plus the scenario refusals.

Sources and confidence as in tests/test_lead_rules.py (R6 [Low] unless noted); the
fixed baseline "remains static for the duration" (WAK-LEAD citing RFA §VIII.A) [Med].
One enrollment type, 1,000 person-years; spending in dollars.
"""

from __future__ import annotations

import numpy as np
import pytest

import simsuite
from simsuite.contracts import build_path_contract
from simsuite.contracts.base import AgreementSetup, PanelHistory, RuleFacts
from simsuite.errors import FieldProblem
from simsuite.scenario.load import InputError

N = 1000.0
YEARS = np.arange(2024, 2037)
SETUP = AgreementSetup(start=2027, number=1, agreements=2, years_per_agreement=5, prior_savings=None,
                       experienced=True, acpt=0.0)
BASE_TERMS = {"program": "lead", "entry": "reach", "financial_guarantee": 0.04, "acpt": 0.0,
              "acpt_guardrails_after_2027": "none", "higher_spending_discounts": "linear"}


def history(per_capita: list[float] | np.ndarray, regional: float = 10_600.0, national: float = 10_000.0,
            growth: float = 0.0, hcc_growth: float = 0.0, quality: float = 1.0,
            setup: AgreementSetup = SETUP, hcc: np.ndarray | None = None) -> PanelHistory:
    """One simulation; spending per capita of each year 2024-2036; the region and the nation
    flat at ``regional`` / ``national`` times ``(1 + growth)^(y - 2026)``; the HCC risk score
    flat to 2026 and growing at ``hcc_growth`` after (or ``hcc`` by year)."""
    y = YEARS - 2026
    spend = np.asarray(per_capita, dtype=float) * N
    level = (1.0 + growth) ** y
    return PanelHistory(years=YEARS, person_years=np.array([N]), truncated=spend[None, :, None],
                        raw=spend[None, :, None], regional_per_capita=(regional * level)[None, :, None],
                        national_per_capita=(national * level)[None, :, None],
                        hcc_ratio=(1.0 + hcc_growth) ** np.maximum(YEARS - 2026, 0) if hcc is None else hcc,
                        demographic_ratio=np.ones(YEARS.size),
                        quality=np.full((1, YEARS.size), quality), alternative_draw=np.zeros((1, YEARS.size)),
                        facts=RuleFacts(performance_year=2027, agreement_start=2027, n_beneficiaries=1000,
                                        quality_score=quality),
                        aco_share=0.05, dual_share=0.2, setup=setup)


def lead(setup: AgreementSetup = SETUP, **terms):
    path = {**BASE_TERMS, **terms}
    if path.get("track") == "Professional":
        del path["higher_spending_discounts"]  # no discount to assume
    return build_path_contract(path, setup, "LEAD")


def flat(baseline: float, performance: float) -> list[float]:
    return [baseline] * 3 + [performance] * 10


def test_lower_spending_global_fixed_baseline_rea_and_discount():
    # HB = 10,000 (flat BYs); region 10,600 -> lower-spending; REA = 50% x 600 = 300 (< 5% x
    # 10,000 = 500). Benchmark = 10,300 x 1,000 = 10,300,000 every year (no trend, no risk
    # growth, ACPT 0); discount 3% -> 9,991,000; QS = 1. Spending 9,700 per capita:
    # S = 291,000 in the 100% corridor, x 0.98 = 285,180 each of the ten years.
    out = lead(track="Global").settle_path(history(flat(10_000.0, 9_700.0)))
    assert out.years == tuple(range(2027, 2037)) and out.levels == ("LEAD Global",) * 10
    np.testing.assert_allclose(out.net[0], 285_180.0, rtol=1e-12)
    np.testing.assert_allclose(out.benchmark[0], 9_991_000.0, rtol=1e-12)
    # the financial guarantee: 4% x BY3 spending 10,000,000 = 400,000, reported every year
    np.testing.assert_allclose(out.repayment_mechanism[0], 400_000.0, rtol=1e-12)
    assert out.gain_shared.all() and not out.guardrail.any()


def test_no_rebasing_a_permanent_saving_keeps_paying_for_ten_years():
    # The ACO saves 3% from 2027; in MSSP its 2029-2031 spending would rebase the benchmark in
    # 2032. In LEAD the baseline stays 2024-2026: 2036 pays what 2027 did.
    out = lead(track="Global").settle_path(history(flat(10_000.0, 9_700.0)))
    assert out.net[0, -1] == pytest.approx(out.net[0, 0], rel=1e-12)


def test_baseline_weights_renewing_and_new_entrant():
    # BYs 9,000 / 10,000 / 11,000 (no trend): renewing 1/3 each -> 10,000; new 10/30/60 ->
    # 900 + 3,000 + 6,600 = 10,500. Region 9,000, below both: higher-spending, no REA;
    # PY2027 discount 1.75%, add-on 1.5% of the benchmark. Spending = the discounted benchmark:
    # only the add-on is paid.
    spend = [9_000.0, 10_000.0, 11_000.0] + [0.0] * 10
    for entry, hb in (("reach", 10_000.0), ("new", 10_500.0)):
        spend[3] = hb * 0.9825
        out = lead(track="Global", entry=entry).settle_path(history(spend, regional=9_000.0))
        assert out.benchmark[0, 0] == pytest.approx(hb * N * 0.9825, rel=1e-12)
        assert out.net[0, 0] == pytest.approx(0.015 * hb * N, rel=1e-9)  # only the add-on


def test_higher_spending_discount_path_and_add_on():
    # Region 9,500 < HB 10,000: higher-spending, no REA. Benchmark 10,000,000 each year.
    # Spending 9,600 per capita. Discounts 1.75% (2027), linear 2.0-2.75% (2028-2031), 3% after.
    # S = 10,000,000 (1 - d) - 9,600,000; net = 0.98 S + 150,000 (1.5% add-on, not sequestered)
    out = lead(track="Global").settle_path(history(flat(10_000.0, 9_600.0), regional=9_500.0))
    discounts = [0.0175, 0.02, 0.0225, 0.025, 0.0275] + [0.03] * 5
    expected = [0.98 * (10_000_000.0 * (1 - d) - 9_600_000.0) + 150_000.0 for d in discounts]
    np.testing.assert_allclose(out.net[0], expected, rtol=1e-12)
    # 2027 by hand: 9,825,000 - 9,600,000 = 225,000 x 0.98 = 220,500 + 150,000 = 370,500
    assert out.net[0, 0] == pytest.approx(370_500.0, rel=1e-12)


def test_professional_no_discount_no_rea_sixty_percent_then_bands():
    # Lower-spending but Professional: no REA, no discount. Benchmark 10,000,000. Spending
    # 8,800 -> S = 1,200,000 = 12%: 10% x 60% + 2% x 35% = 670,000 x 0.98 = 656,600.
    terms = {"track": "Professional", "overrides": {"loss_bands": [[0.0, None, 0.5]]}}
    out = lead(**terms).settle_path(history(flat(10_000.0, 8_800.0)))
    np.testing.assert_allclose(out.net[0], 656_600.0, rtol=1e-12)
    # A loss of 5%: 50% (the stated loss bands) x 500,000 = 250,000, owed x 1.02 = 255,000
    out = lead(**terms).settle_path(history(flat(10_000.0, 10_500.0)))
    np.testing.assert_allclose(out.net[0], -255_000.0, rtol=1e-12)


def test_prior_savings_adjustment_higher_than_rea_replaces_it():
    # Higher-spending (no REA); prior savings rates of 5% a year against spending of 10,000 per
    # capita: 0.05 x 10,000 / 0.95 = 526.3158 per capita saved each year [INF, as MSSP's renewal];
    # PSA = min(50% x 526.3158, 5% x national 10,000 = 500) = 263.1579. Benchmark 10,263,157.89,
    # discount 1.75% -> 10,083,552.63; spending that much: S = 0, only the add-on 1.5% x
    # 10,263,157.89 = 153,947.37.
    spend = flat(10_000.0, 10_083.552631578947)
    out = lead(track="Global", prior_savings=[0.05, 0.05, 0.05]).settle_path(history(spend, regional=9_500.0))
    assert out.benchmark[0, 0] == pytest.approx(10_083_552.631578947, rel=1e-12)
    assert out.net[0, 0] == pytest.approx(153_947.36842105263, rel=1e-9)
    # Lower-spending with REA 300 > PSA 250: the REA (300) is kept, never both
    out = lead(track="Global", prior_savings=[0.05, 0.05, 0.05]).settle_path(history(flat(10_000.0, 9_700.0)))
    assert out.benchmark[0, 0] == pytest.approx(10_300_000.0 * 0.97, rel=1e-12)


def test_trend_update_with_the_2027_guardrail_and_the_risk_cap():
    # Region and nation grow 5% from 2026 to 2027 (and every year): two-way 1.05 in 2027. The
    # ACPT (the path's) 6%: held at 1.05 + 0.3% = 1.053 in PY2027 -> U = 2/3 x 1.05 + 1/3 x 1.053 =
    # 1.051. BYs grow 5% too (10,000 x 1.05^(y-2026)): trended to BY3 each is 10,000.
    # Regional 10,600 x 1.05^... -> REA 300 -> base 10,300. HCC grows 1%/yr: PY2027 ratio to
    # BY3 1.01 (inside the 3% cap); PY2031 1.01^5 = 1.05101 -> capped at 1.03.
    setup = AgreementSetup(start=2027, number=1, agreements=2, years_per_agreement=5, prior_savings=None,
                           experienced=True, acpt=0.06)
    spend = 10_000.0 * 1.05 ** (YEARS - 2026)
    out = lead(setup, track="Global", acpt=0.06).settle_path(history(spend, growth=0.05, hcc_growth=0.01,
                                                                      setup=setup))
    b2027 = 10_300.0 * N * 1.01 * (2 / 3 * 1.05 + 1 / 3 * 1.053)
    assert out.benchmark[0, 0] == pytest.approx(b2027 * 0.97, rel=1e-12)
    # PY2031: two-way 1.05^5; guardrails "none" after 2027 -> ACPT 1.06^5 in full
    u2031 = 2 / 3 * 1.05 ** 5 + 1 / 3 * 1.06 ** 5
    assert out.benchmark[0, 4] == pytest.approx(10_300.0 * N * 1.03 * u2031 * 0.97, rel=1e-12)
    # with guardrails [0.006, 0.004] after 2027: the ACPT is held at 1.05^5 + 0.006
    out = lead(setup, track="Global", acpt=0.06, acpt_guardrails_after_2027=[0.006, 0.004]).settle_path(
        history(spend, growth=0.05, hcc_growth=0.01, setup=setup))
    u2031 = 2 / 3 * 1.05 ** 5 + 1 / 3 * (1.05 ** 5 + 0.006)
    assert out.benchmark[0, 4] == pytest.approx(10_300.0 * N * 1.03 * u2031 * 0.97, rel=1e-12)


def test_benchmark_years_restated_to_by3_risk():
    # HCC 1.00 / 1.01 / 1.0201 in 2024-2026 (flat after); spending 10,000 each BY: restated to
    # BY3's risk, 10,000 x 1.0201, x 1.0201 / 1.01 = 1.01, x 1 -> mean (1/3 each) =
    # 10,000 x (1.0201 + 1.01 + 1) / 3 = 10,100.33...; higher-spending (region 9,500): no REA.
    # PY2027's ratio to BY3 is 1. Spending = the discounted benchmark: only the add-on is paid.
    hcc = np.array([1.0, 1.01, 1.0201] + [1.0201] * 10)
    hb = 10_000.0 * (1.0201 + 1.01 + 1.0) / 3.0
    out = lead(track="Global").settle_path(history(flat(10_000.0, hb * 0.9825), regional=9_500.0, hcc=hcc))
    assert out.benchmark[0, 0] == pytest.approx(hb * N * 0.9825, rel=1e-12)
    assert out.net[0, 0] == pytest.approx(0.015 * hb * N, rel=1e-9)


def test_rea_and_benchmark_at_an_hcc_ratio_other_than_one():
    # HCC 1.02 in every BY, 1.0404 in the performance years: the BYs need no restating (HB
    # 10,000), the region is risk-adjusted to the ACO's BY3 score, 10,600 x 1.02 = 10,812
    # (425.656(b)(3)'s reading [INF for LEAD]), so REA = 50% x 812 = 406 (< 5% x 10,000 =
    # 500). PY2027's ratio to BY3 is 1.0404 / 1.02 = 1.02 (inside +-3%): benchmark 10,406 x
    # 1,000 x 1.02 = 10,614,120, discounted 3% -> 10,295,696.4. Spending 9,700 per capita:
    # S = 595,696.4 (5.8%, first corridor, 100%) x 0.98 = 583,782.472.
    hcc = np.array([1.02] * 3 + [1.0404] * 10)
    out = lead(track="Global").settle_path(history(flat(10_000.0, 9_700.0), hcc=hcc))
    assert out.benchmark[0, 0] == pytest.approx(10_295_696.4, rel=1e-12)
    assert out.net[0, 0] == pytest.approx(583_782.472, rel=1e-12)
    # A region at 11,200 x 1.02 = 11,424: 50% of 1,424 = 712 is capped at 500 (5% of national).
    out = lead(track="Global").settle_path(history(flat(10_000.0, 9_700.0), regional=11_200.0, hcc=hcc))
    assert out.benchmark[0, 0] == pytest.approx(10_500.0 * N * 1.02 * 0.97, rel=1e-12)
    # ... and at 3% for an ACO renewing from MSSP (R6 [Low]): 300.
    out = lead(track="Global", entry="mssp").settle_path(history(flat(10_000.0, 9_700.0), regional=11_200.0,
                                                                 hcc=hcc))
    assert out.benchmark[0, 0] == pytest.approx(10_300.0 * N * 1.02 * 0.97, rel=1e-12)
    # Risk growth beyond the cap: 1.0404 x 1.03 in PY2027 -> ratio 1.0506 held at 1.03.
    hcc_high = np.array([1.02] * 3 + [1.02 * 1.0506] * 10)
    out = lead(track="Global").settle_path(history(flat(10_000.0, 9_700.0), hcc=hcc_high))
    assert out.benchmark[0, 0] == pytest.approx(10_406.0 * N * 1.03 * 0.97, rel=1e-12)


def test_risk_cap_below_and_a_loss_across_the_first_corridor():
    # Risk falling 4% against BY3 (HCC 1.02 -> 0.9792): the ratio 0.96 is held at 0.97 (R6's
    # symmetric +-3%) [Low]: benchmark 10,406 x 1,000 x 0.97 x 0.97 (REA 406 as above).
    hcc = np.array([1.02] * 3 + [1.02 * 0.96] * 10)
    out = lead(track="Global").settle_path(history(flat(10_000.0, 9_700.0), hcc=hcc))
    assert out.benchmark[0, 0] == pytest.approx(10_406.0 * N * 0.97 * 0.97, rel=1e-12)
    # Lower-spending Global, flat risk: discounted benchmark 9,991,000. Spending 11,500 per
    # capita: a loss of 1,509,000 = 15.1%: the first 15% (1,498,650) at 100% and 10,350 at 50%
    # = 1,503,825, grown by 2% sequestration (R6) [Low]: 1,533,901.5 owed each year.
    out = lead(track="Global").settle_path(history(flat(10_000.0, 11_500.0)))
    np.testing.assert_allclose(out.net[0], -1_533_901.5, rtol=1e-12)
    assert not out.gain_shared.any()


def test_quality_withhold_lost_in_proportion_to_the_score():
    # Lower-spending Global as in the first test; QS = 0.8: 20% of the 3% withhold on the
    # discounted benchmark is lost: 0.2 x 0.03 x 9,991,000 = 59,946 off S:
    # (291,000 - 59,946) x 0.98 = 226,432.92
    out = lead(track="Global").settle_path(history(flat(10_000.0, 9_700.0), quality=0.8))
    np.testing.assert_allclose(out.net[0], 226_432.92, rtol=1e-12)


# --- the plan's refusals: what the sources do not give must be stated ---------------------------

@pytest.mark.parametrize("terms, loc, fragment", [
    ({"financial_guarantee": None}, ("financial_guarantee",), "2% to 4% of prior Parts A and B"),
    ({"financial_guarantee": 0.05}, ("financial_guarantee",), "0.05 is outside the 2%-4%"),
    ({"financial_guarantee": 0.019}, ("financial_guarantee",), "0.019 is outside the 2%-4%"),
    ({"acpt": None}, ("acpt",), "Accountable Care Prospective Trend for PY2027 is set by CMS and not published"),
    ({"acpt_guardrails_after_2027": None}, ("acpt_guardrails_after_2027",), "published only for PY2027"),
    ({"higher_spending_discounts": None}, ("higher_spending_discounts",), "PY2028-2031"),
    ({"higher_spending_discounts": {2028: 0.02, 2029: 0.019, 2030: 0.025, 2031: 0.0275}},
     ("higher_spending_discounts",), "never falling"),
    ({"higher_spending_discounts": {2028: 0.02, 2029: 0.02, 2030: 0.025}}, ("higher_spending_discounts",),
     "no discount for PY2031"),
    ({"higher_spending_discounts": {2027: 0.02}}, ("higher_spending_discounts", 2027), "only PY2028-2031"),
    ({"track": None}, ("track",), "Global or Professional"),
    ({"track": "Professional"}, ("higher_spending_discounts",), "no benchmark discount"),
    ({"entry": None}, ("entry",), "reach, mssp"),
])
def test_values_not_published_are_refused_until_stated(terms, loc, fragment):
    data = {**BASE_TERMS, "track": "Global", **terms}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(FieldProblem) as info:
        build_path_contract(data, SETUP, "LEAD")
    assert info.value.loc == loc and fragment in info.value.problem


def test_professional_without_loss_bands_is_refused_and_needs_no_discount_path():
    data = {**BASE_TERMS, "track": "Professional"}
    del data["higher_spending_discounts"]
    with pytest.raises(FieldProblem) as info:
        build_path_contract(data, SETUP, "LEAD")
    assert info.value.loc == ("overrides", "loss_bands") and "no published value" in info.value.problem


@pytest.mark.parametrize("start, agreements, fragment", [(2028, 1, "first cohort"), (2027, 3, "31 Dec 2036")])
def test_years_outside_2027_2036_are_refused(start, agreements, fragment):
    setup = AgreementSetup(start=start, number=1, agreements=agreements, years_per_agreement=5,
                           prior_savings=None, experienced=True, acpt=0.03)
    with pytest.raises(FieldProblem, match=fragment):
        lead(setup, track="Global")


def test_a_short_horizon_settles_leads_first_years_and_needs_no_later_assumptions():
    setup = AgreementSetup(start=2027, number=1, agreements=1, years_per_agreement=1, prior_savings=None,
                           experienced=True, acpt=0.0)
    contract = build_path_contract({"program": "lead", "track": "Global", "entry": "reach",
                                    "financial_guarantee": 0.04, "acpt": 0.03}, setup, "LEAD")
    assert contract.plan.years == (2027,)


def scenario(beneficiaries: int, entry: str = "reach") -> dict:
    return {"name": "lead", "horizon": {"agreement_start": 2027, "agreements": 2},
            "population": {"beneficiaries": beneficiaries},
            "contracts": [{"name": "LEAD Global", "path": {**BASE_TERMS, "track": "Global", "entry": entry}}],
            "run": {"simulations": 200, "seed": 1}}


@pytest.mark.parametrize("n, entry, ok", [(5000, "reach", True), (4999, "reach", False), (4999, "mssp", False),
                                          (1000, "new", True), (999, "new", False)])
def test_minimum_aligned_beneficiaries(n, entry, ok):
    # CMS LEAD page [Med]: 5,000 aligned in PY1; newly entering ACOs 1,000
    if ok:
        simsuite.scenario_from_dict(scenario(n, entry))
        return
    with pytest.raises(InputError) as info:
        simsuite.scenario_from_dict(scenario(n, entry))
    assert info.value.field == "population.beneficiaries"
    assert f"LEAD requires {5000 if entry != 'new' else 1000:,} aligned" in info.value.problem


def test_refusal_through_the_loader_names_the_path_field():
    data = scenario(10_000)
    del data["contracts"][0]["path"]["financial_guarantee"]
    with pytest.raises(InputError) as info:
        simsuite.scenario_from_dict(data)
    assert info.value.field == "contracts[0].path.financial_guarantee"
    assert "not published" in info.value.problem and "\n" not in str(info.value)
