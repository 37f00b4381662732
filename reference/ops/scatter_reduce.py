"""scatter_reduce (sum, prod, mean, amax, amin; with or without self) and torch 2.13's gradients.

Every input element lands on exactly one output element, so the Jacobian has one weight per input
element: forward mode reuses the backward on ones to get those weights (except where torch's
forward mode differs from its backward: amax/amin ties without include_self).
"""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply, sum_tangents
from reference.ops.indexing_dim import Gather, ScatterAdd, Scratch, _grid
from reference.ops.scatter import _flat, _scatter_checks, _src_part, check_src_gradient, gather_any

_IDENTITY = {"sum": 0.0, "mean": 0.0, "prod": 1.0, "amax": -np.inf, "amin": np.inf}
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}
DOUBLE_BACKWARD_PROD = (
    "scatter_reduce(): Double backward is unsupported for src when >1 zeros in src are scattered to the same "
    "position in self"
)


class ScatterReduce(Function):
    saved_attributes = ("index", "hit", "count")

    @staticmethod
    def forward(ctx, a, src, dim, index, reduce, include_self):
        ctx.dim, ctx.index, ctx.reduce, ctx.include_self, ctx.shape = dim, index, reduce, include_self, a.shape
        ctx.save_for_backward(a, src)
        out = ScatterReduce.reduce(a, src, dim, index, reduce, include_self)
        ctx.hit = np.zeros(_flat(a).shape, bool)
        if index.size:
            ctx.hit[_grid(_flat(index), dim)] = True
        ctx.hit = ctx.hit.reshape(a.shape)
        return out

    @staticmethod
    def reduce(a, src, dim, index, reduce, include_self, count_out=None):
        out = _flat(a).copy()
        if not index.size:
            return out.reshape(a.shape)
        grid, part = _grid(_flat(index), dim), _src_part(src, index)
        if not include_self:
            out[grid] = _IDENTITY[reduce]
        _UFUNC[reduce].at(out, grid, part)
        if reduce == "mean":
            count = np.ones(out.shape, out.dtype)
            if not include_self:
                count[grid] = 0
            np.add.at(count, grid, 1)
            out = out / count
        return out.reshape(a.shape)

    @staticmethod
    def backward(ctx, g):
        from reference.tensor import Tensor

        a, src = ctx.saved_tensors
        _check_src_shape(ctx.reduce, ctx.index.shape, tuple(src.shape))
        if not ctx.index.size:  # nothing scattered: self passes the gradient, src gets zeros
            return g, np.zeros(src.shape, xp.data(src).dtype)
        tensors = type(g) is not np.ndarray
        if not tensors:  # one formula for both: arrays are wrapped as Tensors that record nothing
            g, a, src = Tensor._make(g), Tensor._make(a), Tensor._make(src)
        g_self, g_src = _reduce_backward(ctx, g, a, src, tensors)
        if not ctx.include_self:
            g_self = xp.where(ctx.hit, 0.0, g_self)
        if not tensors:
            g_self, g_src = g_self._data, g_src._data
        return g_self, g_src

    @staticmethod
    def jvp(ctx, t_self, t_src):
        # Each input element reaches one output element with the weight its gradient gets from ones,
        # except at amax/amin ties without include_self: torch's forward mode shares among src only.
        if ctx.reduce in ("amax", "amin") and not ctx.include_self:
            w_self, w_src = _extreme_weights(ctx)
        else:
            w_self, w_src = ScatterReduce.backward(ctx, np.ones(ctx.shape, ctx.saved_tensors[0].dtype))
        spread = None
        if t_src is not None:
            zeros = np.zeros(ctx.shape, t_src.dtype)
            spread = ScatterAdd.forward(Scratch(), zeros, _src_part(t_src, ctx.index) * w_src, ctx.dim, ctx.index)
        return sum_tangents(None if t_self is None else t_self * w_self, spread)


def _check_src_shape(reduce: str, index_shape: tuple, src_shape: tuple) -> None:
    """torch's backward works on all of src: a src larger than the index fails there, with the
    engine's invalid-gradient message (sum, mean) or a broadcasting error (the others)."""
    if reduce in ("sum", "mean"):
        check_src_gradient(index_shape, src_shape, "ScatterReduceBackward0")
    elif index_shape:
        from reference.ops.indexing import _check_broadcast

        _check_broadcast(src_shape, index_shape)


