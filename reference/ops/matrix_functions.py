"""Matrix functions and products: ``linalg.matrix_exp`` (LinalgMatrixExpBackward0),
``linalg.slogdet`` (LinalgSlogdetBackward0) and ``logdet``, ``linalg.matrix_power``,
``linalg.multi_dot``, ``linalg.cross`` (LinalgCrossBackward0) and ``linalg.vecdot``.

matrix_exp: scaling and squaring with the degree-13 Padé approximant (Higham, 2005). Its
derivative in direction E is the upper-right block of exp([[A, E], [0, A]]) (Mathias, 1996);
the backward is that block for exp([[A^H, G], [0, A^H]]), computed by this same op, so a
recorded backward differentiates again.

slogdet of a complex matrix: log|det A| is real and the sign det A / |det A| complex, with
d log|det A| = Re tr(A^-1 dA) and d sign = i sign Im tr(A^-1 dA); logdet is log(sign) + log|det A|
there (torch's AddBackward0), and a where on the sign for real matrices.
"""

from __future__ import annotations

import math

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply, sum_tangents
from reference.ops.linalg_tools import check_float_matrix, is_tensor, live, mh

# -- matrix_exp -----------------------------------------------------------------------------

_PADE13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
    10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)  # fmt: skip
_THETA13 = 5.371920351148152  # the largest 1-norm for which Padé 13 is accurate to double precision


def _expm(a: np.ndarray) -> np.ndarray:
    """exp of one matrix, in float64."""
    n = a.shape[-1]
    norm = np.abs(a).sum(axis=0).max() if n else 0.0
    if not np.isfinite(norm):
        return np.full_like(a, np.nan)
    squarings = max(0, math.ceil(math.log2(norm / _THETA13))) if norm > 0 else 0
    a = a / 2.0**squarings
    b = _PADE13
    eye = np.eye(n)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for _ in range(squarings):
        r = r @ r
    return r


def expm_array(a: np.ndarray) -> np.ndarray:
    n = a.shape[-1]
    flat = a.reshape(-1, n, n).astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    out = np.stack([_expm(m) for m in flat]) if flat.shape[0] else flat
    return out.reshape(a.shape).astype(a.dtype)


def _block(a, e):
    """[[A, E], [0, A]] (arrays or Tensors)."""
    if is_tensor(a) or is_tensor(e):
        from reference.ops.linalg_tools import as_tensor
        from reference.ops.shape_join import cat

        a, e = as_tensor(a), as_tensor(e)
        zeros = a * 0.0
        return cat([cat([a, e], -1), cat([zeros, a], -1)], -2)
    a, e = np.broadcast_arrays(a, e)
    return np.concatenate([np.concatenate([a, e], -1), np.concatenate([np.zeros_like(a), a], -1)], -2)


