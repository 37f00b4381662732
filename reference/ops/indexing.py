"""Indexing ops, the family: ``x[index]`` (basic and advanced) and masked_fill here; index_select,
gather and scatter_add in ``indexing_dim``; index_add, index_copy, index_fill and scatter in
``scatter``; scatter_reduce in ``scatter_reduce``; take, put, masked_select, masked_scatter,
index_put and take_along_dim in ``index_flat``; reading a torch-style index in ``indexing_plan``.

``x[index]`` records what torch records: one node per basic step, in index order (ints ->
SelectBackward0, slices -> SliceBackward0, None -> UnsqueezeBackward0; a no-op -> AliasBackward0),
then one IndexBackward0 for the advanced part (integer lists/arrays/tensors, boolean masks).
``normalize_index`` turns the same torch-style index into one NumPy index (for ``__setitem__``).
"""

from __future__ import annotations

import numpy as np

from reference.autograd.function import Function, apply
from reference.ops import shape as shapes
from reference.ops.index_flat import index_put, masked_scatter, masked_select, put, take, take_along_dim
from reference.ops.indexing_dim import Scratch, gather, index_select, scatter_add
from reference.ops.indexing_dim import index_add_any as index_add_any
from reference.ops.indexing_plan import _advanced_index, _plan, normalize_index
from reference.ops.scatter import index_add, index_copy, index_fill, scatter
from reference.ops.scatter_reduce import scatter_reduce

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
            return Embed.forward(Scratch(), g, ctx.in_shape, ctx.index)
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
        return Embed.forward(Scratch(), t, ctx.shape, ctx.index)


class Index(Function):
    """Advanced indexing (a copy); backward accumulates, so repeated indices add up."""

    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, index):
        ctx.in_shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, g):
        if type(g) is np.ndarray:
            return IndexPut.forward(Scratch(), g, ctx.in_shape, ctx.index)
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
        return IndexPut.forward(Scratch(), t, ctx.shape, ctx.index)


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


# -- masked_fill -------------------------------------------------------------------------------------


class MaskedFill(Function):  # the value is a Python scalar
    saved_attributes = ("mask",)

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
    saved_attributes = ("mask",)

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
__all__ = [
    "gather", "index_add", "index_copy", "index_fill", "index_put", "index_select", "masked_fill", "masked_scatter",
    "masked_select", "normalize_index", "put", "scatter", "scatter_add", "scatter_reduce", "take", "take_along_dim",
]  # fmt: skip
METHODS = {
    "__getitem__": getitem, "index_select": index_select, "gather": gather, "scatter_add": scatter_add,
    "masked_fill": masked_fill, "index_add": index_add, "index_copy": index_copy, "index_fill": index_fill,
    "index_put": index_put, "masked_scatter": masked_scatter, "masked_select": masked_select, "put": put,
    "scatter": scatter, "scatter_reduce": scatter_reduce, "take": take, "take_along_dim": take_along_dim,
}  # fmt: skip
