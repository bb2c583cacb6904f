"""Per-simulation factors: what turns simulated panel costs into the figure a CFO books.

* **Per-simulation factors** (`simulation_factors`): the organisation's true savings
  (fixed, or normal and uncertain), a systemic cost-trend shock that multiplies every
  beneficiary's cost in a simulation, and the benchmark's update trend, correlated with
  the cost shock. They are drawn from their own random streams keyed by simulation index
  so they never change the patient draws and results do not
  depend on threads, chunks or workers.
* **The panel's risk-score growth** since the benchmark's base year (`risk_growth`), by
  enrollment type or for the whole panel, with the aggregation weights and the demographic
  growth that caps on it read; each contract family caps what its benchmark follows
  (`simsuite.contracts.Family.risk_ratio`; MSSP, REACH and LEAD do, capitation does not).
* **The cost of the effort** (`effort_cost`): care management and the FFS margin lost on
  avoided services, subtracted from every contract's net (FFS baseline included).

Sign convention (as everywhere in simsuite): money is from the provider's side, positive =
to the provider. The effort cost is therefore never positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from simsuite.contracts.base import RiskGrowth
from simsuite.kernels.rng import stream_key
from simsuite.kernels.streams import Stream
from simsuite.kernels.uniforms import simulation_uniforms
from simsuite.scenario.schema import Assumptions, ByType

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
    systemic : ndarray
        Factor on the panel's spending sums (every cap, after the caps) beyond claims
        noise, lognormal with mean 1 (`simsuite.model.variance.systemic_sd`; 1 if none).
    """

    savings: np.ndarray
    trend: np.ndarray
    benchmark: np.ndarray
    systemic: np.ndarray

    @property
    def cost_factor(self) -> np.ndarray:
        """Multiplier of every beneficiary's expected cost: ``(1 - savings) * trend``."""
        return (1.0 - self.savings) * self.trend


def standard_normals(stream: int, index: int, simulations: int, seed: int, first_sim: int) -> np.ndarray:
    """Standard normal draw ``index`` of ``stream`` for simulations ``first_sim ..`` (keyed by simulation)."""
    u = np.empty(simulations)
    simulation_uniforms(np.uint64(stream_key(np.uint64(seed), np.uint64(stream))), first_sim, index, u)
    return special.ndtri(u)


def lognormal_factor(z: np.ndarray, sd: float) -> np.ndarray:
    """``exp(sd * z - sd**2 / 2)``: mean 1 for standard normal ``z``; exactly 1 if ``sd == 0``."""
    if sd == 0.0:
        return np.ones_like(z)
    return np.exp(sd * z - 0.5 * sd * sd)


def simulation_factors(assumptions: Assumptions, simulations: int, seed: int, first_sim: int = 0,
                       systemic_sd: float = 0.0) -> SimulationFactors:
    """Savings, cost-trend, benchmark and systemic factors of simulations ``first_sim ..``.

    Parameters
    ----------
    assumptions : simsuite.scenario.schema.Assumptions
        ``true_savings`` (a number, or ``{mean, sd}``: normal, clipped to +-90%),
        ``cost_trend_sd`` and ``benchmark_trend_sd`` (log-sd of the lognormal factors,
        each with mean 1), ``trend_correlation`` (correlation of the two log factors).
    simulations, seed, first_sim : int
        The range of simulations and the run's seed.
    systemic_sd : float
        Log-sd of the systemic factor (`simsuite.model.variance.systemic_sd`); 0: none.

    Notes
    -----
    With ``z1, z3`` independent standard normals of the shock stream, the cost factor is
    ``exp(sc z1 - sc**2/2)`` and the benchmark factor ``exp(sb z2 - sb**2/2)`` with
    ``z2 = rho z1 + sqrt(1 - rho**2) z3``. Savings and the systemic factor use their own
    streams (`Stream.SAVINGS`, `Stream.SYSTEMIC`), so turning either on or off leaves every
    other draw unchanged.
    """
    a = assumptions
    ts = a.true_savings
    if isinstance(ts, (int, float)):
        savings = np.full(simulations, float(ts))
    elif ts.sd == 0.0:
        savings = np.full(simulations, ts.mean)
    else:
        z = standard_normals(Stream.SAVINGS, 0, simulations, seed, first_sim)
        savings = np.clip(ts.mean + ts.sd * z, -SAVINGS_CLIP, SAVINGS_CLIP)
    sc, sb, rho = a.cost_trend_sd, a.benchmark_trend_sd, a.trend_correlation
    if sc == 0.0 and sb == 0.0:
        trend = bench = np.ones(simulations)
    else:
        z1 = standard_normals(Stream.SHOCKS, 0, simulations, seed, first_sim)
        z3 = standard_normals(Stream.SHOCKS, 1, simulations, seed, first_sim)
        trend = lognormal_factor(z1, sc)
        bench = lognormal_factor(rho * z1 + np.sqrt(1.0 - rho * rho) * z3, sb)
    systemic = np.ones(simulations)
    if systemic_sd > 0.0:
        systemic = lognormal_factor(standard_normals(Stream.SYSTEMIC, 0, simulations, seed, first_sim), systemic_sd)
    return SimulationFactors(savings=savings, trend=trend, benchmark=bench, systemic=systemic)


