"""The op catalogue: every entry is consistent and runs on torch and on the reference engine;
selections by name, family and "all"."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from helpers import draws

from gradcheck_suite import catalogue
from gradcheck_suite.catalogue import CATALOGUE, FAMILIES, UnknownOpError
from gradcheck_suite.catalogue.complex_view import DTYPES, numeric_dtype
from gradcheck_suite.checking import tolerances
from gradcheck_suite.engines import UnknownEngineError, get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.strategies import cases

OPS = list(CATALOGUE)


def _tensor_params(spec) -> tuple[list[str], bool]:
    """Named parameters of ``fn(ns, *tensors, **kwargs)`` after ``ns``, and whether a ``**kw``
    parameter takes the drawn kwargs that are not named."""
    params = list(inspect.signature(spec.fn).parameters.values())[1:]
    named = [p.name for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return named, len(named) < len(params)


@pytest.mark.parametrize("name", OPS)
def test_arity_domains_shapes_and_fn_agree(name):
    spec = CATALOGUE[name]
    assert spec.name == name
    assert spec.arity == len(spec.domains) >= 1
    assert set(spec.dtypes) <= set(DTYPES), spec.dtypes
    assert {numeric_dtype(d) for d in spec.dtypes} <= set(tolerances.EPS), "a dtype without a tolerance model"
    params, var_keyword = _tensor_params(spec)
    for shapes_, kwargs in draws(spec.shapes.flatmap(lambda s: spec.kwargs(s).map(lambda kw: (s, kw))), 10):
        assert isinstance(shapes_, tuple)
        assert len(shapes_) == spec.arity, f"{name}: strategy drew {len(shapes_)} shapes for {spec.arity} domains"
        assert all(isinstance(s, tuple) and all(isinstance(n, int) for n in s) for s in shapes_)
        # fn's signature: ns, one parameter per input, then the drawn keyword arguments
        # (by name, or some through **kw)
        assert len(params) >= spec.arity, name
        if var_keyword:
            assert set(params[spec.arity :]) <= set(kwargs), name
        else:
            assert set(params[spec.arity :]) == set(kwargs), name


@pytest.fixture(scope="module")
def engines():
    return get_engine("reference"), torch_oracle()


@pytest.mark.parametrize("name", OPS)
def test_every_op_runs_on_torch_and_on_the_reference_engine(engines, name):
    engine, oracle = engines
    spec = CATALOGUE[name]
    for dtype in spec.dtypes:
        for case in draws(cases(spec, dtype), 3):
            checked = case.op  # in a complex dtype: a function of view_as_real pairs (complex_view.py)
            e_in, e_out = engine.forward(checked, case.inputs, case.kwargs)
            t_in, t_out = oracle.forward(checked, case.inputs, case.kwargs)
            e_val, t_val = engine.to_numpy(e_out), oracle.to_numpy(t_out)
            assert e_val.shape == t_val.shape
            assert e_val.dtype == t_val.dtype == np.dtype(case.numeric_dtype)
            v = case.cotangent(t_val.shape)
            e_grads = engine.vjp(e_in, e_out, v)
            t_grads = oracle.vjp(t_in, t_out, v)
            for x, eg, tg in zip(case.inputs, e_grads, t_grads):
                assert eg.shape == tg.shape == x.shape
            np.testing.assert_array_equal(engine.evaluate(checked, case.inputs, case.kwargs), e_val)


def test_families_partition_the_catalogue():
    listed = [name for names in FAMILIES.values() for name in names]
    assert sorted(listed) == sorted(CATALOGUE)
    assert set(FAMILIES) == {
        "pointwise", "special", "reduction", "shape", "indexing", "linalg", "nn", "complex_numbers", "fft"
    }  # fmt: skip
    for family, names in FAMILIES.items():
        assert all(CATALOGUE[n].family == family for n in names)
    assert not set(FAMILIES) & set(CATALOGUE), "a family named like an op makes selections ambiguous"


# -- selection ----------------------------------------------------------------------------


def names(specs) -> list[str]:
    return [s.name for s in specs]


def test_select_by_name_keeps_catalogue_order():
    assert names(catalogue.select(["mul", "add"])) == ["add", "mul"]
    assert names(catalogue.select([" dot "])) == ["dot"]


def test_select_by_family_and_mixed():
    assert names(catalogue.select(["linalg"])) == list(FAMILIES["linalg"])
    mixed = names(catalogue.select(["reduction", "exp"]))
    assert sorted(mixed) == sorted([*FAMILIES["reduction"], "exp"])
    assert mixed == [n for n in CATALOGUE if n in mixed]


@pytest.mark.parametrize("selection", [None, [], ["all"], ["all", "mul"], [" ", ""]])
def test_select_all(selection):
    assert names(catalogue.select(selection)) == OPS


def test_select_collapses_duplicates():
    assert names(catalogue.select(["mul", "mul", "pointwise", "mul"])) == list(FAMILIES["pointwise"])


def test_unknown_op_message_lists_known_ops_families_and_a_suggestion():
    with pytest.raises(UnknownOpError) as info:
        catalogue.select(["mul", "tanhh", "zzzz"])
    message = str(info.value)
    assert "'tanhh' (did you mean 'tanh'?)" in message
    assert "'zzzz'" in message and "'zzzz' (did you mean" not in message
    assert "'mul'" not in message.split("Known ops")[0]  # only the unknown names are reported
    assert message.startswith("unknown ops")
    for op in CATALOGUE:
        assert op in message.split("Known ops:")[1]
    for family in FAMILIES:
        assert family in message.split("Families:")[1]


def test_get_and_unknown_engine():
    assert catalogue.get("mul") is CATALOGUE["mul"]
    with pytest.raises(UnknownOpError, match="did you mean 'mul'"):
        catalogue.get("mull")
    with pytest.raises(UnknownEngineError, match="reference"):
        get_engine("jax")


def test_op_names_are_validated():
    spec = CATALOGUE["neg"]
    with pytest.raises(ValueError, match="letters, digits"):
        catalogue.OpSpec(name="bad name", family="x", fn=spec.fn, shapes=spec.shapes, domains=spec.domains)
