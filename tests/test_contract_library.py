"""REACH/LEAD corridors, capitation with stop-loss, Primary Care First and quality-based
payments: hand-computed cases at every edge, vectorised vs scalar reference, and errors."""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts import (
    build_contract,
    build_custom_contract,
    capitation,
    corridors,
    primary_care_first,
    quality_payments,
)
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelYear
from simsuite.contracts.presets import all_presets
from simsuite.errors import FieldProblem

B = 100_000_000.0


def contract(preset: str, year: int = 2026, **overrides):
    return build_contract(preset, overrides, year)


def panel(benchmark=B, expenditure=B, quality=0.0, n=10_000, raw=None, capped=None, expected=None):
    arr = lambda x: np.atleast_1d(np.asarray(x, dtype=float))  # noqa: E731
    expenditure = arr(expenditure)
    return PanelYear(
        n_beneficiaries=n,
        benchmark=np.broadcast_to(arr(benchmark), expenditure.shape),
        expenditure=expenditure,
        quality_score=np.broadcast_to(arr(quality), expenditure.shape),
        raw=expenditure if raw is None else arr(raw),
        capped=capped or {},
        expected=expected or {},
    )


# --- REACH Global PY2026: discount 4%, withhold 5%, bands 0-10% 100%, 10-35% 50%, ... --------
#
# The earned-back withhold W x QS is added back to the benchmark before the corridor:
#     S = B_adj - W + W x QS - X = B_adj - W (1 - QS) - X
# so it is shared at the corridor rate of the band it lands in (not paid outside it).

def reach(expenditure: float, quality: float = 0.0, preset: str = "reach-global-2026", year: int = 2026,
          **overrides) -> float:
    c = contract(preset, year, **overrides)
    out = float(c.settle(panel(expenditure=expenditure, quality=quality)).net[0])
    ref = corridors.reference_settlement(c.terms, B, expenditure, quality)
    assert out == pytest.approx(ref, rel=1e-12, abs=1e-6)
    return out


# B_adj = 96M; W = 5M; quality 0: S = 96M - 5M + 0 - X = 91M - X, the withhold is lost entirely
# (W x 0 = 0, so these are the same as before the withhold went inside the corridor).
@pytest.mark.parametrize(
    "expenditure, expected",
    [
        (91_000_000.0, 0.0),                                   # S = 0
        (81_400_000.0, 0.98 * 9_600_000.0),                    # S = 9.6M = 10% of B_adj: top of band 1, 100% kept
        (71_800_000.0, 0.98 * (9_600_000.0 + 0.5 * 9_600_000.0)),  # S = 19.2M = 20%: 9.6M + 50% x 9.6M
        (57_400_000.0, 0.98 * (9_600_000.0 + 0.5 * 24_000_000.0)),  # S = 33.6M = 35%: top of band 2
        (43_000_000.0, 0.98 * (9_600_000.0 + 12_000_000.0 + 0.25 * 14_400_000.0)),  # S = 48M = 50%: top of band 3
        (33_400_000.0, 0.98 * (9_600_000.0 + 12_000_000.0 + 3_600_000.0 + 0.10 * 9_600_000.0)),  # S = 57.6M = 60%
        (100_600_000.0, -9_600_000.0),                         # S = -9.6M: loss of 10%, no sequestration on losses
        (110_200_000.0, -(9_600_000.0 + 0.5 * 9_600_000.0)),   # S = -19.2M: loss of 20%, symmetric bands
    ],
)
def test_reach_global_2026_corridor_band_edges(expenditure, expected):
    assert reach(expenditure) == pytest.approx(expected, rel=1e-12)


