"""The MSSP benchmark over an agreement period, hand-computed at the rules' edges.

Each test cites the paragraph of 42 CFR part 425 it implements; the figures are the
worked examples of the project's rules note (checked by hand: the arithmetic is in the
comments).
"""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts.mssp_benchmark import (
    acpt_guardrail,
    adjustment_category,
    benchmark_adjustment,
    benchmark_year_weights,
    glide_levels,
    historical_benchmark,
    prior_savings_adjustment,
    regional_adjustment,
    regional_weight,
    trend_to_by3,
    two_way_growth,
    update_factor,
)


def test_benchmark_year_weights_first_and_later_agreements():
    # 425.652(a)(7): 10/30/60 in the first agreement; (c)(2): equal weights afterwards.
    np.testing.assert_array_equal(benchmark_year_weights(1), [0.1, 0.3, 0.6])
    np.testing.assert_allclose(benchmark_year_weights(2), [1 / 3] * 3, rtol=0, atol=1e-16)
    np.testing.assert_allclose(benchmark_year_weights(5), [1 / 3] * 3, rtol=0, atol=1e-16)
    with pytest.raises(ValueError):
        benchmark_year_weights(0)


def test_trend_to_by3_and_historical_benchmark():
    # 425.652(a)(5): wN = 0.2; Nat3/Nat1 = 1.08, Nat3/Nat2 = 1.04; Reg3/Reg1 = 1.10, Reg3/Reg2 = 1.05.
    # T1 = 0.2 x 1.08 + 0.8 x 1.10 = 1.096; T2 = 0.2 x 1.04 + 0.8 x 1.05 = 1.048; T3 = 1.
    nat = np.array([100 / 1.08, 100 / 1.04, 100.0])
    reg = np.array([100 / 1.10, 100 / 1.05, 100.0])
    t = trend_to_by3(0.2, nat, reg)
    np.testing.assert_allclose(t, [1.096, 1.048, 1.0], rtol=1e-14)
    x = np.array([[10_000.0], [10_500.0], [11_000.0]])  # one type, BY1..BY3
    # First agreement: 0.1 x 10,960 + 0.3 x 11,004 + 0.6 x 11,000 = 1,096 + 3,301.2 + 6,600 = 10,997.20.
    assert historical_benchmark(x, t[:, None], benchmark_year_weights(1))[0] == pytest.approx(10_997.20, rel=1e-13)
    # Renewal: (10,960 + 11,004 + 11,000) / 3 = 10,988.00.
    assert historical_benchmark(x, t[:, None], benchmark_year_weights(2))[0] == pytest.approx(10_988.00, rel=1e-13)


def test_historical_benchmark_is_vectorised_over_simulations_and_types():
    x = np.array([[[10_000.0, 14_000.0]] * 3, [[9_000.0, 13_000.0]] * 3])  # (S=2, 3, E=2)
    hb = historical_benchmark(x, np.ones((2, 3, 1)), benchmark_year_weights(1))
    np.testing.assert_allclose(hb, [[10_000.0, 14_000.0], [9_000.0, 13_000.0]], rtol=1e-15)


def test_regional_weight_by_times_adjusted_and_direction():
    # 425.656(d)(1)-(4): lower-spending 35/50/50/50%, higher-spending 15/25/35/50%.
    assert [float(regional_weight(k, True)) for k in (1, 2, 3, 4, 7)] == [0.35, 0.5, 0.5, 0.5, 0.5]
    assert [float(regional_weight(k, False)) for k in (1, 2, 3, 4, 7)] == [0.15, 0.25, 0.35, 0.5, 0.5]


def test_positive_regional_adjustment_first_time_below_and_at_the_cap():
    # 425.656(c): gap +500, lower-spending, 35% -> +175; cap 5% x national 12,000 = 600 not binding.
    ra = regional_adjustment(np.array([11_000.0]), np.array([11_500.0]), np.array([12_000.0]),
                             np.array([1.0]), 1, 0.0)
    assert ra.per_type[0] == pytest.approx(175.0) and bool(ra.lower_spending)
    # gap +2,000: 35% = 700 > 600 -> capped at 600 (c)(3)(i).
    ra = regional_adjustment(np.array([11_000.0]), np.array([13_000.0]), np.array([12_000.0]),
                             np.array([1.0]), 1, 0.0)
    assert ra.per_type[0] == pytest.approx(600.0)


