"""Exact (up to discretisation) results for panels of independent beneficiaries, by FFT.

The panel total ``T = sum_i min(C_i, cap_c(i))`` of independent hurdle-lognormal
costs has a distribution that can be computed rather than sampled. A positive cost may
also be a mixture of lognormals (`simsuite.costmodel.Severity`, the default body/tail
model): every per-beneficiary function below (moments, lattice probabilities, tails) is
linear in the distribution, so wherever a log-sd ``sigma`` is taken a `Severity` may be
given instead and the result is the component-weighted sum (`_mixed`).

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
from simsuite.contracts.base import UNCAPPED, CapSpec, PanelYear
from simsuite.contracts.episode import priced_discount
from simsuite.contracts.presets import Contract
from simsuite.costmodel import Severity
from simsuite.contracts.shared_savings import (
    SharedSavingsTerms,
    final_sharing_rate,
    minimum_rates,
    shared_loss_rate,
)
from simsuite.errors import InputError
from simsuite.population import PanelArrays, build_panel
from simsuite.risk import MEASURES, summarize_weighted
from simsuite.scenario import Scenario

# Families checked to settle on (benchmark, the panel sum under their one cap) and
# nothing else random: the exact method can push the total's distribution through.
# Contracts that declare no cap at all (FFS) need no cost distribution.
EXACT_FAMILIES: frozenset[str] = frozenset({
    "ffs", "shared_savings", "corridor", "capitation", "quality_payment", "primary_care_first", "episode",
})

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
    "population.patients_file",  # still independent parametric patients, scores from the file
    "cost_model.mean_cost",
    "cost_model.mean_cost_year",
    "cost_model.annual_trend",
    "cost_model.zero_cost_share",
    "cost_model.severity_sigma",
    "cost_model.tail_weight",
    "cost_model.body_sigma",
    "cost_model.tail_sigma",
    "cost_model.tail_mean_ratio",
    "cost_model.risk_elasticity",
    "cost_model.truncation_by_type",
    "assumptions.benchmark_margin",
    "assumptions.true_savings",
    "assumptions.quality_score",  # fixed; an uncertain score (quality_score_sd) is refused
    "assumptions.quality_standard",
    "assumptions.participant_revenue_to_benchmark",
    "assumptions.low_revenue",
    "contracts",
    "run",
    "episodes",  # independent categories: Poisson or fixed counts, parametric episode costs
})

DEFAULT_BANDS_PER_COHORT = 64
# Probability allowed outside the window on each side (Bernstein bound).
DEFAULT_TAIL_EPS = 1e-14
# The same for unbounded totals (uncapped lognormal costs): their true tail is heavy,
# so a window holding all but 1e-14 would be needlessly wide; 1e-9 per side is far
# below anything a reported measure (99th percentile at most) can see.
UNBOUNDED_TAIL_EPS = 1e-9
# Frequencies where the total's characteristic function is below exp(-LOG_CF_FLOOR)
# are set to zero: their contribution to any probability is below M * e**-80 ~ 1e-29.
LOG_CF_FLOOR = 80.0
# Lattice points less likely than this fraction of the most likely one are dropped
# before settlement.
TRIM_RELATIVE = 1e-9
# Relative variance error the default bucket size aims at.
DISCRETISATION_TARGET = 1e-5
# The same for one episode's cost: episode sums have far fewer terms than panels, and
# every count vector needs its own FFT, so buckets are coarser.
EPISODE_DISCRETISATION_TARGET = 3e-4
# Count vectors less likely than this are left out (their total is in the bound).
EPISODE_COUNT_FLOOR = 1e-14


# ---- closed forms of the per-beneficiary capped cost ----------------------------------


def _mixed(fn: Callable, log_mean, sigma, zero_share: float, *args):
    """``fn`` of a hurdle lognormal mixture as the weighted sum over its components.

    ``fn(log_mean, sigma, zero_share, *args)`` must be linear in the distribution of the
    cost given the zero-cost probability (an expectation or a probability vector). A
    component ``k`` is the hurdle lognormal with log-location ``log_mean + shift[k]``, log-sd
    ``sigma[k]`` and no zeros; the zero atom is added once, as ``fn`` of a cost that is
    always 0 (``zero_share = 1``).
    """
    total = None
    for w, d, s in zip(sigma.weight, sigma.shift, sigma.sigma):
        part = fn(np.asarray(log_mean, dtype=float) + d, s, 0.0, *args)
        total = _scaled_sum(total, part, (1.0 - zero_share) * w)
    if zero_share > 0.0:
        total = _scaled_sum(total, fn(np.asarray(log_mean, dtype=float), sigma.sigma[0], 1.0, *args), zero_share)
    return total


def _scaled_sum(total, part, weight: float):
    if isinstance(part, tuple):  # sparse (index, probability) pairs: concatenate
        idx, w = part
        return (idx, w * weight) if total is None else (np.concatenate([total[0], idx]),
                                                        np.concatenate([total[1], w * weight]))
    return part * weight if total is None else total + part * weight


def capped_moment(log_mean: np.ndarray | float, sigma: float | Severity, zero_share: float, cap: float,
                  k: int) -> np.ndarray:
    """``E[min(C, cap)**k]`` of a hurdle-lognormal cost ``C``, dollars**k.

    Parameters
    ----------
    log_mean : array_like
        Log-location of the positive part (log dollars).
    sigma : float or Severity
        Log-sd of the positive part (or its mixture shape; see `_mixed`).
    zero_share : float
        Probability of zero cost.
    cap : float
        Per-beneficiary cap, dollars (> 0; ``inf`` = uncapped).
    k : int
        Order of the raw moment (>= 1).
    """
    if isinstance(sigma, Severity):
        return _mixed(capped_moment, log_mean, sigma, zero_share, cap, k)
    mu = np.asarray(log_mean, dtype=float)
    if not math.isfinite(cap):
        return (1.0 - zero_share) * np.exp(k * mu + 0.5 * (k * sigma) ** 2)
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


def payout_moment(log_mean: np.ndarray | float, sigma: float, zero_share: float, attach: float,
                  coins: float, k: int) -> np.ndarray:
    """``E[g(C)**k]`` (``k`` = 1 or 2), dollars**k, for ``g(x) = min(x, a) + coins (x - a)+``.

    ``g`` is what the organisation pays for one beneficiary under specific stop-loss
    attaching at ``a`` with coinsurance ``coins``; ``coins = 0`` is a hard cap (MSSP
    truncation) and ``a = inf`` no cap. With ``d = (C - a)+``: ``E[d] = E[C] - E[min(C, a)]``
    and ``E[d**2] = E[C**2] - E[min(C, a)**2] - 2 a E[d]`` (as ``C**2 = a**2 + 2 a d + d**2``
    above ``a``), so ``E[g] = E[min] + coins E[d]`` and
    ``E[g**2] = E[min**2] + 2 coins a E[d] + coins**2 E[d**2]``.
    """
    if not math.isfinite(attach) or coins == 0.0:
        return capped_moment(log_mean, sigma, zero_share, attach, k)
    m1 = capped_moment(log_mean, sigma, zero_share, attach, 1)
    d1 = capped_moment(log_mean, sigma, zero_share, math.inf, 1) - m1
    if k == 1:
        return m1 + coins * d1
    if k != 2:
        raise ValueError("payout_moment: k must be 1 or 2")
    m2 = capped_moment(log_mean, sigma, zero_share, attach, 2)
    d2 = capped_moment(log_mean, sigma, zero_share, math.inf, 2) - m2 - 2.0 * attach * d1
    return m2 + 2.0 * coins * attach * d1 + coins * coins * d2


def payout_mean_var(log_mean: np.ndarray | float, sigma: float, zero_share: float, attach: float,
                    coins: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean (dollars) and variance (dollars**2) of ``g(C)`` (see `payout_moment`)."""
    m1 = payout_moment(log_mean, sigma, zero_share, attach, coins, 1)
    return m1, payout_moment(log_mean, sigma, zero_share, attach, coins, 2) - m1 * m1


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
        Per-beneficiary cap or stop-loss attachment, dollars (``inf`` = uncapped).
    coins : float64[B] or None
        Share of cost above ``cap`` still paid (specific stop-loss coinsurance);
        ``None`` = 0 (a hard cap). A band member pays ``min(C, cap) + coins (C - cap)+``.
    """

    count: np.ndarray
    log_mean: np.ndarray
    sigma: np.ndarray
    zero_share: np.ndarray
    cap: np.ndarray
    coins: np.ndarray | None = None

    def coinsurance(self, b: int) -> float:
        """Coinsurance of band ``b`` (0 when ``coins`` is not given)."""
        return 0.0 if self.coins is None else float(self.coins[b])

    @property
    def bounded(self) -> bool:
        """Whether every member's payment is bounded (finite cap, no coinsurance above it)."""
        return bool(np.all(np.isfinite(self.cap)) and (self.coins is None or np.all(self.coins == 0.0)))

    def moments(self) -> tuple[float, float]:
        """Mean (dollars) and variance (dollars**2) of the bands' total."""
        mean = var = 0.0
        for b in range(self.count.size):
            m, v = payout_mean_var(self.log_mean[b], self.sigma[b], self.zero_share[b], self.cap[b],
                                   self.coinsurance(b))
            mean += self.count[b] * float(m)
            var += self.count[b] * float(v)
        return mean, var


