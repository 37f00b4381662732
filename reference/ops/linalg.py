"""Linear algebra: the matrix products (dot, mv, mm, bmm, and matmul composed from them
the way torch composes it, so ``grad_fn`` chains carry torch's node names: MmBackward0,
UnsafeViewBackward0 over BmmBackward0, ...) and outer. trace and diagonal live in
diagonals.py, einsum in einsum.py, inv/det/solve in solvers.py, the decompositions, matrix functions, least squares
and matrix norms in their own modules (reference.linalg exposes them); this module lists the
whole family's top-level functions and Tensor methods."""

from __future__ import annotations

import math

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply, sum_tangents
from reference.ops import shape as shapes
from reference.ops.diagonals import diagonal, trace
from reference.ops.einsum import einsum
from reference.ops.matrix_functions import logdet, matrix_exp, matrix_power, slogdet
from reference.ops.pointwise import mul
from reference.ops.solvers import det, inverse
from reference.ops.triangular import cholesky_solve


def _same_dtype(a, b, name: str = "m1 and m2") -> None:
    if a._data.dtype != b._data.dtype:
        short = {"float32": "float", "float64": "double", "int64": "long"}
        da, db = (short.get(x._data.dtype.name, x._data.dtype.name) for x in (a, b))
        raise RuntimeError(f"expected {name} to have the same dtype, but got: {da} != {db}")


def _type_name(t) -> str:
    return dtypes.scalar_type_name(t._data.dtype)


class Dot(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.dot(a, b)

    @staticmethod
    def backward(ctx, g):  # complex: the cotangent times the conjugate of the other factor
        a, b = ctx.saved_tensors
        return g * xp.conj(b), g * xp.conj(a)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return sum_tangents(None if ta is None else np.dot(ta, b), None if tb is None else np.dot(a, tb))


class Vdot(Function):
    """conj(a) . b: antiholomorphic in a, so a's gradient is conj(g) b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.vdot(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return xp.conj(g) * b, g * a

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return sum_tangents(None if ta is None else np.vdot(ta, b), None if tb is None else np.vdot(a, tb))


class Mv(Function):
    @staticmethod
    def forward(ctx, m, v):
        ctx.save_for_backward(m, v)
        return m @ v

    @staticmethod
    def backward(ctx, g):
        m, v = ctx.saved_tensors
        return g.reshape((-1, 1)) * xp.conj(v).reshape((1, -1)), xp.conj(m.mT) @ g

    @staticmethod
    def jvp(ctx, tm, tv):
        m, v = ctx.saved_tensors
        return sum_tangents(None if tm is None else tm @ v, None if tv is None else m @ tv)


class Mm(Function):  # also bmm: the same rule on a batch of matrices
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _product(g, xp.conj(b.mT)), _product(xp.conj(a.mT), g)  # G B^H, A^H G

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return sum_tangents(None if ta is None else ta @ b, None if tb is None else a @ tb)


def _product(a, b):
    """``a @ b`` of two matrices or two equal batches of them; recorded as mm/bmm (as torch's
    backward records it) when the backward itself is being recorded."""
    if type(a) is np.ndarray and type(b) is np.ndarray:
        return a @ b
    return bmm(a, b) if a.ndim == 3 else mm(a, b)


def dot(input, other):
    _check_vectors(input, other, "dot")
    return apply(Dot, "DotBackward0", (input, other))


def _check_vectors(input, other, name: str) -> None:
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.shape != other._data.shape:
        n1, n2 = input._data.size, other._data.size
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n1}] and src [{n2}] to have the same number "
            f"of elements, but got {n1} and {n2} elements respectively"
        )
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(
            f"{name} : expected both vectors to have same dtype, but found {_type_name(input)} and {_type_name(other)}"
        )


def vdot(input, other):
    _check_vectors(input, other, "dot")  # torch's vdot names itself dot in this message
    return apply(Vdot, "VdotBackward0", (input, other))


def inner(input, other):
    """torch's tensordot over the last dims: a view of mm(A (.., k), B (.., k)^T)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return mul(input, other)
    sa, sb = input._data.shape, other._data.shape
    if sa[-1] != sb[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes {list(sa)} and {list(sb)}"
        )
    if input._data.dtype != other._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    product = mm(shapes.reshape(input, -1, sa[-1]), shapes.t(shapes.reshape(other, -1, sb[-1])))
    return shapes.view(product, *sa[:-1], *sb[:-1])


class Addmm(Function):
    """beta C + alpha A B (AddmmBackward0); beta = 0 ignores C (its nan and inf too)."""

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        ctx.save_for_backward(a, b)
        product = a @ b
        product = product if alpha == 1 else product * alpha
        return np.broadcast_to(c * beta, product.shape) + product if beta else product

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        alpha = ctx.alpha.conjugate()  # Python numbers: no NumPy scalar meets a Tensor
        gc = g * ctx.beta.conjugate() if ctx.beta else g * 0
        return gc, _product(g, xp.conj(b.mT)) * alpha, _product(xp.conj(a.mT), g) * alpha

    @staticmethod
    def jvp(ctx, tc, ta, tb):
        a, b = ctx.saved_tensors
        product = sum_tangents(None if ta is None else ta @ b, None if tb is None else a @ tb)
        tc = None if tc is None or not ctx.beta else tc * ctx.beta
        return sum_tangents(tc, None if product is None else product * ctx.alpha)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    _check_mm(mat1, mat2)
    if input._data.dtype != mat1._data.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {_type_name(input)} and {_type_name(mat1)}"
        )
    return apply(Addmm, "AddmmBackward0", (input, mat1, mat2), beta=beta, alpha=alpha)


