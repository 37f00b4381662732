"""Indexing by flat positions, masks and index tuples: take and put (the flattened input),
masked_select and masked_scatter (a boolean mask, broadcast), index_put (a tuple of index
tensors, with or without accumulate) and take_along_dim (gather after broadcasting)."""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.indexing_dim import Scratch, _index_data
from reference.ops.operands import normalize_dim

# -- take and put ------------------------------------------------------------------------------------


def _take_any(g, index):
    if type(g) is np.ndarray:
        return g.reshape(-1)[index]
    return apply(Take, "TakeBackward0", (g,), index=index)


class Take(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, index):
        ctx.index, ctx.shape = index, a.shape
        return a.reshape(-1)[index]

    @staticmethod
    def backward(ctx, g):
        if type(g) is np.ndarray:
            return Put.forward(Scratch(), np.zeros(ctx.shape, g.dtype), g, ctx.index, True)
        zeros = type(g)._make(np.zeros(ctx.shape, g._data.dtype))
        return apply(Put, "PutBackward0", (zeros, g), index=ctx.index, accumulate=True)

    @staticmethod
    def jvp(ctx, t):
        return t.reshape(-1)[ctx.index]


class Put(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, src, index, accumulate):
        ctx.index, ctx.accumulate, ctx.src_shape, ctx.shape = index, accumulate, src.shape, a.shape
        out = a.reshape(-1).copy()
        if accumulate:
            np.add.at(out, index.reshape(-1), src.reshape(-1))
        else:
            out[index.reshape(-1)] = src.reshape(-1)
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        g_src = _take_any(g, ctx.index).reshape(ctx.src_shape) if ctx.needs_input_grad[1] else None
        g_self = g
        if not ctx.accumulate and ctx.needs_input_grad[0]:
            if type(g) is np.ndarray:
                g_self = Put.forward(Scratch(), g, np.zeros(ctx.src_shape, g.dtype), ctx.index, False)
            else:
                zeros = type(g)._make(np.zeros(ctx.src_shape, g._data.dtype))
                g_self = apply(Put, "PutBackward0", (g, zeros), index=ctx.index, accumulate=False)
        return g_self, g_src

    @staticmethod
    def jvp(ctx, t_self, t_src):
        like = t_self if t_self is not None else t_src
        base = np.zeros(ctx.shape, like.dtype) if t_self is None else t_self
        src = np.zeros(ctx.src_shape, like.dtype) if t_src is None else t_src
        return Put.forward(Scratch(), base, src, ctx.index, ctx.accumulate)


def _flat_index(input, index, op: str) -> np.ndarray:
    data = _index_data(index, op, "Expected a long tensor for index, but got Float")
    size = input._data.size
    bad = (data < -size) | (data >= size)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {data[bad].flat[0]} on a tensor of {size} elements.")
    return np.where(data < 0, data + size, data)


def take(input, index):
    return apply(Take, "TakeBackward0", (input,), index=_flat_index(input, index, "take"))


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long"}


def _type_name(x) -> str:
    return _TYPE_NAMES.get(x._data.dtype.name, x._data.dtype.name)


def put(input, index, source, accumulate=False):
    if input._data.dtype != source._data.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{_type_name(input)} and source.dtype = {_type_name(source)}"
        )
    data = _flat_index(input, index, "put")
    if data.size != source._data.size:
        raise RuntimeError(
            f"put_(): Expected source and index to have the same number of elements, but got source.numel() = "
            f"{source._data.size}, index.numel() = {data.size}"
        )
    return apply(Put, "PutBackward0", (input, source), index=data, accumulate=bool(accumulate))


# -- masked_select and masked_scatter ----------------------------------------------------------------


