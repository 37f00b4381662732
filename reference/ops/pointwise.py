"""Elementwise ops: arithmetic, pow, exp/log, trigonometric and hyperbolic functions,
sigmoid/relu/erf, piecewise ops (abs, sign, floor, round, clamp), maximum/minimum,
atan2, where and comparisons.

Each op's forward, backward and jvp sit side by side. Gradients are returned in the
output's (broadcast) shape; the engine reduces them to each input's shape. For a
unary op the tangent goes through the same derivative as the cotangent, so its
``jvp`` is its ``backward``. Values at kinks follow torch (torch-conventions.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import COMMON, FLOAT, Function, apply, sum_tangents
from reference.ops.operands import operand, scalar_promoted

# Like torch, ops return inf/nan silently instead of warning about them.
QUIET = {"all": "ignore"}
LN2 = math.log(2.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _inplace(ufunc: Any, x: Any) -> Any:
    """``ufunc(x)`` written over ``x``, a fresh temporary (NumPy gives scalars for 0-d results)."""
    return ufunc(x, out=x) if type(x) is np.ndarray else ufunc(x)


def _reciprocal_inplace(x: Any) -> Any:
    """``1 / x`` over the fresh temporary ``x`` (np.divide beats np.reciprocal by 2x on floats)."""
    return np.divide(1.0, x, out=x) if type(x) is np.ndarray else 1.0 / x


def _zeros(g: Any) -> Any:
    """A zero gradient shaped like ``g`` (what torch returns for piecewise-constant ops)."""
    return xp.zeros_like(g)


def _zero_where(drop: Any, g: Any) -> Any:
    """``g`` with zeros where the mask ``drop`` holds (torch's ``where(mask, 0, grad)``: a nan
    in ``g`` never leaks). On arrays a copy and a masked fill: several times faster than np.where."""
    if type(g) is np.ndarray:
        out = g.copy()
        np.copyto(out, 0, where=drop)
        return out
    return xp.where(drop, 0.0, g)


def _or_zero(t: Any) -> Any:
    return 0.0 if t is None else t


def _torch_sign(a: np.ndarray) -> np.ndarray:
    """torch's sign: 0 for nan and for -0.0 (NumPy gives nan and -0.0)."""
    s = (a > 0).astype(a.dtype)
    s -= a < 0
    return s


def _unsupported_bool(a: np.ndarray, kernel: str) -> None:
    if a.dtype == np.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


# -- add, sub, mul, div, neg ---------------------------------------------------------------


class Add(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a + b if alpha == 1 else a + alpha * b

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha)

    @staticmethod
    def jvp(ctx, ta, tb):  # a None tangent is zero
        tb = tb if tb is None or ctx.alpha == 1 else tb * ctx.alpha
        return sum_tangents(ta, tb)


class Sub(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a - b if alpha == 1 else a - alpha * b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.alpha == 1 else -g * ctx.alpha)

    @staticmethod
    def jvp(ctx, ta, tb):
        tb = None if tb is None else (-tb if ctx.alpha == 1 else tb * -ctx.alpha)
        return sum_tangents(ta, tb)


class Rsub(Function):  # other - input, with other a Python scalar: one edge, as in torch
    @staticmethod
    def forward(ctx, a, other, alpha=1):
        ctx.alpha = alpha
        return other - a if alpha == 1 else other - alpha * a

    @staticmethod
    def backward(ctx, g):
        return -g if ctx.alpha == 1 else g * -ctx.alpha

    jvp = backward


class RsubTensor(Function):  # torch.rsub(input, other) = other - alpha * input, both tensors
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return b - a if alpha == 1 else b - alpha * a

    @staticmethod
    def backward(ctx, g):
        return (-g if ctx.alpha == 1 else g * -ctx.alpha), g

    @staticmethod
    def jvp(ctx, ta, tb):
        ta = None if ta is None else (-ta if ctx.alpha == 1 else ta * -ctx.alpha)
        return sum_tangents(ta, tb)