def test_negative_regional_adjustment_capped_and_offset():
    # Second adjustment, higher-spending: gap -1,000 x 25% = -250, cap -1.5% x 12,000 = -180,
    # offset 0.2 duals + (1.10 - 1) = 0.30: -180 x 0.70 = -126 (425.656(c)(3)(ii), (c)(4)).
    ra = regional_adjustment(np.array([11_000.0]), np.array([10_000.0]), np.array([12_000.0]),
                             np.array([1.0]), 2, 0.30)
    assert ra.per_type[0] == pytest.approx(-126.0) and not bool(ra.lower_spending)
    # ... and a negative single value with no PSA eligibility gives no adjustment (425.652(a)(8)(iii)).
    assert benchmark_adjustment(ra, np.array(0.0), np.array(False))[0] == 0.0


def test_classification_uses_by3_shares_and_a_negative_type_survives_inside_a_positive_total():
    # Aged/non-dual gap +500 (share 0.9), disabled gap -2,000 (share 0.1): 450 - 200 = +250 -> lower-spending.
    # Aged/non-dual 35% x 500 = +175; disabled 35% x -2,000 = -700, capped at -1.5% x 13,000 = -195,
    # offset 0.30 -> -136.50. Single value 0.9 x 175 + 0.1 x -136.5 = 157.5 - 13.65 = 143.85 > 0.
    ra = regional_adjustment(np.array([11_000.0, 16_000.0]), np.array([11_500.0, 14_000.0]),
                             np.array([12_000.0, 13_000.0]), np.array([0.9, 0.1]), 1, 0.30)
    np.testing.assert_allclose(ra.per_type, [175.0, -136.5], rtol=1e-13)
    assert float(ra.single_value) == pytest.approx(143.85, rel=1e-13)
    np.testing.assert_allclose(benchmark_adjustment(ra, np.array(0.0), np.array(False)), [175.0, -136.5])


@pytest.mark.parametrize("savings, proration, psa, eligible", [
    ((200.0, -100.0, 0.0), 1.0, 100.0 / 3 / 2, True),    # average 33.33 > 0 -> 0.5 x 33.33 = 16.67
    ((400.0, 500.0, 600.0), 1.0, 250.0, True),           # 0.5 x 500
    ((400.0, 500.0, 600.0), 0.8, 200.0, True),           # 0.5 x 0.8 x 500
    ((-300.0, 100.0, 100.0), 1.0, 0.0, False),           # average -33.33 <= 0: not eligible
    ((-100.0, 0.0, 100.0), 1.0, 0.0, False),             # average exactly 0: not eligible ((b)(3)(i))
    ((1_500.0, 1_500.0, 1_500.0), 1.0, 600.0, True),     # 750 capped at 5% x 12,000 = 600
])
def test_prior_savings_adjustment(savings, proration, psa, eligible):
    # 425.658(b)(2)-(3), (c)(1); national per capita in BY3 12,000.
    value, ok = prior_savings_adjustment(np.array(savings), 12_000.0, proration)
    assert float(value) == pytest.approx(psa, rel=1e-13) and bool(ok) == eligible


def test_choice_between_regional_and_prior_savings():
    # 425.652(a)(8)(iv)-(v): PSA-eligible, RA +200 vs PSA 150 -> RA (by type); RA -30 -> PSA 150 (flat).
    def ra_of(value):
        return regional_adjustment(np.array([11_000.0]), np.array([11_000.0 + value / 0.35]),
                                   np.array([100_000.0]), np.array([1.0]), 1, 0.0)

    assert benchmark_adjustment(ra_of(200.0), np.array(150.0), np.array(True))[0] == pytest.approx(200.0)
    assert benchmark_adjustment(ra_of(149.0), np.array(150.0), np.array(True))[0] == pytest.approx(150.0)
    negative = regional_adjustment(np.array([11_000.0]), np.array([10_800.0]), np.array([100_000.0]),
                                   np.array([1.0]), 1, 0.0)
    assert benchmark_adjustment(negative, np.array(150.0), np.array(True))[0] == pytest.approx(150.0)
    # Not eligible and RA exactly 0: no adjustment ("negative or zero").
    zero = regional_adjustment(np.array([11_000.0]), np.array([11_000.0]), np.array([12_000.0]), np.array([1.0]), 1, 0.0)
    assert benchmark_adjustment(zero, np.array(0.0), np.array(False))[0] == 0.0


def test_adjustment_category_names_the_pufs_categories():
    got = adjustment_category(np.array([200.0, -30.0, -30.0, 100.0, 0.0]), np.array([150.0, 150.0, 0.0, 150.0, 0.0]),
                              np.array([True, True, False, True, False]))
    assert list(got) == ["Regional Adjustment", "Prior Savings Adjustment", "No Adjustment",
                         "Prior Savings Adjustment", "No Adjustment"]


