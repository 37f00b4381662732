"""Catalogue family 'linalg': torch.linalg decompositions, matrix functions and norms.

Inputs are drawn in [-1, 1] (``UNIT``) and made well conditioned inside ``fn`` by adding a
constant, so the gradient reaches the drawn entries unchanged (n x n or m x n, n <= 4):

- eigh/eigvalsh: ``(A + A^H)/2 + 3n diag(0, 1, ..., n-1)``. The Hermitian part has 2-norm
  <= n, so by Weyl every eigenvalue gap is >= n >= 1.
- svd/svdvals/qr/pinv/lstsq and the spectral norms: ``A + c diag(1, ..., k)`` (k = min(m, n),
  c = 3 max(m, n)). ||A||_2 <= max(m, n), so the singular values are >= 2 max(m, n) and
  their gaps >= max(m, n): full rank, distinct, and |R_kk| >= s_min for QR.
- cholesky, cholesky_solve's factor, slogdet/logdet, solve_triangular and the negative
  matrix powers: ``(A + A^H)/2 + 2n I`` / ``A + 2n I``: eigenvalues (or Gershgorin discs) in
  [n, 3n].

Repeated eigenvalues or singular values (where these derivatives do not exist, and torch's
formulas give inf) are kept away from on purpose rather than aimed at: no strategy can land a
perturbation exactly on a degenerate spectrum, so declaring them kinks would test nothing.

Gauge: eigenvectors and singular vectors are unique only up to sign (a phase in complex; LAPACK
in torch and in NumPy may choose differently, and torch raises when a loss depends on it), so
``fn`` returns gauge-invariant functions that still send a gradient through the vectors: eigh
gives ``(L, V diag(1..n) V^H)``, svd ``(S, U diag(1..k) Vh)`` (a sign or phase of a column pair
cancels; the weights go by position, not by eigenvalue, so this is
no matrix function f(A) whose derivative could bypass the eigenvector formulas: the backward
divides by the gaps); qr gives Q and R normalised so that diag(R) > 0 (the sign is a
constant of the perturbation: |R_kk| >= s_min is far from 0; LAPACK's diag(R) is real in complex too).

Matrix norms 1/-1/inf/-inf and the vector norms are checked on ``A + 3 S * r`` with r a
ramp of distinct integers and S a fixed sign pattern, so no entry is 0 and row and column
absolute sums are strictly ordered (no ties, no kinks); the spectral ones on the shifted A.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import SMALL, Domain, op

UNIT = Domain(-1.0, 1.0, name="unit")
INF = math.inf

_side = st.integers(1, 4)
_batch = st.lists(st.integers(0, 2), max_size=2).map(tuple)


def _const(ns, like, array: np.ndarray):
    return ns.tensor(np.asarray(array, dtype=np.float64), dtype=like.dtype)


def _flat(x):
    return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])


# -- well-conditioned matrices from the drawn entries ---------------------------------------------


def _separated_symmetric(ns, a):
    n = a.shape[-1]
    return (a + a.mH) / 2 + _const(ns, a, np.diag(3.0 * n * np.arange(n)))


def _spd(ns, a):
    n = a.shape[-1]
    return (a + a.mH) / 2 + _const(ns, a, 2.0 * n * np.eye(n))


def _shifted_square(ns, a):
    n = a.shape[-1]
    return a + _const(ns, a, 2.0 * n * np.eye(n))


def _separated(ns, a):
    """A + c diag(1..k): distinct singular values >= 2 max(m, n), gaps >= max(m, n)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    shift = np.zeros((m, n))
    shift[range(k), range(k)] = 3.0 * max(m, n) * np.arange(1, k + 1)
    return a + _const(ns, a, shift)


def _ramped(ns, a):
    """A + 3 S * r: |entries| in distinct integer steps of 3 (+-1), sign pattern S fixed."""
    m, n = a.shape[-2:]
    ramp = np.arange(1, m * n + 1, dtype=np.float64).reshape(m, n)
    signs = np.where((np.add.outer(np.arange(m), 2 * np.arange(n)) % 3) == 0, -1.0, 1.0)
    return a + _const(ns, a, 3.0 * signs * ramp)


