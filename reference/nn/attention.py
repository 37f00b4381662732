"""scaled_dot_product_attention as torch's CPU kernels record it (no dropout).

softmax(q sqrt(s) @ (k^T sqrt(s)) + mask) @ v, with s = 1/sqrt(E) unless given. torch takes its
flash kernel for 4-d inputs of one batch shape with E == Ev and a mask that needs no gradient
(observed on 2.13): one ScaledDotProductFlashAttentionForCpuBackward0 node, with no forward-mode
rule and no double backward. Otherwise the math path: the two products are the engine's matmul
(UnsafeViewBackward0 over BmmBackward0 for batched inputs), the scalings MulBackward1, the mask
an AddBackward0 and the softmax a _safe_softmax (SafeSoftmaxBackward0). Both give 0, not nan, to
rows whose every score is masked out.
"""

from __future__ import annotations

import math

import numpy as np

from reference.autograd.function import Function, apply
from reference.nn._grad import linear_in_grad, tensor_mode
from reference.ops.pointwise.arithmetic import Mul

_FLASH = "_scaled_dot_product_flash_attention_for_cpu"


def _safe_softmax(a: np.ndarray) -> np.ndarray:
    """softmax along the last dim; a row that is all -inf gives zeros."""
    with np.errstate(invalid="ignore", over="ignore"):
        peak = a.max(axis=-1, keepdims=True)
        masked = np.isneginf(peak)
        e = np.exp(a - np.where(masked, 0, peak))
        return (e * (1.0 / np.where(masked, 1, e.sum(axis=-1, keepdims=True)))).astype(a.dtype, copy=False)


class SafeSoftmax(Function):
    @staticmethod
    def forward(ctx, a):
        out = _safe_softmax(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(axis=-1, keepdims=True))

    @staticmethod
    def jvp(ctx, t):
        (y,) = ctx.saved_tensors
        return y * (t - (t * y).sum(axis=-1, keepdims=True))


class FlashAttention(Function):
    """The whole attention as one node, its gradients computed on arrays."""

    @staticmethod
    def forward(ctx, q, k, v, mask, scale):
        root = q.dtype.type(math.sqrt(scale))
        scores = (q * root) @ (k.swapaxes(-1, -2) * root)
        probabilities = _safe_softmax(scores if mask is None else scores + mask)
        ctx.save_for_backward(q, k, v)
        ctx.probabilities, ctx.scale = probabilities, scale
        return probabilities @ v

    @staticmethod
    def backward(ctx, g):
        q, k, v = ctx.saved_tensors
        if tensor_mode(g):  # torch records a node that raises when differentiated
            arrays = tuple(t._data for t in (q, k, v))
            return tuple(
                linear_in_grad(f"{_FLASH}_backward", g, (q, k, v), lambda a, i=i: _flash_grads(ctx, a, *arrays)[i],
                               _not_implemented)
                for i in range(3)
            )  # fmt: skip
        return _flash_grads(ctx, g, q, k, v)

    @staticmethod
    def jvp(ctx, tq, tk, tv):
        raise NotImplementedError(
            f"Trying to use forward AD with {_FLASH} that does not support it because it has not been implemented yet."
            "\nPlease file an issue to PyTorch at https://github.com/pytorch/pytorch/issues/new?template=feature-request"
            ".yml so that we can prioritize its implementation or submit a PR adding the implementation to "
            "derivatives.yaml"
        )


def _not_implemented(_):
    raise RuntimeError(f"derivative for aten::{_FLASH}_backward is not implemented")


def _flash_grads(ctx, g, q, k, v) -> tuple:
    """Gradients of softmax(s q k^T + mask) v in q, k, v, given the probabilities P: dS = P * (dP - rowsum(dP * P))."""
    p, scale = ctx.probabilities, q.dtype.type(ctx.scale)
    dp = g @ v.swapaxes(-1, -2)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
    return (ds @ k) * scale, (ds.swapaxes(-1, -2) @ q) * scale, p.swapaxes(-1, -2) @ g


def _flash(query, key, value, mask) -> bool:
    """Whether torch 2.13 takes its CPU flash kernel for these arguments (observed)."""
    shapes = [tuple(t.shape) for t in (query, key, value)]
    return (
        all(len(s) == 4 for s in shapes)
        and shapes[0][:2] == shapes[1][:2] == shapes[2][:2]
        and shapes[0][-1] == shapes[2][-1]
        and (mask is None or not mask.requires_grad)
    )


def _mask_scores(attn_mask, is_causal: bool, rows: int, cols: int, like):
    """The additive mask: a float mask as given, a bool mask as 0 (keep) / -inf (drop)."""
    from reference.tensor import Tensor

    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
            )
        attn_mask = Tensor._make(np.tril(np.ones((rows, cols), bool)))
    if attn_mask is None or attn_mask._data.dtype != np.bool_:
        return attn_mask
    return Tensor._make(np.where(attn_mask._data, 0, -np.inf).astype(like._data.dtype))


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):  # fmt: skip
    if dropout_p != 0.0 or enable_gqa:
        raise NotImplementedError(
            "scaled_dot_product_attention: dropout_p and enable_gqa are not in the reference engine"
        )
    rows, width = query.shape[-2], query.shape[-1]
    scale = 1.0 / math.sqrt(width) if scale is None else scale
    mask = _mask_scores(attn_mask, is_causal, rows, key.shape[-2], query)
    if _flash(query, key, value, mask):
        additive = None if mask is None else mask._data.astype(query._data.dtype)
        node = "ScaledDotProductFlashAttentionForCpuBackward0"
        return apply(FlashAttention, node, (query, key, value), mask=additive, scale=scale)
    root = math.sqrt(scale)
    scores = apply(Mul, "MulBackward1", (query, root)) @ apply(Mul, "MulBackward1", (key.transpose(-2, -1), root))
    if mask is not None:
        scores = scores + mask
    return apply(SafeSoftmax, "SafeSoftmaxBackward0", (scores,)) @ value