def _inverse_capped_mean(target: np.ndarray, lo: np.ndarray, hi: np.ndarray, sigma: float,
                         zero_share: float, cap: float, coins: float = 0.0) -> np.ndarray:
    """``theta`` with ``E[min(C(theta), cap)] = target``, by bisection on ``[lo, hi]``.

    The capped mean increases with ``theta``, and a band's average capped mean is
    reached inside the band's range of ``theta``, so the bracket always holds.
    """
    lo, hi = lo.astype(float), hi.astype(float)
    for _ in range(64):  # 2**-64 of the bracket: below float resolution
        mid = 0.5 * (lo + hi)
        low_side = payout_moment(mid, sigma, zero_share, cap, coins, 1) < target
        lo = np.where(low_side, mid, lo)
        hi = np.where(low_side, hi, mid)
    return 0.5 * (lo + hi)


def band_cohort(theta: np.ndarray, sigma: float, zero_share: float, cap: float,
                n_bands: int, coins: float = 0.0) -> Bands:
    """Bands of one cohort: equal widths in ``theta``, a mean-matching node in each.

    Parameters
    ----------
    theta : float64[n]
        Log-location of each beneficiary's positive cost (log dollars).
    sigma, zero_share, cap : float
        The cohort's log-sd, zero-cost probability and cap (dollars; ``inf`` = none).
    n_bands : int
        Number of bands; empty bands are dropped.
    coins : float
        Coinsurance above ``cap`` (specific stop-loss); 0 = hard cap.
    """
    theta = np.asarray(theta, dtype=float)
    if theta.size == 0:
        empty = np.empty(0)
        return Bands(np.empty(0, np.int64), empty, empty, empty, empty, empty)
    lo, hi = float(theta.min()), float(theta.max())
    if hi - lo <= 1e-12 * max(1.0, abs(lo)):
        index = np.zeros(theta.size, dtype=np.int64)
        n_bands = 1
    else:
        index = np.minimum(((theta - lo) / (hi - lo) * n_bands).astype(np.int64), n_bands - 1)
    count = np.bincount(index, minlength=n_bands)
    used = count > 0
    mean = payout_moment(theta, sigma, zero_share, cap, coins, 1)
    band_mean = np.bincount(index, weights=mean, minlength=n_bands)[used] / count[used]
    band_lo = np.full(n_bands, np.inf)
    band_hi = np.full(n_bands, -np.inf)
    np.minimum.at(band_lo, index, theta)
    np.maximum.at(band_hi, index, theta)
    node = _inverse_capped_mean(band_mean, band_lo[used], band_hi[used], sigma, zero_share, cap, coins)
    k = int(used.sum())
    # A mixture shape is kept as an object per band (the functions here dispatch on it).
    shapes = np.full(k, sigma, dtype=object if isinstance(sigma, Severity) else float)
    return Bands(count[used].astype(np.int64), node, shapes, np.full(k, zero_share),
                 np.full(k, cap), np.full(k, coins))


