"""Shape ops that copy: dtype conversion (``to``, ``double``, ``float``), ``repeat`` and ``flip``."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd.function import Function, apply
from reference.ops.operands import normalize_dims, shape_args
from reference.ops.shape_views import _is_array

# -- dtype conversion ------------------------------------------------------------------------


class ToCopy(Function):
    @staticmethod
    def forward(ctx, a, np_dtype):
        return a.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine casts it back to the input's dtype

    @staticmethod
    def jvp(ctx, t):
        return t  # cast to the output's dtype by forward mode


def to(input, *args: Any, dtype=None, copy=False, **kwargs: Any):
    """``to(dtype)``; devices other than the CPU are not supported."""
    for a in args:
        if isinstance(a, dtypes.dtype) or (isinstance(a, str) and a in ("float", "double")):
            dtype = a
        elif a not in ("cpu", None):
            raise RuntimeError(f"reference tensors live on the CPU; cannot move to {a!r}")
    if dtype is None:
        return input
    target = dtypes.resolve(dtype)
    if target.np == input._data.dtype and not copy:
        return input
    return apply(ToCopy, "ToCopyBackward0", (input,), np_dtype=target.np)


def double(input):
    return to(input, dtypes.float64)


def float(input):
    return to(input, dtypes.float32)


# -- repeat, flip ------------------------------------------------------------------------------


class Repeat(Function):
    @staticmethod
    def forward(ctx, a, repeats):
        ctx.in_shape, ctx.repeats = a.shape, repeats
        out = np.tile(a.reshape((1,) * (len(repeats) - a.ndim) + a.shape), repeats)
        return out if out.size else out.copy()  # NumPy tiles an empty array as a view; torch copies

    @staticmethod
    def backward(ctx, g):
        # split every output dim into (repeat, size) and sum over the repeats
        padded = (1,) * (len(ctx.repeats) - len(ctx.in_shape)) + ctx.in_shape
        split = tuple(n for pair in zip(ctx.repeats, padded) for n in pair)
        summed = g.reshape(split).sum(axis=tuple(range(0, len(split), 2))) if split else g
        return summed.reshape(ctx.in_shape)

    @staticmethod
    def jvp(ctx, t):
        return Repeat.forward(ctx, t, ctx.repeats)


def repeat(input, *repeats):
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    repeats = shape_args(repeats, "repeat", "repeats")
    shape = input._data.shape
    if len(repeats) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    padded = (1,) * (len(repeats) - len(shape)) + shape
    target = [r * n for r, n in zip(repeats, padded)]
    for n in target:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {target}")
    return apply(Repeat, "RepeatBackward0", (input,), repeats=repeats)


class Flip(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.flip(a, dims).copy()  # torch's flip is a copy, not a view

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims) if _is_array(g) else flip(g, ctx.dims)

    @staticmethod
    def jvp(ctx, t):
        return np.flip(t, ctx.dims)


def flip(input, *dims, **kwargs):
    """``flip(0, 2)``, ``flip([0, 2])`` or ``flip(dims=(0, 2))``; no dims: a plain copy."""
    dims = kwargs.pop("dims", dims)
    if kwargs:
        raise TypeError(f"flip() got an unexpected keyword argument '{next(iter(kwargs))}'")
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    axes = normalize_dims(dims, input._data.ndim) if len(dims) else ()
    return apply(Flip, "FlipBackward0", (input,), dims=axes)
