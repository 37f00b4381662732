"""logsumexp, softmax and log_softmax, computed stably (shifted by the maximum).

softmax and log_softmax run in the MLP training benchmark: forward and backward are a
handful of whole-array NumPy passes, with no copy that is not needed.
"""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd import forward_ad
from reference.autograd.function import Function, apply
from reference.ops.reduce.axes import QUIET, axes_of, int_dim, kept_shape, missing_dim, one_axis, torch_type_name

_REQUIRED = object()  # marks torch's required ``dim`` argument


class Logsumexp(Function):
    """log(sum(exp(x))) over dims (LogsumexpBackward0); the gradient is softmax."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.axes, ctx.keepdim, ctx.kept = axes, keepdim, kept_shape(a.shape, axes)
        with np.errstate(**QUIET):
            shift = np.max(a.real, axis=axes, keepdims=True, initial=-np.inf)  # complex: the real parts
            shift = np.where(np.isinf(shift), 0, shift)  # all -inf (or an inf) slices: no shift
            out = np.log(np.exp(a - shift).sum(axis=axes, keepdims=True)) + shift
        if not keepdim:
            out = out.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return g.reshape(ctx.kept) * xp.conj(xp.exp(a - out.reshape(ctx.kept)))  # softmax (conj: complex)

    @staticmethod
    def jvp(ctx, t):
        a, _ = ctx.saved_tensors
        return _softmax_weighted(a, t, ctx.axes, ctx.keepdim)


def _softmax_weighted(x: np.ndarray, t: np.ndarray, axes, keepdim: bool = True) -> np.ndarray:
    """sum(softmax(x) * t) over ``axes``, with softmax recomputed from x as torch's
    forward-mode rules for logsumexp, softmax and log_softmax do."""
    e = np.exp(x - np.max(x.real, axis=axes, keepdims=True)) if x.size else np.exp(x)
    return (e * t).sum(axis=axes, keepdims=keepdim) / e.sum(axis=axes, keepdims=keepdim)


def logsumexp(input, dim=_REQUIRED, keepdim=False):
    if dim is _REQUIRED:
        raise missing_dim("logsumexp")
    data = input._data
    if dim in ((), []) and data.ndim and not keepdim:  # torch fails to shape this result
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape [{', '.join('1' * data.ndim)}]")
    if data.dtype.kind not in "fc":  # integers are promoted to the default float dtype
        from reference import dtypes
        from reference.tensor import Tensor

        input = Tensor._make(data.astype(dtypes.get_default_dtype().np))
    axes = axes_of(dim, data.ndim)
    return apply(Logsumexp, "LogsumexpBackward0", (input,), axes=axes, keepdim=bool(keepdim))


# -- softmax, log_softmax ------------------------------------------------------------------


class Softmax(Function):
    """exp(x - max) / sum(exp(x - max)) along one dim (SoftmaxBackward0)."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        if forward_ad.current_level() is not None:
            ctx.input = a  # jvp recomputes softmax from the input, as torch's rule does
        if a.size == 0:
            out = a.copy()
        else:
            with np.errstate(**QUIET):
                out = _shifted(a, axis)
                np.exp(out, out=out)
                out *= 1.0 / out.sum(axis=axis, keepdims=True)  # torch multiplies by the reciprocal
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(axis=ctx.axis, keepdims=True))

    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return y * (t - _softmax_weighted(ctx.input, t, ctx.axis))


class LogSoftmax(Function):
    """x - max - log(sum(exp(x - max))) along one dim (LogSoftmaxBackward0)."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        if forward_ad.current_level() is not None:
            ctx.input = a
        if a.size == 0:
            out = a.copy()
        else:
            with np.errstate(**QUIET):
                out = _shifted(a, axis)
                out -= np.log(np.exp(out).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - xp.exp(y) * g.sum(axis=ctx.axis, keepdims=True)

    @staticmethod
    def jvp(ctx, t):
        return t - _softmax_weighted(ctx.input, t, ctx.axis)


def _shifted(a: np.ndarray, axis: int | None) -> np.ndarray:
    """A new array ``a - max(a)`` along ``axis`` (an array even for 0-d input)."""
    out = np.subtract(a, a.max(axis=axis, keepdims=True), out=np.empty_like(a))
    return out


def _softmax_input(input, dim, dtype, kernel: str):
    """(input in the compute dtype, axis): ``dtype`` casts first, recorded as a ToCopy node."""
    if dim is _REQUIRED:
        raise missing_dim(kernel)
    data = input._data
    axis = one_axis(int_dim(kernel, dim), data.ndim)
    if dtype is not None:
        return (input if input.dtype is dtype else input.to(dtype)), axis
    if data.dtype.kind != "f":
        where = "lastdim_" if axis is None or axis == data.ndim - 1 else ""
        kernel_name = f'"{kernel}_{where}kernel_impl"'
        raise NotImplementedError(f"{kernel_name} not implemented for '{torch_type_name(data.dtype)}'")
    return input, axis


def softmax(input, dim=_REQUIRED, dtype=None):
    input, axis = _softmax_input(input, dim, dtype, "softmax")
    return apply(Softmax, "SoftmaxBackward0", (input,), axis=axis)


def log_softmax(input, dim=_REQUIRED, dtype=None):
    input, axis = _softmax_input(input, dim, dtype, "log_softmax")
    return apply(LogSoftmax, "LogSoftmaxBackward0", (input,), axis=axis)


__all__ = ["log_softmax", "logsumexp", "softmax"]