# -- shapes ----------------------------------------------------------------------------------------


@st.composite
def _square(draw: st.DrawFn) -> tuple:
    n = draw(_side, label="n")
    return ((*draw(_batch, label="batch"), n, n),)


@st.composite
def _matrix(draw: st.DrawFn) -> tuple:
    m, n = draw(_side, label="m"), draw(_side, label="n")
    return ((*draw(_batch, label="batch"), m, n),)


@st.composite
def _tall(draw: st.DrawFn) -> tuple:
    n = draw(_side, label="n")
    m = draw(st.integers(n, 4), label="m")
    return ((*draw(_batch, label="batch"), m, n),)


# -- decompositions (gauge-invariant outputs) -------------------------------------------------------


def _eigh(ns, a):
    values, vectors = ns.linalg.eigh(_separated_symmetric(ns, a))
    weights = _const(ns, a, np.arange(1.0, a.shape[-1] + 1))
    return ns.cat([values.to(a.dtype), _flat((vectors * weights) @ vectors.mH)], -1)


def _svd(ns, a):
    u, s, vh = ns.linalg.svd(_separated(ns, a), full_matrices=False)
    weights = _const(ns, a, np.arange(1.0, s.shape[-1] + 1))
    return ns.cat([s.to(a.dtype), _flat((u * weights) @ vh)], -1)


def _qr(ns, a, mode):
    q, r = ns.linalg.qr(_separated(ns, a), mode=mode)
    sign = ns.sgn(r.diagonal(0, -2, -1)).detach()  # +-1, also in complex (LAPACK's diag(R) is real)
    return ns.cat([_flat(q * sign.unsqueeze(-2)), _flat(r * sign.conj().unsqueeze(-1))], -1)


def _qr_kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
    m, n = shapes[0][-2:]
    return st.fixed_dictionaries({"mode": st.sampled_from(["reduced", "complete"] if m == n else ["reduced"])})


def _slogdet(ns, a, negate):
    m = _shifted_square(ns, a)
    if negate:  # a negative determinant: sign -1, the same log|det|
        flip = np.ones(a.shape[-1])
        flip[0] = -1.0
        m = m * _const(ns, a, flip).unsqueeze(-1)
    sign, logabsdet = ns.linalg.slogdet(m)
    return ns.stack([sign, logabsdet], -1)


# -- products and powers -----------------------------------------------------------------------------


@st.composite
def _multi_dot_shapes(draw: st.DrawFn) -> tuple:
    d = [draw(_side, label=f"d{i}") for i in range(4)]
    first = (d[1],) if draw(st.booleans(), label="first is a vector") else (d[0], d[1])
    last = (d[2],) if draw(st.booleans(), label="last is a vector") else (d[2], d[3])
    return first, (d[1], d[2]), last


def _matrix_power(ns, a, n):
    return ns.linalg.matrix_power(_shifted_square(ns, a) if n < 0 else a, n)


@st.composite
def _cross_shapes(draw: st.DrawFn) -> tuple:
    """Two shapes of equal rank with a 3 at the same place, the other dims broadcasting."""
    rank = draw(st.integers(0, 2), label="batch rank")
    pairs = [draw(st.sampled_from([(s, s), (1, s), (s, 1)]), label="dim pair") for s in [2] * rank]
    where = draw(st.integers(0, rank), label="position of the 3")
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    a.insert(where, 3)
    b.insert(where, 3)
    return tuple(a), tuple(b)


def _cross_kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
    a, b = shapes
    ndim = len(a)
    places = [i for i in range(ndim) if a[i] == 3 and b[i] == 3]
    return st.fixed_dictionaries({"dim": st.sampled_from(places + [i - ndim for i in places])})


@st.composite
def _vecdot_shapes(draw: st.DrawFn) -> tuple:
    from hypothesis.extra import numpy as hnp

    n = draw(st.integers(0, 4), label="n")
    b1, b2 = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3),
        label="batch dims",
    ).input_shapes
    return (*b1, n), (*b2, n)