def test_reach_withhold_is_earned_back_with_quality():
    # Global 2026, B_adj = 96M, W = 5M: S = 91M + 5M x QS - X. Inside the 100% band (|S| < 9.6M)
    # the earned withhold is kept in full, as a payment outside the corridor would be.
    # X = 91M, QS = 1: S = 91 + 5 - 91 = 5M -> 5M kept, less 2% sequestration
    assert reach(91_000_000.0, quality=1.0) == pytest.approx(0.98 * 5_000_000.0, rel=1e-12)
    # X = 91M, QS = 0.6: S = 91 + 3 - 91 = 3M
    assert reach(91_000_000.0, quality=0.6) == pytest.approx(0.98 * 3_000_000.0, rel=1e-12)
    # X = 96M (the discounted benchmark), QS = 0.8: S = 91 + 4 - 96 = -1M, a loss (not sequestered)
    assert reach(96_000_000.0, quality=0.8) == pytest.approx(-1_000_000.0, rel=1e-12)
    # the earned withhold can turn a loss into savings: X = 93M, QS = 0: S = -2M; QS = 1: S = +3M
    c = contract("reach-global-2026")
    lost = c.settle(panel(expenditure=93_000_000.0, quality=0.0))
    earned = c.settle(panel(expenditure=93_000_000.0, quality=1.0))
    assert float(lost.net[0]) == pytest.approx(-2_000_000.0, rel=1e-12)
    assert float(earned.net[0]) == pytest.approx(0.98 * 3_000_000.0, rel=1e-12)
    assert not lost.gain_shared[0] and earned.gain_shared[0]


def test_reach_professional_full_quality_withhold_has_no_effect():
    # Professional 2026: no discount, B_adj = 100M, W = 5M of B, bands 0-5% 50%, 5-10% 35%,
    # 10-15% 15%, >15% 5%. With QS = 1: S = 100M - 5M + 5M - X = 100M - X, as with no withhold.
    # X = 90M: S = 10M -> 50% x 5M + 35% x 5M = 4.25M, less 2% = 4.165M
    # (paying the withhold outside the corridor gave S = 5M -> 2.5M + 5M = 7.5M, x 0.98 = 7.35M)
    assert reach(90_000_000.0, quality=1.0, preset="reach-professional-2026") == pytest.approx(
        0.98 * 4_250_000.0, rel=1e-12)
    assert reach(90_000_000.0, quality=1.0, preset="reach-professional-2026", quality_withhold=0.0) == pytest.approx(
        0.98 * 4_250_000.0, rel=1e-12)
    # X = 104M: S = -4M -> -50% x 4M = -2M (no sequestration on losses)
    assert reach(104_000_000.0, quality=1.0, preset="reach-professional-2026") == pytest.approx(-2_000_000.0, rel=1e-12)
    # the same over many spending levels: equal to the contract with no withhold at all
    x = B * np.random.default_rng(3).uniform(0.5, 1.5, 500)
    with_w = contract("reach-professional-2026").settle(panel(expenditure=x, quality=1.0))
    without = build_contract("reach-professional-2026", {"quality_withhold": 0.0}, 2026).settle(
        panel(expenditure=x, quality=1.0))
    np.testing.assert_allclose(with_w.net, without.net, rtol=1e-12, atol=1e-6)
    np.testing.assert_array_equal(with_w.gain_shared, without.gain_shared)


def test_reach_professional_unearned_withhold_is_shared_at_the_corridor_rate():
    # Professional 2026, QS = 0.5: the unearned half of W, 2.5M, is lost to S:
    # S = 100M - 5M + 2.5M - X = 97.5M - X.
    # X = 97M: S = 0.5M -> 50% x 0.5M = 0.25M, x 0.98 = 0.245M
    # (QS = 1: S = 3M -> 1.5M x 0.98 = 1.47M; the 2.5M unearned costs 50% x 2.5M x 0.98 = 1.225M)
    # (withhold outside the corridor: S = -2M -> -1M + 2.5M = 1.5M, x 0.98 = 1.47M)
    half = reach(97_000_000.0, quality=0.5, preset="reach-professional-2026")
    full = reach(97_000_000.0, quality=1.0, preset="reach-professional-2026")
    assert half == pytest.approx(0.98 * 250_000.0, rel=1e-12)
    assert full == pytest.approx(0.98 * 1_500_000.0, rel=1e-12)
    assert full - half == pytest.approx(0.98 * 0.5 * 2_500_000.0, rel=1e-12)
    # on the loss side, unsequestered: X = 101M, QS = 0.5: S = -3.5M -> -1.75M; QS = 1: S = -1M -> -0.5M
    assert reach(101_000_000.0, quality=0.5, preset="reach-professional-2026") == pytest.approx(-1_750_000.0, rel=1e-12)
    assert reach(101_000_000.0, quality=1.0, preset="reach-professional-2026") == pytest.approx(-500_000.0, rel=1e-12)


