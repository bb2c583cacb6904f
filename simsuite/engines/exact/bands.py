"""Bands of iid beneficiaries and the closed-form moments of their capped costs.

Beneficiaries of a cohort (enrollment type) differ only in the log-location ``theta`` of
their positive cost. Each cohort is cut into bands of equal width in ``theta``; a band's
``n`` beneficiaries are replaced by ``n`` iid beneficiaries at one node chosen so that
the band's expected capped cost is unchanged. The mean of the panel total is kept
exactly; the variance error this introduces is computed in closed form and reported.

Every moment here is `simsuite.model.lognormal.hurdle_capped_moment`; a positive cost may
be a single lognormal (a log-sd) or a mixture (`simsuite.model.costmodel.Severity`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simsuite.model.costmodel import Severity
from simsuite.model.lognormal import hurdle_capped_moment
from simsuite.model.population import PanelArrays

DEFAULT_BANDS_PER_COHORT = 64


def capped_moment(log_mean: np.ndarray | float, sigma: float | Severity, zero_share: float, cap: float,
                  k: int) -> np.ndarray:
    """``E[min(C, cap)**k]`` of a hurdle-lognormal cost ``C``, dollars**k.

    Parameters
    ----------
    log_mean : array_like
        Log-location of the positive part (log dollars).
    sigma : float or Severity
        Log-sd of the positive part, or its mixture shape.
    zero_share : float
        Probability of zero cost.
    cap : float
        Per-beneficiary cap, dollars (> 0; ``inf`` = uncapped).
    k : int
        Order of the raw moment (>= 1).
    """
    shape = sigma if isinstance(sigma, Severity) else Severity.lognormal(sigma)
    return hurdle_capped_moment(log_mean, shape, zero_share, cap, k)


def capped_mean_var(log_mean: np.ndarray | float, sigma: float | Severity, zero_share: float,
                    cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean (dollars) and variance (dollars**2) of ``min(C, cap)``."""
    m1 = capped_moment(log_mean, sigma, zero_share, cap, 1)
    m2 = capped_moment(log_mean, sigma, zero_share, cap, 2)
    return m1, m2 - m1 * m1


def payout_moment(log_mean: np.ndarray | float, sigma: float | Severity, zero_share: float, attach: float,
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


def payout_mean_var(log_mean: np.ndarray | float, sigma: float | Severity, zero_share: float, attach: float,
                    coins: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean (dollars) and variance (dollars**2) of ``g(C)`` (see `payout_moment`)."""
    m1 = payout_moment(log_mean, sigma, zero_share, attach, coins, 1)
    return m1, payout_moment(log_mean, sigma, zero_share, attach, coins, 2) - m1 * m1


def capped_cumulants(log_mean: np.ndarray, sigma: float | Severity, zero_share: float,
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


def _inverse_capped_mean(target: np.ndarray, lo: np.ndarray, hi: np.ndarray, sigma: float | Severity,
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


def band_cohort(theta: np.ndarray, sigma: float | Severity, zero_share: float, cap: float,
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
        The scenario's panel (`simsuite.model.population.build_panel`).
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
