"""Small helpers for the linear-algebra backward formulas: each works on NumPy arrays (a plain
backward) and on Tensors (a backward recorded with create_graph), so one formula serves both."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd.arrayops import is_tensor

__all__ = ["is_tensor"]


def live(*grads: Any) -> tuple:
    """The gradients of a multi-output node, with None for outputs that got none (the engine
    fills those with zero arrays, which also stand for None while create_graph records)."""
    return tuple(None if g is None or (type(g) is np.ndarray and not g.any()) else g for g in grads)


def dtype_of(x: Any) -> np.dtype:
    return x._data.dtype if is_tensor(x) else x.dtype


def eye_like(x: Any, n: int) -> np.ndarray:
    """An n x n identity in x's dtype (a constant, also in a recorded backward)."""
    return np.eye(n, dtype=dtype_of(x))


def diag_embed(v: Any) -> Any:
    """(..., n) -> (..., n, n) with v on the diagonal."""
    n = v.shape[-1]
    column = v.unsqueeze(-1) if is_tensor(v) else v[..., :, None]
    return column * eye_like(v, n)


def in_dtype_of(x: Any, like: Any) -> Any:
    """A real ``x`` in complex ``like``'s dtype, where a recorded matmul needs one dtype (as torch's
    does); NumPy promotes by itself."""
    if is_tensor(x) and x._data.dtype != dtype_of(like):
        from reference import dtypes

        return x.to(like.dtype if is_tensor(like) else dtypes.from_numpy(like.dtype))
    return x


def diag(m: Any) -> Any:
    """The diagonal of the last two dims."""
    return m.diagonal(0, -2, -1) if is_tensor(m) else np.diagonal(m, axis1=-2, axis2=-1)


def mh(x: Any) -> Any:
    """The conjugate transpose of the last two dims (the transpose of a real matrix)."""
    return x.mH if is_tensor(x) else (x.mT.conj() if x.dtype.kind == "c" else x.mT)


def solve_any(a: Any, b: Any) -> Any:
    """A^-1 B (B a batch of matrices)."""
    if is_tensor(a) or is_tensor(b):
        from reference.ops.solvers import solve

        return solve(as_tensor(a), as_tensor(b))
    return np.linalg.solve(a, b)


def solve_triangular_any(a: Any, b: Any, *, upper: bool, left: bool, transpose: bool = False) -> Any:
    """op(A)^-1 B (left) or B op(A)^-1, op(A) = A^H when ``transpose``, A triangular."""
    if is_tensor(a) or is_tensor(b):
        from reference.ops.triangular import solve_triangular

        a_used = mh(as_tensor(a)) if transpose else as_tensor(a)
        return solve_triangular(a_used, as_tensor(b), upper=upper != transpose, left=left)
    a_used = mh(a) if transpose else a
    if left:
        return np.linalg.solve(a_used, b)
    return np.linalg.solve(a_used.mT, b.mT).mT


def matching(x: Any, like: Any) -> Any:
    """``x`` as a Tensor when ``like`` is one (a recorded backward), else as it is."""
    return as_tensor(x) if is_tensor(like) else x


def as_tensor(x: Any) -> Any:
    if is_tensor(x):
        return x
    from reference.tensor import Tensor

    return Tensor._make(np.asarray(x))


def check_float_matrix(fn: str, a: Any, *, square: bool = False, dtype_check: bool = True) -> None:
    """torch's checks on the matrix argument of a linalg function, in torch's order."""
    from reference import dtypes

    data = a._data
    if data.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    if square and data.shape[-1] != data.shape[-2]:
        rows, cols = data.shape[-2:]
        raise RuntimeError(f"{fn}: A must be batches of square matrices, but they are {rows} by {cols} matrices")
    if dtype_check and data.dtype.kind not in "fc":
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. Got "
                           f"{dtypes.scalar_type_name(data.dtype)}")  # fmt: skip
