"""Decompositions, matrix functions and matrix norms (reference/ops/decompositions.py,
matrix_functions.py, least_squares.py, triangular.py, norms_linalg.py) against torch: values,
the grad_fn chain, gradients, second derivatives (create_graph) and forward-mode tangents, on
gauge-invariant functions of the decompositions; then their edges (degenerate spectra,
singular and indefinite matrices, torch's errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as torch_fwad

import reference

RNG = np.random.default_rng(7)


def _u(*shape: int) -> np.ndarray:
    return RNG.uniform(-1, 1, shape)


def _const(ns, like, array):
    return ns.tensor(np.asarray(array, dtype=np.float64), dtype=like.dtype)


def _sym(ns, a):  # separated eigenvalues
    n = a.shape[-1]
    return (a + a.mT) / 2 + _const(ns, a, np.diag(3.0 * n * np.arange(n)))


def _spd(ns, a):
    n = a.shape[-1]
    return (a + a.mT) / 2 + _const(ns, a, 2.0 * n * np.eye(n))


def _full_rank(ns, a):  # distinct singular values, far from 0
    m, n = a.shape[-2:]
    shift = np.zeros((m, n))
    k = min(m, n)
    shift[range(k), range(k)] = 3.0 * max(m, n) * np.arange(1, k + 1)
    return a + _const(ns, a, shift)


def _flat(x):
    return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])


def _eigh(ns, a):
    return _gauge_free_eigh(ns, _sym(ns, a))


def _gauge_free_eigh(ns, m):
    """(L, V diag(1..n) V^T): invariant to the eigenvectors' signs."""
    w, v = ns.linalg.eigh(m)
    return ns.cat([w, _flat((v * _const(ns, m, np.arange(1.0, m.shape[-1] + 1))) @ v.mT)], -1)


def _svd(ns, a):
    u, s, vh = ns.linalg.svd(_full_rank(ns, a), full_matrices=False)
    return ns.cat([s, _flat((u * _const(ns, a, np.arange(1.0, s.shape[-1] + 1))) @ vh)], -1)


def _qr(ns, a, mode="reduced"):
    q, r = ns.linalg.qr(_full_rank(ns, a), mode=mode)
    sign = ns.sign(r.diagonal(0, -2, -1)).detach()
    return ns.cat([_flat(q * sign.unsqueeze(-2)), _flat(r * sign.unsqueeze(-1))], -1)


