"""Exact (up to discretisation) results for panels of independent beneficiaries, by FFT.

The panel total ``T = sum_i min(C_i, cap_c(i))`` of independent hurdle-lognormal
costs has a distribution that can be computed rather than sampled:

1. **Bands.** Beneficiaries of a cohort (enrollment type) differ only in the
   log-location ``theta_i`` of their positive cost. Each cohort is cut into bands of
   equal width in ``theta``; a band's ``n`` beneficiaries are replaced by ``n`` iid
   beneficiaries at one node ``theta_b`` chosen so that the band's expected capped cost
   is unchanged. The mean of ``T`` is therefore kept exactly; the variance error this
   introduces is computed in closed form and reported (``banding_var_rel_error``). A
   cohort whose risk scores are all equal is one band and is exact.
2. **Discretisation.** Each node's capped cost is put on the lattice ``0, h, 2h, ...``
   by mean-preserving linear rounding (the mass in ``[kh, (k+1)h]`` is split between
   its two lattice points so that mass and mean are kept), with the atom at zero and
   the atom at the cap.
3. **Convolution.** The lattice characteristic function of each node is raised to its
   count and multiplied across nodes (a sum of logarithms); the inverse FFT gives
   ``T`` modulo ``M h``. Read on the window ``[k0 h, (k0 + M) h)`` around the mean,
   this is ``T`` itself except for mass outside the window, which is bounded by
   Bernstein's inequality (the capped costs are bounded): ``aliasing_bound``.
4. **Settlement.** Every contract's vectorised settlement function is evaluated on the
   lattice values, and the risk measures are computed from the probability weights
   with the exact discrete formulas of `simsuite.risk`.

The computed total's mean and variance are compared with the closed-form moments of
the model (every beneficiary, no banding) and reported; so are the parts of that error
due to banding and to discretisation.

Money is dollars per panel per year; positive = money to the provider; risk measures
are taken on the loss ``L = -net``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.fft
import xarray as xr
from pydantic import BaseModel
from scipy import special
from scipy.signal import czt

from simsuite import __version__
from simsuite.contracts.base import CapSpec, PanelYear
from simsuite.contracts.presets import Contract
from simsuite.contracts.shared_savings import (
    SharedSavingsTerms,
    final_sharing_rate,
    minimum_rates,
    shared_loss_rate,
)
from simsuite.errors import InputError
from simsuite.population import PanelArrays, build_panel
from simsuite.risk import MEASURES, summarize_weighted
from simsuite.scenario import Scenario, ScenarioSpec

# Families checked to settle on (benchmark, the panel sum under their one cap) and
# nothing else random: the exact method can push the total's distribution through.
# Contracts that declare no cap at all (FFS) need no cost distribution.
EXACT_FAMILIES: frozenset[str] = frozenset({"shared_savings"})

# Scenario fields whose meaning the exact method implements. Any other field that a
# scenario sets to a non-default value (e.g. a future systemic shock or bootstrap
# cost source) makes the scenario ineligible, so new model features are refused
# until someone teaches this module about them. Dotted paths; a path covers its
# whole subtree.
EXACT_UNDERSTOOD_FIELDS: frozenset[str] = frozenset({
    "name",
    "description",
    "performance_year",
    "population.beneficiaries",
    "population.mix",
    "population.risk_score.cv",
    "cost_model.mean_cost",
    "cost_model.mean_cost_year",
    "cost_model.annual_trend",
    "cost_model.zero_cost_share",
    "cost_model.severity_sigma",
    "cost_model.risk_elasticity",
    "assumptions.benchmark_margin",
    "assumptions.true_savings",
    "assumptions.quality_score",  # fixed; an uncertain score (quality_score_sd) is refused
    "assumptions.quality_standard",
    "assumptions.participant_revenue_to_benchmark",
    "assumptions.low_revenue",
    "contracts",
    "run",
})

DEFAULT_BANDS_PER_COHORT = 64
# Probability allowed outside the window on each side (Bernstein bound).
DEFAULT_TAIL_EPS = 1e-14
# Frequencies where the total's characteristic function is below exp(-LOG_CF_FLOOR)
# are set to zero: their contribution to any probability is below M * e**-80 ~ 1e-29.
LOG_CF_FLOOR = 80.0
# Lattice points less likely than this fraction of the most likely one are dropped
# before settlement.
TRIM_RELATIVE = 1e-9
# Relative variance error the default bucket size aims at.
DISCRETISATION_TARGET = 1e-5


# ---- closed forms of the per-beneficiary capped cost ----------------------------------


def capped_moment(log_mean: np.ndarray | float, sigma: float, zero_share: float, cap: float,
                  k: int) -> np.ndarray:
    """``E[min(C, cap)**k]`` of a hurdle-lognormal cost ``C``, dollars**k.

    Parameters
    ----------
    log_mean : array_like
        Log-location of the positive part (log dollars).
    sigma : float
        Log-sd of the positive part.
    zero_share : float
        Probability of zero cost.
    cap : float
        Per-beneficiary cap, dollars (finite, > 0).
    k : int
        Order of the raw moment (>= 1).
    """
    mu = np.asarray(log_mean, dtype=float)
    log_cap = math.log(cap)
    below = np.exp(k * mu + 0.5 * (k * sigma) ** 2) * special.ndtr((log_cap - mu - k * sigma * sigma) / sigma)
    above = cap**k * special.ndtr((mu - log_cap) / sigma)
    return (1.0 - zero_share) * (below + above)


def capped_mean_var(log_mean: np.ndarray | float, sigma: float, zero_share: float,
                    cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean (dollars) and variance (dollars**2) of ``min(C, cap)``."""
    m1 = capped_moment(log_mean, sigma, zero_share, cap, 1)
    m2 = capped_moment(log_mean, sigma, zero_share, cap, 2)
    return m1, m2 - m1 * m1


