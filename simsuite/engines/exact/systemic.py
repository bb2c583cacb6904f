"""A panel total times the one-year systemic factor, by quadrature over the factor.

A one-year run multiplies the panel's spending, under every cap, by one lognormal factor
per simulation, ``f = exp(s z - s**2 / 2)`` (`simsuite.model.variance`). The total it
settles on is then ``f T`` with ``T`` independent of ``f``: a mixture of copies of ``T``'s
lattice distribution scaled by ``f``. Its law is computed as such:

* ``z`` on an equally spaced grid over ``[-8, 8]`` with normal weights (the trapezoid rule,
  which integrates smooth functions of a normal to machine precision), the factors
  renormalised so that their weighted mean is exactly 1; the spacing is at most 0.25 and
  at most half of ``T``'s relative sd over ``s`` (but at least 0.01), so that neighbouring
  copies overlap and the mixture is smooth where a quantile is read;
* every scaled copy is spread onto one common lattice of ``2**15`` points by linear
  (mean-preserving) rounding.

The self-checks compare its mean and variance with the closed forms
``E[f T] = E[T]`` and ``Var[f T] = exp(s**2) (Var T + E[T]**2) - E[T]**2``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from simsuite.engines.exact.diagnostics import TotalDiagnostics
from simsuite.engines.exact.lattice import TotalDistribution

#: Half-width of the normal grid, in sds.
Z_RANGE = 8.0
MAX_SPACING = 0.25
MIN_SPACING = 0.01
POINTS = 1 << 15


def factor_nodes(sd: float, relative_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """The factors ``f_j`` and their weights ``w_j`` (summing to 1, ``sum w f = 1``)."""
    spacing = min(MAX_SPACING, max(MIN_SPACING, 0.5 * relative_sd / sd))
    count = int(math.ceil(2.0 * Z_RANGE / spacing)) + 1
    z = np.linspace(-Z_RANGE, Z_RANGE, count)
    w = np.exp(-0.5 * z * z)
    w /= w.sum()
    f = np.exp(sd * z)
    return f / np.dot(w, f), w


def with_systemic_factor(dist: TotalDistribution, checks: TotalDiagnostics, sd: float,
                         trim: float = 1e-12) -> tuple[TotalDistribution, TotalDiagnostics]:
    """The distribution of ``f T`` (module docstring) and its self-checks.

    Parameters
    ----------
    dist : TotalDistribution
        ``T``'s lattice distribution.
    checks : TotalDiagnostics
        ``T``'s self-checks (its closed-form mean and sd).
    sd : float
        Log-sd ``s`` of the factor (> 0).
    trim : float
        Points of ``T`` below this fraction of its largest probability are left out
        (their mass is kept in the window's bound).
    """
    keep = dist.pmf > trim * dist.pmf.max()
    values, pmf = dist.values[keep], dist.pmf[keep]
    left_out = float(dist.pmf[~keep].sum())
    relative_sd = math.sqrt(dist.var) / dist.mean
    factors, weights = factor_nodes(sd, relative_sd)
    lo, hi = values[0] * factors[0], values[-1] * factors[-1]
    h = (hi - lo) / (POINTS - 1)
    out = np.zeros(POINTS + 1)
    for f, w in zip(factors, weights):
        position = (values * f - lo) / h
        index = np.minimum(np.floor(position).astype(np.int64), POINTS - 1)
        frac = position - index
        mass = pmf * w
        out += np.bincount(index, mass * (1.0 - frac), minlength=POINTS + 1)
        out += np.bincount(index + 1, mass * frac, minlength=POINTS + 1)
    out[POINTS - 1] += out[POINTS]  # rounding at the top end
    out = out[:POINTS]
    mixed = TotalDistribution(values=lo + h * np.arange(POINTS), pmf=out / out.sum(), h=h,
                              aliasing_bound=dist.aliasing_bound + left_out)
    model_mean = checks.model_mean
    model_var = math.exp(sd * sd) * (checks.model_sd ** 2 + model_mean ** 2) - model_mean ** 2
    return mixed, replace(
        checks,
        systemic_sd=sd, quadrature_nodes=int(factors.size), buckets=POINTS, bucket_usd=h,
        model_sd=math.sqrt(model_var), aliasing_bound=mixed.aliasing_bound,
        mean_rel_error=mixed.mean / model_mean - 1.0, var_rel_error=mixed.var / model_var - 1.0,
        discretisation_var_rel_error=None)
