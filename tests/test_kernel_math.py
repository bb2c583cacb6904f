"""The kernel's inline maths against numpy/scipy, and the blocked kernel's independence
of block size, lane position, chunking and threads (bit for bit)."""

from __future__ import annotations

import inspect

import numba
import numpy as np
import pytest
from numba import njit
from scipy import special

import simsuite.kernels.panel as panel_module
from simsuite.kernels import panel_totals, stream_key
from simsuite.kernels.rng import exp_poly, log_poly, mix64, ndtri, to_unit


@njit(error_model="numpy")
def _exp(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_poly(x[i])
    return out


@njit(error_model="numpy")
def _log(x, out):
    for i in range(x.shape[0]):
        out[i] = log_poly(x[i])
    return out


@njit(error_model="numpy")
def _ndtri(p, out):
    for i in range(p.shape[0]):
        out[i] = ndtri(p[i])
    return out


@njit
def _unit(x, out):
    for i in range(x.shape[0]):
        out[i] = to_unit(x[i])
    return out


@njit
def _mix(x, out):
    for i in range(x.shape[0]):
        out[i] = mix64(x[i])
    return out


def _rel_err(got, want):
    return np.abs(got - want) / np.abs(want)


def test_inline_exp_matches_numpy_to_a_few_ulp():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-30, 30, 200_000), rng.uniform(-708, 709, 50_000),
                        np.array([0.0, 1.0, -1.0, 0.5 * np.log(2), -0.5 * np.log(2), 708.9, -707.9])])
    assert _rel_err(_exp(x, np.empty_like(x)), np.exp(x)).max() < 4e-16


def test_inline_exp_clamps_outside_the_normal_range():
    x = np.array([-1e6, -800.0, 710.0, 1e6])
    got = _exp(x, np.empty_like(x))
    assert np.all(np.isfinite(got)) and got[0] == got[1] and got[2] == got[3]
    assert got[0] == pytest.approx(np.exp(-708.0), rel=4e-16)
    assert got[2] == pytest.approx(np.exp(709.0), rel=4e-16)


def test_inline_log_matches_numpy_to_an_ulp():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(1e-3, 1.0, 200_000), 10.0 ** rng.uniform(-300, 300, 100_000),
                        1.0 + rng.uniform(-1e-6, 1e-6, 10_000), np.array([0.5, 2.0, np.sqrt(0.5), np.sqrt(2.0)])])
    x = x[x != 1.0]
    assert _rel_err(_log(x, np.empty_like(x)), np.log(x)).max() < 3e-16
    assert _log(np.array([1.0]), np.empty(1))[0] == 0.0


@pytest.mark.parametrize("region", ["central", "tail", "far_tail", "upper_tails"])
def test_inline_ndtri_matches_scipy_in_every_region(region):
    rng = np.random.default_rng(2)
    p = {
        "central": rng.uniform(0.075, 0.925, 200_000),
        "tail": 10.0 ** rng.uniform(np.log10(1.4e-11), np.log10(0.075), 200_000),
        "far_tail": 10.0 ** rng.uniform(-300, np.log10(1.4e-11), 100_000),
        "upper_tails": 1.0 - 10.0 ** rng.uniform(-15.5, np.log10(0.075), 200_000),
    }[region]
    got = _ndtri(p, np.empty_like(p))
    want = special.ndtri(p)
    # Far beyond the ~1e-7 the simulation needs: z agrees with scipy to ~1e-15 (relative
    # to max(1, |z|)) everywhere, which also pins the inline log it relies on.
    assert (np.abs(got - want) / np.maximum(1.0, np.abs(want))).max() < 2e-15
    assert np.all(np.sign(got) == np.sign(want))


def test_inline_ndtri_is_finite_and_monotone_at_the_edges():
    p = np.array([-1.0, 0.0, 5e-324, 1e-300, 2.0**-53, 0.5, 1.0 - 2.0**-53, 1.0, 2.0])
    z = _ndtri(p, np.empty_like(p))
    assert np.all(np.isfinite(z)) and np.all(np.diff(z) >= 0)
    assert z[4] == pytest.approx(special.ndtri(2.0**-53), rel=1e-15) and z[5] == 0.0


def test_uniforms_are_the_top_52_bits_centred_in_the_open_interval():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(0, 2**64 - 1, 10_000, dtype=np.uint64, endpoint=True),
                        np.array([0, 2**12 - 1, 2**63, 2**64 - 1], dtype=np.uint64)])
    u = _unit(x, np.empty(x.shape))
    want = np.array([((int(v) >> 12) + 0.5) * 2.0**-52 for v in x])
    assert np.array_equal(u, want)
    assert u.min() == 2.0**-53 and u.max() == 1.0 - 2.0**-53


