"""Matrix decompositions: torch.linalg's ``eigh``/``eigvalsh`` (LinalgEighBackward0),
``svd``/``svdvals`` (LinalgSvdBackward0), ``qr`` (LinalgQrBackward0) and ``cholesky``
(LinalgCholeskyExBackward0), on (batches of) real or complex matrices.

The backward and jvp rules are the textbook perturbation formulas, with conjugate transposes
(``mh``) so that one formula serves real and complex matrices. In complex, eigenvectors and
singular vectors are unique only up to a phase each: torch raises when a loss depends on it
(the gauge checks below, torch's tolerance), and its forward mode splits an SVD phase change
evenly between U and V, as ``LinalgSvd.jvp`` does. They divide by eigenvalue
(squared singular value) gaps and, for the singular vectors of a tall or wide matrix, by the
singular values: the derivative does not exist at repeated eigenvalues, and these rules give
inf/nan there, as torch's do. Backward formulas are written with operators shared by arrays
and Tensors (see ``linalg_tools``), so with create_graph they record themselves.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.linalg_tools import (
    check_float_matrix,
    diag,
    diag_embed,
    dtype_of,
    eye_like,
    in_dtype_of,
    is_tensor,
    live,
    matching,
    mh,
    solve_triangular_any,
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
    def backward(ctx, gw, gv):  # gA = V (diag(gL) + F * skew(V^H gV)) V^H: Hermitian, as torch's
        w, v = ctx.saved_tensors
        gw, gv = live(gw, gv)
        if gw is None and gv is None:
            return None
        inner = 0.0 if gw is None else in_dtype_of(diag_embed(gw), v)
        if gv is not None:
            m = mh(v) @ gv
            if dtype_of(m).kind == "c":
                phase = xp.data(diag(m).imag)
                _check_gauge(phase, 0.0, "linalg_eigh_backward: The eigenvectors", "quantity, so it is")
            inner = inner + _gap_inverse(w) * (0.5 * (m - mh(m)))
        return v @ inner @ mh(v)

    @staticmethod
    def jvp(ctx, t):  # P = V^H dA V: dL = Re diag(P), dV = V (F * P) (no phase change)
        w, v = ctx.saved_tensors
        p = mh(v) @ t @ v
        return np.real(np.diagonal(p, axis1=-2, axis2=-1)).copy(), v @ (_gap_inverse(w) * p)


def _check_gauge(phase_u, phase_v, what: str, tail: str) -> None:
    """torch's check that a complex loss does not depend on the vectors' phases (the imaginary
    diagonal of V^H gV, or of U^H gU against -V^H gV for svd), at torch's tolerance."""
    if not np.allclose(phase_u, -np.asarray(phase_v), rtol=1e-2, atol=1e-2):
        raise RuntimeError(f"{what} in the complex case are specified up to multiplication by e^{{i phi}}. "
                           f"The specified loss function depends on this {tail} ill-defined.")  # fmt: skip


def _check_eigh(a) -> None:
    check_float_matrix("linalg.eigh", a, square=True, dtype_check=False)
    if a._data.dtype.kind not in "fc":  # torch's dispatcher refuses before linalg's own check
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
        v = mh(vh)
        p = mh(u) @ t @ v
        pd = np.diagonal(p, axis1=-2, axis2=-1)
        f = _gap_inverse(s * s)
        sd = s[..., None, :]  # scales columns
        du = u @ (f * (p * sd + s[..., :, None] * mh(p))) + (t @ v - u @ p) / sd
        dv = v @ (f * (s[..., :, None] * p + mh(p) * sd)) + (mh(t) @ u - v @ mh(p)) / sd
        if pd.dtype.kind == "c":  # the phase change i Im(P_kk) / s_k, half in U and half in V, as torch
            half = (0.5j * pd.imag / s)[..., None, :]
            du, dv = du + u * half, dv - v * half
        if ctx.full:  # as torch: zero tangents for the vectors beyond the k-th
            m, n, k = t.shape[-2], t.shape[-1], s.shape[-1]
            du = np.concatenate([du, np.zeros((*du.shape[:-1], m - k), du.dtype)], -1)
            dv = np.concatenate([dv, np.zeros((*dv.shape[:-1], n - k), dv.dtype)], -1)
        return du, np.real(pd).copy(), mh(dv)


def _reduced(u, s, vh):
    k = s.shape[-1]
    return u[..., :, :k], s, vh[..., :k, :]