def mv(input, vec):
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        r, c = input._data.shape
        raise RuntimeError(f"size mismatch, got input ({r}), mat ({r}x{c}), vec ({vec._data.shape[0]})")
    if input._data.dtype != vec._data.dtype:  # torch's addmv names (result, mat, vec); result has vec's dtype
        v, m = _type_name(vec), _type_name(input)
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {v}, {m}, and {v}")
    return apply(Mv, "MvBackward0", (input, vec))


def mm(input, mat2):
    _check_mm(input, mat2)
    return apply(Mm, "MmBackward0", (input, mat2))


def _check_mm(input, mat2) -> None:
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    (n, k1), (k2, m) = input._data.shape, mat2._data.shape
    if k1 != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k1} and {k2}x{m})")
    _same_dtype(input, mat2)


def bmm(input, mat2):
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    (b, _, k), (b2, k2, _) = input._data.shape, mat2._data.shape
    if (b2, k2) != (b, k):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: [{b2}, {k2}]."
        )
    if input._data.dtype != mat2._data.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found {_type_name(mat2)}")
    return apply(Mm, "BmmBackward0", (input, mat2))


class _SqueezeInPlace(shapes.Squeeze):
    """torch's ``squeeze_`` on matmul's own mm result: the output is not a view of anything."""

    may_view = False


def _should_fold(t1, t2) -> bool:
    """torch folds an N-d @ (1-d or 2-d) product into one mm/mv when it can do so without a
    copy, or when the smaller operand requires grad (to keep its gradient small)."""
    larger_first = t1._data.ndim >= t2._data.ndim
    big, small = (t1, t2) if larger_first else (t2, t1)
    if not (big._data.ndim >= 3 and small._data.ndim <= 2):
        return False
    if small.requires_grad:
        return True
    if t1._data.ndim == 2:
        return False
    folded = big._data if larger_first else np.swapaxes(big._data, -1, -2)
    if folded.size == 0:
        return True
    strides, shape = folded.strides, folded.shape
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(folded.ndim - 2))


def matmul(input, other):
    d1, d2 = input._data.ndim, other._data.ndim
    if d1 == 0 or d2 == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {d1}D and {d2}D")
    if d1 == 1 and d2 == 1:
        return dot(input, other)
    if d1 == 2 and d2 == 1:
        return mv(input, other)
    if d1 == 1 and d2 == 2:  # torch's in-place squeeze_ names its node SqueezeBackward4
        return apply(_SqueezeInPlace, "SqueezeBackward4", (mm(shapes.unsqueeze(input, 0), other),), axes=(0,))
    if d1 == 2 and d2 == 2:
        return mm(input, other)
    if _should_fold(input, other):
        return _folded(input, other)
    return _batched(input, other)