# name: (fn(ns, *tensors), input shapes, the grad_fn names from the output down)
CASES = {
    "eigh": (_eigh, [(2, 3, 3)], ["CatBackward0"]),
    "eigh_node": (lambda ns, a: ns.linalg.eigh(_sym(ns, a))[0], [(3, 3)], ["LinalgEighBackward0", "AddBackward0"]),
    "eigh_unsymmetrised": (  # the raw input: torch reads its lower triangle, its gradient is symmetric
        lambda ns, a: _gauge_free_eigh(ns, a + _const(ns, a, np.diag([0.0, 9.0, 18.0]))), [(3, 3)], ["CatBackward0"],
    ),
    "eigvalsh": (lambda ns, a: ns.linalg.eigvalsh(_sym(ns, a)), [(2, 4, 4)], ["LinalgEighBackward0"]),
    "svd_tall": (_svd, [(4, 2)], ["CatBackward0"]),
    "svd_wide_batch": (_svd, [(2, 2, 4)], ["CatBackward0"]),
    "svd_node": (lambda ns, a: ns.linalg.svd(a, full_matrices=False)[1], [(3, 2)], ["LinalgSvdBackward0"]),
    "svdvals": (lambda ns, a: ns.linalg.svdvals(_full_rank(ns, a)), [(2, 3, 4)], ["LinalgSvdBackward0"]),
    "svd_full_values": (lambda ns, a: ns.linalg.svd(_full_rank(ns, a))[1], [(4, 2)], ["LinalgSvdBackward0"]),
    "qr": (_qr, [(2, 4, 3)], ["CatBackward0"]),
    "qr_node": (lambda ns, a: ns.linalg.qr(_full_rank(ns, a))[1], [(3, 3)], ["LinalgQrBackward0"]),
    "qr_complete_square": (lambda ns, a: _qr(ns, a, "complete"), [(3, 3)], ["CatBackward0"]),
    "cholesky": (lambda ns, a: ns.linalg.cholesky(_spd(ns, a)), [(2, 3, 3)], ["LinalgCholeskyExBackward0"]),
    "cholesky_unsymmetrised": (  # tangents that are not symmetric go into the jvp unchanged
        lambda ns, a: ns.linalg.cholesky(a + _const(ns, a, 6.0 * np.eye(3))), [(3, 3)], ["LinalgCholeskyExBackward0"],
    ),
    "cholesky_upper": (
        lambda ns, a: ns.linalg.cholesky(_spd(ns, a), upper=True), [(4, 4)], ["LinalgCholeskyExBackward0"],
    ),
    "slogdet": (
        lambda ns, a: ns.linalg.slogdet(_spd(ns, a) - 5.0).logabsdet, [(2, 3, 3)], ["LinalgSlogdetBackward0"],
    ),
    "logdet": (lambda ns, a: ns.logdet(_spd(ns, a)), [(3, 3)], ["WhereBackward0", "LinalgSlogdetBackward0"]),
    "matrix_exp": (lambda ns, a: ns.linalg.matrix_exp(4 * a), [(2, 3, 3)], ["LinalgMatrixExpBackward0"]),
    "matrix_exp_method": (lambda ns, a: a.matrix_exp(), [(4, 4)], ["LinalgMatrixExpBackward0"]),
    "pinv_tall": (lambda ns, a: ns.linalg.pinv(_full_rank(ns, a)), [(4, 2)], ["LinalgPinvBackward0"]),
    "pinv_wide": (lambda ns, a: ns.linalg.pinv(_full_rank(ns, a)), [(2, 2, 3)], ["LinalgPinvBackward0"]),
    "pinv_hermitian": (
        lambda ns, a: ns.linalg.pinv(_sym(ns, a) + 1.0, hermitian=True), [(3, 3)], ["LinalgPinvBackward0"],
    ),
    "lstsq": (
        lambda ns, a, b: ns.linalg.lstsq(_full_rank(ns, a), b, driver="gels").solution, [(2, 4, 2), (2, 4, 3)],
        ["LinalgLstsqBackward0"],
    ),
    "cholesky_solve": (
        lambda ns, b, a: ns.cholesky_solve(b, ns.linalg.cholesky(_spd(ns, a))), [(2, 3, 2), (3, 3)],
        ["CholeskySolveBackward0"],
    ),
    "cholesky_solve_upper_method": (
        lambda ns, b, a: b.cholesky_solve(ns.linalg.cholesky(_spd(ns, a), upper=True), upper=True),
        [(3, 1), (3, 3)], ["CholeskySolveBackward0"],
    ),
    "cholesky_solve_raw_factor": (
        lambda ns, b, a: ns.cholesky_solve(b, _spd(ns, a)), [(3, 2), (3, 3)], ["CholeskySolveBackward0"],
    ),
    "cross": (lambda ns, a, b: ns.linalg.cross(a, b, dim=0), [(3, 2), (3, 1)], ["LinalgCrossBackward0"]),
    "vecdot": (lambda ns, a, b: ns.linalg.vecdot(a, b), [(2, 3), (3,)], ["SumBackward1", "MulBackward0"]),
    "vecdot_vectors": (lambda ns, a, b: ns.linalg.vecdot(a, b, dim=0), [(3,), (3,)], ["VdotBackward0"]),
    "vecdot_scalar": (lambda ns, a, b: ns.linalg.vecdot(a, b), [(3,), ()], ["SumBackward1"]),
    "multi_dot": (
        lambda ns, a, b, c, d: ns.linalg.multi_dot([a, b, c, d]), [(3,), (3, 4), (4, 2), (2, 5)],
        ["ViewBackward0", "MmBackward0"],
    ),
    "matrix_power_3": (lambda ns, a: ns.linalg.matrix_power(a, 3), [(3, 3)], ["MmBackward0", "MmBackward0"]),
    "matrix_power_-2": (
        lambda ns, a: ns.linalg.matrix_power(_spd(ns, a), -2), [(3, 3)], ["MmBackward0", "LinalgInvExBackward0"],
    ),
    "matrix_power_1": (lambda ns, a: ns.linalg.matrix_power(a, 1), [(3, 3)], ["CloneBackward0"]),
    "solve_triangular": (
        lambda ns, a, b: ns.linalg.solve_triangular(_spd(ns, a), b, upper=True), [(3, 3), (2, 3, 2)],
        ["LinalgSolveTriangularBackward0"],
    ),
    "solve_triangular_right_unit": (
        lambda ns, a, b: ns.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [(2, 3, 3), (2, 4, 3)], ["LinalgSolveTriangularBackward0"],
    ),
    "matrix_norm_fro": (lambda ns, a: ns.linalg.matrix_norm(a), [(2, 3, 2)], ["LinalgVectorNormBackward0"]),
    "matrix_norm_nuc": (
        lambda ns, a: ns.linalg.matrix_norm(_full_rank(ns, a), "nuc"), [(3, 2)],
        ["SumBackward1", "LinalgSvdBackward0", "PermuteBackward0"],
    ),
    "matrix_norm_2_keepdim": (
        lambda ns, a: ns.linalg.matrix_norm(_full_rank(ns, a).permute(1, 2, 0), 2, dim=(0, 1), keepdim=True),
        [(2, 3, 4)], ["PermuteBackward0", "UnsqueezeBackward0", "AmaxBackward0", "LinalgSvdBackward0"],
    ),
    "matrix_norm_-2": (
        lambda ns, a: ns.linalg.matrix_norm(_full_rank(ns, a), -2), [(3, 3)], ["AminBackward0", "LinalgSvdBackward0"],
    ),
    "matrix_norm_1": (
        lambda ns, a: ns.linalg.matrix_norm(a, 1, dim=(0, 2)), [(2, 4, 3)],
        ["AmaxBackward0", "LinalgVectorNormBackward0"],
    ),
    "matrix_norm_-inf_keepdim": (
        lambda ns, a: ns.linalg.matrix_norm(a, -math.inf, keepdim=True), [(2, 4, 3)],
        ["AminBackward0", "LinalgVectorNormBackward0"],
    ),
    "norm_default": (lambda ns, a: ns.linalg.norm(a), [(2, 3, 2)], ["LinalgVectorNormBackward0"]),
    "norm_2d_ord_inf": (lambda ns, a: ns.linalg.norm(a, math.inf), [(3, 4)], ["AmaxBackward0"]),
    "norm_vector_dim": (lambda ns, a: ns.linalg.norm(a, 3, 1), [(3, 4)], ["LinalgVectorNormBackward0"]),
    "norm_nuc_dims": (
        lambda ns, a: ns.linalg.norm(_full_rank(ns, a), "nuc", (-1, -2)), [(2, 3, 2)], ["SumBackward1"],
    ),
}  # fmt: skip