def _svd_backward(u, s, vh, gu, gs, gvh):
    """gA = U [diag(gS) + (J + J^H) S + S (K + K^H) + diag(i Im(c_U - c_V) / 2S)] V^H
    + (I - U U^H) gU S^-1 V^H + U S^-1 gV^H (I - V V^H), with J = F * (U^H gU),
    K = F * (V^H gV), F = 1 / (s_j^2 - s_i^2), c_U = diag(U^H gU), c_V = diag(V^H gV) (the phase
    term: the adjoint of the forward mode's even split, zero for real matrices)."""
    if gu is None and gs is None and gvh is None:
        return None
    inner = 0.0 if gs is None else in_dtype_of(diag_embed(gs), u)
    if gu is None and gvh is None:
        return u @ inner @ vh
    f = _gap_inverse(s * s)
    col = s.unsqueeze(-2) if is_tensor(s) else s[..., None, :]
    row = s.unsqueeze(-1) if is_tensor(s) else s[..., :, None]
    out = 0.0
    complex_case = dtype_of(u).kind == "c"
    phase_u = phase_v = 0.0
    if gu is not None:
        uhgu = mh(u) @ gu
        j = f * uhgu
        inner = inner + (j + mh(j)) * col
        out = out + ((gu - u @ uhgu) / col) @ vh
        if complex_case:
            phase_u = diag(uhgu).imag
    if gvh is not None:
        gv = mh(gvh)
        vhgv = vh @ gv
        k = f * vhgv
        inner = inner + row * (k + mh(k))
        out = out + u @ ((gvh - (gvh @ mh(vh)) @ vh) / row)
        if complex_case:
            phase_v = diag(vhgv).imag
    if complex_case:
        _check_gauge(xp.data(phase_u), xp.data(phase_v), "svd_backward: The singular vectors", "phase term, making it")
        inner = inner + diag_embed(0.5j * (phase_u - phase_v) / s)
    return u @ inner @ vh + out


def svd(A, full_matrices=True, *, driver=None, out=None):  # noqa: N803
    """``torch.linalg.svd``: (U, S, Vh), singular values descending."""
    check_float_matrix("linalg.svd", A)
    return _Svd(*apply(LinalgSvd, "LinalgSvdBackward0", (A,), full_matrices=bool(full_matrices)))


def svdvals(A, *, driver=None, out=None):  # noqa: N803
    """The singular values alone (the same node as svd, whose vectors a second derivative needs)."""
    check_float_matrix("linalg.svd", A)
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
        # gA = [gQ + Q (triu(M, 1) + Re diag(M) + tril(M^H, -1))] R^-H, M = gR R^H - Q^H gQ
        # (the adjoint of the forward mode below; R's diagonal is real, so is its tangent's)
        gq, gr = matching(gq, q), matching(gr, q)  # the engine's zeros for an unused output
        m = gr @ mh(r) - mh(q) @ gq
        dtype = dtype_of(q)
        strict_upper = np.triu(np.ones((n, n)), 1).astype(dtype)
        eye = np.eye(n, dtype=dtype)
        x = m * strict_upper + xp.real(m) * eye + mh(m * strict_upper)
        return solve_triangular_any(r, gq + q @ x, upper=True, left=False, transpose=True)

    @staticmethod
    def jvp(ctx, t):  # X = Q^H dA R^-1, C = tril(X, -1) - tril(X, -1)^H + i Im diag(X):
        # dR = (X - C) R, dQ = dA R^-1 - Q (X - C)
        q, r = ctx.saved_tensors
        if ctx.mode == "r" or not ctx.tall or (ctx.mode == "complete" and q.shape[-2] > r.shape[-1]):
            raise NotImplementedError("forward AD of linalg.qr needs nrows >= ncols and mode='reduced'")
        tr = mh(np.linalg.solve(mh(r), mh(t)))  # dA R^-1
        x = mh(q) @ tr
        low = np.tril(x, -1)
        upper = np.triu(x, 1) + mh(low)
        idx = np.arange(x.shape[-1])
        upper[..., idx, idx] = x[..., idx, idx].real
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
        out = low.mT.copy() if upper else low  # A^T = conj(A) = conj(L) conj(L)^H: U = conj(L)^H
        ctx.save_for_backward(out)  # the output itself, so that a recorded backward differentiates it
        return out

    @staticmethod
    def backward(ctx, g):  # gA = L^-H Phi*(L^H gL) L^-1, Phi*(M) = (tril(M) + tril(M, -1)^H) / 2, as torch
        (out,) = ctx.saved_tensors  # (in complex, torch keeps the imaginary part of the diagonal: not Hermitian)
        low, gl = (mh(out), mh(g)) if ctx.upper else (out, g)
        m = mh(low) @ gl
        n = m.shape[-1]
        strict_lower = np.tril(np.ones((n, n)), -1).astype(dtype_of(low))
        inner = 0.5 * (m * (strict_lower + np.eye(n, dtype=strict_lower.dtype)) + mh(m * strict_lower))
        half = solve_triangular_any(low, inner, upper=False, left=True, transpose=True)  # L^-H Phi*
        return solve_triangular_any(low, half, upper=False, left=False)  # ... L^-1

    @staticmethod
    def jvp(ctx, t):  # dL = L Phi(L^-1 dA L^-H), with the tangent as given (torch does not symmetrise it)
        (out,) = ctx.saved_tensors
        low = mh(out) if ctx.upper else out
        x = np.linalg.solve(low, mh(np.linalg.solve(low, mh(t))))
        dl = low @ _phi(x)
        return mh(dl) if ctx.upper else dl


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
