"""Elementwise losses: huber_loss, smooth_l1_loss, l1_loss, kl_div, binary_cross_entropy,
soft_margin_loss, poisson_nll_loss.

huber, smooth_l1 (beta > 0), binary_cross_entropy and soft_margin are one node each, as in
torch; l1_loss, kl_div and poisson_nll_loss are composites in torch and composed the same way
here. At ``|input - target| = delta`` (beta) torch's gradient is continuous and its second
derivative takes the outer side (0), which the recorded backward below reproduces.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import FLOAT, Function, apply, sum_tangents
from reference.nn._grad import constant, tensor_mode
from reference.nn.loss import QUIET, _broadcast_pair, _no_grad_argument, _reduce, _reduction, _upstream


def _same_shape_or_warn(input, target, name: str):
    """torch's losses broadcast a differently shaped target, with a warning."""
    if input.shape == target.shape:
        return input, target
    warnings.warn(
        f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
        "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
        UserWarning,
        stacklevel=3,
    )
    return _broadcast_pair(input, target)


class PairLoss(Function):
    """loss(a - b) elementwise, reduced. ``value(d)`` on arrays; ``slope(d)`` on arrays or
    Tensors (d = a - b, recorded when create_graph is on)."""

    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, b, value, slope, reduction):
        ctx.save_for_backward(a, b)
        ctx.slope, ctx.reduction, ctx.size = slope, reduction, a.size
        with np.errstate(**QUIET):
            return _reduce(value(a - b), reduction)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        grad = ctx.slope(a - b) * _upstream(g, ctx.reduction, ctx.size)
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        s = ctx.slope(a - b)
        return _reduce(sum_tangents(None if ta is None else s * ta, None if tb is None else -s * tb), ctx.reduction)


def _clipped_slope(width: float, scale: float):
    """d * scale inside (-width, width), +-width * scale outside and at the ends (the same value
    there), so the recorded second derivative at the ends is the outer one (0), as torch's."""

    def slope(d):
        dd = xp.data(d)
        return xp.where(dd <= -width, -width * scale, xp.where(dd >= width, width * scale, d * scale))

    return slope


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    if weight is not None:
        raise NotImplementedError("reference.nn.functional.huber_loss: weight is not supported")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta. Got: {delta}")
    reduction = _reduction(reduction)
    input, target = _same_shape_or_warn(input, target, "huber_loss")

    def value(d):
        z = np.abs(d)
        return np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)).astype(d.dtype, copy=False)

    return apply(
        PairLoss, "HuberLossBackward0", (input, target),
        value=value, slope=_clipped_slope(delta, 1.0), reduction=reduction,
    )  # fmt: skip


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """torch's composite: (input - target).abs(), then mean or sum."""
    if weight is not None:
        raise NotImplementedError("reference.nn.functional.l1_loss: weight is not supported")
    reduction = _reduction(reduction, size_average, reduce)
    input, target = _same_shape_or_warn(input, target, "l1_loss")
    return _apply_reduction((input - target).abs(), reduction)


def _apply_reduction(losses, reduction: str):
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """beta = 0 is l1_loss (torch's composite); otherwise SmoothL1LossBackward0."""
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    input, target = _same_shape_or_warn(input, target, "smooth_l1_loss")

    def value(d):
        z = np.abs(d)
        return np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta).astype(d.dtype, copy=False)

    return apply(
        PairLoss, "SmoothL1LossBackward0", (input, target),
        value=value, slope=_clipped_slope(beta, 1.0 / beta), reduction=reduction,
    )  # fmt: skip


# -- kl_div ------------------------------------------------------------------------------------


class Xlogy(Function):
    """x * log(y), 0 where x == 0 (unless y is nan). d/dx = log(y) where x != 0, else 0;
    d/dy = x / y (torch's rules, so xlogy(t, t)' at t = 0 is nan, as torch gives)."""

    promotion = FLOAT

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(**QUIET):
            return np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y)).astype(np.result_type(x, y))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = g * xp.where(xp.data(x) != 0, xp.log(y), 0.0) if need[0] else None
        gy = g * x / y if need[1] else None
        return gx, gy

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.saved_tensors
        return sum_tangents(
            None if tx is None else tx * np.where(x != 0, np.log(y), 0), None if ty is None else ty * x / y
        )


