"""The panel kernel against a scalar per-patient reference, a plain numpy model, and itself
under other thread counts and chunkings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rng_reference import uniform
from scipy import special, stats

from simsuite.engines.montecarlo import RunOptions, simulate_totals
from simsuite.kernels import panel_totals, stream_key
from simsuite.model.population import build_panel
from simsuite.scenario.load import scenario_from_dict

# --- scalar reference: the same counter-based hash, written with Python integers ----------

def reference_cost(seed: int, stream: int, sim: int, patient: int, log_mean: float,
                   p0: float, sigma) -> float:
    """One patient's cost in one simulation, computed independently of the kernel
    (scipy's inverse normal CDF, Python's exp).

    ``sigma`` is a log-sd (single lognormal) or a row ``(tail_weight, body_sigma,
    tail_shift, tail_sigma)`` of the body/tail mixture (`simsuite.costmodel.Severity`).
    """
    w, s_body, shift, s_tail = (0.0, sigma, 0.0, sigma) if np.ndim(sigma) == 0 else sigma
    u = uniform(seed, stream, sim, patient)
    if u <= p0:
        return 0.0
    v = (u - p0) / (1.0 - p0)
    if v > 1.0 - w:  # the top w of the positive uniforms draw the tail component
        return math.exp(log_mean + shift + s_tail * special.ndtri((v - (1.0 - w)) / w))
    return math.exp(log_mean + s_body * special.ndtri(v / (1.0 - w)))


def _tiny_case():
    log_mean = np.array([8.0, 9.5, 7.2, 10.1, 8.8, 9.0, 6.5])
    cohort_start = np.array([0, 3, 7], dtype=np.int64)
    zero_share = np.array([0.2, 0.05])
    # Cohort 0: body/tail mixture (tail weight 0.3, so a few of the 42 draws take the tail);
    # cohort 1: a single lognormal.
    sigma = np.array([[0.3, 1.1, 2.0, 0.4], [0.0, 1.6, 0.0, 1.6]])
    caps = np.array([[np.inf, np.inf], [20_000.0, 60_000.0], [5_000.0, 5_000.0]])
    return log_mean, cohort_start, zero_share, sigma, caps


def test_kernel_matches_scalar_reference_on_a_tiny_case():
    seed, stream, sim_start, n_sims = 12345, 1, 40, 6
    log_mean, cohort_start, zero_share, sigma, caps = _tiny_case()
    out = np.empty((n_sims, caps.shape[0]))
    # A per-simulation log shift (savings effort x systemic trend), different in every simulation.
    log_shift = np.array([0.0, -0.02, 0.05, -0.3, 0.01, 0.2])
    panel_totals(np.uint64(stream_key(np.uint64(seed), np.uint64(stream))), sim_start, log_mean, log_shift,
                 cohort_start, zero_share, sigma, caps, out)

    expected = np.zeros_like(out)
    for s in range(n_sims):
        for c in range(2):
            for i in range(cohort_start[c], cohort_start[c + 1]):
                x = reference_cost(seed, stream, sim_start + s, i, log_mean[i] + log_shift[s], zero_share[c],
                                   sigma[c])
                for k in range(caps.shape[0]):
                    expected[s, k] += min(x, caps[k, c])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=0)
    # The case exercises the zero-cost branch and every cap.
    assert (out[:, 0] > out[:, 1]).any() and (out[:, 1] > out[:, 2]).any()


def _scenario(beneficiaries: int, **assumptions):
    return scenario_from_dict({
        "name": "kernel test",
        "population": {"beneficiaries": beneficiaries},
        "assumptions": assumptions,
        "contracts": [{"preset": "mssp-basic-a"}],
    })


def test_results_identical_for_any_thread_count_and_chunk_size():
    sc = _scenario(3000)
    panel = build_panel(sc.spec)
    caps = np.vstack([panel.caps_at(None), panel.caps_at(0.99)])
    runs = [
        simulate_totals(panel, caps, 1.0, RunOptions(simulations=2000, seed=99, threads=t, chunk=ch))
        for t, ch in ((1, 2000), (2, 2000), (2, 7), (1, 333))
    ]
    for other in runs[1:]:
        assert np.array_equal(runs[0], other)


def test_a_simulation_does_not_depend_on_the_number_of_simulations():
    sc = _scenario(500)
    panel = build_panel(sc.spec)
    caps = panel.caps_at(None)[None, :]
    short = simulate_totals(panel, caps, 1.0, RunOptions(simulations=100, seed=3))
    long = simulate_totals(panel, caps, 1.0, RunOptions(simulations=1000, seed=3))
    assert np.array_equal(short, long[:100])
    other_seed = simulate_totals(panel, caps, 1.0, RunOptions(simulations=100, seed=4))
    assert not np.array_equal(short, other_seed)


def numpy_panel_totals(panel, caps: np.ndarray, n_sims: int, seed: int, chunk: int = 256) -> np.ndarray:
    """The same model written as a user would with numpy's Generator (independent RNG)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n_sims, caps.shape[0]))
    for start in range(0, n_sims, chunk):
        m = min(chunk, n_sims - start)
        for c, model in enumerate(panel.models):
            lo, hi = panel.cohort_start[c], panel.cohort_start[c + 1]
            mu = panel.log_mean_expected[lo:hi]
            sev = model.severity
            positive = rng.random((m, hi - lo)) >= model.zero_share
            part = rng.choice(len(sev.weight), size=(m, hi - lo), p=sev.weight)
            loc = mu + np.asarray(sev.shift)[part]
            cost = np.where(positive, np.exp(loc + np.asarray(sev.sigma)[part] * rng.standard_normal((m, hi - lo))), 0.0)
            for k in range(caps.shape[0]):
                out[start:start + m, k] += np.minimum(cost, caps[k, c]).sum(axis=1)
    return out


def test_kernel_agrees_in_distribution_with_a_numpy_implementation():
    sc = _scenario(2000)
    panel = build_panel(sc.spec)
    caps = np.vstack([panel.caps_at(None), panel.caps_at(0.99)])
    n = 4000
    kern = simulate_totals(panel, caps, 1.0, RunOptions(simulations=n, seed=11))
    ref = numpy_panel_totals(panel, caps, n, seed=12)
    for k in range(caps.shape[0]):
        a, b = kern[:, k], ref[:, k]
        se = math.sqrt(a.var() / n + b.var() / n)
        assert abs(a.mean() - b.mean()) < 4 * se
        # Variance ratio within ~4 standard errors (asymptotic, heavy tails included).
        se_var = math.sqrt((np.mean((a - a.mean()) ** 4) - a.var() ** 2) / n) / a.var()
        assert abs(a.var() / b.var() - 1.0) < 4 * math.sqrt(2) * se_var
        assert stats.ks_2samp(a, b).pvalue > 1e-3


@pytest.mark.parametrize("percentile", [None, 0.99])
def test_kernel_mean_matches_the_closed_form_expected_total(percentile):
    sc = _scenario(5000, true_savings=0.02)
    panel = build_panel(sc.spec)
    caps = panel.caps_at(percentile)[None, :]
    n = 4000
    totals = simulate_totals(panel, caps, 0.98, RunOptions(simulations=n, seed=5))[:, 0]
    exact = panel.expected_total(caps[0], cost_factor=0.98)
    assert abs(totals.mean() - exact) < 4 * totals.std() / math.sqrt(n)