# -- triangular solve, least squares ------------------------------------------------------------------


@st.composite
def _triangular_shapes(draw: st.DrawFn) -> tuple:
    n, k = draw(_side, label="n"), draw(_side, label="k")
    batch = draw(_batch, label="batch")
    b = (k, n) if draw(st.booleans(), label="B is k x n (left=False)") else (n, k)
    return (*batch, n, n), (*batch, *b)


def _triangular_kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
    a, b = shapes
    n = a[-1]
    lefts = [left for left, size in ((True, b[-2]), (False, b[-1])) if size == n]
    return st.fixed_dictionaries(
        {"upper": st.booleans(), "left": st.sampled_from(lefts), "unitriangular": st.booleans()}
    )


@st.composite
def _cholesky_solve_shapes(draw: st.DrawFn) -> tuple:
    ((*batch, n, _),) = draw(_square(), label="A")
    return (*batch, n, draw(_side, label="k")), (*batch, n, n)


def _cholesky_solve(ns, b, a, upper):
    return ns.cholesky_solve(b, ns.linalg.cholesky(_spd(ns, a), upper=upper), upper=upper)


@st.composite
def _lstsq_shapes(draw: st.DrawFn) -> tuple:
    ((*batch, m, n),) = draw(_tall(), label="A")
    return (*batch, m, n), (*batch, m, draw(_side, label="k"))


def _pinv(ns, a, hermitian):
    if hermitian:
        return ns.linalg.pinv(_separated_symmetric(ns, a) + _const(ns, a, np.eye(a.shape[-1])), hermitian=True)
    return ns.linalg.pinv(_separated(ns, a))


def _pinv_kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
    m, n = shapes[0][-2:]
    return st.fixed_dictionaries({"hermitian": st.booleans() if m == n else st.just(False)})


# -- norms ----------------------------------------------------------------------------------------------

MATRIX_ORDERS = ("fro", "nuc", 2, -2, 1, -1, INF, -INF)
VECTOR_ORDERS = (None, 2, 1, INF, -INF, 3, 0.5)


def _placed(ns, a, ord, dims):
    """The drawn batch of matrices, made regular for ``ord``, with its matrix dims moved to
    ``dims`` (so the norm is taken over any pair of dims)."""
    m = _separated(ns, a) if ord in ("nuc", 2, -2) else _ramped(ns, a)
    ndim = a.ndim
    d0, d1 = (d % ndim for d in dims)
    rest = iter(range(ndim - 2))
    perm = [ndim - 2 if i == d0 else ndim - 1 if i == d1 else next(rest) for i in range(ndim)]
    return m.permute(*perm)


def _matrix_norm(ns, a, ord, dims, keepdim):
    return ns.linalg.matrix_norm(_placed(ns, a, ord, dims), ord, dims, keepdim)


def _dim_pairs(ndim: int) -> list[tuple[int, int]]:
    pairs = [(i, j) for i in range(ndim) for j in range(ndim) if i != j]
    return pairs + [(i - ndim, j - ndim) for i, j in pairs]


def _matrix_norm_kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
    ndim = len(shapes[0])
    return st.fixed_dictionaries(
        {"ord": st.sampled_from(MATRIX_ORDERS), "dims": st.sampled_from(_dim_pairs(ndim)), "keepdim": st.booleans()}
    )


def _norm(ns, a, form, ord, dims, keepdim):
    """linalg.norm with no dim (all elements, or the matrix norm of a 2-D input when ord is
    given), one dim (a vector norm along a matrix dim of the ramp: no ties) or two (a matrix norm)."""
    if form == "matrix":
        return ns.linalg.norm(_placed(ns, a, ord, dims), ord, dims, keepdim)
    if form == "2-D, no dim":
        return ns.linalg.norm(_placed(ns, a, ord, (0, 1)), ord, keepdim=keepdim)
    if form == "all":
        return ns.linalg.norm(_ramped(ns, a), keepdim=keepdim)
    return ns.linalg.norm(_ramped(ns, a), ord, dims[0], keepdim)


