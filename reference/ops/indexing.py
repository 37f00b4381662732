"""Indexing ops: ``x[index]`` (basic and advanced), index_select, gather, scatter_add, masked_fill.

``x[index]`` records what torch records: one node per basic step, in index order (ints ->
SelectBackward0, slices -> SliceBackward0, None -> UnsqueezeBackward0; a no-op -> AliasBackward0),
then one IndexBackward0 for the advanced part (integer lists/arrays/tensors, boolean masks).
``normalize_index`` turns the same torch-style index into one NumPy index (for ``__setitem__``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reference.autograd.function import Function, apply, sum_tangents
from reference.ops import shape as shapes
from reference.ops.operands import normalize_dim

# -- reading a torch-style index -----------------------------------------------------------------

INVALID_INDEX = "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices"
ZERO_DIM_INT = (
    "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a "
    "0-dim tensor to a number"
)


def _entry(e: Any) -> tuple:
    """One index entry as (kind, value): none, ellipsis, bool, int, slice, array (int64) or mask (bool)."""
    if e is None:
        return ("none", None)
    if e is Ellipsis:
        return ("ellipsis", None)
    if isinstance(e, (bool, np.bool_)):
        return ("bool", bool(e))
    if isinstance(e, (int, np.integer)):
        return ("int", int(e))
    if isinstance(e, slice):
        return ("slice", e)
    data = getattr(e, "_data", None)  # a Tensor
    if data is None and isinstance(e, (np.ndarray, list, tuple)):
        data = np.asarray(e)
        if data.dtype.kind == "f" and not isinstance(e, np.ndarray):  # torch truncates float lists
            data = data.astype(np.int64)
    if data is None:
        raise IndexError(f"{INVALID_INDEX} (got {type(e).__name__})")
    if data.dtype.kind == "b":
        return ("bool", bool(data)) if data.ndim == 0 else ("mask", data)
    if data.dtype.kind not in "iu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return ("int", int(data)) if data.ndim == 0 else ("array", data.astype(np.int64, copy=False))


def _as_entries(index: Any) -> tuple[tuple, bool]:
    """The index as a tuple of entries, and whether torch reads it as a tuple (a list holding
    sequences, slices, None or Ellipsis counts as one, as in old NumPy)."""
    if type(index) is tuple:
        return index, True
    if isinstance(index, list) and len(index) < 32 and any(_tuple_like(e) for e in index):
        return tuple(index), True
    return (index,), False


def _tuple_like(e: Any) -> bool:
    return isinstance(e, (list, tuple, slice, np.ndarray)) or e is None or e is Ellipsis or hasattr(e, "_data")


@dataclass
class _Plan:
    """What ``x[index]`` does: basic steps in order, then the advanced part.

    - ``steps``: ("select", dim, i) | ("slice", dim, slice) | ("unsqueeze", dim), dims of the result so far
    - ``arrays``: (dim of the basic result, int64 array), each array already in range
    - ``vdims``: per dim of the basic result, ("in", input dim, start, step, size) or ("new",)
    - ``ints``: input dim -> selected position (non-negative)
    - ``basic``: the NumPy index of the basic part alone
    """

    steps: list = field(default_factory=list)
    arrays: list = field(default_factory=list)
    vdims: list = field(default_factory=list)
    ints: dict = field(default_factory=dict)
    basic: list = field(default_factory=list)
    shape: list = field(default_factory=list)  # of the basic result


def _full_slice(s: slice, size: int) -> bool:
    """torch skips a slice that keeps everything (start 0 or None, stop past the end, step 1)."""
    return s.start in (None, 0) and (s.stop is None or s.stop >= size) and s.step in (None, 1)


def _plan(index: Any, shape: tuple) -> tuple[_Plan, bool]:
    entries, is_tuple = _as_entries(index)
    kinds = [_entry(e) for e in entries]
    ndim = len(shape)
    if not is_tuple and ndim == 0:
        if kinds[0][0] == "int" and not hasattr(entries[0], "_data"):
            raise IndexError(ZERO_DIM_INT)
        if kinds[0][0] == "slice":
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    specified = sum(1 if k in ("int", "slice", "array") else v.ndim if k == "mask" else 0 for k, v in kinds)
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    plan = _Plan(shape=list(shape))
    src = 0  # the next input dim
    for position, (kind, value) in enumerate(kinds):
        dim = len(plan.vdims)
        if kind == "ellipsis":
            for _ in range(ndim - specified):
                _keep(plan, src, 0, 1, shape[src])
                src += 1
            plan.basic.append(Ellipsis)
            specified = ndim  # torch: later ellipses expand to nothing
        elif kind == "none":
            _new_axis(plan, dim)
            plan.basic.append(None)
        elif kind == "bool":
            _new_axis(plan, dim)
            plan.arrays.append((dim, np.arange(int(value), dtype=np.int64)))
        elif kind == "int":
            size = shape[src]
            if not -size <= value < size:
                raise IndexError(f"index {value} is out of bounds for dimension {position} with size {size}")
            plan.steps.append(("select", dim, value))
            plan.ints[src] = value % size
            plan.shape.pop(dim)
            plan.basic.append(value)
            src += 1
        elif kind == "slice":
            if value.step is not None and value.step <= 0:
                raise ValueError("slice step cannot be zero" if value.step == 0 else "step must be greater than zero")
            size = shape[src]
            start, stop, step = value.indices(size)
            length = len(range(start, stop, step))
            if not is_tuple or not _full_slice(value, size):
                plan.steps.append(("slice", dim, slice(start, stop, step)))
            _keep(plan, src, start, step, length)
            plan.basic.append(slice(start, stop, step))
            src += 1
        elif kind == "array":
            _keep(plan, src, 0, 1, shape[src])
            plan.arrays.append((dim, value))
            src += 1
        else:  # a mask: one array per masked dim
            _check_mask(value, plan.shape, dim)
            for offset, positions in enumerate(np.nonzero(value)):
                _keep(plan, src, 0, 1, shape[src])
                plan.arrays.append((dim + offset, positions))
                src += 1
    for d in range(src, ndim):
        _keep(plan, d, 0, 1, shape[d])
    _check_arrays(plan)
    return plan, is_tuple


def _keep(plan: _Plan, src: int, start: int, step: int, size: int) -> None:
    """The basic result keeps input dim ``src`` (sliced to ``size`` elements)."""
    dim = len(plan.vdims)
    plan.vdims.append(("in", src, start, step, size))
    plan.shape[dim] = size


def _new_axis(plan: _Plan, dim: int) -> None:
    plan.steps.append(("unsqueeze", dim))
    plan.vdims.append(("new",))
    plan.shape.insert(dim, 1)


def _check_mask(mask: np.ndarray, shape: list, dim: int) -> None:
    for i, n in enumerate(mask.shape):
        if dim + i >= len(shape) or shape[dim + i] != n:
            raise IndexError(
                f"The shape of the mask {list(mask.shape)} at index {i} does not match the shape of the indexed "
                f"tensor {shape} at index {dim + i}"
            )


def _check_arrays(plan: _Plan) -> None:
    """Broadcast the index arrays and bring them in range, with torch's messages."""
    if not plan.arrays:
        return
    try:
        np.broadcast_shapes(*(a.shape for _, a in plan.arrays))
    except ValueError:
        shown = ", ".join(str(list(a.shape)) for _, a in plan.arrays)
        message = f"shape mismatch: indexing tensors could not be broadcast together with shapes {shown}"
        raise IndexError(message) from None
    for k, (dim, a) in enumerate(plan.arrays):
        size = plan.shape[dim]
        bad = (a < -size) | (a >= size)
        if bad.any():
            raise IndexError(f"index {a[bad].flat[0]} is out of bounds for dimension {k} with size {size}")
        if (a < 0).any():
            plan.arrays[k] = (dim, np.where(a < 0, a + size, a))


