"""Indexing along one dim: index_select (with index_add, its backward), gather and scatter_add
(each the other's backward)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd.function import Function, apply, sum_tangents
from reference.ops.operands import normalize_dim


class Scratch:
    """A throwaway ctx for calling a forward rule directly on arrays."""

    def save_for_backward(self, *values) -> None:
        pass  # nothing runs backward through a scratch ctx


# -- index_select, index_add (its backward) ---------------------------------------------------------


def _index_data(index: Any, op: str, dtype_message: str) -> np.ndarray:
    data = getattr(index, "_data", None)
    if data is None:
        data = np.asarray(index)
    if data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): {dtype_message}")
    return data.astype(np.int64, copy=False)


class IndexSelect(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.in_shape, ctx.dim, ctx.index = a.shape, dim, index
        return np.take(a.reshape(a.shape or (1,)), index, axis=dim).reshape(_replace(a.shape, dim, index.size))

    @staticmethod
    def backward(ctx, g):
        if not ctx.in_shape:  # a 0-d input, taken as one element
            return index_add_any(g.reshape(1), 0, ctx.index, 1).reshape(())
        return index_add_any(g, ctx.dim, ctx.index, ctx.in_shape[ctx.dim])

    @staticmethod
    def jvp(ctx, t):
        return IndexSelect.forward(ctx, t, ctx.dim, ctx.index)


def _replace(shape: tuple, dim: int, n: int) -> tuple:
    return (*shape[:dim], n, *shape[dim + 1 :]) if shape else ()


class IndexAdd(Function):
    """Zeros of ``size`` along ``dim`` with the input's slices added at ``index``."""

    @staticmethod
    def forward(ctx, g, dim, index, size):
        ctx.dim, ctx.index, ctx.size = dim, index, size
        out = np.zeros(_replace(g.shape, dim, size), g.dtype)
        np.add.at(out, (slice(None),) * dim + (index,), g)
        return out

    @staticmethod
    def backward(ctx, gg):
        if type(gg) is np.ndarray:
            return np.take(gg, ctx.index, axis=ctx.dim)
        return apply(IndexSelect, "IndexSelectBackward0", (gg,), dim=ctx.dim, index=ctx.index)

    @staticmethod
    def jvp(ctx, t):
        return IndexAdd.forward(Scratch(), t, ctx.dim, ctx.index, ctx.size)


def index_add_any(g: Any, dim: int, index: np.ndarray, size: int) -> Any:
    """The backward of taking ``index`` along ``dim`` (array, or Tensor under create_graph)."""
    if type(g) is np.ndarray:
        return IndexAdd.forward(Scratch(), g, dim, index, size)
    return apply(IndexAdd, "IndexAddBackward0", (g,), dim=dim, index=index, size=size)


def index_select(input, dim, index):
    data = _index_data(index, "index_select", "Expected dtype int32 or int64 for index")
    if data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    shape = input._data.shape
    axis = normalize_dim(dim, len(shape))
    data = data.reshape(-1)
    if not shape and data.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {data.size} value(s)")
    size = shape[axis] if shape else 1
    bad = (data < 0) | (data >= size)
    if bad.any():
        if axis == 1:  # torch reports this dim from another kernel
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={data[bad][0]} axis_dim={size}")
        raise IndexError("index out of range in self")
    return apply(IndexSelect, "IndexSelectBackward0", (input,), dim=axis, index=data)


# -- gather and scatter_add: each the other's backward ---------------------------------------------


def _grid(index: np.ndarray, dim: int) -> tuple:
    """The NumPy index that addresses, for every element of ``index``, its target along ``dim``."""
    n = index.ndim
    return tuple(
        index if d == dim else np.arange(s).reshape([s if k == d else 1 for k in range(n)])
        for d, s in enumerate(index.shape)
    )


