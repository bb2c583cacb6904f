"""MSSP rules outside the settlement formula: the risk-score cap, the quality standard, revenue status,
the repayment mechanism.

Plain functions of arrays (vectorised over simulations), each citing the paragraph of
42 CFR part 425 it implements; confidence High (regulation text) unless stated. The
single-year engine and the agreement-period engine both call them.

Text read: eCFR copies of 425.605 and 425.610 amended through 89 FR 98571 (Dec 2024),
425.512 amended through 89 FR 98568, 425.204 amended through 88 FR 79544 (Nov 2023),
425.20 definitions (83 FR 68062). Quotes: ``notes/issue16-rules.md``.
"""

from __future__ import annotations

import numpy as np

#: 425.605(a)(1)(i), 425.610(a)(2)(i): agreements starting July 2019 to 2023 cap positive
#: HCC risk-score growth between BY3 and any performance year at 3 percent.
FLAT_RISK_CAP = 0.03
#: 425.605(a)(1)(ii)(A), 425.610(a)(2)(ii)(A): agreements from 2024, the cap is the
#: aggregate demographic risk-score growth plus 3 percentage points.
DEMOGRAPHIC_CAP_MARGIN = 0.03
#: 425.20 "Low revenue ACO": participants' A+B FFS revenue below 35% of the assigned
#: beneficiaries' total A+B FFS expenditures.
LOW_REVENUE_THRESHOLD = 0.35
#: 425.204(f)(4)(ii)(A)-(B): the lesser of 0.5% of assigned beneficiaries' A+B expenditure
#: and 1% of participants' A+B revenue.
RM_SHARE_OF_EXPENDITURE = 0.005
RM_SHARE_OF_REVENUE = 0.01
#: 425.204(f)(4)(iii)(A): an increase is required only if the recalculated amount exceeds
#: the existing one by at least $1,000,000.
RM_INCREASE_TRIGGER = 1_000_000.0
#: 425.605(h)(1)(iii)-(iv): the half sharing rate below the MSR needs at least 5,000
#: assigned beneficiaries and an agreement period starting in 2024 or later.
HALF_RATE_MIN_BENEFICIARIES = 5000
HALF_RATE_FIRST_AGREEMENT = 2024
#: CY2026 PFS final rule (CMS-1832-F; fact sheet and MDinteractive summary, Med): from
#: agreements starting in 2027, an ACO below 5,000 assigned beneficiaries must be in BASIC
#: with lower savings and loss limits (values not found).
SMALL_ACO_RULES_FIRST_AGREEMENT = 2027
SMALL_ACO_BENEFICIARIES = 5000
#: 425.512(a)(4)(ii): the alternative quality performance standard exists from PY2023.
FIRST_ALTERNATIVE_STANDARD_YEAR = 2023


def capped_risk_ratio(agreement_start: int, hcc_ratio: np.ndarray, demographic_ratio: np.ndarray,
                      weights: np.ndarray) -> np.ndarray:
    """The HCC risk ratio (PY score / BY3 score) each enrollment type's benchmark follows.

    * Agreements starting 2024 or later (425.605(a)(1)(ii), 425.610(a)(2)(ii)): the cap
      is ``c = D + 0.03`` with ``D`` the aggregate demographic growth; it applies only if
      the aggregate HCC growth ``H`` *exceeds* ``c`` (strictly), and then limits every
      type's ratio to ``1 + c``. Aggregates weight each type's ratio by its historical
      benchmark (after the regional or prior savings adjustment) times performance-year
      person-years (425.605(a)(1)(ii)(C)).
    * Earlier agreements (425.605(a)(1)(i)): each type's ratio at most 1.03, always.
    * Declines are not capped ("positive adjustments ... are subject to a cap").

    Parameters
    ----------
    agreement_start : int
        Calendar year the agreement period started.
    hcc_ratio, demographic_ratio : ndarray, shape (..., T)
        Performance-year over BY3 prospective HCC and demographic risk scores, by type
        (the last axis); leading axes are simulations or years.
    weights : ndarray, shape (..., T) or (T,)
        Aggregation weights by type (dollars: benchmark per capita x person-years). The
        three arrays broadcast against each other.

    Returns
    -------
    ndarray, shape (..., T)
        The ratios the benchmark follows.

    Notes
    -----
    The text does not say how a cap at or below zero growth (``D <= -3%``) caps a
    "positive adjustment"; this function applies ``min(ratio, 1 + c)`` literally, which
    then cuts the benchmark below its BY3 risk level (noted as an open point).
    """
    h = np.asarray(hcc_ratio, dtype=float)
    if agreement_start < 2024:
        return np.minimum(h, 1.0 + FLAT_RISK_CAP)
    h, d, w = np.broadcast_arrays(h, np.asarray(demographic_ratio, dtype=float), np.asarray(weights, dtype=float))
    total = w.sum(axis=-1, keepdims=True)
    growth_hcc = (w * h).sum(axis=-1, keepdims=True) / total - 1.0
    cap = (w * d).sum(axis=-1, keepdims=True) / total - 1.0 + DEMOGRAPHIC_CAP_MARGIN
    return np.where(growth_hcc > cap, np.minimum(h, 1.0 + cap), h)


