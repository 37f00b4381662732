"""Order statistics: sort, msort, topk, kthvalue, median, cummax/cummin, argmax/argmin.

Every differentiable one picks elements of its input by index (``ValuesAt``): the gradient
goes to the returned indices only (accumulating where cummax repeats one), so at ties it
goes where torch's index points. selection.py reproduces torch's CPU index order at ties.
``median()`` without a dim is the exception: like ``max()``, it splits its gradient evenly
among the elements equal to the median. argmax/argmin return integers and record nothing.
"""

from __future__ import annotations

import numpy as np

from reference.autograd.function import Function, apply
from reference.ops.indexing_dim import Gather, ScatterAdd, Scratch
from reference.ops.operands import normalize_dim
from reference.ops.reduce import selection
from reference.ops.reduce.axes import int_dim, refuse_complex
from reference.ops.reduce.extrema import Extreme, _return_type

return_types = {name: _return_type(name) for name in ("sort", "topk", "kthvalue", "median", "cummax", "cummin")}


class ValuesAt(Function):
    """``a``'s values at ``index`` along ``axis`` (``index`` has ``a``'s rank; a 0-d input is
    seen as one element), reshaped to ``out_shape``; with ``with_indices``, the indices too.
    Backward scatters (adds) the gradient back to those indices; its double backward gathers."""

    saved_attributes = ("index",)

    @staticmethod
    def forward(ctx, a, axis, index, out_shape, with_indices=True):
        ctx.axis, ctx.index, ctx.in_shape, ctx.out_shape = axis, index, a.shape, out_shape
        ctx.with_indices = with_indices
        values = np.take_along_axis(a.reshape(a.shape or (1,)), index, axis).reshape(out_shape)
        return (values, index.reshape(out_shape)) if with_indices else values

    @staticmethod
    def backward(ctx, g, _g_indices=None):
        work = ctx.in_shape or (1,)
        g = g.reshape(ctx.index.shape)
        if type(g) is np.ndarray:
            spread = ScatterAdd.forward(Scratch(), np.zeros(work, g.dtype), g, ctx.axis, ctx.index)
        else:
            zeros = type(g)._make(np.zeros(work, g._data.dtype))
            spread = apply(ScatterAdd, "ScatterAddBackward0", (zeros, g), dim=ctx.axis, index=ctx.index)
        return spread.reshape(ctx.in_shape)

    @staticmethod
    def jvp(ctx, t):
        values = Gather.forward(Scratch(), t.reshape(t.shape or (1,)), ctx.axis, ctx.index).reshape(ctx.out_shape)
        return (values, None) if ctx.with_indices else values


_SORT_REFUSAL = " Sort does not support complex dtypes on CPU"
_COMPLEX_REFUSALS = {
    "sort": _SORT_REFUSAL, "topk": " topk does not support complex dtypes on CPU", "kthvalue": "kthvalue_cpu",
    "median": "median_cpu", "cummax": "cummax_cpu", "cummin": "cummin_cpu",
}  # fmt: skip


def _axis(input, dim, name: str) -> int:
    """The axis of ``dim`` in the input seen with at least one dim (a 0-d tensor as one element)."""
    refuse_complex(input, _COMPLEX_REFUSALS[name])
    return normalize_dim(int_dim(name, dim), input._data.ndim)


def _select(input, name: str, axis: int, index: np.ndarray, out_shape: tuple, kind: str):
    values, indices = apply(ValuesAt, name, (input,), axis=axis, index=index, out_shape=out_shape)
    return return_types[kind](values, indices)


def _squeezed(shape: tuple, axis: int, keepdim: bool) -> tuple:
    if not shape:
        return ()
    return tuple(1 if i == axis else n for i, n in enumerate(shape) if keepdim or i != axis)


# -- sort, msort, topk ------------------------------------------------------------------------------


_UNSET = object()


def sort(input, dim=-1, descending=False, stable=_UNSET):
    """``(values, indices)`` sorted along ``dim`` (SortBackward0; SortBackward1 when ``stable``
    is given, whatever its value); ties in torch's CPU order (stable up to 16 elements;
    ``stable=True`` always)."""
    axis = _axis(input, dim, "sort")
    data = input._data.reshape(input._data.shape or (1,))
    order = selection.stable_order if stable is not _UNSET and stable else selection.sort_order
    index = selection.along(lambda row: order(row, bool(descending)), data, axis, data.shape[axis])
    name = "SortBackward0" if stable is _UNSET else "SortBackward1"
    return _select(input, name, axis, index, input._data.shape, "sort")