class Gather(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.in_shape, ctx.dim, ctx.index = a.shape, dim, index
        ctx.save_for_backward(a)  # torch's gather saves self: an in-place change of it fails backward
        if not index.size:  # any rank goes (torch checks nothing for an empty index)
            return np.zeros(index.shape, a.dtype)
        return a.reshape(a.shape or (1,))[_grid(index.reshape(index.shape or (1,)), dim)].reshape(index.shape)

    @staticmethod
    def backward(ctx, g):
        ctx.saved_tensors  # noqa: B018 - reading checks the saved input's version, as torch does
        if type(g) is np.ndarray:
            return ScatterAdd.forward(Scratch(), np.zeros(ctx.in_shape, g.dtype), g, ctx.dim, ctx.index)
        zeros = type(g)._make(np.zeros(ctx.in_shape, g._data.dtype))
        return apply(ScatterAdd, "ScatterAddBackward0", (zeros, g), dim=ctx.dim, index=ctx.index)

    @staticmethod
    def jvp(ctx, t):
        return Gather.forward(ctx, t, ctx.dim, ctx.index)


class ScatterAdd(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, src, dim, index):
        ctx.dim, ctx.index, ctx.src_shape, ctx.shape = dim, index, src.shape, a.shape
        if not index.size:
            return a.copy()
        out = a.reshape(a.shape or (1,)).copy()
        flat = index.reshape(index.shape or (1,))
        np.add.at(out, _grid(flat, dim), src.reshape(src.shape or (1,))[tuple(slice(0, n) for n in flat.shape)])
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        g_src = None
        if ctx.needs_input_grad[1]:
            _check_src_gradient(ctx.index.shape, ctx.src_shape)
            if type(g) is np.ndarray:
                g_src = Gather.forward(Scratch(), g, ctx.dim, ctx.index)
            else:
                g_src = apply(Gather, "GatherBackward0", (g,), dim=ctx.dim, index=ctx.index)
        return g, g_src

    @staticmethod
    def jvp(ctx, t_self, t_src):
        spread = None
        if t_src is not None:
            zeros = np.zeros(ctx.shape, t_src.dtype)
            spread = ScatterAdd.forward(Scratch(), zeros, t_src, ctx.dim, ctx.index)
        return sum_tangents(t_self, spread)


def _check_src_gradient(index_shape: tuple, src_shape: tuple) -> None:
    """torch's engine rejects the src gradient (index-shaped) unless it reduces to src's shape."""
    if index_shape != src_shape and not all(s in (i, 1) for s, i in zip(src_shape, index_shape)):
        raise RuntimeError(
            f"Function ScatterAddBackward0 returned an invalid gradient at index 1 - got {list(index_shape)} but "
            f"expected shape compatible with {list(src_shape)}"
        )


def _check_index_shape(index: np.ndarray, shape: tuple, what: str) -> None:
    if max(index.ndim, 1) != max(len(shape), 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} tensor")


def _check_bounds(index: np.ndarray, size: int, dim: int) -> None:
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise RuntimeError(f"index {index[bad].flat[0]} is out of bounds for dimension {dim} with size {size}")


def _is_empty(index: Any) -> bool:
    return np.size(getattr(index, "_data", index)) == 0


def _empty_index(index: Any) -> np.ndarray:
    return np.zeros(np.shape(getattr(index, "_data", index)), np.int64)


def gather(input, dim, index, *, sparse_grad=False):
    shape = input._data.shape
    if _is_empty(index):  # torch checks only the dim, then returns an empty result of the index's shape
        axis = normalize_dim(dim, len(shape))
        return apply(Gather, "GatherBackward0", (input,), dim=axis, index=_empty_index(index))
    data = _index_data(index, "gather", "Expected dtype int32/int64 for index")
    axis = normalize_dim(dim, len(shape))
    _check_index_shape(data, shape, "input")
    for d, (n, m) in enumerate(zip(data.shape, shape)):
        if d != axis and n > m:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(data.shape)} to be no larger than "
                f"self {list(shape)} apart from dimension {axis}"
            )
    _check_bounds(data, shape[axis] if shape else 1, axis)
    return apply(Gather, "GatherBackward0", (input,), dim=axis, index=data)


def scatter_add(input, dim, index, src):
    data = _index_data(index, "scatter", "Expected dtype int32/int64 for index")
    shape, src_shape = input._data.shape, src._data.shape
    axis = normalize_dim(dim, len(shape))
    if input._data.dtype != src._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if not data.size:  # torch checks no shape for an empty index
        return apply(ScatterAdd, "ScatterAddBackward0", (input, src), dim=axis, index=data)
    _check_index_shape(data, shape, "self")
    _check_index_shape(data, src_shape, "src")
    if any((d != axis and n > m) or n > s for d, (n, m, s) in enumerate(zip(data.shape, shape, src_shape))):
        raise RuntimeError(
            f"Expected index {list(data.shape)} to be no larger than self {list(shape)} apart from dimension "
            f"{axis} and to be no larger size than src {list(src_shape)}"
        )
    _check_bounds(data, shape[axis] if shape else 1, axis)
    return apply(ScatterAdd, "ScatterAddBackward0", (input, src), dim=axis, index=data)