def test_reach_professional_larger_withhold_never_pays_more():
    # Professional at QS = 0.8, X = 95M: S = 100M - 0.2 W - 95M = 5M - 0.2 W, all in the 50% band
    # W = 0:  S = 5M   -> 2.5M  x 0.98 = 2.45M
    # W = 2M: S = 4.6M -> 2.3M  x 0.98 = 2.254M
    # W = 5M: S = 4M   -> 2.0M  x 0.98 = 1.96M
    # (withhold outside the corridor, W = 5M: S = 0 -> 0 + 0.8 x 5M = 4M, x 0.98 = 3.92M: more than with W = 0)
    got = [reach(95_000_000.0, quality=0.8, preset="reach-professional-2026", quality_withhold=w)
           for w in (0.0, 0.02, 0.05)]
    assert got == pytest.approx([0.98 * 2_500_000.0, 0.98 * 2_300_000.0, 0.98 * 2_000_000.0], rel=1e-12)


def test_earned_withhold_moves_savings_across_a_band_edge():
    # Global 2026, X = 84M: S = 91M + 5M x QS - 84M = 7M + 5M x QS; band 1 ends at 10% of 96M = 9.6M
    # QS = 0:   S = 7M  -> 7M kept                     -> x 0.98 = 6.86M
    # QS = 0.6: S = 10M -> 9.6M + 50% x 0.4M = 9.8M    -> x 0.98 = 9.604M
    # QS = 1:   S = 12M -> 9.6M + 50% x 2.4M = 10.8M   -> x 0.98 = 10.584M
    # (outside the corridor QS = 1 gave 7M + 5M = 12M -> 11.76M: the 2.4M above the edge kept in full)
    assert reach(84_000_000.0, quality=0.0) == pytest.approx(0.98 * 7_000_000.0, rel=1e-12)
    assert reach(84_000_000.0, quality=0.6) == pytest.approx(0.98 * 9_800_000.0, rel=1e-12)
    assert reach(84_000_000.0, quality=1.0) == pytest.approx(0.98 * 10_800_000.0, rel=1e-12)
    # withhold on the discounted benchmark: W = 5% x 96M = 4.8M; QS = 0.5: S = 96 - 4.8 + 2.4 - 84
    # = 9.6M, exactly the top of band 1 -> 9.6M x 0.98 = 9.408M
    assert reach(84_000_000.0, quality=0.5, withhold_base="discounted_benchmark") == pytest.approx(
        0.98 * 9_600_000.0, rel=1e-12)
    # Professional 2026, X = 93M: S = 2M + 5M x QS; QS = 1: S = 7M -> 50% x 5M + 35% x 2M = 3.2M
    assert reach(93_000_000.0, quality=0.0, preset="reach-professional-2026") == pytest.approx(
        0.98 * 1_000_000.0, rel=1e-12)
    assert reach(93_000_000.0, quality=1.0, preset="reach-professional-2026") == pytest.approx(
        0.98 * 3_200_000.0, rel=1e-12)
    # LEAD Professional 2027 (W = 3M, 60% of savings; losses at a stated flat 50%, sequestered:
    # what is owed grows by 2%), X = 99M: S = 1M - 3M (1 - QS). QS = 0: S = -2M -> -1.02 x 1M;
    # QS = 0.5: S = -0.5M -> -1.02 x 0.25M; QS = 1: S = +1M -> 0.98 x 0.6M, across the zero edge
    lead = dict(preset="lead-professional-2027", year=2027, loss_bands=LEAD_LOSSES)
    assert reach(99_000_000.0, quality=0.0, **lead) == pytest.approx(-1.02 * 1_000_000.0, rel=1e-12)
    assert reach(99_000_000.0, quality=0.5, **lead) == pytest.approx(-1.02 * 250_000.0, rel=1e-12)
    assert reach(99_000_000.0, quality=1.0, **lead) == pytest.approx(0.98 * 600_000.0, rel=1e-12)


