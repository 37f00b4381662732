"""Losses: mse_loss, nll_loss, cross_entropy, binary_cross_entropy_with_logits.

Each loss is one node, as in torch (MseLossBackward0, NllLossBackward0, ...); cross_entropy
is nll_loss after log_softmax over the class dim. ``reduction`` is 'mean', 'sum' or 'none'.
"""

from __future__ import annotations

import warnings

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import FLOAT, Function, apply, sum_tangents
from reference.nn._grad import constant, linear_in_grad, tensor_mode

QUIET = {"all": "ignore"}
REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction: str, size_average=None, reduce=None) -> str:
    """The reduction, from torch's legacy ``size_average``/``reduce`` flags when either is set."""
    if size_average is not None or reduce is not None:
        legacy = "none" if reduce is False else "sum" if size_average is False else "mean"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{legacy}' instead.",
                      stacklevel=3)  # fmt: skip
        return legacy
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    with np.errstate(**QUIET):  # the mean of nothing is nan, silently
        return total / losses.dtype.type(losses.size)


def _upstream(g, reduction: str, size: int):
    """The incoming gradient per loss element (a 0-d gradient for 'mean'/'sum')."""
    return g / float(size) if reduction == "mean" else g


def _no_grad_argument(weight, fn_name: str, arg: str) -> None:
    if weight is not None and weight.requires_grad:
        raise RuntimeError(
            f"The function '{fn_name}' is not differentiable with respect to argument '{arg}'. "
            "This input cannot have requires_grad True."
        )


# -- mse_loss ----------------------------------------------------------------------------------


class MseLoss(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, b, reduction):
        ctx.save_for_backward(a, b)
        ctx.reduction, ctx.size = reduction, a.size
        d = a - b
        return _reduce(d * d, reduction)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        grad = (a - b) * _upstream(g, ctx.reduction, ctx.size) * 2.0
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        # torch's rule, term by term: 2 (a - b) ta + 2 (b - a) tb
        terms = [2 * (a - b) * ta if ta is not None else None, 2 * (b - a) * tb if tb is not None else None]
        return _reduce(sum_tangents(*terms), ctx.reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if weight is not None:
        raise NotImplementedError("reference.nn.functional.mse_loss: weight is not supported")
    reduction = _reduction(reduction, size_average, reduce)
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=2,
        )
        input, target = _broadcast_pair(input, target)
    return apply(MseLoss, "MseLossBackward0", (input, target), reduction=reduction)


def _broadcast_pair(a, b):
    try:
        shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        dim, sa, sb = _first_mismatch(a._data.shape, b._data.shape)
        raise RuntimeError(
            f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {dim}"
        ) from None
    return (a if a._data.shape == shape else a.expand(shape)), (b if b._data.shape == shape else b.expand(shape))


def _first_mismatch(sa: tuple, sb: tuple) -> tuple:
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
            return i, pa[i], pb[i]
    return 0, pa[0], pb[0]


# -- nll_loss, cross_entropy -----------------------------------------------------------------


class NllLoss(Function):
    """loss_i = -weight[t_i] * x[i, t_i]; 'mean' divides by the sum of the weights picked.
    The gradient is a constant one-hot pattern times g (NllLossBackwardBackward0 when recorded)."""

    @staticmethod
    def forward(ctx, x, onehot, coef, reduction, grad_node, no_weight):
        ctx.save_for_backward(x)
        ctx.onehot, ctx.coef, ctx.reduction, ctx.grad_node = onehot, coef, reduction, grad_node
        axis = _class_axis(x)
        ctx.picked = np.expand_dims(np.argmax(onehot, axis=axis), axis)  # the target classes
        per_sample = np.take_along_axis(x, ctx.picked, axis).squeeze(axis) * coef
        if no_weight:  # 'mean' over a total weight of 0 (every target ignored): 0/0, the gradient stays 0
            return np.full((), np.nan, x.dtype)
        return per_sample if reduction == "none" else per_sample.sum()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        onehot, coef, axis = ctx.onehot, ctx.coef, _class_axis(x)

        def spread(v):  # per-sample gradient -> x's shape, at the target classes
            per_sample = v * constant(coef, v)
            return per_sample.reshape(_with_class_axis(tuple(per_sample.shape), axis)) * constant(onehot, v)

        def gather(gg):  # the transpose: the x-shaped gradient at the target classes
            return (gg * constant(onehot, gg)).sum(axis=axis) * constant(coef, gg)

        return linear_in_grad(ctx.grad_node, g, x, spread, gather)

    @staticmethod
    def jvp(ctx, t):
        axis = _class_axis(t)
        per_sample = np.take_along_axis(t, ctx.picked, axis).squeeze(axis) * ctx.coef
        return per_sample if ctx.reduction == "none" else per_sample.sum()