def _advanced_index(plan: _Plan) -> tuple:
    """The NumPy index of the advanced part, over the basic result (no ints, Nones or bools:
    NumPy places the broadcast dims exactly as torch does)."""
    index: list[Any] = [slice(None)] * len(plan.shape)
    for dim, a in plan.arrays:
        index[dim] = a
    return tuple(index)


def normalize_index(index: Any, shape: tuple) -> tuple:
    """The NumPy index that selects, from an array of ``shape``, what torch's ``x[index]`` selects.

    ``index`` is anything torch accepts: ints, slices (positive steps), None, Ellipsis, bools,
    lists, NumPy arrays and Tensors (integer or boolean), alone or in a tuple. Errors are torch's
    (IndexError for out-of-range indices and mask shapes, ValueError for slice steps). The result
    reads and writes alike: ``a[idx]`` is torch's ``x[index]`` and ``a[idx] = v`` is torch's
    ``x[index] = v`` (NumPy broadcasting ``v`` the same way). Without integer arrays or masks it
    is a basic index (ints, slices, None), so ``a[idx]`` is a view; with them, every input dim gets
    an integer array laid out in torch's result order (torch applies the basic part first, which
    NumPy's placement rules for mixed indices would not reproduce).
    """
    plan, _ = _plan(index, tuple(shape))
    if not plan.arrays:
        return tuple(plan.basic)
    return _composed_index(plan, len(shape))


