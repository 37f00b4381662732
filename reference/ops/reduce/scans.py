"""cumsum and cumprod along one dim.

cumprod's gradient never divides by zero: with no zero in a slice it is
``reverse_cumsum(g * out) / x``; from the first zero z on, only x_z still gets a
gradient (every later product contains x_z = 0), computed from the products around it.
"""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.reduce.axes import (
    QUIET,
    autograd_dtype_check,
    cast,
    int_dim,
    is_tensor,
    missing_dim,
    one_axis,
)

_REQUIRED = object()


def _scan_dtype(input, dtype) -> np.dtype | None:
    np_dtype = None if dtype is None else np.dtype(dtype.np)
    autograd_dtype_check(input, np_dtype)
    if np_dtype is None and input._data.dtype.kind in "bi":
        return np.dtype(np.int64)  # integers and bools accumulate in int64, as in torch
    return np_dtype


# -- cumsum --------------------------------------------------------------------------------


class Cumsum(Function):
    """Running sums (CumsumBackward0); ``reverse`` sums from the end (its own backward)."""

    @staticmethod
    def forward(ctx, a, axis, dtype, reverse=False):
        ctx.axis, ctx.reverse = axis, reverse
        return _cumsum(cast(a, dtype), axis, reverse)

    @staticmethod
    def backward(ctx, g):
        return running_sum(g, ctx.axis, not ctx.reverse)

    @staticmethod
    def jvp(ctx, t):
        return _cumsum(t, ctx.axis, ctx.reverse)


def _cumsum(a: np.ndarray, axis: int | None, reverse: bool) -> np.ndarray:
    if axis is None:  # a 0-d tensor
        return a.copy()
    if reverse:
        return np.flip(np.cumsum(np.flip(a, axis), axis), axis)
    return np.cumsum(a, axis)


def running_sum(x, axis: int | None, reverse: bool):
    """cumsum of an array, or of a Tensor as a recorded op (create_graph)."""
    if is_tensor(x):
        return apply(Cumsum, "CumsumBackward0", (x,), axis=axis, dtype=None, reverse=reverse)
    return _cumsum(x, axis, reverse)


def cumsum(input, dim=_REQUIRED, *, dtype=None):
    if dim is _REQUIRED:
        raise missing_dim("cumsum")
    axis = one_axis(int_dim("cumsum", dim), input._data.ndim)
    return apply(Cumsum, "CumsumBackward0", (input,), axis=axis, dtype=_scan_dtype(input, dtype))


# -- cumprod -------------------------------------------------------------------------------


class Cumprod(Function):
    """Running products (CumprodBackward0)."""

    @staticmethod
    def forward(ctx, a, axis, dtype):
        ctx.axis, ctx.dtype = axis, dtype
        x = cast(a, dtype)
        out = x.copy() if axis is None else np.cumprod(x, axis)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors  # read first: a second backward fails here, as in torch
        if ctx.axis is None:
            return g
        x = cast(a, ctx.dtype)
        if not (xp.data(x) == 0).any():  # conj of the holomorphic derivative: a no-op on reals
            return running_sum(g * xp.conj(out), ctx.axis, reverse=True) / xp.conj(x)
        if is_tensor(x):
            return _cumprod_grad_by_mask(x, g, ctx.axis)
        return _on_last_axis(_cumprod_grad_with_zeros, ctx.axis, xp.conj(x), xp.conj(out), g)

    @staticmethod
    def jvp(ctx, t):
        if ctx.axis is None:
            return t
        a, out = ctx.saved_tensors
        x = cast(a, ctx.dtype)
        with np.errstate(**QUIET):
            if not (x == 0).any():
                return out * np.cumsum(t / x, ctx.axis)
            return _on_last_axis(_cumprod_jvp_with_zeros, ctx.axis, x, out, t)


def _on_last_axis(fn, axis: int, *arrays: np.ndarray) -> np.ndarray:
    """Apply ``fn`` to the arrays with ``axis`` moved last (views, no copies)."""
    return np.moveaxis(fn(*(np.moveaxis(a, axis, -1) for a in arrays)), -1, axis)


def _first_zero(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions along the last axis, and each slice's first zero (n when it has none)."""
    positions = np.arange(x.shape[-1])
    is_zero = x == 0
    z = np.where(is_zero.any(-1), is_zero.argmax(-1), x.shape[-1])[..., None]
    return positions, z


def _around_zero(x: np.ndarray, positions: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """prod_{j<z} x_j (per slice) and, for each i >= z, prod_{z<j<=i} x_j."""
    before = positions < z
    prefix = np.where(before, x, 1).prod(-1, keepdims=True)
    after = np.cumprod(np.where(positions <= z, 1, x), -1)
    return prefix, after


def _cumprod_grad_with_zeros(x: np.ndarray, out: np.ndarray, g: np.ndarray) -> np.ndarray:
    positions, z = _first_zero(x)
    before = positions < z
    prefix, after = _around_zero(x, positions, z)
    head = np.flip(np.cumsum(np.flip(g * out, -1), -1), -1) / np.where(before, x, 1)  # k < z
    at_zero = prefix * (g * after * (positions >= z)).sum(-1, keepdims=True)  # k == z
    return np.where(before, head, np.where(positions == z, at_zero, 0))


def _cumprod_jvp_with_zeros(x: np.ndarray, out: np.ndarray, t: np.ndarray) -> np.ndarray:
    positions, z = _first_zero(x)
    before = positions < z
    prefix, after = _around_zero(x, positions, z)
    head = out * np.cumsum(np.where(before, t / np.where(before, x, 1), 0), -1)  # i < z
    t_zero = np.where(positions == z, t, 0).sum(-1, keepdims=True)
    return np.where(before, head, t_zero * prefix * after)  # i >= z: only x_z's tangent counts


def _cumprod_grad_by_mask(x, g, axis: int):
    """The differentiable form (create_graph with zeros): grad_k = sum_{i>=k} g_i * (the
    running product up to i with x_k replaced by 1), from an n x n stack. O(n^2)."""
    shape = tuple(x.shape)
    n = shape[axis]
    trailing = (1,) * (len(shape) - axis - 1)
    rows = x.reshape((*shape[:axis], 1, n, *shape[axis + 1 :]))
    eye = np.eye(n, dtype=bool).reshape((n, n, *trailing))
    later = np.triu(np.ones((n, n), dtype=xp.data(x).dtype)).reshape((n, n, *trailing))  # i >= k
    products = xp.conj(cumprod(xp.where(eye, 1.0, rows), axis + 1))
    return (products * g.reshape((*shape[:axis], 1, n, *shape[axis + 1 :])) * later).sum(axis=axis + 1)


def cumprod(input, dim=_REQUIRED, *, dtype=None):
    if dim is _REQUIRED:
        raise missing_dim("cumprod")
    axis = one_axis(int_dim("cumprod", dim), input._data.ndim)
    return apply(Cumprod, "CumprodBackward0", (input,), axis=axis, dtype=_scan_dtype(input, dtype))


__all__ = ["cumprod", "cumsum"]
