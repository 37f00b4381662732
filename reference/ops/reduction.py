"""Reductions: sum, mean, norm, all, any.

Backward hands back the gradient with the reduced dims kept as size 1; the
engine expands it to the input's shape (broadcast.to_input).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.operands import normalize_dims


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduction_args(dim: Any, axis: Any, keepdim: bool | None, keepdims: bool | None) -> tuple:
    """torch accepts NumPy's spellings too: ``axis`` for ``dim``, ``keepdims`` for ``keepdim``."""
    if axis is not None:
        dim = axis
    return dim, bool(keepdims if keepdims is not None else keepdim)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        ctx.kept = _kept_shape(a.shape, axes)
        if a.dtype.kind in "bi" and dtype is None:
            dtype = np.int64
        return a.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.kept)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    dim, keepdim = _reduction_args(dim, axis, keepdim, keepdims)
    axes = normalize_dims(dim, input._data.ndim)
    np_dtype = None if dtype is None else dtype.np
    name = "SumBackward0" if dim is None else "SumBackward1"
    return apply(Sum, name, (input,), axes=axes, keepdim=keepdim, dtype=np_dtype)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.kept = _kept_shape(a.shape, axes)
        ctx.count = math.prod(a.shape[i] for i in axes)
        if ctx.count == 0:  # the mean of nothing is nan, silently (NumPy would warn)
            with np.errstate(invalid="ignore"):
                return a.sum(axis=axes, keepdims=keepdim) / ctx.count
        return a.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.kept) / ctx.count


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    if input._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_torch_type_name(input._data.dtype)}"
        )
    if dtype is not None:
        input = input.to(dtype)
    dim, keepdim = _reduction_args(dim, axis, keepdim, keepdims)
    axes = normalize_dims(dim, input._data.ndim)
    name = "MeanBackward0" if dim is None else "MeanBackward1"
    return apply(Mean, name, (input,), axes=axes, keepdim=keepdim)


class VectorNorm(Function):  # 2-norm; other orders arrive with the full norm family
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        r = np.sqrt((a * a).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(a, r)
        ctx.kept = _kept_shape(a.shape, axes)
        return r if keepdim else r.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))

    @staticmethod
    def backward(ctx, g):
        a, r = ctx.saved_tensors
        # torch: the gradient at the zero vector is 0 (the minimum-norm subgradient)
        rd = xp.data(r)
        safe = xp.where(rd == 0, 1.0, r)
        return xp.where(rd == 0, 0.0, g.reshape(ctx.kept) * a / safe)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p not in ("fro", 2, 2.0):
        raise NotImplementedError(f"norm with p={p!r} is not implemented yet; only the 2-norm")
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {_torch_type_name(input._data.dtype)}"
        )
    axes = normalize_dims(dim, input._data.ndim)
    return apply(VectorNorm, "LinalgVectorNormBackward0", (input,), axes=axes, keepdim=keepdim)


class _Logical(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, reducer):
        return reducer(a, axis=axes, keepdims=keepdim)


def all(input, dim=None, keepdim=False):
    axes = normalize_dims(dim, input._data.ndim)
    return apply(_Logical, "AllBackward0", (input,), axes=axes, keepdim=keepdim, reducer=np.all)


def any(input, dim=None, keepdim=False):
    axes = normalize_dims(dim, input._data.ndim)
    return apply(_Logical, "AnyBackward0", (input,), axes=axes, keepdim=keepdim, reducer=np.any)


def _torch_type_name(np_dtype: np.dtype) -> str:
    return {"int64": "Long", "bool": "Bool", "float32": "Float", "float64": "Double"}.get(np_dtype.name, np_dtype.name)


# Top-level functions (``reference.sum``) and Tensor methods (``x.sum()``).
__all__ = ["all", "any", "mean", "norm", "sum"]
METHODS = {"sum": sum, "mean": mean, "norm": norm, "all": all, "any": any}
