"""Two linear maps on flat positions, each the other's transpose, usable on arrays or Tensors:
``gather_flat`` reads ``x.ravel()[index]``; ``scatter_flat`` adds values back into those positions.
They carry the gradients of max_pool2d and embedding, to any order."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd.function import Function, apply
from reference.nn._grad import tensor_mode


def _gather(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    return x.reshape(-1)[index]


def _scatter(g: np.ndarray, index: np.ndarray, shape: tuple, unique: bool = False) -> np.ndarray:
    size = int(np.prod(shape, dtype=np.int64))
    g = np.broadcast_to(g, index.shape)
    if unique:  # nothing to add up: one store per value, in g's dtype
        out = np.zeros(size, g.dtype)
        out[index.reshape(-1)] = g.reshape(-1)
        return out.reshape(shape)
    summed = np.bincount(index.reshape(-1), weights=g.reshape(-1), minlength=size)  # float64 sums
    return summed.astype(g.dtype, copy=False).reshape(shape)


class GatherFlat(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.shape = index, x.shape
        return _gather(x, index)

    @staticmethod
    def backward(ctx, g):
        return scatter_flat(g, ctx.index, ctx.shape)

    @staticmethod
    def jvp(ctx, t):
        return _gather(t, ctx.index)


class ScatterFlat(Function):
    @staticmethod
    def forward(ctx, g, index, shape, unique):
        ctx.index, ctx.shape, ctx.unique = index, shape, unique
        return _scatter(g, index, shape, unique)

    @staticmethod
    def backward(ctx, gg):
        return gather_flat(gg, ctx.index)

    @staticmethod
    def jvp(ctx, t):
        return _scatter(t, ctx.index, ctx.shape, ctx.unique)


def gather_flat(x: Any, index: np.ndarray) -> Any:
    """``x.ravel()[index]`` (shape of ``index``)."""
    if tensor_mode(x):
        return apply(GatherFlat, "TakeBackward0", (x,), index=index)
    return _gather(x, index)


def scatter_flat(g: Any, index: np.ndarray, shape: tuple, unique: bool = False) -> Any:
    """An array of ``shape`` holding, at each flat position, the sum of the ``g`` values whose
    ``index`` is that position (``g`` is broadcast to ``index``'s shape). ``unique``: the
    caller knows no position repeats (then no float64 sums are needed)."""
    if tensor_mode(g):
        if tuple(g.shape) != index.shape:
            g = g.expand(*index.shape)
        return apply(ScatterFlat, "PutBackward0", (g,), index=index, shape=tuple(shape), unique=unique)
    return _scatter(g, index, shape, unique)