class LinalgMatrixExp(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return expm_array(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        block = _block(mh(a), g)  # exp([[A^H, G], [0, A^H]]): the adjoint of the Fréchet derivative
        big = matrix_exp(block) if is_tensor(block) else expm_array(block)
        return big[..., :n, n:]

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        return expm_array(_block(a, t))[..., :n, n:]


def matrix_exp(A):  # noqa: N803 - torch's argument name
    check_float_matrix("linalg.matrix_exp", A, square=True)
    return apply(LinalgMatrixExp, "LinalgMatrixExpBackward0", (A,))


# -- slogdet, logdet ------------------------------------------------------------------------


class LinalgSlogdet(Function):
    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        sign, logabs = np.asarray(sign, a.dtype), np.asarray(logabs, a.real.dtype)
        ctx.save_for_backward(a, sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, gsign, glog):  # gA = c A^-H, c = g_log + i Im(conj(sign) g_sign) (real: g_log)
        a, sign = ctx.saved_tensors
        complex_case = xp.data(a).dtype.kind == "c"
        glog, gsign = live(glog, gsign if complex_case else None)  # a real sign has no derivative
        if glog is None and gsign is None:
            return None
        c = 0.0 if glog is None else glog
        if gsign is not None:
            c = c + 1j * (xp.conj(sign) * gsign).imag
        if is_tensor(a) or is_tensor(c):
            from reference.ops.solvers import inv

            return c.unsqueeze(-1).unsqueeze(-1) * mh(inv(a))
        return np.asarray(c)[..., None, None] * mh(np.linalg.inv(a))

    @staticmethod
    def jvp(ctx, t):
        a, sign = ctx.saved_tensors
        trace = np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)
        if a.dtype.kind == "c":
            return 1j * sign * trace.imag, trace.real
        return np.zeros_like(trace), trace


def slogdet(A, *, out=None):  # noqa: N803
    """``torch.linalg.slogdet``: (sign, log|det A|); the sign's derivative is zero."""
    return _slogdet(A, "linalg.slogdet")


def _slogdet(A, name: str):  # noqa: N803
    check_float_matrix(name, A, square=True)
    sign, logabsdet = apply(LinalgSlogdet, "LinalgSlogdetBackward0", (A,))
    return _Slogdet(sign, logabsdet)


def logdet(input):
    """log det A: nan where det A < 0 (a where on slogdet's sign, as torch records it); for a
    complex matrix log(sign) + log|det A|."""
    from reference.ops.pointwise import where

    sign, logabsdet = _slogdet(input, "logdet")
    if input.is_complex():
        return sign.log() + logabsdet
    return where(sign < 0, math.nan, logabsdet)


# -- matrix_power, multi_dot -----------------------------------------------------------------


def matrix_power(A, n):  # noqa: N803
    """A^n by repeated squaring (n < 0: of inv(A)); n = 0 gives I, n = 1 a copy."""
    from reference.ops import linalg as products
    from reference.ops.solvers import inv

    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A._data.shape[-1] != A._data.shape[-2]:
        rows, cols = A._data.shape[-2:]
        raise RuntimeError(
            f"linalg.matrix_power: A must be batches of square matrices, but they are {rows} by {cols} matrices"
        )
    if n == 0:  # torch: a copy of I into a clone of A (CopyBackwards over CloneBackward0)
        eye = np.broadcast_to(np.eye(A._data.shape[-1], dtype=A._data.dtype), A._data.shape)
        return A.clone().copy_(_tensor(eye))
    if n == 1:
        return A.clone()
    base = inv(A) if n < 0 else A
    result, z, k = None, base, abs(n)
    while k:
        if k & 1:
            result = z if result is None else products.matmul(z, result)  # powers of A commute
        k >>= 1
        if k:
            z = products.matmul(z, z)
    return result


def _tensor(array: np.ndarray):
    from reference.tensor import Tensor

    return Tensor._make(np.ascontiguousarray(array))


def multi_dot(tensors, *, out=None):
    """The product of matrices (the first/last may be vectors) in the cheapest order."""
    from reference.ops import linalg as products
    from reference.ops import shape as shapes

    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    _check_multi_dot(ts)
    first_vector, last_vector = ts[0]._data.ndim == 1, ts[-1]._data.ndim == 1
    if first_vector:
        ts[0] = shapes.unsqueeze(ts[0], 0)
    if last_vector:
        ts[-1] = shapes.unsqueeze(ts[-1], 1)
    for i in range(len(ts) - 1):
        (r1, c1), (r2, c2) = ts[i]._data.shape, ts[i + 1]._data.shape
        if c1 != r2:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes [{r1}, {c1}] and [{r2}, {c2}] cannot be multiplied"
            )
    order = _chain_order([t._data.shape[0] for t in ts] + [ts[-1]._data.shape[1]])

    def product(i: int, j: int):
        if i == j:
            return ts[i]
        k = order[i][j]
        return products.mm(product(i, k), product(k + 1, j))

    result = product(0, len(ts) - 1)
    out_shape = tuple(s for s, drop in zip(result._data.shape, (first_vector, last_vector)) if not drop)
    return shapes.view(result, *out_shape)


