"""Reductions over all or some dims, with and without keepdim: sum, mean, prod, max/min,
amax/amin, var/std, norms, logsumexp, softmax/log_softmax, cumsum/cumprod.

Ops whose derivative breaks at ties (max, min, amax, amin, the inf-norms, std of equal
values) are checked on *distinct* values: the drawn input ``a`` is shifted by a shuffled
ladder of offsets ``STEP`` apart (a constant drawn in kwargs), so every two elements differ
by at least ``STEP - width(domain)`` and no finite-difference step can straddle a tie. The
checked function is ``op(a + ladder)``, whose gradient in ``a`` is the op's own gradient.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import NONZERO, REAL, Kinks, op
from gradcheck_suite.strategies import dims, reduction_kwargs, shapes

STEP = 8.0  # ladder spacing: REAL values span 6, so neighbours stay >= 2 apart
NORM_ORDERS = (2, 1, 3, 1.5, 0.5, -1, 0)
CORRECTIONS = (0, 1, 0.5)

TIES = Kinks(ties=True)
AT_ZERO = Kinks(points=(0.0,))


# -- kwargs strategies -----------------------------------------------------------------------------


def _ladder(shape: tuple) -> st.SearchStrategy[np.ndarray]:
    """A shuffled ladder 0, STEP, 2 STEP, ... in ``shape``: distinct offsets."""
    size = math.prod(shape)
    return st.permutations(list(range(size))).map(lambda p: np.array(p, dtype=np.float64).reshape(shape) * STEP)


def _one_dim(ndim: int) -> st.SearchStrategy[int]:
    size = max(ndim, 1)
    return st.integers(-size, size - 1)


# Extremes have no identity: torch refuses to reduce an empty dim (or, without a dim, an
# empty tensor). Those errors are pinned in tests/reference/test_reduction.py; the default
# draws reduce non-empty dims only, while other dims may still be empty.
SHAPES_WITH_A_NONEMPTY_DIM = shapes().filter(lambda s: not s[0] or any(s[0]))


def _nonempty_axes(shape: tuple) -> list[int]:
    return [i for i, n in enumerate(shape) if n] if shape else [0]


def _as_given(axis: int, ndim: int) -> st.SearchStrategy[int]:
    """An axis spelled as torch accepts it: positive or negative."""
    return st.sampled_from([axis, axis - max(ndim, 1)])


def _nonempty_dim(shape: tuple) -> st.SearchStrategy[int]:
    return st.sampled_from(_nonempty_axes(shape)).flatmap(lambda axis: _as_given(axis, len(shape)))


def _nonempty_dims(shape: tuple) -> st.SearchStrategy:
    """None (everything: only for a non-empty tensor), one dim, or a tuple of dims, none empty."""
    valid = _nonempty_axes(shape)
    several = st.lists(st.sampled_from(valid), min_size=1, max_size=len(valid), unique=True).map(tuple)
    options = [_nonempty_dim(shape), several]
    if math.prod(shape):
        options.insert(0, st.none())
    return st.one_of(*options)


def _distinct_kwargs(shapes_, dim: str | None = None) -> st.SearchStrategy[dict]:
    """The ladder, plus ``dim`` ("one": an int, "many": None/int/tuple) and ``keepdim``."""
    shape = shapes_[0]
    fields = {"ladder": _ladder(shape)}
    if dim is not None:
        fields["dim"] = _nonempty_dim(shape) if dim == "one" else _nonempty_dims(shape)
        fields["keepdim"] = st.booleans()
    return st.fixed_dictionaries(fields)


def _prod_kwargs(shapes_) -> st.SearchStrategy[dict]:
    ndim = len(shapes_[0])
    return st.fixed_dictionaries({"dim": st.one_of(st.none(), _one_dim(ndim)), "keepdim": st.booleans()})


def _one_dim_kwargs(shapes_) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"dim": _one_dim(len(shapes_[0]))})


def _var_kwargs(shapes_) -> st.SearchStrategy[dict]:
    ndim = len(shapes_[0])
    return st.fixed_dictionaries(
        {"dim": dims(ndim), "keepdim": st.booleans(), "correction": st.sampled_from(CORRECTIONS)}
    )


def _std_kwargs(shapes_) -> st.SearchStrategy[dict]:
    """Distinct values (std is not differentiable where a slice is constant); any dims, empty
    ones included (torch's std of nothing is nan)."""
    shape = shapes_[0]
    return st.fixed_dictionaries({
        "ladder": _ladder(shape), "dim": dims(len(shape)), "keepdim": st.booleans(),
        "correction": st.sampled_from(CORRECTIONS),
    })  # fmt: skip


def _norm_kwargs(shapes_) -> st.SearchStrategy[dict]:
    ndim = len(shapes_[0])
    orders = (*NORM_ORDERS, "fro")
    if not math.prod(shapes_[0]):  # negative orders have no identity: empty tensors raise (tested elsewhere)
        orders = tuple(p for p in orders if p == "fro" or p >= 0)
    order = st.sampled_from(orders)
    return st.fixed_dictionaries({"p": order, "dim": dims(ndim), "keepdim": st.booleans()})


def _inf_norm_kwargs(shapes_) -> st.SearchStrategy[dict]:
    """Distinct magnitudes (the ladder, shifted to >= 1) with random signs."""
    shape = shapes_[0]
    signs = st.lists(st.sampled_from([-1.0, 1.0]), min_size=math.prod(shape), max_size=math.prod(shape))
    return st.fixed_dictionaries(
        {
            "ladder": _ladder(shape),
            "signs": signs.map(lambda s: np.array(s, dtype=np.float64).reshape(shape)),
            "ord": st.sampled_from([math.inf, -math.inf]),
            "dim": _nonempty_dims(shape),
            "keepdim": st.booleans(),
        }
    )


def _reduce_kwargs_without_none(shapes_) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"dim": dims(len(shapes_[0]), allow_none=False), "keepdim": st.booleans()})


