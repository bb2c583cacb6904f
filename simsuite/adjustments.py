"""What turns simulated panel costs into the figure a CFO books.

* **Per-simulation factors** (`simulation_factors`): the organisation's true savings
  (fixed, or normal and uncertain), a systemic cost-trend shock that multiplies every
  beneficiary's cost in a simulation, and the benchmark's update trend, correlated with
  the cost shock. They are drawn from their own random streams keyed by simulation index
  (like `simsuite.quality`), so they never change the patient draws and results do not
  depend on threads, chunks or workers.
* **The benchmark's risk adjustment** with the MSSP cap (`risk_cap_factors`): the
  benchmark follows the panel's risk score, but growth over the base year is capped at 3%.
* **The cost of the effort** (`effort_cost`): care management and the FFS margin lost on
  avoided services, subtracted from every contract's net (FFS baseline included).

Sign convention (as everywhere in simsuite): money is from the provider's side, positive =
to the provider. The effort cost is therefore never positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from simsuite.kernels.rng import stream_key
from simsuite.kernels.uniforms import simulation_uniforms

SHOCK_STREAM = 4  # systemic trend shocks (index 0: cost, 1: the benchmark's own part)
SAVINGS_STREAM = 5  # uncertain true savings (index 0)
RISK_GROWTH_CAP = 0.03  # MSSP: benchmark risk-score growth over the base year capped at +3%
SAVINGS_CLIP = 0.9  # a per-simulation saving is kept within +-90% (the cost factor stays positive)


@dataclass(frozen=True)
class SimulationFactors:
    """Per-simulation factors, arrays of shape ``(S,)``.

    Attributes
    ----------
    savings : ndarray
        True savings of the organisation's effort, a fraction (0.02 = every beneficiary
        costs 2% less than without the effort; negative = more).
    trend : ndarray
        Systemic cost-trend factor, mean 1, applied to every beneficiary's cost before
        truncation (1 without a shock).
    benchmark : ndarray
        Factor applied to the benchmark (its update trend turning out above or below the
        expected one), mean 1 (1 without a shock).
    """

    savings: np.ndarray
    trend: np.ndarray
    benchmark: np.ndarray

    @property
    def cost_factor(self) -> np.ndarray:
        """Multiplier of every beneficiary's expected cost: ``(1 - savings) * trend``."""
        return (1.0 - self.savings) * self.trend


def _normals(stream: int, index: int, simulations: int, seed: int, first_sim: int) -> np.ndarray:
    u = np.empty(simulations)
    simulation_uniforms(np.uint64(stream_key(np.uint64(seed), np.uint64(stream))), first_sim, index, u)
    return special.ndtri(u)


def lognormal_factor(z: np.ndarray, sd: float) -> np.ndarray:
    """``exp(sd * z - sd**2 / 2)``: mean 1 for standard normal ``z``; exactly 1 if ``sd == 0``."""
    if sd == 0.0:
        return np.ones_like(z)
    return np.exp(sd * z - 0.5 * sd * sd)


def simulation_factors(assumptions, simulations: int, seed: int, first_sim: int = 0) -> SimulationFactors:
    """Savings, cost-trend and benchmark factors of simulations ``first_sim ..``.

    Parameters
    ----------
    assumptions : simsuite.scenario.Assumptions
        ``true_savings`` (a number, or ``{mean, sd}``: normal, clipped to +-90%),
        ``cost_trend_sd`` and ``benchmark_trend_sd`` (log-sd of the lognormal factors,
        each with mean 1), ``trend_correlation`` (correlation of the two log factors).
    simulations, seed, first_sim : int
        The range of simulations and the run's seed.

    Notes
    -----
    With ``z1, z3`` independent standard normals of the shock stream, the cost factor is
    ``exp(sc z1 - sc**2/2)`` and the benchmark factor ``exp(sb z2 - sb**2/2)`` with
    ``z2 = rho z1 + sqrt(1 - rho**2) z3``. Savings use their own stream, so turning the
    uncertainty on or off leaves every other draw unchanged.
    """
    a = assumptions
    ts = a.true_savings
    if isinstance(ts, (int, float)):
        savings = np.full(simulations, float(ts))
    elif ts.sd == 0.0:
        savings = np.full(simulations, ts.mean)
    else:
        z = _normals(SAVINGS_STREAM, 0, simulations, seed, first_sim)
        savings = np.clip(ts.mean + ts.sd * z, -SAVINGS_CLIP, SAVINGS_CLIP)
    sc, sb, rho = a.cost_trend_sd, a.benchmark_trend_sd, a.trend_correlation
    if sc == 0.0 and sb == 0.0:
        trend = bench = np.ones(simulations)
    else:
        z1 = _normals(SHOCK_STREAM, 0, simulations, seed, first_sim)
        z3 = _normals(SHOCK_STREAM, 1, simulations, seed, first_sim)
        trend = lognormal_factor(z1, sc)
        bench = lognormal_factor(rho * z1 + np.sqrt(1.0 - rho * rho) * z3, sb)
    return SimulationFactors(savings=savings, trend=trend, benchmark=bench)


