"""Per-simulation episode counts and cost sums for bundled-payment contracts.

Random-number layout (stream `EPISODE_STREAM` of a seed; see `simsuite.kernels.rng`):
within simulation ``s`` the draws of episode category ``c`` use uniform indices
``c * 2**40 + i`` with

* ``i = 0``: the episode count (inverse CDF of its distribution);
* ``i = 1 + 3 j + 0``: the log-normal body cost of episode ``j``;
* ``i = 1 + 3 j + 1``: whether episode ``j`` has a complication;
* ``i = 1 + 3 j + 2``: the complication's extra cost.

Every draw is therefore a function of (seed, simulation, category, episode), never of
threads, chunking, or how many episodes another category drew. Each simulation's sums
are accumulated episode by episode in index order by one thread.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from simsuite.kernels.rng import index_offset, mix64, ndtri, sim_key, to_unit

_CATEGORY_SHIFT = np.uint64(40)  # up to 2**40 / 3 episodes per category and simulation
_ONE = np.uint64(1)
_THREE = np.uint64(3)


@njit(inline="always", cache=True)
def draw_index(category, slot):
    """Uniform index of draw ``slot`` of ``category`` (``slot`` 0 = count, see module doc)."""
    return (np.uint64(category) << _CATEGORY_SHIFT) + np.uint64(slot)


@njit(parallel=True, cache=True, error_model="numpy")
def episode_totals(key, sim_start, count_start, count_cdf, count_len, mu_body, sigma_body,
                   p_complication, mu_extra, sigma_extra, cost_factor, caps,
                   count_out, raw_out, capped_out):
    """Draw every simulation's episodes and sum their costs, raw and capped.

    Category ``c`` has ``N = count_start[c] + i`` episodes, ``i`` the first index
    with ``count_cdf[c, i] >= u`` (inverse CDF of the count distribution tabulated
    from ``count_start[c]``; a one-entry table ``[1.0]`` gives a fixed count). An
    episode costs ``cost_factor[c] * (B + I * E)`` dollars with
    ``B = exp(mu_body[c] + sigma_body[c] * z)``, ``I`` Bernoulli(``p_complication[c]``)
    and ``E = exp(mu_extra[c] + sigma_extra[c] * z')``.

    Parameters
    ----------
    key : uint64
        Stream key, ``stream_key(seed, EPISODE_STREAM)``.
    sim_start : int
        Global index of the first simulation in the outputs.
    count_start : int64[C]
        Smallest count of each category's table.
    count_cdf : float64[C, L]
        ``count_cdf[c, i] = P(N <= count_start[c] + i)``; entries at and after
        ``count_len[c] - 1`` are 1.0.
    count_len : int64[C]
        Used length of each row of ``count_cdf`` (>= 1).
    mu_body, sigma_body : float64[C]
        Log-location and log-scale of the body cost (dollars).
    p_complication : float64[C]
        Probability that an episode has a complication or readmission.
    mu_extra, sigma_extra : float64[C]
        Log-location and log-scale of a complication's extra cost (dollars).
    cost_factor : float64[C]
        Multiplier of every episode's cost (``1 - true_savings``).
    caps : float64[K, C]
        Per-episode caps, dollars (``inf`` = none).
    count_out : int64[S, C]
        Written: number of episodes.
    raw_out : float64[S, C]
        Written: sum of episode costs, dollars.
    capped_out : float64[S, C, K]
        Written: sum of ``min(cost, caps[k, c])``, dollars.

    Notes
    -----
    Memory is O(S * C * K) for the outputs; episodes are never stored.
    """
    n_sims = count_out.shape[0]
    n_cat = count_out.shape[1]
    n_caps = caps.shape[0]
    for s in prange(n_sims):
        ks = sim_key(key, sim_start + s)
        for c in range(n_cat):
            u = to_unit(mix64(ks + index_offset(draw_index(c, 0))))
            i = np.searchsorted(count_cdf[c, :count_len[c]], u)
            n = count_start[c] + min(i, count_len[c] - 1)
            count_out[s, c] = n
            raw = 0.0
            for k in range(n_caps):
                capped_out[s, c, k] = 0.0
            for j in range(n):
                slot = _ONE + _THREE * np.uint64(j)
                u_body = to_unit(mix64(ks + index_offset(draw_index(c, slot))))
                x = math.exp(mu_body[c] + sigma_body[c] * ndtri(u_body))
                u_event = to_unit(mix64(ks + index_offset(draw_index(c, slot + _ONE))))
                if u_event < p_complication[c]:
                    u_extra = to_unit(mix64(ks + index_offset(draw_index(c, slot + _ONE + _ONE))))
                    x += math.exp(mu_extra[c] + sigma_extra[c] * ndtri(u_extra))
                x *= cost_factor[c]
                raw += x
                for k in range(n_caps):
                    cap = caps[k, c]
                    capped_out[s, c, k] += x if x < cap else cap
            raw_out[s, c] = raw
