"""An independent oracle for the tests: the expected MSSP settlement under a normal total.

Written from the rules, independently of the vectorised settlement
(`simsuite.contracts.shared_savings.settle_shared_savings`) and of its scalar reference,
as a piecewise-linear function of savings whose expectation under a normal distribution
is a closed form. Used by ``tests/test_exact.py`` only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

from simsuite.contracts.shared_savings import (
    SharedSavingsTerms,
    final_sharing_rate,
    minimum_rates,
    shared_loss_rate,
)


def normal_piecewise_expectation(mean: float, sd: float, breaks: np.ndarray, intercept: np.ndarray,
                                 slope: np.ndarray) -> float:
    """``E[g(D)]`` for ``D ~ Normal(mean, sd**2)`` and ``g`` linear between breaks.

    ``g(d) = intercept[j] + slope[j] * d`` on ``breaks[j] <= d < breaks[j + 1]``
    (``breaks`` starts at ``-inf`` and ends at ``inf``). On each piece,
    ``E[D; a <= D < b] = mean (Phi(zb) - Phi(za)) + sd (phi(za) - phi(zb))``.
    """
    z = (np.asarray(breaks, dtype=float) - mean) / sd
    cdf = special.ndtr(z)
    with np.errstate(invalid="ignore"):
        pdf = np.where(np.isfinite(z), np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi), 0.0)
    mass = np.diff(cdf)
    first = mean * mass + sd * (pdf[:-1] - pdf[1:])
    return float(np.sum(np.asarray(intercept) * mass + np.asarray(slope) * first))


def mssp_net_of_savings(terms: SharedSavingsTerms, benchmark: float, n_beneficiaries: int,
                        quality_score: float, quality_standard: str = "met",
                        participant_revenue: float | None = None,
                        low_revenue: bool = False) -> tuple[Callable[[float], float], list[float]]:
    """The MSSP settlement as a function of savings ``D = B - X`` (dollars), and its breaks.

    Written from the rules, independently of the vectorised settlement: first-dollar
    sharing of savings once ``D >= MSR B`` (half rate below the MSR for eligible
    low-revenue ACOs), capped at ``savings_cap B``; for two-sided contracts, first-dollar
    sharing of losses once ``-D >= MLR B``, capped at the loss limit. The function is
    linear between consecutive breaks.

    Returns
    -------
    net : callable
        ``net(D)``: dollars to the ACO.
    breaks : list of float
        Savings (dollars) where ``net`` changes slope or jumps.
    """
    b = benchmark
    msr, mlr = (float(np.asarray(r).reshape(-1)[0]) for r in minimum_rates(terms, n_beneficiaries))
    share = (1.0 - terms.sequestration) * float(final_sharing_rate(terms, quality_score, quality_standard))
    reduced = (terms.low_revenue_share_below_msr or 0.0) if (
        terms.low_revenue_share_below_msr is not None and low_revenue and n_beneficiaries >= 5000) else 0.0
    loss_rate = float(shared_loss_rate(terms, quality_score, quality_standard)) if terms.two_sided else 0.0
    limit = math.inf
    if terms.loss_cap_benchmark is not None:
        limit = min(limit, terms.loss_cap_benchmark * b)
    if terms.loss_cap_revenue is not None and participant_revenue is not None:
        limit = min(limit, terms.loss_cap_revenue * participant_revenue)

    def net(d: float) -> float:
        if d > 0:
            rate = share if d / b >= msr else share * reduced
            return min(rate * d, terms.savings_cap * b)
        if d < 0 and terms.two_sided and -d / b >= mlr:
            return -min(loss_rate * -d, limit)
        return 0.0

    breaks = [0.0, msr * b]
    for rate in (share, share * reduced):
        if rate > 0:
            breaks.append(terms.savings_cap * b / rate)
    if terms.two_sided:
        breaks.append(-mlr * b)
        if loss_rate > 0 and math.isfinite(limit):
            breaks.append(-limit / loss_rate)
    return net, sorted(set(breaks))


def piecewise_linear_pieces(net: Callable[[float], float],
                            breaks: list[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(breaks, intercept, slope)`` of a function linear between ``breaks``.

    Each piece's line is read from two points inside it, so jumps at the breaks are
    kept as they are.
    """
    edges = np.array([-math.inf, *breaks, math.inf])
    span = max(1.0, max(abs(x) for x in breaks))
    intercept, slope = [], []
    for a, c in zip(edges[:-1], edges[1:]):
        if math.isinf(a):
            x1, x2 = c - 2.0 * span, c - span
        elif math.isinf(c):
            x1, x2 = a + span, a + 2.0 * span
        else:
            x1, x2 = a + (c - a) / 3.0, a + 2.0 * (c - a) / 3.0
        k = (net(x2) - net(x1)) / (x2 - x1)
        slope.append(k)
        intercept.append(net(x1) - k * x1)
    return edges, np.array(intercept), np.array(slope)


def normal_expected_settlement(terms: SharedSavingsTerms, benchmark: float, mean: float, sd: float,
                               n_beneficiaries: int, quality_score: float,
                               quality_standard: str = "met",
                               participant_revenue: float | None = None,
                               low_revenue: bool = False) -> float:
    """Expected MSSP settlement (dollars to the ACO) if expenditure is Normal(mean, sd**2).

    For one-sided sharing at final rate ``s`` after sequestration, MSR ``m`` and
    savings ``D = B - X ~ Normal(B - mean, sd**2)`` this is
    ``s (E[D; D >= mB] - E[D - cap/s; D >= cap/s])``; two-sided contracts add the loss
    pieces. See `mssp_net_of_savings` and `normal_piecewise_expectation`.
    """
    net, breaks = mssp_net_of_savings(terms, benchmark, n_beneficiaries, quality_score,
                                      quality_standard, participant_revenue, low_revenue)
    return normal_piecewise_expectation(benchmark - mean, sd, *piecewise_linear_pieces(net, breaks))