def symmetric_risk_ratio(ratio: np.ndarray, cap: float) -> np.ndarray:
    """A risk ratio held within ``1 +- cap`` (ACO REACH from 2022: 3%, CMS PY2026 quick
    reference [Med]; LEAD: 3% aged/disabled and ESRD, 4% High Needs [Low, one secondary source])."""
    return np.clip(np.asarray(ratio, dtype=float), 1.0 - cap, 1.0 + cap)


def is_low_revenue(participant_revenue: np.ndarray | float, assigned_expenditure: np.ndarray | float) -> np.ndarray:
    """425.20: low revenue iff participants' A+B revenue < 35% of the assigned beneficiaries'
    total A+B expenditures (both for the most recent full calendar year)."""
    return np.asarray(participant_revenue, dtype=float) < LOW_REVENUE_THRESHOLD * np.asarray(assigned_expenditure,
                                                                                             dtype=float)


def repayment_mechanism_amount(assigned_expenditure: np.ndarray | float,
                               participant_revenue: np.ndarray | float) -> np.ndarray:
    """425.204(f)(4)(ii): the lesser of 0.5% of the assigned beneficiaries' total A+B
    expenditure and 1% of the participants' total A+B revenue, dollars."""
    return np.minimum(RM_SHARE_OF_EXPENDITURE * np.asarray(assigned_expenditure, dtype=float),
                      RM_SHARE_OF_REVENUE * np.asarray(participant_revenue, dtype=float))


def recalculated_repayment_mechanism(existing: np.ndarray | float, recalculated: np.ndarray | float) -> np.ndarray:
    """425.204(f)(4)(iii)(A): the amount required for the next performance year.

    The ACO must raise the mechanism to the recalculated amount only if that exceeds the
    existing amount by at least $1,000,000; otherwise the existing amount stands (the
    rule requires no decrease).
    """
    existing = np.asarray(existing, dtype=float)
    recalculated = np.asarray(recalculated, dtype=float)
    return np.where(recalculated - existing >= RM_INCREASE_TRIGGER, recalculated, existing)


def alternative_standard_met(draw: np.ndarray | None, probability: float | None, shape: tuple[int, ...]
                             ) -> np.ndarray:
    """Whether the alternative quality standard is met, per simulation (bool, ``shape``).

    The alternative standard (425.512(a)(4)(ii), (a)(5)(ii)) asks for at least the 10th
    percentile on one outcome measure, which a single quality score cannot show; the
    scenario states the ``probability`` that it is met when the score misses the main
    standard. It is met where the simulation's uniform ``draw`` is below ``probability``;
    without draws (exact method, payoff figure) the more likely outcome holds everywhere
    (met iff ``probability >= 0.5``). ``probability`` None: never met.
    """
    if probability is None:
        return np.zeros(shape, dtype=bool)
    if draw is None:
        return np.full(shape, probability >= 0.5)
    return np.broadcast_to(np.asarray(draw, dtype=float) < probability, shape)


def quality_standard_met(score: np.ndarray | float, threshold: float, alternative_met: np.ndarray | bool
                         ) -> np.ndarray:
    """Which quality standard each simulation meets: ``"met"``, ``"alternative"`` or ``"not_met"``.

    425.512(a)(3) (PY2021), (a)(4)(i)(A) (PY2022-2023), (a)(5)(i) (PY2024 and later): the
    standard is met by a quality score "equivalent to or higher than" the year's percentile
    ``threshold`` (so ``score >= threshold``); below it, where ``alternative_met`` (only from
    PY2023: pass False before), the alternative standard; otherwise neither.

    Parameters
    ----------
    score : array_like
        Quality score of each simulation, fraction in [0, 1].
    threshold : float
        The year's quality performance standard, fraction.
    alternative_met : bool or array_like of bool
        Whether the alternative standard is met (`alternative_standard_met`).

    Returns
    -------
    ndarray of str
        Same shape as ``score``.
    """
    q = np.asarray(score, dtype=float)
    alt = np.broadcast_to(np.asarray(alternative_met, dtype=bool), q.shape)
    return np.where(q >= threshold, "met", np.where(alt, "alternative", "not_met"))