def _class_axis(x) -> int:
    return 0 if len(x.shape) == 1 else 1


def _with_class_axis(shape: tuple, axis: int) -> tuple:
    return (*shape[:axis], 1, *shape[axis:])


def _check_nll_shapes(input, target) -> None:
    shape, tshape = input._data.shape, target._data.shape
    if input._data.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input._data.ndim})")
    if target._data.dtype.kind not in "iu" or target._data.dtype not in (np.int64, np.uint8):
        name = dtypes.scalar_type_name(target._data.dtype)
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {name}")
    if input._data.ndim == 1:
        if len(tshape) > 1 or (len(tshape) == 1 and tshape[0] != 1):
            raise ValueError(f"Expected input batch_size (1) to match target batch_size ({tshape[0]}).")
        return
    if not tshape or tshape[0] != shape[0]:
        raise ValueError(
            f"Expected input batch_size ({shape[0]}) to match target batch_size ({tshape[0] if tshape else 1})."
        )
    expected = (shape[0], *shape[2:])
    if tshape != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(tshape)}")


def _nll_constants(input, target, weight, ignore_index: int, reduction: str) -> tuple:
    """The one-hot pattern of the target classes (x's shape) and each sample's coefficient."""
    x = input._data
    axis = _class_axis(x)
    classes = x.shape[axis]
    t = target._data.astype(np.int64).reshape(x.shape[:axis] + x.shape[axis + 1 :])
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= classes))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t, 0)
    picked_weight = (weight._data[safe] if weight is not None else np.ones(safe.shape, x.dtype)) * valid
    picked_weight = picked_weight.astype(x.dtype, copy=False)
    coef = -picked_weight
    total = picked_weight.sum()
    if reduction == "mean":  # ignored targets get exactly 0, even when every target is ignored
        with np.errstate(**QUIET):
            coef = np.where(valid, coef / total, 0).astype(x.dtype, copy=False)
    class_shape = [1] * x.ndim
    class_shape[axis] = classes
    onehot = (np.arange(classes).reshape(class_shape) == np.expand_dims(safe, axis)).astype(x.dtype)
    return onehot, coef, reduction == "mean" and total == 0


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    _check_nll_shapes(input, target)
    classes = input._data.shape[_class_axis(input._data)]
    if weight is not None:
        _no_grad_argument(weight, "nll_loss_forward", "weight")
        if weight._data.shape != (classes,):
            raise RuntimeError(
                f"weight tensor should be defined either for all {classes} classes or no classes but got "
                f"weight tensor of shape: {list(weight._data.shape)}"
            )
        if weight._data.dtype != input._data.dtype:
            expected, found = (dtypes.scalar_type_name(t._data.dtype) for t in (input, weight))
            raise RuntimeError(f"expected scalar type {expected} but found {found}")
    ndim = input._data.ndim
    if ndim == 3 or ndim > 4:  # torch views these as (N, C, 1, rest) and uses the 2-d kernel
        n, c, *rest = input._data.shape
        flat = int(np.prod(rest, dtype=np.int64))
        out = nll_loss(input.view(n, c, 1, flat), target.view(n, 1, flat), weight, None, ignore_index, None, reduction)
        return out.view(n, *rest) if reduction == "none" else out
    onehot, coef, no_weight = _nll_constants(input, target, weight, ignore_index, reduction)
    name = "NllLoss2DBackward0" if ndim == 4 else "NllLossBackward0"
    return apply(
        NllLoss, name, (input,), onehot=onehot, coef=coef, reduction=reduction,
        grad_node=name[:-1] + "Backward0", no_weight=no_weight,
    )  # fmt: skip


