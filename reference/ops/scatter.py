"""Writing into a tensor along one dim: index_add (alpha), index_copy, index_fill and scatter (a src
tensor or a value); scatter_reduce is in ``scatter_reduce``. Backward rules run on arrays, or on
Tensors under create_graph (then each step is an engine op).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd.function import Function, apply, sum_tangents
from reference.ops.indexing_dim import (
    Gather,
    IndexAdd,
    IndexSelect,
    Scratch,
    _check_bounds,
    _check_index_shape,
    _grid,
    _index_data,
    _replace,
)
from reference.ops.operands import normalize_dim

# -- helpers that work on arrays and on Tensors (create_graph) ----------------------------------


def _along(dim: int, index: np.ndarray) -> tuple:
    return (slice(None),) * dim + (index,)


def take_dim(g: Any, dim: int, index: np.ndarray) -> Any:
    """index_select along ``dim``."""
    if type(g) is np.ndarray:
        return np.take(g, index, axis=dim)
    return apply(IndexSelect, "IndexSelectBackward0", (g,), dim=dim, index=index)


def fill_dim(g: Any, dim: int, index: np.ndarray, value: float) -> Any:
    """index_fill along ``dim`` with a scalar."""
    if type(g) is np.ndarray:
        return IndexFill.forward(Scratch(), g, dim, index, value)
    return apply(IndexFill, "IndexFillBackward0", (g,), dim=dim, index=index, value=value)


def gather_any(g: Any, dim: int, index: np.ndarray) -> Any:
    if type(g) is np.ndarray:
        return Gather.forward(Scratch(), g, dim, index)
    return apply(Gather, "GatherBackward0", (g,), dim=dim, index=index)


def scatter_value_any(g: Any, dim: int, index: np.ndarray, value: float) -> Any:
    if type(g) is np.ndarray:
        return ScatterValue.forward(Scratch(), g, dim, index, value)
    return apply(ScatterValue, "ScatterBackward1", (g,), dim=dim, index=index, value=value)


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape or (1,))


# -- index_add, index_copy, index_fill -----------------------------------------------------------


class IndexAddInto(Function):
    """``self`` plus ``alpha * source``'s slices added at ``index`` along ``dim``."""

    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, src, dim, index, alpha):
        ctx.dim, ctx.index, ctx.alpha, ctx.src_shape, ctx.size = dim, index, alpha, src.shape, _flat(a).shape[dim]
        out = _flat(a).copy()
        np.add.at(
            out, _along(dim, index), (src if alpha == 1 else alpha * src).reshape(_replace(out.shape, dim, index.size))
        )
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        g_src = None
        if ctx.needs_input_grad[1]:
            g_src = take_dim(g.reshape(g.shape or (1,)), ctx.dim, ctx.index)
            g_src = (g_src if ctx.alpha == 1 else g_src * ctx.alpha).reshape(ctx.src_shape)
        return g, g_src

    @staticmethod
    def jvp(ctx, t_self, t_src):
        spread = None
        if t_src is not None:
            t = _flat(t_src if ctx.alpha == 1 else ctx.alpha * t_src)
            spread = IndexAdd.forward(
                Scratch(), t.reshape(_replace(t.shape, ctx.dim, ctx.index.size)), ctx.dim, ctx.index, ctx.size
            )
        return sum_tangents(t_self, spread)


class IndexCopy(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, src, dim, index):
        ctx.dim, ctx.index, ctx.src_shape, ctx.shape = dim, index, src.shape, a.shape
        out = _flat(a).copy()
        out[_along(dim, index)] = src.reshape(_replace(out.shape, dim, index.size))
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        g_src = None
        if ctx.needs_input_grad[1]:
            g_src = take_dim(g.reshape(g.shape or (1,)), ctx.dim, ctx.index).reshape(ctx.src_shape)
        g_self = fill_dim(g, ctx.dim, ctx.index, 0.0) if ctx.needs_input_grad[0] else None
        return g_self, g_src

    @staticmethod
    def jvp(ctx, t_self, t_src):
        like = t_self if t_self is not None else t_src
        base = np.zeros(ctx.shape, like.dtype) if t_self is None else t_self
        src = np.zeros(ctx.src_shape, like.dtype) if t_src is None else t_src
        return IndexCopy.forward(Scratch(), base, src, ctx.dim, ctx.index)


