"""MSSP rules outside the settlement formula, hand-computed at their edges.

Risk-score cap: 42 CFR 425.605(a)(1)(i)-(ii) (and the identical 425.610(a)(2)). Two
enrollment types carry weight: aged/non-dual 4,000 person-years x $11,000 = $44M and
disabled 1,000 x $16,000 = $16M; the benchmark is sum(base x capped ratio).
Repayment mechanism: 425.204(f)(4)(ii)-(iii). Low revenue: 425.20.
"""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts.mssp_rules import (
    capped_risk_ratio,
    is_low_revenue,
    recalculated_repayment_mechanism,
    repayment_mechanism_amount,
    symmetric_risk_ratio,
)

BASE = np.array([44e6, 16e6])  # weights and base benchmarks (aged/non-dual, disabled)


def benchmark(start: int, hcc: list[float], demographic: float) -> float:
    ratio = capped_risk_ratio(start, np.array(hcc), np.full(2, demographic), BASE)
    return float(np.sum(BASE * ratio))


@pytest.mark.parametrize("hcc, demographic, expected", [
    # H = (44 x 0.025 + 16 x 0.043) / 60 = 2.980% <= cap 3%: no cap, even for disabled at 4.3%.
    ([1.025, 1.043], 1.00, 45_100_000 + 16_688_000),
    # H = (1.1 + 0.7) / 60 = 3.000% exactly: "exceeds" is strict, no cap.
    ([1.025, 1.04375], 1.00, 45_100_000 + 16_700_000),
    # H = (1.144 + 0.688) / 60 = 3.053% > 3%: each type capped at 1.03.
    ([1.026, 1.043], 1.00, 44e6 * 1.026 + 16e6 * 1.03),
    # demographic +1%: cap 4%; H = 4.4% > 4%: both types at 1.04.
    ([1.040, 1.055], 1.01, 44e6 * 1.04 + 16e6 * 1.04),
    # demographic -1%: cap 2%; H = 2.1% > 2%: aged/non-dual cut to 1.02, disabled 1.01 kept.
    ([1.025, 1.010], 0.99, 44e6 * 1.02 + 16e6 * 1.01),
])
def test_risk_cap_from_2024_is_demographic_growth_plus_3_points_when_aggregate_growth_exceeds_it(
        hcc, demographic, expected):
    assert benchmark(2024, hcc, demographic) == pytest.approx(expected, rel=1e-12)


def test_risk_cap_before_2024_is_a_flat_3_percent_per_type():
    # 425.605(a)(1)(i): case 4's scores under a 2023 agreement: both capped at 1.03.
    assert benchmark(2023, [1.040, 1.055], 1.01) == pytest.approx(61_800_000.0, rel=1e-12)
    # A type below 3% keeps its own growth even if another is cut.
    assert benchmark(2019, [1.02, 1.10], 1.0) == pytest.approx(44e6 * 1.02 + 16e6 * 1.03, rel=1e-12)


def test_declines_are_not_capped():
    assert benchmark(2024, [0.95, 0.90], 1.0) == pytest.approx(44e6 * 0.95 + 16e6 * 0.90, rel=1e-12)
    assert benchmark(2022, [0.95, 0.90], 1.0) == pytest.approx(44e6 * 0.95 + 16e6 * 0.90, rel=1e-12)


def test_risk_cap_is_vectorised_over_simulations():
    hcc = np.array([[1.025, 1.043], [1.026, 1.043]])
    out = capped_risk_ratio(2025, hcc, np.ones((2, 2)), BASE)
    np.testing.assert_allclose(out, [[1.025, 1.043], [1.026, 1.03]], rtol=0, atol=1e-15)


def test_symmetric_cap_floors_declines_too():
    # REACH +-3%: 1.05 -> 1.03 ($61.8M on $60M), 0.95 -> 0.97 ($58.2M).
    np.testing.assert_allclose(60e6 * symmetric_risk_ratio(np.array([1.05, 0.95]), 0.03), [61.8e6, 58.2e6])


def test_low_revenue_is_below_35_percent_of_assigned_expenditure():
    assert is_low_revenue(20_999_999.0, 60e6)  # 34.99999%
    assert not is_low_revenue(21_000_000.0, 60e6)  # exactly 35%: high revenue ("at least 35 percent")


def test_repayment_mechanism_amount_is_the_lesser_of_its_two_limbs():
    # A: 0.5% of $60M = $300,000 vs 1% of $25M = $250,000 -> $250,000.
    assert repayment_mechanism_amount(60e6, 25e6) == pytest.approx(250_000.0)
    # B: 0.5% of $240M = $1,200,000 vs 1% of $150M = $1,500,000 -> $1,200,000.
    assert repayment_mechanism_amount(240e6, 150e6) == pytest.approx(1_200_000.0)


def test_repayment_mechanism_rises_only_when_at_least_a_million_higher():
    assert recalculated_repayment_mechanism(250_000.0, 1_249_999.0) == 250_000.0
    assert recalculated_repayment_mechanism(250_000.0, 1_250_000.0) == 1_250_000.0
    assert recalculated_repayment_mechanism(1_250_000.0, 900_000.0) == 1_250_000.0  # never required to fall