def test_reach_global_2023_first_band_is_25_percent():
    # PY2023: discount 3%, withhold 2%: B_adj 97M, W 2M; QS = 0: S = 97M - 2M + 0 - X = 95M - X.
    # X = 70.75M: S = 24.25M = 25% of 97M, the top of the 100% band -> 24.25M x 0.98
    assert reach(95_000_000.0 - 24_250_000.0, preset="reach-global-2023", year=2023) == pytest.approx(
        0.98 * 24_250_000.0, rel=1e-12)


def test_reach_professional_shares_half_in_the_first_band():
    # PY2024 Professional: no discount, W 2M; QS = 0: S = 100M - 2M + 0 - X = 98M - X.
    # X = 93M: S = 5M (5% of B): 50% x 5M = 2.5M
    assert reach(93_000_000.0, preset="reach-professional-2024", year=2024) == pytest.approx(
        0.98 * 2_500_000.0, rel=1e-12)
    # X = 88M: S = 10M: 2.5M + 35% x 5M = 4.25M
    assert reach(88_000_000.0, preset="reach-professional-2024", year=2024) == pytest.approx(
        0.98 * 4_250_000.0, rel=1e-12)


# LEAD Professional's loss bands beyond "50% of losses" are not published (R6): the preset
# refuses without them; these tests state a flat 50%.
LEAD_LOSSES = [[0.0, None, 0.5]]


def test_lead_professional_loss_bands_must_be_given():
    with pytest.raises(FieldProblem, match="loss_bands: preset 'lead-professional-2027' has no published value"):
        contract("lead-professional-2027", 2027)


def test_lead_professional_asymmetric_bands_and_sequestered_losses():
    # no discount, withhold 3%; QS = 0: S = 97M - X
    c = contract("lead-professional-2027", 2027, loss_bands=LEAD_LOSSES)
    gain = float(c.settle(panel(expenditure=87_000_000.0)).net[0])  # S = 10M = 10% of B: 60% x 10M = 6M
    # S = -10M: 50% = -5M; sequestration applies to losses too and increases what is owed (R6):
    # -5M x 1.02 = -5.1M (before issue 16 the code gave -5M x 0.98 = -4.9M, owing less)
    loss = float(c.settle(panel(expenditure=107_000_000.0)).net[0])
    assert gain == pytest.approx(0.98 * 6_000_000.0, rel=1e-12)
    assert loss == pytest.approx(-1.02 * 5_000_000.0, rel=1e-12)
    # QS = 1: S = 100M - X; X = 87M: S = 13M -> 60% x 10M + 35% x 3M = 7.05M
    full = float(c.settle(panel(expenditure=87_000_000.0, quality=1.0)).net[0])
    assert full == pytest.approx(0.98 * 7_050_000.0, rel=1e-12)


def test_corridor_vectorised_matches_scalar_reference():
    rng = np.random.default_rng(1)
    x = B * rng.uniform(0.3, 1.7, 2000)
    q = rng.uniform(0, 1, 2000)
    for preset, year, extra in (("reach-global-2026", 2026, {}), ("reach-professional-2025", 2025, {}),
                                ("lead-professional-2027", 2027, {"loss_bands": LEAD_LOSSES}),
                                ("lead-global-2027-higher-spending", 2027, {})):
        c = contract(preset, year, **extra)
        out = c.settle(panel(expenditure=x, quality=q)).net
        ref = [corridors.reference_settlement(c.terms, B, x[i], q[i]) for i in range(x.size)]
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-6)