def _composed_index(plan: _Plan, ndim: int) -> tuple:
    groups = [dim for dim, _ in plan.arrays]
    adjacent = groups == list(range(groups[0], groups[0] + len(groups)))  # torch keeps them in place
    bshape = np.broadcast_shapes(*(a.shape for _, a in plan.arrays))
    others = [j for j in range(len(plan.vdims)) if j not in set(groups)]
    before = [j for j in others if adjacent and j < groups[0]]
    after = [j for j in others if j not in before]
    rank = len(others) + len(bshape)
    at_b = len(before)  # first axis of the broadcast dims in the result
    axis_of = {j: i for i, j in enumerate(before)} | {j: at_b + len(bshape) + i for i, j in enumerate(after)}
    if ndim == 0:  # only new axes: NumPy's own bool scalar gives the broadcast dim
        keep = all(a.size for _, a in plan.arrays)
        return (None,) * at_b + (np.bool_(keep),) + (None,) * len(after)
    index: list[Any] = [None] * ndim
    for d, i in plan.ints.items():
        index[d] = np.intp(i)
    for j in others:
        desc = plan.vdims[j]
        if desc[0] == "in":
            _, d, start, step, size = desc
            layout = [1] * rank
            layout[axis_of[j]] = size
            index[d] = (start + step * np.arange(size)).reshape(layout)
    spread = None  # broadcast dims that come from new axes (bool entries) only
    for j, a in plan.arrays:
        layout = (1,) * at_b + (1,) * (len(bshape) - a.ndim) + a.shape + (1,) * (rank - at_b - len(bshape))
        desc = plan.vdims[j]
        if desc[0] == "in":
            _, d, start, step, _ = desc
            index[d] = (start + step * a).reshape(layout)
        else:
            zeros = np.zeros(layout, np.intp)
            spread = zeros if spread is None else spread + zeros
    if spread is not None:
        index[0] = index[0] + spread
    return tuple(index)


# -- getitem ---------------------------------------------------------------------------------------


class BasicIndex(Function):
    """A view by basic indexing (select or slice); backward places the gradient in zeros."""

    @staticmethod
    def forward(ctx, a, index, embed_name):
        ctx.in_shape, ctx.index, ctx.embed_name = a.shape, index, embed_name
        return a[index]

    @staticmethod
    def backward(ctx, g):
        if type(g) is np.ndarray:
            return Embed.forward(_Scratch(), g, ctx.in_shape, ctx.index)
        return apply(Embed, ctx.embed_name, (g,), shape=ctx.in_shape, index=ctx.index)

    @staticmethod
    def jvp(ctx, t):
        return t[ctx.index]


class Embed(Function):
    """Zeros of ``shape`` with the input at ``index``: the backward of a basic-index view."""

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.shape, ctx.index = shape, index
        out = np.zeros(shape, g.dtype)
        out[index] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        name = "SelectBackward0" if any(type(i) is int for i in ctx.index) else "SliceBackward0"
        if type(gg) is np.ndarray:
            return gg[ctx.index]
        return apply(BasicIndex, name, (gg,), index=ctx.index, embed_name=type(ctx).__name__)

    @staticmethod
    def jvp(ctx, t):
        return Embed.forward(_Scratch(), t, ctx.shape, ctx.index)


