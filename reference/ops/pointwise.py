"""Elementwise ops: arithmetic, pow, exp/log/tanh, comparisons and where.

Each op's forward and backward sit side by side. Gradients are returned in the
output's (broadcast) shape; the engine reduces them to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import COMMON, FLOAT, Function, apply, sum_tangents
from reference.ops.operands import operand, scalar_promoted

# Like torch, ops return inf/nan silently instead of warning about them.
QUIET = {"all": "ignore"}

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
        return tb if ta is None else ta if tb is None else ta + tb


class Sub(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a - b if alpha == 1 else a - alpha * b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.alpha == 1 else -g * ctx.alpha)


class Rsub(Function):  # other - input, with other a Python scalar: one edge, as in torch
    @staticmethod
    def forward(ctx, a, other):
        return other - a

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class Mul(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
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
        ctx.save_for_backward(a, b)
        with np.errstate(**QUIET):
            return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g / b, (-g * a / (b * b) if ctx.needs_input_grad[1] else None)


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
        return -g * r * r


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


def add(input, other, *, alpha=1):
    return apply(Add, "AddBackward0", (input, operand(other)), alpha=alpha)


def sub(input, other, *, alpha=1):
    return apply(Sub, "SubBackward0", (input, operand(other)), alpha=alpha)


def rsub(input, other):
    """``other - input`` for a Python scalar ``other`` (``2 - x``)."""
    other = operand(other)
    if not isinstance(other, (int, float)):
        return sub(other, input)
    return apply(Rsub, "RsubBackward1", (scalar_promoted(input, other),), other=other)


def mul(input, other):
    return apply(Mul, "MulBackward0", (input, operand(other)))


def div(input, other):
    return apply(Div, "DivBackward0", (input, operand(other)))


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


# -- pow -----------------------------------------------------------------------------------


class PowScalar(Function):  # tensor ** scalar
    @staticmethod
    def forward(ctx, a, exponent):
        if a.dtype.kind in "iub" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        ctx.exponent = exponent
        ctx.save_for_backward(a)
        with np.errstate(**QUIET):
            return a**exponent

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:  # torch: exactly zero, even where a**-1 would be inf
            return g * 0
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
        ga = xp.where(xp.data(b) == 0, 0.0, g * (b * a ** (b - 1)))
        gb = None
        if ctx.needs_input_grad[1]:
            # torch: d/db a**b is 0 where a == 0 and b >= 0 (not nan from 0 * log 0)
            ad, bd = xp.data(a), xp.data(b)
            gb = xp.where((ad == 0) & (bd >= 0), 0.0, g * (r * xp.log(a)))
        return ga, gb


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
            return xp.where(xp.data(b) >= 0, 0.0, g * (r * -math.inf))
        return g * (r * (math.log(base) if base > 0 else math.nan))


def pow(input, exponent):
    exponent = operand(exponent)
    if isinstance(exponent, (int, float)):
        return apply(PowScalar, "PowBackward0", (scalar_promoted(input, exponent),), exponent=exponent)
    return apply(PowTensor, "PowBackward1", (input, exponent))


def rpow(input, base):
    """``base ** input`` for a Python scalar ``base``."""
    base = operand(base)
    if not isinstance(base, (int, float)):
        return pow(base, input)
    return apply(RPow, "PowBackward2", (scalar_promoted(input, base),), base=base)


# -- exp, log, tanh ------------------------------------------------------------------------


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

    @staticmethod
    def jvp(ctx, t):
        (r,) = ctx.saved_tensors
        return t * r


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


def exp(input):
    return apply(Exp, "ExpBackward0", (input,))


def log(input):
    return apply(Log, "LogBackward0", (input,))


def tanh(input):
    return apply(Tanh, "TanhBackward0", (input,))


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
        return xp.where(c, g, 0.0), xp.where(c, 0.0, g)


def where(condition, input, other):
    from reference.tensor import Tensor

    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {cond.dtype}")
    return apply(Where, "WhereBackward0", (operand(input), operand(other)), condition=cond)


def _comparison(ufunc: Any) -> type[Function]:
    class Compare(Function):
        promotion = COMMON

        @staticmethod
        def forward(ctx, a, b):
            return ufunc(a, b)  # bool result: apply records no node

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
__all__ = [
    "add", "div", "divide", "eq", "exp", "ge", "gt", "le", "log", "lt", "mul", "multiply", "ne", "neg",
    "negative", "pow", "reciprocal", "sub", "subtract", "tanh", "where",
]  # fmt: skip
multiply, subtract, divide, negative = mul, sub, div, neg

METHODS = {
    "add": add, "__add__": add, "__radd__": add,
    "sub": sub, "__sub__": sub, "__rsub__": rsub,
    "mul": mul, "__mul__": mul, "__rmul__": mul,
    "div": div, "__truediv__": div, "__rtruediv__": rdiv,
    "pow": pow, "__pow__": pow, "__rpow__": rpow,
    "neg": neg, "__neg__": neg, "reciprocal": reciprocal,
    "exp": exp, "log": log, "tanh": tanh,
    # comparisons (bool results, no gradient)
    "eq": eq, "__eq__": eq, "ne": ne, "__ne__": ne,
    "lt": lt, "__lt__": lt, "le": le, "__le__": le,
    "gt": gt, "__gt__": gt, "ge": ge, "__ge__": ge,
}  # fmt: skip
