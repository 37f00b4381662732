"""Trigonometric and hyperbolic functions and their inverses, deg2rad, rad2deg, and atan2."""

from __future__ import annotations

import math

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import FLOAT, Function, apply, sum_tangents
from reference.ops.pointwise._common import (
    Elementwise,
    _tensor_other,
    _unsupported_complex,
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


class Asinh(Elementwise):
    f = staticmethod(np.arcsinh)
    rule = staticmethod(lambda g, a: g / xp.sqrt(a * a + 1))


class Acosh(Elementwise):
    """The gradient is inf at 1 and nan below, as torch's."""

    f = staticmethod(np.arccosh)
    rule = staticmethod(lambda g, a: g / xp.sqrt(a * a - 1))


class Atanh(Elementwise):
    f = staticmethod(np.arctanh)
    rule = staticmethod(lambda g, a: g / (1 - a * a))


class _Scale(Function):
    """x times a constant, rounded to the input's dtype first (deg2rad, rad2deg)."""

    promotion = FLOAT

    @classmethod
    def forward(cls, ctx, a):
        if a.dtype.kind == "c":
            raise RuntimeError(f"{cls.__name__.lower()} is not supported for complex tensors.")
        return a * np.asarray(cls.factor, dtype=a.dtype)

    @classmethod
    def backward(cls, ctx, g):
        return g * cls.factor

    jvp = backward


class Deg2rad(_Scale):
    factor = math.pi / 180


class Rad2deg(_Scale):
    factor = 180 / math.pi


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
        return _tanh_rule(g, xp.conj(r))  # complex: g conj(1 - r^2)

    @staticmethod
    def jvp(ctx, t):
        (r,) = ctx.saved_tensors
        return _tanh_rule(t, r)


def _tanh_rule(g, r):
    if type(g) is np.ndarray and type(r) is np.ndarray and r.ndim:  # g (1 - r r) on one temporary
        d = np.multiply(r, r)
        np.subtract(1, d, out=d)
        d *= g
        return d
    return g * (1 - r * r)


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
        _unsupported_complex(a, "atan2_cpu")
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


def asinh(input):
    return apply(Asinh, "AsinhBackward0", (input,))


def acosh(input):
    return apply(Acosh, "AcoshBackward0", (input,))


def atanh(input):
    return apply(Atanh, "AtanhBackward0", (input,))


def deg2rad(input):
    return apply(Deg2rad, "Deg2RadBackward0", (input,))


def rad2deg(input):
    return apply(Rad2deg, "Rad2DegBackward0", (input,))


def atan2(input, other):
    return apply(Atan2, "Atan2Backward0", (input, _tensor_other("atan2", other)))


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh

FUNCTIONS = ("sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
             "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "atan2",
             "arctan2")  # fmt: skip
__all__ = [*FUNCTIONS, "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Tanh", "Asinh", "Acosh", "Atanh",
           "Deg2rad", "Rad2deg", "Atan2"]  # fmt: skip
METHODS = {
    "sin": sin, "cos": cos, "tan": tan, "asin": asin, "acos": acos, "atan": atan,
    "arcsin": asin, "arccos": acos, "arctan": atan, "sinh": sinh, "cosh": cosh, "tanh": tanh,
    "asinh": asinh, "acosh": acosh, "atanh": atanh, "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh,
    "deg2rad": deg2rad, "rad2deg": rad2deg, "atan2": atan2, "arctan2": atan2,
}  # fmt: skip