# --- LEAD Global PY2027: sequestration on losses, the higher-spending administrative add-on ----
#
# R6 (one secondary source, Low): "2% sequestration applies to shared savings and losses"; a
# higher-spending ACO's benchmark is discounted 1.75% and it gets a 1.5% administrative add-on
# of the benchmark before discount, "paid separately from the benchmark" (outside the corridors).
# B = 60M before discount: B_adj = 60M x 0.9825 = 58.95M; add-on = 1.5% x 60M = 900,000.
# QS = 1 (the withhold is all earned back): S = B_adj - X.

def lead_global(expenditure: float, preset: str = "lead-global-2027-higher-spending") -> float:
    c = contract(preset, 2027)
    out = float(c.settle(panel(benchmark=60e6, expenditure=expenditure, quality=1.0)).net[0])
    assert out == pytest.approx(corridors.reference_settlement(c.terms, 60e6, expenditure, 1.0), rel=1e-12)
    return out


@pytest.mark.parametrize("gross, expected", [
    (3_000_000.0, 3_000_000.0 * 0.98 + 900_000.0),     # in corridor 1 (100%): 2,940,000 + add-on
    (-3_000_000.0, -3_000_000.0 * 1.02 + 900_000.0),   # a loss: owed 3,060,000 (not 2,940,000), less the add-on
    # 12M: corridor 1 ends at 15% x 58.95M = 8,842,500 (100%), then 50% x 3,157,500 = 1,578,750:
    # 10,421,250 x 0.98 = 10,212,825, plus the add-on
    (12_000_000.0, 10_421_250.0 * 0.98 + 900_000.0),
])
def test_lead_higher_spending_add_on_and_sequestration(gross, expected):
    assert lead_global(58_950_000.0 - gross) == pytest.approx(expected, rel=1e-12)


def test_lead_lower_spending_losses_are_increased_by_sequestration():
    # 3% discount: B_adj = 58.2M; X = 61.2M -> S = -3M -> owed 3M x 1.02 = 3.06M; no add-on.
    assert lead_global(61_200_000.0, preset="lead-global-2027") == pytest.approx(-3_060_000.0, rel=1e-12)
    # Just on the other side of zero: S = +1 -> 0.98; exactly zero: nothing.
    assert lead_global(58_199_999.0, preset="lead-global-2027") == pytest.approx(0.98, rel=1e-9)
    assert lead_global(58_200_000.0, preset="lead-global-2027") == 0.0


# --- risk-score caps of REACH and LEAD (`corridors.risk_ratio`) -------------------------------

def _ratio(preset: str, year: int, hcc: float, since_2019: float | None = None) -> float:
    from simsuite.contracts.base import RiskGrowth

    growth = RiskGrowth(agreement_start=year, hcc_ratio=np.array([hcc]), weights=np.array([1.0]),
                        ratio_since_2019=None if since_2019 is None else np.array([since_2019]))
    return float(corridors.risk_ratio(contract(preset, year).terms, growth)[0])


@pytest.mark.parametrize("hcc, expected", [
    # REACH: symmetric 3% from 2022 (CMS PY2026 quick reference): on a $60M benchmark
    (1.05, 1.03),     # 61.8M
    (1.0299, 1.0299), # just inside: followed
    (0.95, 0.97),     # 58.2M: the floor (the code before issue 16 followed the decline to 57.0M)
    (0.9701, 0.9701),
])
def test_reach_symmetric_risk_cap(hcc, expected):
    assert _ratio("reach-global-2025", 2025, hcc) == pytest.approx(expected, rel=1e-15)


