"""sum, mean, prod, all, any.

Backward hands back the gradient with the reduced dims kept as size 1; the engine
expands it to the input's shape (broadcast.to_input).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.reduce.axes import (
    QUIET,
    autograd_dtype_check,
    axes_of,
    cast,
    int_dim,
    is_tensor,
    kept_shape,
    torch_type_name,
)


def _reduction_args(dim: Any, axis: Any, keepdim: bool | None, keepdims: bool | None) -> tuple:
    """torch accepts NumPy's spellings too: ``axis`` for ``dim``, ``keepdims`` for ``keepdim``."""
    if axis is not None:
        dim = axis
    return dim, bool(keepdims if keepdims is not None else keepdim)


# -- sum, mean -----------------------------------------------------------------------------


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        ctx.kept, ctx.axes, ctx.keepdim = kept_shape(a.shape, axes), axes, keepdim
        if a.dtype.kind in "bi" and dtype is None:
            dtype = np.int64
        return a.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.kept)

    @staticmethod
    def jvp(ctx, t):
        return t.sum(axis=ctx.axes, keepdims=ctx.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    dim, keepdim = _reduction_args(dim, axis, keepdim, keepdims)
    axes = axes_of(dim, input._data.ndim)
    np_dtype = None if dtype is None else dtype.np
    autograd_dtype_check(input, np_dtype)
    name = "SumBackward0" if dim is None else "SumBackward1"
    return apply(Sum, name, (input,), axes=axes, keepdim=keepdim, dtype=np_dtype)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        ctx.kept, ctx.axes, ctx.keepdim = kept_shape(a.shape, axes), axes, keepdim
        ctx.count = math.prod(a.shape[i] for i in axes)
        a = cast(a, dtype)  # torch computes in ``dtype`` without recording a ToCopy node
        if ctx.count == 0:  # the mean of nothing is nan, silently (NumPy would warn)
            with np.errstate(**QUIET):
                return a.sum(axis=axes, keepdims=keepdim) / a.dtype.type(0)
        return a.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.kept) / ctx.count

    @staticmethod
    def jvp(ctx, t):
        with np.errstate(**QUIET):
            return t.sum(axis=ctx.axes, keepdims=ctx.keepdim) / t.dtype.type(ctx.count)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    np_dtype = None if dtype is None else dtype.np
    if np_dtype is not None and np.dtype(np_dtype).kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Optional dtype must be either a floating point or complex "
            f"dtype. Got: {torch_type_name(np_dtype)}"
        )
    if input._data.dtype.kind not in "fc" and np_dtype is None:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {torch_type_name(input._data.dtype)}"
        )
    dim, keepdim = _reduction_args(dim, axis, keepdim, keepdims)
    axes = axes_of(dim, input._data.ndim)
    name = "MeanBackward0" if dim is None else "MeanBackward1"
    return apply(Mean, name, (input,), axes=axes, keepdim=keepdim, dtype=np_dtype)


# -- prod ----------------------------------------------------------------------------------


class Prod(Function):
    """Full (``ProdBackward0``) or along one dim (``ProdBackward1``). The gradient of an
    element is the product of the others: ``result / input`` when there is no zero, else
    products of the elements before and after it (so [0, 2, 3] gives [6, 0, 0], and two
    zeros give all zeros), never a division by zero."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        ctx.kept, ctx.axes, ctx.keepdim, ctx.dtype = kept_shape(a.shape, axes), axes, keepdim, dtype
        if a.dtype.kind in "bi" and dtype is None:
            dtype = np.int64
        out = a.prod(axis=axes, keepdims=keepdim, dtype=dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if not ctx.axes:  # a 0-d input: the identity
            return g
        others = _others_product(cast(a, ctx.dtype), out.reshape(ctx.kept), ctx.axes)
        return g.reshape(ctx.kept) * xp.conj(others)

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved_tensors
        if not ctx.axes:
            return t
        weights = _others_product(cast(a, ctx.dtype), out.reshape(ctx.kept), ctx.axes)
        return (t * weights).sum(axis=ctx.axes, keepdims=ctx.keepdim)


def _others_product(a: Any, out: Any, axes: tuple) -> Any:
    """For each element, the product of the other elements of its reduced slice."""
    if not (xp.data(a) == 0).any():
        return out / a
    if len(axes) == 1:
        return _others_along(a, axes[0])
    return _others_along(a.reshape(-1), 0).reshape(tuple(a.shape))  # a full reduction


def _others_along(a: Any, axis: int) -> Any:
    if is_tensor(a):
        return _others_by_mask(a, axis)
    return _exclusive_cumprod(a, axis) * np.flip(_exclusive_cumprod(np.flip(a, axis), axis), axis)


def _exclusive_cumprod(a: np.ndarray, axis: int) -> np.ndarray:
    """Products of the elements strictly before each one along ``axis`` (1 for the first)."""
    out = np.ones_like(a)
    if a.shape[axis] > 1:
        head = [slice(None)] * a.ndim
        tail = [slice(None)] * a.ndim
        head[axis], tail[axis] = slice(None, -1), slice(1, None)
        np.cumprod(a[tuple(head)], axis=axis, out=out[tuple(tail)])
    return out


def _others_by_mask(x: Any, axis: int) -> Any:
    """The differentiable form (create_graph with zeros): row k of an n x n stack holds the
    slice with element k replaced by 1, and each row is multiplied out. O(n^2), but only
    recorded backward passes through inputs with zeros take it."""
    shape = tuple(x.shape)
    n = shape[axis]
    rows = x.reshape((*shape[:axis], 1, n, *shape[axis + 1 :]))
    eye = np.eye(n, dtype=bool).reshape((n, n) + (1,) * (len(shape) - axis - 1))
    return prod(xp.where(eye, 1.0, rows), axis + 1)


_PROD_SIGNATURES = " * (*, torch.dtype dtype = None)\n * (int dim, bool keepdim = False, *, torch.dtype dtype = None)\n"


def prod(input, dim=None, keepdim=False, *, dtype=None):
    np_dtype = None if dtype is None else dtype.np
    autograd_dtype_check(input, np_dtype)
    if dim is None:
        axes = tuple(range(input._data.ndim))
        return apply(Prod, "ProdBackward0", (input,), axes=axes, keepdim=False, dtype=np_dtype)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(
            f"prod() received an invalid combination of arguments - got ({type(dim).__name__}), but expected one of:\n"
            + _PROD_SIGNATURES
        )
    axes = axes_of(int_dim("prod", dim), input._data.ndim)
    return apply(Prod, "ProdBackward1", (input,), axes=axes, keepdim=keepdim, dtype=np_dtype)


# -- all, any ------------------------------------------------------------------------------


class _Logical(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, reducer):
        return reducer(a, axis=axes, keepdims=keepdim)


def all(input, dim=None, keepdim=False):
    axes = axes_of(dim, input._data.ndim)
    return apply(_Logical, "AllBackward0", (input,), axes=axes, keepdim=keepdim, reducer=np.all)


def any(input, dim=None, keepdim=False):
    axes = axes_of(dim, input._data.ndim)
    return apply(_Logical, "AnyBackward0", (input,), axes=axes, keepdim=keepdim, reducer=np.any)