def capped_cumulants(log_mean: np.ndarray, sigma: float, zero_share: float,
                     cap: float) -> tuple[float, float, float]:
    """Sum over beneficiaries of the first three cumulants of ``min(C, cap)``.

    Returns
    -------
    k1, k2, k3 : float
        Mean (dollars), variance (dollars**2) and third cumulant (dollars**3) of the
        sum of independent capped costs.
    """
    m1, m2, m3 = (capped_moment(log_mean, sigma, zero_share, cap, k) for k in (1, 2, 3))
    return float(m1.sum()), float((m2 - m1**2).sum()), float((m3 - 3 * m2 * m1 + 2 * m1**3).sum())


# ---- bands of iid beneficiaries --------------------------------------------------------


@dataclass(frozen=True)
class Bands:
    """Groups of iid beneficiaries, each with a capped hurdle-lognormal annual cost.

    Attributes
    ----------
    count : int64[B]
        Beneficiaries in each band.
    log_mean : float64[B]
        Log-location of a band member's positive cost (log dollars).
    sigma, zero_share : float64[B]
        Log-sd of the positive cost; probability of zero cost.
    cap : float64[B]
        Per-beneficiary cap, dollars (finite).
    """

    count: np.ndarray
    log_mean: np.ndarray
    sigma: np.ndarray
    zero_share: np.ndarray
    cap: np.ndarray

    def moments(self) -> tuple[float, float]:
        """Mean (dollars) and variance (dollars**2) of the bands' total."""
        mean = var = 0.0
        for b in range(self.count.size):
            m, v = capped_mean_var(self.log_mean[b], self.sigma[b], self.zero_share[b], self.cap[b])
            mean += self.count[b] * float(m)
            var += self.count[b] * float(v)
        return mean, var