def _chain(t) -> list[str]:
    """Node names from the output down, following the first input that has a node."""
    names, node = [], t.grad_fn
    while node is not None:
        names.append(type(node).__name__.split("::")[-1])
        node = next((n for n, _ in node.next_functions if n is not None), None)
    return names


def _as_numpy(x):
    if x is None:
        return None
    x = x.detach()
    return (x.numpy(force=True) if isinstance(x, torch.Tensor) else x.numpy()).copy()


def _run(ns, fn, arrays, cotangent, weights, tangents):
    inputs = [ns.tensor(a, requires_grad=True) for a in arrays]
    out = fn(ns, *inputs)
    grads = ns.autograd.grad(out, inputs, ns.tensor(cotangent), create_graph=True)
    total = sum((g * ns.tensor(w)).sum() for g, w in zip(grads, weights) if g.requires_grad)
    second = (
        ns.autograd.grad(total, inputs, allow_unused=True)
        if torch.is_tensor(total) or hasattr(total, "grad_fn")
        else [None] * len(inputs)
    )
    fwad = torch_fwad if ns is torch else reference.autograd.forward_ad
    with fwad.dual_level():
        duals = [fwad.make_dual(ns.tensor(a), ns.tensor(t)) for a, t in zip(arrays, tangents)]
        tangent = fwad.unpack_dual(fn(ns, *duals)).tangent
    as_np = _as_numpy
    return out, as_np(out), [as_np(g) for g in grads], [as_np(g) for g in second], as_np(tangent)


