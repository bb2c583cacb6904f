"""Closed forms of capped lognormal costs: the one implementation every stage uses.

A cost that is 0 with probability ``p0`` and otherwise lognormal -- or a mixture of
lognormal components -- has closed-form capped moments. Every place that needs one (the
benchmark's expected truncated cost, the exact method's banding and moment checks, the
episode prices, the calibration) calls these functions.

Notation: a component is ``Y = exp(mu + sigma Z)`` with ``Z`` standard normal, in dollars.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from scipy import special


class MixtureShape(Protocol):
    """A mixture of lognormal components around a log-location ``theta`` (see
    `simsuite.model.costmodel.Severity`): component ``j`` has probability ``weight[j]``,
    log-location ``theta + shift[j]`` and log-sd ``sigma[j]``."""

    @property
    def weight(self) -> Sequence[float]: ...

    @property
    def shift(self) -> Sequence[float]: ...

    @property
    def sigma(self) -> Sequence[float]: ...


def capped_moment(mu: np.ndarray | float, sigma: float, cap: float, k: int = 1) -> np.ndarray:
    """``E[min(Y, cap)**k]`` of a lognormal ``Y = exp(mu + sigma Z)``, dollars**k.

    Parameters
    ----------
    mu : array_like
        Log-location(s), log dollars.
    sigma : float
        Log-sd (> 0).
    cap : float
        Cap, dollars (> 0; ``inf`` gives the raw moment ``exp(k mu + (k sigma)**2 / 2)``).
    k : int
        Order of the moment (>= 1).

    Notes
    -----
    ``E[min(Y, c)**k] = exp(k mu + k**2 sigma**2 / 2) Phi((log c - mu - k sigma**2) / sigma)
    + c**k Phi((mu - log c) / sigma)``.
    """
    mu = np.asarray(mu, dtype=float)
    # Written so that k = 1 rounds exactly as the benchmark's expected cost always has:
    # 0.5 * k * k * sigma * sigma rather than (k sigma)**2 / 2, numpy's log of the cap.
    full = np.exp(k * mu + 0.5 * k * k * sigma * sigma)
    if not math.isfinite(cap):
        return full
    log_cap = np.log(cap)
    below = full * special.ndtr((log_cap - mu - k * sigma * sigma) / sigma)
    above = cap**k * special.ndtr((mu - log_cap) / sigma)
    return below + above


def hurdle_capped_moment(theta: np.ndarray | float, shape: MixtureShape, zero_share: float, cap: float,
                         k: int = 1) -> np.ndarray:
    """``E[min(C, cap)**k]`` of a cost ``C`` that is 0 with probability ``zero_share`` and
    otherwise the lognormal mixture ``shape`` around ``theta``, dollars**k.

    Parameters
    ----------
    theta : array_like
        Log-location of each beneficiary's positive cost, log dollars.
    shape : MixtureShape
        Component weights (given a positive cost), log-location shifts and log-sds.
    zero_share : float
        Probability of zero cost.
    cap : float
        Per-beneficiary cap, dollars (``inf`` = uncapped).
    k : int
        Order of the moment.
    """
    theta = np.asarray(theta, dtype=float)
    total = np.zeros_like(theta)
    for w, d, s in zip(shape.weight, shape.shift, shape.sigma):
        total = total + w * capped_moment(theta + d, s, cap, k)
    return (1.0 - zero_share) * total


def mixture_capped_moment(weight: np.ndarray, mu: np.ndarray, sigma: np.ndarray, cap: float, k: int = 1) -> float:
    """``E[min(X, cap)**k]`` of a cost that is component ``j`` (lognormal ``mu[j]``,
    ``sigma[j]``) with probability ``weight[j]`` and 0 otherwise, dollars**k."""
    return float(sum(w * float(capped_moment(m, s, cap, k)) for w, m, s in zip(weight, mu, sigma)))
