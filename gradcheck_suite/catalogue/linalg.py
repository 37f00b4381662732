"""Linear algebra: matmul on every path (dot, mv, mm, folded, batched) and its primitives,
outer, einsum, trace, diagonal, and torch.linalg's inv, det and solve.

inv, det and solve are checked on ``A + 2n I`` with the entries of ``A`` in [-1, 1] (the shift
is inside fn, so the gradient still reaches ``A`` unchanged): every row of ``A + 2n I`` is
strictly diagonally dominant by at least n >= 1, so the matrix is invertible and
``||(A + 2n I)^-1||_inf <= 1`` (Varah's bound): far from singular in float32 too. These ops are
rational in their entries, so all entries are ``analytic``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import SMALL, Domain, op
from gradcheck_suite.strategies import matmul_shapes

UNIT = Domain(-1.0, 1.0, name="unit")

_side = st.integers(1, 4)
_side0 = st.integers(0, 4)  # size-0 dims too, where the op allows them
_mm = st.tuples(_side, _side, _side).map(lambda t: ((t[0], t[1]), (t[1], t[2])))
_mv = st.tuples(_side, _side).map(lambda t: ((t[0], t[1]), (t[1],)))
_dot = _side.map(lambda k: ((k,), (k,)))
_bmm = st.tuples(_side, _side, _side, _side).map(lambda t: ((t[0], t[1], t[2]), (t[0], t[2], t[3])))
_outer = st.tuples(_side0, _side0).map(lambda t: ((t[0],), (t[1],)))
_matrix = st.tuples(_side0, _side0).map(lambda t: (t,))


# -- einsum: the equation is drawn among those that fit the drawn shapes ------------------------

EINSUM_BINARY = ("ij,jk->ik", "bij,bjk->bik", "i,j->ij", "...ij,...jk->...ik")
EINSUM_UNARY = ("ii->i", "ij->", "ii", "ji", "...ii->...i")


@st.composite
def _einsum_binary_shapes(draw: st.DrawFn) -> tuple:
    n, k, m = draw(_side0, label="n"), draw(_side0, label="k"), draw(_side0, label="m")
    form = draw(st.sampled_from(EINSUM_BINARY), label="shape form")
    if form == "ij,jk->ik":
        return (n, k), (k, m)
    if form == "bij,bjk->bik":
        b = draw(_side0, label="b")
        return (b, n, k), (b, k, m)
    if form == "i,j->ij":
        return (n,), (m,)
    b1, b2 = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3),
        label="batch dims",
    ).input_shapes
    return (*b1, n, k), (*b2, k, m)


@st.composite
def _einsum_unary_shapes(draw: st.DrawFn) -> tuple:
    form = draw(st.sampled_from(EINSUM_UNARY), label="shape form")
    n = draw(_side0, label="n")
    if form in ("ij->", "ji"):
        return ((n, draw(_side0, label="m")),)
    batch = tuple(draw(st.lists(_side0, max_size=2), label="batch")) if form.startswith("...") else ()
    return ((*batch, n, n),)


def _fits(equation: str, shapes: tuple) -> bool:
    """Whether the equation accepts operands of these shapes (NumPy's rules, stricter than torch's)."""
    try:
        np.einsum(equation, *(np.zeros(s) for s in shapes))
    except ValueError:
        return False
    return True


def _einsum_kwargs(candidates: tuple):
    def kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
        fitting = [e for e in candidates if _fits(e, shapes)]
        return st.fixed_dictionaries({"equation": st.sampled_from(fitting)})

    return kwargs


# -- diagonal ------------------------------------------------------------------------------------


_at_least_2d = hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4).map(lambda s: (s,))


def _diagonal_kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
    ndim = len(shapes[0])
    pair = st.lists(st.integers(-ndim, ndim - 1), min_size=2, max_size=2).filter(lambda p: p[0] % ndim != p[1] % ndim)
    return st.fixed_dictionaries({"offset": st.integers(-3, 3), "dims": pair})


# -- inv, det, solve on A + 2n I -------------------------------------------------------------------

_batch = st.lists(st.integers(0, 3), max_size=2).map(tuple)


@st.composite
def _square_shapes(draw: st.DrawFn) -> tuple:
    n = draw(_side0, label="n")
    return ((*draw(_batch, label="batch"), n, n),)


def _shifted(ns, a):
    """``a + 2n I``: invertible and well conditioned for entries of ``a`` in [-1, 1]."""
    n = a.shape[-1]
    return a + ns.tensor(2.0 * n * np.eye(n), dtype=a.dtype)


@st.composite
def _solve_shapes(draw: st.DrawFn) -> tuple:
    """A (batch, n, n) and B as a vector, a batch of vectors (A's shape without its last dim),
    or (a batch of) n x k / k x n matrices, with batch dims that broadcast against A's."""
    n, k = draw(_side0, label="n"), draw(_side0, label="k")
    a_batch, b_batch = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=0, max_side=3),
        label="batch dims",
    ).input_shapes
    a = (*a_batch, n, n)
    form = draw(st.sampled_from(["vector", "batch of vectors", "AX = B", "XA = B"]), label="B form")
    if form == "vector":
        return a, (n,)
    if form == "batch of vectors":
        return a, a[:-1]
    return a, ((*b_batch, n, k) if form == "AX = B" else (*b_batch, k, n))


