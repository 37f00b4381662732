"""Rounding and remainders: trunc (fix), ceil, frac, fmod, remainder, copysign.

trunc and ceil have a zero gradient, frac the identity's. fmod and remainder pass the
gradient to the dividend and -trunc(x / y) (-floor(x / y)) times it to a tensor divisor,
as torch does (-inf where y == 0). copysign(x, y) passes sign(result / x) to x (0 where
x == 0) and nothing to y.
"""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import COMMON, FLOAT, Function, apply
from reference.dtypes import scalar_type_name
from reference.ops.pointwise._common import (
    _is_tensor,
    _scalars_promoted,
    _unsupported_bool,
    _unsupported_complex,
    _zeros,
    operand,
)
from reference.ops.pointwise.piecewise import Floor


class Trunc(Floor):  # floor's zero gradient and tangent
    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "f":
            return np.trunc(a)
        _unsupported_bool(a, "trunc_vml_cpu")
        _unsupported_complex(a, "", "trunc is not supported for complex inputs")
        return a.copy()


class Ceil(Trunc):
    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "f":
            return np.ceil(a)
        _unsupported_bool(a, "ceil_vml_cpu")
        _unsupported_complex(a, "", "ceil is not supported for complex inputs")
        return a.copy()


class Frac(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind != "f":
            raise RuntimeError(f"\"frac_cpu\" not implemented for '{_integer_name(a)}'")
        return a - np.trunc(a)

    @staticmethod
    def backward(ctx, g):
        return g

    jvp = backward


def _integer_name(a: np.ndarray) -> str:
    return {"b": "Bool", "i": "Long" if a.dtype.itemsize == 8 else "Int"}.get(a.dtype.kind, scalar_type_name(a.dtype))


def _torch_remainder(a, b):
    """torch's remainder: fmod, moved by one divisor where its sign differs from b's
    (a zero keeps fmod's sign: remainder(-1.4, 0.7) is -0.0, where NumPy gives +0.0)."""
    m = np.fmod(a, b)
    shift = (m != 0) & ((m < 0) != (np.asarray(b) < 0))
    return np.where(shift, m + b, m)


def _quotient(mode: str, a, b):
    """x / y rounded as torch's div(rounding_mode=mode) (the divisor's gradient factor)."""
    if mode == "trunc":
        return np.trunc(np.divide(a, b))
    return np.floor_divide(a, b)


class _Modulo(Function):
    """fmod or remainder; a Python-number divisor comes as the keyword ``divisor`` (one edge)."""

    promotion = COMMON

    @classmethod
    def forward(cls, ctx, a, b=None, divisor=None):
        _unsupported_complex(a, f"{cls.__name__.lower()}_cpu")
        ctx.scalar = b is None
        if ctx.scalar:
            return cls.pick(a, np.asarray(divisor, dtype=a.dtype) if a.dtype.kind == "f" else divisor)
        ctx.save_for_backward(a, b)
        return cls.pick(a, b)

    @classmethod
    def backward(cls, ctx, g):
        if ctx.scalar:
            return g
        a, b = (xp.data(v) for v in ctx.saved_tensors)
        gb = g * -_quotient(cls.rounding, a, b) if ctx.needs_input_grad[1] else None
        return g, gb

    @classmethod
    def jvp(cls, ctx, ta, tb=None):
        if ctx.scalar:
            return ta
        a, b = ctx.saved_tensors
        da = 0.0 if ta is None else ta
        return da if tb is None else da - tb * _quotient(cls.rounding, a, b)


class Fmod(_Modulo):
    pick, rounding = staticmethod(np.fmod), "trunc"


class Remainder(_Modulo):
    pick, rounding = staticmethod(_torch_remainder), "floor"


def _modulo(cls, name, input, other):
    if _is_tensor(other):
        return apply(cls, f"{name}Backward1", (input, other))
    other = operand(other)
    return apply(cls, f"{name}Backward0", (_scalars_promoted(input, other),), divisor=other)


def fmod(input, other):
    return _modulo(Fmod, "Fmod", input, other)


def remainder(input, other):
    return _modulo(Remainder, "Remainder", input, other)


class Copysign(Function):
    """|x| with y's sign (a Python-number y comes as the keyword ``sign``: one edge)."""

    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, b=None, sign=None):
        _unsupported_complex(a, "copysign_cpu")
        ctx.scalar = b is None
        r = np.copysign(a, b if b is not None else np.asarray(sign, dtype=a.dtype))
        ctx.save_for_backward(a, r)
        return r

    @staticmethod
    def backward(ctx, g):
        a, r = (xp.data(v) for v in ctx.saved_tensors)
        with np.errstate(all="ignore"):
            ratio = np.where(a == 0, 0.0, r / np.where(a == 0, 1, a)).astype(a.dtype)
        ga = g * ratio
        return ga if ctx.scalar else (ga, _zeros(g) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, tb=None):
        a, r = ctx.saved_tensors
        with np.errstate(all="ignore"):
            ratio = np.where(a == 0, 0.0, r / np.where(a == 0, 1, a)).astype(a.dtype)
        return 0.0 * r if ta is None else ta * ratio


def copysign(input, other):
    if _is_tensor(other):
        return apply(Copysign, "CopysignBackward0", (input, other))
    return apply(Copysign, "CopysignBackward1", (input,), sign=operand(other))


def trunc(input):
    return apply(Trunc, "TruncBackward0", (input,))


def ceil(input):
    return apply(Ceil, "CeilBackward0", (input,))


def frac(input):
    return apply(Frac, "FracBackward0", (input,))


fix = trunc

FUNCTIONS = ("trunc", "fix", "ceil", "frac", "fmod", "remainder", "copysign")
__all__ = [*FUNCTIONS, "Trunc", "Ceil", "Frac", "Fmod", "Remainder", "Copysign"]
METHODS = {
    "trunc": trunc, "fix": trunc, "ceil": ceil, "frac": frac, "fmod": fmod, "remainder": remainder,
    "copysign": copysign, "__mod__": remainder,
}  # fmt: skip