class IndexFill(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, dim, index, value):
        ctx.dim, ctx.index = dim, index
        out = _flat(a).copy()
        out[_along(dim, index)] = value
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        return fill_dim(g, ctx.dim, ctx.index, 0.0)

    @staticmethod
    def jvp(ctx, t):
        return IndexFill.forward(Scratch(), t, ctx.dim, ctx.index, 0.0)


class IndexFillTensor(Function):
    """index_fill with a 0-d tensor value, which gets the gradient of every filled element."""

    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, value, dim, index):
        ctx.dim, ctx.index, ctx.shape = dim, index, a.shape
        return IndexFill.forward(Scratch(), a, dim, index, value.astype(a.dtype))

    @staticmethod
    def backward(ctx, g):
        g_value = None
        if ctx.needs_input_grad[1]:
            unique = np.unique(ctx.index)  # a repeated index fills (and counts) once
            g_value = take_dim(g.reshape(g.shape or (1,)), ctx.dim, unique).sum()
        return fill_dim(g, ctx.dim, ctx.index, 0.0), g_value

    @staticmethod
    def jvp(ctx, t_self, t_value):
        base = np.zeros(ctx.shape, t_value.dtype) if t_self is None else t_self
        return IndexFill.forward(Scratch(), base, ctx.dim, ctx.index, 0.0 if t_value is None else t_value)


def _dim_index(input, dim, index, op: str, negative: bool = False) -> tuple[int, np.ndarray]:
    """The dim and index along it; only index_fill takes negative indices (torch's errors differ)."""
    data = _index_data(index, op, "Expected dtype int32/int64 for index")
    if data.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    data = data.reshape(-1)
    shape = input._data.shape
    axis = normalize_dim(dim, len(shape))
    size = shape[axis] if shape else 1
    bad = (data < (-size if negative else 0)) | (data >= size)
    if bad.any():
        message = f"index {data[bad][0]} is out of bounds for dimension {axis} with size {size}"
        if op == "index_add":
            raise RuntimeError(message)
        raise IndexError(f"index_copy_(): {message}" if op == "index_copy" else message)
    return axis, np.where(data < 0, data + size, data)


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long"}


def _type_name(x) -> str:
    return _TYPE_NAMES.get(x._data.dtype.name, x._data.dtype.name)


def _check_source(input, source, dim, index, op: str) -> None:
    """torch's checks of index_add/index_copy's source, in its order and words: dtype, shape, count."""
    shape, src_shape = input._data.shape, source._data.shape
    axis = normalize_dim(dim, len(shape))
    count = np.size(getattr(index, "_data", index))
    if input._data.dtype != source._data.dtype:
        if op == "index_add":
            raise RuntimeError(
                f"index_add_(): self ({_type_name(input)}) and source ({_type_name(source)}) must have the same "
                "scalar type"
            )
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{_type_name(input)} and (source) {_type_name(source)}"
        )
    if not shape or not src_shape:
        return  # scalars: torch takes one element
    if op == "index_copy":
        if len(shape) != len(src_shape):
            raise IndexError(
                "index_copy_(): When source and destination are not scalars, their dimensionality must match. "
                f"Source dimensionality ({len(src_shape)}), destination dimensionality ({len(shape)})"
            )
        rest, src_rest = shape[:axis] + shape[axis + 1 :], src_shape[:axis] + src_shape[axis + 1 :]
        if rest != src_rest:  # torch's words: the slice shapes, at self's dim and at source's dim 0
            raise RuntimeError(
                "index_copy_(): Source/destination tensor must have same slice shapes. Destination slice shape: "
                f"{' '.join(map(str, rest))} at dimension {axis} and source slice shape: "
                f"{' '.join(map(str, src_rest))} at dimension 0."
            )
        if count != src_shape[axis]:
            raise IndexError(
                f"index_copy_(): Number of indices ({count}) should be equal to source.size(dim) ({src_shape[axis]})"
            )
        return
    if len(src_shape) == len(shape) and count != src_shape[axis]:
        raise RuntimeError(
            f"index_add_(): Number of indices ({count}) should be equal to source.size(dim): ({src_shape[axis]}), "
            f"for dim: {axis}"
        )
    if _replace(shape, axis, 0) != _replace(src_shape, axis, 0) or len(shape) != len(src_shape):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = "
            f"{list(shape)} source.shape = {list(src_shape)}"
        )


def index_add(input, dim, index, source, *, alpha=1):
    _check_source(input, source, dim, index, "index_add")
    axis, data = _dim_index(input, dim, index, "index_add")
    return apply(IndexAddInto, "IndexAddBackward0", (input, source), dim=axis, index=data, alpha=alpha)