def test_reach_2026_caps_growth_since_2019_after_the_symmetric_cap():
    # PY2026 (CMS quick reference; Milliman): after the 3% symmetric cap, growth 2019 -> 2026 is
    # capped at 3% too, with no floor. Reference ratio 1.02 (within 3%); 2019 -> 2026 growth 5%:
    # the 2019 score is 1.02/1.05 of the reference-year score, so the ceiling is 1.03 x 1.02/1.05.
    assert _ratio("reach-global-2026", 2026, 1.02, since_2019=1.05) == pytest.approx(1.03 * 1.02 / 1.05, rel=1e-15)
    # Growth since 2019 of exactly 3%: not cut; of 2%: the symmetric cap alone.
    assert _ratio("reach-global-2026", 2026, 1.02, since_2019=1.03) == pytest.approx(1.02, rel=1e-15)
    assert _ratio("reach-global-2026", 2026, 1.05, since_2019=1.02) == pytest.approx(1.03, rel=1e-15)
    # A decline is floored by the symmetric cap only (no floor on the 2019 cap).
    assert _ratio("reach-global-2026", 2026, 0.95, since_2019=0.95) == pytest.approx(0.97, rel=1e-15)


def test_lead_symmetric_risk_cap():
    # LEAD (R6, Low): 3% symmetric for aged/disabled and ESRD; 1.05 -> 1.03 (4% High Needs not modelled).
    assert _ratio("lead-global-2027", 2027, 1.05) == pytest.approx(1.03, rel=1e-15)
    assert _ratio("lead-global-2027", 2027, 0.90) == pytest.approx(0.97, rel=1e-15)


# --- capitation with specific and aggregate stop-loss ---------------------------------------

def test_capitation_specific_stop_loss_at_the_attachment_point():
    costs = np.array([0.0, 5_000.0, 150_000.0, 150_001.0, 400_000.0])
    terms = contract("capitation-full-risk", pmpm=1_000.0, revenue_to_benchmark=None,
                     specific_attachment=150_000.0, specific_coinsurance=0.10).terms
    # revenue 1,000 x 12 x 5 = 60,000; claims 0 + 5k + 150k + (150k + 0.1) + (150k + 25k)
    expected = 60_000.0 - (5_000.0 + 150_000.0 + 150_000.1 + 175_000.0)
    ref = capitation.reference_settlement(terms, 1.0, costs, beneficiaries=5)
    assert ref == pytest.approx(expected)
    spec = CapSpec(dollars=150_000.0)
    out = capitation.settle(terms, panel(benchmark=1.0, expenditure=costs.sum(), n=5, raw=costs.sum(),
                                         capped={spec: np.minimum(costs, 150_000.0).sum()}))
    assert out.net[0] == pytest.approx(expected)


def test_capitation_aggregate_stop_loss_and_premiums():
    terms = contract("capitation-full-risk", revenue_to_benchmark=1.0, aggregate_attachment=1.10,
                     aggregate_coinsurance=0.10, aggregate_premium=0.01).terms
    # claims 130M > 110M attachment: organisation pays 110M + 10% x 20M = 112M; premium 1M
    out = capitation.settle(terms, panel(expenditure=130e6, raw=130e6)).net[0]
    assert out == pytest.approx(100e6 - 112e6 - 1e6)
    # below the attachment nothing is recovered
    out = capitation.settle(terms, panel(expenditure=105e6, raw=105e6)).net[0]
    assert out == pytest.approx(100e6 - 105e6 - 1e6)
    assert capitation.reference_settlement(terms, B, np.array([130e6]), 1) == pytest.approx(100e6 - 112e6 - 1e6)


def test_capitation_premium_priced_from_expected_recoveries():
    spec = CapSpec(dollars=100_000.0)
    terms = contract("capitation-full-risk", revenue_to_benchmark=1.0, specific_attachment=100_000.0,
                     specific_coinsurance=0.10, specific_premium_loading=0.2).terms
    # expected raw 100M, expected retained 95M: recoveries 0.9 x 5M = 4.5M, premium 5.4M
    p = panel(expenditure=100e6, raw=100e6, capped={spec: np.array([96e6])}, expected={UNCAPPED: 100e6, spec: 95e6})
    out = capitation.settle(terms, p).net[0]
    assert out == pytest.approx(100e6 - (96e6 + 0.1 * 4e6) - 5.4e6)