def _solve_kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
    """``left`` as torch accepts it for these shapes (both where both work; torch solves a
    vector B only with ``left=True``)."""
    a, b = shapes
    n = a[-1]
    if len(b) == 1 or (len(b) == len(a) - 1 and b == a[:-1]):
        return st.just({"left": True})
    options = [left for left, size in ((True, b[-2]), (False, b[-1])) if size == n]
    return st.fixed_dictionaries({"left": st.sampled_from(options)})


OPS = [
    op("matmul", "linalg", lambda ns, a, b: a @ b, matmul_shapes(), (SMALL, SMALL), analytic=True),
    op("mm", "linalg", lambda ns, a, b: ns.mm(a, b), _mm, (SMALL, SMALL), analytic=True),
    op("mv", "linalg", lambda ns, a, b: ns.mv(a, b), _mv, (SMALL, SMALL), analytic=True),
    op("dot", "linalg", lambda ns, a, b: ns.dot(a, b), _dot, (SMALL, SMALL), analytic=True),
    op("bmm", "linalg", lambda ns, a, b: ns.bmm(a, b), _bmm, (SMALL, SMALL), analytic=True),
    op("outer", "linalg", lambda ns, a, b: ns.outer(a, b), _outer, (SMALL, SMALL), analytic=True),
    op(
        "einsum", "linalg", lambda ns, a, b, equation: ns.einsum(equation, a, b), _einsum_binary_shapes(),
        (SMALL, SMALL), kwargs=_einsum_kwargs(EINSUM_BINARY), analytic=True,
        doc="two operands: " + ", ".join(EINSUM_BINARY),
    ),
    op(
        "einsum_unary", "linalg", lambda ns, a, equation: ns.einsum(equation, a), _einsum_unary_shapes(),
        (SMALL,), kwargs=_einsum_kwargs(EINSUM_UNARY), analytic=True,
        doc="one operand (diagonals, sums, implicit output): " + ", ".join(EINSUM_UNARY),
    ),
    op("trace", "linalg", lambda ns, a: ns.trace(a), _matrix, (SMALL,), analytic=True),
    op(
        "diagonal", "linalg", lambda ns, a, offset, dims: ns.diagonal(a, offset, *dims),
        _at_least_2d, (SMALL,), kwargs=_diagonal_kwargs, analytic=True,
    ),
    op(
        "linalg.inv", "linalg", lambda ns, a: ns.linalg.inv(_shifted(ns, a)), _square_shapes(), (UNIT,),
        analytic=True, doc="inv(A + 2n I), A in [-1, 1]: strictly diagonally dominant, so well conditioned",
    ),
    op(
        "linalg.det", "linalg", lambda ns, a: ns.linalg.det(_shifted(ns, a)), _square_shapes(), (UNIT,),
        analytic=True, doc="det(A + 2n I), A in [-1, 1]: far from singular",
    ),
    op(
        "linalg.solve", "linalg", lambda ns, a, b, left: ns.linalg.solve(_shifted(ns, a), b, left=left),
        _solve_shapes(), (UNIT, SMALL), kwargs=_solve_kwargs, analytic=True,
        doc="solve(A + 2n I, B): B a vector, a batch of vectors or (broadcast) matrices; left drawn",
    ),
]  # fmt: skip

# products use conjugate transposes in backward: G B^H, A^H G
OPS = also_complex(OPS)
