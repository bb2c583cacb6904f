"""Per-simulation uniforms for draws that are not per patient (quality, shocks)."""

from __future__ import annotations

from numba import njit, prange

from simsuite.kernels.rng import sim_key, uniform


@njit(parallel=True, cache=True)
def simulation_uniforms(key, sim_start, index, out):
    """``out[s]`` = uniform number ``index`` of simulation ``sim_start + s`` in stream ``key``.

    Parameters
    ----------
    key : uint64
        Stream key (`stream_key` of the seed and a stream number).
    sim_start : int
        Global index of the first simulation.
    index : int
        Which uniform of the simulation (0 for the first draw of this kind).
    out : float64[S]
        Written with uniforms in (0, 1).
    """
    for s in prange(out.shape[0]):
        out[s] = uniform(sim_key(key, sim_start + s), index)
