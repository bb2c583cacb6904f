"""Counter-based random numbers and the inverse normal CDF, for use inside kernels.

Every uniform is ``mix64(sim_key(stream_key(seed, stream), sim) + index * G2)``:
a stateless hash of its coordinates. ``mix64`` is the SplitMix64 finaliser (a
bijection on 64-bit integers), so distinct simulations get distinct keys.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GOLDEN2 = np.uint64(0xD1B54A32D192ED03)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit(inline="always", cache=True)
def mix64(x):
    """SplitMix64 finaliser: a well-mixed bijection of a uint64."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@njit(cache=True)
def stream_key(seed, stream):
    """Key of one random stream (e.g. patient costs, quality draws) of a seed."""
    return mix64(np.uint64(seed) ^ mix64(np.uint64(stream) + _GOLDEN))


@njit(inline="always", cache=True)
def sim_key(key, sim):
    """Key of one simulation within a stream."""
    return mix64(key + np.uint64(sim) * _GOLDEN)


@njit(inline="always", cache=True)
def uniform(key, index):
    """Uniform in the open interval (0, 1) for item ``index`` of a simulation key."""
    x = mix64(key + np.uint64(index) * _GOLDEN2)
    return (float(x >> _S11) + 0.5) * _TWO_M53


@njit(inline="always", cache=True)
def _poly(c, x):
    acc = c[7]
    for j in range(6, -1, -1):
        acc = acc * x + c[j]
    return acc


_A = np.array([3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
               1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
               3.3430575583588128105e4, 2.5090809287301226727e3])
_B = np.array([1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
               2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
               5.2264952788528545610e3])
_C = np.array([1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
               3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
               2.27238449892691845833e-2, 7.74545014278341407640e-4])
_D = np.array([1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
               1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
               1.05075007164441684324e-9])
_E = np.array([6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
               2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
               2.71155556874348757815e-5, 2.01033439929228813265e-7])
_F = np.array([1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
               7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
               2.04426310338993978564e-15])


@njit(cache=True)
def ndtri(p):
    """Inverse standard normal CDF for ``0 < p < 1`` (Wichura 1988, AS 241; ~1e-16 relative)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        z = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        z = _poly(_E, r) / _poly(_F, r)
    return -z if q < 0.0 else z
