"""Per-simulation panel totals of costs resampled from the organisation's own history."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from simsuite.kernels.rng import sim_key, uniform


@njit(parallel=True, cache=True)
def bootstrap_totals(key, sim_start, cost_factor, scale, cohort_start, row_start, costs, caps, out):
    """Sum every patient's resampled, capped annual cost, for each simulation and cap set.

    Patient ``i`` of cohort ``c`` costs ``costs[row_start[c] + j] * scale[i] * cost_factor[s]``
    with ``j = floor(u * n_c)``, ``n_c = row_start[c + 1] - row_start[c]`` and ``u`` the
    counter-based uniform of (``key``, simulation, ``i``): a draw with replacement from the
    cohort's rows, each with probability ``1 / n_c``.

    Parameters
    ----------
    key : uint64
        Stream key (`stream_key` of the seed and the cost stream).
    sim_start : int
        Global index of the simulation of ``out[0]``; a simulation draws the same rows
        whatever chunk or thread computes it.
    cost_factor : float64[S]
        Per-simulation multiplier of every cost (savings effort, systemic trend), applied
        before the caps.
    scale : float64[N]
        Per-patient multiplier (risk score relative to the history's mean; 1 without one).
    cohort_start : int64[C + 1]
        Patients of cohort ``c`` are ``cohort_start[c] .. cohort_start[c + 1] - 1``.
    row_start : int64[C + 1]
        Rows of cohort ``c`` in ``costs`` are ``row_start[c] .. row_start[c + 1] - 1``;
        a cohort with patients has at least one row.
    costs : float64[R]
        Annual costs of the history, dollars, grouped by cohort.
    caps : float64[K, C]
        Per-beneficiary caps, dollars (``inf`` = uncapped).
    out : float64[S, K]
        Written: panel totals, dollars, summed in patient order.
    """
    n_caps = caps.shape[0]
    n_cohorts = cohort_start.shape[0] - 1
    for s in prange(out.shape[0]):
        skey = sim_key(key, sim_start + s)
        f = cost_factor[s]
        acc = np.zeros(n_caps)
        for c in range(n_cohorts):
            lo = row_start[c]
            n = row_start[c + 1] - lo
            for i in range(cohort_start[c], cohort_start[c + 1]):
                j = np.int64(uniform(skey, i) * n)
                if j >= n:  # u * n rounded up to n (u is below 1, the product may not be)
                    j = n - 1
                x = costs[lo + j] * scale[i] * f
                for k in range(n_caps):
                    cap = caps[k, c]
                    acc[k] += x if x < cap else cap
        for k in range(n_caps):
            out[s, k] = acc[k]
