"""normalize, cosine_similarity, pairwise_distance: composites in torch, composed from the same
ops in the same order so that the recorded nodes are torch's.

cosine_similarity clamps each norm at eps in place under no_grad (on a clone), as torch does:
where a norm is below eps the gradient still flows through the unclamped norm.
"""

from __future__ import annotations

import numpy as np

from reference.autograd.function import apply
from reference.nn.loss_cross_entropy import plus_number
from reference.ops.reduce.norms import VectorNorm


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps): DivBackward0 over ExpandBackward0 over
    ClampMinBackward0 over LinalgVectorNormBackward0."""
    if out is not None:
        raise NotImplementedError("reference.nn.functional.normalize: out= is not supported")
    denominator = input.norm(p, dim, keepdim=True).clamp_min(eps)
    return input / denominator.expand(*input.shape)


def _broadcast(x1, x2):
    """torch's expand_outplace: equal shapes stay as they are; otherwise both inputs are expanded
    (ExpandBackward0 each, also the one already of the broadcast shape)."""
    if x1._data.shape == x2._data.shape:
        return x1, x2
    shape = tuple(np.broadcast_shapes(x1._data.shape, x2._data.shape))
    return x1.expand(*shape), x2.expand(*shape)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    import reference
    from reference.ops import linalg as _  # noqa: F401  (reference.linalg is bound on import)

    x1, x2 = _broadcast(x1, x2)
    n1 = reference.linalg.vector_norm(x1, 2, dim, keepdim=True).clone()
    n2 = reference.linalg.vector_norm(x2, 2, dim, keepdim=True).clone()
    with reference.no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (dim 0 of 1-d inputs): at::norm, NormBackward1."""
    ndim = max(x1._data.ndim, x2._data.ndim)
    shifted = plus_number(x1 - x2, eps)  # at::norm's argument, x1 - x2 + eps: AddBackward1
    axis = 0 if ndim <= 1 else ndim - 1
    axes = () if shifted._data.ndim == 0 else (axis,)
    return apply(VectorNorm, "NormBackward1", (shifted,), ord=p, axes=axes, keepdim=bool(keepdim), dtype=None)