def cross_entropy(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0
):
    """Class-index targets: nll_loss(log_softmax(input, class dim)) (torch's nodes exactly);
    class-probability targets and label smoothing: loss_cross_entropy's composites."""
    from reference.nn import loss_cross_entropy

    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input._data.ndim == 0 or target._data.dtype.kind == "f":
        if target._data.dtype.kind != "f":
            raise RuntimeError("Expected floating point type for target with class probabilities, got Long")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return loss_cross_entropy.probability_targets(input, target, weight, reduction, label_smoothing, log_softmax)
    if label_smoothing > 0:
        return loss_cross_entropy.smoothed_class_targets(
            input, target, weight, ignore_index, reduction, label_smoothing, log_softmax, nll_loss
        )
    return nll_loss(
        log_softmax(input, _class_axis(input._data)), target, weight, ignore_index=ignore_index, reduction=reduction
    )


class LogSoftmax(Function):
    """Used only while the engine has no ``reference.log_softmax`` of its own."""

    @staticmethod
    def forward(ctx, a, dim):
        shifted = a - a.max(axis=dim, keepdims=True) if a.size else a
        with np.errstate(**QUIET):
            out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - xp.exp(out) * g.sum(axis=ctx.dim, keepdims=True)

    @staticmethod
    def jvp(ctx, t):
        (out,) = ctx.saved_tensors
        return t - (np.exp(out) * t).sum(axis=ctx.dim, keepdims=True)


def log_softmax(input, dim):
    import reference

    if hasattr(reference, "log_softmax"):
        return reference.log_softmax(input, dim)
    return apply(LogSoftmax, "LogSoftmaxBackward0", (input,), dim=dim % max(input._data.ndim, 1))


# -- binary_cross_entropy_with_logits --------------------------------------------------------------


def _log_sigmoid(x):
    """log(sigmoid(x)), stable on arrays; plain log(sigmoid) on Tensors (recorded backward)."""
    if tensor_mode(x):
        return xp.log((xp.exp(-x) + 1.0).reciprocal())
    return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))


def _sigmoid(x):
    if tensor_mode(x):
        return (xp.exp(-x) + 1.0).reciprocal()
    return 1.0 / (1.0 + np.exp(-x))


class BceWithLogits(Function):
    """loss = weight * ((1 - y) x - (1 + (pos_weight - 1) y) log_sigmoid(x))."""

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight, reduction):
        ctx.save_for_backward(x, y)
        ctx.weight, ctx.pos_weight, ctx.reduction, ctx.size = weight, pos_weight, reduction, x.size
        with np.errstate(**QUIET):
            return _reduce(BceWithLogits.losses(ctx, x, y), reduction)

    @staticmethod
    def losses(ctx, x, y):
        log_weight = 1.0 if ctx.pos_weight is None else (ctx.pos_weight - 1.0) * y + 1.0
        loss = (1.0 - y) * x - _log_sigmoid(x) * log_weight
        return loss if ctx.weight is None else loss * ctx.weight

    @staticmethod
    def slopes(ctx, x, y) -> tuple:
        """d loss / dx and d loss / dy, elementwise (arrays or Tensors)."""
        w, pw = ctx.weight, ctx.pos_weight
        s = _sigmoid(x)
        if pw is None:
            dx, dy = s - y, x * -1.0
        else:
            log_weight = y * constant(pw - 1.0, y) + 1.0
            dx = (s - 1.0) * log_weight - y + 1.0
            dy = x * -1.0 - _log_sigmoid(x) * constant(pw - 1.0, x)
        if w is not None:
            dx, dy = dx * constant(w, dx), dy * constant(w, dy)
        return dx, dy

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        up = _upstream(g, ctx.reduction, ctx.size)
        dx, dy = BceWithLogits.slopes(ctx, x, y)
        return dx * up, (dy * up if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.saved_tensors
        with np.errstate(**QUIET):
            dx, dy = BceWithLogits.slopes(ctx, x, y)
        tangent = (0 if tx is None else dx * tx) + (0 if ty is None else dy * ty)
        return _reduce(np.asarray(tangent, dtype=x.dtype), ctx.reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    _no_grad_argument(weight, "binary_cross_entropy_with_logits", "weight")
    _no_grad_argument(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    dt = np.result_type(input._data.dtype, target._data.dtype)
    w = None if weight is None else np.broadcast_to(weight._data.astype(dt), input._data.shape)
    pw = None if pos_weight is None else np.broadcast_to(pos_weight._data.astype(dt), input._data.shape)
    return apply(
        BceWithLogits, "BinaryCrossEntropyWithLogitsBackward0", (input, target),
        weight=w, pos_weight=pw, reduction=reduction,
    )  # fmt: skip
