"""Piecewise ops: abs, sign, floor, round, clamp (scalar and tensor bounds), maximum, minimum."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import COMMON, Function, apply
from reference.ops.pointwise._common import (
    _is_tensor,
    _or_zero,
    _scalars_promoted,
    _tensor_other,
    _torch_sign,
    _type_name,
    _unsupported_bool,
    _unsupported_complex,
    _zero_where,
    _zeros,
    operand,
)

_SIGN_COMPLEX = "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead."
_CLAMP_COMPLEX = "clamp is not supported for complex types"

# -- abs, sign, floor, round -----------------------------------------------------------------


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        _unsupported_bool(a, "abs_cpu")
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):  # sign(a): 0 at 0 (and at nan), as torch
        (a,) = ctx.saved_tensors
        return g * _torch_sign(np.asarray(xp.data(a)))

    jvp = backward


class Sign(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "f":
            return _torch_sign(a)
        if a.dtype == np.bool_:
            return a.copy()
        _unsupported_complex(a, "", _SIGN_COMPLEX)
        return np.sign(a)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)

    jvp = backward


class Floor(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "f":
            return np.floor(a)
        _unsupported_bool(a, "floor_vml_cpu")
        _unsupported_complex(a, "", "floor is not supported for complex inputs")
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)

    jvp = backward


class Round(Function):  # half to even, like torch (and NumPy)
    @staticmethod
    def forward(ctx, a, decimals=0):
        _unsupported_bool(a, "round_vml_cpu")
        if a.dtype.kind != "f":
            _unsupported_complex(a, "round_vml_cpu")
            return a.copy()
        return np.rint(a) if decimals == 0 else np.round(a, decimals)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)

    jvp = backward


def abs(input):
    if input._data.dtype.kind == "c":  # not holomorphic: its own rule, beside the other complex ops
        from reference.ops.complex_ops import complex_abs

        return complex_abs(input)
    return apply(Abs, "AbsBackward0", (input,))


def sign(input):
    return apply(Sign, "SignBackward0", (input,))


def floor(input):
    return apply(Floor, "FloorBackward0", (input,))


def round(input, *, decimals=0):
    if decimals == 0:
        return apply(Round, "RoundBackward0", (input,))
    return apply(Round, "RoundBackward1", (input,), decimals=decimals)


# -- clamp -----------------------------------------------------------------------------------
# x is kept where min <= x <= max (ties go to x); a nan bound gives nan; min > max gives max.
# np.maximum(bound, x) returns x on a tie (so -0.0 survives, as in torch) and propagates nan.


class ClampScalar(Function):  # Python-number bounds: ClampBackward1 (ClampMin/MaxBackward0)
    @staticmethod
    def forward(ctx, a, min=None, max=None):
        _unsupported_complex(a, "", _CLAMP_COMPLEX)
        ctx.min, ctx.max = min, max
        ctx.save_for_backward(a)
        r = a if min is None else np.maximum(min, a)
        if max is not None:
            r = np.minimum(max, r, out=r) if r is not a and type(r) is np.ndarray else np.minimum(max, r)
        return r

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return _zero_where(~_within(xp.data(a), ctx.min, ctx.max), g)

    jvp = backward


def _within(a: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    if hi is None:
        return a >= lo
    if lo is None:
        return a <= hi
    return (a >= lo) & (a <= hi)  # not in place: with tensor bounds the two may broadcast differently


class ClampTensor(Function):  # tensor bounds (either may be None): ClampBackward0
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, lo, hi):
        _unsupported_complex(a, "", _CLAMP_COMPLEX)
        ctx.bounds = (lo is not None, hi is not None)
        ctx.save_for_backward(a, *(v for v in (lo, hi) if v is not None))  # saved values are never None
        r = a if lo is None else np.maximum(lo, a)
        return r if hi is None else np.minimum(hi, r)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = _clamp_saved(ctx, xp.data)
        ga = _zero_where(~_within(a, lo, hi), g)
        glo = ghi = None
        if lo is not None and ctx.needs_input_grad[1]:
            glo = _zero_where(~((a < lo) & (lo < hi) if hi is not None else a < lo), g)
        if hi is not None and ctx.needs_input_grad[2]:
            ghi = _zero_where(~((a > hi) | (hi < lo) if lo is not None else a > hi), g)
        return ga, glo, ghi

    @staticmethod
    def jvp(ctx, ta, tlo, thi):
        a, lo, hi = _clamp_saved(ctx, None)
        ta, tlo, thi = _or_zero(ta), _or_zero(tlo), _or_zero(thi)
        if hi is None:  # torch's one-bound rules give the tie to the bound (unlike backward)
            return np.where(a > lo, ta, tlo)
        if lo is None:
            return np.where(a < hi, ta, thi)
        return np.where(lo > hi, thi, np.where(a < lo, tlo, np.where(a > hi, thi, ta)))


def _clamp_saved(ctx, convert):
    """(x, min, max) from what ClampTensor saved, None for an absent bound."""
    saved = iter(ctx.saved_tensors if convert is None else [convert(v) for v in ctx.saved_tensors])
    a = next(saved)
    has_lo, has_hi = ctx.bounds
    return a, (next(saved) if has_lo else None), (next(saved) if has_hi else None)


class _ClampOneTensor(Function):
    """x clamped on one side by a tensor bound: the gradient goes to x where x is kept
    (``keeps(x, bound)``, ties included), else to the bound."""

    promotion = COMMON

    @classmethod
    def forward(cls, ctx, a, bound):
        _unsupported_complex(a, "", _CLAMP_COMPLEX)
        ctx.save_for_backward(a, bound)
        return cls.pick(bound, a)

    @classmethod
    def backward(cls, ctx, g):
        a, bound = (xp.data(v) for v in ctx.saved_tensors)
        keep = cls.keeps(a, bound)
        return _zero_where(~keep, g), (_zero_where(keep, g) if ctx.needs_input_grad[1] else None)

    @classmethod
    def jvp(cls, ctx, ta, tbound):
        a, bound = ctx.saved_tensors
        return np.where(cls.keeps(a, bound), _or_zero(ta), _or_zero(tbound))


class ClampMinTensor(_ClampOneTensor):  # clamp_min(x, tensor): ClampMinBackward1
    pick, keeps = staticmethod(np.maximum), staticmethod(np.greater_equal)


class ClampMaxTensor(_ClampOneTensor):  # clamp_max(x, tensor): ClampMaxBackward1
    pick, keeps = staticmethod(np.minimum), staticmethod(np.less_equal)


def clamp(input, min=None, max=None):
    """Clamp to ``[min, max]``; both bounds Python numbers, or both tensors (or None)."""
    min, max = (b if b is None or _is_tensor(b) else operand(b) for b in (min, max))
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if any(_is_tensor(b) for b in (min, max)):
        if not all(b is None or _is_tensor(b) for b in (min, max)):
            got = ", ".join(_type_name(v) for v in (input, min, max) if v is not None)
            raise TypeError(
                f"clamp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
                " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n"
            )
        return apply(ClampTensor, "ClampBackward0", (input, min, max))
    return apply(ClampScalar, "ClampBackward1", (_scalars_promoted(input, min, max),), min=min, max=max)


def clamp_min(input, min):
    if _is_tensor(min):
        return apply(ClampMinTensor, "ClampMinBackward1", (input, min))
    min = _bound(min, "clamp_min", "min")
    return apply(ClampScalar, "ClampMinBackward0", (_scalars_promoted(input, min),), min=min)


def clamp_max(input, max):
    if _is_tensor(max):
        return apply(ClampMaxTensor, "ClampMaxBackward1", (input, max))
    max = _bound(max, "clamp_max", "max")
    return apply(ClampScalar, "ClampMaxBackward0", (_scalars_promoted(input, max),), max=max)


def _bound(value: Any, fn: str, name: str) -> Any:
    if isinstance(value, (bool, int, float, np.generic)):
        return operand(value)
    kind = type(value).__name__
    raise TypeError(
        f"{fn}() received an invalid combination of arguments - got ({kind}), but expected one of:\n"
        f" * (Tensor {name})\n      didn't match because some of the arguments have invalid types: (!{kind}!)\n"
        f" * (Number {name})\n      didn't match because some of the arguments have invalid types: (!{kind}!)\n"
    )


# -- maximum, minimum, atan2 -----------------------------------------------------------------


class _Extremum(Function):
    """maximum(a, b), or minimum(a, b) as its mirror image (the roles of a and b swapped)."""

    promotion = COMMON

    @classmethod
    def forward(cls, ctx, a, b):
        if a.dtype.kind == "c":
            raise RuntimeError(f"{cls.__name__.lower()} not implemented for complex tensors.")
        ctx.save_for_backward(a, b)
        return cls.pick(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = (xp.data(v) for v in ctx.saved_tensors)
        return _extremum_grads(ctx, g, b, a) if cls.mirrored else _extremum_grads(ctx, g, a, b)

    @classmethod
    def jvp(cls, ctx, ta, tb):
        a, b = ctx.saved_tensors
        return _extremum_jvp(ta, tb, np.where(a == b, 0.5, cls.beats(a, b)).astype(a.dtype))


class Maximum(_Extremum):
    pick, beats, mirrored = staticmethod(np.maximum), staticmethod(np.greater), False


class Minimum(_Extremum):
    pick, beats, mirrored = staticmethod(np.minimum), staticmethod(np.less), True


def _extremum_grads(ctx, g, winner, loser):
    """maximum(winner, loser)'s gradients (minimum swaps the roles): ties split g in half;
    where a nan makes both comparisons false, both sides get all of g (torch's rule)."""
    tie = winner == loser
    if type(g) is np.ndarray:
        half = g.copy()
        np.multiply(half, 0.5, out=half, where=tie)
    else:
        half = xp.where(tie, g * 0.5, g)
    ga = _zero_where(winner < loser, half)
    gb = _zero_where(winner > loser, half) if ctx.needs_input_grad[1] else None
    return ga, gb


def _extremum_jvp(ta, tb, weight):
    """tb + (ta - tb) * weight, the weight of input a (0, 1/2 on ties, or 1)."""
    return _or_zero(tb) + (_or_zero(ta) - _or_zero(tb)) * weight


def maximum(input, other):
    return apply(Maximum, "MaximumBackward0", (input, _tensor_other("maximum", other)))


def minimum(input, other):
    return apply(Minimum, "MinimumBackward0", (input, _tensor_other("minimum", other)))


absolute, clip = abs, clamp

FUNCTIONS = ("abs", "absolute", "sign", "floor", "round", "clamp", "clip", "clamp_min", "clamp_max", "maximum",
             "minimum")  # fmt: skip
__all__ = [*FUNCTIONS, "Abs", "Sign", "Floor", "Round", "ClampScalar", "ClampTensor", "ClampMinTensor",
           "ClampMaxTensor", "Maximum", "Minimum"]  # fmt: skip
METHODS = {
    "abs": abs, "absolute": abs, "__abs__": abs, "sign": sign, "floor": floor, "round": round,
    "clamp": clamp, "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "maximum": maximum, "minimum": minimum,
}  # fmt: skip
