"""The multi-year panel kernel (`simsuite.kernels.panel_years`) against a scalar reference,
its persistence against the probability it is given, its marginals against the one-year
model's closed form, and itself under other threads, chunks and simulation ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rng_reference import uniform
from scipy import special, stats
from test_kernels import _tiny_case

from simsuite.kernels import stream_key
from simsuite.kernels.panel_years import panel_year_totals

SEED, STREAM = 2027, 6
FIRST, SPAN = 21, 64  # the first year's key (2021) and the keys per slot


def _run(log_mean, log_shift, cohort_start, zero_share, sigma, caps, keep, bands=10, sim_start=0):
    out = np.empty((log_shift.shape[0], caps.shape[0], caps.shape[1], zero_share.shape[0]))
    panel_year_totals(np.uint64(stream_key(np.uint64(SEED), np.uint64(STREAM))), sim_start, FIRST, SPAN, log_mean,
                      np.ascontiguousarray(log_shift), cohort_start, zero_share, sigma, caps, keep, float(bands), out)
    return out


def reference_states(sim: int, slot: int, years: int, keep: float, bands: int) -> list[float]:
    """A slot's state uniform in each year, from the documented draws: draw
    ``2 (i span + first + t)`` is the fresh uniform, the next decides whether the band is kept."""
    states: list[float] = []
    for t in range(years):
        fresh = uniform(SEED, STREAM, sim, 2 * (slot * SPAN + FIRST + t))
        kept = uniform(SEED, STREAM, sim, 2 * (slot * SPAN + FIRST + t) + 1) < keep
        if t > 0 and kept:
            states.append((math.floor(states[-1] * bands) + fresh) / bands)
        else:
            states.append(fresh)
    return states


def cost_from_state(u: float, log_mean: float, p0: float, sigma) -> float:
    """The one-year model's cost of state ``u`` (as `test_kernels.reference_cost`)."""
    w, s_body, shift, s_tail = (0.0, sigma, 0.0, sigma) if np.ndim(sigma) == 0 else sigma
    if u <= p0:
        return 0.0
    v = (u - p0) / (1.0 - p0)
    if v > 1.0 - w:
        return math.exp(log_mean + shift + s_tail * special.ndtri((v - (1.0 - w)) / w))
    return math.exp(log_mean + s_body * special.ndtri(v / (1.0 - w)))


def test_kernel_matches_a_scalar_reference_over_years():
    log_mean, cohort_start, zero_share, sigma, caps1 = _tiny_case()
    years, keep, bands, sim_start, n_sims = 4, 0.6, 10, 17, 5
    # Caps grow with the year (trended national percentiles); a shift per simulation and year.
    caps = np.stack([caps1 * 1.03**t for t in range(years)])
    rng = np.random.default_rng(0)
    log_shift = rng.normal(0.0, 0.1, size=(n_sims, years))
    out = _run(log_mean, log_shift, cohort_start, zero_share, sigma, caps, keep, bands, sim_start)

    expected = np.zeros_like(out)
    kept_somewhere = False
    for s in range(n_sims):
        for c in range(2):
            for i in range(cohort_start[c], cohort_start[c + 1]):
                states = reference_states(sim_start + s, i, years, keep, bands)
                kept_somewhere |= any(math.floor(a * bands) == math.floor(b * bands)
                                      for a, b in zip(states, states[1:], strict=False))
                for t, u in enumerate(states):
                    x = cost_from_state(u, log_mean[i] + log_shift[s, t], zero_share[c], sigma[c])
                    for k in range(caps.shape[1]):
                        expected[s, t, k, c] += min(x, caps[t, k, c])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=0)
    assert kept_somewhere