def test_capitation_vectorised_matches_patient_level_reference():
    rng = np.random.default_rng(7)
    terms = contract("capitation-full-risk", pmpm=900.0, revenue_to_benchmark=None, specific_attachment=50_000.0,
                     specific_coinsurance=0.10, specific_premium_pmpm=5.0, aggregate_attachment=1.05,
                     aggregate_coinsurance=0.10, aggregate_premium=0.005).terms
    spec = CapSpec(dollars=50_000.0)
    for _ in range(200):
        costs = rng.lognormal(9.0, 1.5, 40) * (rng.random(40) > 0.1)
        bench = float(rng.uniform(0.5, 1.5) * costs.sum() + 1.0)
        p = panel(benchmark=bench, expenditure=costs.sum(), n=40, raw=costs.sum(),
                  capped={spec: np.minimum(costs, 50_000.0).sum()})
        assert capitation.settle(terms, p).net[0] == pytest.approx(
            capitation.reference_settlement(terms, bench, costs, 40), rel=1e-10, abs=1e-4)


# --- quality-based payments ---------------------------------------------------------------

@pytest.mark.parametrize(
    "preset, quality, expected_share",
    [
        ("medicaid-mco-quality-withhold", 0.0, -0.02),
        ("medicaid-mco-quality-withhold", 0.5, -0.01),
        ("medicaid-mco-quality-withhold", 1.0, 0.0),
        ("hospital-vbp", 0.0, -0.02),
        ("hospital-vbp", 0.5, 0.0),     # the middle of the exchange function earns the withhold back
        ("hospital-vbp", 1.0, 0.02),
        ("hospital-hrrp", 0.0, -0.03),  # the statutory maximum reduction
        ("hospital-hacrp", 0.2499, -0.01),
        ("hospital-hacrp", 0.25, 0.0),  # the step at the quartile
    ],
)
def test_withholds_and_hospital_programs(preset, quality, expected_share):
    c = contract(preset, 2026, base_dollars=50_000_000.0)
    out = c.settle(panel(quality=quality)).net[0]
    assert out == pytest.approx(expected_share * 50_000_000.0, abs=1e-6)
    assert quality_payments.reference_settlement(c.terms, B, quality, 10_000) == pytest.approx(out, abs=1e-6)


def test_pcmh_fee_and_bonus_ramp():
    c = contract("pcmh-hybrid", fixed_pmpm=4.0, bonus_pmpm=2.0)  # bonus from 0.5 to 0.9 quality
    mm = 12 * 10_000
    for q, bonus_share in ((0.5, 0.0), (0.7, 0.5), (0.9, 1.0), (0.95, 1.0), (0.3, 0.0)):
        assert c.settle(panel(quality=q)).net[0] == pytest.approx((4.0 + 2.0 * bonus_share) * mm)


def test_quality_payment_vectorised_matches_reference():
    rng = np.random.default_rng(3)
    q = rng.uniform(0, 1, 1000)
    c = build_custom_contract("quality_payment", {"base_to_benchmark": 0.1, "withhold": 0.03, "earn_back": 1.5,
                                                  "bonus": 0.01, "quality_threshold": 0.2, "quality_target": 0.8,
                                                  "fixed_pmpm": 1.0, "bonus_pmpm": 0.5}, "custom")
    out = c.settle(panel(expenditure=np.full(q.size, B), quality=q)).net
    np.testing.assert_allclose(out, [quality_payments.reference_settlement(c.terms, B, x, 10_000) for x in q], rtol=1e-12)


# --- Primary Care First --------------------------------------------------------------------

def test_pcf_performance_adjustment_bounds():
    c = contract("pcf-general", visits_per_beneficiary=3.0, ffs_displaced_pbpm=30.0)
    mm, n = 12 * 10_000, 10_000
    total = 28.0 * mm + 40.0 * 3.0 * n
    for savings_rate, adj in ((-0.10, -0.10), (-0.05, -0.10), (0.0, 0.20), (0.05, 0.50), (0.2, 0.50)):
        out = c.settle(panel(expenditure=B * (1 - savings_rate), quality=0.9)).net[0]
        assert out == pytest.approx(total * (1 + adj) - 30.0 * mm)
        ref = primary_care_first.reference_settlement(c.terms, B, B * (1 - savings_rate), 0.9, n)
        assert ref == pytest.approx(out)