class Mul(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, _as_saved(b, a))
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, (g * a if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return sum_tangents(None if ta is None else ta * b, None if tb is None else a * tb)


class Div(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, _as_saved(b, a))
        with np.errstate(**QUIET):
            return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g / b, (-g * (a / b / b) if ctx.needs_input_grad[1] else None)  # torch's grouping

    @staticmethod
    def jvp(ctx, ta, tb):  # torch's form (ta - tb * a/b) / b: its infinities at b == 0
        a, b = ctx.saved_tensors
        return sum_tangents(ta, None if tb is None else -tb * (a / b)) / b


class DivRounded(Function):  # div(..., rounding_mode=...): piecewise constant, zero gradient
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, mode):
        if a.dtype.kind in "iub":
            if np.any(b == 0):
                raise RuntimeError("ZeroDivisionError")
            q = np.floor_divide(a, b)
            if mode == "trunc":  # floor division rounds negative inexact quotients one too far down
                q += (q < 0) & (q * b != a)
            return q
        with np.errstate(**QUIET):
            return np.floor_divide(a, b) if mode == "floor" else np.trunc(a / b)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g), _zeros(g)

    @staticmethod
    def jvp(ctx, ta, tb):
        return np.zeros_like(ta if ta is not None else tb)


class Reciprocal(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        with np.errstate(**QUIET):
            r = 1.0 / a
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return -g * (r * r)

    jvp = backward


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                "to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g

    jvp = backward


def _as_saved(value: Any, like: np.ndarray) -> Any:
    """A Python scalar operand as a 0-d array of the op's dtype, so that create_graph can
    turn it into a constant Tensor like every other saved value."""
    return value if type(value) is np.ndarray else np.asarray(value, like.dtype)


def add(input, other, *, alpha=1):
    return apply(Add, "AddBackward0", (input, operand(other)), alpha=alpha)


def sub(input, other, *, alpha=1):
    return apply(Sub, "SubBackward0", (input, operand(other)), alpha=alpha)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (``2 - x`` is ``x.__rsub__(2)``)."""
    other = operand(other)
    if not isinstance(other, (int, float)):
        return apply(RsubTensor, "RsubBackward0", (input, other), alpha=alpha)
    return apply(Rsub, "RsubBackward1", (scalar_promoted(input, other),), other=other, alpha=alpha)


def mul(input, other):
    return apply(Mul, "MulBackward0", (input, operand(other)))


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return apply(Div, "DivBackward0", (input, operand(other)))
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
        )
    return apply(DivRounded, "DivBackward2", (input, operand(other)), mode=rounding_mode)


def rdiv(input, other):
    """``other / input`` for a Python scalar: torch computes ``reciprocal(input) * other``."""
    other = operand(other)
    if not isinstance(other, (int, float)):
        return div(other, input)
    return mul(reciprocal(input), other)


def reciprocal(input):
    return apply(Reciprocal, "ReciprocalBackward0", (input,))


def neg(input):
    return apply(Neg, "NegBackward0", (input,))


def _scalars_promoted(t: Any, *scalars: Any) -> Any:
    """``t`` cast to the dtype torch computes ``t op scalars`` in (int/bool tensors only)."""
    if t._data.dtype.kind == "f":
        return t
    scalars = tuple(s for s in scalars if s is not None)
    target = dtypes.result_type([(t.dtype, t._data.ndim == 0)], scalars)
    return t if target.np == t._data.dtype else type(t)._make(t._data.astype(target.np))


# -- pow -----------------------------------------------------------------------------------


class PowScalar(Function):  # tensor ** scalar
    @staticmethod
    def forward(ctx, a, exponent):
        if a.dtype.kind in "iub" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        ctx.exponent = exponent
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return a * a if exponent == 2 else a**exponent

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:  # torch: exactly zero, even where a**-1 would be inf
            return _zeros(g)
        if p == 2:
            return g * (a * 2.0)
        return g * (p * a ** (p - 1))

    jvp = backward


class PowTensor(Function):  # tensor ** tensor
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(**QUIET):
            r = a**b
        ctx.save_for_backward(a, b, r)
        return r

    @staticmethod
    def backward(ctx, g):
        a, b, r = ctx.saved_tensors
        ga = _pow_base_grad(g, a, b)
        gb = _pow_exponent_grad(g, a, b, r) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b, r = ctx.saved_tensors
        return sum_tangents(
            None if ta is None else _pow_base_grad(ta, a, b), None if tb is None else _pow_exponent_grad(tb, a, b, r)
        )


def _pow_base_grad(g, a, b):
    return xp.where(xp.data(b) == 0, 0.0, g * (b * a ** (b - 1)))


def _pow_exponent_grad(g, a, b, r):
    # torch: d/db a**b is 0 where a == 0 and b >= 0 (not nan from 0 * log 0); g multiplies
    # outside the mask, as in torch, which shows in second derivatives (0 * inf = nan)
    ad, bd = xp.data(a), xp.data(b)
    return g * xp.where((ad == 0) & (bd >= 0), 0.0, r * xp.log(a))


class RPow(Function):  # scalar ** tensor
    @staticmethod
    def forward(ctx, b, base):
        with np.errstate(**QUIET):
            r = np.power(base, b)
        ctx.base = base
        ctx.save_for_backward(b, r)
        return r

    @staticmethod
    def backward(ctx, g):
        b, r = ctx.saved_tensors
        base = ctx.base
        if base == 0:  # torch: 0 where the exponent is >= 0, else -inf
            return g * xp.where(xp.data(b) >= 0, 0.0, r * -math.inf)
        return g * (r * (math.log(base) if base > 0 else math.nan))

    jvp = backward


def pow(input, exponent):
    exponent = operand(exponent)
    if isinstance(input, (int, float, np.generic)):  # torch.pow(2, x)
        return rpow(exponent, input)
    if isinstance(exponent, (int, float)):
        return apply(PowScalar, "PowBackward0", (scalar_promoted(input, exponent),), exponent=exponent)
    return apply(PowTensor, "PowBackward1", (input, exponent))


def rpow(input, base):
    """``base ** input`` for a Python scalar ``base``."""
    base = operand(base)
    if not isinstance(base, (int, float)):
        return pow(base, input)
    return apply(RPow, "PowBackward2", (scalar_promoted(input, base),), base=base)


def square(input):
    """torch records ``input ** 2`` (PowBackward0); bools square to int64."""
    return pow(input, 2)


# -- exp and log -----------------------------------------------------------------------------


class Exp(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        with np.errstate(**QUIET):
            r = np.exp(a)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * r

    jvp = backward


class Expm1(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        with np.errstate(**QUIET):
            r = np.expm1(a)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * (r + 1)

    jvp = backward


class Log(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a

    jvp = backward


class Log1p(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.log1p(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a + 1)

    jvp = backward


class Log2(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.log2(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a * LN2)

    jvp = backward


class Sqrt(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        with np.errstate(**QUIET):
            r = np.sqrt(a)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):  # inf at 0, as torch
        (r,) = ctx.saved_tensors
        return g / (r * 2)

    jvp = backward


class Rsqrt(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        with np.errstate(**QUIET):
            r = _reciprocal_inplace(np.sqrt(a))
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * (r * r * r * -0.5)

    jvp = backward


def exp(input):
    return apply(Exp, "ExpBackward0", (input,))


def expm1(input):
    return apply(Expm1, "Expm1Backward0", (input,))


def log(input):
    return apply(Log, "LogBackward0", (input,))


def log1p(input):
    return apply(Log1p, "Log1PBackward0", (input,))


def log2(input):
    return apply(Log2, "Log2Backward0", (input,))


def sqrt(input):
    return apply(Sqrt, "SqrtBackward0", (input,))


def rsqrt(input):
    return apply(Rsqrt, "RsqrtBackward0", (input,))


# -- trigonometric and hyperbolic ------------------------------------------------------------


class Sin(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * xp.cos(a)

    jvp = backward


class Cos(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * -xp.sin(a)

    jvp = backward


class Tan(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        with np.errstate(**QUIET):
            r = np.tan(a)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * (r * r + 1)

    jvp = backward


class Asin(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.arcsin(a)

    @staticmethod
    def backward(ctx, g):  # inf at +-1, nan outside
        (a,) = ctx.saved_tensors
        return g / xp.sqrt(1 - a * a)

    jvp = backward


class Acos(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.arccos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g / xp.sqrt(1 - a * a)

    jvp = backward


class Atan(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.arctan(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a * a + 1)

    jvp = backward


class Sinh(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.sinh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * xp.cosh(a)

    jvp = backward


class Cosh(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return np.cosh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * xp.sinh(a)

    jvp = backward


class Tanh(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        r = np.tanh(a)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * (1 - r * r)

    jvp = backward


def sin(input):
    return apply(Sin, "SinBackward0", (input,))


def cos(input):
    return apply(Cos, "CosBackward0", (input,))


def tan(input):
    return apply(Tan, "TanBackward0", (input,))


def asin(input):
    return apply(Asin, "AsinBackward0", (input,))


def acos(input):
    return apply(Acos, "AcosBackward0", (input,))


def atan(input):
    return apply(Atan, "AtanBackward0", (input,))


def sinh(input):
    return apply(Sinh, "SinhBackward0", (input,))


def cosh(input):
    return apply(Cosh, "CoshBackward0", (input,))


def tanh(input):
    return apply(Tanh, "TanhBackward0", (input,))


# -- sigmoid, relu, erf ----------------------------------------------------------------------


class Sigmoid(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        with np.errstate(**QUIET):  # 1 / (1 + exp(-a)), on one temporary
            e = _inplace(np.exp, -a)
            e += 1
            r = _reciprocal_inplace(e)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        if type(g) is np.ndarray and type(r) is np.ndarray:  # g r (1 - r) on one temporary
            d = np.subtract(1, r)
            d *= r
            d *= g
            return d
        return g * (r * (1 - r))

    jvp = backward


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            raise RuntimeError("Boolean inputs not supported for relu")
        r = a.copy()
        np.copyto(r, 0, where=a < 0)  # keeps -0.0 and nan, as torch
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):  # 0 at 0; threshold on the result, so nan passes g through
        (r,) = ctx.saved_tensors
        return _zero_where(xp.data(r) <= 0, g)

    jvp = backward


class Erf(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return erf_array(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (xp.exp(-(a * a)) * TWO_OVER_SQRT_PI)

    jvp = backward


def sigmoid(input):
    return apply(Sigmoid, "SigmoidBackward0", (input,))


def relu(input):
    return apply(Relu, "ReluBackward0", (input,))


def erf(input):
    return apply(Erf, "ErfBackward0", (input,))


# erf on float64 arrays. NumPy has none; coefficients derived here (40 digits, mpmath):
# |x| < 1:  erf(x) = x + x * q(x^2), q from the Chebyshev interpolant of erf(√s)/√s - 1 on
#           s in [0, 1] (degree 13), in powers of s;
# 1 <= |x|: erf(x) = ±(1 - exp(-x^2) h(x)), h = exp(x^2) erfc(x) interpolated in
#           u = 1/(1 + |x|/4) (degree 17), in powers of z = 5u - 3 (z in [-1, 1] for |x| in [1, 6]);
#           past |x| = 6, erfc < 2e-17 and erf rounds to ±1.
# Float32 inputs run in float32 with degree 7 and 10 interpolants (error < 1e-9): within 1 ulp
# of the correctly rounded erf, as torch's float32 erf.
# Float64 accuracy against math.erf on 1e5 points (uniform in [-7, 7], normal, tiny, log-spaced):
# at most 2 ulp, 0.16 ulp on average (tests/reference/test_pointwise.py measures it).
_ERF_SMALL = (
    0.1283791670955126, -0.37612638903183754, 0.1128379167095512, -0.02686617064512984, 0.0052239776254232985,
    -0.000854832702193483, 0.00012055332902888736, -1.4925647567519332e-05, 1.6462045441468418e-06,
    -1.6364642158167616e-07, 1.4792401209404813e-08, -1.216456005728345e-09, 8.709045129053106e-11,
    -4.230945824295338e-12,
)  # fmt: skip
_ERF_LARGE = (
    0.19907263099386563, 0.14812992991458332, 0.05589108556608049, 0.018078437227012044, 0.004990286041083589,
    0.0011615374405681985, 0.0002225964318186246, 3.346127705792256e-05, 3.4988173552439644e-06,
    1.4320651874377451e-07, -2.5771433228199363e-08, -4.95652190053252e-09, -1.0702131573919002e-10,
    6.924327359414642e-11, 6.566678477556606e-12, -8.373298337881446e-13, -1.4304164132499003e-13,
    1.0065864831621792e-14,
)  # fmt: skip
_ERF_SMALL_F32 = (
    0.12837916706154343, -0.3761263846802871, 0.11283782495236845, -0.026865430727670243, 0.005221031807858023,
    -0.0008484080405535107, 0.00011265959025606609, -9.667044571486996e-06,
)  # fmt: skip
_ERF_LARGE_F32 = (
    0.19907263099386563, 0.1481299298633424, 0.05589108556511744, 0.01807843825254995, 0.004990286060410933,
    0.0011615316871848584, 0.00022259632262902428, 3.3474475502388866e-05, 3.499071354422948e-06,
    1.2990364836247104e-07, -2.6035123117593002e-08,
)  # fmt: skip
_ERF_SCALAR_LIMIT = 48  # below this many elements, math.erf per element is faster


def _horner(coeffs: tuple, z: np.ndarray) -> np.ndarray:
    """sum(coeffs[k] * z**k), in place on one temporary."""
    acc = np.full_like(z, coeffs[-1])
    for c in coeffs[-2::-1]:
        acc *= z
        acc += c
    return acc


def erf_array(x: Any) -> np.ndarray:
    """The error function of a float array, elementwise (float32 in, float32 out; else float64).

    Within 2 ulp of ``math.erf`` in float64 (see the note above the coefficients); odd,
    ``erf(±inf) = ±1``, ``erf(nan) = nan``, ``erf(-0.0) = -0.0``.
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    if x.size < _ERF_SCALAR_LIMIT:
        return np.array([math.erf(v) for v in x.ravel().tolist()], dtype).reshape(x.shape)
    narrow = dtype == np.float32
    small, large = (_ERF_SMALL_F32, _ERF_LARGE_F32) if narrow else (_ERF_SMALL, _ERF_LARGE)
    w = x if narrow else x.astype(np.float64, copy=False)  # float32 runs in float32: twice as fast
    ax = np.abs(w)
    near = ax < 1.0
    n_near = np.count_nonzero(near)
    # Both branches run on every element and a branch-free copy picks: gathering the
    # elements of a random mask costs more than a whole polynomial.
    if n_near == w.size:
        out = _erf_near(w, small)
    else:
        out = _erf_far(w, ax, large)
        if n_near:
            np.copyto(out, _erf_near(w, small), where=near)
    return out


def _erf_near(w: np.ndarray, coeffs: tuple) -> np.ndarray:
    """x + x q(x^2), for |x| < 1 (the correction is small, so its rounding barely shows)."""
    s = np.square(w)
    np.minimum(s, 1.0, out=s)  # elements of the other branch: keep the powers finite
    q = _horner(coeffs, s)
    q *= w
    q += w
    return q


def _erf_far(w: np.ndarray, ax: np.ndarray, coeffs: tuple) -> np.ndarray:
    """±(1 - exp(-x^2) h(x)) for |x| >= 1; overwrites ``ax``."""
    xf = np.clip(ax, 1.0, 6.0, out=ax)  # nan stays nan; past 6, erf rounds to ±1
    z = xf * 0.25
    z += 1.0
    np.divide(5.0, z, out=z)
    z -= 3.0  # 5 / (1 + x/4) - 3, in [-1, 1]
    h = _horner(coeffs, z)
    np.square(xf, out=xf)
    np.negative(xf, out=xf)
    h *= np.exp(xf, out=xf)
    np.subtract(1.0, h, out=h)
    return np.copysign(h, w, out=h)


# -- abs, sign, floor, round -----------------------------------------------------------------


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        _unsupported_bool(a, "abs_cpu")
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):  # sign(a): 0 at 0 (and at nan), as torch
        (a,) = ctx.saved_tensors
        return g * _torch_sign(np.asarray(xp.data(a)))

    jvp = backward