def _extreme_weights(ctx) -> tuple:
    """amax/amin tangent weights without include_self: 1 / (number of src elements equal to the
    result) for those, self's weight 1 where nothing was scattered."""
    a, src = ctx.saved_tensors
    part = _src_part(src, ctx.index)
    result = ScatterReduce.reduce(a, part, ctx.dim, ctx.index, ctx.reduce, False)
    src_is = (part == Gather.forward(Scratch(), result, ctx.dim, ctx.index)).astype(a.dtype)
    count = ScatterAdd.forward(Scratch(), np.zeros(ctx.shape, a.dtype), src_is, ctx.dim, ctx.index)
    w_self = np.where(ctx.hit, 0.0, 1.0).astype(a.dtype)
    return w_self, src_is / Gather.forward(Scratch(), np.maximum(count, 1), ctx.dim, ctx.index)


def _reduce_backward(ctx, g, a, src, recording: bool) -> tuple:
    """torch 2.13's gradients: ties of amax/amin share evenly (self counted whenever it equals the
    result, even without include_self); prod divides by non-zero factors and takes the product of
    the others where exactly one src factor is zero."""
    from reference.tensor import Tensor

    dim, index, reduce = ctx.dim, ctx.index, ctx.reduce
    src_part = src if src._data.shape == index.shape else src[tuple(slice(0, n) for n in index.shape)]
    if reduce == "sum":
        return g, gather_any(g, dim, index)
    if reduce == "mean":
        count = ScatterReduce.reduce(np.ones(ctx.shape), np.ones(index.shape), dim, index, "sum", ctx.include_self)
        g_mean = g / Tensor._make(np.maximum(count, 1).astype(g._data.dtype))
        return g_mean, gather_any(g_mean, dim, index)
    result = apply(ScatterReduce, "ScatterReduceBackward0", (a, src_part), dim=dim, index=index, reduce=reduce,
                   include_self=ctx.include_self) if recording else None  # fmt: skip
    result_data = ScatterReduce.reduce(a._data, src_part._data, dim, index, reduce, ctx.include_self)
    if reduce in ("amax", "amin"):
        self_is = a._data == result_data
        src_is = src_part._data == Gather.forward(Scratch(), result_data, dim, index)
        count = ScatterAdd.forward(Scratch(), self_is.astype(g._data.dtype), src_is.astype(g._data.dtype), dim, index)
        shared = g / Tensor._make(count)
        return xp.where(self_is, shared, 0.0), xp.where(src_is, gather_any(shared, dim, index), 0.0)
    # prod
    result = result if recording else Tensor._make(result_data)
    zero_self = a._data == 0
    masked_self = xp.where(zero_self, 1.0, a)
    others = scatter_reduce(masked_self, dim, index, src_part, "prod", include_self=ctx.include_self)
    g_self = g * others / masked_self
    zero_src = src_part._data == 0
    zeros_at = Gather.forward(Scratch(), ScatterAdd.forward(Scratch(), np.zeros(ctx.shape), zero_src.astype(float),
                                                             dim, index), dim, index)  # fmt: skip
    lone_zero = zero_src & (zeros_at == 1)
    without_zero = scatter_reduce(
        a, dim, index, xp.where(lone_zero, 1.0, src_part), "prod", include_self=ctx.include_self
    )
    g_src = xp.where(lone_zero, gather_any(g * without_zero, dim, index),
                     gather_any(g * result, dim, index) / xp.where(zero_src, 1.0, src_part))  # fmt: skip
    if recording and (zeros_at > 1).any():  # torch refuses when this gradient is differentiated
        g_src = apply(RefuseBackward, "ScatterReduceBackwardBackward0", (g_src,), message=DOUBLE_BACKWARD_PROD)
    return g_self, g_src


class RefuseBackward(Function):
    """The identity, whose backward raises ``message`` (a derivative torch does not implement)."""

    @staticmethod
    def forward(ctx, a, message):
        ctx.message = message
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.message)

    @staticmethod
    def jvp(ctx, t):
        raise RuntimeError(ctx.message)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch takes these spellings too
    if reduce not in _UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    axis, data = _scatter_checks(input, dim, index, src, "scatter_reduce")
    return apply(ScatterReduce, "ScatterReduceBackward0", (input, src), dim=axis, index=data, reduce=reduce,
                 include_self=bool(include_self))  # fmt: skip