def index_copy(input, dim, index, source):
    _check_source(input, source, dim, index, "index_copy")
    axis, data = _dim_index(input, dim, index, "index_copy")
    return apply(IndexCopy, "IndexCopyBackward0", (input, source), dim=axis, index=data)


def index_fill(input, dim, index, value):
    if hasattr(value, "_data") and value._data.ndim:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} "
            "dimension(s)."
        )
    axis, data = _dim_index(input, dim, index, "index_fill", negative=True)
    if hasattr(value, "_data"):
        return apply(IndexFillTensor, "IndexFillBackward1", (input, value), dim=axis, index=data)
    return apply(IndexFill, "IndexFillBackward0", (input,), dim=axis, index=data, value=value)


# -- scatter (src, value) --------------------------------------------------------------------------


def check_src_gradient(index_shape: tuple, src_shape: tuple, node: str) -> None:
    """torch's engine rejects a src gradient (index-shaped) that does not reduce to src's shape."""
    expandable = len(src_shape) <= len(index_shape) and all(
        s in (i, 1) for s, i in zip(reversed(src_shape), reversed(index_shape))
    )
    if not expandable:
        raise RuntimeError(
            f"Function {node} returned an invalid gradient at index 1 - got {list(index_shape)} but expected shape "
            f"compatible with {list(src_shape)}"
        )


def _src_part(src: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The elements of ``src`` that ``index`` addresses (its leading block of index's shape)."""
    return _flat(src)[tuple(slice(0, n) for n in _flat(index).shape)]


class ScatterSrc(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, src, dim, index):
        ctx.dim, ctx.index, ctx.src_shape, ctx.shape = dim, index, src.shape, a.shape
        out = _flat(a).copy()
        if index.size:
            out[_grid(_flat(index), dim)] = _src_part(src, index)
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        if ctx.needs_input_grad[1]:
            check_src_gradient(ctx.index.shape, ctx.src_shape, "ScatterBackward0")
        g_src = gather_any(g, ctx.dim, ctx.index) if ctx.needs_input_grad[1] else None
        g_self = scatter_value_any(g, ctx.dim, ctx.index, 0.0) if ctx.needs_input_grad[0] else None
        return g_self, g_src

    @staticmethod
    def jvp(ctx, t_self, t_src):
        like = t_self if t_self is not None else t_src
        base = np.zeros(ctx.shape, like.dtype) if t_self is None else t_self
        return ScatterSrc.forward(Scratch(), base, np.zeros(ctx.src_shape, like.dtype) if t_src is None else t_src,
                                  ctx.dim, ctx.index)  # fmt: skip


class ScatterValue(Function):
    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, dim, index, value):
        ctx.dim, ctx.index = dim, index
        out = _flat(a).copy()
        if index.size:
            out[_grid(_flat(index), dim)] = value
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        return scatter_value_any(g, ctx.dim, ctx.index, 0.0)

    @staticmethod
    def jvp(ctx, t):
        return ScatterValue.forward(Scratch(), t, ctx.dim, ctx.index, 0.0)


def _scatter_checks(input, dim, index, src, op: str) -> tuple[int, np.ndarray]:
    data = _index_data(index, op, "Expected dtype int32/int64 for index")
    shape = input._data.shape
    axis = normalize_dim(dim, len(shape))
    if src is not None and input._data.dtype != src._data.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
    if not data.size:
        return axis, data
    _check_index_shape(data, shape, "self")
    if src is not None:
        _check_index_shape(data, src._data.shape, "src")
    src_shape = data.shape if src is None else src._data.shape  # a value: only self bounds the index
    if any((d != axis and n > m) or n > s for d, (n, m, s) in enumerate(zip(data.shape, shape, src_shape))):
        tail = "" if src is None else f" and to be no larger size than src {list(src_shape)}"
        raise RuntimeError(
            f"Expected index {list(data.shape)} to be no larger than self {list(shape)} apart from dimension {axis}"
            + tail
        )
    _check_bounds(data, shape[axis] if shape else 1, axis)
    return axis, data


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """scatter with a src tensor (ScatterBackward0) or a scalar value (ScatterBackward1)."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is deprecated in torch; use scatter_reduce")
    if src is not None and not hasattr(src, "_data"):
        src, value = None, src
    axis, data = _scatter_checks(input, dim, index, src, "scatter")
    if src is None:
        return apply(ScatterValue, "ScatterBackward1", (input,), dim=axis, index=data, value=value)
    return apply(ScatterSrc, "ScatterBackward0", (input, src), dim=axis, index=data)