def _check_multi_dot(ts: list) -> None:
    """torch's checks, in its order: the ends 1-D or 2-D, the others 2-D, one dtype."""
    last = len(ts) - 1
    for i, t in enumerate(ts):
        nd = t._data.ndim
        if i in (0, last) and nd not in (1, 2):
            raise RuntimeError(
                f"multi_dot(): the {'first' if i == 0 else 'last'} tensor must be 1D or 2D but got {nd}D"
            )
        if 0 < i < last and nd != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd}D")
        if t._data.dtype != ts[0]._data.dtype:
            short = {"float32": "float", "float64": "double", "int64": "long"}
            d0, di = (short.get(x._data.dtype.name, x._data.dtype.name) for x in (ts[0], t))
            raise RuntimeError(
                f"multi_dot(): all tensors must have be the same dtype but tensor 0 is {d0} and tensor {i} {di}"
            )


def _chain_order(dims: list[int]) -> list[list[int]]:
    """The split points of the cheapest parenthesisation (the textbook dynamic programme)."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


# -- cross, vecdot ---------------------------------------------------------------------------


class LinalgCross(Function):
    @staticmethod
    def forward(ctx, a, b, dim):
        ctx.dim = dim
        ctx.save_for_backward(a, b)
        return np.cross(a, b, axis=dim)

    @staticmethod
    def backward(ctx, g):  # d(a x b) = da x b + a x db: ga = conj(b) x g, gb = g x conj(a)
        a, b = ctx.saved_tensors
        if is_tensor(a) or is_tensor(b) or is_tensor(g):
            from reference.ops.linalg_tools import as_tensor

            a, b, g = (as_tensor(x) for x in (a, b, g))
            return cross(b.conj(), g, dim=ctx.dim), cross(g, a.conj(), dim=ctx.dim)
        return np.cross(xp.conj(b), g, axis=ctx.dim), np.cross(g, xp.conj(a), axis=ctx.dim)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        d = ctx.dim
        return sum_tangents(
            None if ta is None else np.cross(ta, b, axis=d), None if tb is None else np.cross(a, tb, axis=d)
        )


def cross(input, other, *, dim=-1, out=None):
    from reference import dtypes
    from reference.ops.operands import normalize_dim
    from reference.ops.solvers import _broadcast_error

    ndim = max(input._data.ndim, other._data.ndim)
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input._data.dtype != other._data.dtype:
        want, got = (dtypes.scalar_type_name(t._data.dtype) for t in (input, other))
        raise RuntimeError(f"expected scalar type {want} but found {got}")
    d = normalize_dim(dim, ndim)
    if input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {input._data.shape[d]} and "
            f"{other._data.shape[d]}"
        )
    error = _broadcast_error(input._data.shape, other._data.shape)
    if error is not None:
        raise error
    return apply(LinalgCross, "LinalgCrossBackward0", (input, other), dim=d - ndim)


def vecdot(x, y, *, dim=-1, out=None):
    """sum(conj(x) * y) over ``dim``, as torch records it (no conj node for real x); two
    vectors go to vdot (VdotBackward0), whatever ``dim``."""
    from reference import dtypes
    from reference.ops.linalg import Vdot
    from reference.ops.pointwise import mul

    for t in (x, y):
        if t._data.dtype.kind not in "fc":
            name = dtypes.scalar_type_name(t._data.dtype)
            raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as input. Got {name}")
    if x._data.dtype != y._data.dtype:
        nx, ny = (dtypes.scalar_type_name(t._data.dtype) for t in (x, y))
        raise RuntimeError(
            f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {nx} and y of type {ny} "
            "instead"
        )
    if x._data.ndim == 1 and y._data.ndim == 1:
        n1, n2 = x._data.size, y._data.size
        if n1 != n2:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{n1}] and src [{n2}] to have the same number "
                f"of elements, but got {n1} and {n2} elements respectively"
            )
        return apply(Vdot, "VdotBackward0", (x, y))
    return mul(x.conj() if x.is_complex() else x, y).sum(dim)


class _Slogdet(tuple):
    """torch.return_types.linalg_slogdet: (sign, logabsdet), also by name."""

    def __new__(cls, sign, logabsdet):
        return super().__new__(cls, (sign, logabsdet))

    @property
    def sign(self):
        return self[0]

    @property
    def logabsdet(self):
        return self[1]


__all__: list[str] = []
