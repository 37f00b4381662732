"""Inverse, determinant and linear solve: torch.linalg's ``inv``, ``det`` and ``solve``
(nodes LinalgInvExBackward0, LinalgDetBackward0, LinalgSolveExBackward0), with torch's
errors for mis-shaped input and singular matrices (``LinAlgError``)."""

from __future__ import annotations

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply, sum_tangents


class _LinAlgError(RuntimeError):  # torch's class is named _LinAlgError too
    """A matrix is singular (``torch.linalg.LinAlgError``, a RuntimeError)."""


def _type_name(t) -> str:
    return dtypes.scalar_type_name(t._data.dtype)


def _check_square(fn: str, a) -> None:
    """torch's checks of the matrix argument of inv, det and solve, in torch's order."""
    if a._data.dtype.kind not in "fc":
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. Got {_type_name(a)}")
    if a._data.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    rows, cols = a._data.shape[-2:]
    if rows != cols:
        raise RuntimeError(f"{fn}: A must be batches of square matrices, but they are {rows} by {cols} matrices")


# -- singular matrices: where LAPACK's LU meets a zero pivot ----------------------------------


def _first_zero_pivot(m: np.ndarray) -> int | None:
    """The 1-based index of the first exactly zero pivot of LU with partial pivoting (what
    LAPACK's getrf reports and torch prints), or None."""
    a = m.copy()
    for k in range(a.shape[-1]):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if a[p, k] == 0:
            return k + 1
        a[[k, p]] = a[[p, k]]
        a[k + 1 :, k] /= a[k, k]
        a[k + 1 :, k + 1 :] -= np.outer(a[k + 1 :, k], a[k, k + 1 :])
    return None


def _singular(a: np.ndarray) -> tuple[str, int]:
    """torch's "(Batch element i): " prefix and the zero pivot of the first singular matrix."""
    n = a.shape[-1]
    for i, m in enumerate(a.reshape(-1, n, n)):
        pivot = _first_zero_pivot(m)
        if pivot is not None:
            return (f"(Batch element {i}): " if a.ndim > 2 else ""), pivot
    return ("(Batch element 0): " if a.ndim > 2 else ""), n  # rounding differs from LAPACK's: name the last


# -- inv ------------------------------------------------------------------------------------


class LinalgInv(Function):
    @staticmethod
    def forward(ctx, a):
        try:
            r = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            prefix, pivot = _singular(a)
            raise _LinAlgError(
                f"linalg.inv: {prefix}The diagonal element {pivot} is zero, the inversion could not be completed "
                "because the input matrix is singular."
            ) from None
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):  # d(A^-1) = -A^-1 dA A^-1, so grad A = -A^-H G A^-H
        (r,) = ctx.saved_tensors
        rt = xp.conj(r.mT)
        return -(rt @ (g @ rt))

    @staticmethod
    def jvp(ctx, t):
        (r,) = ctx.saved_tensors
        return -(r @ t @ r)


def inv(A, *, out=None):  # noqa: N803 - torch's argument names
    _check_square("linalg.inv", A)
    return apply(LinalgInv, "LinalgInvExBackward0", (A,))


# -- det ------------------------------------------------------------------------------------


class LinalgDet(Function):
    @staticmethod
    def forward(ctx, a, exact=False):
        d = np.asarray(np.linalg.det(a))
        ctx.exact = exact  # the true derivative at det = 0 too (for our own formulas, not torch's quirk)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):  # d(det A) = det A tr(A^-1 dA)
        a, d = ctx.saved_tensors
        n = a.shape[-1]
        kept = (*a.shape[:-2], 1, 1)
        if n == 1:  # torch: the gradient is g, even at det = 0
            return g.reshape(kept)
        if a.size == 0:
            return g.reshape(kept) * 0.0
        if type(g) is np.ndarray:
            return g.reshape(kept) * _cofactor_array(a).conj() if ctx.exact else _det_grad(a, d, g)
        return _det_grad_recorded(a, d, g)

    @staticmethod
    def jvp(ctx, t):  # torch: 0 where det == 0 (its LU solve meets a zero pivot)
        a, d = ctx.saved_tensors
        if ctx.exact and a.shape[-1] > 1:
            return (_cofactor_array(a) * t).sum(axis=(-2, -1))
        out = np.zeros(d.shape, d.dtype)
        ok = d != 0
        if a.size and ok.any():
            n = a.shape[-1]
            af, tf = a.reshape(-1, n, n), np.broadcast_to(t, a.shape).reshape(-1, n, n)
            flat = ok.reshape(-1)
            traces = np.trace(np.linalg.solve(af[flat], tf[flat]), axis1=-2, axis2=-1)
            out.reshape(-1)[flat] = d.reshape(-1)[flat] * traces
        return out