def _inverse_capped_mean(target: np.ndarray, lo: np.ndarray, hi: np.ndarray, sigma: float,
                         zero_share: float, cap: float) -> np.ndarray:
    """``theta`` with ``E[min(C(theta), cap)] = target``, by bisection on ``[lo, hi]``.

    The capped mean increases with ``theta``, and a band's average capped mean is
    reached inside the band's range of ``theta``, so the bracket always holds.
    """
    lo, hi = lo.astype(float), hi.astype(float)
    for _ in range(64):  # 2**-64 of the bracket: below float resolution
        mid = 0.5 * (lo + hi)
        low_side = capped_moment(mid, sigma, zero_share, cap, 1) < target
        lo = np.where(low_side, mid, lo)
        hi = np.where(low_side, hi, mid)
    return 0.5 * (lo + hi)


def band_cohort(theta: np.ndarray, sigma: float, zero_share: float, cap: float,
                n_bands: int) -> Bands:
    """Bands of one cohort: equal widths in ``theta``, a mean-matching node in each.

    Parameters
    ----------
    theta : float64[n]
        Log-location of each beneficiary's positive cost (log dollars).
    sigma, zero_share, cap : float
        The cohort's log-sd, zero-cost probability and cap (dollars).
    n_bands : int
        Number of bands; empty bands are dropped.
    """
    theta = np.asarray(theta, dtype=float)
    if theta.size == 0:
        empty = np.empty(0)
        return Bands(np.empty(0, np.int64), empty, empty, empty, empty)
    lo, hi = float(theta.min()), float(theta.max())
    if hi - lo <= 1e-12 * max(1.0, abs(lo)):
        index = np.zeros(theta.size, dtype=np.int64)
        n_bands = 1
    else:
        index = np.minimum(((theta - lo) / (hi - lo) * n_bands).astype(np.int64), n_bands - 1)
    count = np.bincount(index, minlength=n_bands)
    used = count > 0
    mean = capped_moment(theta, sigma, zero_share, cap, 1)
    band_mean = np.bincount(index, weights=mean, minlength=n_bands)[used] / count[used]
    band_lo = np.full(n_bands, np.inf)
    band_hi = np.full(n_bands, -np.inf)
    np.minimum.at(band_lo, index, theta)
    np.maximum.at(band_hi, index, theta)
    node = _inverse_capped_mean(band_mean, band_lo[used], band_hi[used], sigma, zero_share, cap)
    k = int(used.sum())
    return Bands(count[used].astype(np.int64), node, np.full(k, sigma), np.full(k, zero_share),
                 np.full(k, cap))


def band_panel(panel: PanelArrays, caps: np.ndarray, log_shift: float = 0.0,
               bands_per_cohort: int = DEFAULT_BANDS_PER_COHORT) -> Bands:
    """All cohorts of a panel as bands.

    Parameters
    ----------
    panel : PanelArrays
        The scenario's panel (`simsuite.population.build_panel`).
    caps : float64[C]
        Per-cohort cap, dollars (finite).
    log_shift : float
        Added to every ``theta`` (``log(1 - true_savings)``).
    bands_per_cohort : int
        Bands in each cohort.
    """
    parts = []
    for c, model in enumerate(panel.models):
        theta = panel.log_mean_expected[panel.cohort_start[c]:panel.cohort_start[c + 1]] + log_shift
        parts.append(band_cohort(theta, model.sigma, model.zero_share, float(caps[c]), bands_per_cohort))
    return Bands(*(np.concatenate([getattr(p, f) for p in parts])
                   for f in ("count", "log_mean", "sigma", "zero_share", "cap")))


def panel_moments(panel: PanelArrays, caps: np.ndarray, log_shift: float = 0.0) -> tuple[float, float]:
    """Closed-form mean (dollars) and variance (dollars**2) of the capped panel total."""
    mean = var = 0.0
    for c, model in enumerate(panel.models):
        theta = panel.log_mean_expected[panel.cohort_start[c]:panel.cohort_start[c + 1]] + log_shift
        m, v = capped_mean_var(theta, model.sigma, model.zero_share, float(caps[c]))
        mean += float(m.sum())
        var += float(v.sum())
    return mean, var