class Sign(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            return a.copy()
        return _torch_sign(a) if a.dtype.kind == "f" else np.sign(a)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)

    jvp = backward


class Floor(Function):
    @staticmethod
    def forward(ctx, a):
        _unsupported_bool(a, "floor_vml_cpu")
        return np.floor(a) if a.dtype.kind == "f" else a.copy()

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)

    jvp = backward


class Round(Function):  # half to even, like torch (and NumPy)
    @staticmethod
    def forward(ctx, a, decimals=0):
        _unsupported_bool(a, "round_vml_cpu")
        if a.dtype.kind != "f":
            return a.copy()
        return np.rint(a) if decimals == 0 else np.round(a, decimals)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)

    jvp = backward


def abs(input):
    return apply(Abs, "AbsBackward0", (input,))


def sign(input):
    return apply(Sign, "SignBackward0", (input,))


def floor(input):
    return apply(Floor, "FloorBackward0", (input,))


def round(input, *, decimals=0):
    if decimals == 0:
        return apply(Round, "RoundBackward0", (input,))
    return apply(Round, "RoundBackward1", (input,), decimals=decimals)


# -- clamp -----------------------------------------------------------------------------------
# x is kept where min <= x <= max (ties go to x); a nan bound gives nan; min > max gives max.
# np.maximum(bound, x) returns x on a tie (so -0.0 survives, as in torch) and propagates nan.