def _det_grad(a: np.ndarray, d: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g conj(det(A) A^-T), solved as torch solves it; 0 for a matrix whose det is exactly 0 (torch's
    triangular solve skips the zero right-hand side there, so it returns 0, not the cofactors)."""
    n = a.shape[-1]
    eye = np.eye(n, dtype=a.dtype)
    scale = (g * d.conj()).reshape(-1)
    flat = (d != 0).reshape(-1)
    af = a.reshape(-1, n, n)
    out = np.zeros(af.shape, a.dtype)
    if flat.any():
        out[flat] = np.linalg.solve(af[flat].mT.conj(), scale[flat, None, None] * eye)
    return out.reshape(a.shape)


def _det_grad_recorded(a, d, g):
    """The differentiable gradient (create_graph): a solve when every |det| is at least 100 eps
    (torch's LinalgSolveExBackward0), else the cofactor matrix, which stays right at singular
    matrices (torch takes it from an SVD; we take it from the minors' determinants)."""
    kept = (*a.shape[:-2], 1, 1)
    if not (np.abs(d._data) < 100 * np.finfo(d._data.dtype).eps).any():
        eye = np.eye(a.shape[-1], dtype=a._data.dtype)
        return solve(xp.conj(a.mT), (g * xp.conj(d)).reshape(kept) * eye)
    return g.reshape(kept) * xp.conj(_cofactors(a))


def _minor_selectors(n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matrices R (n, 1, n-1, n) and C (1, n, n, n-1) with R[i] A C[j] = A without row i and
    column j, and the cofactor signs (-1)^(i+j)."""
    drop = np.stack([np.delete(np.eye(n, dtype=dtype), i, axis=0) for i in range(n)])
    signs = ((-1.0) ** np.add.outer(np.arange(n), np.arange(n))).astype(dtype)
    return drop[:, None], drop.mT[None], signs


def _cofactor_array(a: np.ndarray) -> np.ndarray:
    rows, cols, signs = _minor_selectors(a.shape[-1], a.dtype)
    return np.linalg.det(rows @ a[..., None, None, :, :] @ cols) * signs


def _cofactors(a):
    """C[..., i, j] = (-1)^(i+j) det(A without row i and column j), from differentiable ops
    (the minors' determinants differentiate exactly, also where a minor is singular)."""
    from reference.ops.linalg import matmul
    from reference.tensor import Tensor

    n = a.shape[-1]
    rows, cols, signs = _minor_selectors(n, a._data.dtype)
    minors = matmul(matmul(Tensor._make(rows), a.reshape(*a.shape[:-2], 1, 1, n, n)), Tensor._make(cols))
    return apply(LinalgDet, "LinalgDetBackward0", (minors,), exact=True) * signs


def det(A, *, out=None):  # noqa: N803
    _check_square("linalg.det", A)
    return apply(LinalgDet, "LinalgDetBackward0", (A,))


# -- solve ----------------------------------------------------------------------------------


class LinalgSolve(Function):
    @staticmethod
    def forward(ctx, a, b, left, vector):
        ctx.left, ctx.vector = left, vector
        bm = b[..., None] if vector else b
        try:
            x = np.linalg.solve(a, bm) if left else np.linalg.solve(a.mT, bm.mT).mT
        except np.linalg.LinAlgError:
            batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
            prefix, _ = _singular(np.broadcast_to(a, (*batch, *a.shape[-2:])))
            raise _LinAlgError(
                f"torch.linalg.solve: {prefix}The solver failed because the input matrix is singular."
            ) from None
        out = x[..., 0] if vector else x
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):  # X = A^-1 B: gB = A^-H gX, gA = -gB X^H (left=False: X = B A^-1)
        a, x = ctx.saved_tensors
        if type(g) is np.ndarray:
            return _solve_grads(a, x, g, ctx.left, ctx.vector)
        gm, xm = (g.unsqueeze(-1), x.unsqueeze(-1)) if ctx.vector else (g, x)
        ah, xh = xp.conj(a.mT), xp.conj(xm.mT)
        if ctx.left:
            gb = solve(ah, gm)
            ga = -(gb @ xh)
        else:
            gb = solve(ah, gm, left=False)
            ga = -(xh @ gb)
        return ga, (gb.squeeze(-1) if ctx.vector else gb)

    @staticmethod
    def jvp(ctx, ta, tb):  # dX = A^-1 (dB - dA X) (left=False: (dB - X dA) A^-1)
        a, x = ctx.saved_tensors
        xm = x[..., None] if ctx.vector else x
        tbm = tb[..., None] if (ctx.vector and tb is not None) else tb
        if ctx.left:
            rhs = sum_tangents(tbm, None if ta is None else -(ta @ xm))
            dx = np.linalg.solve(a, rhs)
        else:
            rhs = sum_tangents(tbm, None if ta is None else -(xm @ ta))
            dx = np.linalg.solve(a.mT, rhs.mT).mT
        return dx[..., 0] if ctx.vector else dx


def _solve_grads(a: np.ndarray, x: np.ndarray, g: np.ndarray, left: bool, vector: bool) -> tuple:
    gm, xm = (g[..., None], x[..., None]) if vector else (g, x)
    if left:
        gb = np.linalg.solve(xp.conj(a.mT), gm)
        ga = -(gb @ xp.conj(xm.mT))
    else:
        gb = np.linalg.solve(xp.conj(a), gm.mT).mT
        ga = -(xp.conj(xm.mT) @ gb)
    return ga, (gb[..., 0] if vector else gb)


def _broadcast_error(a: tuple, b: tuple) -> RuntimeError | None:
    """torch's infer_size message for batch shapes that do not broadcast (first clash from the right)."""
    ndim = max(len(a), len(b))
    for i in range(ndim - 1, -1, -1):
        offset = ndim - 1 - i
        sa = a[len(a) - 1 - offset] if offset < len(a) else 1
        sb = b[len(b) - 1 - offset] if offset < len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {i}"
            )
    return None


def solve(A, B, *, left=True, out=None):  # noqa: N803
    """X with ``A X = B`` (``X A = B`` when ``left=False``). B is a (batch of) vector(s) when it
    is 1-D or has exactly A's shape without the last dim; otherwise a (batch of) matrices."""
    _check_square("linalg.solve", A)
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_type_name(A)} and B of type {_type_name(B)} instead"
        )
    a_shape, b_shape = A._data.shape, B._data.shape
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and b_shape == a_shape[:-1])
    if not vector and B._data.ndim < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    bm = (*b_shape, 1) if vector else b_shape
    n = a_shape[-1]
    if (bm[-2] if left else bm[-1]) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {equation} ({n}x{n} and {bm[-2]}x{bm[-1]})"
        )
    if vector and not left:
        raise RuntimeError(
            "linalg.solve: Vector broadcasting of the left hand side is not supported for left=False. "
            "In this case linalg.solve is equivalent to B / A.squeeze(-1)"
        )
    error = _broadcast_error(bm[:-2], a_shape[:-2])
    if error is not None:
        raise error
    return apply(LinalgSolve, "LinalgSolveExBackward0", (A, B), left=bool(left), vector=vector)


inverse = inv