def band_panel(panel: PanelArrays, caps: np.ndarray, log_shift: float = 0.0,
               bands_per_cohort: int = DEFAULT_BANDS_PER_COHORT, coins: float = 0.0) -> Bands:
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
    coins : float
        Coinsurance above the caps (specific stop-loss); 0 = hard caps.
    """
    parts = []
    for c, model in enumerate(panel.models):
        theta = panel.log_mean_expected[panel.cohort_start[c]:panel.cohort_start[c + 1]] + log_shift
        parts.append(band_cohort(theta, model.severity, model.zero_share, float(caps[c]), bands_per_cohort, coins))
    return Bands(*(np.concatenate([getattr(p, f) for p in parts])
                   for f in ("count", "log_mean", "sigma", "zero_share", "cap", "coins")))


def panel_moments(panel: PanelArrays, caps: np.ndarray, log_shift: float = 0.0,
                  coins: float = 0.0) -> tuple[float, float]:
    """Closed-form mean (dollars) and variance (dollars**2) of the panel total of
    ``min(C, cap) + coins (C - cap)+`` (every beneficiary, no banding)."""
    mean = var = 0.0
    for c, model in enumerate(panel.models):
        theta = panel.log_mean_expected[panel.cohort_start[c]:panel.cohort_start[c + 1]] + log_shift
        m, v = payout_mean_var(theta, model.severity, model.zero_share, float(caps[c]), coins)
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
    if isinstance(sigma, Severity):
        return _mixed(discretise_capped, log_mean, sigma, zero_share, cap, h)
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


def discretise_payout(log_mean: float, sigma: float, zero_share: float, attach: float, coins: float,
                      h: float, top_index: int, fine_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of ``min(g(C), top)`` on the lattice ``0, h, 2h, ...`` (mean-preserving), sparse.

    ``g(x) = min(x, attach) + coins (x - attach)+`` is a beneficiary's payment (``attach =
    inf``: the whole cost), which may be unbounded; ``top = top_index h`` truncates it
    (the caller puts ``top`` above its window, where truncation changes nothing it reads).
    Intervals are one bucket wide up to ``fine_index h`` and then grow geometrically
    (2% per interval, on lattice points) up to ``top``: beyond a high quantile the mass is
    tiny and its exact placement matters only through the variance it adds (at most
    ``width**2 / 4`` times its mass, which the moment check reports). Each interval's
    mass is split between its two end points so that its mean is kept, as in
    `discretise_capped`; the rounded variable is therefore a mean-preserving spread of
    ``min(g(C), top)`` (used by `_unbounded_window`'s bound).

    Returns
    -------
    index : int64[K]
        Lattice indices (may repeat).
    prob : float64[K]
        Probability at each index (sums to 1).
    """
    if isinstance(sigma, Severity):
        return _mixed(discretise_payout, log_mean, sigma, zero_share, attach, coins, h, top_index, fine_index)
    fine_index = max(1, min(int(fine_index), int(top_index)))
    fine = np.arange(fine_index + 1, dtype=np.int64)
    coarse = [fine_index]
    while coarse[-1] < top_index:
        coarse.append(min(int(top_index), max(coarse[-1] + 1, int(math.ceil(coarse[-1] * 1.02)))))
    idx = np.concatenate([fine, np.array(coarse[1:], dtype=np.int64)])
    y = idx * h
    if math.isfinite(attach):
        x = np.where(y <= attach, y, attach + (y - attach) / coins)
    else:
        x = y.astype(float)
    with np.errstate(divide="ignore"):
        z = (np.log(x) - log_mean) / sigma
    prob = _normal_mass_between(z[:-1], z[1:])
    scale = math.exp(log_mean + 0.5 * sigma * sigma)
    part = scale * _normal_mass_between(z[:-1] - sigma, z[1:] - sigma)
    if math.isfinite(attach) and coins != 1.0:
        # g(x) = x - (1 - coins)(x - a)+: remove that part of the interval's first moment.
        xa = np.maximum(x, attach)
        with np.errstate(divide="ignore"):
            za = (np.log(xa) - log_mean) / sigma
        above_mass = _normal_mass_between(za[:-1], za[1:])
        above_part = scale * _normal_mass_between(za[:-1] - sigma, za[1:] - sigma)
        part = part - (1.0 - coins) * (above_part - attach * above_mass)
    width = y[1:] - y[:-1]
    to_upper = np.clip((part - y[:-1] * prob) / width, 0.0, prob)
    atom = special.ndtr(-z[-1])  # P(g(C) >= top | C > 0)
    index = np.concatenate([idx[:-1], idx[1:], [top_index, 0]])
    weight = np.concatenate([prob - to_upper, to_upper, [atom, 0.0]]) * (1.0 - zero_share)
    weight[-1] = zero_share
    return index, weight


@dataclass(frozen=True)
class TailWindow:
    """A window ``[lo, hi]`` (dollars) for an unbounded total and its tail bounds.

    ``lower_bound >= P(T < lo)`` and ``upper_bound >= P(T >= hi)``. Both are strict
    under the model (see `_unbounded_window`), not estimates.
    """

    lo: float
    hi: float
    lower_bound: float
    upper_bound: float
    tail_at: Callable[[float, float], float]


def _node_payout_tail(bands: Bands, b: int, level: float) -> float:
    """``P(g(C_b) > level)`` for a member of band ``b`` (closed form)."""
    a, coins = float(bands.cap[b]), bands.coinsurance(b)
    x = level if level <= a else (a + (level - a) / coins if coins > 0 else math.inf)
    if not math.isfinite(x):
        return 0.0
    sev = bands.sigma[b] if isinstance(bands.sigma[b], Severity) else Severity.lognormal(bands.sigma[b])
    return float((1.0 - bands.zero_share[b]) * sum(
        w * special.ndtr((bands.log_mean[b] + d - math.log(x)) / s) for w, d, s in zip(sev.weight, sev.shift, sev.sigma)))


