"""Risk measures of a discrete (weighted) distribution, as the exact method uses them
(`simsuite.results.risk.summarize_weighted` and its parts), on a five-point distribution
computed by hand.

Net results (dollars to the provider) and probabilities, given unsorted and with weights
three times the probabilities (they are normalised):

    net     200   50   -20   -50   -100
    prob   0.50 0.40  0.06  0.02   0.02

Loss = -net, sorted: -200, -50, 20, 50, 100 with CDF 0.50, 0.90, 0.96, 0.98, 1.00.
    mean     = 100 + 20 - 1.2 - 1 - 2                                  = 115.8
    E[net^2] = 20,000 + 1,000 + 24 + 50 + 200                          = 21,274
    sd       = sqrt(21,274 - 115.8^2) = sqrt(7,864.36)
    P(loss)  = 0.06 + 0.02 + 0.02                                      = 0.10
    VaR95    = smallest loss with CDF >= 0.95                          = 20
    TVaR95   = (50 x 0.02 + 100 x 0.02 + 20 x (0.96 - 0.95)) / 0.05    = 3.2 / 0.05 = 64
    VaR99    = 100;  TVaR99 = (0 + 100 x (1.00 - 0.99)) / 0.01         = 100
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsuite.results.risk import summarize_weighted, weighted_tail_value_at_risk, weighted_value_at_risk

NET = np.array([-20.0, 200.0, -100.0, 50.0, -50.0])
PROB = np.array([0.06, 0.50, 0.02, 0.40, 0.02])
WEIGHTS = 3.0 * PROB


def test_summary_by_hand():
    s = summarize_weighted(NET, NET > 0, WEIGHTS)
    assert s["mean"] == pytest.approx(115.8, rel=1e-12)
    assert s["sd"] == pytest.approx(math.sqrt(7_864.36), rel=1e-12)
    assert s["p_loss"] == pytest.approx(0.10, rel=1e-12)
    assert s["p_shared_savings"] == pytest.approx(0.90, rel=1e-12)
    assert s["VaR95"] == 20.0 and s["VaR99"] == 100.0
    assert s["TVaR95"] == pytest.approx(64.0, rel=1e-12)
    assert s["TVaR99"] == pytest.approx(100.0, rel=1e-12)


def test_shared_savings_probability_reads_the_flag_not_the_sign():
    # Only the 200 point pays shared savings: P = 0.50.
    s = summarize_weighted(NET, NET > 100, WEIGHTS)
    assert s["p_shared_savings"] == pytest.approx(0.50, rel=1e-12)


def test_var_and_tvar_functions_by_hand():
    loss = -NET
    assert weighted_value_at_risk(loss, WEIGHTS, 0.95) == 20.0
    assert weighted_value_at_risk(loss, WEIGHTS, 0.99) == 100.0
    # Level 0.4: the CDF passes 0.4 at -200 (0.50); level 0.6 at -50 (0.90).
    assert weighted_value_at_risk(loss, WEIGHTS, 0.4) == -200.0
    assert weighted_value_at_risk(loss, WEIGHTS, 0.6) == -50.0
    assert weighted_tail_value_at_risk(loss, WEIGHTS, 0.95) == pytest.approx(64.0, rel=1e-12)
    assert weighted_tail_value_at_risk(loss, WEIGHTS, 0.99) == pytest.approx(100.0, rel=1e-12)
    # Level 0.9: VaR = -50 (CDF 0.90); tail = (20 x 0.06 + 50 x 0.02 + 100 x 0.02 + (-50) x 0) / 0.1 = 42.
    assert weighted_tail_value_at_risk(loss, WEIGHTS, 0.9) == pytest.approx(42.0, rel=1e-9)


def test_a_sure_result_has_no_spread_and_no_minus_zero():
    s = summarize_weighted(np.array([0.0, 0.0]), np.array([False, False]), np.array([1.0, 1.0]))
    assert s["sd"] == 0.0 and s["p_loss"] == 0.0
    assert all(math.copysign(1.0, v) == 1.0 for v in s.values())


@pytest.mark.parametrize("loss, weights, fragment", [
    (np.zeros(3), np.ones(2), "differ in shape"),
    (np.zeros(2), np.array([1.0, -0.5]), "non-negative"),
    (np.zeros(2), np.zeros(2), "positive sum"),
])
def test_bad_weights_are_refused(loss, weights, fragment):
    with pytest.raises(ValueError, match=fragment):
        weighted_value_at_risk(loss, weights, 0.95)


def test_a_point_of_zero_weight_is_allowed_and_never_the_quantile():
    # Losses 10, 20, 1,000 with probabilities 0.5, 0.5, 0: CDF 0.5, 1.0, 1.0. VaR95 = 20 (the
    # impossible $1,000 never counts); TVaR95 = (0 + 20 x (1.0 - 0.95)) / 0.05 = 20.
    loss, w = np.array([10.0, 20.0, 1_000.0]), np.array([0.5, 0.5, 0.0])
    assert weighted_value_at_risk(loss, w, 0.95) == 20.0
    assert weighted_tail_value_at_risk(loss, w, 0.95) == pytest.approx(20.0, rel=1e-12)
    s = summarize_weighted(-loss, np.array([False, False, True]), w)
    assert s["VaR95"] == 20.0 and s["mean"] == -15.0 and s["p_shared_savings"] == 0.0
