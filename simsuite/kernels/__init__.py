"""Numba kernels: label-free loops over plain arrays that write into preallocated outputs.

No xarray, no pydantic, no I/O in the kernels. Randomness is a pure function of
(seed, stream, simulation, patient) so results never depend on threads or chunking.
"""

from pathlib import Path

from simsuite.kernels._cache import drop_stale_cache

# Before any kernel module is imported (and its cache loaded): see simsuite/kernels/_cache.py.
drop_stale_cache(Path(__file__).parent)

from simsuite.kernels.panel import panel_totals  # noqa: E402
from simsuite.kernels.rng import ndtri, sim_key, stream_key, uniform  # noqa: E402

__all__ = ["ndtri", "panel_totals", "sim_key", "stream_key", "uniform"]