# ---- discretisation and convolution ------------------------------------------------------


def discretise_capped(log_mean: float, sigma: float, zero_share: float, cap: float,
                      h: float) -> np.ndarray:
    """Probabilities of ``min(C, cap)`` on the lattice ``0, h, 2h, ...`` (mean-preserving).

    The mass of each interval ``[kh, (k+1)h]`` (and the atom at ``cap``) is split
    between the interval's two lattice points in the proportions that keep its mean,
    so the lattice variable has exactly the mass and mean of ``min(C, cap)``; its
    variance is larger by at most ``h**2 / 4``.

    Returns
    -------
    float64[K + 2]
        Probability at ``k h`` for ``k = 0 .. K + 1``, where ``K = floor(cap / h)``.
    """
    last = int(math.floor(cap / h))
    edges = np.append(np.arange(last + 1) * h, cap)
    with np.errstate(divide="ignore"):
        z = (np.log(edges) - log_mean) / sigma
    prob = _normal_mass_between(z[:-1], z[1:])
    # Partial first moment of the lognormal over each interval.
    part = math.exp(log_mean + 0.5 * sigma * sigma) * _normal_mass_between(z[:-1] - sigma, z[1:] - sigma)
    to_upper = np.clip((part - edges[:-1] * prob) / h, 0.0, prob)
    pmf = np.zeros(last + 2)
    pmf[: last + 1] += prob - to_upper
    pmf[1 : last + 2] += to_upper
    atom = special.ndtr(-z[-1])  # P(C >= cap | C > 0)
    frac = cap / h - last
    pmf[last] += atom * (1.0 - frac)
    pmf[last + 1] += atom * frac
    pmf *= 1.0 - zero_share
    pmf[0] += zero_share
    return pmf


def _normal_mass_between(za: np.ndarray, zb: np.ndarray) -> np.ndarray:
    """``Phi(zb) - Phi(za)`` without cancellation in the upper tail."""
    upper = za > 0
    return np.where(upper, special.ndtr(-za) - special.ndtr(-zb), special.ndtr(zb) - special.ndtr(za))


def bernstein_deviation(var: float, bound: float, eps: float) -> float:
    """Deviation ``t`` (dollars) with ``P(T - E T >= t) <= eps`` by Bernstein's inequality.

    ``T`` is a sum of independent terms each within ``bound`` of its mean and with total
    variance ``var``: ``P(T - E T >= t) <= exp(-t**2 / (2 (var + bound t / 3)))``.
    """
    ell = 2.0 * math.log(1.0 / eps)
    a = ell * bound / 3.0
    return 0.5 * (a + math.sqrt(a * a + 4.0 * ell * var))


@dataclass(frozen=True)
class TotalDistribution:
    """The distribution of a panel total on a lattice window.

    Attributes
    ----------
    values : float64[M]
        Lattice points ``(k0 + j) h``, dollars.
    pmf : float64[M]
        Probability of each point (sums to 1).
    h : float
        Bucket size, dollars.
    aliasing_bound : float
        Upper bound on the probability that the total lies outside the window.
    """

    values: np.ndarray
    pmf: np.ndarray
    h: float
    aliasing_bound: float

    @property
    def mean(self) -> float:
        return float(np.dot(self.values, self.pmf))

    @property
    def var(self) -> float:
        return float(np.dot((self.values - self.mean) ** 2, self.pmf))


