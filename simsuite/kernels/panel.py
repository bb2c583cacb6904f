"""Per-simulation panel totals of patient-level cost draws.

Layout: each parallel task owns a block of `BLOCK` consecutive simulations; it walks
the patients once and, for each patient, computes that patient's cost in all the
block's simulations in short inner loops over the block. Those loops have no
branches and no library calls (see `simsuite.kernels.rng`), so LLVM turns them into
AVX2 code over 4 simulations per instruction. Each simulation's total is still
accumulated patient by patient in index order, and every lane runs the same
instructions, so a simulation's result does not depend on the block, the chunk or
the thread that computes it (bit for bit).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from simsuite.kernels.rng import (
    exp_poly,
    index_offset,
    mix64,
    ndtri_clamp,
    ndtri_finish,
    ndtri_tail_r,
    sim_key,
    to_unit,
)

# Simulations per inner loop (four AVX2 vectors of float64). LLVM does not vectorise a
# loop with a constant trip count below 16, so 8 runs scalar (measured 2x slower);
# 32 and 64 were no faster and waste more lanes in a chunk's last, partial block.
BLOCK = 16


def severity_row(sigma, c):
    """``(tail_weight, body_sigma, tail_shift, tail_sigma)`` of cohort ``c``.

    ``sigma`` is either float64[C] (a single lognormal per cohort) or float64[C, 4]
    (body/tail mixture rows, `simsuite.model.costmodel.Severity.kernel_row`).
    """
    if np.ndim(sigma) == 1:
        return 0.0, float(sigma[c]), 0.0, float(sigma[c])
    return tuple(float(v) for v in sigma[c])


@overload(severity_row, inline="always")
def _severity_row_jit(sigma, c):
    # Chosen at compile time from the array's dimensions: no branch in the kernel.
    if isinstance(sigma, types.Array) and sigma.ndim == 1:
        return lambda sigma, c: (0.0, sigma[c], 0.0, sigma[c])
    if isinstance(sigma, types.Array) and sigma.ndim == 2:
        return lambda sigma, c: (sigma[c, 0], sigma[c, 1], sigma[c, 2], sigma[c, 3])
    return None


@njit(parallel=True, cache=True, error_model="numpy")
def panel_totals(key, sim_start, log_mean, log_shift, cohort_start, zero_share, sigma, caps, out):
    """Sum every patient's capped annual cost, for each simulation and each cap set.

    Patient ``i`` of cohort ``c`` (``cohort_start[c] <= i < cohort_start[c + 1]``)
    costs 0 with probability ``zero_share[c]``; else, with ``(w, s_body, shift, s_tail)``
    the cohort's severity row, ``exp(log_mean[i] + s_body * z)`` (body, probability
    ``1 - w``) or ``exp(log_mean[i] + shift + s_tail * z)`` (tail, probability ``w``),
    ``z`` standard normal. One uniform ``u`` per patient drives all of it: the cost is
    positive iff ``u > zero_share[c]``; then ``v = (u - zero_share[c]) / (1 - zero_share[c])``
    picks the tail iff ``v > 1 - w``, and ``z = ndtri(v / (1 - w))`` (body) or
    ``ndtri((v - (1 - w)) / w)`` (tail).

    Parameters
    ----------
    key : uint64
        Stream key (`stream_key` of the seed).
    sim_start : int
        Global index of the first simulation in ``out``; simulation ``sim_start + s``
        draws the same numbers whatever chunk it is computed in.
    log_mean : float64[N]
        Log-location of each patient's positive cost (dollars).
    log_shift : float64[S]
        Added to every patient's log-location in simulation ``sim_start + s`` (log of a
        per-simulation cost factor: savings effort, systemic trend shock; 0 for none).
    cohort_start : int64[C + 1]
        Patients are grouped by cohort; cohort ``c`` is ``[cohort_start[c], cohort_start[c+1])``.
    zero_share : float64[C]
        Probability of zero cost, per cohort.
    sigma : float64[C] or float64[C, 4]
        Log-sd of positive cost per cohort (single lognormal), or severity rows
        ``(tail_weight, body_sigma, tail_shift, tail_sigma)`` (see `severity_row`).
    caps : float64[K, C]
        Per-beneficiary caps in dollars (``inf`` = uncapped), one row per cap set.
    out : float64[S, K]
        Written: ``out[s, k] = sum_i min(cost_i, caps[k, cohort(i)])`` for simulation
        ``sim_start + s``, dollars, summed in patient order.

    Notes
    -----
    Memory is O(K * BLOCK) per task beyond the inputs and ``out``.
    """
    n_sims = out.shape[0]
    n_caps = caps.shape[0]
    n_cohorts = zero_share.shape[0]
    n_blocks = (n_sims + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        first = blk * BLOCK
        keys = np.empty(BLOCK, dtype=np.uint64)
        for b in range(BLOCK):
            # A partial last block computes a few simulations past the end and drops them.
            keys[b] = sim_key(key, sim_start + first + b)
        # Lane buffers: the per-patient work runs as four short loops over the block
        # (hash, log, rational, exp) rather than one long body. Each loop vectorises,
        # and short bodies let the out-of-order core overlap the long dependency chains
        # (log -> sqrt -> rational -> exp) of different lanes: measured 9 vs 16 ns/draw.
        u = np.empty(BLOCK)
        v = np.empty(BLOCK)
        p = np.empty(BLOCK)
        w = np.empty(BLOCK)
        cost = np.empty(BLOCK)
        acc = np.zeros((n_caps, BLOCK))
        lane_shift = np.zeros(BLOCK)  # lanes past the end keep 0 (their results are dropped)
        for b in range(min(BLOCK, n_sims - first)):
            lane_shift[b] = log_shift[first + b]
        for c in range(n_cohorts):
            p0 = zero_share[c]
            scale = 1.0 / (1.0 - p0)
            tail_w, s_body, shift, s_tail = severity_row(sigma, c)
            body_w = 1.0 - tail_w
            body_scale = 1.0 / body_w
            tail_scale = 1.0 / tail_w  # inf without a tail: only used on tail lanes
            for i in range(cohort_start[c], cohort_start[c + 1]):
                mu = log_mean[i]
                offset = index_offset(i)
                for b in range(BLOCK):
                    ub = to_unit(mix64(keys[b] + offset))
                    u[b] = ub
                    vb = (ub - p0) * scale
                    v[b] = vb
                    # Both branches computed, one selected: branch-free.
                    pb = (vb - body_w) * tail_scale if vb > body_w else vb * body_scale
                    p[b] = ndtri_clamp(pb)
                for b in range(BLOCK):
                    w[b] = ndtri_tail_r(p[b])
                for b in range(BLOCK):
                    z = ndtri_finish(p[b], w[b])
                    mub = mu + lane_shift[b]
                    w[b] = mub + shift + s_tail * z if v[b] > body_w else mub + s_body * z
                for b in range(BLOCK):
                    # Every lane computes a cost and the hurdle selects: branch-free.
                    x = exp_poly(w[b])
                    cost[b] = x if u[b] > p0 else 0.0
                for k in range(n_caps):
                    cap = caps[k, c]
                    for b in range(BLOCK):
                        x = cost[b]
                        acc[k, b] += x if x < cap else cap
        for b in range(min(BLOCK, n_sims - first)):
            for k in range(n_caps):
                out[first + b, k] = acc[k, b]
