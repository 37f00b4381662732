"""Add, sub, mul, div (and rounded division), reciprocal and neg."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import COMMON, FLOAT, Function, apply, sum_tangents
from reference.ops.operands import scalar_promoted
from reference.ops.pointwise._common import (
    QUIET,
    Elementwise,
    _conj_number,
    _unsupported_complex,
    _zeros,
    operand,
    quietly,
)

# -- add, sub, mul, div, neg ---------------------------------------------------------------


class Add(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a + b if alpha == 1 else a + _checked_alpha(alpha, a) * b

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * _conj_number(ctx.alpha))

    @staticmethod
    def jvp(ctx, ta, tb):  # a None tangent is zero
        tb = tb if tb is None or ctx.alpha == 1 else tb * ctx.alpha
        return sum_tangents(ta, tb)


class Sub(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a - b if alpha == 1 else a - _checked_alpha(alpha, a) * b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.alpha == 1 else -g * _conj_number(ctx.alpha))

    @staticmethod
    def jvp(ctx, ta, tb):
        tb = None if tb is None else (-tb if ctx.alpha == 1 else tb * -ctx.alpha)
        return sum_tangents(ta, tb)


class Rsub(Function):  # other - input, with other a Python scalar: one edge, as in torch
    @staticmethod
    def forward(ctx, a, other, alpha=1):
        ctx.alpha = alpha
        return other - a if alpha == 1 else other - _checked_alpha(alpha, a) * a

    @staticmethod
    def backward(ctx, g):
        return -g if ctx.alpha == 1 else g * -_conj_number(ctx.alpha)

    @staticmethod
    def jvp(ctx, t):
        return -t if ctx.alpha == 1 else t * -ctx.alpha


class RsubTensor(Function):  # torch.rsub(input, other) = other - alpha * input, both tensors
    promotion = COMMON
    broadcast_order = (1, 0)  # torch computes other - input: a broadcast error names other first

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return b - a if alpha == 1 else b - _checked_alpha(alpha, a) * a

    @staticmethod
    def backward(ctx, g):
        return (-g if ctx.alpha == 1 else g * -_conj_number(ctx.alpha)), g

    @staticmethod
    def jvp(ctx, ta, tb):
        ta = None if ta is None else (-ta if ctx.alpha == 1 else ta * -ctx.alpha)
        return sum_tangents(ta, tb)


class Mul(Function):
    promotion = COMMON
    saved_for = (1, 0)  # a serves b's gradient, b serves a's

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, _as_saved(b, a))
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors  # holomorphic in each: g times the conjugate of the other
        return g * xp.conj(b), (g * xp.conj(a) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return sum_tangents(None if ta is None else ta * b, None if tb is None else a * tb)


class Div(Function):
    promotion = FLOAT
    saved_for = (1, None)  # a serves b's gradient only

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, _as_saved(b, a))
        return quietly(np.true_divide, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = -g * xp.conj(a / b / b) if ctx.needs_input_grad[1] else None  # torch's grouping
        return g / xp.conj(b), gb

    @staticmethod
    def jvp(ctx, ta, tb):  # torch's form (ta - tb * a/b) / b: its infinities at b == 0
        a, b = ctx.saved_tensors
        return sum_tangents(ta, None if tb is None else -tb * (a / b)) / b


class DivRounded(Function):  # div(..., rounding_mode=...): piecewise constant, zero gradient
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, mode):
        _unsupported_complex(a, f"div_{mode}_cpu")
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


class Reciprocal(Elementwise):
    f = staticmethod(lambda a: np.true_divide(1.0, a))
    saves = "result"
    rule = staticmethod(lambda g, r: -g * (r * r))


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
    turn it into a constant Tensor like every other saved value (a complex number makes a
    real tensor's op complex: float32 * 1j is complex64, as in torch)."""
    if type(value) is np.ndarray:
        return value
    return np.asarray(value, like.dtype if type(value) is not complex else np.result_type(like.dtype, value))


def _checked_alpha(alpha: Any, a: np.ndarray) -> Any:
    if type(alpha) is complex and a.dtype.kind != "c":
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")
    return alpha


def add(input, other, *, alpha=1):
    return apply(Add, "AddBackward0", (input, operand(other)), alpha=alpha)


def sub(input, other, *, alpha=1):
    return apply(Sub, "SubBackward0", (input, operand(other)), alpha=alpha)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (``2 - x`` is ``x.__rsub__(2)``)."""
    other = operand(other)
    if not isinstance(other, (int, float, complex)):
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
    if not isinstance(other, (int, float, complex)):
        return div(other, input)
    return mul(reciprocal(input), other)


def reciprocal(input):
    return apply(Reciprocal, "ReciprocalBackward0", (input,))


def neg(input):
    return apply(Neg, "NegBackward0", (input,))


multiply, subtract, divide, true_divide, negative = mul, sub, div, div, neg

FUNCTIONS = ("add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "reciprocal", "neg",
             "negative")  # fmt: skip
__all__ = [*FUNCTIONS, "Add", "Sub", "Rsub", "RsubTensor", "Mul", "Div", "DivRounded", "Reciprocal", "Neg"]
METHODS = {
    "add": add, "__add__": add, "__radd__": add,
    "sub": sub, "subtract": sub, "__sub__": sub, "__rsub__": rsub,
    "mul": mul, "multiply": mul, "__mul__": mul, "__rmul__": mul,
    "div": div, "divide": div, "true_divide": div, "__truediv__": div, "__rtruediv__": rdiv,
    "neg": neg, "negative": neg, "__neg__": neg, "reciprocal": reciprocal,
}  # fmt: skip
