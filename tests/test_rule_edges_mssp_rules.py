"""MSSP's risk-score cap (42 CFR 425.605(a)(1)) on several simulations at once, by enrollment type:
the aggregate growth and the cap are per simulation (the last axis is the type)."""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts.mssp_rules import capped_risk_ratio


def test_cap_is_decided_per_simulation_over_its_types():
    # 2 simulations x 3 types, weights 1, 1, 2 (total 4); demographic ratios 1.0 => cap = 0 + 3 % = 0.03.
    # Sim 1: HCC ratios 1.10, 1.02, 1.06: growth = (1.10 + 1.02 + 2 x 1.06) / 4 - 1 = 4.24 / 4 - 1 = 0.06 > 0.03
    #        -> each type's ratio capped at 1.03: 1.03, 1.02, 1.03.
    # Sim 2: HCC ratios 1.01, 1.05, 1.00: growth = (1.01 + 1.05 + 2.00) / 4 - 1 = 0.015 <= 0.03 -> unchanged.
    h = np.array([[1.10, 1.02, 1.06], [1.01, 1.05, 1.00]])
    d = np.ones((2, 3))
    w = np.array([1.0, 1.0, 2.0])
    got = capped_risk_ratio(2024, h, d, w)
    np.testing.assert_allclose(got, [[1.03, 1.02, 1.03], [1.01, 1.05, 1.00]], rtol=1e-12)


def test_demographic_growth_raises_the_cap_per_simulation():
    # Sim 1 demographic ratios 1.04 (all types): cap = 0.04 + 0.03 = 0.07 > growth 0.06: unchanged.
    # Sim 2 demographic ratios 0.98: cap = -0.02 + 0.03 = 0.01 < growth 0.015: capped at 1.01.
    h = np.array([[1.10, 1.02, 1.06], [1.01, 1.05, 1.00]])
    d = np.array([[1.04] * 3, [0.98] * 3])
    got = capped_risk_ratio(2024, h, d, np.array([1.0, 1.0, 2.0]))
    np.testing.assert_allclose(got, [[1.10, 1.02, 1.06], [1.01, 1.01, 1.00]], rtol=1e-12)


def test_agreements_before_2024_cap_each_ratio_at_three_percent():
    got = capped_risk_ratio(2019, np.array([1.10, 0.90]), np.ones(2), np.ones(2))
    assert got.tolist() == pytest.approx([1.03, 0.90], rel=1e-12)


def test_growth_exactly_at_the_cap_is_not_capped():
    # Two equally weighted types; demographic ratios 1.47: cap = 0.47 + 0.03 = 0.50 (chosen so that
    # both sides are exact in binary). HCC ratios 1.75 and 1.25: aggregate growth (1.75 + 1.25) / 2 - 1
    # = 0.50, equal to the cap, not above it: the ratios stand (capped, 1.75 would become 1.50).
    w = np.array([1.0, 1.0])
    got = capped_risk_ratio(2024, np.array([1.75, 1.25]), np.array([1.47, 1.47]), w)
    assert got.tolist() == [1.75, 1.25]
    # A hair above (1.75 -> 1.7500001): capped per type at 1.50.
    got = capped_risk_ratio(2024, np.array([1.7500001, 1.25]), np.array([1.47, 1.47]), w)
    assert got.tolist() == [pytest.approx(1.5, rel=1e-12), 1.25]
