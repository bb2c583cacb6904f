"""Per-simulation, per-year panel totals of beneficiaries whose costs persist and who come and go.

The panel is a set of *slots*: slot ``i`` holds one beneficiary of cohort ``c(i)`` at a
time, at the slot's place in the cohort's risk-score distribution (the representative
panel of `simsuite.model.population`, whose mix and risk distribution do not change).
The cost *state* of a slot is the uniform ``u`` that the single-year model turns into a
cost (`simsuite.kernels.panel`): zero below the zero-cost share, then body or tail
component, then the lognormal draw. Each year the slot keeps its *band* of the cost
distribution -- which of ``bands`` equal slices of ``(0, 1)`` its ``u`` lies in -- with
probability ``keep``, its position within the band drawn afresh; otherwise ``u`` is drawn
afresh. ``u`` stays uniform either way, so each year's cost has exactly the single-year
distribution (the marginals are untouched), while a beneficiary in the costliest band
tends to stay costly. The caller sets ``keep = (1 - churn) stay``: a newcomer (a
replaced beneficiary, probability ``churn``) brings no cost history, a beneficiary who
stays keeps the band with probability ``stay``.

A newcomer takes the slot's risk score rather than a random one: drawing it (a gather
or one more inverse normal per draw) halves the kernel's speed, and for a panel of
hundreds of beneficiaries or more the random drift of the panel's average risk it adds
is negligible beside the risk-score growth the scenario states.

Every draw is a hash of (seed, stream, simulation, slot, year): results do not depend on
threads, blocks or chunks. Blocks of `BLOCK` simulations are vectorised as in
`simsuite.kernels.panel`; each slot's years are walked in order, its state held in lane
registers, so memory is O(K * Y * BLOCK) per task beyond the inputs and the output.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from simsuite.kernels.panel import BLOCK, severity_row
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


@njit(parallel=True, cache=True, error_model="numpy")
def panel_year_totals(key, sim_start, first_year, span, log_mean, log_shift, cohort_start, zero_share, sigma, caps,
                      keep, bands, out):
    """Sum every slot's capped annual cost for each simulation, year, cap set and cohort.

    Parameters
    ----------
    key : uint64
        Stream key (`stream_key` of the seed and `Stream.PANEL_YEARS`).
    sim_start : int
        Global index of the first simulation in ``out``.
    first_year, span : int
        Key of the first year (`simsuite.kernels.streams.year_key`) and the number of year
        keys per slot (`YEAR_SPAN`): year ``t`` of slot ``i`` draws with key ``first_year + t``.
    log_mean : float64[N]
        Log-location of each slot's cost (log dollars, base year).
    log_shift : float64[S, Y]
        Added to every log-location in simulation ``sim_start + s`` and year ``t`` (trend,
        the organisation's savings and performance).
    cohort_start : int64[C + 1]
        Slots of cohort ``c`` are ``cohort_start[c] .. cohort_start[c + 1] - 1``.
    zero_share : float64[C]
        Probability of zero cost, per cohort.
    sigma : float64[C] or float64[C, 4]
        Severity rows, as `simsuite.kernels.panel.panel_totals`.
    caps : float64[Y, K, C]
        Per-beneficiary caps in dollars of year ``t`` (``inf`` = uncapped).
    keep : float
        Probability that a slot keeps last year's band of the cost distribution.
    bands : float
        Number of equal bands of the state uniform (a whole number, e.g. 10: deciles).
    out : float64[S, Y, K, C]
        Written: ``out[s, t, k, c]`` = sum over the slots of cohort ``c`` of
        ``min(cost, caps[t, k, c])`` in year ``t`` of simulation ``sim_start + s``, dollars.

    Notes
    -----
    Draw ``2 (i span + first_year + t)`` of a simulation is the state uniform of slot ``i``
    in year ``t``; the next draw decides whether the band is kept (kept iff below ``keep``;
    always drawn afresh in the first year). A kept state becomes
    ``(floor(bands u) + fresh) / bands``. Keyed by calendar year, a year draws the same
    numbers whatever the horizon around it (given the same first year).
    """
    n_sims = out.shape[0]
    n_years = out.shape[1]
    n_caps = caps.shape[1]
    n_cohorts = zero_share.shape[0]
    n_blocks = (n_sims + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        first = blk * BLOCK
        keys = np.empty(BLOCK, dtype=np.uint64)
        for b in range(BLOCK):
            keys[b] = sim_key(key, sim_start + first + b)
        lane_shift = np.zeros((n_years, BLOCK))  # lanes past the end keep 0 (dropped)
        for b in range(min(BLOCK, n_sims - first)):
            for t in range(n_years):
                lane_shift[t, b] = log_shift[first + b, t]
        state = np.zeros(BLOCK)
        u = np.empty(BLOCK)
        v = np.empty(BLOCK)
        p = np.empty(BLOCK)
        w = np.empty(BLOCK)
        cost = np.empty(BLOCK)
        acc = np.zeros((n_years, n_caps, BLOCK))
        for c in range(n_cohorts):
            acc[:] = 0.0
            p0 = zero_share[c]
            scale = 1.0 / (1.0 - p0)
            tail_w, s_body, shift, s_tail = severity_row(sigma, c)
            body_w = 1.0 - tail_w
            body_scale = 1.0 / body_w
            tail_scale = 1.0 / tail_w
            for i in range(cohort_start[c], cohort_start[c + 1]):
                mu = log_mean[i]
                for t in range(n_years):
                    draw = 2 * (i * span + first_year + t)
                    off_state = index_offset(draw)
                    off_event = index_offset(draw + 1)
                    is_first = t == 0
                    for b in range(BLOCK):
                        fresh = to_unit(mix64(keys[b] + off_state))
                        kept = to_unit(mix64(keys[b] + off_event)) < keep
                        banded = (np.floor(state[b] * bands) + fresh) / bands
                        state[b] = banded if kept and not is_first else fresh
                    # From here the lanes turn the state into a cost exactly as
                    # `simsuite.kernels.panel` does; that kernel fuses these stages with its
                    # hash loop (tuned: 9 vs 16 ns/draw), so they are written out in both.
                    for b in range(BLOCK):
                        ub = state[b]
                        u[b] = ub
                        vb = (ub - p0) * scale
                        v[b] = vb
                        pb = (vb - body_w) * tail_scale if vb > body_w else vb * body_scale
                        p[b] = ndtri_clamp(pb)
                    for b in range(BLOCK):
                        w[b] = ndtri_tail_r(p[b])
                    for b in range(BLOCK):
                        z = ndtri_finish(p[b], w[b])
                        mub = mu + lane_shift[t, b]
                        w[b] = mub + shift + s_tail * z if v[b] > body_w else mub + s_body * z
                    for b in range(BLOCK):
                        x = exp_poly(w[b])
                        cost[b] = x if u[b] > p0 else 0.0
                    for k in range(n_caps):
                        cap = caps[t, k, c]
                        for b in range(BLOCK):
                            x = cost[b]
                            acc[t, k, b] += x if x < cap else cap
            for b in range(min(BLOCK, n_sims - first)):
                for t in range(n_years):
                    for k in range(n_caps):
                        out[first + b, t, k, c] = acc[t, k, b]