def test_pcf_quality_gate_removes_positive_adjustment():
    c = contract("pcf-general", visits_per_beneficiary=3.0, ffs_displaced_pbpm=30.0, quality_gate=0.5)
    low, high = (c.settle(panel(expenditure=0.95 * B, quality=q)).net[0] for q in (0.4, 0.6))
    mm, n = 12 * 10_000, 10_000
    assert low == pytest.approx(28.0 * mm + 40.0 * 3.0 * n - 30.0 * mm)
    assert high == pytest.approx((28.0 * mm + 40.0 * 3.0 * n) * 1.5 - 30.0 * mm)


# --- presets and errors --------------------------------------------------------------------

def test_every_preset_term_has_a_source_and_confidence():
    tags = {"verified", "secondary", "inferred", "memory"}
    for preset in all_presets().values():
        for term in preset.terms:
            confidence, source = preset.sources[term]
            assert confidence in tags and source, (preset.id, term)


@pytest.mark.parametrize(
    "preset, year, overrides, loc, fragment",
    [
        ("reach-global-2026", 2026, {"discount": -0.01}, ("overrides", "discount"), "greater than or equal to 0"),
        ("reach-global-2026", 2026, {"bands": [[0, 0.1, 1.0], [0.08, None, 0.5]]}, ("overrides", "bands", 1),
         "band starting at 0.08 overlaps the band [0.0, 0.1)"),
        ("reach-global-2026", 2026, {"bands": [[0, 0.1, 1.0], [0.2, None, 0.5]]}, ("overrides", "bands", 1),
         "gap between 0.1 and 0.2"),
        ("capitation-full-risk", 2026, {}, ("overrides", "revenue_to_benchmark"), "no published value"),
        # No default coinsurance (audit D): stop-loss without it is refused, naming the term.
        ("capitation-full-risk", 2026, {"revenue_to_benchmark": 0.97, "specific_attachment": 150_000.0},
         ("overrides", "specific_coinsurance"), "required with specific_attachment"),
        ("capitation-full-risk", 2026, {"revenue_to_benchmark": 0.97, "aggregate_attachment": 1.1},
         ("overrides", "aggregate_coinsurance"), "required with aggregate_attachment"),
        ("pcmh-hybrid", 2026, {"fixed_pmpm": 4.0, "bonus_pmpm": 1.0, "quality_threshold": 0.9, "quality_target": 0.5},
         ("overrides", "quality_target"), "below quality_threshold"),
        ("reach-global-2026", 2025, {}, ("preset",), "covers performance years 2026, not 2025"),
    ],
)
def test_impossible_terms_are_refused_with_the_field_named(preset, year, overrides, loc, fragment):
    with pytest.raises(FieldProblem) as info:
        build_contract(preset, overrides, year)
    assert info.value.loc == loc
    assert fragment in info.value.problem


def test_unknown_family_for_a_custom_contract():
    with pytest.raises(FieldProblem, match="unknown contract family 'corridors' \\(did you mean 'corridor'\\?\\)"):
        build_custom_contract("corridors", {}, "x")


# --- preset files: read with libyaml's parser, the same values as the pure-Python one -------

def test_preset_files_read_the_same_with_the_fast_parser():
    from importlib import resources

    import yaml

    from simsuite.io.yamlfile import load_package_yaml

    files = [f for f in resources.files("simsuite.presets").iterdir() if f.name.endswith(".yaml")]
    files.append(resources.files("simsuite.data").joinpath("cost_model_defaults.yaml"))
    assert len(files) >= 10
    for f in files:
        text = f.read_text("utf-8")
        assert load_package_yaml(text) == yaml.safe_load(text), f.name
