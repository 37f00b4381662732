"""pow in its three forms (tensor ** scalar, tensor ** tensor, scalar ** tensor) and square."""

from __future__ import annotations

import math

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import COMMON, Function, apply, sum_tangents
from reference.ops.operands import scalar_promoted
from reference.ops.pointwise._common import (
    QUIET,
    _zeros,
    operand,
)

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


FUNCTIONS = ("pow", "square")
__all__ = [*FUNCTIONS, "PowScalar", "PowTensor", "RPow"]
METHODS = {"pow": pow, "__pow__": pow, "__rpow__": rpow, "square": square}
