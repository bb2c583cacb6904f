"""REACH/LEAD corridors, capitation with stop-loss, Primary Care First and quality-based
payments: hand-computed cases at every edge, vectorised vs scalar reference, and errors."""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts import capitation, corridors, primary_care_first, quality_payments
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelYear
from simsuite.contracts.presets import all_presets, build_contract, build_custom_contract
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

def reach(expenditure: float, quality: float = 0.0, preset: str = "reach-global-2026", year: int = 2026) -> float:
    c = contract(preset, year)
    out = float(c.settle(panel(expenditure=expenditure, quality=quality)).net[0])
    ref = corridors.reference_settlement(c.terms, B, expenditure, quality)
    assert out == pytest.approx(ref, rel=1e-12, abs=1e-6)
    return out


# B_adj = 96M; W = 5M; S = 91M - X. Quality 0: the withhold is lost entirely.
@pytest.mark.parametrize(
    "expenditure, expected",
    [
        (91_000_000.0, 0.0),                                   # S = 0
        (81_400_000.0, 0.98 * 9_600_000.0),                    # S = 10% of B_adj: top of band 1, 100% kept
        (71_800_000.0, 0.98 * (9_600_000.0 + 0.5 * 9_600_000.0)),  # S = 20%: half of band 2 at 50%
        (57_400_000.0, 0.98 * (9_600_000.0 + 0.5 * 24_000_000.0)),  # S = 35%: top of band 2
        (43_000_000.0, 0.98 * (9_600_000.0 + 12_000_000.0 + 0.25 * 14_400_000.0)),  # S = 50%: top of band 3
        (33_400_000.0, 0.98 * (9_600_000.0 + 12_000_000.0 + 3_600_000.0 + 0.10 * 9_600_000.0)),  # S = 60%
        (100_600_000.0, -9_600_000.0),                         # loss of 10% of B_adj, no sequestration on losses
        (110_200_000.0, -(9_600_000.0 + 0.5 * 9_600_000.0)),   # loss of 20%: symmetric bands
    ],
)
def test_reach_global_2026_corridor_band_edges(expenditure, expected):
    assert reach(expenditure) == pytest.approx(expected, rel=1e-12)


def test_reach_withhold_is_earned_back_with_quality():
    # S = 0 at X = 91M; full quality earns the whole 5M withhold back (less sequestration)
    assert reach(91_000_000.0, quality=1.0) == pytest.approx(0.98 * 5_000_000.0)
    assert reach(91_000_000.0, quality=0.6) == pytest.approx(0.98 * 3_000_000.0)
    # spending exactly at the discounted benchmark with 80% quality: -5M + 4M
    assert reach(96_000_000.0, quality=0.8) == pytest.approx(-1_000_000.0)


def test_reach_global_2023_first_band_is_25_percent():
    # PY2023: discount 3%, withhold 2%: B_adj 97M, W 2M, S = 95M - X; S = 25% of 97M = 24.25M
    assert reach(95_000_000.0 - 24_250_000.0, preset="reach-global-2023", year=2023) == pytest.approx(0.98 * 24_250_000.0)


def test_reach_professional_shares_half_in_the_first_band():
    # PY2024 Professional: no discount, W 2M: S = 98M - X. S = 5M (5% of B): 50% kept
    assert reach(93_000_000.0, preset="reach-professional-2024", year=2024) == pytest.approx(0.98 * 2_500_000.0)
    # S = 10M: 2.5M + 35% x 5M
    assert reach(88_000_000.0, preset="reach-professional-2024", year=2024) == pytest.approx(0.98 * 4_250_000.0)


def test_lead_professional_asymmetric_bands_and_sequestered_losses():
    c = contract("lead-professional-2027", 2027)  # no discount, withhold 3%: S = 97M - X
    gain = float(c.settle(panel(expenditure=87_000_000.0)).net[0])  # S = 10M = 10% of B: 60%
    loss = float(c.settle(panel(expenditure=107_000_000.0)).net[0])  # S = -10M: 50%, sequestered
    assert gain == pytest.approx(0.98 * 6_000_000.0)
    assert loss == pytest.approx(-0.98 * 5_000_000.0)


def test_corridor_vectorised_matches_scalar_reference():
    rng = np.random.default_rng(1)
    x = B * rng.uniform(0.3, 1.7, 2000)
    q = rng.uniform(0, 1, 2000)
    for preset, year in (("reach-global-2026", 2026), ("reach-professional-2025", 2025), ("lead-professional-2027", 2027)):
        c = contract(preset, year)
        out = c.settle(panel(expenditure=x, quality=q)).net
        ref = [corridors.reference_settlement(c.terms, B, x[i], q[i]) for i in range(x.size)]
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-6)


# --- capitation with specific and aggregate stop-loss ---------------------------------------

def test_capitation_specific_stop_loss_at_the_attachment_point():
    costs = np.array([0.0, 5_000.0, 150_000.0, 150_001.0, 400_000.0])
    terms = contract("capitation-full-risk", pmpm=1_000.0, revenue_to_benchmark=None,
                     specific_attachment=150_000.0).terms
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
                     aggregate_premium=0.01).terms
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
                     specific_premium_loading=0.2).terms
    # expected raw 100M, expected retained 95M: recoveries 0.9 x 5M = 4.5M, premium 5.4M
    p = panel(expenditure=100e6, raw=100e6, capped={spec: np.array([96e6])}, expected={UNCAPPED: 100e6, spec: 95e6})
    out = capitation.settle(terms, p).net[0]
    assert out == pytest.approx(100e6 - (96e6 + 0.1 * 4e6) - 5.4e6)


def test_capitation_vectorised_matches_patient_level_reference():
    rng = np.random.default_rng(7)
    terms = contract("capitation-full-risk", pmpm=900.0, revenue_to_benchmark=None, specific_attachment=50_000.0,
                     specific_premium_pmpm=5.0, aggregate_attachment=1.05, aggregate_premium=0.005).terms
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
