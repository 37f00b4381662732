"""The linear-algebra family against torch: matmul and its primitives, outer, einsum, trace,
diagonal, inv, det and solve. Each case compares values, the grad_fn graph, gradients,
second derivatives (create_graph) and forward-mode tangents."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from reference.ops import shape as shape_ops

RNG = np.random.default_rng(0)


def _matrix(*shape: int) -> np.ndarray:
    """A well-conditioned (batch of) square matrix: normal entries plus 3 on the diagonal."""
    return RNG.standard_normal(shape) + 3 * np.eye(shape[-1])


def _array(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


# name: (fn(ns, *tensors), input arrays)
CASES = {
    "dot": (lambda ns, a, b: ns.dot(a, b), (_array(3), _array(3))),
    "mv": (lambda ns, a, b: a.mv(b), (_array(2, 3), _array(3))),
    "mm": (lambda ns, a, b: ns.mm(a, b), (_array(2, 3), _array(3, 4))),
    "bmm": (lambda ns, a, b: a.bmm(b), (_array(2, 2, 3), _array(2, 3, 4))),
    "matmul_vm": (lambda ns, a, b: a @ b, (_array(3), _array(3, 4))),
    "matmul_folded": (lambda ns, a, b: ns.matmul(a, b), (_array(2, 3, 4), _array(4))),
    "matmul_batched": (lambda ns, a, b: a @ b, (_array(2, 1, 2, 3), _array(4, 3, 2))),
    "matmul_vector_batch": (lambda ns, a, b: a @ b, (_array(3), _array(2, 3, 4))),
    "outer": (lambda ns, a, b: ns.outer(a, b), (_array(3), _array(4))),
    "ger_method": (lambda ns, a, b: a.ger(b), (_array(2), _array(3))),
    "einsum_mm": (lambda ns, a, b: ns.einsum("ij,jk->ik", a, b), (_array(2, 3), _array(3, 4))),
    "einsum_bmm": (lambda ns, a, b: ns.einsum("bij,bjk->bik", a, b), (_array(2, 2, 3), _array(2, 3, 4))),
    "einsum_diag": (lambda ns, a: ns.einsum("ii->i", a), (_array(3, 3),)),
    "einsum_trace_implicit": (lambda ns, a: ns.einsum("ii", a), (_array(3, 3),)),
    "einsum_total": (lambda ns, a: ns.einsum("ij->", a), (_array(2, 3),)),
    "einsum_outer": (lambda ns, a, b: ns.einsum("i,j->ij", a, b), (_array(3), _array(4))),
    "einsum_ellipsis": (
        lambda ns, a, b: ns.einsum("...ij,...jk->...ik", a, b),
        (_array(2, 1, 2, 3), _array(4, 3, 2)),
    ),
    "einsum_implicit": (lambda ns, a, b: ns.einsum("ij,kj", a, b), (_array(2, 3), _array(4, 3))),
    "einsum_transpose": (lambda ns, a: ns.einsum("ji", a), (_array(2, 3),)),
    "einsum_hadamard": (lambda ns, a, b: ns.einsum("ij,ij->ij", a, b), (_array(2, 3), _array(2, 3))),
    "einsum_repeated_and_summed": (lambda ns, a: ns.einsum("iij->j", a), (_array(3, 3, 2),)),
    "einsum_batch_diagonal": (lambda ns, a: ns.einsum("...ii->...i", a), (_array(2, 3, 3),)),
    "einsum_three": (
        lambda ns, a, b, c: ns.einsum("bn,anm,bm->ba", a, b, c),
        (_array(2, 3), _array(4, 3, 5), _array(2, 5)),
    ),
    "einsum_list": (lambda ns, a, b: ns.einsum("i,i", [a, b]), (_array(3), _array(3))),
    "einsum_sublist": (lambda ns, a, b: ns.einsum(a, [0, 1], b, [1, 2], [0, 2]), (_array(2, 3), _array(3, 4))),
    "einsum_broadcast_one": (lambda ns, a, b: ns.einsum("ij,jk->ik", a, b), (_array(2, 1), _array(3, 4))),
    "trace": (lambda ns, a: ns.trace(a), (_array(3, 3),)),
    "trace_rectangular": (lambda ns, a: a.trace(), (_array(2, 4),)),
    "diagonal": (lambda ns, a: a.diagonal(), (_array(3, 3),)),
    "diagonal_offset_dims": (lambda ns, a: ns.diagonal(a, 1, 0, 2), (_array(3, 4, 5),)),
    "diagonal_negative": (lambda ns, a: a.diagonal(offset=-1, dim1=2, dim2=-3), (_array(3, 4, 5),)),
    "diagonal_empty": (lambda ns, a: a.diagonal(5), (_array(3, 3),)),
    "linalg_diagonal": (lambda ns, a: ns.linalg.diagonal(a, offset=1), (_array(2, 3, 3),)),
    "inv": (lambda ns, a: ns.linalg.inv(a), (_matrix(3, 3),)),
    "inv_batched": (lambda ns, a: ns.linalg.inv(a), (_matrix(2, 3, 3),)),
    "inverse": (lambda ns, a: a.inverse(), (_matrix(2, 2),)),
    "det": (lambda ns, a: ns.linalg.det(a), (_matrix(3, 3),)),
    "det_batched": (lambda ns, a: ns.det(a), (_matrix(2, 3, 3),)),
    "det_method_1x1": (lambda ns, a: a.det(), (_matrix(1, 1),)),
    "solve_vector": (lambda ns, a, b: ns.linalg.solve(a, b), (_matrix(3, 3), _array(3))),
    "solve_matrix": (lambda ns, a, b: ns.linalg.solve(a, b), (_matrix(3, 3), _array(3, 2))),
    "solve_batched_vector": (lambda ns, a, b: ns.linalg.solve(a, b), (_matrix(2, 3, 3), _array(3))),
    "solve_batch_of_vectors": (lambda ns, a, b: ns.linalg.solve(a, b), (_matrix(2, 3, 3), _array(2, 3))),
    "solve_broadcast_a": (lambda ns, a, b: ns.linalg.solve(a, b), (_matrix(3, 3), _array(2, 3, 2))),
    "solve_broadcast_both": (lambda ns, a, b: ns.linalg.solve(a, b), (_matrix(2, 1, 3, 3), _array(4, 3, 1))),
    "solve_right": (lambda ns, a, b: ns.linalg.solve(a, b, left=False), (_matrix(3, 3), _array(2, 3))),
}


def _names(t) -> list[str]:
    """The grad_fn graph of ``t``, depth first in next_functions order."""
    names, stack, seen = [], [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(type(node).__name__)
        stack.extend(nxt for nxt, _ in reversed(node.next_functions))
    return names


def _observe(ns, name: str, dtype: str = "float64") -> dict:
    fn, arrays = CASES[name]
    xs = [ns.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    y = fn(ns, *xs)
    v = ns.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(dtype))
    grads = ns.autograd.grad(y, xs, v, create_graph=True)
    weights = [np.random.default_rng(2 + i).standard_normal(tuple(g.shape)).astype(dtype) for i, g in enumerate(grads)]
    total = sum((g * ns.tensor(w)).sum() for g, w in zip(grads, weights) if g.requires_grad)
    second = ns.autograd.grad(total, xs, allow_unused=True) if isinstance(total, ns.Tensor) else ()
    return {
        "value": y.detach().numpy().copy(),
        "graph": _names(y),
        "grads": [g.detach().numpy().copy() for g in grads],
        "grad_nodes": [None if g.grad_fn is None else type(g.grad_fn).__name__ for g in grads],
        "second": [None if s is None else s.detach().numpy().copy() for s in second],
    }


GRAPH_CASES = sorted(CASES)


@pytest.mark.parametrize("name", GRAPH_CASES)
def test_values_graph_gradients_and_second_order_match_torch(both, name):
    both(lambda ns: _observe(ns, name), rtol=1e-7)


@pytest.mark.parametrize(
    "name",
    ["mm", "bmm", "matmul_batched", "einsum_ellipsis", "einsum_three", "inv", "solve_broadcast_both", "det_batched"],
)
def test_float32_values_and_gradients(both, name):
    both(lambda ns: [_observe(ns, name, "float32")[key] for key in ("value", "graph", "grads")], rtol=2e-5)


def _tangent(ns, name: str):
    fn, arrays = CASES[name]
    fw = ns.autograd.forward_ad
    rng = np.random.default_rng(3)
    with fw.dual_level():
        duals = [fw.make_dual(ns.tensor(a), ns.tensor(rng.standard_normal(a.shape))) for a in arrays]
        out = fw.unpack_dual(fn(ns, *duals))
        return out.primal.detach().numpy().copy(), out.tangent.numpy().copy()


_OTHER_FAMILIES = ("Permute", "Unsqueeze", "Squeeze", "Sum", "Expand", "Transpose", "UnsafeView", "Reshape")


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_mode_matches_torch(both, name):
    try:
        _tangent(reference, name)
    except NotImplementedError as exc:  # a shape/reduction op's jvp belongs to its own family
        if any(f"use forward AD with {op}" in str(exc) for op in _OTHER_FAMILIES):
            pytest.skip(f"waiting for another family's jvp: {exc}")
        raise
    both(lambda ns: list(_tangent(ns, name)), rtol=1e-7)


# -- determinant at singular matrices ---------------------------------------------------------

SINGULAR = [
    [[1.0, 2.0], [2.0, 4.0]],  # rank 1: cofactors are not zero
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]],  # rank 2
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]],  # rank 1: cofactors are zero
    [[0.0]],
    [[[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]]],  # a batch with one singular matrix
]


@pytest.mark.parametrize("matrix", SINGULAR)
def test_det_gradient_at_singular_matrices_is_torchs(both, matrix):
    """torch's plain backward gives 0 at det = 0 (its LU solve meets a zero right-hand side),
    except for 1x1 matrices; forward mode gives 0 too."""

    def program(ns):
        x = ns.tensor(matrix, dtype=ns.float64, requires_grad=True)
        ns.linalg.det(x).sum().backward()
        fw = ns.autograd.forward_ad
        with fw.dual_level():
            tangent = fw.unpack_dual(ns.linalg.det(fw.make_dual(x.detach(), ns.ones_like(x)))).tangent
        return [x.grad, tangent]

    both(program)


@pytest.mark.parametrize("matrix", [*SINGULAR[:3], [[1.0, 0.0], [0.0, 1e-15]]])
def test_det_create_graph_at_singular_matrices_gives_cofactors(matrix):
    """With create_graph torch switches to an SVD formula below |det| < 100 eps: the cofactors,
    whose own derivative is right too. Ours takes them from the minors (another node name)."""

    def run(ns):
        x = ns.tensor(matrix, dtype=ns.float64, requires_grad=True)
        (g,) = ns.autograd.grad(ns.linalg.det(x), x, create_graph=True)
        (h,) = ns.autograd.grad((g * ns.tensor(np.arange(g.numel()).reshape(g.shape) * 1.0)).sum(), x)
        return g.detach().numpy(), h.numpy()

    for got, want in zip(run(reference), run(torch)):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_det_create_graph_branch_threshold_is_100_eps():
    for e, name in [(2.1e-14, "MulBackward0"), (2.3e-14, "LinalgSolveExBackward0")]:
        x = reference.tensor([[1.0, 0.0], [0.0, e]], dtype=reference.float64, requires_grad=True)
        (g,) = reference.autograd.grad(reference.linalg.det(x), x, create_graph=True)
        assert type(g.grad_fn).__name__ == name
        t = torch.tensor([[1.0, 0.0], [0.0, e]], dtype=torch.float64, requires_grad=True)
        (tg,) = torch.autograd.grad(torch.linalg.det(t), t, create_graph=True)
        assert (type(tg.grad_fn).__name__ == "MmBackward0") == (name == "MulBackward0")


# -- errors -----------------------------------------------------------------------------------

SINGULAR_2 = [[1.0, 2.0], [2.0, 4.0]]
ERRORS = {
    "mm_shapes": lambda ns: ns.mm(ns.ones(2, 3), ns.ones(2, 3)),
    "matmul_shapes": lambda ns: ns.ones(2, 3) @ ns.ones(2, 3),
    "mv_shapes": lambda ns: ns.ones(2, 3).mv(ns.ones(2)),
    "mv_0d": lambda ns: ns.mv(ns.tensor(1.0), ns.tensor(1.0)),
    "mv_rank": lambda ns: ns.mv(ns.ones(3), ns.ones(3, 3)),
    "mm_rank": lambda ns: ns.mm(ns.ones(3, 3), ns.ones(3)),
    "bmm_rank": lambda ns: ns.bmm(ns.ones(2, 3, 3), ns.ones(3, 3)),
    "dot_rank": lambda ns: ns.dot(ns.ones(3), ns.ones(3, 3)),
    "matmul_0d": lambda ns: ns.matmul(ns.ones(3), ns.tensor(2.0)),
    "bmm_dtype": lambda ns: ns.bmm(ns.ones(2, 2, 3), ns.ones(2, 3, 4, dtype=ns.float64)),
    "outer_2d": lambda ns: ns.outer(ns.ones(3, 2), ns.ones(3)),
    "outer_0d": lambda ns: ns.outer(ns.ones(3), ns.tensor(1.0)),
    "trace_1d": lambda ns: ns.trace(ns.ones(3)),
    "trace_3d": lambda ns: ns.ones(2, 3, 4).trace(),
    "diagonal_same_dims": lambda ns: ns.ones(2, 3, 4).diagonal(0, 0, -3),
    "diagonal_dim_range": lambda ns: ns.ones(3).diagonal(),
    "inv_singular": lambda ns: ns.linalg.inv(ns.tensor(SINGULAR_2)),
    "inv_singular_batch": lambda ns: ns.inverse(ns.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]])),
    "inv_singular_3": lambda ns: ns.linalg.inv(ns.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])),
    "inv_not_square": lambda ns: ns.linalg.inv(ns.ones(2, 3)),
    "inv_1d": lambda ns: ns.linalg.inv(ns.ones(3)),
    "inv_long": lambda ns: ns.linalg.inv(ns.tensor([[1, 0], [0, 1]])),
    "det_not_square": lambda ns: ns.linalg.det(ns.ones(2, 3)),
    "det_1d": lambda ns: ns.det(ns.ones(3)),
    "solve_singular": lambda ns: ns.linalg.solve(ns.tensor(SINGULAR_2), ns.ones(2)),
    "solve_singular_batch": lambda ns: ns.linalg.solve(ns.tensor([[[1.0, 0.0], [0.0, 1.0]], SINGULAR_2]), ns.ones(2)),
    "solve_incompatible": lambda ns: ns.linalg.solve(ns.ones(3, 3), ns.ones(2, 3)),
    "solve_incompatible_vector": lambda ns: ns.linalg.solve(ns.ones(2, 2), ns.ones(3)),
    "solve_not_a_batch_of_vectors": lambda ns: ns.linalg.solve(ns.ones(2, 3, 3), ns.ones(1, 3)),
    "solve_right_vector": lambda ns: ns.linalg.solve(ns.ones(3, 3), ns.ones(3), left=False),
    "solve_right_vector_1x1": lambda ns: ns.linalg.solve(ns.ones(2, 1, 1), ns.ones(2, 1), left=False),
    "solve_batch_clash": lambda ns: ns.linalg.solve(ns.ones(5, 3, 2, 2), ns.ones(4, 2, 1)),
    "solve_dtype": lambda ns: ns.linalg.solve(ns.ones(2, 2, dtype=ns.float64), ns.ones(2)),
    "solve_0d_b": lambda ns: ns.linalg.solve(ns.ones(3, 3), ns.tensor(1.0)),
    "einsum_operand_count": lambda ns: ns.einsum("ij,jk", ns.ones(2, 3)),
    "einsum_too_many": lambda ns: ns.einsum("ij", ns.ones(2, 3), ns.ones(3)),
    "einsum_dims": lambda ns: ns.einsum("i", ns.ones(2, 3)),
    "einsum_ellipsis_dims": lambda ns: ns.einsum("i...j", ns.ones(2)),
    "einsum_sizes": lambda ns: ns.einsum("ij,jk", ns.ones(2, 3), ns.ones(4, 3)),
    "einsum_repeated_sizes": lambda ns: ns.einsum("ii", ns.ones(2, 3)),
    "einsum_ellipsis_broadcast": lambda ns: ns.einsum("...i,...i->...", ns.ones(2, 3), ns.ones(4, 3)),
    "einsum_unknown_output": lambda ns: ns.einsum("ij->k", ns.ones(2, 3)),
    "einsum_repeated_output": lambda ns: ns.einsum("ij->ii", ns.ones(2, 3)),
    "einsum_bad_label": lambda ns: ns.einsum("i1", ns.ones(2, 3)),
    "einsum_bad_output_label": lambda ns: ns.einsum("ij->j1", ns.ones(2, 3)),
    "einsum_bad_dot": lambda ns: ns.einsum("i.j", ns.ones(2, 3)),
    "einsum_no_operand": lambda ns: ns.einsum("ij"),
    "einsum_dtype": lambda ns: ns.einsum("ij,jk->ik", ns.ones(2, 3), ns.ones(3, 4, dtype=ns.float64)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_messages_match_torch(both, name):
    result = both(ERRORS[name])
    assert "raised" in result


def test_linalg_error_is_a_runtime_error_named_like_torchs():
    assert issubclass(reference.linalg.LinAlgError, RuntimeError)
    assert reference.linalg.LinAlgError.__name__ == torch.linalg.LinAlgError.__name__
    with pytest.raises(reference.linalg.LinAlgError, match="input matrix is singular"):
        reference.linalg.inv(reference.zeros(2, 2))


# -- layout and API -----------------------------------------------------------------------------


def test_diagonal_is_a_writable_view():
    x = reference.zeros(3, 4)
    d = x.diagonal(1)
    d._data[...] = 7.0
    assert x._data[0, 1] == 7.0 and x._data[2, 3] == 7.0 and x._data.sum() == 21.0


def test_in_place_change_through_a_diagonal_view(both):
    def program(ns):
        x = ns.ones(3, 3, requires_grad=True)
        y = x * 1
        d = y.diagonal(1)
        d.mul_(5)
        y.sum().backward()
        return [y, d, x.grad]

    both(program)


def test_integer_trace_and_einsum_keep_integers(both):
    both(lambda ns: [ns.trace(ns.tensor([[1, 2], [3, 4]])), ns.einsum("ij,jk->ik", *[ns.tensor([[1, 2], [3, 4]])] * 2)])


def test_mixed_dtype_outer_and_einsum_product_promote(both):
    both(
        lambda ns: [
            ns.outer(ns.ones(2), ns.ones(3, dtype=ns.float64)),
            ns.einsum("i,j->ij", ns.ones(2), ns.ones(3, dtype=ns.float64)),
        ]
    )


def test_empty_matrices(both):
    def program(ns):
        a = ns.zeros(0, 0, requires_grad=True)
        b = ns.zeros(2, 0, 0, requires_grad=True)
        d, i = ns.linalg.det(b), ns.linalg.inv(a)
        (d.sum() + i.sum()).backward()
        x = ns.linalg.solve(ns.tensor(np.eye(3)), ns.zeros(3, 0, dtype=ns.float64))
        return [d, i, a.grad, b.grad, x]

    both(program)


def test_jvp_rules_of_the_family_exist():
    """Forward mode needs no other family for the primitives and the decompositions' own ops."""
    assert shape_ops.View.jvp is not None
    from reference.ops import diagonals, linalg, solvers

    for fn in (linalg.Dot, linalg.Mv, linalg.Mm, diagonals.Trace, diagonals.Diagonal, diagonals.DiagonalEmbed):
        assert fn.jvp is not None, fn
    for fn in (solvers.LinalgInv, solvers.LinalgDet, solvers.LinalgSolve):
        assert fn.jvp is not None, fn
