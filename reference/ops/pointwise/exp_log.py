"""exp, expm1, log, log1p, log2, sqrt and rsqrt."""

from __future__ import annotations

import math

import numpy as np

from reference.autograd.function import FLOAT, Function, apply
from reference.ops.pointwise._common import (
    QUIET,
    _reciprocal_inplace,
    quietly,
)

LN2 = math.log(2.0)


# -- exp and log -----------------------------------------------------------------------------


class Exp(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        r = quietly(np.exp, a)
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
        r = quietly(np.expm1, a)
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
        return quietly(np.log, a)

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
        return quietly(np.log1p, a)

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
        return quietly(np.log2, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a * LN2)

    jvp = backward


class Sqrt(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        r = quietly(np.sqrt, a)
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


FUNCTIONS = ("exp", "expm1", "log", "log1p", "log2", "sqrt", "rsqrt")
__all__ = [*FUNCTIONS, "Exp", "Expm1", "Log", "Log1p", "Log2", "Sqrt", "Rsqrt"]
METHODS = {"exp": exp, "expm1": expm1, "log": log, "log1p": log1p, "log2": log2, "sqrt": sqrt, "rsqrt": rsqrt}
