"""Numba kernels: label-free loops over plain arrays that write into preallocated outputs.

No xarray, no pydantic, no I/O here. Randomness is a pure function of
(seed, stream, simulation, patient) so results never depend on threads or chunking.
"""

from simsuite.kernels.panel import panel_totals
from simsuite.kernels.rng import ndtri, sim_key, stream_key, uniform

__all__ = ["ndtri", "panel_totals", "sim_key", "stream_key", "uniform"]
