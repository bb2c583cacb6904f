"""Counter-based random numbers and branch-free special functions, for use inside kernels.

Every uniform is ``to_unit(mix64(sim_key(stream_key(seed, stream), sim) + index * G2))``:
a stateless hash of its coordinates. ``mix64`` is the SplitMix64 finaliser (a
bijection on 64-bit integers), so distinct simulations get distinct keys, and a
draw depends only on (seed, stream, simulation, index) -- never on threads,
chunking or the order in which a kernel visits the draws.

The functions here are written so that LLVM can vectorise a loop that calls them
across simulations: no branches (``a if c else b`` on values becomes a select),
no calls into libm (this numba build has no vector maths library, so ``math.exp``
and ``math.log`` would stay scalar), and integer/float reinterpretation through
`f64_from_bits` / `bits_from_f64` instead of int-to-float conversions that AVX2
cannot do on 64-bit lanes. Fused multiply-adds are explicit calls to `fma` (never
``fastmath`` contraction), so every result is a fixed sequence of correctly rounded
IEEE double operations: identical on every thread, in vector and scalar code, and in
any loop order.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GOLDEN2 = np.uint64(0xD1B54A32D192ED03)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_S52 = np.uint64(52)
_ONE_BITS = np.uint64(0x3FF0000000000000)  # bits of 1.0
_ONE_MINUS_HALF_ULP = 1.0 - 2.0**-53


# --- bit reinterpretation -------------------------------------------------------------

@intrinsic
def f64_from_bits(typingctx, x):
    """The float64 whose IEEE-754 bit pattern is the uint64 ``x``."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(x), codegen


@intrinsic
def bits_from_f64(typingctx, x):
    """The IEEE-754 bit pattern of the float64 ``x``, as a uint64."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(x), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` with a single rounding (LLVM ``llvm.fma``; one instruction with FMA3).

    Explicit rather than left to ``fastmath`` contraction, so scalar and vector code
    round identically and results never depend on how a loop was vectorised.
    """
    if not (a == types.float64 and b == types.float64 and c == types.float64):
        return None

    def codegen(context, builder, sig, args):
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return types.float64(a, b, c), codegen


# --- counter-based hash -----------------------------------------------------------------

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
def index_offset(index):
    """The term added to a simulation key for item ``index`` (hoisted out of sim loops)."""
    return np.uint64(index) * _GOLDEN2


@njit(inline="always", cache=True)
def to_unit(x):
    """Map 64 random bits to ``(k + 1/2) / 2**52``, ``k`` = the top 52 bits: open (0, 1).

    The top 52 bits become the mantissa of a float in [1, 2); subtracting
    ``1 - 2**-53`` is exact (Sterbenz), so no int-to-float conversion is needed.
    The result is never 0 or 1.
    """
    return f64_from_bits((x >> _S12) | _ONE_BITS) - _ONE_MINUS_HALF_ULP


@njit(inline="always", cache=True)
def uniform(key, index):
    """Uniform in the open interval (0, 1) for item ``index`` of a simulation key."""
    return to_unit(mix64(key + index_offset(index)))


# --- exp and log: inline polynomials ----------------------------------------------------

_LOG2E = 1.4426950408889634
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits
_SHIFT_BITS = np.uint64(0x4338000000000000)
_EXP_BIAS = np.uint64(1023)
_LN2_HI = 6.93147180369123816490e-01  # 0x3fe62e42fee00000: k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10  # 0x3dea39ef35793c76
_EXP_MIN = -708.0  # exp(-708) is still a normal double, so 2**k needs no subnormal path
_EXP_MAX = 709.0
# Taylor coefficients 1/n!: on |r| <= ln(2)/2 the truncation error after degree 13 is
# below 4e-18 relative, so rounding (~1 ulp) dominates.
_E2 = 1.0 / 2.0
_E3 = 1.0 / 6.0
_E4 = 1.0 / 24.0
_E5 = 1.0 / 120.0
_E6 = 1.0 / 720.0
_E7 = 1.0 / 5040.0
_E8 = 1.0 / 40320.0
_E9 = 1.0 / 362880.0
_E10 = 1.0 / 3628800.0
_E11 = 1.0 / 39916800.0
_E12 = 1.0 / 479001600.0
_E13 = 1.0 / 6227020800.0


