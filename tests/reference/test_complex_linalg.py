"""Reductions and linear algebra on complex64/complex128 against torch 2.13: values, dtypes,
grad_fn names, gradients for complex cotangents (backward(gradient=...)), forward-mode
tangents, and second derivatives (create_graph) on some; also mixed real/complex operands."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference

RNG = np.random.default_rng(7)
DTYPES = ("complex64", "complex128")


def _c(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def _r(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def _m(*shape: int) -> np.ndarray:
    """A well-conditioned complex (batch of) square matrix."""
    return _c(*shape) + 3 * np.eye(shape[-1])


# name: (fn(ns, *tensors), inputs, double-backward?)
CASES = {
    "sum": (lambda ns, a: a.sum(), (_c(2, 3),), True),
    "sum_dim_keepdim": (lambda ns, a: ns.sum(a, 1, keepdim=True), (_c(2, 3, 2),), False),
    "sum_dims": (lambda ns, a: a.sum((0, 2)), (_c(2, 3, 2),), False),
    "mean": (lambda ns, a: a.mean(), (_c(2, 3),), True),
    "mean_dim": (lambda ns, a: ns.mean(a, -1, keepdim=True), (_c(2, 3),), False),
    "mean_dims": (lambda ns, a: a.mean((0, 1)), (_c(2, 3, 2),), False),
    "prod": (lambda ns, a: a.prod(), (_c(2, 3),), True),
    "prod_dim": (lambda ns, a: a.prod(1, keepdim=True), (_c(2, 3),), True),
    "prod_zero": (lambda ns, a: a.prod(0), (np.array([[0j, 1 + 1j], [2 - 1j, 0j], [1j, 3.0]]),), True),
    "cumsum": (lambda ns, a: a.cumsum(1), (_c(2, 4),), True),
    "cumprod": (lambda ns, a: ns.cumprod(a, 0), (_c(4, 2),), True),
    "cumprod_zero": (lambda ns, a: a.cumprod(0), (np.array([1 + 1j, 0j, 2 - 1j, 1j]),), True),
    "dot": (lambda ns, a, b: ns.dot(a, b), (_c(3), _c(3)), True),
    "vdot": (lambda ns, a, b: ns.vdot(a, b), (_c(3), _c(3)), True),
    "inner": (lambda ns, a, b: ns.inner(a, b), (_c(2, 3), _c(4, 3)), True),
    "mv": (lambda ns, a, b: a.mv(b), (_c(2, 3), _c(3)), True),
    "mm": (lambda ns, a, b: ns.mm(a, b), (_c(2, 3), _c(3, 4)), True),
    "bmm": (lambda ns, a, b: a.bmm(b), (_c(2, 2, 3), _c(2, 3, 4)), True),
    "matmul_vm": (lambda ns, a, b: a @ b, (_c(3), _c(3, 4)), False),
    "matmul_folded": (lambda ns, a, b: ns.matmul(a, b), (_c(2, 3, 4), _c(4)), False),
    "matmul_batched": (lambda ns, a, b: a @ b, (_c(2, 1, 2, 3), _c(4, 3, 2)), True),
    "outer": (lambda ns, a, b: ns.outer(a, b), (_c(3), _c(4)), False),
    "addmm": (lambda ns, c, a, b: ns.addmm(c, a, b, beta=0.5, alpha=2.0), (_c(2, 4), _c(2, 3), _c(3, 4)), True),
    "einsum_mm": (lambda ns, a, b: ns.einsum("ij,jk->ik", a, b), (_c(2, 3), _c(3, 4)), True),
    "einsum_three": (
        lambda ns, a, b, c: ns.einsum("bn,anm,bm->ba", a, b, c),
        (_c(2, 3), _c(4, 3, 5), _c(2, 5)),
        False,
    ),
    "einsum_diag": (lambda ns, a: ns.einsum("ii->i", a), (_c(3, 3),), False),
    "vecdot": (lambda ns, a, b: ns.linalg.vecdot(a, b), (_c(2, 3), _c(2, 3)), True),
    "vecdot_vectors": (lambda ns, a, b: ns.linalg.vecdot(a, b), (_c(3), _c(3)), True),
    "trace": (lambda ns, a: ns.trace(a), (_c(3, 3),), True),
    "inv": (lambda ns, a: ns.linalg.inv(a), (_m(3, 3),), True),
    "inv_batched": (lambda ns, a: a.inverse(), (_m(2, 3, 3),), False),
    "det": (lambda ns, a: ns.linalg.det(a), (_m(3, 3),), True),
    "det_batched": (lambda ns, a: ns.det(a), (_m(2, 3, 3),), False),
    "solve_vector": (lambda ns, a, b: ns.linalg.solve(a, b), (_m(3, 3), _c(3)), True),
    "solve_matrix": (lambda ns, a, b: ns.linalg.solve(a, b), (_m(3, 3), _c(3, 2)), False),
    "solve_right": (lambda ns, a, b: ns.linalg.solve(a, b, left=False), (_m(3, 3), _c(2, 3)), True),
    "norm": (lambda ns, a: a.norm(), (_c(2, 3),), True),
    "vector_norm_ord1": (lambda ns, a: ns.linalg.vector_norm(a, 1, dim=1), (_c(2, 3),), False),
    "vector_norm_ord3": (lambda ns, a: ns.linalg.vector_norm(a, 3), (_c(2, 3),), True),
    "vector_norm_inf": (lambda ns, a: ns.linalg.vector_norm(a, float("inf")), (_c(2, 3),), False),
    "linalg_norm_vector": (lambda ns, a: ns.linalg.norm(a), (_c(4),), False),
    "linalg_norm_fro": (lambda ns, a: ns.linalg.norm(a), (_c(2, 3),), True),
    "var": (lambda ns, a: a.var(), (_c(2, 3),), True),
    "var_mean": (lambda ns, a: ns.stack(ns.var_mean(a, 1), 0), (_c(2, 3),), True),
    "std_mean": (lambda ns, a: ns.std_mean(a, correction=0)[0], (_c(2, 3),), True),
    "logsumexp": (lambda ns, a: ns.logsumexp(a, 1), (_c(2, 3),), True),
    "logcumsumexp": (lambda ns, a: ns.logcumsumexp(a, 1), (_c(2, 4),), True),
    "logcumsumexp_0": (lambda ns, a: ns.logcumsumexp(a, 0), (_c(3, 2),), False),
    "cross": (lambda ns, a, b: ns.linalg.cross(a, b), (_c(2, 3), _c(2, 3)), True),
    "matrix_exp": (lambda ns, a: ns.linalg.matrix_exp(a), (_c(3, 3) / 2,), True),
    "slogdet": (lambda ns, a: ns.stack([t.to(a.dtype) for t in ns.linalg.slogdet(a)], -1), (_m(2, 3, 3),), True),
    "logabsdet": (lambda ns, a: ns.linalg.slogdet(a)[1], (_m(3, 3),), True),
    "logdet": (lambda ns, a: ns.logdet(a), (_m(3, 3),), True),
    "pinv_wide": (lambda ns, a: ns.linalg.pinv(_separated(ns, a)), (_c(2, 3),), True),
    "pinv_hermitian": (lambda ns, a: ns.linalg.pinv(_hermitian(ns, a, 4.0), hermitian=True), (_c(3, 3),), False),
    "lstsq": (lambda ns, a, b: ns.linalg.lstsq(_separated(ns, a), b).solution, (_c(4, 2), _c(4, 3)), True),
    "lstsq_vector": (lambda ns, a, b: ns.linalg.lstsq(_separated(ns, a), b).solution, (_c(3, 3), _c(3)), False),
    # decompositions, through functions invariant to the vectors' phases (LAPACK's choice)
    "eigh": (lambda ns, a: _eigh_invariant(ns, a), (_c(3, 3),), True),
    "eigh_upper_batched": (lambda ns, a: _eigh_invariant(ns, a, "U"), (_c(2, 3, 3),), False),
    "eigvalsh": (lambda ns, a: ns.linalg.eigvalsh(_hermitian(ns, a)), (_c(3, 3),), True),
    "svd_tall": (lambda ns, a: _svd_invariant(ns, a), (_c(4, 2),), True),
    "svd_wide_batched": (lambda ns, a: _svd_invariant(ns, a), (_c(2, 2, 3),), False),
    "svd_full": (lambda ns, a: _svd_invariant(ns, a, full=True), (_c(3, 2),), False),
    "svdvals": (lambda ns, a: ns.linalg.svdvals(_separated(ns, a)), (_c(3, 2),), True),
    "qr_tall": (lambda ns, a: _qr_invariant(ns, a), (_c(4, 3),), True),
    "qr_square_batched": (lambda ns, a: _qr_invariant(ns, a), (_c(2, 3, 3),), False),
    "cholesky": (lambda ns, a: ns.linalg.cholesky(_hermitian(ns, a, 8.0)), (_c(3, 3),), True),
    "solve_triangular": (
        lambda ns, a, b: ns.linalg.solve_triangular(a + 3 * ns.eye(3, dtype=a.dtype), b, upper=True),
        (_c(3, 3), _c(3, 2)),
        True,
    ),
    "solve_triangular_right_unit": (
        lambda ns, a, b: ns.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        (_c(2, 3, 3), _c(2, 3)),
        False,
    ),
    "cholesky_solve": (
        lambda ns, b, a: ns.cholesky_solve(b, ns.linalg.cholesky(_hermitian(ns, a, 8.0))),
        (_c(3, 2), _c(3, 3)),
        True,
    ),
    "cholesky_solve_upper": (
        lambda ns, b, a: ns.cholesky_solve(b, ns.linalg.cholesky(_hermitian(ns, a, 8.0), upper=True), upper=True),
        (_c(2, 3, 2), _c(3, 3)),
        False,
    ),
    "cholesky_upper": (lambda ns, a: ns.linalg.cholesky(_hermitian(ns, a, 8.0), upper=True), (_c(2, 3, 3),), True),
    "std_dim": (lambda ns, a: ns.std(a, 1, keepdim=True), (_c(2, 3),), False),
}


def _hermitian(ns, a, shift=None):
    """(A + A^H)/2 plus well-separated real diagonal entries (or a multiple of I: positive definite)."""
    n = a.shape[-1]
    diagonal = np.full(n, shift) if shift is not None else 4.0 * np.arange(n)
    return (a + a.mH) / 2 + ns.tensor(np.diag(diagonal), dtype=a.dtype)


def _eigh_invariant(ns, a, uplo="L"):
    w, v = ns.linalg.eigh(_hermitian(ns, a), UPLO=uplo)
    weights = ns.tensor(np.arange(1.0, a.shape[-1] + 1), dtype=a.dtype)
    return ns.cat([w.to(a.dtype), ((v * weights) @ v.mH).flatten(-2)], -1)


def _separated(ns, a):
    m, n = a.shape[-2:]
    shift = np.zeros((m, n))
    k = min(m, n)
    shift[range(k), range(k)] = 4.0 * np.arange(1, k + 1)
    return a + ns.tensor(shift, dtype=a.dtype)


def _svd_invariant(ns, a, full=False):
    u, s, vh = ns.linalg.svd(_separated(ns, a), full_matrices=full)
    k = s.shape[-1]
    weights = ns.tensor(np.arange(1.0, k + 1), dtype=a.dtype)
    return ns.cat([s.to(a.dtype), ((u[..., :k] * weights) @ vh[..., :k, :]).flatten(-2)], -1)


def _qr_invariant(ns, a):
    q, r = ns.linalg.qr(_separated(ns, a))
    phase = ns.sgn(r.diagonal(0, -2, -1)).detach()
    return ns.cat([(q * phase.unsqueeze(-2)).flatten(-2), (r * phase.conj().unsqueeze(-1)).flatten(-2)], -1)


# Real and complex operands together, where torch accepts them (a real input's gradient is real).
MIXED = {
    "matmul_batched": (lambda ns, a, b: a @ b.to(a.dtype), (_c(2, 2, 3), _r(3, 2)), (False, True)),
    "outer": (lambda ns, a, b: ns.outer(a, b), (_r(3), _c(2)), (True, False)),
    "solve_complex_a_real_b": (lambda ns, a, b: ns.linalg.solve(a, b.to(a.dtype)), (_m(3, 3), _r(3)), (False, True)),
}

# torch refuses these for complex input (or for mixed dtypes) with a RuntimeError.
REFUSED = {
    "mm_mixed": lambda ns, a, b: ns.mm(a, b.real),
    "dot_mixed": lambda ns, a, b: ns.dot(a[0], b[:, 0].real),
    "vdot_mixed": lambda ns, a, b: ns.vdot(a[0].real, b[:, 0]),
    "matmul_mixed": lambda ns, a, b: a[None] @ b.real,
    "einsum_mixed": lambda ns, a, b: ns.einsum("ij,jk", a.real, b),
    "inner_mixed": lambda ns, a, b: ns.inner(a, b.real),
    "addmm_mixed": lambda ns, a, b: ns.addmm(a.real, a, b),
    "amax": lambda ns, a, b: a.amax(),
    "max": lambda ns, a, b: a.max(),
    "min_dim": lambda ns, a, b: a.min(0),
    "sort": lambda ns, a, b: a.sort(),
    "cummax": lambda ns, a, b: a.cummax(0),
    "cummin": lambda ns, a, b: ns.cummin(a, 1),
    "kthvalue": lambda ns, a, b: a.kthvalue(1),
    "topk": lambda ns, a, b: a.topk(1),
    "median": lambda ns, a, b: a.median(),
    "msort": lambda ns, a, b: ns.msort(a),
    "argmax": lambda ns, a, b: a.argmax(),
    "aminmax": lambda ns, a, b: ns.aminmax(a),
}


def _dtype(ns, name: str):
    return getattr(ns, name)


def _leaves(ns, arrays, dtype, real_mask=None):
    out = []
    for i, a in enumerate(arrays):
        real = "float32" if dtype == "complex64" else "float64"
        arr = a.real if real_mask is not None and real_mask[i] else a
        t = ns.tensor(arr, dtype=_dtype(ns, dtype if np.iscomplexobj(arr) else real))
        out.append(t.requires_grad_())
    return out


def _tol(dtype: str) -> dict:
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == "complex64" else {"rtol": 1e-10, "atol": 1e-10}


def _cotangent(out, dtype: str) -> np.ndarray:
    shape = tuple(out.shape)
    g = _r(*shape) + (1j * _r(*shape) if out.is_complex() else 0)
    return np.asarray(g)


def _as(ns, arr, like):
    return ns.tensor(arr, dtype=like.dtype)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _compare(ref, tor, dtype):
    assert str(ref.dtype) == str(tor.dtype)
    assert tuple(ref.shape) == tuple(tor.shape)
    np.testing.assert_allclose(ref.detach().numpy(), tor.detach().resolve_conj().numpy(), **_tol(dtype))


def _run(fn, arrays, dtype, double, real_mask=None):
    leaves = {ns: _leaves(ns, arrays, dtype, real_mask) for ns in (torch, reference)}
    outs = {ns: _first(fn(ns, *leaves[ns])) for ns in leaves}
    _compare(outs[reference], outs[torch], dtype)
    assert type(outs[reference].grad_fn).__name__ == type(outs[torch].grad_fn).__name__
    cot = _cotangent(outs[torch], dtype)
    grads = {}
    for ns in leaves:
        g = _as(ns, cot, outs[ns])
        grads[ns] = ns.autograd.grad(outs[ns], leaves[ns], g, create_graph=double)
    for gr, gt in zip(grads[reference], grads[torch]):
        _compare(gr, gt, dtype)
    if double:  # second derivatives: the VJP of the VJP, with complex cotangents again
        ws = [_cotangent(g, dtype) for g in grads[torch]]
        second = {}
        for ns in leaves:
            pairs = [(g, _as(ns, w, g)) for g, w in zip(grads[ns], ws) if g.requires_grad]
            if not pairs:
                second[ns] = None
                continue
            second[ns] = ns.autograd.grad([p[0] for p in pairs], leaves[ns], [p[1] for p in pairs], allow_unused=True)
        if second[torch] is not None:
            assert second[reference] is not None
            for gr, gt in zip(second[reference], second[torch]):
                assert (gr is None) == (gt is None) or (gt is not None and not gt.abs().any())
                if gr is not None and gt is not None:
                    _compare(gr, gt, dtype)
    # forward mode: the linear pushforward of random tangents
    tangents = [
        _c(*a.shape) if np.iscomplexobj(a) and (real_mask is None or not real_mask[i]) else _r(*a.shape)
        for i, a in enumerate(arrays)
    ]
    jvps = {}
    for ns in leaves:
        fwad = ns.autograd.forward_ad
        with fwad.dual_level():
            duals = [fwad.make_dual(x.detach(), _as(ns, t, x)) for x, t in zip(leaves[ns], tangents)]
            jvps[ns] = fwad.unpack_dual(_first(fn(ns, *duals))).tangent
    _compare(jvps[reference], jvps[torch], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_complex(name, dtype):
    fn, arrays, double = CASES[name]
    _run(fn, arrays, dtype, double)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MIXED))
def test_mixed(name, dtype):
    fn, arrays, real_mask = MIXED[name]
    _run(fn, arrays, dtype, False, real_mask=real_mask)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused(name):
    a, b = _c(3, 3), _c(3, 3)
    for ns in (torch, reference):
        ta, tb = (ns.tensor(x, dtype=ns.complex64) for x in (a, b))
        with pytest.raises(RuntimeError):
            REFUSED[name](ns, ta, tb)


@pytest.mark.parametrize(
    "loss",
    [
        lambda ns, a: ns.linalg.eigh(_hermitian(ns, a))[1].real.sum(),
        lambda ns, a: ns.linalg.svd(_separated(ns, a))[0].real.sum(),
        lambda ns, a: ns.linalg.svd(_separated(ns, a))[2].imag.sum(),
    ],
    ids=["eigh", "svd_u", "svd_vh"],
)
def test_phase_dependent_loss_raises(loss):
    """A loss that depends on the vectors' phases: torch's error, word for word."""
    messages = []
    for ns in (torch, reference):
        a = ns.tensor(_c(3, 3), dtype=ns.complex128, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            loss(ns, a).backward()
        messages.append(str(info.value).split(" (Triggered")[0])
    assert messages[0] == messages[1]
    assert "e^{i phi}" in messages[1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_mean_keep_complex(dtype):
    """Complex stays complex: no promotion to the default float dtype."""
    for ns in (torch, reference):
        x = ns.tensor(_c(2, 3), dtype=_dtype(ns, dtype))
        for out in (x.sum(), x.mean(), x.prod(), x.cumsum(0), x.mean(0), x.sum(1, keepdim=True)):
            assert str(out.dtype).split(".")[-1] == dtype
    for ns in (torch, reference):  # a real input reduced in a complex dtype
        x = ns.tensor(_r(2, 3))
        for out in (x.sum(dtype=ns.complex128), x.mean(1, dtype=ns.complex128), x.cumsum(0, dtype=ns.complex128)):
            assert str(out.dtype).split(".")[-1] == "complex128"
    for ns in (torch, reference):  # norms and var of complex are real
        x = ns.tensor(_c(2, 3), dtype=_dtype(ns, dtype))
        real = "float32" if dtype == "complex64" else "float64"
        for out in (x.norm(), x.var(), ns.linalg.vector_norm(x, 1), ns.linalg.norm(x)):
            assert str(out.dtype).split(".")[-1] == real