def risk_cap_factors(cohort_start: np.ndarray, risk_score: np.ndarray, cohorts: tuple[str, ...],
                     base) -> np.ndarray:
    """Multiplier of each cohort's expected cost in the benchmark: the MSSP cap on risk growth.

    The expected cost of the panel follows its current risk scores. MSSP lets the
    benchmark follow them only up to ``base * 1.03`` (declines are not capped), so the
    benchmark of cohort ``c`` is its expected cost times
    ``min(current_c, 1.03 * base_c) / current_c``.

    Parameters
    ----------
    cohort_start : int64[C + 1]
        Cohort boundaries of the panel.
    risk_score : float64[N]
        Current risk scores of the panel (dimensionless).
    cohorts : tuple of str
        Enrollment type of each cohort.
    base : float, ByType or None
        Average risk score of the panel in the benchmark's base year: one number for the
        whole panel, or one per enrollment type. None: the current panel's (factor 1).

    Returns
    -------
    float64[C]
        Factors in ``(0, 1]``.
    """
    n = len(cohorts)
    if base is None:
        return np.ones(n)
    if isinstance(base, (int, float)):
        current = float(np.mean(risk_score))
        return np.full(n, min(current, (1.0 + RISK_GROWTH_CAP) * base) / current)
    base_by_type = base.as_dict()
    out = np.ones(n)
    for c, t in enumerate(cohorts):
        scores = risk_score[cohort_start[c]:cohort_start[c + 1]]
        if scores.size:
            current = float(np.mean(scores))
            out[c] = min(current, (1.0 + RISK_GROWTH_CAP) * base_by_type[t]) / current
    return out


def avoided_spending(raw_total: np.ndarray, savings: np.ndarray) -> np.ndarray:
    """Spending the effort avoided in each simulation, dollars (negative if it added spending).

    The savings scale every beneficiary's cost by ``1 - s`` on the same draws, so the
    untruncated panel cost without the effort is exactly ``raw_total / (1 - s)`` (common
    random numbers), and the avoided spending is ``raw_total * s / (1 - s)``: exact per
    simulation, with no second pass of the kernel.
    """
    return raw_total * savings / (1.0 - savings)


def effort_cost(assumptions, member_months: int, raw_total: np.ndarray, savings: np.ndarray) -> np.ndarray:
    """What the savings effort costs the organisation in each simulation, provider's side.

    ``-(care_management_pmpm * member_months) - ffs_margin_lost * max(avoided, 0)``, dollars
    (never positive). Added to every contract's net, the FFS baseline included: the effort
    and the services it avoids are the same whatever the contract, so the comparison
    between contracts is unchanged and each net is what the organisation would book.

    Parameters
    ----------
    assumptions : simsuite.scenario.Assumptions
        ``care_management_pmpm`` (dollars per member per month) and ``ffs_margin_lost``
        (fraction of the avoided spending that was the organisation's own FFS margin).
    member_months : int
        Beneficiary-months of the year.
    raw_total, savings : ndarray
        Untruncated panel cost (dollars) and true savings (fraction) per simulation.

    Notes
    -----
    Spending the effort *adds* (negative savings) is not credited as margin gained: the
    scenario describes an effort to save, and its cost is not reduced by failure.
    """
    a = assumptions
    out = np.full(raw_total.shape, -a.care_management_pmpm * member_months)
    if a.ffs_margin_lost > 0.0:
        out -= a.ffs_margin_lost * np.maximum(avoided_spending(raw_total, savings), 0.0)
    return out