@njit(inline="always", cache=True, error_model="numpy")
def exp_poly(x):
    """``exp(x)`` without libm: Cody-Waite reduction by ln 2 and a degree-13 polynomial.

    Accurate to a few ulp for ``-708 <= x <= 709``; ``x`` is clamped to that range
    (costs below ``exp(-708)`` dollars are indistinguishable from 0 in any sum).
    """
    x = min(max(x, _EXP_MIN), _EXP_MAX)
    kd = fma(x, _LOG2E, _SHIFT)
    kf = kd - _SHIFT
    k_bits = bits_from_f64(kd) - _SHIFT_BITS  # k as two's complement in a uint64
    r = fma(-kf, _LN2_HI, x)  # exact: kf * _LN2_HI has few significant bits
    r = fma(-kf, _LN2_LO, r)
    p = _E13
    p = fma(p, r, _E12)
    p = fma(p, r, _E11)
    p = fma(p, r, _E10)
    p = fma(p, r, _E9)
    p = fma(p, r, _E8)
    p = fma(p, r, _E7)
    p = fma(p, r, _E6)
    p = fma(p, r, _E5)
    p = fma(p, r, _E4)
    p = fma(p, r, _E3)
    p = fma(p, r, _E2)
    p = fma(p, r, 1.0)
    p = fma(p, r, 1.0)
    return p * f64_from_bits((k_bits + _EXP_BIAS) << _S52)


# fdlibm / musl log: reduce to m in [sqrt(2)/2, sqrt(2)), log(1 + f) by a minimax series
# in s = f / (2 + f); error below 1 ulp.
_LG1 = 6.666666666666735130e-01  # 0x3FE5555555555593
_LG2 = 3.999999999940941908e-01  # 0x3FD999999997FA04
_LG3 = 2.857142874366239149e-01  # 0x3FD2492494229359
_LG4 = 2.222219843214978396e-01  # 0x3FCC71C51D8E78AF
_LG5 = 1.818357216161805012e-01  # 0x3FC7466496CB03DE
_LG6 = 1.531383769920937332e-01  # 0x3FC39A09D078C69F
_LG7 = 1.479819860511658591e-01  # 0x3FC2F112DF3E5244
_LOG_OFFSET = np.uint64((0x3FF00000 - 0x3FE6A09E) << 32)
_LOG_MANT = np.uint64(0x000FFFFFFFFFFFFF)
_LOG_SQRT_HALF = np.uint64(0x3FE6A09E00000000)
_TWO52_BITS = np.uint64(0x4330000000000000)  # bits of 2**52: OR in a small integer n -> 2**52 + n
_TWO52_PLUS_BIAS = 4503599627370496.0 + 1023.0


@njit(inline="always", cache=True, error_model="numpy")
def log_poly(x):
    """Natural log of a positive normal double without libm (fdlibm's algorithm, < 1 ulp).

    Zero, negative, subnormal, infinite and NaN inputs are not handled (garbage out).
    """
    ix = bits_from_f64(x) + _LOG_OFFSET
    # The biased exponent of the shifted bits is a small integer; OR-ing it into the
    # mantissa of 2**52 converts it to float without an int64-to-float instruction.
    dk = f64_from_bits((ix >> _S52) | _TWO52_BITS) - _TWO52_PLUS_BIAS
    f = f64_from_bits((ix & _LOG_MANT) + _LOG_SQRT_HALF) - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * fma(w, fma(w, _LG6, _LG4), _LG2)
    t2 = z * fma(w, fma(w, fma(w, _LG7, _LG5), _LG3), _LG1)
    r = t2 + t1
    return fma(s, hfsq + r, dk * _LN2_LO) - hfsq + f + dk * _LN2_HI


# --- inverse normal CDF: AS 241 (Wichura 1988), branch-free -----------------------------

_A0, _A1, _A2, _A3, _A4, _A5, _A6, _A7 = (
    3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
    1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
    3.3430575583588128105e4, 2.5090809287301226727e3)
