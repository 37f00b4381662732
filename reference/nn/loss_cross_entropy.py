"""cross_entropy with class-probability targets, and with label smoothing: composites in torch,
composed here from the same ops in the same order, so the recorded nodes are torch's.

Probability targets: -(log_softmax(x) * t [* w]).sum(class dim) per sample; 'mean' divides the
total by the number of samples (a Python number: DivBackward1). Smoothing mixes t with the
uniform distribution, t (1 - s) + s / C, and the target is differentiable.

Class-index targets with smoothing: (1 - s) nll_loss + (s / C) smooth, where smooth is
-(log_softmax(x) [* w]).sum(class dim), 0 where the target is ignore_index, and its 'mean'
divides by the number of counted samples (or by their total class weight): DivBackward0.
"""

from __future__ import annotations

import numpy as np

from reference.autograd.function import Function, apply


class _WithNumber(Function):
    """x * c, x + c or x / c for a Python number c, as torch's C++ composites record them
    (MulBackward1, AddBackward1, DivBackward1: one edge), where Python's operators on a Tensor
    record the Tensor-Tensor nodes."""

    @staticmethod
    def forward(ctx, a, c, kind):
        ctx.c, ctx.kind = c, kind
        with np.errstate(all="ignore"):
            return {"mul": a * c, "add": a + c, "div": a / c}[kind].astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return {"mul": lambda: g * ctx.c, "add": lambda: g, "div": lambda: g / ctx.c}[ctx.kind]()

    jvp = backward


def times_number(x, c):
    return apply(_WithNumber, "MulBackward1", (x,), c=c, kind="mul")


def plus_number(x, c):
    return apply(_WithNumber, "AddBackward1", (x,), c=c, kind="add")


def divided_by_number(x, c):
    return apply(_WithNumber, "DivBackward1", (x,), c=c, kind="div")


def _weight_view(weight, ndim: int):
    """The class weights shaped to broadcast along the class dim (1 for input rank >= 2)."""
    if ndim < 2:
        return weight
    shape = [1] * ndim
    shape[1] = weight.shape[0]
    return weight.reshape(*shape)


def probability_targets(input, target, weight, reduction: str, label_smoothing: float, log_softmax):
    ndim = input._data.ndim
    axis = 0 if ndim == 1 else 1
    classes = input._data.shape[axis]
    if target._data.shape != input._data.shape:
        raise RuntimeError(
            f"Expected input and target to have the same shape, but got {list(input.shape)} and {list(target.shape)}"
        )
    logp = log_softmax(input, axis)
    if label_smoothing > 0:
        target = plus_number(times_number(target, 1 - label_smoothing), label_smoothing / classes)
    terms = logp * target
    if weight is not None:
        terms = terms * _weight_view(weight, ndim)
    if reduction == "none":
        return -terms.sum(axis)
    total = -terms.sum()
    if reduction == "sum":
        return total
    return divided_by_number(total, input._data.size // classes)


def smoothed_class_targets(
    input, target, weight, ignore_index: int, reduction: str, label_smoothing: float, log_softmax, nll_loss
):
    import reference

    ndim = input._data.ndim
    axis = 0 if ndim == 1 else 1
    classes = input._data.shape[axis]
    logp = log_softmax(input, axis)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    ignored = target._data == ignore_index
    smooth = -(logp * _weight_view(weight, ndim)).sum(axis) if weight is not None else -logp.sum(axis)
    smooth = smooth.masked_fill(reference.from_numpy(np.asarray(ignored)), 0.0)
    if reduction == "mean":
        counted = target._data[~ignored] if ignored.ndim else target._data.reshape(-1)[~ignored.reshape(-1)]
        if weight is not None:
            denominator = weight._data[counted.astype(np.int64)].sum()
        else:
            denominator = np.asarray(counted.size, dtype=np.int64)
        smooth = smooth.sum() / reference.from_numpy(np.asarray(denominator))
    elif reduction == "sum":
        smooth = smooth.sum()
    return times_number(nll, 1 - label_smoothing) + times_number(smooth, label_smoothing / classes)
