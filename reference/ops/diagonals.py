"""trace (TraceBackward0) and diagonal (DiagonalBackward0, a view): the diagonal of a matrix as
a strided view (``_diagonal_view``, also the shape family's diag/diag_embed), and its adjoint,
zeros with the gradient on the diagonal, itself differentiable for create_graph."""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops import shape as shapes
from reference.ops.operands import normalize_dim


class Trace(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.shape = a.shape
        return np.trace(a, dtype=np.int64 if a.dtype.kind in "bi" else None)

    @staticmethod
    def backward(ctx, g):
        if type(g) is np.ndarray:
            out = np.zeros(ctx.shape, g.dtype)
            _diagonal_view(out, 0, 0, 1)[...] = g
            return out
        # recorded as torch records it: index_fill of the flattened matrix, then a view
        n, m = ctx.shape
        flat = apply(_FillFlatDiagonal, "IndexFillBackward1", (g,), n=n, m=m)
        return shapes.view(flat, n, m)

    @staticmethod
    def jvp(ctx, t):
        return np.trace(t)


class _FillFlatDiagonal(Function):  # a flattened n x m zero matrix with g on its diagonal
    @staticmethod
    def forward(ctx, g, n, m):
        ctx.n, ctx.m = n, m
        out = np.zeros(n * m, g.dtype)
        out[:: m + 1][: min(n, m)] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        mask = np.zeros(ctx.n * ctx.m, bool)
        mask[:: ctx.m + 1][: min(ctx.n, ctx.m)] = True
        return (gg * mask.astype(xp.data(gg).dtype)).sum()

    @staticmethod
    def jvp(ctx, t):
        return _FillFlatDiagonal.forward(ctx, t, ctx.n, ctx.m)


def trace(input):
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return apply(Trace, "TraceBackward0", (input,))


def _diagonal_view(a: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    """A writable view of the diagonal (torch's layout: the other dims, then the diagonal)."""
    b = np.moveaxis(a, (d1, d2), (-2, -1))
    b = b[..., :, offset:] if offset >= 0 else b[..., -offset:, :]
    length = min(b.shape[-2], b.shape[-1])
    strides = (*b.strides[:-2], b.strides[-2] + b.strides[-1])
    return np.lib.stride_tricks.as_strided(b, (*b.shape[:-2], length), strides)


class Diagonal(Function):
    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        ctx.shape, ctx.where = a.shape, (offset, d1, d2)
        return _diagonal_view(a, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return _embed_diagonal(g, ctx.shape, ctx.where)

    @staticmethod
    def jvp(ctx, t):
        return _diagonal_view(t, *ctx.where)


class DiagonalEmbed(Function):  # diagonal's backward, itself differentiable (create_graph)
    @staticmethod
    def forward(ctx, g, shape, where):
        ctx.shape, ctx.where = shape, where
        out = np.zeros(shape, g.dtype)
        _diagonal_view(out, *where)[...] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        offset, d1, d2 = ctx.where
        if type(gg) is np.ndarray:
            return _diagonal_view(gg, offset, d1, d2)
        return diagonal(gg, offset, d1, d2)

    @staticmethod
    def jvp(ctx, t):
        return DiagonalEmbed.forward(ctx, t, ctx.shape, ctx.where)


def _embed_diagonal(g, shape: tuple, where: tuple):
    if type(g) is np.ndarray:
        out = np.zeros(shape, g.dtype)
        _diagonal_view(out, *where)[...] = g
        return out
    return apply(DiagonalEmbed, "DiagonalBackwardBackward0", (g,), shape=shape, where=where)


def diagonal(input, offset=0, dim1=0, dim2=1):
    n = input._data.ndim
    d1, d2 = normalize_dim(dim1, n), normalize_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(Diagonal, "DiagonalBackward0", (input,), offset=int(offset), d1=d1, d2=d2)
