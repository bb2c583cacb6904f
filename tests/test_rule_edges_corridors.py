"""Risk corridors (`simsuite.contracts.corridors`) at edges the older tests did not reach:
sequestration of the gross result (the R6 LEAD workbook's basis) on gains and on losses, a
zero result, and the scalar reference on its own. Hand arithmetic in comments.

Terms used: no discount, no withhold, bands 0-5 % at 100 %, 5-10 % at 50 %, above 10 % at 0 %
(of the benchmark B = $100M), sequestration 2 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts.base import PanelYear
from simsuite.contracts.corridors import CorridorTerms, reference_settlement, settle

B = 100_000_000.0
BANDS = [(0.0, 0.05, 1.0), (0.05, 0.10, 0.5), (0.10, None, 0.0)]


def both(terms: CorridorTerms, expenditure: float) -> tuple[float, float]:
    x = np.array([expenditure])
    panel = PanelYear(n_beneficiaries=10_000, benchmark=np.array([B]), expenditure=x,
                      quality_score=np.array([1.0]), raw=x, capped={}, expected={})
    return float(settle(terms, panel).net[0]), reference_settlement(terms, B, expenditure, 1.0)


def test_gross_sequestration_on_a_gain():
    # Savings $8M: kept 5M + 0.5 x 3M = $6.5M; 2 % of the gross $8M = $160,000 off: $6,340,000.
    t = CorridorTerms(bands=BANDS, sequestration=0.02, sequestration_base="gross")
    for got in both(t, B - 8_000_000.0):
        assert got == pytest.approx(6_340_000.0, rel=1e-12)


def test_gross_sequestration_on_a_loss_when_losses_are_sequestered():
    # Loss $8M: owed $6.5M, plus 2 % of the gross $8M: $6,660,000 owed.
    t = CorridorTerms(bands=BANDS, sequestration=0.02, sequestration_base="gross", sequestration_on_losses=True)
    for got in both(t, B + 8_000_000.0):
        assert got == pytest.approx(-6_660_000.0, rel=1e-12)
    # Not sequestered: $6.5M owed.
    t = CorridorTerms(bands=BANDS, sequestration=0.02, sequestration_base="gross")
    for got in both(t, B + 8_000_000.0):
        assert got == pytest.approx(-6_500_000.0, rel=1e-12)


def test_shared_sequestration_on_a_gain_and_a_loss():
    # Gain: 0.98 x $6.5M = $6,370,000. Loss with losses sequestered: 1.02 x $6.5M = $6,630,000 owed.
    t = CorridorTerms(bands=BANDS, sequestration=0.02, sequestration_on_losses=True)
    for got in both(t, B - 8_000_000.0):
        assert got == pytest.approx(6_370_000.0, rel=1e-12)
    for got in both(t, B + 8_000_000.0):
        assert got == pytest.approx(-6_630_000.0, rel=1e-12)


def test_a_result_of_fifty_cents():
    # $0.50 saved: kept in full at 100 %, less 2 % gross = $0.49; $0.50 lost: owed $0.51.
    t = CorridorTerms(bands=BANDS, sequestration=0.02, sequestration_base="gross", sequestration_on_losses=True)
    for got in both(t, B - 0.5):
        assert got == pytest.approx(0.49, rel=1e-9)
    for got in both(t, B + 0.5):
        assert got == pytest.approx(-0.51, rel=1e-9)


def test_separate_loss_bands_apply_to_losses_only():
    # Loss bands 0-100 % at 40 %: a $8M loss owes $3.2M; an $8M gain still keeps $6.5M.
    t = CorridorTerms(bands=BANDS, loss_bands=[(0.0, None, 0.4)])
    for got in both(t, B + 8_000_000.0):
        assert got == pytest.approx(-3_200_000.0, rel=1e-12)
    for got in both(t, B - 8_000_000.0):
        assert got == pytest.approx(6_500_000.0, rel=1e-12)


def test_check_asks_for_the_2019_risk_score_only_when_the_cap_needs_it():
    from types import SimpleNamespace

    from simsuite.contracts.corridors import check
    from simsuite.errors import FieldProblem

    capped = CorridorTerms(bands=BANDS, risk_cap_since_2019=0.03)
    with pytest.raises(FieldProblem) as exc:
        check(capped, SimpleNamespace(benchmark_risk_score=True, risk_score_2019=None))
    assert exc.value.loc == ("assumptions", "risk_score_2019")
    assert "since 2019 at 3% after its symmetric cap (ACO REACH PY2026)" in exc.value.problem
    assert "give the panel's 2019 risk score, overall or by enrollment type" in exc.value.problem
    # Given the 2019 score, or not following risk at all, or without the cap: accepted.
    check(capped, SimpleNamespace(benchmark_risk_score=True, risk_score_2019=1.05))
    check(capped, SimpleNamespace(benchmark_risk_score=False, risk_score_2019=None))
    check(CorridorTerms(bands=BANDS), SimpleNamespace(benchmark_risk_score=True, risk_score_2019=None))


@pytest.mark.parametrize("bands, loc, problem", [
    ([], ("bands",), "needs at least one band [low, high, share]"),
    ([(0.01, None, 1.0)], ("bands", 0), "the first band must start at 0 (starts at 0.01)"),
    ([(0.0, None, 1.0), (0.05, None, 0.5)], ("bands", 0), "only the last band may be open-ended (high: null)"),
    ([(0.0, 0.05, 1.0), (0.05, 0.05, 0.5), (0.05, None, 0.0)], ("bands", 1), "band [0.05, 0.05) is empty or reversed"),
    ([(0.0, 0.05, 1.0), (0.04, None, 0.5)], ("bands", 1), "band starting at 0.04 overlaps the band [0.0, 0.05)"),
    ([(0.0, 0.05, 1.0), (0.06, None, 0.5)], ("bands", 1), "gap between 0.05 and 0.06: bands must be contiguous"),
    ([(0.0, 0.05, 1.0), (0.05, 0.10, 0.5)], ("bands", 1), "the last band must be open-ended (high: null)"),
])
def test_band_refusals_name_the_band_and_the_problem(bands, loc, problem):
    from simsuite.contracts.corridors import check_bands
    from simsuite.errors import FieldProblem

    with pytest.raises(FieldProblem) as exc:
        check_bands(bands, "bands")
    assert exc.value.loc == loc and exc.value.problem == problem


def test_gain_flag_is_a_positive_result_after_the_withhold():
    # s = B - X: $0.50 saved is a shared gain; exactly B is not.
    t = CorridorTerms(bands=BANDS)
    x = np.array([B - 0.5, B])
    panel = PanelYear(n_beneficiaries=10_000, benchmark=np.full(2, B), expenditure=x,
                      quality_score=np.ones(2), raw=x, capped={}, expected={})
    assert settle(t, panel).gain_shared.tolist() == [True, False]


def test_a_zero_result_on_the_gross_basis_settles_to_zero_dollars():
    # Expenditure = B: S = 0, nothing kept or owed, and 2 % of |S| = $0 off: exactly $0.00, a float.
    t = CorridorTerms(bands=BANDS, sequestration=0.02, sequestration_base="gross", sequestration_on_losses=True)
    x = np.array([B, B - 8_000_000.0])
    panel = PanelYear(n_beneficiaries=10_000, benchmark=np.array([B, B]), expenditure=x,
                      quality_score=np.array([1.0, 1.0]), raw=x, capped={}, expected={})
    out = settle(t, panel)
    # second simulation as in test_gross_sequestration_on_a_gain: $6,340,000
    assert out.net.dtype == np.float64
    assert out.net.tolist() == [0.0, pytest.approx(6_340_000.0, rel=1e-12)]
    assert out.gain_shared.tolist() == [False, True]
    assert reference_settlement(t, B, B, 1.0) == 0.0