def _norm_kwargs(shapes: tuple) -> st.SearchStrategy[dict]:
    ndim = len(shapes[0])
    forms = ["all", "vector", "matrix"] + (["2-D, no dim"] if ndim == 2 else [])

    def for_form(form: str) -> st.SearchStrategy[dict]:
        if form == "all":
            return st.just({"form": form, "ord": None, "dims": None, "keepdim": False})
        if form == "vector":
            dims = st.sampled_from([(-1,), (-2,), (ndim - 1,), (ndim - 2,)])
            ords = st.sampled_from(VECTOR_ORDERS)
        else:
            dims = st.sampled_from(_dim_pairs(ndim) if form == "matrix" else [(0, 1)])
            ords = st.sampled_from((None, *MATRIX_ORDERS)) if form == "matrix" else st.sampled_from(MATRIX_ORDERS)
        return st.fixed_dictionaries({"form": st.just(form), "ord": ords, "dims": dims, "keepdim": st.booleans()})

    return st.sampled_from(forms).flatmap(for_form)


OPS = [
    op(
        "linalg.eigh", "linalg", _eigh, _square(), (UNIT,),
        doc="LinalgEighBackward0 on (A + A^H)/2 + 3n diag(0..n-1) (eigenvalue gaps >= n); "
        "checks (L, V diag(1..n) V^H), invariant to the eigenvectors' signs (phases)",
    ),
    op(
        "linalg.eigvalsh", "linalg", lambda ns, a: ns.linalg.eigvalsh(_separated_symmetric(ns, a)), _square(), (UNIT,),
        doc="LinalgEighBackward0 (eigenvalues only) on the separated Hermitian matrix",
    ),
    op(
        "linalg.svd", "linalg", _svd, _matrix(), (UNIT,),
        doc="LinalgSvdBackward0, full_matrices=False, on A + c diag(1..k) (distinct singular values "
        ">= 2 max(m, n)); checks (S, U diag(1..k) Vh), invariant to the vectors' signs (phases)",
    ),
    op(
        "linalg.svdvals", "linalg", lambda ns, a: ns.linalg.svdvals(_separated(ns, a)), _matrix(), (UNIT,),
        doc="LinalgSvdBackward0 (singular values only) on A + c diag(1..k)",
    ),
    op(
        "linalg.qr", "linalg", _qr, _tall(), (UNIT,), kwargs=_qr_kwargs,
        doc="LinalgQrBackward0 on tall/square A + c diag(1..n) (mode 'complete' where m == n: torch "
        "differentiates it only there); Q and R normalised to diag(R) > 0",
    ),
    op(
        "linalg.cholesky", "linalg", lambda ns, a, upper: ns.linalg.cholesky(_spd(ns, a), upper=upper),
        _square(), (UNIT,), kwargs=lambda shapes: st.fixed_dictionaries({"upper": st.booleans()}),
        doc="LinalgCholeskyExBackward0 on (A + A^H)/2 + 2n I (eigenvalues in [n, 3n]); upper drawn",
    ),
    op(
        "linalg.slogdet", "linalg", _slogdet, _square(), (UNIT,),
        kwargs=lambda shapes: st.fixed_dictionaries({"negate": st.booleans()}),
        doc="LinalgSlogdetBackward0 on A + 2n I (first row negated when negate: sign -1); checks "
        "stack(sign, logabsdet): sign has zero derivative",
    ),
    op(
        "logdet", "linalg", lambda ns, a: ns.logdet(_shifted_square(ns, a)), _square(), (UNIT,),
        doc="WhereBackward0 over LinalgSlogdetBackward0 on A + 2n I (det > 0)",
    ),
    op(
        "linalg.matrix_exp", "linalg", lambda ns, a: ns.linalg.matrix_exp(a), _square(), (SMALL,), analytic=True,
        doc="LinalgMatrixExpBackward0; entries in [-2, 2] (1-norms up to 8: scaling and squaring is used)",
    ),
    op(
        "linalg.pinv", "linalg", _pinv, _matrix(), (UNIT,), kwargs=_pinv_kwargs,
        doc="LinalgPinvBackward0 of a full-rank A + c diag(1..k) (tall or wide); hermitian=True on "
        "the separated symmetric matrix + I (nonsingular)",
    ),
    op(
        "cholesky_solve", "linalg", _cholesky_solve, _cholesky_solve_shapes(), (SMALL, UNIT),
        kwargs=lambda shapes: st.fixed_dictionaries({"upper": st.booleans()}),
        doc="CholeskySolveBackward0 with the factor from linalg.cholesky((A + A^H)/2 + 2n I) (torch's "
        "gradient for the factor is a full matrix, right for a factor that came from cholesky); upper drawn",
    ),
    op(
        "linalg.lstsq", "linalg", lambda ns, a, b: ns.linalg.lstsq(_separated(ns, a), b, driver="gels").solution,
        _lstsq_shapes(), (UNIT, SMALL),
        doc="LinalgLstsqBackward0: the solution for a full-column-rank tall A + c diag(1..n), driver 'gels' "
        "(QR): torch's default CPU driver, gelsy, rounds differently when an input requires grad",
    ),
    op(
        "linalg.cross", "linalg", lambda ns, a, b, dim: ns.linalg.cross(a, b, dim=dim), _cross_shapes(),
        (SMALL, SMALL), kwargs=_cross_kwargs, analytic=True, doc="LinalgCrossBackward0; broadcasting, dim drawn",
    ),
    op(
        "linalg.vecdot", "linalg", lambda ns, a, b: ns.linalg.vecdot(a, b), _vecdot_shapes(), (SMALL, SMALL),
        doc="SumBackward1 over MulBackward0 (real: no conjugate); broadcasting batch dims",
    ),
    op(
        "linalg.multi_dot", "linalg", lambda ns, a, b, c: ns.linalg.multi_dot([a, b, c]), _multi_dot_shapes(),
        (SMALL, SMALL, SMALL), analytic=True,
        doc="three operands, the first and last possibly vectors: MmBackward0s in the cheapest order, then a view",
    ),
    op(
        "linalg.matrix_power", "linalg", _matrix_power, _square(), (UNIT,),
        kwargs=lambda shapes: st.fixed_dictionaries({"n": st.integers(-3, 4)}), analytic=True,
        doc="repeated squaring (matmul), inv for n < 0 (on A + 2n I), a clone for n = 1, I for n = 0",
    ),
    op(
        "linalg.solve_triangular", "linalg",
        lambda ns, a, b, upper, left, unitriangular: ns.linalg.solve_triangular(
            _shifted_square(ns, a), b, upper=upper, left=left, unitriangular=unitriangular
        ),
        _triangular_shapes(), (UNIT, SMALL), kwargs=_triangular_kwargs,
        doc="LinalgSolveTriangularBackward0 on A + 2n I (only its upper/lower triangle is read); "
        "upper, left and unitriangular drawn",
    ),
    op(
        "linalg.matrix_norm", "linalg", _matrix_norm, _matrix(), (UNIT,), kwargs=_matrix_norm_kwargs,
        doc="every order over any two dims, keepdim drawn: 'fro' (LinalgVectorNormBackward0), 'nuc'/2/-2 "
        "(sum/amax/amin over LinalgSvdBackward0, on A + c diag(1..k)), 1/-1/inf/-inf (amax/amin of "
        "absolute sums, on the signed ramp: no zeros, no ties)",
    ),
    op(
        "linalg.norm", "linalg", _norm, _matrix(), (UNIT,), kwargs=_norm_kwargs,
        doc="no dim (all elements), one dim (vector orders), two dims or a 2-D input with ord (matrix orders)",
    ),
]  # fmt: skip

# every one in complex too: conjugate transposes throughout, Hermitian matrices for eigh and
# cholesky, phase-invariant functions of the vectors (torch raises on a phase-dependent loss)
OPS = also_complex(OPS)