def msort(input):
    """Sorted along dim 0: ``sort(input, 0).values`` (SortBackward0)."""
    refuse_complex(input, _SORT_REFUSAL)
    data = input._data.reshape(input._data.shape or (1,))
    index = selection.along(lambda row: selection.sort_order(row, False), data, 0, data.shape[0])
    return apply(ValuesAt, "SortBackward0", (input,), axis=0, index=index, out_shape=input._data.shape,
                 with_indices=False)  # fmt: skip


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) along ``dim`` (TopkBackward0)."""
    axis = _axis(input, dim, "topk")
    data = input._data.reshape(input._data.shape or (1,))
    n = data.shape[axis]
    if not 0 <= int(k) <= n:
        raise RuntimeError("selected index k out of range")
    if not input._data.ndim:  # torch returns a 0-d input itself for k 0 and 1
        return _select(input, "TopkBackward0", 0, np.zeros(1, np.int64), (), "topk")

    def order(row):
        return selection.topk_order(row, int(k), bool(largest), bool(sorted))

    index = selection.along(order, data, axis, int(k))
    out_shape = tuple(int(k) if i == axis else m for i, m in enumerate(input._data.shape))
    return _select(input, "TopkBackward0", axis, index, out_shape, "topk")


# -- kthvalue and median -----------------------------------------------------------------------------


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest along ``dim``, k from 1 (KthvalueBackward0); ties: torch's quickselect."""
    axis = _axis(input, dim, "kthvalue")
    data = input._data.reshape(input._data.shape or (1,))
    if not 1 <= int(k) <= data.shape[axis]:
        raise IndexError(f"kthvalue(): selected number k out of range for dimension {axis}")
    index = selection.along(lambda row: [selection.kth_index(row, int(k))], data, axis, 1)
    return _select(input, "KthvalueBackward0", axis, index, _squeezed(input._data.shape, axis, keepdim), "kthvalue")


def _lower_median(a: np.ndarray) -> np.ndarray:
    flat = a.ravel()
    if np.isnan(flat).any():
        return np.asarray(np.nan, a.dtype)
    return np.sort(flat)[(flat.size - 1) // 2]


def median(input, dim=None, keepdim=False):
    """``median()``: the lower median of all elements, its gradient split evenly among the
    elements equal to it (MedianBackward0); ``median(dim)``: ``(values, indices)``
    (MedianBackward1), the index in a stable order, or the first NaN."""
    refuse_complex(input, "median_cpu")
    if dim is None:
        if input._data.size == 0:
            return apply(Extreme, "MedianBackward0", (input,), reducer=lambda a: np.asarray(np.nan, a.dtype))
        return apply(Extreme, "MedianBackward0", (input,), reducer=_lower_median)
    axis = _axis(input, dim, "median")
    data = input._data.reshape(input._data.shape or (1,))
    if data.shape[axis] == 0:
        raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")
    index = selection.along(lambda row: [selection.median_index(row)], data, axis, 1)
    return _select(input, "MedianBackward1", axis, index, _squeezed(input._data.shape, axis, keepdim), "median")


# -- cummax and cummin --------------------------------------------------------------------------------


def _running_index(a: np.ndarray, axis: int, better) -> np.ndarray:
    """Index of the running extreme: a new element takes over when it is NaN, or when the
    extreme so far is no NaN and ``better(x, extreme)`` (>= for cummax: ties move to the
    latest index, as in torch)."""
    moved = np.moveaxis(a, axis, 0)
    index = np.zeros(moved.shape, np.int64)
    best = moved[0].copy() if moved.shape[0] else None
    current = np.zeros(moved.shape[1:], np.int64)
    for i in range(moved.shape[0]):
        x = moved[i]
        with np.errstate(invalid="ignore"):
            take = np.isnan(x) | (~np.isnan(best) & better(x, best))
        best = np.where(take, x, best)
        current = np.where(take, i, current)
        index[i] = current
    return np.moveaxis(index, 0, axis)


def _cumulative_extreme(input, dim, name: str, better):
    axis = _axis(input, dim, name)
    data = input._data.reshape(input._data.shape or (1,))
    index = _running_index(data, axis, better)
    return _select(input, f"{name.capitalize()}Backward0", axis, index, input._data.shape, name)


def cummax(input, dim):
    """Running maximum and its index (CummaxBackward0); ties take the latest index."""
    return _cumulative_extreme(input, dim, "cummax", np.greater_equal)


def cummin(input, dim):
    """Running minimum and its index (CumminBackward0); ties take the latest index."""
    return _cumulative_extreme(input, dim, "cummin", np.less_equal)


# -- argmax and argmin: integers, not differentiable ---------------------------------------------------


def _arg(input, dim, keepdim, name: str, fn):
    from reference.tensor import Tensor

    refuse_complex(input, f"{name}(): does not support complex input")

    data = input._data
    if dim is None:
        if data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        out = np.asarray(fn(data.ravel()), np.int64)
        return Tensor._make(out.reshape((1,) * data.ndim) if keepdim else out)
    axis = normalize_dim(int_dim(name, dim), data.ndim)
    work = data.reshape(data.shape or (1,))
    if work.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    out = np.expand_dims(fn(work, axis=axis), axis).astype(np.int64)
    return Tensor._make(out.reshape(_squeezed(data.shape, axis, keepdim)))


def argmax(input, dim=None, keepdim=False):
    """Index of the (first) largest element, NaN counting as largest; int64, no gradient."""
    return _arg(input, dim, keepdim, "argmax", np.argmax)


def argmin(input, dim=None, keepdim=False):
    """Index of the (first) smallest element, NaN counting as smallest; int64, no gradient."""
    return _arg(input, dim, keepdim, "argmin", np.argmin)


__all__ = ["argmax", "argmin", "cummax", "cummin", "kthvalue", "median", "msort", "sort", "topk"]