class ClampScalar(Function):  # Python-number bounds: ClampBackward1 (ClampMin/MaxBackward0)
    @staticmethod
    def forward(ctx, a, min=None, max=None):
        ctx.min, ctx.max = min, max
        ctx.save_for_backward(a)
        r = a if min is None else np.maximum(min, a)
        if max is not None:
            r = np.minimum(max, r, out=r) if r is not a and type(r) is np.ndarray else np.minimum(max, r)
        return r

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return _zero_where(~_within(xp.data(a), ctx.min, ctx.max), g)

    jvp = backward


def _within(a: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    if hi is None:
        return a >= lo
    if lo is None:
        return a <= hi
    return (a >= lo) & (a <= hi)  # not in place: with tensor bounds the two may broadcast differently


class ClampTensor(Function):  # tensor bounds (either may be None): ClampBackward0
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.bounds = (lo is not None, hi is not None)
        ctx.save_for_backward(a, *(v for v in (lo, hi) if v is not None))  # saved values are never None
        r = a if lo is None else np.maximum(lo, a)
        return r if hi is None else np.minimum(hi, r)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = _clamp_saved(ctx, xp.data)
        ga = _zero_where(~_within(a, lo, hi), g)
        glo = ghi = None
        if lo is not None and ctx.needs_input_grad[1]:
            glo = _zero_where(~((a < lo) & (lo < hi) if hi is not None else a < lo), g)
        if hi is not None and ctx.needs_input_grad[2]:
            ghi = _zero_where(~((a > hi) | (hi < lo) if lo is not None else a > hi), g)
        return ga, glo, ghi

    @staticmethod
    def jvp(ctx, ta, tlo, thi):
        a, lo, hi = _clamp_saved(ctx, None)
        ta, tlo, thi = _or_zero(ta), _or_zero(tlo), _or_zero(thi)
        if hi is None:  # torch's one-bound rules give the tie to the bound (unlike backward)
            return np.where(a > lo, ta, tlo)
        if lo is None:
            return np.where(a < hi, ta, thi)
        return np.where(lo > hi, thi, np.where(a < lo, tlo, np.where(a > hi, thi, ta)))


def _clamp_saved(ctx, convert):
    """(x, min, max) from what ClampTensor saved, None for an absent bound."""
    saved = iter(ctx.saved_tensors if convert is None else [convert(v) for v in ctx.saved_tensors])
    a = next(saved)
    has_lo, has_hi = ctx.bounds
    return a, (next(saved) if has_lo else None), (next(saved) if has_hi else None)


class ClampMinTensor(Function):  # clamp_min(x, tensor): ClampMinBackward1
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, lo):
        ctx.save_for_backward(a, lo)
        return np.maximum(lo, a)

    @staticmethod
    def backward(ctx, g):
        a, lo = (xp.data(v) for v in ctx.saved_tensors)
        keep = a >= lo
        return _zero_where(~keep, g), (_zero_where(keep, g) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, tlo):
        a, lo = ctx.saved_tensors
        return np.where(a >= lo, _or_zero(ta), _or_zero(tlo))