def total_distribution(bands: Bands, log2_buckets: int = 20, eps: float = DEFAULT_TAIL_EPS,
                       workers: int | None = None) -> TotalDistribution:
    """Distribution of the total cost of ``bands`` on ``2**log2_buckets`` lattice points.

    Parameters
    ----------
    bands : Bands
        Groups of iid beneficiaries.
    log2_buckets : int
        ``M = 2**log2_buckets`` buckets.
    eps : float
        Allowed probability outside the window on each side (Bernstein bound).
    workers : int, optional
        Threads for the FFTs (`scipy.fft`).
    """
    m = 1 << int(log2_buckets)
    mean, var = bands.moments()
    # Each capped cost lies in [0, cap + h] after rounding; h << cap in practice, so a 1%
    # margin on the bound and the variance keeps Bernstein valid for the lattice variables.
    t = bernstein_deviation(1.01 * var, 1.01 * float(bands.cap.max()), eps)
    lo = max(0.0, mean - t)
    h = (mean + t - lo) / (m - 1)
    k0 = int(math.floor(lo / h))

    # Largest variance first: the total's characteristic function then falls below
    # exp(-LOG_CF_FLOOR) at most frequencies after a few nodes. Each node's |cf| <= 1, so
    # a frequency once below the floor stays there and is dropped for good; the rest of
    # the nodes need their cf only at the low frequencies still alive, which a chirp-z
    # transform gives without a full FFT.
    node_var = np.array([float(capped_mean_var(bands.log_mean[b], bands.sigma[b], bands.zero_share[b],
                                               bands.cap[b])[1]) for b in range(bands.count.size)])
    order = np.argsort(-bands.count * node_var, kind="stable")
    n_freq = m // 2 + 1
    alive = n_freq
    log_cf = np.zeros(n_freq, dtype=complex)
    for b in order:
        pmf = discretise_capped(bands.log_mean[b], bands.sigma[b], bands.zero_share[b], bands.cap[b], h)
        if pmf.size > m:  # wrapping the node's own support is exact modulo M h
            pmf = np.bincount(np.arange(pmf.size) % m, weights=pmf, minlength=m)
        if 16 * alive < n_freq:
            cf = czt(pmf, m=alive, w=np.exp(-2j * math.pi / m))
        else:
            cf = scipy.fft.rfft(pmf, n=m, workers=workers)[:alive]
        with np.errstate(divide="ignore"):
            log_cf[:alive] += bands.count[b] * np.log(cf)
        above = np.flatnonzero(log_cf.real[:alive] > -LOG_CF_FLOOR)
        alive = int(above[-1]) + 1 if above.size else 1
    cf_total = np.zeros(n_freq, dtype=complex)
    keep = log_cf.real[:alive] > -LOG_CF_FLOOR
    cf_total[:alive][keep] = np.exp(log_cf[:alive][keep])
    wrapped = scipy.fft.irfft(cf_total, n=m, workers=workers)
    # Residue j of T / h modulo M is the window point k0 + ((j - k0) mod M).
    pmf_total = np.clip(np.roll(wrapped, -(k0 % m)), 0.0, None)
    pmf_total /= pmf_total.sum()
    values = (k0 + np.arange(m)) * h
    tail = math.exp(-t * t / (2.0 * (1.01 * var + 1.01 * float(bands.cap.max()) * t / 3.0)))
    return TotalDistribution(values, pmf_total, h, min(1.0, 2.0 * tail))


# ---- which scenarios can be done exactly ----------------------------------------------------


