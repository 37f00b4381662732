"""Reductions that skip NaNs (nansum, nanmean) and those with two outputs computed together:
aminmax ``(min, max)``, var_mean and std_mean ``(var or std, mean)``.

A two-output node gets a zero gradient for an output that got none (the engine fills it),
so each backward adds both outputs' contributions.
"""

from __future__ import annotations

import math

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.reduce import moments
from reference.ops.reduce.axes import as_constant, axes_of, kept_shape
from reference.ops.reduce.extrema import _amax_axes

# -- nansum, nanmean --------------------------------------------------------------------------------


class Nansum(Function):
    """Sum of the non-NaN elements (NansumBackward0): NaN elements get no gradient."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.kept, ctx.axes, ctx.keepdim = kept_shape(a.shape, axes), axes, keepdim
        ctx.save_for_backward(a)
        return np.nansum(a, axis=axes, keepdims=keepdim).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        present = ~np.isnan(xp.data(a))
        return g.reshape(ctx.kept) * as_constant(present, g)

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved_tensors
        return np.where(np.isnan(a), 0, t).sum(axis=ctx.axes, keepdims=ctx.keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    if input._data.dtype.kind != "f":
        import reference

        return reference.sum(input, dim, keepdim, dtype=dtype)
    axes = axes_of(dim, input._data.ndim)
    return apply(Nansum, "NansumBackward0", (input,), axes=axes, keepdim=bool(keepdim))


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """nansum over the count of non-NaN elements, as torch composes it (DivBackward0)."""
    from reference.tensor import Tensor

    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype}")
    axes = axes_of(dim, input._data.ndim)
    count = (~np.isnan(input._data)).sum(axis=axes, keepdims=bool(keepdim)).astype(input._data.dtype)
    return nansum(input, dim, keepdim) / Tensor._make(count)


# -- aminmax ------------------------------------------------------------------------------------------


class Aminmax(Function):
    """``(min, max)`` over one dim or everything (AminmaxBackward0); ties within a reduced slice
    share each output's gradient evenly, as amin/amax do."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        low = a.min(axis=axes, keepdims=True)
        high = a.max(axis=axes, keepdims=True)
        ctx.kept = low.shape
        with np.errstate(invalid="ignore", divide="ignore"):
            ctx.save_for_backward(_share(a == low, axes), _share(a == high, axes))
        if not keepdim:
            shape = tuple(n for i, n in enumerate(a.shape) if i not in axes)
            low, high = low.reshape(shape), high.reshape(shape)
        return low, high

    @staticmethod
    def backward(ctx, g_min, g_max):
        w_min, w_max = (xp.data(w) for w in ctx.saved_tensors)
        return g_min.reshape(ctx.kept) * as_constant(w_min, g_min) + g_max.reshape(ctx.kept) * as_constant(w_max, g_max)

    @staticmethod
    def jvp(ctx, t):
        w_min, w_max = ctx.saved_tensors
        return tuple((t * w).sum(axis=ctx.axes, keepdims=ctx.keepdim) for w in (w_min, w_max))


def _share(mask: np.ndarray, axes: tuple) -> np.ndarray:
    return mask / mask.sum(axis=axes, keepdims=True)


class _MinMax(tuple):
    """``torch.return_types.aminmax``: a ``(min, max)`` tuple with named fields."""

    __slots__ = ()
    n_fields = n_sequence_fields = 2

    def __new__(cls, low, high):
        return super().__new__(cls, (low, high))

    min = property(lambda self: self[0])
    max = property(lambda self: self[1])

    def __repr__(self) -> str:
        return f"torch.return_types.aminmax(\nmin={self[0]!r},\nmax={self[1]!r})"


def aminmax(input, *, dim=None, keepdim=False):
    axes = _amax_axes(input, () if dim is None else int(dim), "aminmax")
    low, high = apply(Aminmax, "AminmaxBackward0", (input,), axes=axes, keepdim=bool(keepdim))
    return _MinMax(low, high)


# -- var_mean, std_mean -------------------------------------------------------------------------------


class VarMean(Function):
    """``(var or std, mean)`` (VarMeanBackward0 / StdMeanBackward0): moments.Var's forward and
    backward for the first output, plus the mean's gradient spread over the reduced elements."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, correction, grad_count, std):
        spread = moments.Var.forward(ctx, a, axes, keepdim, correction, grad_count, std)
        ctx.count = math.prod(a.shape[i] for i in axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = moments._mean(a, axes, ctx.count)
        return spread, mean if keepdim else mean.reshape(spread.shape)

    @staticmethod
    def backward(ctx, g_spread, g_mean):
        return moments.Var.backward(ctx, g_spread) + g_mean.reshape(ctx.kept) / ctx.count

    @staticmethod
    def jvp(ctx, t):
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = t.sum(axis=ctx.axes, keepdims=ctx.keepdim) / ctx.count
        return moments.Var.jvp(ctx, t), mean.astype(t.dtype, copy=False)


def _var_mean(input, dim, unbiased, keepdim, correction, std: bool):
    name = "std_mean" if std else "var_mean"
    dim, correction = moments._correction(dim, unbiased, correction, name)
    data = input._data
    if data.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = axes_of(dim, data.ndim)
    grad_count = None if dim is None or data.ndim == 0 else moments._given_count(data.shape, dim)
    moments._warn_if_no_freedom(name, data, axes, correction)
    return apply(VarMean, "StdMeanBackward0" if std else "VarMeanBackward0", (input,), axes=axes,
                 keepdim=bool(keepdim), correction=correction, grad_count=grad_count, std=std)  # fmt: skip


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_mean(input, dim, unbiased, keepdim, correction, std=False)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_mean(input, dim, unbiased, keepdim, correction, std=True)


__all__ = ["aminmax", "nanmean", "nansum", "std_mean", "var_mean"]
