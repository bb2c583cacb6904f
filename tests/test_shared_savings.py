"""MSSP settlement rules against hand-computed cases at their edges.

Every expected number below is worked out by hand from 42 CFR 425.604/.605/.610 as
summarised in shared/reference/payment-rules.md §1 (sequestration 2% before the cap).
"""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts import build_contract
from simsuite.contracts.shared_savings import reference_settlement, settle_shared_savings
from simsuite.contracts.tables import msr_by_beneficiaries

B = 100_000_000.0  # benchmark used in the hand-computed cases, dollars


def terms(preset: str, **overrides):
    return build_contract(preset, overrides, 2026).terms


def net(preset: str, expenditure: float, n: int = 5000, q: float = 0.9, standard: str = "met",
        revenue: float | None = None, low_revenue: bool = False, **overrides) -> float:
    """Vectorised settlement of one case, checked against the scalar reference."""
    t = terms(preset, **overrides)
    out = settle_shared_savings(t, np.array([B]), np.array([expenditure]), n, q, standard,
                                participant_revenue=revenue, low_revenue=low_revenue)
    ref = reference_settlement(t, B, expenditure, n, q, standard, revenue, low_revenue)
    assert out.net[0] == pytest.approx(ref, abs=1e-6)
    return float(out.net[0])


# --- minimum savings rate table -----------------------------------------------------------

@pytest.mark.parametrize(
    "n, msr",
    [
        (5_000, 0.039), (5_999, 0.036), (6_000, 0.036), (7_500, 0.0330),  # CMS's own example: 7,500 -> 3.3%
        (10_000, 0.030), (14_999, 0.027), (20_000, 0.025), (49_999, 0.022),
        (59_999, 0.020), (60_000, 0.020), (250_000, 0.020),
        (605, 0.1146), (1_708, 0.0739), (3_029, 0.0498),  # PUF-published MSRs of small ACOs (2 dp)
    ],
)
def test_msr_table(n, msr):
    assert msr_by_beneficiaries(n) == pytest.approx(msr, abs=5e-5)


def test_msr_table_refuses_panels_below_its_first_band():
    with pytest.raises(ValueError, match="starts at 500"):
        msr_by_beneficiaries(499)


# --- one-sided: BASIC A (40%, MSR 3.9% at 5,000, cap 10%) ----------------------------------

def test_basic_a_just_below_the_msr_pays_nothing():
    assert net("mssp-basic-a", B - 3_899_999) == 0.0


def test_basic_a_at_the_msr_shares_from_the_first_dollar():
    # 3.9% savings = MSR: 0.98 x 0.40 x 3,900,000
    assert net("mssp-basic-a", B - 3_900_000) == pytest.approx(1_528_800.0)


def test_basic_a_above_the_msr():
    assert net("mssp-basic-a", B - 4_000_000) == pytest.approx(1_568_000.0)


def test_basic_a_savings_cap_binds_at_ten_percent_of_benchmark():
    # 0.98 x 0.40 x 30M = 11.76M > 10M cap
    assert net("mssp-basic-a", B - 30_000_000) == pytest.approx(10_000_000.0)
    # just below the cap: G = 25.5M -> 0.98 x 0.40 x 25.5M = 9.996M
    assert net("mssp-basic-a", B - 25_500_000) == pytest.approx(9_996_000.0)


def test_basic_a_never_owes_losses():
    assert net("mssp-basic-a", B * 1.30) == 0.0


def test_sliding_scale_alternative_quality_standard():
    # alternative QPS only: 40% x QS 0.8 = 32%: 0.98 x 0.32 x 4M
    assert net("mssp-basic-a", B - 4_000_000, q=0.8, standard="alternative") == pytest.approx(1_254_400.0)
    assert net("mssp-basic-a", B - 4_000_000, q=0.8, standard="not_met") == 0.0


def test_low_revenue_aco_below_msr_gets_half_the_rate():
    # 2% savings < 3.9% MSR, low revenue, 5,000 beneficiaries: 0.98 x 0.20 x 2M
    assert net("mssp-basic-a", B - 2_000_000, low_revenue=True) == pytest.approx(392_000.0)
    assert net("mssp-basic-a", B - 2_000_000, low_revenue=False) == 0.0
    # the rule needs at least 5,000 beneficiaries (4,999 has MSR 3.9% from the lower band)
    assert net("mssp-basic-a", B - 2_000_000, n=4_999, low_revenue=True) == 0.0
    # ENHANCED has no such rule (and shares from 0% anyway with its default election)
    assert net("mssp-enhanced", B - 2_000_000, low_revenue=True) == pytest.approx(0.98 * 0.75 * 2_000_000)


# --- two-sided: BASIC E (50%, elected 2% MSR/MLR, loss rate 30%, cap min(8% rev, 4% B)) ------

def test_basic_e_savings_at_and_below_the_elected_msr():
    assert net("mssp-basic-e", B - 2_000_000) == pytest.approx(0.98 * 0.50 * 2_000_000)
    assert net("mssp-basic-e", B - 1_999_999) == 0.0


def test_basic_e_losses_at_and_inside_the_mlr():
    assert net("mssp-basic-e", B + 2_000_000) == pytest.approx(-600_000.0)  # 30% of 2M, first dollar
    assert net("mssp-basic-e", B + 1_999_999) == 0.0


def test_basic_e_loss_rate_does_not_depend_on_quality():
    assert net("mssp-basic-e", B + 5_000_000, q=0.3) == pytest.approx(-1_500_000.0)