class MaskedScatter(Function):
    saved_attributes = ("mask",)

    @staticmethod
    def forward(ctx, a, src, mask):
        ctx.mask, ctx.src_shape, ctx.shape = mask, src.shape, mask.shape
        out = np.broadcast_to(a, mask.shape).copy()
        out[mask] = src.reshape(-1)[: int(mask.sum())]
        return out

    @staticmethod
    def backward(ctx, g):
        g_self = xp.where(ctx.mask, 0.0, g) if ctx.needs_input_grad[0] else None
        g_src = None
        if ctx.needs_input_grad[1]:
            size, count = int(np.prod(ctx.src_shape)), int(ctx.mask.sum())
            if type(g) is np.ndarray:
                g_src = np.zeros(size, g.dtype)
                g_src[:count] = g[ctx.mask]
            else:
                from reference.ops.shape_join import cat

                picked = apply(MaskedSelect, "MaskedSelectBackward0", (g,), mask=ctx.mask)
                g_src = cat([picked, type(g)._make(np.zeros(size - count, g._data.dtype))])
            g_src = g_src.reshape(ctx.src_shape)
        return g_self, g_src

    @staticmethod
    def jvp(ctx, t_self, t_src):
        like = t_self if t_self is not None else t_src
        base = np.zeros(ctx.shape, like.dtype) if t_self is None else t_self
        src = np.zeros(ctx.src_shape, like.dtype) if t_src is None else t_src
        return MaskedScatter.forward(Scratch(), base, src, ctx.mask)


class MaskedSelect(Function):
    """The elements where ``mask`` (already broadcast to the input's shape, or beyond) is True."""

    saved_attributes = ("mask",)

    @staticmethod
    def forward(ctx, a, mask):
        ctx.mask = mask
        return np.broadcast_to(a, mask.shape)[mask]

    @staticmethod
    def backward(ctx, g):  # in the mask's shape: the engine sums it back to the input's
        if type(g) is np.ndarray:
            out = np.zeros(ctx.mask.shape, g.dtype)
            out[ctx.mask] = g
            return out
        zeros = type(g)._make(np.zeros(ctx.mask.shape, g._data.dtype))
        return apply(MaskedScatter, "MaskedScatterBackward0", (zeros, g), mask=ctx.mask)

    @staticmethod
    def jvp(ctx, t):
        return np.broadcast_to(t, ctx.mask.shape)[ctx.mask]


def _bool_mask(mask, op: str) -> np.ndarray:
    data = getattr(mask, "_data", mask)
    if data.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected BoolTensor for mask")
    return data


def masked_select(input, mask):
    from reference.ops.indexing import _check_broadcast

    data = _bool_mask(mask, "masked_select")
    _check_broadcast(data.shape, input._data.shape)  # torch's words: the mask is tensor a
    shape = np.broadcast_shapes(input._data.shape, data.shape)
    return apply(MaskedSelect, "MaskedSelectBackward0", (input,), mask=np.broadcast_to(data, shape).copy())


def masked_scatter(input, mask, source):
    """A mask of more dims than the input broadcasts it (the gradient is summed back by the engine)."""
    from reference.ops.indexing import _check_broadcast

    data = _bool_mask(mask, "masked_scatter_")
    _check_broadcast(data.shape, input._data.shape)
    shape = np.broadcast_shapes(input._data.shape, data.shape)
    if input._data.dtype != source._data.dtype:
        raise RuntimeError(
            f"masked_scatter: expected self and source to have same dtypes but got{_type_name(input)} and "
            f"{_type_name(source)}"
        )
    mask_full = np.broadcast_to(data, shape).copy()
    if source._data.size < mask_full.sum():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return apply(MaskedScatter, "MaskedScatterBackward0", (input, source), mask=mask_full)


# -- index_put -------------------------------------------------------------------------------------


