"""The quality score of each simulation: fixed, or uncertain (a Beta distribution)."""

from __future__ import annotations

import numpy as np
from scipy import special

from simsuite.kernels.rng import stream_key
from simsuite.kernels.uniforms import simulation_uniforms

QUALITY_STREAM = 2


def beta_parameters(mean: float, sd: float) -> tuple[float, float]:
    """Beta ``(a, b)`` with the given mean and standard deviation (``sd**2 < mean (1 - mean)``)."""
    k = mean * (1.0 - mean) / (sd * sd) - 1.0
    return mean * k, (1.0 - mean) * k


def quality_scores(mean: float, sd: float, simulations: int, seed: int, first_sim: int = 0) -> np.ndarray:
    """Quality score (fraction) of simulations ``first_sim .. first_sim + simulations - 1``.

    With ``sd == 0`` every simulation has ``mean``; otherwise scores are Beta-distributed
    with that mean and sd, drawn from their own random stream keyed by simulation
    index, so they do not change the cost draws and do not depend on threads.
    """
    if sd == 0.0:
        return np.full(simulations, mean)
    u = np.empty(simulations)
    simulation_uniforms(np.uint64(stream_key(np.uint64(seed), np.uint64(QUALITY_STREAM))), first_sim, 0, u)
    a, b = beta_parameters(mean, sd)
    return special.betaincinv(a, b, u)  # the Beta quantile function