class Index(Function):
    """Advanced indexing (a copy); backward accumulates, so repeated indices add up."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.in_shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, g):
        if type(g) is np.ndarray:
            return IndexPut.forward(_Scratch(), g, ctx.in_shape, ctx.index)
        return apply(IndexPut, "IndexPutImplBackward0", (g,), shape=ctx.in_shape, index=ctx.index)

    @staticmethod
    def jvp(ctx, t):
        return t[ctx.index]


class IndexPut(Function):
    """Zeros of ``shape`` plus the input accumulated at ``index`` (index_put_ with accumulate)."""

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.shape, ctx.index = shape, index
        out = np.zeros(shape, g.dtype)
        np.add.at(out, index, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        if type(gg) is np.ndarray:
            return gg[ctx.index]
        return apply(Index, "IndexBackward0", (gg,), index=ctx.index)

    @staticmethod
    def jvp(ctx, t):
        return IndexPut.forward(_Scratch(), t, ctx.shape, ctx.index)


def _select(input, dim: int, i: int):
    index = (slice(None),) * dim + (i, Ellipsis)  # Ellipsis: a 0-d view, not a NumPy scalar
    return apply(BasicIndex, "SelectBackward0", (input,), index=index, embed_name="SelectBackwardBackward0")


def _slice(input, dim: int, s: slice):
    index = (slice(None),) * dim + (s, Ellipsis)
    return apply(BasicIndex, "SliceBackward0", (input,), index=index, embed_name="SliceBackwardBackward0")


def getitem(input, index):
    """``x[index]`` with torch's nodes (see the module docstring)."""
    shape = input._data.shape
    if type(index) is int and shape:  # the common case, straight to one select
        size = shape[0]
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {size}")
        return _select(input, 0, index)
    plan, is_tuple = _plan(index, shape)
    if index is Ellipsis or (is_tuple and not plan.steps and not plan.arrays):
        return apply(shapes.Alias, "AliasBackward0", (input,))
    result = input
    for step in plan.steps:
        if step[0] == "select":
            result = _select(result, step[1], step[2])
        elif step[0] == "slice":
            result = _slice(result, step[1], step[2])
        else:
            result = shapes.unsqueeze(result, step[1])
    if plan.arrays:
        result = apply(Index, "IndexBackward0", (result,), index=_advanced_index(plan))
    return result


# -- index_select, index_add (its backward) ---------------------------------------------------------


def _index_data(index: Any, op: str, dtype_message: str) -> np.ndarray:
    data = getattr(index, "_data", None)
    if data is None:
        data = np.asarray(index)
    if data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): {dtype_message}")
    return data.astype(np.int64, copy=False)


class IndexSelect(Function):
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
        return IndexAdd.forward(_Scratch(), t, ctx.dim, ctx.index, ctx.size)


def index_add_any(g: Any, dim: int, index: np.ndarray, size: int) -> Any:
    """The backward of taking ``index`` along ``dim`` (array, or Tensor under create_graph)."""
    if type(g) is np.ndarray:
        return IndexAdd.forward(_Scratch(), g, dim, index, size)
    return apply(IndexAdd, "IndexAddBackward0", (g,), dim=dim, index=index, size=size)


