"""The pseudo-inverse and least squares: ``linalg.pinv`` (LinalgPinvBackward0) and
``linalg.lstsq`` (LinalgLstsqBackward0, the solution's derivative).

Both are differentiable where the rank does not change (here: full rank). With X = A^+,
dX = -X dA X + X X^H dA^H (I - A X) + (I - X A) dA^H X^H X (Golub and Pereyra, 1973), so
gA = -X^H G X^H + (I - A X) G^H X X^H + X^H X G^H (I - X A) (^H: the conjugate transpose, the
transpose of a real matrix). lstsq's solution is A^+ B.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from reference.autograd.function import Function, apply, sum_tangents
from reference.ops.linalg_tools import check_float_matrix, dtype_of, is_tensor, live, mh


def _pinv_array(a: np.ndarray, hermitian: bool) -> np.ndarray:
    """torch's default cutoff: singular values below max(m, n) eps s_max count as zero."""
    m, n = a.shape[-2:]
    eps = np.finfo(a.dtype).eps
    if hermitian:
        w, v = np.linalg.eigh(a)
        keep = np.abs(w) > max(m, n) * eps * np.abs(w).max(axis=-1, initial=0.0, keepdims=True)
        inv = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0).astype(a.dtype)
        return (v * inv[..., None, :]) @ mh(v)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    keep = s > max(m, n) * eps * s.max(axis=-1, initial=0.0, keepdims=True)
    inv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0).astype(a.dtype)
    return (mh(vh) * inv[..., None, :]) @ mh(u)


def _pinv_grad(a, x, g):
    """The pseudo-inverse's gradient for constant rank (see the module doc)."""
    m, n = a.shape[-2:]
    eye_m, eye_n = np.eye(m, dtype=dtype_of(a)), np.eye(n, dtype=dtype_of(a))
    xt, gt = mh(x), mh(g)
    return -(xt @ g @ xt) + (eye_m - a @ x) @ gt @ (x @ xt) + (xt @ x) @ gt @ (eye_n - x @ a)


def _pinv_tangent(a, x, t):
    m, n = a.shape[-2:]
    eye_m, eye_n = np.eye(m, dtype=a.dtype), np.eye(n, dtype=a.dtype)
    return -(x @ t @ x) + (x @ mh(x)) @ mh(t) @ (eye_m - a @ x) + (eye_n - x @ a) @ mh(t) @ (mh(x) @ x)


class LinalgPinv(Function):
    @staticmethod
    def forward(ctx, a, hermitian):
        x = _pinv_array(a, hermitian)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        return _pinv_grad(a, x, g)

    @staticmethod
    def jvp(ctx, t):
        a, x = ctx.saved_tensors
        return _pinv_tangent(a, x, t)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):  # noqa: N803 - torch's argument names
    """``torch.linalg.pinv`` with its default tolerances (atol and rtol are not supported)."""
    if atol is not None or rtol is not None:
        raise NotImplementedError("linalg.pinv(atol=, rtol=) is not supported by the reference engine")
    data = A._data
    if data.ndim < 2 or data.dtype.kind not in "fc":
        from reference import dtypes

        kind = dtypes.scalar_type_name(data.dtype)
        raise RuntimeError(
            f"linalg.pinv({kind}{{[{', '.join(map(str, data.shape))}]}}): expected a tensor with 2 or more "
            "dimensions of float, double, cfloat or cdouble types"
        )
    if hermitian:
        check_float_matrix("linalg.eigh", A, square=True)
    return apply(LinalgPinv, "LinalgPinvBackward0", (A,), hermitian=bool(hermitian))


# -- lstsq ----------------------------------------------------------------------------------

_Lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


class LinalgLstsq(Function):
    @staticmethod
    def forward(ctx, a, b, vector):
        ctx.vector = vector
        bm = b[..., None] if vector else b
        x = _pinv_array(a, False) @ bm
        ctx.save_for_backward(a, b)
        empty = np.zeros((0,), a.dtype)
        return (x[..., 0] if vector else x), empty, empty

    @staticmethod
    def backward(ctx, gx, gres, gsv):  # X = A^+ B: gB = A^+H gX, gA = the pinv gradient for gX B^H
        a, b = ctx.saved_tensors
        (gx,) = live(gx)
        if gx is None:
            return None, None
        if ctx.vector:
            gx, b = _column(gx), _column(b)
        p = pinv(a) if is_tensor(a) else _pinv_array(a, False)
        gb = mh(p) @ gx
        ga = _pinv_grad(a, p, gx @ mh(b))
        if ctx.vector:
            gb = gb[..., 0] if not is_tensor(gb) else gb.squeeze(-1)
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        p = _pinv_array(a, False)
        bm = b[..., None] if ctx.vector else b
        tbm = None if tb is None else (tb[..., None] if ctx.vector else tb)
        dx = sum_tangents(None if ta is None else _pinv_tangent(a, p, ta) @ bm, None if tbm is None else p @ tbm)
        empty = np.zeros((0,), a.dtype)
        if dx is None:
            return None, None, None
        return (dx[..., 0] if ctx.vector else dx), empty, empty


def _column(v):
    return v.unsqueeze(-1) if is_tensor(v) else v[..., None]


def lstsq(A, B, rcond=None, *, driver=None):  # noqa: N803
    """``torch.linalg.lstsq`` for full-rank A: the solution A^+ B (the minimum-norm least-squares
    solution); residuals and singular_values empty and rank min(m, n), as with torch's CPU driver gelsy."""
    from reference import dtypes

    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if A._data.dtype != B._data.dtype:
        da, db = (dtypes.scalar_type_name(t._data.dtype) for t in (A, B))
        raise RuntimeError(
            "torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's dtype "
            f"{da} and other's dtype {db}"
        )
    if A._data.dtype.kind not in "fc":
        raise RuntimeError("This function doesn't handle types other than float and double")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):  # all give A^+ B for a full-rank A
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B._data.ndim == A._data.ndim - 1
    if A._data.shape[-2] != (B._data.shape[-1] if vector else B._data.shape[-2]):
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    x, res, sv = apply(LinalgLstsq, "LinalgLstsqBackward0", (A, B), vector=vector)
    from reference.tensor import Tensor

    rank = np.linalg.matrix_rank(A._data) if A._data.size else np.zeros(A._data.shape[:-2], np.int64)
    return _Lstsq(x, res, Tensor._make(np.asarray(rank, np.int64)), sv)


__all__: list[str] = []