def xlogy(x, y):
    import reference

    if hasattr(reference, "xlogy"):
        return reference.xlogy(x, y)
    return apply(Xlogy, "XlogyBackward0", (x, y))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """torch's composite: exp(t) * (t - x) for log targets, else xlogy(t, t) - t * x; then
    'batchmean' divides the sum by the batch size (dim 0)."""
    legacy = size_average is not None or reduce is not None  # torch warns of those instead
    if legacy:
        reduction = _reduction(reduction, size_average, reduce)
    elif reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean" and not legacy:
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            UserWarning,
            stacklevel=2,
        )
    losses = target.exp() * (target - input) if log_target else xlogy(target, target) - target * input
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim != 0 else total
    return _apply_reduction(losses, reduction)


# -- binary_cross_entropy, soft_margin_loss -------------------------------------------------------


class BinaryCrossEntropy(Function):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100 as torch clamps it."""

    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        ctx.save_for_backward(x, y)
        ctx.weight, ctx.reduction, ctx.size = weight, reduction, x.size
        with np.errstate(**QUIET):
            losses = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
        return _reduce(losses if weight is None else losses * weight, reduction)

    @staticmethod
    def slopes(ctx, x, y):
        if tensor_mode(x):
            dx = (x - y) / ((1.0 - x) * x)
            dy = xp.log1p(-x) - xp.log(x)
        else:
            with np.errstate(**QUIET):
                dx = (x - y) / np.maximum((1 - x) * x, 1e-12)
                dy = np.maximum(np.log1p(-x), -100) - np.maximum(np.log(x), -100)
        if ctx.weight is not None:
            dx, dy = dx * constant(ctx.weight, dx), dy * constant(ctx.weight, dy)
        return dx, dy

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        up = _upstream(g, ctx.reduction, ctx.size)
        dx, dy = BinaryCrossEntropy.slopes(ctx, x, y)
        return dx * up, (dy * up if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.saved_tensors
        dx, dy = BinaryCrossEntropy.slopes(ctx, x, y)
        return _reduce(sum_tangents(None if tx is None else dx * tx, None if ty is None else dy * ty), ctx.reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is "
            "deprecated. Please ensure they have the same size."
        )
    _no_grad_argument(weight, "binary_cross_entropy", "weight")
    x = input._data
    if x.size and ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    y = target._data
    if y.size and ((y < 0) | (y > 1)).any():
        raise RuntimeError("all elements of target should be between 0 and 1")
    w = None if weight is None else np.broadcast_to(weight._data.astype(x.dtype), x.shape)
    return apply(BinaryCrossEntropy, "BinaryCrossEntropyBackward0", (input, target), weight=w, reduction=reduction)


class SoftMarginLoss(Function):
    """log(1 + exp(-y x)); differentiable in x only (torch)."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.save_for_backward(x)
        ctx.y, ctx.reduction, ctx.size = y, reduction, x.size
        return _reduce(np.logaddexp(0, -y * x), reduction)

    @staticmethod
    def slope(ctx, x):
        y = constant(ctx.y, x)
        z = x * y * -1.0
        s = xp.exp(z) / (xp.exp(z) + 1.0)
        return y * s * -1.0

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return SoftMarginLoss.slope(ctx, x) * _upstream(g, ctx.reduction, ctx.size)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return _reduce(SoftMarginLoss.slope(ctx, x) * t, ctx.reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    _no_grad_argument(target, "soft_margin_loss", "target")
    if input.shape != target.shape:
        input, target = _same_shape_or_warn(input, target, "soft_margin_loss")
    y = target._data.astype(input._data.dtype)
    return apply(SoftMarginLoss, "SoftMarginLossBackward0", (input,), y=y, reduction=reduction)


# -- poisson_nll_loss ------------------------------------------------------------------------------


def poisson_nll_loss(
    input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"
):
    """torch's composite: exp(x) - t x (log_input), else x - t log(x + eps); ``full`` adds
    Stirling's t log t - t + log(2 pi t) / 2 where t > 1 (a masked_fill of the rest)."""
    reduction = _reduction(reduction, size_average, reduce)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _apply_reduction(loss, reduction)


# -- margin_ranking_loss ---------------------------------------------------------------------------


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """torch's composite: (-target * (input1 - input2) + margin).clamp_min(0), then reduced
    (AddBackward1 for the margin, ClampMinBackward0, which passes the gradient at 0)."""
    from reference.nn.loss_cross_entropy import plus_number

    reduction = _reduction(reduction, size_average, reduce)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    losses = plus_number(-target * (input1 - input2), margin).clamp_min(0)
    return _apply_reduction(losses, reduction)
