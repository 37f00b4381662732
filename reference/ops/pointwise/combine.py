"""Ops that combine several tensors pointwise: lerp, addcmul, addcdiv, fmax, fmin; and nan_to_num.

lerp computes as torch does, from the nearer end: start + w (end - start) for |w| < 1/2,
end - (end - start)(1 - w) otherwise, so values round as torch's.
"""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import COMMON, Function, apply, sum_tangents
from reference.dtypes import scalar_type_name
from reference.ops.pointwise._common import _is_tensor, _or_zero, _tensor_other, keep_where, operand


def _lerp_values(a, b, w):
    d = b - a
    return np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w))


class LerpScalar(Function):  # a Python-number weight: LerpBackward0, two edges
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, weight):
        ctx.weight = weight
        return np.asarray(_lerp_values(a, b, weight), dtype=np.result_type(a, b))

    @staticmethod
    def backward(ctx, g):
        w = xp.conj(ctx.weight)  # complex: the conjugate derivatives
        return g * (1 - w), (g * w if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        w = ctx.weight
        return sum_tangents(None if ta is None else ta * (1 - w), None if tb is None else tb * w)


class LerpTensor(Function):  # a tensor weight: LerpBackward1, three edges
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        return _lerp_values(a, b, w)

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        w, span = xp.conj(w), xp.conj(b - a)  # complex: the conjugate derivatives
        return g * (1 - w), (g * w if need[1] else None), (g * span if need[2] else None)

    @staticmethod
    def jvp(ctx, ta, tb, tw):
        a, b, w = ctx.saved_tensors
        return _or_zero(ta) * (1 - w) + _or_zero(tb) * w + _or_zero(tw) * (b - a)


def lerp(input, end, weight):
    """torch's checks first: ``end`` (and a weight of one or more dims) in the input's dtype."""
    _same_dtype(input, end, "end")
    if _is_tensor(weight) and weight._data.ndim:
        _same_dtype(input, weight, "weight")
    if input._data.dtype.kind not in "fc":
        kernel = "lerp_kernel_tensor" if _is_tensor(weight) else "lerp_kernel_scalar"
        raise RuntimeError(f"\"{kernel}\" not implemented for '{scalar_type_name(input._data.dtype)}'")
    if _is_tensor(weight):
        return apply(LerpTensor, "LerpBackward1", (input, end, weight))
    return apply(LerpScalar, "LerpBackward0", (input, end), weight=operand(weight))


def _same_dtype(input, other, name: str) -> None:
    if other._data.dtype != input._data.dtype:
        expected, got = (scalar_type_name(t._data.dtype).lower() for t in (input, other))
        expected, got = (_MESSAGE_NAMES.get(n, n) for n in (expected, got))
        raise RuntimeError(f"expected dtype {expected} for `{name}` but got dtype {got}")


_MESSAGE_NAMES = {"long": "long int"}  # torch prints C type names: float, double, long int, bool


class Addcmul(Function):  # input + value * t1 * t2
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, t1, t2, value=1):
        ctx.value = value
        ctx.save_for_backward(t1, t2)
        return a + value * t1 * t2

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        need, v = ctx.needs_input_grad, ctx.value
        # complex: g times the conjugate derivative (no-ops on real values)
        return g, (g * xp.conj(t2 * v) if need[1] else None), (g * xp.conj(t1 * v) if need[2] else None)

    @staticmethod
    def jvp(ctx, ta, t1_tangent, t2_tangent):
        t1, t2 = ctx.saved_tensors
        return _or_zero(ta) + (_or_zero(t1_tangent) * t2 + _or_zero(t2_tangent) * t1) * ctx.value


class Addcdiv(Function):  # input + value * t1 / t2
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, t1, t2, value=1):
        ctx.value = value
        ctx.save_for_backward(t1, t2)
        return a + value * t1 / t2

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        need, v = ctx.needs_input_grad, ctx.value
        g1 = g * xp.conj(v / t2) if need[1] else None
        g2 = -g * xp.conj(v * t1 / (t2 * t2)) if need[2] else None
        return g, g1, g2

    @staticmethod
    def jvp(ctx, ta, t1_tangent, t2_tangent):
        t1, t2 = ctx.saved_tensors
        quotient = _or_zero(t1_tangent) / t2 - t1 * _or_zero(t2_tangent) / (t2 * t2)  # nan at t2 == 0, as torch
        return _or_zero(ta) + quotient * ctx.value


def addcmul(input, tensor1, tensor2, *, value=1):
    return apply(Addcmul, "AddcmulBackward0", (input, tensor1, tensor2), value=operand(value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    return apply(Addcdiv, "AddcdivBackward0", (input, tensor1, tensor2), value=operand(value))


class _NanIgnoringExtremum(Function):
    """fmax / fmin: the extremum ignoring a nan (nan only where both are). torch's rules, observed
    on 2.13: backward gives all of a tie to input (``keeps_input``: a >= b, or a <= b, or b is
    nan); forward mode gives fmax's tie to other and fmin's to input (``input_tangent``)."""

    promotion = COMMON

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return cls.pick(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = (xp.data(v) for v in ctx.saved_tensors)
        keep = cls.keeps_input(a, b) | np.isnan(b)
        return keep_where(keep, g), (keep_where(~keep, g) if ctx.needs_input_grad[1] else None)

    @classmethod
    def jvp(cls, ctx, ta, tb):
        a, b = ctx.saved_tensors
        return np.where(cls.input_tangent(a, b) | np.isnan(b), _or_zero(ta), _or_zero(tb))


class Fmax(_NanIgnoringExtremum):
    pick, keeps_input, input_tangent = staticmethod(np.fmax), staticmethod(np.greater_equal), staticmethod(np.greater)


class Fmin(_NanIgnoringExtremum):
    pick, keeps_input, input_tangent = staticmethod(np.fmin), staticmethod(np.less_equal), staticmethod(np.less_equal)


def fmax(input, other):
    return apply(Fmax, "FmaxBackward0", (input, _tensor_other("fmax", other)))


def fmin(input, other):
    return apply(Fmin, "FminBackward0", (input, _tensor_other("fmin", other)))


class NanToNum(Function):
    """nan, +inf and -inf replaced (by default with 0 and the dtype's largest finite values);
    the gradient passes where the input is finite, 0 elsewhere."""

    @staticmethod
    def forward(ctx, a, nan=0.0, posinf=None, neginf=None):
        ctx.save_for_backward(a)
        if a.dtype.kind != "f":
            return a.copy()
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return keep_where(np.isfinite(xp.data(a)), g)

    jvp = backward


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return apply(NanToNum, "NanToNumBackward0", (input,), nan=nan, posinf=posinf, neginf=neginf)


FUNCTIONS = ("lerp", "addcmul", "addcdiv", "fmax", "fmin", "nan_to_num")
__all__ = [*FUNCTIONS, "LerpScalar", "LerpTensor", "Addcmul", "Addcdiv", "Fmax", "Fmin", "NanToNum"]
METHODS = {
    "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv, "fmax": fmax, "fmin": fmin, "nan_to_num": nan_to_num,
}  # fmt: skip
