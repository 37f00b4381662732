"""Vector norms: ``reference.linalg.vector_norm`` and ``norm`` (torch.norm / Tensor.norm),
for any order: 2, 1, inf, -inf, 0 and general p, including p < 1 and negative p.

torch's conventions where the norm is not differentiable: the gradient is 0 at the zero
vector (every p > 0), sign(x) for p = 1 (0 at 0), split evenly among the ties of the
largest (smallest) |x| for inf (-inf), and none at all for p = 0 (a count).
"""

from __future__ import annotations

import math
from numbers import Number

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.operands import normalize_dim
from reference.ops.reduce.axes import QUIET, as_constant, axes_of, cast, is_tensor, kept_shape, torch_type_name

INF = math.inf


class VectorNorm(Function):
    """LinalgVectorNormBackward0, for every order."""

    @staticmethod
    def forward(ctx, a, ord, axes, keepdim, dtype):
        ctx.ord, ctx.axes, ctx.keepdim, ctx.dtype = ord, axes, keepdim, dtype
        ctx.kept = kept_shape(a.shape, axes)
        x = cast(a, dtype)
        with np.errstate(**QUIET):
            out = _norm(x, ord, axes, keepdim)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors  # read first: a second backward fails here, as in torch
        if ctx.ord == 0:  # a count: no gradient at all (torch reports the input as unused)
            return None
        return _norm_backward(cast(a, ctx.dtype), out.reshape(ctx.kept), g.reshape(ctx.kept), ctx.ord, ctx.axes)

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved_tensors
        if ctx.ord == 0:
            return np.zeros_like(out)
        r = out.reshape(ctx.kept)
        derivative = _norm_backward(cast(a, ctx.dtype), r, np.ones_like(r), ctx.ord, ctx.axes)
        return np.real(t * xp.conj(derivative)).sum(axis=ctx.axes, keepdims=ctx.keepdim)


def _norm(x: np.ndarray, ord: float, axes: tuple, keepdim: bool) -> np.ndarray:
    if x.dtype.kind == "c":  # the norm of complex input is the norm of its moduli (real)
        if ord == 0:
            return (x != 0).sum(axis=axes, keepdims=keepdim).astype(x.real.dtype)
        x = np.abs(x)
    if ord == 2:
        return np.sqrt((x * x).sum(axis=axes, keepdims=keepdim))
    magnitude = np.abs(x)
    if ord == 1:
        return magnitude.sum(axis=axes, keepdims=keepdim)
    if ord == INF:
        return magnitude.max(axis=axes, keepdims=keepdim, initial=0)
    if ord == -INF:
        return magnitude.min(axis=axes, keepdims=keepdim, initial=INF)
    if ord == 0:
        return (x != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
    return (magnitude**ord).sum(axis=axes, keepdims=keepdim) ** (1.0 / ord)


def _norm_backward(x, r, g, ord: float, axes: tuple):
    """g * d norm / d x, with r the norm and g the cotangent (reduced dims kept); Tensor
    expressions of x, r and g under create_graph, with masks and signs as constants. The
    formulas are torch's, so second derivatives at the edges are torch's too."""
    xd, rd = xp.data(x), xp.data(r)
    sign = as_constant(np.sign(xd), xd)  # x / |x| for complex x (NumPy's sign is torch's sgn)
    if xd.dtype.kind == "c" and ord not in (1, 2) and abs(ord) != INF:
        # x |x|^(p-2): sign(x) is not locally constant off the real line, so keep x itself
        with np.errstate(**QUIET):  # under create_graph |x|^(p-2) is differentiated too
            scale = _modulus(x) ** (ord - 2) if is_tensor(x) else np.abs(xd) ** (ord - 2)
            powered = xp.where(xd == 0, 0.0, x * scale)
        return powered * xp.where(rd == 0, 0.0, g / r ** (ord - 1))
    if xd.dtype.kind == "c" and is_tensor(x):  # x / |x| turns with x off the real line: record it
        import reference

        sign = reference.sgn(x)
    if ord == 1:
        return g * sign
    if abs(ord) == INF:  # ties of the extreme |x| share evenly
        hit = np.abs(xd) == rd
        with np.errstate(**QUIET):
            return g * (sign * as_constant(hit / hit.sum(axis=axes, keepdims=True), np.abs(xd)))
    if ord < 1:  # |x|^(p-1) is infinite at 0: torch takes 0 there; r^(1-p) vanishes at r = 0
        powered = xp.where(xd == 0, 0.0, (x * sign) ** (ord - 1))
        return powered * sign * (g * r ** (1 - ord))
    if ord == 2:  # torch masks x / r, so a second derivative at the zero vector is NaN, as in torch
        return g * xp.where(rd == 0, 0.0, x / r)
    scale = xp.where(rd == 0, 0.0, g / r ** (ord - 1))  # 0 at the zero vector
    return (x * sign) ** (ord - 1) * sign * scale


def _modulus(x):
    """|x| of a complex Tensor, as sqrt(x conj(x)) from recorded ops (twice differentiable)."""
    return (x * x.conj()).real.sqrt()


def _ord_text(ord: float) -> str:
    if ord in (INF, -INF):
        return "inf" if ord > 0 else "-inf"
    return f"{ord:g}" if isinstance(ord, float) else str(ord)


def _check_empty(data: np.ndarray, ord: float, dim) -> None:
    """Orders without an identity (inf, and p < 0) cannot reduce an empty slice."""
    if not (ord < 0 or ord == INF):
        return
    given = () if dim is None else ((dim,) if isinstance(dim, (int, np.integer)) else tuple(dim))
    if not given:
        if data.size == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm on an empty tensor because the "
                "operation does not have an identity"
            )
        return
    for d in given:
        if data.ndim and data.shape[normalize_dim(d, data.ndim)] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm on the dimension {d}because this "
                "dimension is empty and the operation does not have an identity"
            )


