"""The lattice distribution of a panel total, by mean-preserving discretisation and FFT.

Each band node's capped cost is put on the lattice ``0, h, 2h, ...`` by mean-preserving
linear rounding (the mass in ``[kh, (k+1)h]`` is split between its two lattice points so
that mass and mean are kept), with the atom at zero and the atom at the cap. The lattice
characteristic function of each node is raised to its count and multiplied across nodes
(a sum of logarithms); the inverse FFT gives the total modulo ``M h``. Read on a window
around the mean, this is the total itself except for mass outside the window, which is
bounded: by Bernstein's inequality for bounded (capped) costs, by a Chernoff bound for
unbounded ones (`aliasing_bound`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy import special
from scipy.signal import czt

from simsuite.engines.exact.bands import Bands, capped_mean_var
from simsuite.model.costmodel import Severity

# Probability allowed outside the window on each side (Bernstein bound).
DEFAULT_TAIL_EPS = 1e-14
# The same for unbounded totals (uncapped lognormal costs): their true tail is heavy,
# so a window holding all but 1e-14 would be needlessly wide; 1e-9 per side is far
# below anything a reported measure (99th percentile at most) can see.
UNBOUNDED_TAIL_EPS = 1e-9
# Frequencies where the total's characteristic function is below exp(-LOG_CF_FLOOR)
# are set to zero: their contribution to any probability is below M * e**-80 ~ 1e-29.
LOG_CF_FLOOR = 80.0
# Relative variance error the default bucket size aims at.
DISCRETISATION_TARGET = 1e-5


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
        assert window is not None  # set above for unbounded bands
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


def default_log2_buckets(bands: Bands, var: float, eps: float, window: TailWindow | None = None) -> int:
    """Buckets enough for a discretisation variance error of about 1e-5 of the total's.

    Mean-preserving rounding adds about ``h**2 / 6`` to each beneficiary's variance.
    """
    h = math.sqrt(6.0 * DISCRETISATION_TARGET * var / float(bands.count.sum()))
    if window is None:
        width = 2.0 * bernstein_deviation(1.01 * var, 1.01 * float(bands.cap.max()), eps)
    else:
        width = window.hi - window.lo
    return int(np.clip(math.ceil(math.log2(width / h)), 14, 22))
