"""layer_norm over the trailing ``normalized_shape`` dims (NativeLayerNormBackward0)."""

from __future__ import annotations

import numpy as np

from reference import dtypes
from reference.autograd.function import Function, apply
from reference.autograd.graph import bump_version
from reference.nn._grad import constant, linear_in_grad, tensor_mode

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


# -- batch_norm, group_norm, instance_norm: statistics over some dims, then a per-channel affine ------


def _per_channel(p, ndim: int):
    """(C,) -> (1, C, 1, ...) against an (N, C, *spatial) input of ``ndim`` dims."""
    return p.reshape(1, -1, *(1,) * (ndim - 2))


def _channel_sum(g):
    """Sum over every dim but the channel dim (1): a per-channel parameter's gradient."""
    return g.sum(axis=(0, *range(2, len(tuple(g.shape)))))


class ChannelNorm(Function):
    """Normalize x viewed as ``stats_shape`` over ``axes`` (batch statistics), or with ``fixed``
    (mean, rstd) (eval-mode batch_norm), then scale and shift per channel (dim 1)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stats_shape, axes, eps, fixed, node):
        ctx.save_for_backward(*((x,) if weight is None else (x, weight)))
        ctx.stats_shape, ctx.axes, ctx.eps, ctx.fixed, ctx.node = stats_shape, axes, eps, fixed, node
        with np.errstate(**QUIET):
            xs = x.reshape(stats_shape)
            mean, rstd = _statistics(xs, axes, x.dtype.type(eps)) if fixed is None else fixed
            xhat = _normalize(xs, mean, rstd).reshape(x.shape)
        ctx.xhat, ctx.mean, ctx.rstd = xhat, mean, rstd  # for array backward and jvp; recorded backward recomputes
        out = xhat if weight is None else xhat * _per_channel(weight, x.ndim)
        return out if bias is None else out + _per_channel(bias, x.ndim)

    @staticmethod
    def backward(ctx, g):
        x, weight = (*ctx.saved_tensors, None)[:2]
        shape, stats_shape, axes, fixed = tuple(x.shape), ctx.stats_shape, ctx.axes, ctx.fixed
        ndim = len(shape)
        need = ctx.needs_input_grad
        gdy = g if weight is None else g * _per_channel(weight, ndim)
        if tensor_mode(g):
            xs = x.reshape(stats_shape)
            if fixed is None:
                mean, rstd = _statistics(xs, axes, ctx.eps)
            else:
                mean, rstd = (constant(v, g) for v in fixed)
            xhat = _normalize(xs, mean, rstd).reshape(shape)
        else:
            xhat, mean, rstd = ctx.xhat, ctx.mean, ctx.rstd
        gx = None
        if need[0] and fixed is not None:  # constant statistics; recorded, connected to x as torch's node is
            rstd_array = fixed[1]
            gx = linear_in_grad(
                ctx.node, gdy, x, lambda v: (v.reshape(stats_shape) * constant(rstd_array, v)).reshape(shape)
            )
        elif need[0] and tensor_mode(g):
            gx = _normalized_grad(gdy.reshape(stats_shape), xhat.reshape(stats_shape), rstd, axes).reshape(shape)
        elif need[0]:
            count = float(np.prod([stats_shape[a] for a in axes]))
            gx = _input_grad(gdy.reshape(stats_shape), x.reshape(stats_shape), mean, rstd, count, axes).reshape(shape)
        gw = _channel_sum(g * xhat) if need[1] else None
        gb = None
        if need[2] and ctx.node == "NativeGroupNormBackwardBackward0":  # torch's is not connected to x
            gb = _channel_sum(g)
        elif need[2]:  # recorded, it depends on x (and weight) as torch's double-backward node does
            connected = (x,) if weight is None else (x, weight)
            gb = linear_in_grad(ctx.node, g, connected, _channel_sum, lambda v: _per_channel(v, ndim))
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, tx, tw, tb):
        weight = (*ctx.saved_tensors, None)[1]
        xhat, rstd, stats_shape, ndim = ctx.xhat, ctx.rstd, ctx.stats_shape, ctx.xhat.ndim
        parts = []
        if tx is not None:
            ts = tx.reshape(stats_shape)
            if ctx.fixed is None:  # batch statistics: the gradient's linear map (it is symmetric)
                txhat = _normalized_grad(ts, xhat.reshape(stats_shape), rstd, ctx.axes).reshape(xhat.shape)
            else:
                txhat = (ts * rstd).reshape(xhat.shape)
            parts.append(txhat if weight is None else txhat * _per_channel(weight, ndim))
        if tw is not None:
            parts.append(xhat * _per_channel(tw, ndim))
        if tb is not None:
            parts.append(np.broadcast_to(_per_channel(tb, ndim), xhat.shape))
        return sum(parts[1:], parts[0])


def _check_params(input, channels: int, **params) -> None:
    for name, t in params.items():
        if t is not None and t._data.shape != (channels,):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got "
                f"{name} of shape {list(t._data.shape)} and input of shape {list(input._data.shape)}"
            )
    for t in params.values():
        if t is not None and t._data.dtype != input._data.dtype:
            name = dtypes.scalar_type_name(input._data.dtype)
            raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of {name}")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    shape = tuple(input._data.shape)
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {len(shape)}")
    if shape[1] % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(shape)} and num_groups={num_groups}"
        )
    _check_params(input, shape[1], weight=weight, bias=bias)
    stats_shape = (shape[0], num_groups, int(np.prod(shape[1:])) // num_groups)
    return apply(
        ChannelNorm, "NativeGroupNormBackward0", (input, weight, bias), stats_shape=stats_shape, axes=(2,), eps=eps,
        fixed=None, node="NativeGroupNormBackwardBackward0",
    )  # fmt: skip


def _update_running(running, value: np.ndarray, momentum: float) -> None:
    """running <- (1 - momentum) running + momentum value, in place: torch changes the buffer
    without bumping its version counter."""
    data = running._data
    data[...] = (1 - momentum) * data + momentum * value.reshape(data.shape).astype(data.dtype)


def batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):  # fmt: skip
    shape = tuple(input._data.shape)
    if len(shape) < 2:
        raise ValueError(f"Expected 2D or 3D input (got {len(shape)}D input)")
    _check_params(input, shape[1], weight=weight, bias=bias)
    axes = (0, *range(2, len(shape)))
    fixed = None
    if training:
        count = int(np.prod([shape[a] for a in axes]))
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        x = input._data
        mean = x.mean(axis=axes)
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
        if running_var is not None:  # the unbiased variance
            var = ((x - mean.reshape(_per_channel(mean, len(shape)).shape)) ** 2).sum(axis=axes) / (count - 1)
            _update_running(running_var, var, momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        dtype = input._data.dtype
        mean = _per_channel(running_mean._data.astype(dtype), len(shape))
        with np.errstate(**QUIET):
            rstd = (running_var._data.astype(dtype) + dtype.type(eps)) ** dtype.type(-0.5)
        fixed = (mean, _per_channel(rstd, len(shape)))
    return apply(
        ChannelNorm, "NativeBatchNormBackward0", (input, weight, bias), stats_shape=shape, axes=axes, eps=eps,
        fixed=fixed, node="NativeBatchNormBackwardBackward0",
    )  # fmt: skip


def instance_norm(
    input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5
):  # fmt: skip
    """batch_norm of the input viewed as one sample of N * C channels, as torch computes it
    (ViewBackward0 on top of NativeBatchNormBackward0); running statistics are averaged over N."""
    shape = tuple(input._data.shape)
    n, c = shape[0], shape[1]
    repeat = (lambda t: None if t is None else t.repeat(n)) if n > 1 else (lambda t: t)
    mean_n, var_n = (None if t is None else t._data.copy() for t in (running_mean, running_var))
    stats = [None if v is None else _buffer(np.tile(v, n)) for v in (mean_n, var_n)]
    out = batch_norm(
        input.reshape(1, n * c, *shape[2:]), stats[0], stats[1], repeat(weight), repeat(bias),
        use_input_stats, momentum, eps,
    )  # fmt: skip
    for running, updated in zip((running_mean, running_var), stats):
        if running is not None:  # torch copies the batch's average back with copy_: a version bump
            running._data[...] = updated._data.reshape(n, c).mean(axis=0)
            bump_version(running._vc)
    return out.reshape(shape)


def _buffer(array: np.ndarray):
    from reference.tensor import Tensor

    return Tensor._make(array)