def _folded(input, other):
    transpose = other._data.ndim > input._data.ndim
    t1 = shapes.mT(other) if transpose else input
    t2 = (shapes.t(input) if input._data.ndim == 2 else input) if transpose else other
    out_shape = t1._data.shape[:-1]
    folded = shapes.reshape(t1, math.prod(out_shape), t1._data.shape[-1])
    if t2._data.ndim == 2:
        out = shapes._unsafe_view(mm(folded, t2), (*out_shape, t2._data.shape[1]))
        return shapes.contiguous(shapes.mT(out)) if transpose else out
    return shapes._unsafe_view(mv(folded, t2), out_shape)


def _batched(input, other):
    d1, d2 = input._data.ndim, other._data.ndim
    s1, s2 = input._data.shape, other._data.shape
    n = s1[-2] if d1 > 1 else 1
    m1 = s1[-1]
    m2 = s2[-2] if d2 > 1 else s2[0]
    p = s2[-1] if d2 > 1 else 1
    batch1, batch2 = s1[: max(d1 - 2, 0)], s2[: max(d2 - 2, 0)]
    if d1 == 3 and d2 == 3 and batch1[0] != batch2[0]:  # torch squeezes a grad-requiring batch of 1
        if batch1[0] == 1 and input.requires_grad:
            return matmul(shapes.squeeze(input, 0), other)
        if batch2[0] == 1 and other.requires_grad:
            return matmul(input, shapes.squeeze(other, 0))
    try:
        batch = np.broadcast_shapes(batch1, batch2)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({batch1}) must match the size of tensor b ({batch2}) at non-singleton dimension"
        ) from None
    if m1 != m2:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{math.prod(batch)}, {m1}] "
            f"but got: [{math.prod(batch)}, {m2}]."
        )
    nb = math.prod(batch)
    a = shapes.reshape(shapes.expand(input, *batch, n, m1), nb, n, m1)
    if d2 == 1:
        b = shapes.unsqueeze(shapes.reshape(shapes.expand(other, *batch, m2), nb, m2), 2)
    else:
        b = shapes.reshape(shapes.expand(other, *batch, m2, p), nb, m2, p)
    out_shape = tuple(batch) + ((n,) if d1 > 1 else ()) + ((p,) if d2 > 1 else ())
    product = bmm(a, b)
    if d2 == 1:
        product = shapes.squeeze(product, -1)
    return shapes._unsafe_view(product, out_shape)


def rmatmul(input, other):
    return matmul(other, input)


# -- outer ----------------------------------------------------------------------------------


def outer(input, vec2):
    """torch records ``input.reshape(-1, 1) * vec2``: MulBackward0 over ViewBackward0."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return mul(shapes.reshape(input, input._data.shape[0], 1), vec2)


# Top-level functions (``reference.matmul``) and Tensor methods (``x.matmul``, ``@``).
__all__ = [
    "addmm", "bmm", "cholesky_solve", "det", "diagonal", "dot", "einsum", "ger", "inner", "inverse", "logdet",
    "matmul", "matrix_exp", "matrix_power", "mm", "mv", "outer", "slogdet", "trace", "vdot",
]  # fmt: skip
ger = outer
METHODS = {
    "matmul": matmul, "__matmul__": matmul, "__rmatmul__": rmatmul,
    "mm": mm, "mv": mv, "dot": dot, "vdot": vdot, "inner": inner, "addmm": addmm, "bmm": bmm,
    "outer": outer, "ger": outer,
    "trace": trace, "diagonal": diagonal, "inverse": inverse, "det": det,
    "logdet": logdet, "slogdet": slogdet, "matrix_exp": matrix_exp, "matrix_power": matrix_power,
    "cholesky_solve": cholesky_solve,
}  # fmt: skip