class IndexPut(Function):
    """``self`` with ``values`` (broadcast to the indexed shape) put or added at ``indices``."""

    saved_attributes = ("indices",)

    @staticmethod
    def forward(ctx, a, values, indices, accumulate):
        ctx.indices, ctx.accumulate, ctx.shape, ctx.values_shape = indices, accumulate, a.shape, values.shape
        out = a.copy()
        target = out[indices].shape
        if accumulate:
            np.add.at(out, indices, np.broadcast_to(values, target))
        else:
            out[indices] = np.broadcast_to(values, target)
        return out

    @staticmethod
    def backward(ctx, g):
        from reference.ops.indexing import Index

        g_values = None
        if ctx.needs_input_grad[1]:
            g_values = (
                g[ctx.indices] if type(g) is np.ndarray else apply(Index, "IndexBackward0", (g,), index=ctx.indices)
            )
        g_self = g
        if not ctx.accumulate and ctx.needs_input_grad[0]:
            zero = np.zeros((), g.dtype if type(g) is np.ndarray else g._data.dtype)
            if type(g) is np.ndarray:
                g_self = IndexPut.forward(Scratch(), g, zero, ctx.indices, False)
            else:
                g_self = apply(IndexPut, "IndexPutBackward0", (g, type(g)._make(zero)), indices=ctx.indices,
                               accumulate=False)  # fmt: skip
        return g_self, g_values

    @staticmethod
    def jvp(ctx, t_self, t_values):
        like = t_self if t_self is not None else t_values
        base = np.zeros(ctx.shape, like.dtype) if t_self is None else t_self
        values = np.zeros(ctx.values_shape, like.dtype) if t_values is None else t_values
        return IndexPut.forward(Scratch(), base, values, ctx.indices, ctx.accumulate)


def index_put(input, indices, values, accumulate=False):
    """``indices``: a tuple of integer (or boolean) tensors, one per leading dim."""
    if input._data.dtype != values._data.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {_type_name(input)} for the "
            f"destination and {_type_name(values)} for the source."
        )
    arrays = tuple(getattr(i, "_data", np.asarray(i)) for i in indices)
    for a in arrays:
        if a.dtype.kind not in "iub":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    try:
        target = input._data[arrays].shape
    except IndexError as exc:
        raise IndexError(str(exc)) from None
    np.broadcast_shapes(values._data.shape, target)  # values must broadcast to what they replace
    return apply(IndexPut, "IndexPutBackward0", (input, values), indices=arrays, accumulate=bool(accumulate))


# -- take_along_dim ----------------------------------------------------------------------------------


def take_along_dim(input, indices, dim=None):
    """gather after broadcasting input and indices against each other except along ``dim``
    (torch expands both, so an ExpandBackward0 is always recorded); no dim: the flattened input."""
    from reference.ops.indexing_dim import gather
    from reference.ops.shape_views import expand, reshape

    data = _index_data(
        indices, "take_along_dim", "torch.take_along_dim(): dtype of indices should be Long but got Float"
    )
    if dim is None:
        return gather(reshape(input, -1), 0, data.reshape(-1))
    shape = input._data.shape
    if len(shape) != data.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{len(shape)} dimensions for input, and {data.ndim} dimensions for indices"
        )
    axis = normalize_dim(dim, len(shape))
    try:
        common = list(np.broadcast_shapes(_without(shape, axis), _without(data.shape, axis)))
    except ValueError:
        a, b = _without(shape, axis), _without(data.shape, axis)
        bad = next(d for d in range(len(a)) if a[d] != b[d] and 1 not in (a[d], b[d]))
        raise RuntimeError(
            f"The size of tensor a ({a[bad]}) must match the size of tensor b ({b[bad]}) at non-singleton "
            f"dimension {bad}"
        ) from None
    input = expand(input, (*common[:axis], shape[axis], *common[axis + 1 :]))
    index = np.broadcast_to(data, (*common[:axis], data.shape[axis], *common[axis + 1 :])).copy()
    return gather(input, axis, index)


def _without(shape: tuple, axis: int) -> tuple:
    return (*shape[:axis], 1, *shape[axis + 1 :])
