"""Stored cases: an exact round trip for every op, and clear errors for what encode_case could
not have written (a damaged cache must not replay as a different case or crash the tool)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from gradcheck_suite.cases_io import CaseFormatError, CaseStore, case_json, decode_case, encode_case, replay_id
from gradcheck_suite.catalogue import CATALOGUE
from gradcheck_suite.strategies import Case, cases


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, True)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and (a == b or a is b)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_ops_cases_round_trip_exactly(name):
    for dtype in dict.fromkeys((CATALOGUE[name].dtypes[0], CATALOGUE[name].dtypes[-1])):  # a complex one if listed

        @settings(max_examples=4, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=cases(CATALOGUE[name], dtype))
        def check(case):
            back = decode_case(json.loads(case_json(case)))
            assert _same(case.inputs, back.inputs) and _same(case.kwargs, back.kwargs)
            assert back.cotangent_seed == case.cotangent_seed and replay_id(back) == replay_id(case)
            assert back.op.complex_inputs == case.op.complex_inputs

        check()


def _add(**changes) -> dict:
    data = encode_case(Case(CATALOGUE["add"], "float64", (np.ones(2), np.zeros(2)), cotangent_seed=3))
    return data | changes


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([1], "not an object"),
        (_add(op="no_such_op"), "op this version does not have"),
        (_add(inputs=_add()["inputs"][:1]), "takes 2 input arrays"),
        (_add(kwargs=[1, 2]), "kwargs is a list"),
        (_add(cotangent_seed=-5), "cotangent seed -5"),
        (_add(dtype="int64"), "dtype 'int64'"),
        (
            encode_case(Case(CATALOGUE["add"], "float64", (np.ones(3), np.ones(3)))) | {"dtype": "complex128"},
            "complex inputs are stored as view_as_real pairs",
        ),
        (_add(format=99), "format 99"),
        ({k: v for k, v in _add().items() if k != "inputs"}, "malformed: KeyError"),
    ],
)
def test_malformed_stored_cases_are_format_errors(data, says):
    with pytest.raises(CaseFormatError, match=says):
        decode_case(data)


def test_a_store_skips_torn_and_foreign_lines(tmp_path):
    store = CaseStore(tmp_path / "cases.jsonl")
    rid = store.add(decode_case(_add()), engine="reference")
    with store.path.open("a", encoding="utf-8") as f:
        f.write('{"no_replay_id": 1}\n\xff\xfe not json\n{"replay_id": "x", "case"')
    assert store.ids() == [rid] and store.find(rid)["engine"] == "reference"


def test_replay_scripts_keep_the_shape_of_empty_array_arguments():
    from gradcheck_suite.semantics.sources import literal

    index = np.zeros((0, 2, 2, 0), dtype=np.int64)  # gather's index in a size-0 case
    assert eval(literal(index), {"np": np}).shape == (0, 2, 2, 0)
    assert literal(np.zeros(0, dtype=np.int64)) == "np.array([], dtype=np.int64)"