# -- the ops, written against the torch API ----------------------------------------------------------


def _constant(ns, array: np.ndarray, like):
    return ns.from_numpy(np.array(array, copy=True)).to(like.dtype)  # ascontiguousarray makes 0-d 1-d


def _spread(ns, a, ladder):
    """``a`` plus the ladder: values at least STEP - 6 apart."""
    return a + _constant(ns, ladder, a)


def _reduce(a, name: str, dim, keepdim):
    method = getattr(a, name)
    return method() if dim is None else method(dim, keepdim=keepdim)


def _max_dim(ns, a, ladder, dim, keepdim):
    return _spread(ns, a, ladder).max(dim, keepdim=keepdim).values


def _min_dim(ns, a, ladder, dim, keepdim):
    values, _indices = ns.min(_spread(ns, a, ladder), dim, keepdim)
    return values


def _std(ns, a, ladder, dim, keepdim, correction):
    return _spread(ns, a, ladder).std(dim, keepdim=keepdim, correction=correction)


def _inf_norm(ns, a, ladder, signs, ord, dim, keepdim):
    values = (_spread(ns, a, ladder) + 4.0) * _constant(ns, signs, a)
    return ns.linalg.vector_norm(values, ord, dim, keepdim)


OPS = [
    op(
        "sum", "reduction", lambda ns, a, dim, keepdim: _reduce(a, "sum", dim, keepdim),
        shapes(), (REAL,), kwargs=reduction_kwargs,
    ),
    op(
        "mean", "reduction", lambda ns, a, dim, keepdim: _reduce(a, "mean", dim, keepdim),
        shapes(), (REAL,), kwargs=reduction_kwargs,
    ),
    op(
        "prod", "reduction", lambda ns, a, dim, keepdim: _reduce(a, "prod", dim, keepdim),
        shapes(), (NONZERO,), kwargs=_prod_kwargs, kinks=AT_ZERO,
        doc="ProdBackward0/1; 0 is no kink (the derivative exists) but where the formula changes: "
        "torch's gradient there is the product of the others, e.g. [0, 2, 3] -> [6, 0, 0]",
    ),
    op(
        "max", "reduction", lambda ns, a, ladder: _spread(ns, a, ladder).max(),
        shapes(min_side=1), (REAL,), kwargs=_distinct_kwargs, kinks=TIES,
        doc="MaxBackward1 on distinct values (a + shuffled ladder); ties split evenly in torch",
    ),
    op(
        "min", "reduction", lambda ns, a, ladder: ns.min(_spread(ns, a, ladder)),
        shapes(min_side=1), (REAL,), kwargs=_distinct_kwargs, kinks=TIES,
        doc="MinBackward1 on distinct values; ties split evenly in torch",
    ),
    op(
        "max_dim", "reduction", _max_dim, SHAPES_WITH_A_NONEMPTY_DIM, (REAL,),
        kwargs=lambda s: _distinct_kwargs(s, "one"), kinks=TIES,
        doc="MaxBackward0: (values, indices) along a dim; ties send the gradient to the first index",
    ),
    op(
        "min_dim", "reduction", _min_dim, SHAPES_WITH_A_NONEMPTY_DIM, (REAL,),
        kwargs=lambda s: _distinct_kwargs(s, "one"), kinks=TIES,
        doc="MinBackward0, unpacked as a tuple",
    ),
    op(
        "amax", "reduction",
        lambda ns, a, ladder, dim, keepdim: ns.amax(_spread(ns, a, ladder), () if dim is None else dim, keepdim),
        SHAPES_WITH_A_NONEMPTY_DIM, (REAL,), kwargs=lambda s: _distinct_kwargs(s, "many"), kinks=TIES,
        doc="AmaxBackward0 over a tuple of dims; ties split evenly in torch",
    ),
    op(
        "amin", "reduction",
        lambda ns, a, ladder, dim, keepdim: _spread(ns, a, ladder).amin(() if dim is None else dim, keepdim),
        SHAPES_WITH_A_NONEMPTY_DIM, (REAL,), kwargs=lambda s: _distinct_kwargs(s, "many"), kinks=TIES,
        doc="AminBackward0",
    ),
    op(
        "var", "reduction",
        lambda ns, a, dim, keepdim, correction: a.var(dim, keepdim=keepdim, correction=correction),
        shapes(), (REAL,), kwargs=_var_kwargs,
        doc="VarBackward0 with correction 0, 1, 0.5 (one element with correction 1: nan, as torch)",
    ),
    op(
        "std", "reduction", _std, shapes(), (REAL,), kwargs=_std_kwargs, kinks=TIES,
        doc="StdBackward0 on distinct values: equal values (std 0) are a kink, where torch gives 0",
    ),
    op(
        "norm", "reduction", lambda ns, a, p, dim, keepdim: a.norm(p, dim, keepdim),
        shapes(), (NONZERO,), kwargs=_norm_kwargs, kinks=AT_ZERO,
        doc="LinalgVectorNormBackward0 for p in 2, 1, 3, 1.5, 0.5, -1, 0, 'fro'; the zero vector "
        "(and zero elements for p <= 1) are kinks: torch gives 0 there",
    ),
    op(
        "vector_norm_inf", "reduction", _inf_norm, SHAPES_WITH_A_NONEMPTY_DIM, (REAL,), kwargs=_inf_norm_kwargs,
        kinks=Kinks(points=(0.0,), ties=True),
        doc="linalg.vector_norm with ord inf/-inf on distinct magnitudes with random signs",
    ),
    op(
        "logsumexp", "reduction", lambda ns, a, dim, keepdim: a.logsumexp(dim, keepdim),
        shapes(), (REAL,), kwargs=_reduce_kwargs_without_none,
        doc="LogsumexpBackward0, shifted by the max for stability",
    ),
    op("softmax", "reduction", lambda ns, a, dim: ns.softmax(a, dim), shapes(), (REAL,), kwargs=_one_dim_kwargs),
    op(
        "log_softmax", "reduction", lambda ns, a, dim: a.log_softmax(dim), shapes(), (REAL,),
        kwargs=_one_dim_kwargs,
    ),
    op("cumsum", "reduction", lambda ns, a, dim: ns.cumsum(a, dim), shapes(), (REAL,), kwargs=_one_dim_kwargs),
    op(
        "cumprod", "reduction", lambda ns, a, dim: a.cumprod(dim), shapes(), (NONZERO,),
        kwargs=_one_dim_kwargs, kinks=AT_ZERO,
        doc="CumprodBackward0; 0 is no kink but where torch's formula changes (no division by zero)",
    ),
]  # fmt: skip

# torch has no complex order (max, sort, ...) nor complex softmax
OPS = also_complex(
    OPS, ("sum", "mean", "prod", "var", "std", "norm", "vector_norm_inf", "logsumexp", "cumsum", "cumprod")
)