def _unbounded_window(bands: Bands, eps: float) -> TailWindow:
    """Window for the total ``T`` of unbounded payments, from strict Chernoff bounds.

    For any truncation level ``c``, ``T >= x`` needs some member's payment above ``c`` or
    ``S_c = sum_i min(g_i, c) >= x``, so ``P(T >= x) <= sum_i P(g_i > c) +
    min_theta exp(-theta x) prod_i E[exp(theta min(g_i, c))]``; and ``P(T <= x) <=
    P(S_c <= x) <= min_{theta < 0} (the same)``. The moment generating functions are
    taken from a coarse mean-preserving lattice version of ``min(g_i, c)``, which is a
    mean-preserving spread of it, so by convexity of ``exp`` its MGF is an upper bound:
    the bounds stay strict. ``c`` and ``theta`` are searched on grids; the window is the
    narrowest whose two bounds are each below ``eps``.
    """
    mean, var = bands.moments()
    sd = math.sqrt(var)
    levels = sd * np.geomspace(0.25, 400.0, 10)
    tau = np.geomspace(1e-3, 60.0, 32)
    log_mgf_pos = np.zeros((levels.size, tau.size))
    log_mgf_neg = np.zeros((levels.size, tau.size))
    tails = np.zeros(levels.size)
    for i, c in enumerate(levels):
        hc = c / 128.0
        for b in range(bands.count.size):
            idx, w = discretise_payout(bands.log_mean[b], bands.sigma[b], bands.zero_share[b], bands.cap[b],
                                       bands.coinsurance(b), hc, 128, 128)
            v = idx / 128.0  # value / c
            w = np.clip(w, 0.0, None)
            logw = np.log(np.where(w > 0, w, 1e-300))
            log_mgf_pos[i] += bands.count[b] * special.logsumexp(logw[None, :] + tau[:, None] * v[None, :], axis=1)
            log_mgf_neg[i] += bands.count[b] * special.logsumexp(logw[None, :] - tau[:, None] * v[None, :], axis=1)
            tails[i] += bands.count[b] * _node_payout_tail(bands, b, c)

    def upper(x: float) -> float:
        chern = np.exp(np.minimum(0.0, (-tau[None, :] * x / levels[:, None] + log_mgf_pos).min(axis=1)))
        return float(min(1.0, (tails + chern).min()))

    def lower(x: float) -> float:
        if x <= 0.0:
            return 0.0  # T >= 0
        return float(min(1.0, np.exp(np.minimum(0.0, (tau[None, :] * x / levels[:, None] + log_mgf_neg)).min())))

    hi_lo, hi_hi = mean, mean + sd
    while upper(hi_hi) > eps:
        hi_lo, hi_hi = hi_hi, mean + 2.0 * (hi_hi - mean)
    for _ in range(40):
        mid = 0.5 * (hi_lo + hi_hi)
        hi_lo, hi_hi = (mid, hi_hi) if upper(mid) > eps else (hi_lo, mid)
    lo_lo, lo_hi = 0.0, mean  # lower(0) = 0: the largest lo with lower(lo) <= eps
    for _ in range(40):
        mid = 0.5 * (lo_lo + lo_hi)
        lo_lo, lo_hi = (mid, lo_hi) if lower(mid) <= eps else (lo_lo, mid)

    def tail_at(lo: float, hi: float) -> float:
        return lower(lo) + upper(hi)

    return TailWindow(lo_lo, hi_hi, lower(lo_lo), upper(hi_hi), tail_at)


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
                       workers: int | None = None, window: TailWindow | None = None) -> TotalDistribution:
    """Distribution of the total cost of ``bands`` on ``2**log2_buckets`` lattice points.

    Parameters
    ----------
    bands : Bands
        Groups of iid beneficiaries.
    log2_buckets : int
        ``M = 2**log2_buckets`` buckets.
    eps : float
        Allowed probability outside the window on each side: Bernstein's bound if every
        payment is bounded, else the Chernoff/truncation bound of `_unbounded_window`.
    workers : int, optional
        Threads for the FFTs (`scipy.fft`).
    window : TailWindow, optional
        A window already computed by `_unbounded_window` (unbounded payments only).
    """
    m = 1 << int(log2_buckets)
    mean, var = bands.moments()
    if bands.bounded:
        # Each capped cost lies in [0, cap + h] after rounding; h << cap in practice, so a 1%
        # margin on the bound and the variance keeps Bernstein valid for the lattice variables.
        t = bernstein_deviation(1.01 * var, 1.01 * float(bands.cap.max()), eps)
        lo = max(0.0, mean - t)
        h = (mean + t - lo) / (m - 1)
        tail = math.exp(-t * t / (2.0 * (1.01 * var + 1.01 * float(bands.cap.max()) * t / 3.0)))
        bound = min(1.0, 2.0 * tail)
    else:
        window = window or _unbounded_window(bands, eps)
        lo = window.lo
        h = (window.hi - lo) / (m - 2)
    k0 = int(math.floor(lo / h))
    if not bands.bounded:
        # Truncating every payment at the first lattice point above the window changes
        # nothing inside it: the total is below that point only if every payment is, and
        # then no payment was truncated. Mass at or above it is outside the window.
        top_index = k0 + m
        bound = window.tail_at(k0 * h, (k0 + m - 1) * h)

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
        tail_idx = tail_w = None
        if bands.bounded:
            pmf = discretise_capped(bands.log_mean[b], bands.sigma[b], bands.zero_share[b], bands.cap[b], h)
        else:
            # Buckets of width h up to the node's 1 - 1e-7 quantile, then coarser (see
            # discretise_payout); folded modulo M h as the FFT reads them.
            # (For a mixture: the largest component quantile with each component given its
            # share of the 1e-7, so the positive cost exceeds it with probability <= 1e-7.)
            sev = bands.sigma[b] if isinstance(bands.sigma[b], Severity) else Severity.lognormal(bands.sigma[b])
            fine = max(math.exp(bands.log_mean[b] + d + s * special.ndtri(
                max(0.0, 1.0 - 1e-7 / max(1e-300, (1.0 - bands.zero_share[b]) * w * len(sev.weight)))))
                for w, d, s in zip(sev.weight, sev.shift, sev.sigma))
            a, coins = float(bands.cap[b]), bands.coinsurance(b)
            fine = fine if fine <= a else a + coins * (fine - a)
            fine_index = int(math.ceil(fine / h))
            idx, w = discretise_payout(bands.log_mean[b], bands.sigma[b], bands.zero_share[b], a, coins, h,
                                       top_index, fine_index)
            # A dense head (one bucket per point up to the fine limit) and a sparse tail
            # (a few hundred coarse points): the chirp-z transform below costs in
            # proportion to the dense length, the tail is summed directly.
            head = idx <= fine_index
            pmf = np.bincount(idx[head], weights=w[head], minlength=fine_index + 1)
            tail_idx, tail_w = idx[~head] % m, w[~head]
        if pmf.size > m:  # wrapping the node's own support is exact modulo M h
            pmf = np.bincount(np.arange(pmf.size) % m, weights=pmf, minlength=m)
        if 16 * alive < n_freq:
            cf = czt(pmf, m=alive, w=np.exp(-2j * math.pi / m))
            if tail_idx is not None and tail_idx.size:
                freq = np.arange(alive)
                cf = cf + np.exp(-2j * math.pi * np.outer(freq, tail_idx) / m) @ tail_w
        else:
            if tail_idx is not None:
                pmf = np.bincount(np.concatenate([np.arange(pmf.size), tail_idx]),
                                  weights=np.concatenate([pmf, tail_w]), minlength=m)
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
    return TotalDistribution(values, pmf_total, h, bound)


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


# Why a Monte-Carlo-only feature of the population, uncertainty and own-data model is refused.
_MONTE_CARLO_ONLY: dict[str, str] = {
    "assumptions.cost_trend_sd": "a systemic cost-trend shock makes beneficiaries' costs dependent, "
                                 "which the exact method (independent beneficiaries) does not compute",
    "assumptions.benchmark_trend_sd": "a random benchmark trend is not supported by the exact method",
    "assumptions.trend_correlation": "a random benchmark trend is not supported by the exact method",
    "assumptions.benchmark_risk_score": "the benchmark's risk-growth cap is not supported by the exact method yet",
    "assumptions.care_management_pmpm": "effort costs are not supported by the exact method yet",
    "assumptions.ffs_margin_lost": "effort costs are not supported by the exact method yet",
    "cost_model.bootstrap_file": "costs resampled from a file (bootstrap) are not supported by the exact "
                                 "method (it needs the parametric cost model)",
}


