"""linear (addmm or matmul, composed the way torch composes it) and embedding (row lookup)."""

from __future__ import annotations

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.autograd.graph import bump_version
from reference.nn._grad import constant
from reference.nn._indexing import scatter_flat
from reference.ops import linalg, shape


class Addmm(Function):
    """bias + mat1 @ mat2 (bias broadcast to the product's shape)."""

    @staticmethod
    def forward(ctx, bias, m1, m2):
        ctx.save_for_backward(m1, m2)
        return bias + m1 @ m2

    @staticmethod
    def backward(ctx, g):
        m1, m2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        return g, (g @ xp.conj(m2.mT) if need[1] else None), (_mat2_grad(m1, g, m2) if need[2] else None)

    @staticmethod
    def jvp(ctx, tb, t1, t2):
        m1, m2 = ctx.saved_tensors
        parts = [tb, None if t1 is None else t1 @ m2, None if t2 is None else m1 @ t2]
        total = None
        for p in parts:
            if p is not None:
                total = p if total is None else total + p
        return total


def _mat2_grad(m1, g, m2):
    """``m1^H @ g``, laid out like ``mat2`` as torch lays it out: for linear's ``weight.t()`` the
    transpose of a contiguous product, so the weight's own gradient comes out contiguous (and
    the SGD step on it runs at full speed instead of mixing C and Fortran order)."""
    if type(m2) is np.ndarray and type(g) is np.ndarray and m2.flags.f_contiguous and not m2.flags.c_contiguous:
        return (g.T @ xp.conj(m1)).T
    return xp.conj(m1.mT) @ g


def _addmm(bias, m1, m2):
    (n, k1), (k2, m) = m1._data.shape, m2._data.shape
    if k1 != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k1} and {k2}x{m})")
    if m1._data.dtype != m2._data.dtype:
        d1, d2 = (dtypes.scalar_type_name(t._data.dtype) for t in (m1, m2))
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {d1} and {d2}")
    if bias._data.dtype != m1._data.dtype:
        d1, d2 = (dtypes.scalar_type_name(t._data.dtype) for t in (bias, m2))
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {d1} and {d2}")
    target = (n, m)
    try:
        np.broadcast_to(np.empty(bias._data.shape, dtype=np.bool_), target)
    except ValueError:
        bias.expand(*target)  # raises torch's message
    return apply(Addmm, "AddmmBackward0", (bias, m1, m2))


def linear(input, weight, bias=None):
    """input @ weight.T + bias. torch records AddmmBackward0 for a 2-d input with a bias, and
    for other ranks (contiguous, 1-d bias) a view to 2-d, addmm, and a view back; otherwise
    matmul (then AddBackward0 for the bias)."""
    d_in, d_w = input._data.ndim, weight._data.ndim
    if d_in == 0 or d_w == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {d_in}D and {d_w}D")
    if bias is not None:
        if d_w == 1:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        if d_in == 2:
            return _addmm(bias, input, shape.t(weight))
        if input._data.flags.c_contiguous and bias._data.ndim == 1:
            lead = input._data.shape[:-1]
            flat = shape.reshape(input, int(np.prod(lead, dtype=np.int64)), input._data.shape[-1])
            out = _addmm(bias, flat, shape.t(weight))
            return shape.view(out, *lead, out._data.shape[1])
    out = linalg.matmul(input, shape.t(weight))
    return out if bias is None else out + bias


# -- embedding -------------------------------------------------------------------------------


class Embedding(Function):
    """out[..., :] = weight[index, :]; the gradient adds rows back, except at padding_idx."""

    saved_attributes = ("flat",)

    @staticmethod
    def forward(ctx, weight, index, padding_idx):
        dim = weight.shape[1]
        ctx.flat = index[..., None] * dim + np.arange(dim)  # weight.ravel() positions read
        ctx.keep = None if padding_idx is None else (index != padding_idx)[..., None].astype(weight.dtype)
        ctx.weight_shape = weight.shape
        return weight[index]

    @staticmethod
    def backward(ctx, g):
        if ctx.keep is not None:
            g = g * constant(ctx.keep, g)
        return scatter_flat(g, ctx.flat, ctx.weight_shape)

    @staticmethod
    def jvp(ctx, t):
        return t.reshape(-1)[ctx.flat]


def _renorm_rows(weight, index: np.ndarray, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_, observed: under no_grad, each row that ``index`` reads whose
    ``norm_type``-norm exceeds ``max_norm`` is multiplied in place by max_norm / (norm + 1e-7)
    (the scale rounded to the weight's dtype); the weight's version goes up by one, even when
    no row changes (an empty index too). Autograd
    does not see it: the gradient stays the plain scatter of the output gradient."""
    data = weight._data
    for row in np.unique(index):
        values = data[row]
        norm = (
            float(np.max(np.abs(values)))
            if np.isinf(norm_type)
            else float(np.sum(np.abs(values) ** data.dtype.type(norm_type)) ** (1.0 / norm_type))
        )
        if norm > max_norm:
            data[row] = values * data.dtype.type(max_norm / (norm + 1e-7))
    bump_version(weight._vc)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("reference.nn.functional.embedding: scale_grad_by_freq and sparse are not supported")
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight._data.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= num
    index = input._data
    if index.dtype not in (np.int64, np.int32):
        from reference.ops.shape import _torch_type

        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {_torch_type(input)} instead (while checking arguments for embedding)"
        )
    if index.size and (index.min() < 0 or index.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, index, max_norm, norm_type)
    return apply(Embedding, "EmbeddingBackward0", (weight,), index=index, padding_idx=padding_idx)


__all__ = ["embedding", "linear"]
