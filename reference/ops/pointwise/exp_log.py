"""exp, expm1, log, log1p, log2, sqrt and rsqrt."""

from __future__ import annotations

import math

import numpy as np

from reference.autograd.function import apply
from reference.ops.pointwise._common import (
    Elementwise,
    _reciprocal_inplace,
)

LN2 = math.log(2.0)


# -- exp and log -----------------------------------------------------------------------------


class Exp(Elementwise):
    f = staticmethod(np.exp)
    saves = "result"
    rule = staticmethod(lambda g, r: g * r)


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


FUNCTIONS = ("exp", "expm1", "log", "log1p", "log2", "sqrt", "rsqrt")
__all__ = [*FUNCTIONS, "Exp", "Expm1", "Log", "Log1p", "Log2", "Sqrt", "Rsqrt"]
METHODS = {"exp": exp, "expm1": expm1, "log": log, "log1p": log1p, "log2": log2, "sqrt": sqrt, "rsqrt": rsqrt}