def _close(a, b, tol):
    if a is None or b is None:
        assert a is None or not np.any(a), "one side has no second derivative, the other a nonzero one"
        assert b is None or not np.any(b), "one side has no second derivative, the other a nonzero one"
        return
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(CASES))
def test_against_torch(name):
    fn, shapes, chain = CASES[name]
    arrays = [_u(*s) for s in shapes]
    out_shape = fn(torch, *(torch.tensor(a) for a in arrays)).shape
    cot = RNG.standard_normal(tuple(out_shape))
    weights = [RNG.standard_normal(s) for s in shapes]
    tangents = [RNG.standard_normal(s) for s in shapes]
    t_out, *want = _run(torch, fn, arrays, cot, weights, tangents)
    r_out, *got = _run(reference, fn, arrays, cot, weights, tangents)
    assert _chain(r_out)[: len(chain)] == chain == _chain(t_out)[: len(chain)]
    value, grads, second, tangent = want
    r_value, r_grads, r_second, r_tangent = got
    np.testing.assert_allclose(r_value, value, rtol=1e-10, atol=1e-10)
    for g, h in zip(r_grads, grads):
        _close(g, h, 1e-9)
    for g, h in zip(r_second, second):
        _close(g, h, 1e-8)
    _close(r_tangent, tangent, 1e-9)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_decompositions_keep_dtype(dtype):
    a = reference.tensor(_u(3, 3), dtype=getattr(reference, dtype))
    spd = _spd(reference, a)
    for out in (*reference.linalg.eigh(spd), *reference.linalg.svd(a), *reference.linalg.qr(a),
                reference.linalg.cholesky(spd), reference.linalg.matrix_exp(a), reference.linalg.pinv(spd),
                *reference.linalg.slogdet(spd)):  # fmt: skip
        assert out.dtype == a.dtype


# -- edges: degenerate spectra, singular and indefinite matrices, errors -------------------------------------


def _both(fn, array):
    results = []
    for ns in (torch, reference):
        x = ns.tensor(array, requires_grad=True)
        out = fn(ns, x)
        (g,) = ns.autograd.grad(out.sum(), x)
        results.append((out.detach().numpy(), g.numpy()))
    return results


def test_eigenvalues_of_a_repeated_spectrum_have_torch_gradient():
    """At I the eigenvalues' derivative exists along symmetric directions summed over the cluster:
    the sum of the eigenvalues is the trace, gradient I."""
    (tv, tg), (rv, rg) = _both(lambda ns, x: ns.linalg.eigvalsh(x), np.eye(3))
    np.testing.assert_allclose(rv, tv)
    np.testing.assert_allclose(rg, tg, atol=1e-12)
    np.testing.assert_allclose(rg, np.eye(3), atol=1e-12)