def test_update_factor_two_thirds_blend_one_third_acpt():
    # 425.652(b)(2), (b)(4): TW = 0.11 x 1.05 + 0.89 x 1.06 = 1.0589; U = 2/3 x 1.0589 + 1/3 x 1.04 = 1.0526.
    tw = two_way_growth(0.11, 1.05, 1.06)
    assert float(tw) == pytest.approx(1.0589, rel=1e-14)
    assert float(update_factor(tw, 1.04)) == pytest.approx((2 * 1.0589 + 1.04) / 3, rel=1e-14)
    assert 11_000 * float(update_factor(tw, 1.04)) == pytest.approx(11_578.60, abs=0.01)
    # PY2024's ACPT weight of 1/6: 5/6 x 1.090 + 1/6 x 1.049 = 1.08317.
    assert float(update_factor(1.090, 1.049, 1 / 6)) == pytest.approx(1.0831667, rel=1e-7)


def test_acpt_guardrail_cases():
    # 425.652(b)(5). (i) B = 10,000, X = 10,300 (3% above, MLR 0): B' = 10,200 -> settle on B'.
    g = acpt_guardrail(np.array([10_000.0]), np.array([10_200.0]), np.array([10_300.0]), 0.0)
    assert g.benchmark[0] == 10_200.0 and bool(g.applied[0]) and not bool(g.neither[0])
    # (ii) B' = 10,400 > X: neither savings nor losses.
    g = acpt_guardrail(np.array([10_000.0]), np.array([10_400.0]), np.array([10_300.0]), 0.0)
    assert bool(g.neither[0])
    # Not triggered: MLR 2%, X only 1.5% above B.
    g = acpt_guardrail(np.array([10_000.0]), np.array([10_400.0]), np.array([10_150.0]), 0.02)
    assert g.benchmark[0] == 10_000.0 and not bool(g.applied[0]) and not bool(g.neither[0])
    # Exactly at the MLR triggers ("by at least the MLR"): X = 10,200 with MLR 2%, B' = 10,100.
    g = acpt_guardrail(np.array([10_000.0]), np.array([10_100.0]), np.array([10_200.0]), 0.02)
    assert bool(g.applied[0]) and g.benchmark[0] == 10_100.0
    # A two-way benchmark below the three-way one does not help: B stays.
    g = acpt_guardrail(np.array([10_000.0]), np.array([9_900.0]), np.array([10_300.0]), 0.0)
    assert g.benchmark[0] == 10_000.0 and not bool(g.applied[0])
    # One-sided years: MLR infinite, never triggered.
    g = acpt_guardrail(np.array([10_000.0]), np.array([10_400.0]), np.array([10_300.0]), np.inf)
    assert not bool(g.applied[0]) and not bool(g.neither[0])


def test_glide_levels():
    # 425.600(a)(4)(i)(C)(2)-(3): automatic advance; election to remain in A.
    assert glide_levels("A", 5) == ["A", "B", "C", "D", "E"]
    assert glide_levels("A", 5, stay_in_a=True) == ["A"] * 5
    assert glide_levels("B", 5) == ["B", "C", "D", "E", "E"]
    assert glide_levels("E", 5) == ["E"] * 5
    # At most 2 more one-sided years allowed: then the first two-sided level, C, and on [INF].
    assert glide_levels("A", 5, stay_in_a=True, one_sided_limit=2) == ["A", "A", "C", "D", "E"]
    assert glide_levels("B", 5, one_sided_limit=0) == ["C", "D", "E", "E", "E"]
    assert glide_levels("A", 5, one_sided_limit=1) == ["A", "C", "D", "E", "E"]
    with pytest.raises(ValueError):
        glide_levels("B", 5, stay_in_a=True)


def test_adjustment_category_reproduces_every_2024_starter_in_the_puf():
    """425.652(a)(8) on CMS's own numbers: for every ACO whose agreement started on 1 Jan 2024
    (the only ones with a computed PriorSavAdj), the published RegAdj and PriorSavAdj (dollars
    per capita; PSA-eligible iff a positive number) give the published FinalAdjCat."""
    import csv
    from pathlib import Path

    path = Path(__file__).parent / "data" / "mssp" / "mssp_puf_py2024.csv"
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if r["Current_Start_Date"] == "1/1/2024"]
    assert len(rows) >= 100
    ra = np.array([float(r["RegAdj"]) for r in rows])
    psa = np.array([float(r["PriorSavAdj"]) if r["PriorSavAdj"] not in ("", "-") else 0.0 for r in rows])
    got = adjustment_category(ra, psa, psa > 0)
    published = np.array([r["FinalAdjCat"] for r in rows])
    assert (got == published).all(), [(r["ACO_ID"], g) for r, g, p in zip(rows, got, published, strict=True) if g != p]
    # Every category occurs, so each branch of the rule is checked against CMS.
    assert set(published) == {"Regional Adjustment", "Prior Savings Adjustment", "No Adjustment"}
