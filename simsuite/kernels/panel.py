"""Per-simulation panel totals of patient-level cost draws."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from simsuite.kernels.rng import ndtri, sim_key, uniform


@njit(parallel=True, cache=True, error_model="numpy")
def panel_totals(key, sim_start, log_mean, cohort_start, zero_share, sigma, caps, out):
    """Sum every patient's capped annual cost, for each simulation and each cap set.

    Patient ``i`` of cohort ``c`` (``cohort_start[c] <= i < cohort_start[c + 1]``)
    costs 0 with probability ``zero_share[c]``, else ``exp(log_mean[i] + sigma[c] * z)``
    with ``z`` standard normal. One uniform per patient drives both parts.

    Parameters
    ----------
    key : uint64
        Stream key (`stream_key` of the seed).
    sim_start : int
        Global index of the first simulation in ``out``; simulation ``sim_start + s``
        draws the same numbers whatever chunk it is computed in.
    log_mean : float64[N]
        Log-location of each patient's positive cost (dollars).
    cohort_start : int64[C + 1]
        Patients are grouped by cohort; cohort ``c`` is ``[cohort_start[c], cohort_start[c+1])``.
    zero_share, sigma : float64[C]
        Probability of zero cost and log-sd of positive cost, per cohort.
    caps : float64[K, C]
        Per-beneficiary caps in dollars (``inf`` = uncapped), one row per cap set.
    out : float64[S, K]
        Written: ``out[s, k] = sum_i min(cost_i, caps[k, cohort(i)])`` for simulation
        ``sim_start + s``, dollars.
    """
    n_sims = out.shape[0]
    n_caps = caps.shape[0]
    n_cohorts = zero_share.shape[0]
    for s in prange(n_sims):
        skey = sim_key(key, sim_start + s)
        acc = np.zeros(n_caps)
        for c in range(n_cohorts):
            p0 = zero_share[c]
            scale = 1.0 / (1.0 - p0)
            sig = sigma[c]
            for i in range(cohort_start[c], cohort_start[c + 1]):
                u = uniform(skey, i)
                if u <= p0:
                    continue
                x = math.exp(log_mean[i] + sig * ndtri((u - p0) * scale))
                for k in range(n_caps):
                    acc[k] += min(x, caps[k, c])
        for k in range(n_caps):
            out[s, k] = acc[k]
