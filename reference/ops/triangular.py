"""Triangular solves. ``torch.linalg.solve_triangular`` (LinalgSolveTriangularBackward0): X with
A X = B (``left=False``: X A = B), reading only A's upper or lower triangle, and taking its
diagonal as ones when ``unitriangular``. ``torch.cholesky_solve`` (CholeskySolveBackward0): X
with L L^H X = B (U^H U X = B when ``upper``), reading only the factor's triangle. Batch dims
broadcast.

cholesky_solve's gradient for the factor is torch's, -(C + C^H) L with C = gB X^H (upper:
-U (C + C^H)), a full matrix although the forward reads one triangle: it is the gradient for
the product L L^H, right when L comes from a cholesky (whose backward reads gL's triangle)."""

from __future__ import annotations

import numpy as np

from reference.autograd.function import Function, apply, sum_tangents
from reference.ops.linalg_tools import dtype_of, mh


def _triangle(a, upper: bool, unit: bool):
    """The part of A the solve reads (as a weight mask: a constant in a recorded backward)."""
    n = a.shape[-1]
    ones = np.ones((n, n))
    mask = (np.triu(ones, 1 if unit else 0) if upper else np.tril(ones, -1 if unit else 0)).astype(dtype_of(a))
    return a * mask, mask


def _solve(t: np.ndarray, b: np.ndarray, left: bool) -> np.ndarray:
    return np.linalg.solve(t, b) if left else mh(np.linalg.solve(mh(t), mh(b)))


class LinalgSolveTriangular(Function):
    @staticmethod
    def forward(ctx, a, b, upper, left, unitriangular):
        ctx.options = upper, left, unitriangular
        t, _ = _triangle(a, upper, unitriangular)
        if unitriangular:
            t = t + np.eye(a.shape[-1], dtype=a.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = _solve_maybe_singular(t, b, left)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):  # X = A^-1 B: gB = A^-H g, gA = -gB X^H on A's triangle (left=False: -X^H gB)
        a, x = ctx.saved_tensors
        upper, left, unit = ctx.options
        gb = (
            solve_triangular(mh(a), g, upper=not upper, left=left, unitriangular=unit)
            if _recorded(a, g)
            else (_solve(mh(_unit(_triangle(a, upper, unit)[0], unit)), g, left))
        )
        ga = -(gb @ mh(x)) if left else -(mh(x) @ gb)
        return _triangle(ga, upper, unit)[0], gb

    @staticmethod
    def jvp(ctx, ta, tb):  # dX = A^-1 (dB - dA X) (left=False: (dB - X dA) A^-1)
        a, x = ctx.saved_tensors
        upper, left, unit = ctx.options
        t = _unit(_triangle(a, upper, unit)[0], unit)
        dta = None if ta is None else _triangle(ta, upper, unit)[0]
        rhs = sum_tangents(tb, None if dta is None else -(dta @ x if left else x @ dta))
        if rhs is None:
            return None
        return _solve(t, np.broadcast_to(rhs, x.shape), left)


def _unit(t, unit: bool):
    return t + np.eye(t.shape[-1], dtype=dtype_of(t)) if unit else t


def _recorded(*xs) -> bool:
    return any(type(x) is not np.ndarray for x in xs)


def _solve_maybe_singular(t: np.ndarray, b: np.ndarray, left: bool) -> np.ndarray:
    """Back substitution gives inf/nan for a zero diagonal (LAPACK's trtrs does not stop)."""
    try:
        return _solve(t, b, left)
    except np.linalg.LinAlgError:
        shape = np.broadcast_shapes(t.shape[:-2], b.shape[:-2]) + b.shape[-2:]
        return np.full(shape, np.nan, b.dtype)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):  # noqa: N803
    for name, t in (("A", A), ("B", B)):
        if t._data.ndim < 2:
            raise RuntimeError(f"linalg.solve_triangular: The input tensor {name} must have at least 2 dimensions.")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
            f"{A._data.dtype} and B of type {B._data.dtype} instead"
        )
    n, m = A._data.shape[-2:]
    if n != m:
        raise RuntimeError(
            f"linalg.solve_triangular: A must be batches of square matrices, but they are {n} by {m} matrices"
        )
    k = B._data.shape[-2] if left else B._data.shape[-1]
    if k != n:
        raise RuntimeError(
            "linalg.solve_triangular: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B._data.shape[-2]}x{B._data.shape[-1]})"
        )
    return apply(LinalgSolveTriangular, "LinalgSolveTriangularBackward0", (A, B), upper=bool(upper),
                 left=bool(left), unitriangular=bool(unitriangular))  # fmt: skip


# -- cholesky_solve ---------------------------------------------------------------------------


class CholeskySolve(Function):
    @staticmethod
    def forward(ctx, b, factor, upper):
        ctx.upper = upper
        tri = np.triu(factor) if upper else np.tril(factor)
        gram = mh(tri) @ tri if upper else tri @ mh(tri)
        x = np.linalg.solve(gram, np.broadcast_to(b, np.broadcast_shapes(b.shape[:-2], gram.shape[:-2]) + b.shape[-2:]))
        ctx.save_for_backward(factor, x)
        return x

    @staticmethod
    def backward(ctx, g):  # gB = A^-1 g, gL = -(C + C^H) L, C = gB X^H
        factor, x = ctx.saved_tensors
        if _recorded(factor, g):
            gb = cholesky_solve(g, factor, upper=ctx.upper)
        else:
            gb = CholeskySolve.forward(_Scratch(), g, factor, ctx.upper)
        c = gb @ mh(x)
        both = c + mh(c)
        return gb, -(factor @ both) if ctx.upper else -(both @ factor)

    @staticmethod
    def jvp(ctx, tb, tf):  # dX = A^-1 (dB - dA X), dA = dL L^H + L dL^H (upper: dU^H U + U^H dU)
        factor, x = ctx.saved_tensors
        tri = np.triu(factor) if ctx.upper else np.tril(factor)
        gram = mh(tri) @ tri if ctx.upper else tri @ mh(tri)
        dgram = None
        if tf is not None:
            dgram = mh(tf) @ factor + mh(factor) @ tf if ctx.upper else tf @ mh(factor) + factor @ mh(tf)
        rhs = sum_tangents(tb, None if dgram is None else -(dgram @ x))
        return None if rhs is None else np.linalg.solve(gram, np.broadcast_to(rhs, x.shape))


class _Scratch:  # a throwaway ctx, to run a forward as a plain function
    def save_for_backward(self, *values):
        pass


def cholesky_solve(input, input2, upper=False, *, out=None):
    b, factor = input, input2
    if b._data.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b._data.ndim} dimensions instead")
    if factor._data.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {factor._data.ndim} dimensions instead")
    n, m = factor._data.shape[-2:]
    if n != m:
        raise RuntimeError(f"A must be batches of square matrices, but they are {n} by {m} matrices")
    if b._data.shape[-2] != n:
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {n} by {n} but each b matrix is "
            f"{b._data.shape[-2]} by {b._data.shape[-1]}"
        )
    if b._data.dtype != factor._data.dtype:
        names = {"float32": "Float", "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {names.get(b._data.dtype.name)} and A "
            f"of type {names.get(factor._data.dtype.name)} instead."
        )
    return apply(CholeskySolve, "CholeskySolveBackward0", (b, factor), upper=bool(upper))


__all__: list[str] = ["cholesky_solve"]