class ClampMaxTensor(Function):  # clamp_max(x, tensor): ClampMaxBackward1
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, hi):
        ctx.save_for_backward(a, hi)
        return np.minimum(hi, a)

    @staticmethod
    def backward(ctx, g):
        a, hi = (xp.data(v) for v in ctx.saved_tensors)
        keep = a <= hi
        return _zero_where(~keep, g), (_zero_where(keep, g) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, thi):
        a, hi = ctx.saved_tensors
        return np.where(a <= hi, _or_zero(ta), _or_zero(thi))


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "grad_fn")


def _type_name(x: Any) -> str:
    return "Tensor" if _is_tensor(x) else type(x).__name__


def clamp(input, min=None, max=None):
    """Clamp to ``[min, max]``; both bounds Python numbers, or both tensors (or None)."""
    min, max = (b if b is None or _is_tensor(b) else operand(b) for b in (min, max))
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if any(_is_tensor(b) for b in (min, max)):
        if not all(b is None or _is_tensor(b) for b in (min, max)):
            got = ", ".join(_type_name(v) for v in (input, min, max) if v is not None)
            raise TypeError(
                f"clamp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
                " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n"
            )
        return apply(ClampTensor, "ClampBackward0", (input, min, max))
    return apply(ClampScalar, "ClampBackward1", (_scalars_promoted(input, min, max),), min=min, max=max)


