"""Risk measures of a discrete (weighted) distribution, as the exact method uses them
(`simsuite.results.risk.summarize_weighted` and its parts), on a five-point distribution
computed by hand; and, at the end, the Monte Carlo standard errors of `summarize` (VaR by
Siddiqui's sparsity with the Hall-Sheather bandwidth, the jump at an atom, TVaR, mean, sd,
probabilities) on small samples worked by hand.

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


# --- Monte Carlo standard errors of `summarize`, by hand ----------------------------------------
# Hall-Sheather bandwidth h = n^(-1/3) z^(2/3) (1.5 phi(q)^2 / (2 q^2 + 1))^(1/3), z = 1.959964,
# q = Phi^-1(p), evaluated here with the standard library (not with simsuite):
def _hall_sheather(n: int, p: float) -> float:
    from statistics import NormalDist

    q = NormalDist().inv_cdf(p)
    phi = math.exp(-0.5 * q * q) / math.sqrt(2.0 * math.pi)
    return n ** (-1 / 3) * 1.959963984540054 ** (2 / 3) * (1.5 * phi**2 / (2 * q * q + 1)) ** (1 / 3)


def test_var_error_from_the_spacing_of_order_statistics():
    from simsuite.results.risk import var_standard_error

    # Losses i^3, i = 0..999 (all distinct: no atom). p = 0.5: h = 0.097156, so the window is
    # ranks ceil(1000 x 0.402844) - 1 = 402 to ceil(1000 x 0.597156) - 1 = 597 (0-based);
    # sparsity = (597^3 - 402^3) / (195 / 1000); SE = sqrt(0.5 x 0.5 / 1000) x sparsity = 11,985,143.0.
    loss = np.arange(1000.0) ** 3
    assert _hall_sheather(1000, 0.5) == pytest.approx(0.097156, abs=1e-6)
    expected = math.sqrt(0.25 / 1000) * (597**3 - 402**3) / (195 / 1000)
    assert expected == pytest.approx(11_985_143.0, abs=0.1)
    assert var_standard_error(loss, 0.5) == pytest.approx(expected, rel=1e-12)
    # p = 0.95: h = 0.021224, window ranks ceil(928.776) - 1 = 928 to ceil(971.224) - 1 = 971.
    assert _hall_sheather(1000, 0.95) == pytest.approx(0.021224, abs=1e-6)
    expected = math.sqrt(0.95 * 0.05 / 1000) * (971**3 - 928**3) / (43 / 1000)
    assert var_standard_error(loss, 0.95) == pytest.approx(expected, rel=1e-12)
    # Fewer than two simulations: no error estimate.
    assert var_standard_error(np.array([5.0]), 0.95) == 0.0


def test_var_error_next_to_an_atom_of_no_loss():
    from simsuite.results.risk import _jump_standard_error, var_standard_error

    # 92 simulations without loss (an atom at 0), then losses 1..8; n = 100, p = 0.95.
    loss = np.concatenate([np.zeros(92), np.arange(1.0, 9.0)])
    # h = 0.045725: window ranks ceil(90.427) - 1 = 90 to ceil(99.573) - 1 = 99. VaR = rank 94 = 3,
    # not on the atom; rank 90 is on it, so the window's low end moves to the atom's edge, rank 92 (=1):
    # sparsity = (8 - 1) / (7 / 100) = 100; SE = sqrt(0.95 x 0.05 / 100) x 100 = sqrt(4.75) = 2.17945.
    assert _hall_sheather(100, 0.95) == pytest.approx(0.045725, abs=1e-6)
    # The jump: rank sd sqrt(100 x 0.95 x 0.05) = sqrt(4.75) = 2.17945, centre 95; the window of
    # +-1.96 sd is ranks floor(90.73) = 90 to ceil(99.27) = 99. The atom's last rank is 91 (0-based),
    # the jump 0 -> 1 sits 92 - 95 = 3 ranks away = 1.37649 sd: q = Phi(-1.37649) = 0.084334,
    # SE = 1 x sqrt(q (1 - q)) = 0.277889 (smaller, so the sparsity SE stands).
    q = 0.5 * math.erfc(3 / math.sqrt(4.75) / math.sqrt(2))
    assert q == pytest.approx(0.084334, abs=1e-6)
    assert _jump_standard_error(loss, 0.95) == pytest.approx(math.sqrt(q * (1 - q)), rel=1e-12)
    assert var_standard_error(loss, 0.95) == pytest.approx(math.sqrt(4.75), rel=1e-12)


def test_var_error_next_to_a_loss_cap():
    from simsuite.results.risk import _jump_standard_error, var_standard_error

    # Losses 1..8, then 92 at a cap of 20 (an atom); n = 100, p = 0.05 (same h = 0.045725).
    loss = np.concatenate([np.arange(1.0, 9.0), np.full(92, 20.0)])
    # Window ranks ceil(0.4275) - 1 = 0 to ceil(9.5725) - 1 = 9; VaR = rank 4 = 5, not on the atom;
    # rank 9 is on it, so the high end moves back to rank 7 (= 8): sparsity = (8 - 1) / (7 / 100) = 100,
    # SE = sqrt(0.05 x 0.95 / 100) x 100 = 2.17945. The jump 8 -> 20 after rank 7 sits 8 - 5 = 3 ranks
    # from the centre 5 (1.37649 sd): 12 x sqrt(q (1 - q)) = 12 x 0.277889 = 3.33466, the larger.
    q = 0.5 * math.erfc(3 / math.sqrt(4.75) / math.sqrt(2))
    assert _jump_standard_error(loss, 0.05) == pytest.approx(12 * math.sqrt(q * (1 - q)), rel=1e-12)
    assert var_standard_error(loss, 0.05) == pytest.approx(12 * math.sqrt(q * (1 - q)), rel=1e-12)


def test_var_error_on_the_jump_between_two_atoms():
    from simsuite.results.risk import var_standard_error

    # 50 simulations at 0, 50 at 5; p = 0.5: VaR = rank 49 = 0, on an atom (no pull-back).
    # h = 0.209316: ranks ceil(29.068) - 1 = 29 to ceil(70.932) - 1 = 70; sparsity 5 / (41 / 100) = 12.195,
    # SE 0.05 x 12.195 = 0.6098. Jump: sd sqrt(25) = 5, centre 50, the edge after rank 49 is 50 - 50 = 0 sd
    # away: q = 1/2, 5 x sqrt(1/4) = 2.5, the larger.
    loss = np.concatenate([np.zeros(50), np.full(50, 5.0)])
    assert var_standard_error(loss, 0.5) == 2.5


def test_tvar_and_moment_errors_by_hand():
    from simsuite.results.risk import summarize, tvar_standard_error

    # Losses 1..20, p = 0.9: VaR = rank 18 = 18; TVaR = (19 + 20 + 18 x (18 - 18)) / (20 x 0.1) = 19.5.
    # Tail {18, 19, 20}: variance 2/3; SE = sqrt((2/3 + 0.9 x 1.5^2) / (20 x 0.1)) = sqrt(1.345833) = 1.160101.
    loss = np.arange(1.0, 21.0)
    expected = math.sqrt((2 / 3 + 0.9 * 1.5**2) / (20 * 0.1))
    assert expected == pytest.approx(1.160101, abs=1e-6)
    assert tvar_standard_error(loss, 0.9, 18.0, 19.5) == pytest.approx(expected, rel=1e-12)
    # summarize on net -2, -1, 0, 1, 2 (shared savings in the last two): mean 0, sd sqrt(10/4) = 1.581139,
    # SE of the mean sqrt(2.5 / 5) = sqrt(0.5); fourth moment 34/5 = 6.8, SE of sd
    # sqrt((6.8 - 2.5^2) / (4 x 2.5 x 5)) = sqrt(0.011); P(loss) = 0.4 with SE sqrt(0.4 x 0.6 / 5),
    # P(shared savings) likewise. VaR95 = VaR99 = 2 (the largest loss), TVaR = 2 with SE 0.
    v, e = summarize(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), np.array([False, False, False, True, True]))
    assert v["sd"] == pytest.approx(math.sqrt(2.5), rel=1e-12)
    assert e["mean"] == pytest.approx(math.sqrt(0.5), rel=1e-12)
    assert e["sd"] == pytest.approx(math.sqrt(0.011), rel=1e-12)
    assert e["p_loss"] == pytest.approx(math.sqrt(0.048), rel=1e-12)
    assert e["p_shared_savings"] == pytest.approx(math.sqrt(0.048), rel=1e-12)
    assert v["p_loss"] == v["p_shared_savings"] == 0.4
    assert v["VaR95"] == v["VaR99"] == 2.0
    # (2 x (5 - 4.75) / 0.25: 4.75 = 5 x 0.95 is inexact in binary, hence approx)
    assert (v["TVaR95"], v["TVaR99"]) == (pytest.approx(2.0, rel=1e-12), pytest.approx(2.0, rel=1e-12))
    assert (e["TVaR95"], e["TVaR99"]) == (pytest.approx(0.0, abs=1e-12), pytest.approx(0.0, abs=1e-12))


def test_standard_errors_of_tiny_samples():
    from simsuite.results.risk import summarize, tvar_standard_error, var_standard_error

    # Two simulations, losses 0 and 1, p = 0.5: h = 0.771 (n = 2), the window runs from rank
    # ceil(2 x -0.271) - 1 = -1, kept at 0, to ceil(2 x 1.271) - 1 = 2, kept at 1; no atom.
    # Sparsity (1 - 0) / (1 / 2) = 2; SE = sqrt(0.25 / 2) x 2 = sqrt(0.5).
    assert _hall_sheather(2, 0.5) == pytest.approx(0.771, abs=1e-3)
    assert var_standard_error(np.array([0.0, 1.0]), 0.5) == pytest.approx(math.sqrt(0.5), rel=1e-12)
    # One simulation: sd and every error 0 (no spread can be estimated), not NaN.
    v, e = summarize(np.array([5.0]), np.array([True]))
    assert v["sd"] == 0.0 and e["mean"] == 0.0 and e["sd"] == 0.0
    # Two simulations 1 and 3: sd (ddof 1) = sqrt(2).
    v, _ = summarize(np.array([1.0, 3.0]), np.array([False, False]))
    assert v["sd"] == pytest.approx(math.sqrt(2.0), rel=1e-12)
    # Losses 1..10, p = 0.9: VaR = 9, TVaR = 10; tail {9, 10} has variance 0.25:
    # SE = sqrt((0.25 + 0.9 x 1^2) / (10 x 0.1)) = sqrt(1.15).
    assert tvar_standard_error(np.arange(1.0, 11.0), 0.9, 9.0, 10.0) == pytest.approx(math.sqrt(1.15), rel=1e-12)


def test_moment_errors_do_not_depend_on_the_mean_and_scale_with_the_spread():
    from simsuite.results.risk import summarize

    # Net -1, 0, 1, 2, 3: mean 1, deviations as in the test above: sd sqrt(2.5), SE of the sd sqrt(0.011);
    # one loss in five: P(loss) 0.2 with SE sqrt(0.2 x 0.8 / 5) = sqrt(0.032).
    v, e = summarize(np.array([-1.0, 0.0, 1.0, 2.0, 3.0]), np.array([False, False, False, True, True]))
    assert v["mean"] == 1.0 and v["p_loss"] == 0.2
    assert e["sd"] == pytest.approx(math.sqrt(0.011), rel=1e-12)
    assert e["p_loss"] == pytest.approx(math.sqrt(0.032), rel=1e-12)
    # A tenth of the spread (sd 0.158 < 1): a tenth of the SE of the sd.
    _, e = summarize(np.array([-0.2, -0.1, 0.0, 0.1, 0.2]), np.array([False] * 5))
    assert e["sd"] == pytest.approx(0.1 * math.sqrt(0.011), rel=1e-9)


def test_an_atom_is_a_value_drawn_three_times():
    from simsuite.results.risk import _is_atom

    x = np.array([1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0])
    assert [_is_atom(x, v) for v in (1.0, 2.0, 3.0, 4.0)] == [False, False, True, False]


def test_jump_error_at_the_top_of_the_sample():
    from simsuite.results.risk import _jump_standard_error

    # Losses 0..95, then 96 three times (an atom), then 200; n = 100, p = 0.95. Rank sd sqrt(4.75),
    # centre 95, window ranks 90..99 (ceil(99.27) = 100 kept at 99). Edges next to the atom:
    # after rank 95 (95 -> 96), 1 rank from 95: gap 1; after rank 98 (96 -> 200), 4 ranks away: gap 104.
    loss = np.concatenate([np.arange(96.0), np.full(3, 96.0), [200.0]])
    sd = math.sqrt(4.75)

    def mixture(ranks: float, gap: float) -> float:
        q = 0.5 * math.erfc(ranks / sd / math.sqrt(2))
        return gap * math.sqrt(q * (1 - q))

    # 104 x sqrt(q (1 - q)) with q = Phi(-4 / 2.17945) = 0.0332: about 18.6, larger than 1 x 0.468.
    assert mixture(4, 104) == pytest.approx(18.64, abs=0.01) and mixture(1, 1) == pytest.approx(0.468, abs=1e-3)
    assert _jump_standard_error(loss, 0.95) == pytest.approx(mixture(4, 104), rel=1e-12)


def test_tail_levels_must_lie_strictly_between_zero_and_one():
    from simsuite.results.risk import level_tag

    for level in (0.0, 1.0):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            level_tag(level)
    assert level_tag(0.995) == "99.5"