class _Scratch:
    """A throwaway ctx for calling a forward rule directly on arrays."""


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
    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.in_shape, ctx.dim, ctx.index = a.shape, dim, index
        return a.reshape(a.shape or (1,))[_grid(index.reshape(index.shape or (1,)), dim)].reshape(index.shape)

    @staticmethod
    def backward(ctx, g):
        if type(g) is np.ndarray:
            return ScatterAdd.forward(_Scratch(), np.zeros(ctx.in_shape, g.dtype), g, ctx.dim, ctx.index)
        zeros = type(g)._make(np.zeros(ctx.in_shape, g._data.dtype))
        return apply(ScatterAdd, "ScatterAddBackward0", (zeros, g), dim=ctx.dim, index=ctx.index)

    @staticmethod
    def jvp(ctx, t):
        return Gather.forward(ctx, t, ctx.dim, ctx.index)


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, a, src, dim, index):
        ctx.dim, ctx.index, ctx.src_shape, ctx.shape = dim, index, src.shape, a.shape
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
                g_src = Gather.forward(_Scratch(), g, ctx.dim, ctx.index)
            else:
                g_src = apply(Gather, "GatherBackward0", (g,), dim=ctx.dim, index=ctx.index)
        return g, g_src

    @staticmethod
    def jvp(ctx, t_self, t_src):
        spread = None
        if t_src is not None:
            zeros = np.zeros(ctx.shape, t_src.dtype)
            spread = ScatterAdd.forward(_Scratch(), zeros, t_src, ctx.dim, ctx.index)
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


def gather(input, dim, index, *, sparse_grad=False):
    data = _index_data(index, "gather", "Expected dtype int32/int64 for index")
    shape = input._data.shape
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
    _check_index_shape(data, shape, "self")
    _check_index_shape(data, src_shape, "src")
    if any((d != axis and n > m) or n > s for d, (n, m, s) in enumerate(zip(data.shape, shape, src_shape))):
        raise RuntimeError(
            f"Expected index {list(data.shape)} to be no larger than self {list(shape)} apart from dimension "
            f"{axis} and to be no larger size than src {list(src_shape)}"
        )
    _check_bounds(data, shape[axis] if shape else 1, axis)
    return apply(ScatterAdd, "ScatterAddBackward0", (input, src), dim=axis, index=data)


# -- masked_fill -------------------------------------------------------------------------------------


class MaskedFill(Function):  # the value is a Python scalar
    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.mask = mask
        return np.where(mask, np.asarray(value, a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        from reference.autograd import arrayops as xp

        return xp.where(ctx.mask, 0.0, g)

    @staticmethod
    def jvp(ctx, t):
        return np.where(ctx.mask, 0.0, t)


class MaskedFillTensor(Function):  # the value is a 0-d tensor, differentiable too
    @staticmethod
    def forward(ctx, a, value, mask):
        ctx.mask = mask
        return np.where(mask, value.astype(a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        from reference.autograd import arrayops as xp

        g_value = xp.where(ctx.mask, g, 0.0) if ctx.needs_input_grad[1] else None
        return xp.where(ctx.mask, 0.0, g), g_value

    @staticmethod
    def jvp(ctx, t_self, t_value):
        t_self = 0.0 if t_self is None else t_self
        return np.where(ctx.mask, 0.0 if t_value is None else t_value, t_self)


_TORCH_DTYPE_NAMES = {"float32": "float", "float64": "double", "int64": "long int"}


def masked_fill(input, mask, value):
    """``value`` where ``mask`` (bool, broadcast with the input) is True; the input elsewhere."""
    mask_data = getattr(mask, "_data", mask)
    if mask_data.dtype != np.bool_:
        name = _TORCH_DTYPE_NAMES.get(mask_data.dtype.name, mask_data.dtype.name)
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {name}")
    _check_broadcast(mask_data.shape, input._data.shape)
    if hasattr(value, "_data"):
        if value._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s)."
            )
        return apply(MaskedFillTensor, "MaskedFillBackward1", (input, value), mask=mask_data)
    return apply(MaskedFill, "MaskedFillBackward0", (input,), mask=mask_data, value=value)


def _check_broadcast(a: tuple, b: tuple) -> None:
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and a[-i] != 1 and b[-i] != 1:
            raise RuntimeError(
                f"The size of tensor a ({a[-i]}) must match the size of tensor b ({b[-i]}) at non-singleton "
                f"dimension {max(len(a), len(b)) - i}"
            )


# Top-level functions and Tensor methods of this family.
__all__ = ["gather", "index_select", "masked_fill", "normalize_index", "scatter_add"]
METHODS = {
    "__getitem__": getitem, "index_select": index_select, "gather": gather, "scatter_add": scatter_add,
    "masked_fill": masked_fill,
}  # fmt: skip
