"""The kernels' counter-based uniforms written with Python integers, for tests.

Independent of the Numba code in ``simsuite/kernels/rng.py``: tests compare the kernels'
draws with these, bit for bit.
"""

from __future__ import annotations

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
GOLDEN2 = 0xD1B54A32D192ED03


def mix64(x: int) -> int:
    """SplitMix64 finaliser."""
    x &= MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def stream_key(seed: int, stream: int) -> int:
    """Key of one random stream of a seed."""
    return mix64(seed ^ mix64(stream + GOLDEN))


def uniform(seed: int, stream: int, sim: int, index: int) -> float:
    """Uniform number ``index`` of simulation ``sim`` in a stream: top 52 bits, centred, in (0, 1)."""
    skey = mix64(stream_key(seed, stream) + sim * GOLDEN)
    return ((mix64(skey + index * GOLDEN2) >> 12) + 0.5) * 2.0**-52