def _by_group(value: float | ByType, cohorts: tuple[str, ...], group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A scenario value (one number, or one per type) per group: a number applies to every
    group; per-type values are averaged over a group's cohorts with ``weight``."""
    if isinstance(value, (int, float)):
        return np.full(int(group.max()) + 1, float(value))
    per_cohort = np.array([value.as_dict()[t] for t in cohorts])
    total = np.bincount(group, weight)
    return np.bincount(group, weight * per_cohort) / np.where(total > 0, total, 1.0)


def risk_growth(cohort_start: np.ndarray, risk_score: np.ndarray, cohorts: tuple[str, ...],
                expected_by_cohort: np.ndarray, assumptions: Assumptions, agreement_start: int
                ) -> tuple[RiskGrowth, np.ndarray] | None:
    """The panel's risk-score growth since the benchmark's base year, and each cohort's group.

    Groups are the enrollment types when ``benchmark_risk_score`` is given by type, else the
    whole panel (one group whose current score is the panel's mean). A group's HCC ratio is
    its current mean risk score over its base-year score; its weight is its expected cost at
    base-year risk (``expected / ratio``: per-capita benchmark x person-years, the weight of
    42 CFR 425.605(a)(1)(ii)(C)); its demographic ratio is ``1 + demographic_risk_growth``
    and its ratio since 2019 its current score over ``risk_score_2019``.

    Parameters
    ----------
    cohort_start : int64[C + 1]
        Cohort boundaries of the panel.
    risk_score : float64[N]
        Current risk scores of the panel (dimensionless).
    cohorts : tuple of str
        Enrollment type of each cohort.
    expected_by_cohort : float64[C]
        Each cohort's expected cost under the contract's primary cap, dollars.
    assumptions : Assumptions
        ``benchmark_risk_score``, ``demographic_risk_growth``, ``risk_score_2019``.
    agreement_start : int
        Calendar year the agreement period started.

    Returns
    -------
    (RiskGrowth, int64[C]) or None
        None without a base-year risk score (the benchmark follows the current panel).
    """
    a = assumptions
    if a.benchmark_risk_score is None:
        return None
    counts = np.diff(cohort_start)
    current = np.array([float(np.mean(risk_score[cohort_start[c]:cohort_start[c + 1]])) if counts[c] else 1.0
                        for c in range(len(cohorts))])
    if isinstance(a.benchmark_risk_score, ByType):
        group = np.arange(len(cohorts))
        base = np.array([a.benchmark_risk_score.as_dict()[t] if counts[c] else 1.0 for c, t in enumerate(cohorts)])
        now = current
    else:
        group = np.zeros(len(cohorts), dtype=np.int64)
        base = np.array([float(a.benchmark_risk_score)])
        now = np.array([float(np.mean(risk_score))])
    hcc = now / base
    weights = np.bincount(group, expected_by_cohort / hcc[group])
    demographic = (None if a.demographic_risk_growth is None
                   else 1.0 + _by_group(a.demographic_risk_growth, cohorts, group, expected_by_cohort))
    since_2019 = None
    if a.risk_score_2019 is not None:
        # Per-type 2019 scores of one group are averaged over its beneficiaries.
        since_2019 = now / _by_group(a.risk_score_2019, cohorts, group, counts.astype(float))
    growth = RiskGrowth(agreement_start=agreement_start, hcc_ratio=hcc, weights=weights,
                        demographic_ratio=demographic, ratio_since_2019=since_2019)
    return growth, group


def avoided_spending(raw_total: np.ndarray, savings: np.ndarray) -> np.ndarray:
    """Spending the effort avoided in each simulation, dollars (negative if it added spending).

    The savings scale every beneficiary's cost by ``1 - s`` on the same draws, so the
    untruncated panel cost without the effort is exactly ``raw_total / (1 - s)`` (common
    random numbers), and the avoided spending is ``raw_total * s / (1 - s)``: exact per
    simulation, with no second pass of the kernel.
    """
    return raw_total * savings / (1.0 - savings)


def effort_cost(assumptions: Assumptions, member_months: int, raw_total: np.ndarray, savings: np.ndarray) -> np.ndarray:
    """What the savings effort costs the organisation in each simulation, provider's side.

    ``-(care_management_pmpm * member_months) - ffs_margin_lost * max(avoided, 0)``, dollars
    (never positive). Added to every contract's net, the FFS baseline included: the effort
    and the services it avoids are the same whatever the contract, so the comparison
    between contracts is unchanged and each net is what the organisation would book.

    Parameters
    ----------
    assumptions : simsuite.scenario.schema.Assumptions
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


#: Beta precision ``a + b`` above which a quality score is drawn from the normal quantile with
#: the same mean and sd. scipy's Beta quantile (``betaincinv``) degrades there (errors of about
#: 1e-9 at the extreme uniforms from 1e11; NaN or scores far from the mean by 1e15, e.g.
#: ``sd = 1e-9`` for a mean of 0.85; measured with scipy 1.17 in 2026), and a smaller spread can
#: underflow ``sd**2``. Beyond it the Beta is normal to within an absolute quantile error of
#: about ``23 / (a + b)`` (its skewness, ``2 (1 - 2 mean) / sqrt((a + b) mean (1 - mean))``, in
#: the Cornish-Fisher term at |z| <= 8.3, the widest a uniform in (0, 1) reaches): under 2.3e-11
#: of a score; at the switch the two quantiles agreed within 2e-9 (means 0.01 to 0.99).
BETA_NORMAL_PRECISION = 1e12


def beta_parameters(mean: float, sd: float) -> tuple[float, float]:
    """Beta ``(a, b)`` with the given mean and standard deviation (``sd**2 < mean (1 - mean)``)."""
    k = mean * (1.0 - mean) / (sd * sd) - 1.0
    return mean * k, (1.0 - mean) * k


def quality_quantile(mean: float, sd: float, u: np.ndarray) -> np.ndarray:
    """The quality score (fraction) at probabilities ``u`` in (0, 1): the quantile of the Beta
    with that mean and sd (``0 < sd**2 < mean (1 - mean)``).

    Beyond `BETA_NORMAL_PRECISION` the quantile is the normal one, kept within [0, 1], so
    that any spread the scenario allows gives finite scores (a spread of 6.9e-90 once gave
    NaN scores and NaN MSSP results).
    """
    if sd < np.sqrt(mean * (1.0 - mean) / (BETA_NORMAL_PRECISION + 1.0)):  # a + b > BETA_NORMAL_PRECISION
        return np.clip(mean + sd * special.ndtri(u), 0.0, 1.0)
    a, b = beta_parameters(mean, sd)
    return special.betaincinv(a, b, u)


def quality_scores(mean: float, sd: float, simulations: int, seed: int, first_sim: int = 0,
                   index: int = 0) -> np.ndarray:
    """Quality score (fraction) of simulations ``first_sim .. first_sim + simulations - 1``.

    With ``sd == 0`` every simulation has ``mean``; otherwise scores are Beta-distributed
    with that mean and sd (`quality_quantile`), drawn from their own random stream keyed by simulation
    index, so they do not change the cost draws and do not depend on threads.
    ``index`` selects the draw of the stream (a year of a multi-year run; 0 otherwise).
    """
    if sd == 0.0:
        return np.full(simulations, mean)
    u = np.empty(simulations)
    simulation_uniforms(np.uint64(stream_key(np.uint64(seed), np.uint64(Stream.QUALITY))), first_sim, index, u)
    return quality_quantile(mean, sd, u)


def alternative_draws(simulations: int, seed: int, first_sim: int = 0, index: int = 1) -> np.ndarray:
    """One uniform in [0, 1) per simulation, deciding whether the alternative quality standard is met.

    Drawn from the quality stream at ``index`` (1; the score uses index 0; a multi-year
    run draws year ``t``'s score at ``2t`` and these at ``2t + 1``), keyed by simulation
    index: adding them changed no other draw, and they do not depend on threads or chunks.
    """
    u = np.empty(simulations)
    simulation_uniforms(np.uint64(stream_key(np.uint64(seed), np.uint64(Stream.QUALITY))), first_sim, index, u)
    return u