def test_hash_is_splitmix64():
    # Reference SplitMix64 outputs for seed 1234567 (Rosetta Code, "Pseudo-random
    # numbers/Splitmix64"): the state advances by the golden gamma, mix64 is the finaliser.
    gamma = 0x9E3779B97F4A7C15
    states = np.array([(1234567 + gamma * k) % 2**64 for k in (1, 2)], dtype=np.uint64)
    got = _mix(states, np.empty(2, dtype=np.uint64))
    assert [int(v) for v in got] == [6457827717110365317, 3203168211198807973]


# --- the blocked kernel -------------------------------------------------------------------

def _kernel_with_block(block: int, parallel: bool):
    """The kernel's source recompiled with another BLOCK (and optionally serial).

    Blocks below 16 compile to scalar code (LLVM does not vectorise such short loops),
    so comparing them with the default also compares scalar and AVX2 arithmetic.
    """
    src = inspect.getsource(panel_module.panel_totals.py_func)
    src = src[src.index("def panel_totals"):]
    if not parallel:
        src = src.replace("prange(", "range(")
    ns = dict(vars(panel_module), BLOCK=block)
    exec(compile(src, f"<panel_totals BLOCK={block}>", "exec"), ns)
    return njit(parallel=parallel, error_model="numpy")(ns["panel_totals"])


def _case(n_patients=257):
    rng = np.random.default_rng(4)
    cohort_start = np.array([0, 3, 40, 41, n_patients], dtype=np.int64)
    log_mean = rng.normal(8.5, 1.0, n_patients)
    zero_share = np.array([0.0, 0.1, 0.999, 0.3])
    sigma = np.array([1.25, 2.0, 1.0, 0.6])
    caps = np.array([[np.inf] * 4, [50_000.0, 20_000.0, 1e6, 3_000.0], [0.0, 1.0, 2.0, 3.0]])
    key = np.uint64(stream_key(np.uint64(2**63 + 12345), np.uint64(1)))
    return key, log_mean, cohort_start, zero_share, sigma, caps


def _run(kernel, key, sim_start, n_sims, log_mean, cohort_start, zero_share, sigma, caps):
    out = np.full((n_sims, caps.shape[0]), np.nan)
    # A per-simulation log shift that is a function of the global simulation index, so a
    # lane reading another simulation's shift would break the independence tests below.
    log_shift = 0.05 * np.sin(np.arange(sim_start, sim_start + n_sims, dtype=float))
    kernel(key, sim_start, log_mean, log_shift, cohort_start, zero_share, sigma, caps, out)
    return out


@pytest.mark.slow
def test_results_do_not_depend_on_block_size_or_vectorisation():
    key, *arrays = _case()
    want = _run(panel_totals, key, 5, 77, *arrays)
    assert np.all(np.isfinite(want))
    # A block of one lane, one that does not divide the vector width, and a parallel one
    # wider than the default (each variant is a compile of its own: a few seconds).
    for block, parallel in ((1, False), (3, False), (64, True)):
        got = _run(_kernel_with_block(block, parallel), key, 5, 77, *arrays)
        assert np.array_equal(got, want), f"BLOCK={block}"


def test_results_do_not_depend_on_lane_position_chunking_or_threads():
    key, *arrays = _case()
    whole = _run(panel_totals, key, 0, 150, *arrays)
    # Splits that put each simulation in a different lane of a different block.
    for cuts in ((0, 1, 150), (0, 7, 40, 41, 150), (0, 17, 33, 149, 150)):
        parts = [_run(panel_totals, key, a, b - a, *arrays) for a, b in zip(cuts[:-1], cuts[1:])]
        assert np.array_equal(np.vstack(parts), whole)
    previous = numba.get_num_threads()
    try:
        for threads in range(1, numba.config.NUMBA_NUM_THREADS + 1):
            numba.set_num_threads(threads)
            assert np.array_equal(_run(panel_totals, key, 0, 150, *arrays), whole)
    finally:
        numba.set_num_threads(previous)


def test_caps_and_hurdle_edges():
    key, log_mean, cohort_start, zero_share, sigma, caps = _case()
    out = _run(panel_totals, key, 0, 200, log_mean, cohort_start, zero_share, sigma, caps)
    assert np.all(out[:, 0] >= out[:, 1]) and np.all(out[:, 1] >= out[:, 2])
    # Cap row 2: 0 for cohort 0, at most c dollars per patient in cohort c.
    sizes = np.diff(cohort_start)
    assert np.all(out[:, 2] <= sizes[1] * 1.0 + sizes[2] * 2.0 + sizes[3] * 3.0)
    # Cohort 2 (one patient, 99.9% zero-cost) is almost never positive; cohort 0 never zero.
    only0 = zero_share.copy()
    only0[1:] = 1.0
    out0 = _run(panel_totals, key, 0, 200, log_mean, cohort_start, only0, sigma, caps)
    assert np.all(out0[:, 0] > 0) and np.all(out0[:, 2] == 0.0)
    none = _run(panel_totals, key, 0, 200, log_mean, cohort_start, np.ones(4), sigma, caps)
    assert np.all(none == 0.0)