def exact_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Why ``scenario`` cannot be computed exactly, as ``(field, problem)`` pairs (empty = it can).

    The method needs independent beneficiaries with the parametric cost model, a fixed
    quality score, and contracts whose settlement is a function of one panel total
    (capped, uncapped or under specific stop-loss) or of independent episode categories.
    """
    problems = [
        (path, "an uncertain quality score is not supported by the exact method (it needs a fixed "
               "quality_score); remove quality_score_sd or use Monte Carlo")
        if path == "assumptions.quality_score_sd" else
        (path, _MONTE_CARLO_ONLY[path] + "; use Monte Carlo") if path in _MONTE_CARLO_ONLY else
        (path, "is not supported by the exact method (it needs independent beneficiaries with "
               "the parametric cost model); use Monte Carlo")
        for path in _non_default_fields(scenario.spec) if not _understood(path)
    ]
    if not isinstance(scenario.spec.assumptions.true_savings, (int, float)):
        problems.insert(0, ("assumptions.true_savings",
                            "uncertain true savings (mean and sd) are not supported by the exact method "
                            "(it needs a fixed true_savings); use Monte Carlo"))
    for i, contract in enumerate(scenario.contracts):
        where, name = f"contracts[{i}]", f"contract '{contract.name}' ({contract.family})"
        if contract.family not in EXACT_FAMILIES:
            if contract.caps:
                problems.append((where, f"{name} has no exact method yet; use Monte Carlo"))
        elif contract.family == "episode":
            if contract.terms.high_cost_cap is None:
                problems.append((f"{where}.overrides.high_cost_cap",
                                 f"{name} does not cap episode costs; the exact method needs a high-cost "
                                 "cap; use Monte Carlo"))
            if not scenario.spec.episodes:
                problems.append(("episodes", f"{name} needs an episodes: section"))
        elif contract.family == "shared_savings" and len(contract.caps) != 1:
            problems.append((where, f"{name} settles on several capped sums at once, whose joint "
                                    "distribution the exact method does not compute; use Monte Carlo"))
    return problems


def check_exact(scenario: Scenario) -> None:
    """Raise `InputError` (one line) if ``scenario`` cannot be computed exactly."""
    problems = exact_problems(scenario)
    if problems:
        field, problem = problems[0]
        raise InputError(scenario.source, field, problem)


# ---- what each family's settlement reads --------------------------------------------------------


@dataclass(frozen=True)
class TotalKey:
    """The panel total a contract settles on: ``sum_i min(C_i, cap) + coins (C_i - cap)+``.

    ``cap`` is the contract's per-beneficiary cap (`CapSpec`; ``UNCAPPED`` = raw cost)
    and ``coins`` the specific stop-loss coinsurance above it (0 = a hard cap).
    """

    cap: CapSpec
    coins: float = 0.0

    @property
    def tag(self) -> str:
        """Attribute prefix, without underscores (the CLI splits attribute names on them)."""
        base = _cap_tag(self.cap).replace("_", "p")
        return base if self.coins == 0.0 else f"{base}coins{self.coins:g}".replace(".", "p")


def total_key(contract: Contract) -> TotalKey | None:
    """The total ``contract`` settles on, or None if its settlement reads no panel cost.

    * shared savings: the capped total (its one cap);
    * corridors (REACH/LEAD), Primary Care First: the uncapped total;
    * capitation: the claims ``sum_i min(C_i, A) + coins (C_i - A)+`` under specific
      stop-loss attaching at ``A`` (the raw total without it); the settlement reads only
      ``retained + coins (raw - retained)`` and the expected totals (see `_panel_year`);
    * FFS, quality payments, episodes: None (no panel cost).
    """
    if contract.family in ("ffs", "quality_payment", "episode"):
        return None
    if contract.family == "capitation" and contract.terms.specific_attachment is not None:
        return TotalKey(CapSpec(dollars=contract.terms.specific_attachment), contract.terms.specific_coinsurance)
    return TotalKey(contract.caps[0])


def _panel_year(scenario: Scenario, panel: PanelArrays, key: TotalKey | CapSpec,
                total: np.ndarray, primary: CapSpec | None = None) -> PanelYear:
    """The `PanelYear` a contract settles on, as `simsuite.engine.run` builds it, with the
    lattice values of the total ``key`` in place of simulated totals.

    Only the fields that the total determines are filled: ``expenditure`` and
    ``capped[key.cap]`` always; ``raw`` when the total is the raw cost. For specific
    stop-loss (``key.coins > 0``) the total is the claims ``R + coins (raw - R)``
    (``R`` = retained below the attachment); passing it as both ``raw`` and ``R`` makes
    capitation's settlement compute exactly those claims (checked against random
    ``(raw, R)`` pairs in the tests). ``expected`` holds the model's expected raw and
    capped totals without the organisation's effort, as the engine's does. The benchmark
    is the expected total under the contract's ``primary`` cap (its first `CapSpec`), as
    in the engine; by default the total's own cap.
    """
    key = key if isinstance(key, TotalKey) else TotalKey(key)
    primary = key.cap if primary is None else primary
    a = scenario.spec.assumptions
    expected = {cap: panel.expected_total(panel.caps_for(cap)) for cap in {UNCAPPED, key.cap, primary}}
    benchmark = expected[primary] * (1.0 + a.benchmark_margin)
    revenue = (None if a.participant_revenue_to_benchmark is None
               else a.participant_revenue_to_benchmark * benchmark)
    is_raw = key.cap == UNCAPPED or key.coins > 0.0
    return PanelYear(
        n_beneficiaries=panel.size,
        benchmark=np.full(total.shape, benchmark),
        expenditure=total,
        quality_score=np.full(total.shape, a.quality_score),
        quality_standard=a.quality_standard,
        participant_revenue=revenue,
        low_revenue=a.low_revenue,
        raw=total if is_raw else None,
        capped={UNCAPPED: total, key.cap: total} if is_raw else {key.cap: total},
        expected=expected,
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
    probability), a first-order estimate of the exact method's own error. The
    probability outside the window (``aliasing_bound``) is added to probabilities.
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
    for k in allowance:
        if k.startswith("p_"):
            allowance[k] += dist.aliasing_bound
    return allowance


def _cost_free(contract: Contract, year_for: Callable[[np.ndarray], PanelYear]) -> bool:
    """Whether the settlement does not read the panel cost (checked, not assumed)."""
    probe = np.array([0.0, 1.0e6, 1.0e9])
    result = contract.settle(year_for(probe))
    return bool(np.all(result.net == result.net[0]) and np.all(result.gain_shared == result.gain_shared[0]))


def run_exact(scenario: Scenario, bands_per_cohort: int = DEFAULT_BANDS_PER_COHORT,
              log2_buckets: int | None = None, eps: float = DEFAULT_TAIL_EPS,
              unbounded_eps: float = UNBOUNDED_TAIL_EPS,
              episode_log2_buckets: int | None = None) -> xr.Dataset:
    """Settle every contract of ``scenario`` on the exact distribution of what it reads.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (`simsuite.load_scenario`).
    bands_per_cohort : int
        Risk bands per enrollment type (equal widths in log cost); the banding error is
        reported in the attributes.
    log2_buckets : int, optional
        ``2**log2_buckets`` lattice points for panel totals; by default the smallest
        power of two (from 2**14 to 2**22) whose bucket adds about 1e-5 of relative variance.
    eps : float
        Allowed probability outside the window on each side, bounded (capped) totals.
    unbounded_eps : float
        The same for unbounded totals (uncapped, or stop-loss with coinsurance), whose
        lognormal tails make a strict bound of ``eps`` needlessly wide.
    episode_log2_buckets : int, optional
        Lattice points for episode cost sums (default: from the episode cost spread,
        2**12 to 2**16).

    Returns
    -------
    xarray.Dataset
        ``summary(contract, measure)`` with the measures of `simsuite.risk.MEASURES`
        (money in dollars per year, positive = to the provider; VaR/TVaR on the loss
        ``-net``; probabilities as fractions), ``summary_se`` (zero: no sampling error),
        ``summary_error(contract, measure)`` (first-order estimate of the method's own
        error, same units), ``benchmark(contract)`` (dollars; for episode contracts the
        expected sum of target prices). Attributes, for each total ``tag`` (``p99``: the
        panel total capped at the 99th percentile; ``uncapped``; ``d150000coins0p1``:
        claims under specific stop-loss at $150,000 with 10% coinsurance; ``ep<category>
        <cap>``: one episode's capped cost): the bucket size and count, the aliasing
        bound and its kind (``{tag}_aliasing_bound_kind``), and the relative errors of
        the computed mean and variance against the closed forms.

    Raises
    ------
    InputError
        If the scenario needs Monte Carlo (see `exact_problems`).
    """
    check_exact(scenario)
    spec = scenario.spec
    panel = build_panel(spec, scenario.patients)
    shift = math.log(1.0 - spec.assumptions.true_savings)
    names = [c.name for c in scenario.contracts]
    values = np.zeros((len(names), len(MEASURES)))
    errors = np.zeros_like(values)
    benchmarks = np.full(len(names), np.nan)
    attrs: dict[str, Any] = {}
    cache: dict[TotalKey, TotalDistribution] = {}

    episode_contracts = [i for i, c in enumerate(scenario.contracts) if c.family == "episode"]
    if episode_contracts:
        results = _episode_results(scenario, [scenario.contracts[i] for i in episode_contracts], attrs,
                                   episode_log2_buckets)
        for i, (v, allowance, target) in zip(episode_contracts, results):
            values[i] = [v[m] for m in MEASURES]
            errors[i] = [allowance[m] for m in MEASURES]
            benchmarks[i] = target

    for i, contract in enumerate(scenario.contracts):
        if contract.family == "episode":
            continue
        key = total_key(contract) or TotalKey(UNCAPPED)

        primary = contract.caps[0] if contract.caps else UNCAPPED

        def year_for(x: np.ndarray, key: TotalKey = key, primary: CapSpec = primary) -> PanelYear:
            return _panel_year(scenario, panel, key, x, primary)

        if total_key(contract) is None or _cost_free(contract, year_for):
            # The settlement reads no cost (FFS; quality payments with a fixed score):
            # one point of mass 1 is exact.
            v = _measures(contract, year_for, np.zeros(1), np.ones(1))
            values[i] = [v[m] for m in MEASURES]
            if contract.has_benchmark:
                benchmarks[i] = year_for(np.zeros(1)).benchmark[0]
            continue
        tag = key.tag
        if key not in cache:
            caps = panel.caps_for(key.cap)
            bounded = bool(np.all(np.isfinite(caps))) and key.coins == 0.0
            cache[key] = _distribution_for(panel, caps, shift, bands_per_cohort, log2_buckets,
                                           eps if bounded else unbounded_eps, attrs, tag, key.coins)
        dist = cache[key]

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
                      tag: str, coins: float = 0.0) -> TotalDistribution:
    """The total's distribution for one cap set; its checks are written into ``attrs``."""
    bands = band_panel(panel, caps, shift, bands_per_cohort, coins)
    model_mean, model_var = panel_moments(panel, caps, shift, coins)
    band_mean, band_var = bands.moments()
    window = None if bands.bounded else _unbounded_window(bands, eps)
    if log2_buckets is None:
        log2_buckets = _default_log2_buckets(bands, band_var, eps, window)
    dist = total_distribution(bands, log2_buckets, eps, window=window)
    attrs.update({
        f"{tag}_buckets": 1 << log2_buckets,
        f"{tag}_bucket_usd": dist.h,
        f"{tag}_nodes": int(bands.count.size),
        f"{tag}_aliasing_bound": dist.aliasing_bound,
        f"{tag}_aliasing_bound_kind": (
            "strict: Bernstein's inequality for bounded (capped) costs" if bands.bounded else
            "strict under the model: truncation plus Chernoff bound with lattice moment generating "
            "functions (mean-preserving spreads, hence upper bounds); computed on grids of truncation "
            "levels and exponents"),
        f"{tag}_model_mean": model_mean,
        f"{tag}_model_sd": math.sqrt(model_var),
        f"{tag}_mean_rel_error": dist.mean / model_mean - 1.0,
        f"{tag}_var_rel_error": dist.var / model_var - 1.0,
        f"{tag}_banding_var_rel_error": band_var / model_var - 1.0,
        f"{tag}_discretisation_var_rel_error": dist.var / band_var - 1.0,
    })
    return dist


def _default_log2_buckets(bands: Bands, var: float, eps: float, window: TailWindow | None = None) -> int:
    """Buckets enough for a discretisation variance error of about 1e-5 of the total's.

    Mean-preserving rounding adds about ``h**2 / 6`` to each beneficiary's variance.
    """
    h = math.sqrt(6.0 * DISCRETISATION_TARGET * var / float(bands.count.sum()))
    if window is None:
        width = 2.0 * bernstein_deviation(1.01 * var, 1.01 * float(bands.cap.max()), eps)
    else:
        width = window.hi - window.lo
    return int(np.clip(math.ceil(math.log2(width / h)), 14, 22))


# ---- episodes (bundled payments) ----------------------------------------------------------------


@dataclass
class _Accumulator:
    """Probability-weighted sums of one contract's results over (count vector, cost) points.

    Mean, second moment, P(loss) and P(shared savings) are summed exactly; the loss is
    also spread onto a fine grid (mean-preserving linear binning, bucket ``width``) for
    VaR and TVaR, whose error from it is at most ``width``.
    """

    lo: float
    width: float
    bins: int
    mass: float = 0.0
    first: float = 0.0
    second: float = 0.0
    p_loss: float = 0.0
    p_gain: float = 0.0
    target: float = 0.0
    hist: np.ndarray | None = None

    def add(self, net: np.ndarray, gain: np.ndarray, w: np.ndarray, target: np.ndarray | None) -> None:
        if self.hist is None:
            self.hist = np.zeros(self.bins + 1)
        # Plain sums rather than np.dot: BLAS threads fight over 2 shared cores and are
        # several times slower here than a single-threaded reduction.
        wn = w * net
        self.mass += float(w.sum())
        self.first += float(wn.sum())
        self.second += float((wn * net).sum())
        self.p_loss += float(w[net < 0].sum())
        self.p_gain += float(w[gain].sum())
        if target is not None:
            self.target += float((w * target).sum())
        pos = np.clip((-net - self.lo) / self.width, 0.0, self.bins - 1e-9)
        j = pos.astype(np.int64)
        frac = pos - j
        # Only the stretch of the grid these points reach is touched (a batch's results
        # cover a small part of it).
        j0 = int(j.min())
        part = np.bincount(j - j0, weights=w * (1.0 - frac))
        self.hist[j0:j0 + part.size] += part
        part = np.bincount(j - j0, weights=w * frac)
        self.hist[j0 + 1:j0 + 1 + part.size] += part

    def measures(self) -> dict[str, float]:
        grid = self.lo + self.width * np.arange(self.bins + 1)
        keep = self.hist > 0
        v = summarize_weighted(-grid[keep], np.zeros(int(keep.sum()), dtype=bool), self.hist[keep])
        mean = self.first / self.mass
        v.update({"mean": mean, "sd": math.sqrt(max(self.second / self.mass - mean * mean, 0.0)),
                  "p_loss": self.p_loss / self.mass, "p_shared_savings": self.p_gain / self.mass})
        return v


def _episode_cost_pmf(model: Any, factor: float, cap: float, h: float) -> np.ndarray:
    """Lattice probabilities of one episode's capped cost ``min(f (B + I E), cap)``.

    The body ``f B`` and the extra ``f E`` are each discretised (mean-preserving, capped
    at ``cap``: ``min(B + E, c) = min(min(B, c) + min(E, c), c)``), convolved, and the
    mass above ``cap`` moved to ``cap`` (split between its two lattice neighbours so that
    its value is ``cap``). The lattice convolution's capping error is measured by the
    moment check, not assumed away.
    """
    log_f = math.log(factor)
    body = discretise_capped(model.mu_body + log_f, model.sigma_body, 0.0, cap, h)
    if model.p == 0.0:
        return body
    extra = discretise_capped(model.mu_extra + log_f, model.sigma_extra, 0.0, cap, h)
    both = np.convolve(body, extra)
    last = int(math.floor(cap / h))
    frac = cap / h - last
    over = np.arange(both.size) * h > cap
    moved = float(both[over].sum())
    both = both[: last + 2].copy()
    both[over[: last + 2]] = 0.0
    both[last] += moved * (1.0 - frac)
    both[last + 1] += moved * frac
    pmf = np.zeros(last + 2)
    pmf[: body.size] += (1.0 - model.p) * body
    pmf += model.p * both
    return pmf


def _capped_episode_second_moment(model: Any, factor: float, cap: float) -> float:
    """``E[min(f X0, cap)**2] = int_0^cap 2 x P(f X0 > x) dx``, dollars**2 (quadrature)."""
    nodes, weights = np.polynomial.legendre.leggauss(96)
    x = 0.5 * cap * (nodes + 1.0)
    sf = np.array([1.0 - model.cdf(xi / factor) for xi in x])
    return float(0.5 * cap * np.dot(weights, 2.0 * x * sf))


def _episode_results(scenario: Scenario, contracts: list[Contract], attrs: dict[str, Any],
                     log2_buckets: int | None = None) -> list[tuple[dict, dict, float]]:
    """Exact measures of episode contracts, by conditioning on the episode counts.

    Given the count vector ``k`` (independent Poisson or fixed counts per category),
    the target prices are fixed (``sum_c k_c TP_c``) and the capped spending is the sum
    of ``k_c`` iid capped episode costs of each category: its lattice distribution is
    the inverse FFT of ``prod_c phi_c(t)**k_c`` (``phi_c``: one capped episode's lattice
    characteristic function). Because every episode is capped, spending never exceeds
    ``sum_c k_c cap_c``: the window ``[0, M h)`` holds it without aliasing. Each
    contract's own ``settle`` is evaluated on every (count vector, spending) point and
    weighted by ``P(k) P(spending | k)``; contracts with the same cap and categories
    share the distributions. Counts beyond ``1e-13`` tail quantiles are left out (their
    probability is the reported aliasing bound).

    Returns
    -------
    list of (values, allowance, expected target)
        Per contract: measures, own-error allowance (shift of spending by
        ``sum_c k_c |mean error_c| + h sqrt(sum_c k_c)``, plus the VaR/TVaR grid width),
        and the expected sum of target prices, dollars.
    """
    from scipy import stats

    from simsuite.episodes import CostModel, EpisodeTotals

    specs = list(scenario.spec.episodes)
    a = scenario.spec.assumptions
    n_cat = len(specs)
    models = [CostModel.of(s) for s in specs]
    factors = [1.0 - s.true_savings for s in specs]
    groups: dict[tuple, list[int]] = {}
    for j, c in enumerate(contracts):
        d = c.terms.discount
        priced = tuple(k for k, s in enumerate(specs) if priced_discount(d, s.category, s.pricing_group) is not None)
        groups.setdefault((c.terms.high_cost_cap, priced), []).append(j)
    out: list = [None] * len(contracts)
    tags: dict[int, str] = {}

    for (cap, priced), members in groups.items():
        cap_tag = f"p{100 * cap.value:g}" if cap.kind == "percentile" else f"sd{cap.value:g}"
        cap_tag = cap_tag.replace(".", "p")
        cap_usd = np.array([m.cap_dollars(cap) for m in models])
        bench = np.array([m.expected_capped(cap_usd[k]) for k, m in enumerate(models)])
        # Count ranges and probabilities.
        ranges, probs, cut = [], [], 0.0
        for k in priced:
            s = specs[k]
            if s.volume_model == "fixed":
                ranges.append(np.array([int(round(s.annual_volume))]))
                probs.append(np.ones(1))
                continue
            lo = int(stats.poisson.ppf(1e-13, s.annual_volume))
            hi = int(stats.poisson.isf(1e-13, s.annual_volume)) + 1
            r = np.arange(lo, hi + 1)
            p = stats.poisson.pmf(r, s.annual_volume)
            cut += 1.0 - float(p.sum())
            ranges.append(r)
            probs.append(p)
        # Fine buckets for the episode costs: rounding adds up to h**2/6 of variance per
        # episode, about 3e-4 of the smallest category's (the moment check reports it,
        # and the error allowance carries it).
        sd_min = min(models[k].sd() * factors[k] for k in priced)
        h = math.sqrt(6.0 * EPISODE_DISCRETISATION_TARGET) * sd_min
        pmfs_ep, lat_mean, lat_var = [], np.zeros(len(priced)), np.zeros(len(priced))
        mean_err, var_err = np.zeros(len(priced)), np.zeros(len(priced))
        for j, k in enumerate(priced):
            pmf = _episode_cost_pmf(models[k], factors[k], float(cap_usd[k]), h)
            x = h * np.arange(pmf.size)
            model_mean = models[k].expected_capped(float(cap_usd[k]), factors[k])
            model_var = _capped_episode_second_moment(models[k], factors[k], float(cap_usd[k])) - model_mean**2
            lat_mean[j] = float(np.dot(x, pmf))
            lat_var[j] = float(np.dot(x * x, pmf)) - lat_mean[j] ** 2
            mean_err[j] = lat_mean[j] - model_mean
            var_err[j] = lat_var[j] / model_var - 1.0
            pmfs_ep.append(pmf)
            tags[k] = "ep" + "".join(ch for ch in specs[k].category if ch.isalnum()) + cap_tag
            attrs.update({
                f"{tags[k]}_bucket_usd": h,
                f"{tags[k]}_model_mean": model_mean,
                f"{tags[k]}_model_sd": math.sqrt(max(model_var, 0.0)),
                f"{tags[k]}_mean_rel_error": lat_mean[j] / model_mean - 1.0,
                f"{tags[k]}_var_rel_error": var_err[j],
            })

        # Count vectors with their probabilities (outer product), dropping the negligible.
        grid = np.meshgrid(*ranges, indexing="ij")
        counts = np.stack([g.ravel() for g in grid], axis=1)
        weight = probs[0]
        for p in probs[1:]:
            weight = np.multiply.outer(weight, p)  # same order as the meshgrid's ravel
        weight = np.asarray(weight).ravel()
        keep = weight > EPISODE_COUNT_FLOOR
        cut += float(weight[~keep].sum())
        counts, weight = counts[keep], weight[keep]
        kf = counts.astype(float)
        mu_k = kf @ lat_mean
        var_k = kf @ lat_var
        reach = kf @ cap_usd[list(priced)]  # most spending possible: every episode at its cap

        # One window of M buckets per count vector, centred on its mean; Bernstein's
        # inequality (capped costs are bounded by the largest cap) bounds what falls outside.
        bound = 1.01 * float(cap_usd[list(priced)].max())
        big = int(np.argmax(var_k))
        t = bernstein_deviation(1.01 * var_k[big], bound, 1e-12)
        l2 = int(np.clip(math.ceil(math.log2(min(2.0 * t, reach.max()) / h + 2)), 10, 17))
        if log2_buckets is not None:
            l2 = int(log2_buckets)
        m = 1 << l2
        k0 = np.maximum(0, np.floor((mu_k - 0.5 * m * h) / h)).astype(np.int64)
        t_lo = mu_k - k0 * h
        t_hi = (k0 + m - 1) * h - mu_k
        with np.errstate(divide="ignore", invalid="ignore"):
            out_lo = np.where(k0 > 0, np.exp(-t_lo**2 / (2.0 * (1.01 * var_k + bound * t_lo / 3.0))), 0.0)
            out_hi = np.where((k0 + m - 1) * h >= reach, 0.0,
                              np.exp(-t_hi**2 / (2.0 * (1.01 * var_k + bound * t_hi / 3.0))))
        cut += float(np.dot(weight, np.minimum(1.0, out_lo + out_hi)))
        log_cf = np.zeros((len(priced), m // 2 + 1), dtype=complex)
        for j, pmf in enumerate(pmfs_ep):
            if pmf.size > m:
                pmf = np.bincount(np.arange(pmf.size) % m, weights=pmf, minlength=m)
            with np.errstate(divide="ignore"):
                log_cf[j] = np.log(scipy.fft.rfft(pmf, n=m))
        for k in priced:
            attrs[f"{tags[k]}_buckets"] = m
        # Settlement points: each count vector's spending is re-binned (mean-preserving) to
        # a coarser step H ~ sd/40 of a typical vector. That rounds once per vector, not per
        # episode: it adds at most H**2/4 of variance to the vector's spending (included in
        # the error allowance below) and cuts the settlement work many times.
        sd_typ = math.sqrt(float(np.dot(weight, var_k)) / float(weight.sum()))
        r = max(1, int(sd_typ / (40.0 * h)))
        width_c = m // r + 2
        rel_sd = 0.5 * float(np.abs(var_err).max()) + (r * h) ** 2 / 8.0 / var_k.clip(min=1e-300)

        t_max = float((counts @ bench[list(priced)]).max())
        n_bins = 1 << 18
        step = (t_max + float(reach.max())) / (n_bins - 2)
        lo_grid = -math.ceil(t_max / step) * step  # 0 is a grid point: atoms at net = 0 stay there
        acc = {j: [_Accumulator(lo_grid, step, n_bins) for _ in range(3)] for j in members}
        first = priced[0]
        batch = max(1, (1 << 21) // m)
        trimmed = 0.0
        for start in range(0, counts.shape[0], batch):
            sl = slice(start, start + batch)
            kb, wb, k0b = counts[sl], weight[sl], k0[sl]
            lc = (kb[:, :, None] * log_cf[None, :, :]).sum(axis=1)  # no BLAS (see _Accumulator.add)
            cf = np.where(lc.real > -LOG_CF_FLOOR, np.exp(lc), 0.0)
            pm = np.clip(scipy.fft.irfft(cf, n=m, axis=1), 0.0, None)
            pm /= pm.sum(axis=1, keepdims=True)
            rows, cols = np.nonzero(pm > TRIM_RELATIVE * pm.max(axis=1, keepdims=True))
            p = pm[rows, cols]
            true = k0b[rows] + (cols - k0b[rows]) % m  # residue -> point of the row's window
            pos = true / r
            jc = np.floor(pos).astype(np.int64)
            frac = pos - jc
            j0 = k0b // r
            keyc = rows * width_c + (jc - j0[rows])
            coarse = (np.bincount(keyc, weights=p * (1.0 - frac), minlength=len(kb) * width_c)
                      + np.bincount(keyc + 1, weights=p * frac, minlength=len(kb) * width_c))
            coarse = coarse.reshape(len(kb), width_c) * wb[:, None]
            rows, cols = np.nonzero(coarse > 1e-16)
            trimmed += float(wb.sum() - coarse[rows, cols].sum())
            w = coarse[rows, cols]
            spend = (j0[rows] + cols) * (r * h)
            kr = kb[rows]
            n_points = rows.size
            count_full = np.zeros((n_points, n_cat), dtype=np.int64)
            count_full[:, list(priced)] = kr
            centre = (kr * lat_mean).sum(axis=1)
            shift = np.abs((kr * mean_err).sum(axis=1)) + h
            s_row = rel_sd[start:start + batch][rows]
            variants = (spend,
                        np.maximum(centre + (spend - centre) * (1.0 + s_row) + shift, 0.0),
                        np.maximum(centre + (spend - centre) * (1.0 - s_row) - shift, 0.0))
            for variant, moved in enumerate(variants):
                sums = np.zeros((n_points, n_cat))
                sums[:, first] = moved  # only the sum over priced categories is reconciled
                totals = EpisodeTotals(
                    categories=tuple(s.category for s in specs),
                    groups=tuple(s.pricing_group for s in specs),
                    caps=(cap,),
                    cap_dollars=cap_usd[None, :],
                    expected_capped=bench[None, :],
                    expected_raw=np.array([mm.mean() for mm in models]),
                    count=count_full,
                    raw=sums,
                    capped=sums[:, :, None],
                )
                year = PanelYear(n_beneficiaries=scenario.spec.population.beneficiaries,
                                 benchmark=np.zeros(n_points), expenditure=moved,
                                 quality_score=np.full(n_points, a.quality_score),
                                 quality_standard=a.quality_standard, episodes=totals)
                for j in members:
                    result = contracts[j].settle(year)
                    target = getattr(result, "benchmark", None) if variant == 0 else None
                    acc[j][variant].add(result.net, np.asarray(result.gain_shared, dtype=bool), w, target)
        cut += max(trimmed, 0.0)
        for k in priced:
            attrs[f"{tags[k]}_aliasing_bound"] = cut
            attrs[f"{tags[k]}_aliasing_bound_kind"] = (
                "strict: probability of the episode counts left out (Poisson tails) plus Bernstein's "
                "bound on spending outside each count vector's window, plus trimmed points")
        for j in members:
            base = acc[j][0].measures()
            allowance = dict.fromkeys(base, 0.0)
            for other in acc[j][1:]:
                moved = other.measures()
                for key in allowance:
                    allowance[key] = max(allowance[key], abs(moved[key] - base[key]))
            for key in allowance:
                if key.startswith("VaR") or key.startswith("TVaR"):
                    allowance[key] += acc[j][0].width
                if key.startswith("p_"):
                    allowance[key] += cut
            target = acc[j][0].target / acc[j][0].mass if acc[j][0].target else np.nan
            out[j] = (base, allowance, target)
    return out


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
