"""layer_norm over the trailing ``normalized_shape`` dims (NativeLayerNormBackward0)."""

from __future__ import annotations

import numpy as np

from reference import dtypes
from reference.autograd.function import Function, apply
from reference.nn._grad import linear_in_grad, tensor_mode

QUIET = {"all": "ignore"}


def _statistics(x, axes: tuple, eps: float) -> tuple:
    """Mean and 1/sqrt(biased variance + eps) over ``axes``, kept as size-1 dims (arrays or
    Tensors: recomputed from x in a recorded backward, so the second derivative sees them)."""
    count = float(np.prod([tuple(x.shape)[a] for a in axes]))
    mean = x.sum(axis=axes, keepdims=True) / count
    centered = x - mean
    var = (centered * centered).sum(axis=axes, keepdims=True) / count
    return mean, (var + eps) ** -0.5


def _normalize(x, mean, rstd):
    """(x - mean) * rstd, written as torch's CPU kernel writes it: x * rstd + (-rstd * mean)."""
    return x * rstd + rstd * mean * -1.0


def _input_grad(gdy, x, mean, rstd, count: float, axes: tuple) -> np.ndarray:
    """d/dx on arrays, in the arrangement of torch's CPU kernel (so rounding matches closely):
    rstd * gdy + b * x + c with b = (sum(gdy) mean - sum(gdy x)) rstd^3 / n, c = -b mean - sum(gdy) rstd / n."""
    ds = (gdy * x).sum(axis=axes, keepdims=True)
    db = gdy.sum(axis=axes, keepdims=True)
    b = (db * mean - ds) * rstd * rstd * rstd / count
    c = -b * mean - db * rstd / count
    return rstd * gdy + b * x + c


def _normalized_grad(gxhat, xhat, rstd, axes: tuple):
    """d/dx of a loss through xhat = (x - mean) * rstd, given d loss / d xhat."""
    count = float(np.prod([tuple(xhat.shape)[a] for a in axes]))
    mean_g = gxhat.sum(axis=axes, keepdims=True) / count
    mean_gx = (gxhat * xhat).sum(axis=axes, keepdims=True) / count
    return (gxhat - mean_g - xhat * mean_gx) * rstd


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        ctx.save_for_backward(*((x,) if weight is None else (x, weight)))
        ctx.axes, ctx.eps = axes, eps
        with np.errstate(**QUIET):
            mean, rstd = _statistics(x, axes, x.dtype.type(eps))
            xhat = _normalize(x, mean, rstd)
        ctx.xhat, ctx.mean, ctx.rstd = xhat, mean, rstd  # for array backward and jvp; recorded backward recomputes
        out = xhat if weight is None else xhat * weight
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx, g):
        x, weight = (*ctx.saved_tensors, None)[:2]
        axes = ctx.axes
        need = ctx.needs_input_grad
        gdy = g if weight is None else g * weight
        gx = None
        if tensor_mode(g):
            mean, rstd = _statistics(x, axes, ctx.eps)
            xhat = _normalize(x, mean, rstd)
            if need[0]:
                gx = _normalized_grad(gdy, xhat, rstd, axes)
        else:
            xhat, mean, rstd = ctx.xhat, ctx.mean, ctx.rstd
            if need[0]:
                count = float(np.prod([x.shape[a] for a in axes]))
                gx = _input_grad(gdy, x, mean, rstd, count, axes)
        gw = g * xhat if need[1] else None  # the engine sums over the leading dims
        gb = None
        if need[2]:  # recorded, it depends on x (and weight) as torch's NativeLayerNormBackwardBackward0 does
            connected = (x,) if weight is None else (x, weight)
            gb = linear_in_grad("NativeLayerNormBackwardBackward0", g, connected, lambda v: v)
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, tx, tw, tb):
        weight = (*ctx.saved_tensors, None)[1]
        xhat, rstd = ctx.xhat, ctx.rstd
        parts = []
        if tx is not None:
            txhat = _normalized_grad(tx, xhat, rstd, ctx.axes)  # the same linear map: it is symmetric
            parts.append(txhat if weight is None else txhat * weight)
        if tw is not None:
            parts.append(xhat * tw)
        if tb is not None:
            parts.append(np.broadcast_to(tb, xhat.shape))
        return sum(parts[1:], parts[0])


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, (int, np.integer)):
        raise TypeError(
            "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    normalized = tuple(int(n) for n in normalized_shape)
    shape = input._data.shape
    if not normalized:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, "
            f"but got normalized_shape = {list(normalized)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != normalized:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(t._data.shape)} and normalized_shape = {list(normalized)}"
            )
    for t in (weight, bias):
        if t is not None and t._data.dtype != input._data.dtype:
            name = dtypes.scalar_type_name(input._data.dtype)
            raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of {name}")
    k = len(normalized)
    if len(shape) < k or shape[-k:] != normalized:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized)}, expected input with shape [*, "
            f"{', '.join(str(n) for n in normalized)}], but got input of size{list(shape)}"
        )
    axes = tuple(range(len(shape) - k, len(shape)))
    return apply(LayerNorm, "NativeLayerNormBackward0", (input, weight, bias), axes=axes, eps=eps)