def clamp_min(input, min):
    if _is_tensor(min):
        return apply(ClampMinTensor, "ClampMinBackward1", (input, min))
    min = _bound(min, "clamp_min", "min")
    return apply(ClampScalar, "ClampMinBackward0", (_scalars_promoted(input, min),), min=min)


def clamp_max(input, max):
    if _is_tensor(max):
        return apply(ClampMaxTensor, "ClampMaxBackward1", (input, max))
    max = _bound(max, "clamp_max", "max")
    return apply(ClampScalar, "ClampMaxBackward0", (_scalars_promoted(input, max),), max=max)


def _bound(value: Any, fn: str, name: str) -> Any:
    if isinstance(value, (bool, int, float, np.generic)):
        return operand(value)
    kind = type(value).__name__
    raise TypeError(
        f"{fn}() received an invalid combination of arguments - got ({kind}), but expected one of:\n"
        f" * (Tensor {name})\n      didn't match because some of the arguments have invalid types: (!{kind}!)\n"
        f" * (Number {name})\n      didn't match because some of the arguments have invalid types: (!{kind}!)\n"
    )


# -- maximum, minimum, atan2 -----------------------------------------------------------------


def _tensor_other(fn: str, other: Any) -> Any:
    if not _is_tensor(other):
        raise TypeError(f"{fn}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return other


class Maximum(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _extremum_grads(ctx, g, xp.data(a), xp.data(b))

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return _extremum_jvp(ta, tb, np.where(a == b, 0.5, a > b).astype(a.dtype))


class Minimum(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _extremum_grads(ctx, g, xp.data(b), xp.data(a))

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return _extremum_jvp(ta, tb, np.where(a == b, 0.5, a < b).astype(a.dtype))


def _extremum_grads(ctx, g, winner, loser):
    """maximum(winner, loser)'s gradients (minimum swaps the roles): ties split g in half;
    where a nan makes both comparisons false, both sides get all of g (torch's rule)."""
    tie = winner == loser
    if type(g) is np.ndarray:
        half = g.copy()
        np.multiply(half, 0.5, out=half, where=tie)
    else:
        half = xp.where(tie, g * 0.5, g)
    ga = _zero_where(winner < loser, half)
    gb = _zero_where(winner > loser, half) if ctx.needs_input_grad[1] else None
    return ga, gb


def _extremum_jvp(ta, tb, weight):
    """tb + (ta - tb) * weight, the weight of input a (0, 1/2 on ties, or 1)."""
    return _or_zero(tb) + (_or_zero(ta) - _or_zero(tb)) * weight


class Atan2(Function):  # atan2(input=y, other=x)
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = a * a + b * b
        zero = xp.data(d) == 0  # torch gives 0 where the denominator vanishes (or underflows)
        ga = xp.where(zero, 0.0, g * b / d)
        gb = xp.where(zero, 0.0, g * -a / d) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):  # no mask here: torch's forward mode gives nan at the origin
        a, b = ctx.saved_tensors
        num = sum_tangents(None if ta is None else b * ta, None if tb is None else -a * tb)
        return num / (a * a + b * b)


def maximum(input, other):
    return apply(Maximum, "MaximumBackward0", (input, _tensor_other("maximum", other)))


def minimum(input, other):
    return apply(Minimum, "MinimumBackward0", (input, _tensor_other("minimum", other)))


def atan2(input, other):
    return apply(Atan2, "Atan2Backward0", (input, _tensor_other("atan2", other)))


# -- where and comparisons -----------------------------------------------------------------


class Where(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        c = ctx.condition
        return _zero_where(~c, g), _zero_where(c, g)

    @staticmethod
    def jvp(ctx, ta, tb):
        return np.where(ctx.condition, _or_zero(ta), _or_zero(tb))


_TORCH_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool"}


def where(condition, input, other):
    cond = condition._data if _is_tensor(condition) else np.asarray(condition)
    if cond.dtype != np.bool_:
        kind = _TORCH_SCALAR_NAMES.get(dtypes.from_numpy(cond.dtype).name, str(cond.dtype))
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {kind}")
    return apply(Where, "WhereBackward0", (operand(input), operand(other)), condition=cond)


def _where_method(self, condition, other):
    """``x.where(condition, y)`` is ``where(condition, x, y)``."""
    return where(condition, self, other)


def _comparison(ufunc: Any) -> type[Function]:
    class Compare(Function):
        promotion = COMMON

        @staticmethod
        def forward(ctx, a, b):
            return ufunc(a, b)  # bool result: apply records no node

        @staticmethod
        def jvp(ctx, ta, tb):  # bool outputs carry no tangent
            return None

    Compare.__name__ = ufunc.__name__.capitalize()
    Compare.node_name = Compare.__name__ + "Backward0"  # never shown: bool outputs get no node
    return Compare


Eq, Ne, Lt, Le, Gt, Ge = (
    _comparison(f) for f in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal)
)


def eq(input, other):
    if other is None:
        return False
    return apply(Eq, Eq.node_name, (input, operand(other)))


def ne(input, other):
    if other is None:
        return True
    return apply(Ne, Ne.node_name, (input, operand(other)))


def lt(input, other):
    return apply(Lt, Lt.node_name, (input, operand(other)))


def le(input, other):
    return apply(Le, Le.node_name, (input, operand(other)))


def gt(input, other):
    return apply(Gt, Gt.node_name, (input, operand(other)))


def ge(input, other):
    return apply(Ge, Ge.node_name, (input, operand(other)))


# Top-level functions (``reference.add``) and Tensor methods (``x.add``, operators).
multiply, subtract, divide, true_divide, negative, absolute, clip = mul, sub, div, div, neg, abs, clamp
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
__all__ = [
    "abs", "absolute", "acos", "add", "arccos", "arcsin", "arctan", "arctan2", "asin", "atan", "atan2", "clamp",
    "clamp_max", "clamp_min", "clip", "cos", "cosh", "div", "divide", "eq", "erf", "exp", "expm1", "floor", "ge",
    "gt", "le", "log", "log1p", "log2", "lt", "maximum", "minimum", "mul", "multiply", "ne", "neg", "negative",
    "pow", "reciprocal", "relu", "round", "rsqrt", "rsub", "sigmoid", "sign", "sin", "sinh", "sqrt", "square",
    "sub", "subtract", "tan", "tanh", "true_divide", "where",
]  # fmt: skip

METHODS = {
    "add": add, "__add__": add, "__radd__": add,
    "sub": sub, "subtract": sub, "__sub__": sub, "__rsub__": rsub,
    "mul": mul, "multiply": mul, "__mul__": mul, "__rmul__": mul,
    "div": div, "divide": div, "true_divide": div, "__truediv__": div, "__rtruediv__": rdiv,
    "pow": pow, "__pow__": pow, "__rpow__": rpow, "square": square,
    "neg": neg, "negative": neg, "__neg__": neg, "reciprocal": reciprocal,
    "abs": abs, "absolute": abs, "__abs__": abs, "sign": sign, "floor": floor, "round": round,
    "exp": exp, "expm1": expm1, "log": log, "log1p": log1p, "log2": log2, "sqrt": sqrt, "rsqrt": rsqrt,
    "sin": sin, "cos": cos, "tan": tan, "asin": asin, "acos": acos, "atan": atan,
    "arcsin": asin, "arccos": acos, "arctan": atan, "sinh": sinh, "cosh": cosh, "tanh": tanh,
    "sigmoid": sigmoid, "relu": relu, "erf": erf,
    "clamp": clamp, "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "maximum": maximum, "minimum": minimum, "atan2": atan2, "arctan2": atan2, "where": _where_method,
    # comparisons (bool results, no gradient)
    "eq": eq, "__eq__": eq, "ne": ne, "__ne__": ne,
    "lt": lt, "__lt__": lt, "le": le, "__le__": le,
    "gt": gt, "__gt__": gt, "ge": ge, "__ge__": ge,
}  # fmt: skip
