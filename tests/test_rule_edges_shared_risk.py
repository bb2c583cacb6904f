"""Commercial shared risk (`simsuite.contracts.shared_risk`) at edges the older tests did not reach:
losses shared only above the MLR ("excess"), results of cents, loss bands, and the scalar
reference transcription on its own. Every expected value is computed by hand below."""

from __future__ import annotations

import numpy as np
import pytest

from simsuite.contracts.base import PanelYear
from simsuite.contracts.shared_risk import SharedRiskTerms, reference_settlement, settle, shared_result

TARGET = 62_500_000.0  # $500 PMPM x 125,000 member months


def risk(**terms) -> SharedRiskTerms:
    return SharedRiskTerms(**{"arrangement": "shared_risk", "savings_share": 0.5, "loss_share": 0.5, **terms})


def both(t: SharedRiskTerms, expenditure: float) -> tuple[float, float]:
    return float(shared_result(t, TARGET, TARGET - expenditure)), reference_settlement(t, TARGET, expenditure)


def test_excess_loss_is_shared_above_the_mlr_only():
    # Loss $2.5M (4 % of target) >= MLR 2 % ($1.25M): excess = 2.5M - 1.25M = $1.25M; 50 % = $625,000 owed.
    t = risk(mlr=0.02, threshold_sharing="excess")
    for got in both(t, TARGET + 2_500_000.0):
        assert got == pytest.approx(-625_000.0, rel=1e-12)
    # First-dollar sharing of the same loss: 50 % x $2.5M = $1.25M.
    for got in both(risk(mlr=0.02), TARGET + 2_500_000.0):
        assert got == pytest.approx(-1_250_000.0, rel=1e-12)


def test_excess_loss_exactly_at_the_mlr_is_zero():
    # Loss $1.25M = MLR x target: qualifies, but the excess over the MLR is $0.
    t = risk(mlr=0.02, threshold_sharing="excess")
    assert both(t, TARGET + 1_250_000.0) == (0.0, 0.0)


def test_a_result_of_fifty_cents_is_shared():
    # No thresholds: savings of $0.50 pay 50 % = $0.25; a loss of $0.50 costs $0.25.
    t = risk()
    assert both(t, TARGET - 0.5) == (0.25, 0.25)
    assert both(t, TARGET + 0.5) == (-0.25, -0.25)


def test_loss_bands():
    # Loss bands: 0-5 % of target at 50 %, above 5 % at 80 %. Loss $5M = 8 % of $62.5M:
    # 0.5 x 3,125,000 + 0.8 x (5,000,000 - 3,125,000) = 1,562,500 + 1,500,000 = $3,062,500 owed.
    t = risk(loss_share=None, loss_bands=[(0.0, 0.05, 0.5), (0.05, None, 0.8)])
    for got in both(t, TARGET + 5_000_000.0):
        assert got == pytest.approx(-3_062_500.0, rel=1e-12)


def test_excess_savings_with_bands_start_at_the_msr():
    # MSR 1 % ($625,000), excess sharing, savings bands 0-2 % at 40 %, above at 60 %.
    # Savings $2.5M: excess = $1,875,000; first band up to 2 % x 62.5M = $1.25M at 40 % = $500,000,
    # the rest $625,000 at 60 % = $375,000; total $875,000.
    t = risk(msr=0.01, threshold_sharing="excess", savings_share=None,
             savings_bands=[(0.0, 0.02, 0.4), (0.02, None, 0.6)])
    for got in both(t, TARGET - 2_500_000.0):
        assert got == pytest.approx(875_000.0, rel=1e-12)


def test_settle_flags_a_gain_of_cents_as_shared():
    # net $0.25 > 0 is a shared gain; a break-even year (net 0) is not.
    x = np.array([TARGET - 0.5, TARGET])
    panel = PanelYear(n_beneficiaries=10_000, benchmark=np.full(2, TARGET), expenditure=x,
                      quality_score=np.zeros(2), raw=x, capped={}, expected={})
    out = settle(risk(), panel)
    assert out.net.tolist() == [0.25, 0.0]
    assert out.gain_shared.tolist() == [True, False]


def test_shared_result_broadcasts_a_scalar_target_over_results_and_back():
    # `shared_result` is vectorised in either argument. 50 % flat sharing, no thresholds.
    t = risk()
    # One target ($62.5M), three results: +$1M -> +$500,000; -$2M -> -$1M; 0 -> 0.
    got = shared_result(t, TARGET, np.array([1_000_000.0, -2_000_000.0, 0.0]))
    assert got.tolist() == [500_000.0, -1_000_000.0, 0.0]
    # One result (+$1M), two targets: 50 % of $1M either way, $500,000 each.
    got = shared_result(t, np.array([TARGET, 2 * TARGET]), 1_000_000.0)
    assert got.tolist() == [500_000.0, 500_000.0]
    # Upside only (no loss bands): a loss of $2M costs nothing, savings of $1M pay $500,000.
    got = shared_result(risk(arrangement="upside_only", loss_share=None), TARGET, np.array([-2_000_000.0, 1e6]))
    assert got.tolist() == [0.0, 500_000.0]
