"""pow in its three forms (tensor ** scalar, tensor ** tensor, scalar ** tensor) and square."""

from __future__ import annotations

import cmath
import math

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import COMMON, Function, apply, sum_tangents
from reference.ops.operands import scalar_promoted
from reference.ops.pointwise._common import (
    QUIET,
    _conj_number,
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
    def backward(ctx, g):  # complex: g conj(p a^(p-1))
        (a,) = ctx.saved_tensors
        return _pow_scalar_rule(g, xp.conj(a), _conj_number(ctx.exponent))

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved_tensors
        return _pow_scalar_rule(t, a, ctx.exponent)


def _pow_scalar_rule(g, a, p):
    """g p a^(p-1) (conjugated operands give the backward: conj(a)^(p-1) = conj(a^(p-1)) off the cut)."""
    if p == 0:  # torch: exactly zero, even where a**-1 would be inf
        return _zeros(g)
    if p == 2:
        return g * (a * 2.0)
    return g * (p * a ** (p - 1))


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
        ga = _pow_base_grad(g, a, b, xp.conj)
        gb = _pow_exponent_grad(g, a, b, r, xp.conj) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b, r = ctx.saved_tensors
        return sum_tangents(
            None if ta is None else _pow_base_grad(ta, a, b), None if tb is None else _pow_exponent_grad(tb, a, b, r)
        )


def _same(x):
    return x


def _pow_base_grad(g, a, b, conj=_same):
    """g conj(b a^(b-1)) for the backward (``conj`` = xp.conj), g b a^(b-1) for forward mode."""
    return xp.where(xp.data(b) == 0, 0.0, g * conj(b * a ** (b - 1)))


def _pow_exponent_grad(g, a, b, r, conj=_same):
    # torch: d/db a**b is 0 where a == 0 and b >= 0 (a complex b: real and >= 0), not nan from
    # 0 * log 0; g multiplies outside the mask, as in torch, which shows in second derivatives
    ad, bd = xp.data(a), xp.data(b)
    nonneg = (bd.real >= 0) & (bd.imag == 0) if bd.dtype.kind == "c" else bd >= 0
    return g * xp.where((ad == 0) & nonneg, 0.0, conj(r * xp.log(a)))


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
        return _rpow_rule(g, b, r, ctx.base, xp.conj)

    @staticmethod
    def jvp(ctx, t):
        b, r = ctx.saved_tensors
        return _rpow_rule(t, b, r, ctx.base, _same)


def _rpow_rule(g, b, r, base, conj):
    """g (conj of) base^b log(base); a complex exponent (or base) takes the complex log."""
    if base == 0:  # torch: 0 where the exponent is >= 0 (and real), else r log 0 = -inf
        bd = xp.data(b)
        nonneg = (bd.real >= 0) & (bd.imag == 0) if bd.dtype.kind == "c" else bd >= 0
        return g * xp.where(nonneg, 0.0, conj(r * -math.inf))
    if type(base) is complex or xp.data(b).dtype.kind == "c":
        return g * conj(r * cmath.log(base))
    return g * (r * (math.log(base) if base > 0 else math.nan))


def pow(input, exponent):
    exponent = operand(exponent)
    if isinstance(input, (int, float, complex, np.generic)):  # torch.pow(2, x)
        return rpow(exponent, input)
    if isinstance(exponent, (int, float, complex)):
        return apply(PowScalar, "PowBackward0", (scalar_promoted(input, exponent),), exponent=exponent)
    return apply(PowTensor, "PowBackward1", (input, exponent))


def rpow(input, base):
    """``base ** input`` for a Python scalar ``base``."""
    base = operand(base)
    if not isinstance(base, (int, float, complex)):
        return pow(base, input)
    return apply(RPow, "PowBackward2", (scalar_promoted(input, base),), base=base)


def square(input):
    """torch records ``input ** 2`` (PowBackward0); bools square to int64."""
    return pow(input, 2)


FUNCTIONS = ("pow", "square")
__all__ = [*FUNCTIONS, "PowScalar", "PowTensor", "RPow"]
METHODS = {"pow": pow, "__pow__": pow, "__rpow__": rpow, "square": square}