def test_eigenvectors_at_a_repeated_eigenvalue_are_not_finite_as_in_torch():
    a = np.diag([1.0, 1.0, 2.0])
    for ns in (torch, reference):
        x = ns.tensor(a, requires_grad=True)
        _, v = ns.linalg.eigh(x)
        (g,) = ns.autograd.grad((v * ns.tensor(_u(3, 3))).sum(), x)
        assert not np.all(np.isfinite(g.numpy()))


def test_nuclear_norm_of_a_rank_deficient_matrix_matches_torch():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    (tv, _), (rv, _) = _both(lambda ns, x: ns.linalg.matrix_norm(x, "nuc"), a)
    np.testing.assert_allclose(rv, tv, rtol=1e-12)


def test_matrix_norm_one_at_tied_columns_splits_like_torch():
    a = np.array([[1.0, -1.0], [2.0, 2.0]])  # both column sums are 3
    (tv, tg), (rv, rg) = _both(lambda ns, x: ns.linalg.matrix_norm(x, 1), a)
    np.testing.assert_allclose(rv, tv)
    np.testing.assert_allclose(rg, tg)


def test_logdet_of_negative_and_zero_determinants():
    for a, expected in ((-np.eye(3), math.nan), (np.zeros((2, 2)), -math.inf)):
        t, r = torch.logdet(torch.tensor(a)).item(), reference.logdet(reference.tensor(a)).item()
        assert (math.isnan(t) and math.isnan(r)) if math.isnan(expected) else t == r == expected


def test_slogdet_sign_has_zero_gradient_and_a_node():
    a = np.diag([-2.0, 3.0, 4.0]) + 0.1 * _u(3, 3)  # det < 0
    for ns in (torch, reference):
        x = ns.tensor(a, requires_grad=True)
        result = ns.linalg.slogdet(x)
        assert type(result.sign.grad_fn).__name__ == "LinalgSlogdetBackward0"
        (g,) = (
            ns.autograd.grad(result.sign, x, allow_unused=True, materialize_grads=False)
            if ns is torch
            else (ns.autograd.grad(result.sign, x, allow_unused=True))
        )
        assert g is None or not np.any(g.numpy())


def test_matrix_power_zero_is_identity_with_zero_gradient():
    for ns in (torch, reference):
        x = ns.tensor(_u(2, 3, 3), requires_grad=True)
        out = ns.linalg.matrix_power(x, 0)
        assert _chain(out)[:2] == ["CopyBackwards", "CloneBackward0"]
        np.testing.assert_array_equal(out.detach().numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
        (g,) = ns.autograd.grad(out.sum(), x)
        assert not np.any(g.numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda ns: ns.linalg.cholesky(ns.tensor(-np.eye(3)[None].repeat(2, 0))),
        lambda ns: ns.linalg.eigh(ns.tensor(np.ones((2, 3)))),
        lambda ns: ns.linalg.svd(ns.tensor(np.ones(3))),
        lambda ns: ns.linalg.matrix_norm(ns.tensor(np.ones((2, 2))), 3),
        lambda ns: ns.linalg.norm(ns.tensor(np.ones((2, 2, 2))), 2),
        lambda ns: ns.linalg.solve_triangular(ns.tensor(np.eye(2)), ns.tensor(np.ones(2)), upper=True),
        lambda ns: ns.linalg.cross(ns.tensor(np.ones((2, 3))), ns.tensor(np.ones(3))),
        lambda ns: ns.linalg.cross(ns.tensor(np.ones((2, 4))), ns.tensor(np.ones((2, 4)))),
        lambda ns: ns.linalg.lstsq(ns.tensor(np.ones((3, 2))), ns.tensor(np.ones((4, 2)))),
        lambda ns: ns.linalg.matrix_power(ns.tensor(np.ones((2, 3))), 2),
        lambda ns: ns.linalg.multi_dot([ns.tensor(np.ones(2))]),
        lambda ns: ns.linalg.vecdot(ns.tensor(np.ones(3)), ns.tensor(1.0, dtype=ns.float32)),
        lambda ns: ns.linalg.vecdot(ns.tensor(np.ones(3)), ns.tensor(np.ones(2))),
        lambda ns: ns.linalg.vecdot(ns.tensor([1, 2]), ns.tensor([1, 2])),
        lambda ns: ns.cholesky_solve(ns.tensor(np.ones(3)), ns.tensor(np.eye(3))),
        lambda ns: ns.cholesky_solve(ns.tensor(np.ones((2, 2))), ns.tensor(np.eye(3))),
        lambda ns: ns.cholesky_solve(ns.tensor(np.ones((3, 2))), ns.tensor(np.eye(3), dtype=ns.float32)),
    ],
)
def test_errors_match_torch(call):
    with pytest.raises(RuntimeError) as want:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(reference)
    assert str(got.value) == str(want.value)


