"""max, min (over everything, or along one dim with the index), amax, amin.

Where several elements tie for the extreme, the full reductions (``max()``, amax, amin)
split the gradient evenly among them; ``max(dim)`` sends it to the returned index only
(the first of the ties), as torch does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.operands import normalize_dim
from reference.ops.reduce.axes import as_constant, axes_of, one_axis, refuse_complex

# -- (values, indices) results -------------------------------------------------------------


class _ValuesIndices(tuple):
    """A ``(values, indices)`` pair like ``torch.return_types.max``: a tuple that also
    names its fields."""

    __slots__ = ()
    n_fields = 2
    n_sequence_fields = 2

    def __new__(cls, values: Any, indices: Any) -> _ValuesIndices:
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Any:
        return self[0]

    @property
    def indices(self) -> Any:
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.{type(self).__name__}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _return_type(name: str) -> type:
    return type(name, (_ValuesIndices,), {"__slots__": (), "__module__": "reference.return_types"})


return_types = {name: _return_type(name) for name in ("max", "min")}


# -- max() / min(): the whole tensor ---------------------------------------------------------


class Extreme(Function):
    """``max()``/``min()`` of all elements (MaxBackward1/MinBackward1): ties, and NaNs when
    the result is NaN, share the gradient evenly."""

    @staticmethod
    def forward(ctx, a, reducer):
        out = reducer(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        a, out = np.asarray(xp.data(a)), xp.data(out)
        mask = (a == out) | (np.isnan(a) & np.isnan(out))
        return g * as_constant(mask / mask.sum(), a)

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved_tensors
        mask = a == out  # torch reads tangents at equal elements only: NaN results get NaN
        with np.errstate(invalid="ignore", divide="ignore"):
            return (t * mask).sum() / mask.sum()


def _empty_full_error(name: str) -> RuntimeError:
    return RuntimeError(
        f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
        "Specify the reduction dim with the 'dim' argument."
    )


def _full_extreme(input, name: str, reducer):
    if input._data.size == 0:
        raise _empty_full_error(name)
    return apply(Extreme, f"{name.capitalize()}Backward1", (input,), reducer=reducer)


# -- max(dim) / min(dim): values and indices -------------------------------------------------


class ExtremeAlongDim(Function):
    """``max(dim)``/``min(dim)`` (MaxBackward0/MinBackward0): the gradient goes to the
    returned index; the indices output is not differentiable."""

    @staticmethod
    def forward(ctx, a, axis, keepdim, arg):
        ctx.axis, ctx.keepdim = axis, keepdim
        if axis is None:  # a 0-d tensor: itself, at index 0 (saved, as torch saves it: a second backward fails)
            ctx.save_for_backward(np.ones((), bool))
            return a.copy(), np.zeros((), np.int64)
        idx = np.expand_dims(arg(a, axis=axis), axis)
        values = np.take_along_axis(a, idx, axis)
        positions = np.arange(a.shape[axis]).reshape((-1,) + (1,) * (a.ndim - axis - 1))
        ctx.kept = values.shape
        ctx.save_for_backward(positions == idx)
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, g, _g_indices=None):
        (onehot,) = ctx.saved_tensors
        if ctx.axis is None:
            return g
        return g.reshape(ctx.kept) * as_constant(xp.data(onehot), g)

    @staticmethod
    def jvp(ctx, t):
        if ctx.axis is None:
            return t, None
        (onehot,) = ctx.saved_tensors
        return (t * onehot).sum(axis=ctx.axis, keepdims=ctx.keepdim), None


def _along_dim(input, dim, keepdim, name: str, arg):
    ndim = input._data.ndim
    axis = one_axis(dim, ndim)
    if axis is not None and input._data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    values, indices = apply(
        ExtremeAlongDim, f"{name.capitalize()}Backward0", (input,), axis=axis, keepdim=bool(keepdim), arg=arg
    )
    return return_types[name](values, indices)


def _max_signatures(name: str, got: str) -> TypeError:
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        " * ()\n * (Tensor other)\n * (int dim, bool keepdim = False)\n"
    )


def _extreme(input, dim, keepdim, name: str, full_reducer, arg, binary: str):
    from reference.tensor import Tensor

    refuse_complex(input, f"{name}_all" if dim is None else f"{name}_values_cpu")
    if dim is None:
        return _full_extreme(input, name, full_reducer)
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        import reference

        return getattr(reference, binary)(input, dim)
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise _max_signatures(name, type(dim).__name__)
    return _along_dim(input, int(dim), keepdim, name, arg)


def max(input, dim=None, keepdim=False):
    """``max()``: the largest element; ``max(dim)``: ``(values, indices)`` along ``dim``;
    ``max(other)``: the elementwise maximum."""
    return _extreme(input, dim, keepdim, "max", np.max, np.argmax, "maximum")


def min(input, dim=None, keepdim=False):
    """``min()``: the smallest element; ``min(dim)``: ``(values, indices)``; ``min(other)``."""
    return _extreme(input, dim, keepdim, "min", np.min, np.argmin, "minimum")


# -- amax / amin: several dims, ties share ---------------------------------------------------


class Amax(Function):
    """amax/amin over a tuple of dims (AmaxBackward0/AminBackward0): ties within a reduced
    slice share its gradient evenly (a NaN result gives NaN gradients, as in torch)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, reducer):
        out = reducer(a, axis=axes, keepdims=True)
        ctx.axes, ctx.keepdim, ctx.kept = axes, keepdim, out.shape
        mask = a == out
        ctx.save_for_backward(mask)
        return out if keepdim else out.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        mask = xp.data(mask)
        with np.errstate(invalid="ignore", divide="ignore"):
            weights = mask / mask.sum(axis=ctx.axes, keepdims=True)
        return g.reshape(ctx.kept) * as_constant(weights, g)

    @staticmethod
    def jvp(ctx, t):
        (mask,) = ctx.saved_tensors
        return (t * mask).sum(axis=ctx.axes, keepdims=ctx.keepdim) / mask.sum(axis=ctx.axes, keepdims=ctx.keepdim)


def _amax_axes(input, dim: Any, name: str) -> tuple[int, ...]:
    """The reduced axes, after torch's checks: dims in range, none of size 0 (no identity),
    none repeated; reducing everything of an empty tensor needs an explicit dim."""
    refuse_complex(input, f"{name}_cpu" if name == "aminmax" else f"{name[1:]}_values_cpu")
    shape = input._data.shape
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        dims = (int(dim),)
    elif dim is None or isinstance(dim, (tuple, list)):
        dims = tuple(dim or ())
    else:
        raise TypeError(f"{name}(): argument 'dim' (position 1) must be tuple of ints, not {type(dim).__name__}")
    if not dims:
        if input._data.size == 0:
            raise _empty_full_error(name)
        return tuple(range(len(shape)))
    for d in dims:
        axis = normalize_dim(d, len(shape))
        if shape and shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return axes_of(dims, len(shape))


def amax(input, dim=(), keepdim=False):
    axes = _amax_axes(input, dim, "amax")
    return apply(Amax, "AmaxBackward0", (input,), axes=axes, keepdim=bool(keepdim), reducer=np.max)


def amin(input, dim=(), keepdim=False):
    axes = _amax_axes(input, dim, "amin")
    return apply(Amax, "AminBackward0", (input,), axes=axes, keepdim=bool(keepdim), reducer=np.min)


__all__ = ["amax", "amin", "max", "min"]
