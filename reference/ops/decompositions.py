"""Matrix decompositions: torch.linalg's ``eigh``/``eigvalsh`` (LinalgEighBackward0),
``svd``/``svdvals`` (LinalgSvdBackward0), ``qr`` (LinalgQrBackward0) and ``cholesky``
(LinalgCholeskyExBackward0), on (batches of) real matrices.

The backward and jvp rules are the textbook perturbation formulas. They divide by eigenvalue
(squared singular value) gaps and, for the singular vectors of a tall or wide matrix, by the
singular values: the derivative does not exist at repeated eigenvalues, and these rules give
inf/nan there, as torch's do. Backward formulas are written with operators shared by arrays
and Tensors (see ``linalg_tools``), so with create_graph they record themselves.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from reference.autograd.function import Function, apply
from reference.ops.linalg_tools import (
    check_float_matrix,
    diag_embed,
    dtype_of,
    eye_like,
    is_tensor,
    live,
    matching,
    solve_triangular_any,
    symmetrise,
)

# torch.return_types: the results by position and by name
_Eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
_Svd = namedtuple("linalg_svd", ["U", "S", "Vh"])
_Qr = namedtuple("linalg_qr", ["Q", "R"])

# -- eigh -----------------------------------------------------------------------------------


def _gap_inverse(values):
    """F[..., i, j] = 1 / (v_j - v_i) off the diagonal, 0 on it (inf where values repeat)."""
    n = values.shape[-1]
    eye = eye_like(values, n)
    gaps = (
        values[..., None, :] - values[..., :, None]
        if not is_tensor(values)
        else (values.unsqueeze(-2) - values.unsqueeze(-1))
    )
    return (1.0 / (gaps + eye)) * (1.0 - eye)


class LinalgEigh(Function):
    """Always both outputs (eigvalsh takes the first), as torch computes the eigenvectors
    whenever a gradient is needed: a second derivative goes through them."""

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):  # gA = V (diag(gL) + F * skew(V^T gV)) V^T: symmetric, as torch's
        w, v = ctx.saved_tensors
        gw, gv = live(gw, gv)
        if gw is None and gv is None:
            return None
        inner = 0.0 if gw is None else diag_embed(gw)
        if gv is not None:
            m = v.mT @ gv
            inner = inner + _gap_inverse(w) * (0.5 * (m - m.mT))
        return v @ inner @ v.mT

    @staticmethod
    def jvp(ctx, t):  # P = V^T dA V: dL = diag(P), dV = V (F * P)
        w, v = ctx.saved_tensors
        p = v.mT @ t @ v
        return np.diagonal(p, axis1=-2, axis2=-1).copy(), v @ (_gap_inverse(w) * p)


def _check_eigh(a) -> None:
    check_float_matrix("linalg.eigh", a, square=True, dtype_check=False)
    if a._data.dtype.kind != "f":  # torch's dispatcher refuses before linalg's own check
        from reference import dtypes

        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{dtypes.scalar_type_name(a._data.dtype)}'")


def _check_uplo(uplo: str) -> str:
    if uplo not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    return uplo.upper()


def eigh(A, UPLO="L", *, out=None):  # noqa: N803 - torch's argument names
    """``torch.linalg.eigh``: (eigenvalues ascending, eigenvectors as columns)."""
    _check_eigh(A)
    return _Eigh(*apply(LinalgEigh, "LinalgEighBackward0", (A,), uplo=_check_uplo(UPLO)))


def eigvalsh(A, UPLO="L", *, out=None):  # noqa: N803
    """``torch.linalg.eigvalsh``: the eigenvalues alone (the same node as eigh)."""
    _check_eigh(A)
    return apply(LinalgEigh, "LinalgEighBackward0", (A,), uplo=_check_uplo(UPLO))[0]


# -- svd ------------------------------------------------------------------------------------


class LinalgSvd(Function):
    @staticmethod
    def forward(ctx, a, full_matrices):
        ctx.full = full_matrices
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        if full_matrices:  # the first k vectors are the reduced ones, which the derivatives use
            uf, _, vhf = np.linalg.svd(a, full_matrices=True)
            k = s.shape[-1]
            uf[..., :, :k], vhf[..., :k, :] = u, vh
            u, vh = uf, vhf
        ctx.save_for_backward(u, s, vh)  # the outputs: a recorded backward differentiates them
        return u, s, vh

    @staticmethod
    def backward(ctx, *grads):
        u, s, vh = _reduced(*ctx.saved_tensors)
        gu, gs, gvh = live(*grads)
        if ctx.full:  # as torch: the vectors beyond the k-th are arbitrary, their gradients ignored
            k = s.shape[-1]
            gu = None if gu is None else gu[..., :, :k]
            gvh = None if gvh is None else gvh[..., :k, :]
        return _svd_backward(u, s, vh, gu, gs, gvh)

    @staticmethod
    def jvp(ctx, t):
        u, s, vh = _reduced(*ctx.saved_tensors)
        v = vh.mT
        p = u.mT @ t @ v
        ds = np.diagonal(p, axis1=-2, axis2=-1).copy()
        f = _gap_inverse(s * s)
        sd = s[..., None, :]  # scales columns
        du = u @ (f * (p * sd + s[..., :, None] * p.mT)) + (t @ v - u @ p) / sd
        dv = v @ (f * (s[..., :, None] * p + p.mT * sd)) + (t.mT @ u - v @ p.mT) / sd
        if ctx.full:  # as torch: zero tangents for the vectors beyond the k-th
            m, n, k = t.shape[-2], t.shape[-1], s.shape[-1]
            du = np.concatenate([du, np.zeros((*du.shape[:-1], m - k), du.dtype)], -1)
            dv = np.concatenate([dv, np.zeros((*dv.shape[:-1], n - k), dv.dtype)], -1)
        return du, ds, dv.mT


def _reduced(u, s, vh):
    k = s.shape[-1]
    return u[..., :, :k], s, vh[..., :k, :]


def _svd_backward(u, s, vh, gu, gs, gvh):
    """gA = U [diag(gS) + (J + J^T) S + S (K + K^T)] V^T + (I - U U^T) gU S^-1 V^T
    + U S^-1 gV^T (I - V V^T), with J = F * (U^T gU), K = F * (V^T gV), F = 1 / (s_j^2 - s_i^2)."""
    if gu is None and gs is None and gvh is None:
        return None
    inner = 0.0 if gs is None else diag_embed(gs)
    if gu is None and gvh is None:
        return u @ inner @ vh
    f = _gap_inverse(s * s)
    col = s.unsqueeze(-2) if is_tensor(s) else s[..., None, :]
    row = s.unsqueeze(-1) if is_tensor(s) else s[..., :, None]
    out = 0.0
    if gu is not None:
        j = f * (u.mT @ gu)
        inner = inner + (j + j.mT) * col
        out = out + ((gu - u @ (u.mT @ gu)) / col) @ vh
    if gvh is not None:
        gv = gvh.mT
        k = f * (vh @ gv)
        inner = inner + row * (k + k.mT)
        out = out + u @ ((gv.mT - (gv.mT @ vh.mT) @ vh) / row)
    return u @ inner @ vh + out


def svd(A, full_matrices=True, *, driver=None, out=None):  # noqa: N803
    """``torch.linalg.svd``: (U, S, Vh), singular values descending."""
    check_float_matrix("linalg.svd", A)
    return _Svd(*apply(LinalgSvd, "LinalgSvdBackward0", (A,), full_matrices=bool(full_matrices)))


def svdvals(A, *, driver=None, out=None):  # noqa: N803
    check_float_matrix("linalg.svd", A)
    """The singular values alone (the same node as svd, whose vectors a second derivative needs)."""
    return apply(LinalgSvd, "LinalgSvdBackward0", (A,), full_matrices=False)[1]


# -- qr -------------------------------------------------------------------------------------


class LinalgQr(Function):
    @staticmethod
    def forward(ctx, a, mode):
        ctx.mode = mode
        ctx.tall = a.shape[-2] >= a.shape[-1]
        q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        ctx.save_for_backward(q, r)
        return (np.zeros((0,), a.dtype), r) if mode == "r" else (q, r)

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if not ctx.tall:
            raise NotImplementedError("the reference engine differentiates linalg.qr for nrows >= ncols only")
        # gA = [gQ + Q (W - Q^T gQ)] R^-T, W = gR R^T + tril(N - N^T, -1), N = Q^T gQ - gR R^T
        gq, gr = matching(gq, q), matching(gr, q)  # the engine's zeros for an unused output
        qtg = q.mT @ gq
        rgt = gr @ r.mT
        nmat = qtg - rgt
        lower = np.tril(np.ones((n, n)), -1).astype(dtype_of(q))
        w = rgt + (nmat - nmat.mT) * lower
        return solve_triangular_any(r, gq + q @ (w - qtg), upper=True, left=False, transpose=True)

    @staticmethod
    def jvp(ctx, t):  # X = Q^T dA R^-1, C = tril(X, -1) - tril(X, -1)^T: dR = (X - C) R, dQ = dA R^-1 - Q (X - C)
        q, r = ctx.saved_tensors
        if ctx.mode == "r" or not ctx.tall or (ctx.mode == "complete" and q.shape[-2] > r.shape[-1]):
            raise NotImplementedError("forward AD of linalg.qr needs nrows >= ncols and mode='reduced'")
        tr = np.linalg.solve(r.mT, t.mT).mT  # dA R^-1
        x = q.mT @ tr
        low = np.tril(x, -1)
        upper = x - low + low.mT
        return tr - q @ upper, upper @ r


def qr(A, mode="reduced", *, out=None):  # noqa: N803
    """``torch.linalg.qr``: (Q, R) with ``mode`` 'reduced', 'complete' or 'r' (Q empty)."""
    check_float_matrix("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"
        )
    return _Qr(*apply(LinalgQr, "LinalgQrBackward0", (A,), mode=mode))


# -- cholesky -------------------------------------------------------------------------------


def _phi(x):
    """The lower triangle with the diagonal halved (the adjoint of itself)."""
    n = x.shape[-1]
    weights = (np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)).astype(dtype_of(x))
    return x * weights


class LinalgCholesky(Function):
    @staticmethod
    def forward(ctx, a, upper):
        ctx.upper = upper
        try:
            low = np.linalg.cholesky(a.mT if upper else a)  # upper: LAPACK reads the upper triangle
        except np.linalg.LinAlgError:
            raise _not_positive_definite(a) from None
        out = low.mT.copy() if upper else low
        ctx.save_for_backward(out)  # the output itself, so that a recorded backward differentiates it
        return out

    @staticmethod
    def backward(ctx, g):  # gA = sym(L^-T Phi(L^T gL) L^-1)
        (out,) = ctx.saved_tensors
        low, gl = (out.mT, g.mT) if ctx.upper else (out, g)
        inner = _phi(low.mT @ gl)
        half = solve_triangular_any(low, inner, upper=False, left=True, transpose=True)  # L^-T Phi
        ga = solve_triangular_any(low, half, upper=False, left=False)  # ... L^-1
        return symmetrise(ga)

    @staticmethod
    def jvp(ctx, t):  # dL = L Phi(L^-1 dA L^-T), with the tangent as given (torch does not symmetrise it)
        (out,) = ctx.saved_tensors
        low = out.mT if ctx.upper else out
        x = np.linalg.solve(low, np.linalg.solve(low, t.mT).mT)
        dl = low @ _phi(x)
        return dl.mT if ctx.upper else dl


def _not_positive_definite(a: np.ndarray) -> Exception:
    from reference.ops.solvers import _LinAlgError

    n = a.shape[-1]
    flat = a.reshape(-1, n, n)
    for i, m in enumerate(flat):
        for k in range(1, n + 1):
            if np.any(np.linalg.eigvalsh(m[:k, :k]) <= 0) or not np.all(np.isfinite(m[:k, :k])):
                prefix = f"(Batch element {i}): " if a.ndim > 2 else ""
                return _LinAlgError(
                    f"linalg.cholesky: {prefix}The factorization could not be completed because the input is not "
                    f"positive-definite (the leading minor of order {k} is not positive-definite)."
                )
    return _LinAlgError("linalg.cholesky: The factorization could not be completed because the input is not "
                        "positive-definite.")  # fmt: skip


def cholesky(A, *, upper=False, out=None):  # noqa: N803
    check_float_matrix("linalg.cholesky", A, square=True)
    return apply(LinalgCholesky, "LinalgCholeskyExBackward0", (A,), upper=bool(upper))


__all__: list[str] = []