def test_complete_qr_of_a_tall_matrix_is_not_differentiable():
    for ns in (torch, reference):
        x = ns.tensor(_u(4, 2), requires_grad=True)
        q, r = ns.linalg.qr(x, mode="complete")
        with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
            ns.autograd.grad(q.sum() + r.sum(), x)


# -- dtypes, empty matrices and the checks torch makes, in torch's words -----------------------------------

_ones = np.ones
OUTCOME_CASES = {
    "cross_dtypes": lambda ns: ns.linalg.cross(ns.tensor(_ones(3)), ns.tensor(_ones(3), dtype=ns.float32)),
    "cross_broadcast": lambda ns: ns.linalg.cross(ns.tensor(_ones((2, 3))), ns.tensor(_ones((3, 3)))),
    "lstsq_dtypes": lambda ns: ns.linalg.lstsq(ns.tensor(np.eye(3)), ns.tensor(_ones((3, 1)), dtype=ns.float32)),
    "lstsq_driver": lambda ns: ns.linalg.lstsq(ns.tensor(np.eye(2)), ns.tensor(_ones((2, 1))), driver="foo"),
    "lstsq_1d": lambda ns: ns.linalg.lstsq(ns.tensor(_ones(2)), ns.tensor(_ones(2))),
    "lstsq_int": lambda ns: ns.linalg.lstsq(ns.tensor(_ones((2, 2), dtype=np.int64)), ns.tensor(_ones((2, 2)))),
    "multi_dot_dtypes": lambda ns: ns.linalg.multi_dot(
        [ns.tensor(_ones((2, 3))), ns.tensor(_ones((3, 2)), dtype=ns.float32)]
    ),
    "multi_dot_last_3d": lambda ns: ns.linalg.multi_dot([ns.tensor(_ones((2, 3))), ns.tensor(_ones((2, 3, 2)))]),
    "multi_dot_first_3d": lambda ns: ns.linalg.multi_dot([ns.tensor(_ones((2, 2, 2))), ns.tensor(_ones((2, 2)))]),
    "multi_dot_sizes": lambda ns: ns.linalg.multi_dot(
        [ns.tensor(_ones((2, 3))), ns.tensor(_ones((3, 4))), ns.tensor(_ones((2, 2)))]
    ),
    "matrix_power_1d": lambda ns: ns.linalg.matrix_power(ns.tensor(_ones(2)), 2),
    "matrix_power_int": lambda ns: ns.linalg.matrix_power(ns.tensor(_ones((2, 2), dtype=np.int64)), 3),
    "matrix_exp_int": lambda ns: ns.linalg.matrix_exp(ns.tensor(_ones((2, 2), dtype=np.int64))),
    "matrix_norm_int": lambda ns: ns.linalg.matrix_norm(ns.tensor(_ones((2, 2), dtype=np.int64)), "nuc"),
    "matrix_norm_1d": lambda ns: ns.linalg.matrix_norm(ns.tensor(_ones(2))),
    "logdet_1d": lambda ns: ns.logdet(ns.tensor(_ones(2))),
    "logdet_int": lambda ns: ns.logdet(ns.tensor(_ones((2, 2), dtype=np.int64))),
    "slogdet_int": lambda ns: ns.linalg.slogdet(ns.tensor(_ones((2, 2), dtype=np.int64))).logabsdet,
    "eigh_int": lambda ns: ns.linalg.eigvalsh(ns.tensor(_ones((2, 2), dtype=np.int64))),
    "eigvalsh_rect": lambda ns: ns.linalg.eigvalsh(ns.tensor(_ones((2, 3)))),
    "svdvals_1d": lambda ns: ns.linalg.svdvals(ns.tensor(_ones(2))),
    "pinv_int": lambda ns: ns.linalg.pinv(ns.tensor(_ones((2, 2), dtype=np.int64))),
    "pinv_hermitian_rect": lambda ns: ns.linalg.pinv(ns.tensor(_ones((2, 3))), hermitian=True),
    "qr_int": lambda ns: ns.linalg.qr(ns.tensor(_ones((2, 2), dtype=np.int64))).Q,
    "eigh_empty": lambda ns: ns.linalg.eigh(ns.tensor(_ones((0, 0)))).eigenvalues,
    "svd_empty": lambda ns: ns.linalg.svd(ns.tensor(_ones((0, 3)))).U,
    "svdvals_empty_batch": lambda ns: ns.linalg.svdvals(ns.tensor(_ones((2, 0, 3)))),
    "qr_empty": lambda ns: ns.linalg.qr(ns.tensor(_ones((3, 0)))).R,
    "cholesky_empty": lambda ns: ns.linalg.cholesky(ns.tensor(_ones((2, 0, 0)))),
    "matrix_exp_empty": lambda ns: ns.linalg.matrix_exp(ns.tensor(_ones((0, 2, 2)))),
    "pinv_empty": lambda ns: ns.linalg.pinv(ns.tensor(_ones((0, 3)))),
    "slogdet_empty": lambda ns: ns.linalg.slogdet(ns.tensor(_ones((0, 0)))).logabsdet,
    "solve_triangular_broadcast": lambda ns: ns.linalg.solve_triangular(
        ns.tensor(np.eye(2)[None].repeat(3, 0)), ns.tensor(_ones((2, 1))), upper=True
    ),
    "vecdot_scalar_operands": lambda ns: ns.linalg.vecdot(ns.tensor(1.0), ns.tensor(2.0)),
}


def _outcome(ns, call):
    try:
        r = call(ns)
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        return type(exc).__name__, str(exc)
    return str(r.dtype), tuple(r.shape), r.detach().numpy().tolist()


@pytest.mark.parametrize("name", list(OUTCOME_CASES))
def test_outcome_matches_torch(name):
    assert _outcome(reference, OUTCOME_CASES[name]) == _outcome(torch, OUTCOME_CASES[name])


@pytest.mark.parametrize("shape", [(3, 0), (0, 3), (2, 0, 3), (2, 3, 0), (0, 0)])
@pytest.mark.parametrize("ord", [2, -2, 1, -1, math.inf, -math.inf, "nuc", "fro"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_of_empty_matrices(shape, ord, keepdim):
    """torch: the max over no values is 0, with no graph; the min over none is an error."""
    outcomes = []
    for ns in (torch, reference):
        try:
            r = ns.linalg.matrix_norm(ns.tensor(np.ones(shape), requires_grad=True), ord, keepdim=keepdim)
            outcomes.append((tuple(r.shape), r.grad_fn is None, r.detach().numpy().tolist()))
        except Exception as exc:  # noqa: BLE001
            outcomes.append((type(exc).__name__, str(exc)))
    assert outcomes[0] == outcomes[1]
