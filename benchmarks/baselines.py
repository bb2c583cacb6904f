"""What the panel kernel is measured against (benchmarks only; not part of the package).

* `numpy_panel_totals`: the model as a user would write it with numpy's ``Generator``,
  vectorised over a chunk of simulations at a time (optionally one thread per chunk).
* `floor_totals`: the bare floor -- hash -> uniform -> inverse normal CDF -> exp -> sum,
  built from the same inline primitives and the same blocked, staged loop layout as
  the kernel, minus everything the model adds (per-patient means, cohorts, hurdle,
  caps). The kernel's cost over this floor is what the model itself costs.
  Not cached on disk (``cache=True``): Numba would not notice a change in the
  ``simsuite.kernels.rng`` helpers it inlines and would time stale code.
* `scalar_floor_totals`: the same floor as a plain scalar loop with ``math.exp`` and the
  branchy AS 241, i.e. what "just write the loop in numba" gives.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit, prange

from simsuite.kernels.panel import BLOCK
from simsuite.kernels.rng import (
    exp_poly,
    index_offset,
    mix64,
    ndtri_clamp,
    ndtri_finish,
    ndtri_tail_r,
    sim_key,
    to_unit,
    uniform,
)


def _numpy_chunk(panel, caps, log_mean, seed_seq, m):
    rng = np.random.default_rng(seed_seq)
    out = np.zeros((m, caps.shape[0]))
    for c, model in enumerate(panel.models):
        lo, hi = panel.cohort_start[c], panel.cohort_start[c + 1]
        shape = (m, hi - lo)
        sev = model.severity
        weight, shift, sigma = (np.asarray(x, dtype=float) for x in (sev.weight, sev.shift, sev.sigma))
        positive = rng.random(shape) >= model.zero_share
        if weight.size == 1:
            loc, scale = log_mean[lo:hi] + shift[0], sigma[0]
        else:  # two-component mixture: pick the high-cost component with its weight
            tail = rng.random(shape) < weight[1]
            loc = log_mean[lo:hi] + np.where(tail, shift[1], shift[0])
            scale = np.where(tail, sigma[1], sigma[0])
        cost = np.exp(loc + scale * rng.standard_normal(shape))
        cost *= positive
        for k in range(caps.shape[0]):
            out[:, k] += np.minimum(cost, caps[k, c]).sum(axis=1)
    return out


def numpy_panel_totals(panel, caps, n_sims, seed, threads=1, chunk_draws=1_000_000):
    """Panel totals ``(n_sims, K)`` with numpy's Generator, a chunk of simulations at a time.

    Each chunk has its own child ``SeedSequence``; with ``threads > 1`` chunks run in a
    thread pool (numpy releases the GIL in these calls). Same model as the kernel
    (hurdle, lognormal or two-lognormal mixture severity, per-cohort caps), independent
    random numbers.
    """
    m = max(1, chunk_draws // panel.size)
    starts = list(range(0, n_sims, m))
    seeds = np.random.SeedSequence(seed).spawn(len(starts))
    log_mean = panel.log_mean_expected
    out = np.empty((n_sims, caps.shape[0]))

    def work(j):
        s = starts[j]
        e = min(s + m, n_sims)
        out[s:e] = _numpy_chunk(panel, caps, log_mean, seeds[j], e - s)

    if threads == 1:
        for j in range(len(starts)):
            work(j)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(len(starts))))
    return out


@njit(parallel=True, error_model="numpy")
def floor_totals(key, n_patients, out):
    """``out[s] = sum_i exp(z(s, i))``: the kernel's primitives and layout, nothing else."""
    n_sims = out.shape[0]
    n_blocks = (n_sims + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        first = blk * BLOCK
        keys = np.empty(BLOCK, dtype=np.uint64)
        for b in range(BLOCK):
            keys[b] = sim_key(key, first + b)
        p = np.empty(BLOCK)
        w = np.empty(BLOCK)
        acc = np.zeros(BLOCK)
        for i in range(n_patients):
            offset = index_offset(i)
            for b in range(BLOCK):
                p[b] = ndtri_clamp(to_unit(mix64(keys[b] + offset)))
            for b in range(BLOCK):
                w[b] = ndtri_tail_r(p[b])
            for b in range(BLOCK):
                w[b] = ndtri_finish(p[b], w[b])
            for b in range(BLOCK):
                acc[b] += exp_poly(w[b])
        for b in range(min(BLOCK, n_sims - first)):
            out[first + b] = acc[b]


_A = np.array([3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
               1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
               3.3430575583588128105e4, 2.5090809287301226727e3])
_B = np.array([1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
               2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
               5.2264952788528545610e3])
_C = np.array([1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
               3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
               2.27238449892691845833e-2, 7.74545014278341407640e-4])
_D = np.array([1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
               1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
               1.05075007164441684324e-9])
_E = np.array([6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
               2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
               2.71155556874348757815e-5, 2.01033439929228813265e-7])
_F = np.array([1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
               7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
               2.04426310338993978564e-15])


@njit(inline="always")
def _poly(c, x):
    acc = c[7]
    for j in range(6, -1, -1):
        acc = acc * x + c[j]
    return acc


@njit
def _ndtri_scalar(p):
    # AS 241 with its branches, as the kernel had it before issue 7.
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        z = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        z = _poly(_E, r) / _poly(_F, r)
    return -z if q < 0.0 else z


@njit(parallel=True, error_model="numpy")
def scalar_floor_totals(key, n_patients, out):
    """The floor as a plain loop: prange over simulations, scalar ``math.exp`` and AS 241."""
    for s in prange(out.shape[0]):
        skey = sim_key(key, s)
        acc = 0.0
        for i in range(n_patients):
            acc += math.exp(_ndtri_scalar(uniform(skey, i)))
        out[s] = acc