def test_first_year_draws_fresh_states_and_keep_zero_means_independent_years():
    """With ``keep = 0`` the years are independent draws; with ``keep = 1`` a lone slot
    never leaves its decile (its cost is a monotone function of its state)."""
    log_mean, cohort_start = np.array([8.0]), np.array([0, 1], dtype=np.int64)
    zero_share, sigma = np.array([0.0]), np.array([[0.0, 1.2, 0.0, 1.2]])
    caps = np.full((3, 1, 1), np.inf)
    n = 4000
    shift = np.zeros((n, 3))
    edges = np.exp(8.0 + 1.2 * special.ndtri(np.arange(1, 10) / 10))  # the cost deciles
    decile = np.digitize(_run(log_mean, shift, cohort_start, zero_share, sigma, caps, 1.0)[:, :, 0, 0], edges)
    assert (decile[:, 0] == decile[:, 1]).all() and (decile[:, 1] == decile[:, 2]).all()
    decile = np.digitize(_run(log_mean, shift, cohort_start, zero_share, sigma, caps, 0.0)[:, :, 0, 0], edges)
    same = (decile[:, 0] == decile[:, 1]).mean()
    assert abs(same - 0.1) < 4 * math.sqrt(0.1 * 0.9 / n)


@pytest.mark.parametrize("keep", [0.3, 0.75])
def test_decile_kept_as_often_as_asked_and_marginals_unchanged(keep):
    """P(same decile next year) = keep + (1 - keep)/10; every year's deciles stay 10% each."""
    log_mean, cohort_start = np.array([8.0]), np.array([0, 1], dtype=np.int64)
    zero_share, sigma = np.array([0.0]), np.array([[0.0, 1.2, 0.0, 1.2]])
    years, n = 4, 20_000
    caps = np.full((years, 1, 1), np.inf)
    cost = _run(log_mean, np.zeros((n, years)), cohort_start, zero_share, sigma, caps, keep)[:, :, 0, 0]
    decile = np.digitize(cost, np.exp(8.0 + 1.2 * special.ndtri(np.arange(1, 10) / 10)))
    p = keep + (1.0 - keep) / 10
    for t in range(1, years):
        same = (decile[:, t] == decile[:, t - 1]).mean()
        assert abs(same - p) < 4 * math.sqrt(p * (1 - p) / n)
    for t in range(years):
        counts = np.bincount(decile[:, t], minlength=10)
        assert stats.chisquare(counts).pvalue > 1e-4


def test_every_year_has_the_one_year_mean_under_caps():
    """A kept band redraws its position, so each year's capped mean is the one-year model's."""
    log_mean, cohort_start, zero_share, sigma, caps1 = _tiny_case()
    years, n = 3, 40_000
    caps = np.stack([caps1] * years)
    out = _run(log_mean, np.zeros((n, years)), cohort_start, zero_share, sigma, caps, 0.9)
    for c in range(2):
        w, s_body, shift, s_tail = sigma[c]
        for k in range(caps.shape[1]):
            cap = caps1[k, c]
            exact = 0.0
            for i in range(cohort_start[c], cohort_start[c + 1]):
                # E[min(X, cap)] of the body/tail lognormal mixture, times P(cost > 0).
                for weight, mu, s in ((1 - w, log_mean[i], s_body), (w, log_mean[i] + shift, s_tail)):
                    if weight == 0.0:
                        continue
                    if np.isinf(cap):
                        part = math.exp(mu + s * s / 2)
                    else:
                        z = (math.log(cap) - mu) / s
                        part = math.exp(mu + s * s / 2) * stats.norm.cdf(z - s) + cap * stats.norm.sf(z)
                    exact += (1 - zero_share[c]) * weight * part
            for t in range(years):
                x = out[:, t, k, c]
                assert abs(x.mean() - exact) < 4 * x.std() / math.sqrt(n)


def test_identical_for_any_simulation_range():
    """Simulation ``s`` depends only on its global index: a range run alone equals the same
    simulations inside a longer run."""
    log_mean, cohort_start, zero_share, sigma, caps1 = _tiny_case()
    caps = np.stack([caps1] * 3)
    shift = np.random.default_rng(1).normal(0, 0.05, size=(300, 3))
    whole = _run(log_mean, shift, cohort_start, zero_share, sigma, caps, 0.5)
    part = _run(log_mean, shift[70:171], cohort_start, zero_share, sigma, caps, 0.5, sim_start=70)
    assert np.array_equal(whole[70:171], part)
