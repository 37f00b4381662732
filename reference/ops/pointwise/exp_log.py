"""exp, exp2, expm1, log, log1p, log2, log10, sqrt, rsqrt and ldexp."""

from __future__ import annotations

import math

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import FLOAT, Function, apply, sum_tangents
from reference.ops.pointwise._common import (
    Elementwise,
    _reciprocal_inplace,
)

LN2 = math.log(2.0)
LN10 = math.log(10.0)


# -- exp and log -----------------------------------------------------------------------------


class Exp(Elementwise):
    f = staticmethod(np.exp)
    saves = "result"
    rule = staticmethod(lambda g, r: g * r)


class Exp2(Elementwise):
    f = staticmethod(np.exp2)
    saves = "result"
    rule = staticmethod(lambda g, r: g * (r * LN2))


class Expm1(Elementwise):
    f = staticmethod(np.expm1)
    saves = "result"
    rule = staticmethod(lambda g, r: g * (r + 1))


class Log(Elementwise):
    f = staticmethod(np.log)
    rule = staticmethod(lambda g, a: g / a)


class Log1p(Elementwise):
    f = staticmethod(np.log1p)
    rule = staticmethod(lambda g, a: g / (a + 1))


class Log2(Elementwise):
    f = staticmethod(np.log2)
    rule = staticmethod(lambda g, a: g / (a * LN2))


class Log10(Elementwise):
    f = staticmethod(np.log10)
    rule = staticmethod(lambda g, a: g / (a * LN10))


class Sqrt(Elementwise):
    """The gradient is inf at 0, as torch's."""

    f = staticmethod(np.sqrt)
    saves = "result"
    rule = staticmethod(lambda g, r: g / (r * 2))


class Rsqrt(Elementwise):
    f = staticmethod(lambda a: _reciprocal_inplace(np.sqrt(a)))
    saves = "result"
    rule = staticmethod(lambda g, r: g * (r * r * r * -0.5))


def exp(input):
    return apply(Exp, "ExpBackward0", (input,))


def exp2(input):
    return apply(Exp2, "Exp2Backward0", (input,))


def expm1(input):
    return apply(Expm1, "Expm1Backward0", (input,))


def log(input):
    return apply(Log, "LogBackward0", (input,))


def log1p(input):
    return apply(Log1p, "Log1PBackward0", (input,))


def log2(input):
    return apply(Log2, "Log2Backward0", (input,))


def log10(input):
    return apply(Log10, "Log10Backward0", (input,))


def sqrt(input):
    return apply(Sqrt, "SqrtBackward0", (input,))


def rsqrt(input):
    return apply(Rsqrt, "RsqrtBackward0", (input,))


class Ldexp(Function):  # x * 2**e
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, e):
        scale = np.exp2(e)
        ctx.save_for_backward(a, e)
        return np.multiply(a, scale, dtype=np.result_type(a, scale))

    @staticmethod
    def backward(ctx, g):
        a, e = ctx.saved_tensors
        scale = xp.conj(xp.exp2(e))  # complex operands: g times the conjugate derivatives
        return g * scale, (g * xp.conj(a) * scale * LN2 if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, te):
        a, e = ctx.saved_tensors
        scale = np.exp2(e)
        return sum_tangents(None if ta is None else ta * scale, None if te is None else te * a * scale * LN2)


def ldexp(input, other):
    return apply(Ldexp, "LdexpBackward0", (input, other))


FUNCTIONS = ("exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "ldexp")
__all__ = [*FUNCTIONS, "Exp", "Exp2", "Expm1", "Log", "Log1p", "Log2", "Log10", "Sqrt", "Rsqrt", "Ldexp"]
METHODS = {
    "exp": exp, "exp2": exp2, "expm1": expm1, "log": log, "log1p": log1p, "log2": log2, "log10": log10, "sqrt": sqrt,
    "rsqrt": rsqrt, "ldexp": ldexp,
}  # fmt: skip