def _norm_dtype(data: np.ndarray, dtype) -> np.dtype | None:
    """The dtype to compute in, after torch's checks on the input and ``dtype``."""
    if dtype is None:
        if data.dtype.kind not in "fc":
            raise RuntimeError(
                "linalg.vector_norm: Expected a floating point or complex tensor as input. "
                f"Got {torch_type_name(data.dtype)}"
            )
        return None
    target = np.dtype(dtype.np)
    if target.kind not in "fc":
        raise RuntimeError(
            f"linalg.vector_norm: dtype should be floating point or complex, but got {torch_type_name(target)}"
        )
    if data.dtype.kind == "f" and data.dtype.itemsize > target.itemsize:
        raise RuntimeError(
            f"linalg.vector_norm: the dtype of the input ({torch_type_name(data.dtype)}) should be convertible "
            f"without narrowing to the specified dtype ({torch_type_name(target)})"
        )
    return None if target == data.dtype else target


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.vector_norm``: the ``ord``-norm over ``dim`` (all elements by default)."""
    if isinstance(ord, bool) or not isinstance(ord, Number):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not {type(ord).__name__}")
    data = x._data
    np_dtype = _norm_dtype(data, dtype)
    axes = axes_of(dim, data.ndim)
    _check_empty(data, ord, dim)
    return apply(VectorNorm, "LinalgVectorNormBackward0", (x,), ord=ord, axes=axes, keepdim=bool(keepdim),
                 dtype=np_dtype)  # fmt: skip


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """``torch.norm``/``Tensor.norm``: vector norms (``'fro'`` over at most two dims is the
    2-norm); the nuclear norm is not implemented."""
    if out is not None:
        raise NotImplementedError("norm(out=...) is not supported by the reference engine")
    if p is None:
        p = 2
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm(p='nuc'), the nuclear norm, is not implemented in the reference engine")
        if p != "fro":
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def norm_method(self, p="fro", dim=None, keepdim=False, dtype=None):
    """``Tensor.norm``: like ``torch.norm``, with ``dtype`` fourth (there is no ``out``)."""
    return norm(self, p, dim, keepdim, dtype=dtype)


__all__ = ["norm"]
