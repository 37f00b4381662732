"""Trigonometric and hyperbolic functions, and atan2."""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import FLOAT, Function, apply, sum_tangents
from reference.ops.pointwise._common import (
    Elementwise,
    _tensor_other,
)

# -- trigonometric and hyperbolic ------------------------------------------------------------


class Sin(Elementwise):
    f = staticmethod(np.sin)
    rule = staticmethod(lambda g, a: g * xp.cos(a))


class Cos(Elementwise):
    f = staticmethod(np.cos)
    rule = staticmethod(lambda g, a: g * -xp.sin(a))


class Tan(Elementwise):
    f = staticmethod(np.tan)
    saves = "result"
    rule = staticmethod(lambda g, r: g * (r * r + 1))


class Asin(Elementwise):
    """The gradient is inf at +-1 and nan outside, as torch's."""

    f = staticmethod(np.arcsin)
    rule = staticmethod(lambda g, a: g / xp.sqrt(1 - a * a))


class Acos(Elementwise):
    f = staticmethod(np.arccos)
    rule = staticmethod(lambda g, a: -g / xp.sqrt(1 - a * a))


class Atan(Elementwise):
    f = staticmethod(np.arctan)
    rule = staticmethod(lambda g, a: g / (a * a + 1))


class Sinh(Elementwise):
    f = staticmethod(np.sinh)
    rule = staticmethod(lambda g, a: g * xp.cosh(a))


class Cosh(Elementwise):
    f = staticmethod(np.cosh)
    rule = staticmethod(lambda g, a: g * xp.sinh(a))


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
        if type(g) is np.ndarray and type(r) is np.ndarray and r.ndim:  # g (1 - r r) on one temporary
            d = np.multiply(r, r)
            np.subtract(1, d, out=d)
            d *= g
            return d
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


def atan2(input, other):
    return apply(Atan2, "Atan2Backward0", (input, _tensor_other("atan2", other)))


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2

FUNCTIONS = ("sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
             "atan2", "arctan2")  # fmt: skip
__all__ = [*FUNCTIONS, "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Tanh", "Atan2"]
METHODS = {
    "sin": sin, "cos": cos, "tan": tan, "asin": asin, "acos": acos, "atan": atan,
    "arcsin": asin, "arccos": acos, "arctan": atan, "sinh": sinh, "cosh": cosh, "tanh": tanh,
    "atan2": atan2, "arctan2": atan2,
}  # fmt: skip