def _non_default_fields(model: BaseModel, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves of ``model`` that differ from their defaults."""
    out = []
    for name, field in type(model).model_fields.items():
        path = f"{prefix}{name}"
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out.extend(_non_default_fields(value, path + "."))
            continue
        if field.is_required():
            out.append(path)
            continue
        if value != field.get_default(call_default_factory=True):
            out.append(path)
    return out


def _understood(path: str) -> bool:
    parts = path.split(".")
    return any(".".join(parts[:i]) in EXACT_UNDERSTOOD_FIELDS for i in range(1, len(parts) + 1))


def exact_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Why ``scenario`` cannot be computed exactly, as ``(field, problem)`` pairs (empty = it can).

    The method needs independent beneficiaries with a parametric capped cost and
    contracts that settle on the capped panel total alone.
    """
    problems = [
        (path, "is not supported by the exact method (it needs independent beneficiaries with "
               "the parametric cost model); use Monte Carlo")
        for path in _non_default_fields(scenario.spec) if not _understood(path)
    ]
    for i, contract in enumerate(scenario.contracts):
        where, name = f"contracts[{i}]", f"contract '{contract.name}' ({contract.family})"
        if not contract.caps:
            continue
        if contract.uses_episodes or contract.family not in EXACT_FAMILIES:
            problems.append((where, f"{name} has no exact method yet; use Monte Carlo"))
        elif len(contract.caps) != 1:
            problems.append((where, f"{name} settles on several capped sums at once, whose joint "
                                    "distribution the exact method does not compute; use Monte Carlo"))
        elif not np.all(np.isfinite(_cohort_caps(scenario.spec, contract.caps[0]))):
            problems.append((f"{where}.overrides.truncation_percentile",
                             f"{name} does not cap per-beneficiary cost; the exact method needs a "
                             "finite cap (truncation_percentile < 1); use Monte Carlo"))
    return problems


def _cohort_caps(spec: ScenarioSpec, cap: CapSpec) -> np.ndarray:
    return build_panel(spec).caps_for(cap)


def check_exact(scenario: Scenario) -> None:
    """Raise `InputError` (one line) if ``scenario`` cannot be computed exactly."""
    problems = exact_problems(scenario)
    if problems:
        field, problem = problems[0]
        raise InputError(scenario.source, field, problem)


# ---- the exact run ----------------------------------------------------------------------------


def _panel_year(scenario: Scenario, panel: PanelArrays, cap: CapSpec,
                expenditure: np.ndarray) -> PanelYear:
    """The `PanelYear` a contract settles on, as `simsuite.engine.run` builds it, with the
    lattice values of the capped total in place of simulated totals."""
    a = scenario.spec.assumptions
    benchmark = panel.expected_total(panel.caps_for(cap)) * (1.0 + a.benchmark_margin)
    revenue = (None if a.participant_revenue_to_benchmark is None
               else a.participant_revenue_to_benchmark * benchmark)
    return PanelYear(
        n_beneficiaries=panel.size,
        benchmark=np.full(expenditure.shape, benchmark),
        expenditure=expenditure,
        quality_score=np.full(expenditure.shape, a.quality_score),
        quality_standard=a.quality_standard,
        participant_revenue=revenue,
        low_revenue=a.low_revenue,
        capped={cap: expenditure},
    )


def _measures(contract: Contract, year_for: Callable[[np.ndarray], PanelYear],
              values: np.ndarray, pmf: np.ndarray) -> dict[str, float]:
    result = contract.settle(year_for(values))
    return summarize_weighted(result.net, result.gain_shared, pmf)


def _error_allowance(contract: Contract, year_for: Callable[[np.ndarray], PanelYear],
                     dist: TotalDistribution, base: dict[str, float], rel_sd_error: float,
                     mean_error: float) -> dict[str, float]:
    """How much each measure moves when the total is perturbed by its measured error.

    The total's computed distribution differs from the model's by a small error in
    scale (the relative sd error found by the moment check), in location (the mean
    error) and by the lattice (one bucket ``h``). Each measure is recomputed on the
    distribution stretched by ``1 +- rel_sd_error`` about its mean and shifted by
    ``+- (|mean_error| + h)``; the largest change is the allowance (dollars or
    probability), a first-order estimate of the exact method's own error.
    """
    centre = dist.mean
    shift = abs(mean_error) + dist.h
    stretch = max(abs(rel_sd_error), 1e-12)
    allowance = dict.fromkeys(base, 0.0)
    for s in (1.0 + stretch, 1.0 - stretch):
        for d in (shift, -shift):
            moved = _measures(contract, year_for, centre + (dist.values - centre) * s + d, dist.pmf)
            for k in allowance:
                allowance[k] = max(allowance[k], abs(moved[k] - base[k]))
    return allowance


def run_exact(scenario: Scenario, bands_per_cohort: int = DEFAULT_BANDS_PER_COHORT,
              log2_buckets: int | None = None, eps: float = DEFAULT_TAIL_EPS) -> xr.Dataset:
    """Settle every contract of ``scenario`` on the exact distribution of the panel total.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (`simsuite.load_scenario`).
    bands_per_cohort : int
        Risk bands per enrollment type (equal widths in log cost); the banding error is
        reported in the attributes.
    log2_buckets : int, optional
        ``2**log2_buckets`` lattice points; by default the smallest power of two
        (from 2**14 to 2**22) whose bucket adds about 1e-5 of relative variance.
    eps : float
        Allowed probability outside the window on each side.

    Returns
    -------
    xarray.Dataset
        ``summary(contract, measure)`` with the measures of `simsuite.risk.MEASURES`
        (money in dollars per year, positive = to the provider; VaR/TVaR on the loss;
        probabilities as fractions), ``summary_se`` (zero: no sampling error),
        ``summary_error(contract, measure)`` (first-order estimate of the method's own
        error, same units), ``benchmark(contract)``. Attributes report, for each cap set
        ``pNN`` (truncation percentile): the bucket size, the number of buckets and
        bands, the aliasing bound, and the relative errors of the computed mean and
        variance against the closed forms, split into banding and discretisation.

    Raises
    ------
    InputError
        If the scenario needs Monte Carlo (see `exact_problems`).
    """
    check_exact(scenario)
    spec = scenario.spec
    panel = build_panel(spec)
    shift = math.log(1.0 - spec.assumptions.true_savings)
    names = [c.name for c in scenario.contracts]
    values = np.zeros((len(names), len(MEASURES)))
    errors = np.zeros_like(values)
    benchmarks = np.full(len(names), np.nan)
    attrs: dict[str, Any] = {}
    cache: dict[CapSpec, TotalDistribution] = {}

    for i, contract in enumerate(scenario.contracts):
        if not contract.caps:
            # The settlement reads no cost: one point of mass 1 is exact.
            v = _measures(contract, lambda x: _panel_year(scenario, panel, CapSpec(), x),
                          np.zeros(1), np.ones(1))
            values[i] = [v[m] for m in MEASURES]
            continue
        cap = contract.caps[0]
        tag = _cap_tag(cap)
        if cap not in cache:
            cache[cap] = _distribution_for(panel, panel.caps_for(cap), shift, bands_per_cohort,
                                           log2_buckets, eps, attrs, tag)
        dist = cache[cap]

        def year_for(x: np.ndarray, cap: CapSpec = cap) -> PanelYear:
            return _panel_year(scenario, panel, cap, x)

        # Points below TRIM_RELATIVE of the largest probability (far tails and the FFT's
        # rounding floor, ~1e-17) carry no weight any measure can see; dropping them makes
        # settlement several times faster. Their total is reported.
        support = dist.pmf > TRIM_RELATIVE * dist.pmf.max()
        attrs[f"{tag}_trimmed_probability"] = float(dist.pmf[~support].sum())
        sub = TotalDistribution(dist.values[support], dist.pmf[support], dist.h, dist.aliasing_bound)
        v = _measures(contract, year_for, sub.values, sub.pmf)
        rel_sd = 0.5 * abs(attrs[f"{tag}_var_rel_error"])
        allowance = _error_allowance(contract, year_for, sub, v, rel_sd,
                                     attrs[f"{tag}_mean_rel_error"] * attrs[f"{tag}_model_mean"])
        values[i] = [v[m] for m in MEASURES]
        errors[i] = [allowance[m] for m in MEASURES]
        benchmarks[i] = year_for(np.zeros(1)).benchmark[0]

    attrs.update({
        "title": spec.name,
        "method": "exact (FFT)",
        "scenario_source": scenario.source,
        "scenario": scenario.text,
        "performance_year": spec.performance_year,
        "beneficiaries": spec.population.beneficiaries,
        "bands_per_cohort": bands_per_cohort,
        "simsuite_version": __version__,
        "sign_convention": "positive = money to the provider; risk measures on loss = -net",
    })
    return xr.Dataset(
        data_vars={
            "summary": (("contract", "measure"), values,
                        {"long_name": "risk summary (money in USD, probabilities as fractions)"}),
            "summary_se": (("contract", "measure"), np.zeros_like(values),
                           {"long_name": "Monte Carlo standard error of summary (none: exact method)"}),
            "summary_error": (("contract", "measure"), errors,
                              {"long_name": "first-order estimate of the exact method's own error"}),
            "benchmark": (("contract",), benchmarks, {"units": "USD", "long_name": "updated benchmark"}),
        },
        coords={
            "contract": names,
            "measure": list(MEASURES),
            "preset": ("contract", [c.preset for c in scenario.contracts]),
            "family": ("contract", [c.family for c in scenario.contracts]),
            "status": ("contract", [c.status for c in scenario.contracts]),
        },
        attrs=attrs,
    )


def _cap_tag(cap: CapSpec) -> str:
    """Attribute prefix of a cap set: ``p99`` (99th national percentile), ``d250000`` (dollars)."""
    parts = []
    if cap.percentile is not None:
        parts.append(f"p{100 * cap.percentile:g}".replace(".", "_"))
    if cap.dollars is not None:
        parts.append(f"d{cap.dollars:g}".replace(".", "_"))
    return "_".join(parts) or "uncapped"


def _distribution_for(panel: PanelArrays, caps: np.ndarray, shift: float, bands_per_cohort: int,
                      log2_buckets: int | None, eps: float, attrs: dict[str, Any],
                      tag: str) -> TotalDistribution:
    """The total's distribution for one cap set; its checks are written into ``attrs``."""
    bands = band_panel(panel, caps, shift, bands_per_cohort)
    model_mean, model_var = panel_moments(panel, caps, shift)
    band_mean, band_var = bands.moments()
    if log2_buckets is None:
        log2_buckets = _default_log2_buckets(bands, band_var, eps)
    dist = total_distribution(bands, log2_buckets, eps)
    attrs.update({
        f"{tag}_buckets": 1 << log2_buckets,
        f"{tag}_bucket_usd": dist.h,
        f"{tag}_nodes": int(bands.count.size),
        f"{tag}_aliasing_bound": dist.aliasing_bound,
        f"{tag}_model_mean": model_mean,
        f"{tag}_model_sd": math.sqrt(model_var),
        f"{tag}_mean_rel_error": dist.mean / model_mean - 1.0,
        f"{tag}_var_rel_error": dist.var / model_var - 1.0,
        f"{tag}_banding_var_rel_error": band_var / model_var - 1.0,
        f"{tag}_discretisation_var_rel_error": dist.var / band_var - 1.0,
    })
    return dist


def _default_log2_buckets(bands: Bands, var: float, eps: float) -> int:
    """Buckets enough for a discretisation variance error of about 1e-5 of the total's.

    Mean-preserving rounding adds about ``h**2 / 6`` to each beneficiary's variance.
    """
    h = math.sqrt(6.0 * DISCRETISATION_TARGET * var / float(bands.count.sum()))
    width = 2.0 * bernstein_deviation(1.01 * var, 1.01 * float(bands.cap.max()), eps)
    return int(np.clip(math.ceil(math.log2(width / h)), 14, 22))


# ---- normal approximation for large panels -------------------------------------------------


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
