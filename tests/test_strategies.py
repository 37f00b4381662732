"""Strategies: what they draw, over many draws (coverage) and in every draw (validity)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import draws

from gradcheck_suite.catalogue import CATALOGUE
from gradcheck_suite.catalogue.spec import NONZERO, POSITIVE, REAL, SMALL, Domain
from gradcheck_suite.strategies import (
    MAX_DIMS,
    Case,
    broadcast_shapes,
    cases,
    cotangent,
    dims,
    matmul_shapes,
    reduction_kwargs,
    reshape_kwargs,
    shapes,
    transpose_kwargs,
    values,
)

DOMAINS = [REAL, POSITIVE, NONZERO, SMALL]


def with_shape(kwargs_strategy, shape_strategy=None):
    """Pairs (shapes, kwargs) for a kwargs strategy that depends on the drawn shapes."""
    return (shape_strategy or shapes()).flatmap(lambda s: kwargs_strategy(s).map(lambda kw: (s, kw)))


# -- shapes -------------------------------------------------------------------------------


def test_shapes_cover_ranks_zero_to_four_and_size_zero_and_one_dims():
    drawn = [s for (s,) in draws(shapes(), 300)]
    assert {len(s) for s in drawn} == set(range(MAX_DIMS + 1))
    assert any(0 in s for s in drawn), "no size-0 dimension"
    assert any(1 in s for s in drawn), "no size-1 dimension"
    assert any(len(s) >= 2 and min(s) >= 2 for s in drawn), "no shape without degenerate dims"
    assert all(all(0 <= n <= 4 for n in s) for s in drawn)


def test_max_dims_is_respected():
    drawn = [s for (s,) in draws(shapes(max_dims=2), 100)]
    assert {len(s) for s in drawn} == {0, 1, 2}


def test_broadcast_shapes_broadcast_with_numpy_and_cover_the_interesting_cases():
    pairs = draws(broadcast_shapes(2), 300)
    kinds = set()
    for a, b in pairs:
        out = np.broadcast_shapes(a, b)  # raises if they do not broadcast
        assert np.broadcast(np.zeros(a), np.zeros(b)).shape == out
        if len(a) != len(b):
            kinds.add("different ranks")
        if any(x != y and 1 in (x, y) for x, y in zip(a[::-1], b[::-1])):
            kinds.add("size-1 stretched")
        if 0 in out:
            kinds.add("size 0")
        if a == b and a:
            kinds.add("equal")
        if () in (a, b):
            kinds.add("0-d")
    assert kinds == {"different ranks", "size-1 stretched", "size 0", "equal", "0-d"}


# -- values -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("domain", DOMAINS, ids=str)
def test_values_stay_in_their_domain_and_dtype(domain, dtype):
    arrays = draws(values((3, 4), domain, dtype), 60)
    allv = np.concatenate([a.ravel() for a in arrays]).astype(np.float64)
    assert all(a.dtype == np.dtype(dtype) and a.shape == (3, 4) for a in arrays)
    assert np.all(np.isfinite(allv))
    if domain.symmetric:
        assert np.all(np.abs(allv) >= domain.low), "a symmetric domain came near its pole at 0"
        assert np.all(np.abs(allv) <= domain.high)
        assert (allv > 0).any() and (allv < 0).any(), "both signs"
    else:
        assert np.all((domain.low <= allv) & (allv <= domain.high))
    assert len(np.unique(allv)) > 20, "values are not varied"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("window", ["LOW_WINDOW", "MID_WINDOW", "NOT_INTEGER", "NOT_TENTH_HALF"])
def test_values_of_cells_stay_in_their_windows(window, dtype):
    """floor's draws keep off the integers and maximum's two inputs off each other's windows
    (every layout: bounds and quarters too), so default draws never sit on a kink or a tie."""
    from gradcheck_suite.catalogue import pointwise

    domain = getattr(pointwise, window)
    allv = np.concatenate([a.ravel() for a in draws(values((3, 4), domain, dtype), 80)]).astype(np.float64)
    cell = np.round((allv - (domain.start + domain.stop) / 2) / domain.period)  # the nearest window's cell
    offset = allv - cell * domain.period
    slack = 1e-6 if dtype == "float32" else 1e-12  # a float32 cast moves a value by an ulp
    assert np.all((domain.start - slack <= offset) & (offset <= domain.stop + slack))
    assert np.all((domain.low <= allv) & (allv <= domain.high))
    assert len(np.unique(cell)) >= 4 and len(np.unique(allv)) > 100, "values spread over many cells"


@pytest.mark.parametrize("domain", DOMAINS, ids=str)
def test_catalogue_domain_bounds_survive_the_float32_cast(domain):
    """values() draws in float64 and casts: only bounds that float32 represents exactly
    keep cast values inside the domain (0.7 would become 0.69999999, just outside)."""
    for bound in (domain.low, domain.high):
        assert float(np.float32(bound)) == bound


def test_values_of_a_zero_dim_and_an_empty_shape():
    assert all(a.shape == () for a in draws(values((), REAL, "float64"), 20))
    assert all(a.shape == (0, 2) for a in draws(values((0, 2), REAL, "float32"), 5))


def test_domain_validates_itself():
    with pytest.raises(ValueError, match="low < high"):
        Domain(1.0, 1.0)
    with pytest.raises(ValueError, match="positive"):
        Domain(0.0, 1.0, symmetric=True)
    assert str(Domain(0.5, 2.0, symmetric=True)) == "±[0.5, 2]"
    assert str(REAL) == "real"


# -- matmul shapes ------------------------------------------------------------------------


def _matmul_kind(a, b) -> str:
    if len(a) == 1 and len(b) == 1:
        return "dot"
    if len(a) == 2 and len(b) == 1:
        return "mv"
    if len(a) == 1 and len(b) == 2:
        return "vm"
    if len(a) == 2 and len(b) == 2:
        return "mm"
    if len(a) >= 3 and len(b) <= 2:
        return "folded"
    if len(a) >= 3 and len(b) >= 3 and a[:-2] != b[:-2]:
        return "batched-broadcast"
    return "batched"


def test_matmul_shapes_are_valid_and_cover_every_path():
    pairs = draws(matmul_shapes(), 300)
    kinds = set()
    for a, b in pairs:
        out = np.matmul(np.zeros(a), np.zeros(b)).shape  # raises if invalid
        assert torch.matmul(torch.zeros(a), torch.zeros(b)).shape == out
        kinds.add(_matmul_kind(a, b))
        if len(a) == 1 and len(b) >= 3:
            kinds.add("vector @ batch")
        if len(b) == 1 and len(a) >= 3:
            kinds.add("batch @ vector")
    assert kinds >= {
        "dot", "mv", "vm", "mm", "folded", "batched", "batched-broadcast", "vector @ batch", "batch @ vector"
    }  # fmt: skip


# -- op arguments -------------------------------------------------------------------------


def test_reshape_kwargs_are_valid_reshapes():
    pairs = draws(with_shape(reshape_kwargs), 300)
    used_minus_one = reshaped_empty = changed_rank = False
    for (shape,), kw in pairs:
        target = kw["shape"]
        x = np.zeros(shape)
        assert x.reshape(target).size == x.size  # raises if invalid
        assert torch.zeros(shape).reshape(target).shape == x.reshape(target).shape
        assert list(target).count(-1) <= 1
        used_minus_one |= -1 in target
        reshaped_empty |= x.size == 0
        changed_rank |= len(target) != len(shape)
    assert used_minus_one and reshaped_empty and changed_rank


def test_reduction_dims_are_valid_for_torch_and_cover_none_int_negative_and_tuples():
    pairs = draws(with_shape(reduction_kwargs), 300)
    seen = set()
    for (shape,), kw in pairs:
        dim, keepdim = kw["dim"], kw["keepdim"]
        x = torch.zeros(shape)
        if dim is None:
            seen.add("none")
            continue
        x.sum(dim, keepdim=keepdim)  # raises if dim is invalid
        rank = max(len(shape), 1)
        if isinstance(dim, tuple):
            seen.add("tuple")
            normalised = [d % rank for d in dim]
            assert len(set(normalised)) == len(dim), "repeated dim"
        else:
            seen.add("negative" if dim < 0 else "int")
            assert -rank <= dim < rank
        seen.add(f"keepdim={keepdim}")
    assert seen == {"none", "tuple", "negative", "int", "keepdim=True", "keepdim=False"}


def test_dims_without_none_never_draws_none():
    assert None not in draws(dims(3, allow_none=False), 100)


def test_transpose_and_squeeze_dims_are_valid_for_torch():
    for (shape,), kw in draws(with_shape(transpose_kwargs), 150):
        torch.zeros(shape).transpose(kw["dim0"], kw["dim1"])
    squeeze = CATALOGUE["squeeze"]
    for (shape,), kw in draws(with_shape(squeeze.kwargs), 150):
        x = torch.zeros(shape)
        squeeze.call_torch(torch, x, **kw)


# -- cotangents and cases ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (2, 3, 1, 4)])
def test_cotangent_is_deterministic_per_seed_with_the_right_shape(shape):
    v = cotangent(42, shape)
    assert isinstance(v, np.ndarray)
    assert v.shape == shape and v.dtype == np.float64
    np.testing.assert_array_equal(v, cotangent(42, shape))
    assert np.all(np.isfinite(v))
    if v.size:
        assert not np.array_equal(v, cotangent(43, shape))
    case = Case(op=CATALOGUE["neg"], dtype="float32", inputs=(np.zeros(3, np.float32),), cotangent_seed=42)
    again = Case(op=CATALOGUE["neg"], dtype="float32", inputs=(np.zeros(3, np.float32),), cotangent_seed=42)
    other = Case(op=CATALOGUE["neg"], dtype="float32", inputs=(np.ones(3, np.float32),), cotangent_seed=42)
    assert case.cotangent(shape).shape == shape
    np.testing.assert_array_equal(case.cotangent(shape), again.cotangent(shape))
    if v.size:  # the same drawn seed still gives different cotangents for different inputs
        assert not np.array_equal(case.cotangent(shape), other.cotangent(shape))


def test_cotangent_is_generic():
    v = cotangent(5, (1000,))
    assert len(np.unique(v)) == 1000
    assert abs(v.mean()) < 0.2 and 0.8 < v.std() < 1.2


def test_cotangent_seeds_vary_between_cases():
    # hypothesis favours small integers (seed 0 comes up often), but the seeds must vary
    seeds = [c.cotangent_seed for c in draws(cases(CATALOGUE["neg"], "float64"), 50)]
    assert len(set(seeds)) >= 10
    assert all(0 <= s < 2**32 for s in seeds)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cases_follow_the_ops_shapes_domains_and_dtype(dtype):
    op = CATALOGUE["div"]  # (REAL, NONZERO): the second input must keep away from 0
    for case in draws(cases(op, dtype), 60):
        assert case.op is op and case.dtype == dtype
        assert len(case.inputs) == 2
        assert all(x.dtype == np.dtype(dtype) for x in case.inputs)
        np.broadcast_shapes(*case.shapes)
        denominator = case.inputs[1].astype(np.float64)
        # away from 0, except where a case is aimed at the pole on purpose (Kinks points)
        assert np.all((np.abs(denominator) >= NONZERO.low) | (denominator == 0.0))
        assert case.kwargs == {}


def test_case_kwargs_are_drawn_for_the_drawn_shapes():
    op = CATALOGUE["unsqueeze"]
    drawn = draws(cases(op, "float64"), 80)
    for case in drawn:
        n = len(case.shapes[0]) + 1
        assert -n <= case.kwargs["dim"] < n
        assert math.prod(case.shapes[0]) == case.inputs[0].size
    assert {len(c.shapes[0]) for c in drawn} >= {0, 1, 2, 3}
    assert {c.kwargs["dim"] for c in drawn} >= {-1, 0, 1}


# -- kinks generated on purpose -----------------------------------------------------------


def _kinked(kinks, domains=(REAL,), shape_strategy=None, kwargs=None):
    from hypothesis import strategies as st

    from gradcheck_suite.catalogue.spec import op

    shaped = shapes(min_side=1) if shape_strategy is None else shape_strategy
    return op("k", "test", lambda ns, *a, **kw: a[0], shaped, domains,
              kinks=kinks, kwargs=(lambda s: st.just(kwargs)) if kwargs else (lambda s: st.just({})))  # fmt: skip


def test_about_one_case_in_two_is_aimed_at_the_kink_points():
    from gradcheck_suite.catalogue.spec import Kinks

    drawn = draws(cases(_kinked(Kinks(points=(0.0,)), domains=(NONZERO,)), "float64"), 200)
    at_zero = [c for c in drawn if np.any(c.inputs[0] == 0.0)]  # NONZERO never draws 0 by itself
    assert 0.35 < len(at_zero) / len(drawn) < 0.65  # the other half checks smooth points
    assert any(np.all(c.inputs[0] == 0.0) and c.inputs[0].size > 1 for c in at_zero), "the zero vector (norm)"
    assert any(np.sum(c.inputs[0] == 0.0) == 1 and c.inputs[0].size > 2 for c in at_zero), "a single kink"


def test_kwarg_points_and_ties_are_placed():
    from gradcheck_suite.catalogue.spec import Kinks

    clamp = _kinked(Kinks(kwarg_points=("min", "max")), kwargs={"min": -0.5, "max": 1.0})
    assert any(np.any(c.inputs[0] == -0.5) for c in draws(cases(clamp, "float32"), 120))
    assert any(np.any(c.inputs[0] == 1.0) for c in draws(cases(clamp, "float32"), 120))
    ties = draws(cases(_kinked(Kinks(ties=True)), "float64"), 200)
    tied_at_max = [c for c in ties if c.inputs[0].size > 1 and np.sum(c.inputs[0] == c.inputs[0].max()) >= 2]
    assert len(tied_at_max) >= 5


def test_ties_across_inputs_line_up_with_broadcasting():
    from gradcheck_suite.catalogue.spec import Kinks

    spec = _kinked(Kinks(ties=True), domains=(REAL, REAL), shape_strategy=broadcast_shapes(2))
    found = 0
    for c in draws(cases(spec, "float64"), 300):
        a, b = np.broadcast_arrays(*c.inputs)
        found += bool(a.size and np.any(a == b))
        assert c.inputs[1].shape == c.shapes[1]
    assert found >= 10


def test_ties_of_a_spread_reduction_tie_the_sums_within_the_reduced_dim():
    """max_dim reduces a + ladder along dim: a tie placed for it must tie a + ladder (the
    ladder rung goes along) inside one slice along dim, at that slice's max or min."""
    from gradcheck_suite.catalogue import reduction

    tied = 0
    for c in draws(cases(CATALOGUE["max_dim"], "float64"), 200):
        (a,), kw = c.inputs, c.kwargs
        if a.ndim == 0:
            continue
        y = a + kw["ladder"]
        assert set(kw["ladder"].ravel()) <= set(np.arange(a.size) * reduction.STEP), "the ladder keeps its rungs"
        top = y == y.max(axis=kw["dim"], keepdims=True)
        tied += bool(np.any(top.sum(axis=kw["dim"]) >= 2))
    assert tied >= 40, f"only {tied} of 200 max_dim cases tie at a slice's max"
