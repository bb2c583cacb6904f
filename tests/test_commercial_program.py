"""Commercial / Medicare Advantage shared risk over contract years (`simsuite.contracts.commercial_agreement`)
on hand-built histories, every figure computed by hand; and the effective share of savings
of the example scenario (`simsuite.analysis.effective_share`).

Sources (notes/issue18-21-rules.md Part D, Low): targets "based on historical performance,
usually 1-3 years" (Sg2), re-set annually (Milliman, "Five common pitfalls", 2016: "a '50/50'
... can leave the provider with far less than 50%"). The fixed target with a trend guarantee
and the deficit carry-forward have no source [INF]: examples D-2 and D-3 are our arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest

import simsuite
from simsuite.contracts import build_path_contract
from simsuite.contracts.base import AgreementSetup, PanelHistory, RuleFacts
from simsuite.contracts.commercial_agreement import settle_with_carry_forward
from simsuite.contracts.shared_risk import SharedRiskTerms
from simsuite.errors import FieldProblem
from simsuite.scenario.load import InputError

N = 1000.0


def setup(years: int, start: int = 2027) -> AgreementSetup:
    return AgreementSetup(start=start, number=1, agreements=1, years_per_agreement=years, prior_savings=None,
                          experienced=False, acpt=0.0)


def history(per_capita: list[float], start: int = 2027, regional: list[float] | None = None) -> PanelHistory:
    """One simulation, one type; per capita cost of each year from ``start - 3``."""
    years = np.arange(start - 3, start - 3 + len(per_capita))
    spend = np.asarray(per_capita, dtype=float) * N
    reg = np.asarray(regional if regional is not None else [1.0] * len(per_capita), dtype=float)
    y = len(years)
    return PanelHistory(years=years, person_years=np.array([N]), truncated=spend[None, :, None],
                        raw=spend[None, :, None], regional_per_capita=reg[None, :, None],
                        national_per_capita=reg[None, :, None], hcc_ratio=np.ones(y), demographic_ratio=np.ones(y),
                        quality=np.ones((1, y)), alternative_draw=np.zeros((1, y)),
                        facts=RuleFacts(performance_year=start, agreement_start=start, n_beneficiaries=1000,
                                        quality_score=1.0),
                        aco_share=0.05, dual_share=0.2, setup=setup(len(per_capita) - 3, start))


FIFTY_FIFTY = [{"years": 10, "arrangement": "shared_risk", "savings_share": 0.5, "loss_share": 0.5}]


def settle(target: dict, cost: list[float], schedule: list | None = None, carry: bool = False) -> np.ndarray:
    path = {"program": "commercial", "target": target, "schedule": schedule or FIFTY_FIFTY,
            "deficit_carry_forward": carry}
    contract = build_path_contract(path, setup(len(cost) - 3), "MA")
    return contract.settle_path(history(cost)).net[0] / N  # per capita


def share(paid: np.ndarray, saved: float) -> float:
    return float(paid.sum() / saved)


# --- D-2: a permanent saving under annual rebasing vs a fixed target -------------------------------

def test_d2_permanent_5_percent_saving_three_and_four_years():
    # Cost 100 per capita before the contract, no trend; the provider cuts it to 95 for good.
    cost3 = [100.0, 100.0, 100.0, 95.0, 95.0, 95.0]
    # (a) target = last year's cost: Y1 100 -> 5 x 50% = 2.5; Y2, Y3 target 95 -> 0.
    paid = settle({"basis": "rebased", "lookback": 1, "trend": 0.0}, cost3)
    np.testing.assert_allclose(paid, [2.5, 0.0, 0.0], atol=1e-12)
    assert share(paid, 15.0) == pytest.approx(1 / 6, rel=1e-12)          # 2.5 of 15: 16.7%
    # (b) target = mean of the last three years: 100, 98.33, 96.67, 95 -> 2.5, 1.667, 0.833, 0
    cost4 = [100.0, 100.0, 100.0, 95.0, 95.0, 95.0, 95.0]
    paid = settle({"basis": "rebased", "lookback": 3, "trend": 0.0}, cost4)
    np.testing.assert_allclose(paid, [2.5, 5 / 6 * 2, 5 / 6, 0.0], atol=1e-12)
    assert share(paid, 20.0) == pytest.approx(0.25, rel=1e-12)           # 5.0 of 20: 25%
    # (c) fixed target 100 (a trend guarantee of 0, the real trend): 2.5 every year, 50%
    paid = settle({"basis": "fixed", "lookback": 3, "trend": 0.0}, cost4)
    np.testing.assert_allclose(paid, [2.5] * 4, atol=1e-12)


def test_effective_share_of_a_permanent_3_percent_saving_over_five_years():
    # The case: cost 100, a lasting 3% saving, five years, 50/50, no trend.
    cost = [100.0] * 3 + [97.0] * 5
    rebased1 = settle({"basis": "rebased", "lookback": 1, "trend": 0.0}, cost)
    rebased3 = settle({"basis": "rebased", "lookback": 3, "trend": 0.0}, cost)
    fixed = settle({"basis": "fixed", "lookback": 3, "trend": 0.0}, cost)
    # rebased on one year: 1.5 in year 1 only -> 1.5 of 15 = 10%
    np.testing.assert_allclose(rebased1, [1.5, 0, 0, 0, 0], atol=1e-12)
    # rebased on three years: targets 100, 99, 98, 97, 97 -> 1.5 + 1.0 + 0.5 = 3.0 of 15 = 20%
    np.testing.assert_allclose(rebased3, [1.5, 1.0, 0.5, 0, 0], atol=1e-12)
    # fixed: 1.5 a year -> 7.5 of 15 = 50%
    np.testing.assert_allclose(fixed, [1.5] * 5, atol=1e-12)
    assert [share(p, 15.0) for p in (rebased1, rebased3, fixed)] == pytest.approx([0.10, 0.20, 0.50], rel=1e-12)


def test_trend_and_weights_and_discount():
    # Cost grows 4% a year: 100, 104, 108.16 (BYs), then 3% below trend from 2027.
    # Rebased on one year at 4%: target 2027 = 108.16 x 1.04 = 112.4864; cost 0.97 x that
    # -> S = 3% x 112.4864 = 3.374592, paid 1.687296; 2028: target = cost 2027 x 1.04 = cost
    # 2028 -> 0.
    base = [100.0, 104.0, 108.16]
    cost = base + [0.97 * 108.16 * 1.04 ** k for k in (1, 2)]
    paid = settle({"basis": "rebased", "lookback": 1, "trend": 0.04}, cost)
    np.testing.assert_allclose(paid, [0.5 * 0.03 * 112.4864, 0.0], rtol=1e-12, atol=1e-12)
    # Weights 0.2/0.3/0.5 (oldest first) trended at 4%: each BY trends to 112.4864 -> 112.4864;
    # a 2% discount: 110.236672; S = 110.236672 - 0.97 x 112.4864 = 1.12486400... -> 0.562432
    paid = settle({"basis": "fixed", "lookback": 3, "trend": 0.04, "weights": [0.2, 0.3, 0.5], "discount": 0.02},
                  cost)
    assert paid[0] == pytest.approx(0.5 * (0.98 - 0.97) * 112.4864, rel=1e-12)
    # fixed at 4% and year 2028: the target grows 4%, the cost too: the same 1% margin
    assert paid[1] == pytest.approx(0.5 * (0.98 - 0.97) * 112.4864 * 1.04, rel=1e-12)


def test_a_trend_guarantee_below_the_real_trend_erodes_the_fixed_target():
    # Real trend 4%; guarantee 2%: cost 100 flat-lined at BY3 = 100, then 0.97 x 1.04^k;
    # target 100 x 1.02^k. Year 1: 102 - 100.88 = 1.12 -> 0.56; year 2: 104.04 - 104.9152 =
    # -0.8752 -> owes 0.4376
    cost = [100.0, 100.0, 100.0, 0.97 * 104.0, 0.97 * 108.16]
    paid = settle({"basis": "fixed", "lookback": 1, "trend": 0.02}, cost)
    np.testing.assert_allclose(paid, [0.5 * (102.0 - 100.88), -0.5 * (104.9152 - 104.04)], rtol=1e-12)


def test_market_trend_follows_the_regions_growth():
    # The region grows 10% into 2027; the fixed target follows it: 100 x 1.1 = 110; cost 100 -> 5
    path = {"program": "commercial", "target": {"basis": "fixed", "lookback": 1, "trend": "market"},
            "schedule": FIFTY_FIFTY}
    contract = build_path_contract(path, setup(1), "MA")
    out = contract.settle_path(history([100.0, 100.0, 100.0, 100.0], regional=[1.0, 1.0, 1.0, 1.1]))
    assert out.net[0, 0] / N == pytest.approx(5.0, rel=1e-12)
    assert out.benchmark[0, 0] == pytest.approx(110.0 * N, rel=1e-12)


# --- D-3: deficit carry-forward -------------------------------------------------------------------

def test_d3_deficit_carried_from_an_upside_only_year():
    # Y1 (upside-only) cost 103 against 100: -3, paid nothing, carried. Y2 (50/50) cost 95:
    # +5 -> shareable 5 - 3 = 2 -> 1.0 (2.5 without the carry-forward).
    glide = [{"years": 1, "arrangement": "upside_only", "savings_share": 0.5},
             {"years": 2, "arrangement": "shared_risk", "savings_share": 0.5, "loss_share": 0.5}]
    fixed = {"basis": "fixed", "lookback": 3, "trend": 0.0}
    cost = [100.0] * 3 + [103.0, 95.0, 95.0]
    np.testing.assert_allclose(settle(fixed, cost, glide, carry=True), [0.0, 1.0, 2.5], atol=1e-12)
    np.testing.assert_allclose(settle(fixed, cost, glide, carry=False), [0.0, 2.5, 2.5], atol=1e-12)


def test_carry_forward_of_the_payers_part_of_a_shared_loss():
    terms = SharedRiskTerms(arrangement="shared_risk", savings_share=0.5, loss_share=0.5)
    # a loss of 4: the provider pays 2; the payer's 2 is carried
    paid, carried = settle_with_carry_forward(terms, np.array([100.0]), np.array([-4.0]), np.array([0.0]))
    assert (float(paid[0]), float(carried[0])) == (-2.0, -2.0)
    # next year +5: pool 3 -> 1.5; nothing carried
    paid, carried = settle_with_carry_forward(terms, np.array([100.0]), np.array([5.0]), carried)
    assert (float(paid[0]), float(carried[0])) == (1.5, 0.0)
    # a surplus smaller than the deficit: paid nothing, the rest carried (-2 + 1.5 = -0.5)
    paid, carried = settle_with_carry_forward(terms, np.array([100.0]), np.array([1.5]), np.array([-2.0]))
    assert (float(paid[0]), float(carried[0])) == (0.0, -0.5)
    # capitation bears all of a loss: nothing is carried
    cap = SharedRiskTerms(arrangement="capitation")
    paid, carried = settle_with_carry_forward(cap, np.array([100.0]), np.array([-4.0]), np.array([-1.0]))
    assert (float(paid[0]), float(carried[0])) == (-4.0, -1.0)
    # the MSR is measured on the pool: 2% of 100 needed; pool 5 - 3.5 = 1.5 -> nothing, carried 0
    msr = SharedRiskTerms(arrangement="upside_only", savings_share=0.5, msr=0.02)
    paid, carried = settle_with_carry_forward(msr, np.array([100.0]), np.array([5.0]), np.array([-3.5]))
    assert (float(paid[0]), float(carried[0])) == (0.0, 0.0)


def test_glide_schedule_levels_and_refusals():
    glide = [{"years": 1, "arrangement": "upside_only", "savings_share": 0.5},
             {"years": 2, "arrangement": "shared_risk", "savings_share": 0.5, "loss_share": 0.5},
             {"years": 2, "arrangement": "capitation"}]
    path = {"program": "commercial", "target": {"basis": "fixed", "lookback": 3, "trend": 0.0}, "schedule": glide}
    contract = build_path_contract(path, setup(5), "MA")
    assert contract.plan.levels == ("upside-only", "shared risk", "shared risk", "capitation", "capitation")
    assert contract.status == "custom"
    # capitation keeps all: cost 97 against 100 in years 4 and 5 -> 3 each
    out = contract.settle_path(history([100.0] * 3 + [97.0] * 5)).net[0] / N
    np.testing.assert_allclose(out, [1.5, 1.5, 1.5, 3.0, 3.0], atol=1e-12)
    with pytest.raises(FieldProblem, match="covers 5 contract years but the horizon simulates 6"):
        build_path_contract(path, setup(6), "MA")
    bad = {**path, "target": {"basis": "rebased", "lookback": 2, "trend": 0.0, "weights": [0.5, 0.6]}}
    with pytest.raises(FieldProblem) as info:
        build_path_contract(bad, setup(5), "MA")
    assert info.value.loc == ("target", "weights") and "sum to 1" in info.value.problem
    bad = {**path, "schedule": [{"years": 5, "arrangement": "upside_only"}]}
    with pytest.raises(FieldProblem) as info:
        build_path_contract(bad, setup(5), "MA")
    assert info.value.loc == ("schedule", 0, "savings_share")


def test_a_path_missing_its_target_rule_is_refused_in_one_line():
    data = {"name": "x", "horizon": {"agreement_start": 2027}, "population": {"beneficiaries": 1000},
            "contracts": [{"name": "MA", "path": {"program": "commercial", "schedule": FIFTY_FIFTY}}]}
    with pytest.raises(InputError) as info:
        simsuite.scenario_from_dict(data)
    assert info.value.field == "contracts[0].path.target" and "required" in info.value.problem


# --- the example: the effective share of a permanent 3% saving, simulated ---------------------------

@pytest.fixture(scope="module")
def example_shares():
    """The paired effective shares of scenarios/ma-shared-risk-rebasing.yaml and the change
    in cost of each simulation and year they rest on (the two runs on the same draws)."""
    from simsuite.analysis.effective_share import paired_shares
    from simsuite.engines.agreement import simulate_agreement
    from simsuite.engines.montecarlo import RunOptions
    from simsuite.scenario.edit import scenario_with

    sc = simsuite.load_scenario("scenarios/ma-shared-risk-rebasing.yaml")
    options = RunOptions(300, seed=11)
    with_saving = simulate_agreement(sc, options)
    perturbed = simulate_agreement(scenario_with(sc, "assumptions.true_savings", 0.0), options)
    change = perturbed.panel_cost - with_saving.panel_cost  # d_t per simulation, (S, P)
    return paired_shares(with_saving, perturbed, [c.name for c in sc.contracts]), change


def test_effective_share_is_exact_where_the_arithmetic_is_linear(example_shares):
    """Cases known exactly on every draw (no MSR, no caps, 50/50 both ways, so a contract's
    settlement is linear in the cost): fee-for-service pays nothing for a saving; a fixed
    target (set from 2024-2026, which the saving does not touch) pays half of each dollar;
    rebased on last year's cost x 1.04, year t's target falls by 1.04 d_{t-1}, so the change in
    pay is 0.5 (sum_t d_t - 1.04 sum_{t<5} d_t)."""
    got, d = example_shares
    total = d.sum(axis=1)
    assert got["ffs"].share == 0.0 and got["ffs"].se == 0.0
    assert got["50/50, fixed target, 4% trend guarantee"].share == pytest.approx(0.5, rel=1e-12)
    assert got["50/50, fixed target, 4% trend guarantee"].se < 1e-12  # the same 0.5 on every draw
    expected = 0.5 * (total.mean() - 1.04 * d[:, :-1].sum(axis=1).mean()) / total.mean()
    assert got["50/50, rebased every year"].share == pytest.approx(expected, rel=1e-10)
    # lookback 3 (weights 1/3): year t's target falls by 1.04^j d_{t-j} / 3 for j = 1..3
    drop = sum(1.04 ** j * d[:, : d.shape[1] - j].sum(axis=1).mean() / 3 for j in (1, 2, 3))
    assert got["50/50, rebased on 3 years"].share == pytest.approx(0.5 * (total.mean() - drop) / total.mean(),
                                                                  rel=1e-10)
    assert got["50/50, rebased every year"].saved == pytest.approx(total.mean(), rel=1e-12)


def test_example_effective_shares_near_the_noiseless_values(example_shares):
    """With a deterministic 3% saving of a cost growing 4% a year the noiseless shares weight
    each year by its cost (sum of 1.04^k, k = 0..4: 5.41632): rebased on one year 0.5 x 3 /
    (3 x 5.41632) = 9.23%; on three years 0.5 x (3 + 2 x 1.04 + 1.0816) / 16.24896 = 18.96%.
    The simulated cost varies by draw and year, which moves the paired shares only through
    the weights of the years: within 4 standard errors plus half a point."""
    got, _ = example_shares
    growth = sum(1.04 ** k for k in range(5))
    expected = {"50/50, rebased every year": 0.5 * 0.03 / (0.03 * growth),
                "50/50, rebased on 3 years": 0.5 * (0.03 + 0.02 * 1.04 + 0.01 * 1.04 ** 2) / (0.03 * growth)}
    for name, value in expected.items():
        assert abs(got[name].share - value) < 4 * got[name].se + 0.005, (name, got[name], value)