@pytest.mark.parametrize(
    "revenue, owed",
    [
        (None, 4_000_000.0),           # revenue unknown: 4% of benchmark
        (30_000_000.0, 2_400_000.0),   # 8% of revenue is the lesser
        (100_000_000.0, 4_000_000.0),  # 4% of benchmark is the lesser
    ],
)
def test_basic_e_loss_caps(revenue, owed):
    # uncapped: 30% x 20M = 6M
    assert net("mssp-basic-e", B + 20_000_000, revenue=revenue) == pytest.approx(-owed)


def test_basic_e_loss_just_under_the_benchmark_cap():
    # 30% x 13.3M = 3.99M < 4M cap
    assert net("mssp-basic-e", B + 13_300_000) == pytest.approx(-3_990_000.0)


@pytest.mark.parametrize("preset, rev_cap, bmk_cap", [("mssp-basic-c", 0.02, 0.01), ("mssp-basic-d", 0.04, 0.02)])
def test_basic_c_and_d_loss_caps(preset, rev_cap, bmk_cap):
    assert net(preset, B + 50_000_000) == pytest.approx(-bmk_cap * B)
    assert net(preset, B + 50_000_000, revenue=10_000_000.0) == pytest.approx(-rev_cap * 10_000_000.0)


def test_variable_msr_election_is_symmetric():
    # 5,000 beneficiaries: MSR = MLR = 3.9%
    assert net("mssp-basic-e", B + 3_899_999, msr="variable") == 0.0
    assert net("mssp-basic-e", B + 3_900_000, msr="variable") == pytest.approx(-0.30 * 3_900_000)


# --- ENHANCED (75%, 0% MSR/MLR, cap 20%, loss rate 1 - 0.75 QS in [40%, 75%], cap 15% B) ------

@pytest.mark.parametrize(
    "q, standard, rate",
    [
        (0.9, "met", 0.40),          # 1 - 0.675 = 0.325 -> floor 0.40
        (0.8, "met", 0.40),          # exactly at the floor: 1 - 0.6 = 0.40
        (0.6, "met", 0.55),          # inside the band
        (1 / 3, "met", 0.75),        # exactly at the ceiling: 1 - 0.25 = 0.75
        (0.2, "met", 0.75),          # 0.85 -> ceiling 0.75
        (0.9, "not_met", 0.75),      # quality failed: 75%
        (0.6, "alternative", 0.55),  # alternative standard: formula applies
    ],
)
def test_enhanced_loss_rate_floor_and_ceiling(q, standard, rate):
    assert net("mssp-enhanced", B + 5_000_000, q=q, standard=standard) == pytest.approx(-rate * 5_000_000)


def test_enhanced_loss_cap_is_fifteen_percent_of_benchmark():
    assert net("mssp-enhanced", B + 30_000_000) == pytest.approx(-12_000_000.0)  # 40% x 30M, below cap
    assert net("mssp-enhanced", B + 50_000_000) == pytest.approx(-15_000_000.0)  # 40% x 50M = 20M -> 15M
    # revenue does not limit ENHANCED losses
    assert net("mssp-enhanced", B + 50_000_000, revenue=1_000_000.0) == pytest.approx(-15_000_000.0)


def test_enhanced_savings_from_the_first_dollar_and_cap():
    assert net("mssp-enhanced", B - 1.0) == pytest.approx(0.98 * 0.75)
    assert net("mssp-enhanced", B) == 0.0
    assert net("mssp-enhanced", B - 30_000_000) == pytest.approx(20_000_000.0)  # 22.05M -> 20M cap


# --- quality-scaled (pre-2021) and gate (2021-2023) modes ---------------------------------

def test_scaled_and_gate_quality_modes():
    assert net("mssp-basic-a", B - 5_000_000, q=0.8, quality_sharing="scaled") == pytest.approx(0.98 * 0.32 * 5e6)
    assert net("mssp-basic-a", B - 5_000_000, q=0.8, quality_sharing="gate") == pytest.approx(0.98 * 0.40 * 5e6)
    assert net("mssp-basic-a", B - 5_000_000, q=0.8, standard="alternative", quality_sharing="gate") == 0.0


# --- vectorised settlement == scalar reference on random inputs ---------------------------

@pytest.mark.parametrize("preset", ["mssp-basic-a", "mssp-basic-c", "mssp-basic-e", "mssp-enhanced"])
def test_vectorised_settlement_matches_the_scalar_reference(preset):
    rng = np.random.default_rng(2024)
    n = 3000
    bench = rng.uniform(2e7, 5e8, n)
    # savings rates concentrated around the MSR/MLR and caps, where the rules have edges
    rate = rng.choice([-0.3, -0.05, -0.02, 0.0, 0.02, 0.039, 0.1, 0.3], n) + rng.normal(0, 0.01, n)
    exp = bench * (1 - rate)
    benes = rng.integers(500, 80_000, n)
    q = rng.uniform(0, 1, n)
    standard = rng.choice(["met", "alternative", "not_met"], n)
    revenue = np.where(rng.random(n) < 0.5, np.nan, bench * rng.uniform(0.05, 1.5, n))
    low = rng.random(n) < 0.5
    for msr in ("variable", 0.0, 0.02):
        t = terms(preset, msr=msr)
        out = settle_shared_savings(t, bench, exp, benes, q, standard, revenue, low)
        ref = [reference_settlement(t, bench[i], exp[i], int(benes[i]), q[i], str(standard[i]),
                                    None if np.isnan(revenue[i]) else revenue[i], bool(low[i]))
               for i in range(n)]
        np.testing.assert_allclose(out.net, ref, rtol=1e-12, atol=1e-6)
        assert np.count_nonzero(out.net) > n // 10  # the cases are not all trivial zeros