_B1, _B2, _B3, _B4, _B5, _B6, _B7 = (
    4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
    2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
    5.2264952788528545610e3)
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7 = (
    1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
    3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
    2.27238449892691845833e-2, 7.74545014278341407640e-4)
_D1, _D2, _D3, _D4, _D5, _D6, _D7 = (
    2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
    1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
    1.05075007164441684324e-9)
_E0_, _E1_, _E2_, _E3_, _E4_, _E5_, _E6_, _E7_ = (
    6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
    2.71155556874348757815e-5, 2.01033439929228813265e-7)
_F1, _F2, _F3, _F4, _F5, _F6, _F7 = (
    5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
    7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
    2.04426310338993978564e-15)
_P_MIN = 1e-300  # keeps log finite on lanes whose result is discarded (p <= 0)
_P_MAX = 1.0 - 2.0**-53


@njit(inline="always", cache=True)
def _pick(central, far, a, c, e):
    # A select per coefficient: one polynomial evaluation serves all three regions.
    return a if central else (e if far else c)


@njit(inline="always", cache=True, error_model="numpy")
def ndtri_clamp(p):
    """``p`` clamped to ``[1e-300, 1 - 2**-53]`` (finite z for any input; see `ndtri`)."""
    return min(max(p, _P_MIN), _P_MAX)


@njit(inline="always", cache=True, error_model="numpy")
def ndtri_tail_r(p):
    """``sqrt(-log(min(p, 1 - p)))`` of a clamped ``p``: the tail variable of AS 241."""
    return math.sqrt(-log_poly(min(p, 1.0 - p)))


@njit(inline="always", cache=True, error_model="numpy")
def ndtri_finish(p, r):
    """AS 241 from a clamped ``p`` and its `ndtri_tail_r`; ``ndtri(p)`` in two stages.

    Split from `ndtri` so a kernel can run the (long-latency) log stage over a whole
    block of lanes before the rational stage: short loops keep more independent work
    in flight in the out-of-order window than one long loop body.
    """
    q = p - 0.5
    central = abs(q) <= 0.425
    far = r > 5.0
    t = 0.180625 - q * q if central else (r - 5.0 if far else r - 1.6)
    num = _pick(central, far, _A7, _C7, _E7_)
    num = fma(num, t, _pick(central, far, _A6, _C6, _E6_))
    num = fma(num, t, _pick(central, far, _A5, _C5, _E5_))
    num = fma(num, t, _pick(central, far, _A4, _C4, _E4_))
    num = fma(num, t, _pick(central, far, _A3, _C3, _E3_))
    num = fma(num, t, _pick(central, far, _A2, _C2, _E2_))
    num = fma(num, t, _pick(central, far, _A1, _C1, _E1_))
    num = fma(num, t, _pick(central, far, _A0, _C0, _E0_))
    den = _pick(central, far, _B7, _D7, _F7)
    den = fma(den, t, _pick(central, far, _B6, _D6, _F6))
    den = fma(den, t, _pick(central, far, _B5, _D5, _F5))
    den = fma(den, t, _pick(central, far, _B4, _D4, _F4))
    den = fma(den, t, _pick(central, far, _B3, _D3, _F3))
    den = fma(den, t, _pick(central, far, _B2, _D2, _F2))
    den = fma(den, t, _pick(central, far, _B1, _D1, _F1))
    den = fma(den, t, 1.0)
    ratio = num / den
    return q * ratio if central else (-ratio if q < 0.0 else ratio)


@njit(inline="always", cache=True, error_model="numpy")
def ndtri(p):
    """Inverse standard normal CDF, AS 241 (Wichura 1988, ~1e-16 relative), branch-free.

    The three regions of AS 241 (|p - 1/2| <= 0.425; tail with ``r <= 5``; far tail)
    share one rational evaluation whose variable and coefficients are chosen per lane
    by selects, so a loop over simulations vectorises. ``p`` is clamped to
    ``[1e-300, 1 - 2**-53]``: values outside (0, 1) are not errors, they give finite z.
    """
    p = ndtri_clamp(p)
    return ndtri_finish(p, ndtri_tail_r(p))

