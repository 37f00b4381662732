"""The Engine protocol and how engines are named: built-ins, module:attribute (instance,
class or factory), entry points, duck-typed adapters; unsupported ops; several engines in
one run; torch checked against itself."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest

from gradcheck_suite import catalogue, cli, engines
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.engines import Engine, MirrorEngine, UnknownEngineError, get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.strategies import Case


class OnlyAdd(Engine):
    """A minimal adapter written from scratch: NumPy forward, hand-written VJP, add only."""

    name, version = "only-add", "1"

    def supports(self, op):
        return op.name == "add"

    def forward(self, op, arrays, kwargs):
        a, b = arrays
        return (a.shape, b.shape), a + b

    def vjp(self, inputs, output, cotangent):
        return [_sum_to(cotangent, s) for s in inputs]


def _sum_to(g, shape):
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1), keepdims=True)


class Duck:
    """Not derived from Engine: the defaults (supports, evaluate, jvp, ...) fill in."""

    name = "duck"

    def forward(self, op, arrays, kwargs):
        return OnlyAdd().forward(op, arrays, kwargs)

    def vjp(self, inputs, output, cotangent):
        return OnlyAdd().vjp(inputs, output, cotangent)

    def to_numpy(self, value):
        return np.asarray(value)


def make_only_add():
    return OnlyAdd()


INSTANCE = OnlyAdd()
NOT_AN_ENGINE = 42


def _raises(spec: str, *fragments: str) -> None:
    with pytest.raises(UnknownEngineError) as info:
        get_engine(spec)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_builtin_engines_load_and_name_themselves():
    assert get_engine().name == "reference"
    torch_engine = get_engine("torch")
    assert isinstance(torch_engine, MirrorEngine) and torch_engine.version.startswith("2.")
    assert get_engine("autograd").name == "autograd"


@pytest.mark.parametrize("attr", ["OnlyAdd", "INSTANCE", "make_only_add"])
def test_module_attribute_takes_a_class_an_instance_or_a_factory(attr):
    engine = get_engine(f"test_engines:{attr}")
    assert engine.name == "only-add" and engine.supports(catalogue.get("add"))


def test_bad_engine_names_say_what_is_wrong():
    _raises("no-such-engine", "unknown engine 'no-such-engine'", "reference", "module:attribute")
    _raises("no_such_module_xyz:E", "cannot import 'no_such_module_xyz'")
    _raises("test_engines:Missing", "has no attribute 'Missing'")
    _raises("test_engines:NOT_AN_ENGINE", "not an engine adapter", "forward", "vjp")
    _raises(":E", "expected module:attribute")


def test_a_duck_typed_adapter_gets_the_protocol_defaults():
    engine = get_engine("test_engines:Duck")
    add = catalogue.get("add")
    assert engine.supports(add) is True
    assert engine.evaluate(add, [np.ones(2), np.ones(2)], {}).tolist() == [2.0, 2.0]
    with pytest.raises(NotImplementedError):
        engine.jvp(add, [np.ones(2)], [np.ones(2)], {})


def test_entry_points_register_engines(monkeypatch):
    module = types.ModuleType("third_party_adapter")
    module.Adapter = OnlyAdd
    monkeypatch.setitem(sys.modules, "third_party_adapter", module)
    point = types.SimpleNamespace(name="third-party", load=lambda: module.Adapter)
    monkeypatch.setattr(engines, "entry_points", lambda group: [point] if group == engines.ENTRY_POINT_GROUP else [])
    assert "third-party" in engines.registered()
    assert get_engine("third-party").name == "only-add"


def test_a_hand_written_adapter_is_checked_for_real():
    """Correct add passes every check it supports; forward mode and second order are unsupported."""
    checker = CaseChecker(OnlyAdd(), torch_oracle())
    case = Case(catalogue.get("add"), "float64", (np.array([[1.0], [2.0]]), np.array([3.0, 4.0, 5.0])))
    verdicts = {r.check: r.verdict for r in checker.check(case, CaseIds("t", 0, 0))}
    assert verdicts["forward"] == verdicts["vjp-torch"] == verdicts["vjp-fd"] == "pass"
    assert verdicts["jvp-torch"] == verdicts["hvp-torch"] == "unsupported"


def test_a_wrong_hand_written_vjp_is_an_engine_bug():
    class NoUnbroadcast(OnlyAdd):
        def vjp(self, inputs, output, cotangent):
            return [np.broadcast_to(cotangent.sum(), s).copy() for s in inputs]  # sums everything

    checker = CaseChecker(NoUnbroadcast(), torch_oracle(), checks=["vjp-fd"])
    case = Case(catalogue.get("add"), "float64", (np.array([[1.0], [2.0]]), np.array([3.0, 4.0, 5.0])))
    records = checker.check(case, CaseIds("t", 0, 0))
    assert [(r.check, r.verdict) for r in records] == [("vjp-fd", "engine-bug")]
    assert records[0].replay_id.startswith("add-float64-")


def test_several_engines_in_one_run_share_one_report(tmp_path, capsys):
    code = cli.main(
        ["run", "--engine", "reference,torch,test_engines:OnlyAdd", "--ops", "add,relu", "--examples", "3",
         "--programs", "0", "--dtypes", "float64", "--out", str(tmp_path), "--name", "x", "--quiet"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    frame = pd.read_csv(tmp_path / "x" / "results.csv")
    assert set(frame["engine"]) == {"reference", "torch", "only-add"}
    mine = frame[frame["engine"] == "only-add"]
    assert mine[mine["op"] == "relu"]["verdict"].tolist() == ["unsupported"]  # one row for the stream
    assert (mine[mine["op"] == "add"]["verdict"].isin(["pass", "unsupported"])).all()
    assert (frame[frame["engine"] == "torch"]["verdict"].isin(["pass", "not-differentiable"])).all()
    assert "only-add" in (tmp_path / "x" / "report.html").read_text()


def test_checks_selects_the_rows_and_skips_higher_order_work(tmp_path):
    assert cli.main(["run", "--ops", "tanh", "--checks", "vjp-fd,forward", "--examples", "3", "--programs", "0",
                     "--out", str(tmp_path), "--name", "c", "--quiet"]) == 0  # fmt: skip
    frame = pd.read_csv(tmp_path / "c" / "results.csv")
    assert set(frame["check"]) == {"forward", "vjp-fd"} and len(frame) == 2 * 3 * 4  # 2 checks, 3 cases, 4 dtypes


def test_failing_cases_of_a_run_are_stored_for_replay(tmp_path, monkeypatch):
    from reference.ops.pointwise import Mul

    monkeypatch.setattr(Mul, "backward", staticmethod(lambda ctx, g: (2 * g * ctx.saved_tensors[1], None)))
    code = cli.main(["run", "--ops", "mul", "--dtypes", "float64", "--examples", "4", "--programs", "0",
                     "--out", str(tmp_path), "--name", "f", "--quiet"])  # fmt: skip
    assert code == 1
    frame = pd.read_csv(tmp_path / "f" / "results.csv", keep_default_na=False)
    stored = (tmp_path / "f" / "cases.jsonl").read_text()
    failing_ids = set(frame[frame["replay_id"] != ""]["replay_id"])
    assert failing_ids and all(rid in stored for rid in failing_ids)


def test_misshapen_outputs_and_gradients_are_the_engines_fault_not_the_checkers():
    class WrongShapes(OnlyAdd):
        flatten = False

        def forward(self, op, arrays, kwargs):
            inputs, out = super().forward(op, arrays, kwargs)
            return inputs, (out.ravel() if self.flatten else out)

        def vjp(self, inputs, output, cotangent):
            return [g.ravel() for g in super().vjp(inputs, output, cotangent)]

    case = Case(catalogue.get("add"), "float64", (np.ones((2, 1)), np.ones(3)))
    engine = WrongShapes()
    expected = {
        True: ("forward", "forward-mismatch", "output has shape [6]"),
        False: ("vjp-torch", "engine-bug", "input 0: [2] for an input of shape [2, 1]"),
    }
    for flatten, (check, verdict, says) in expected.items():
        engine.flatten = flatten
        last = CaseChecker(engine, torch_oracle()).check(case, CaseIds("t", 0, 0))[-1]
        assert (last.check, last.verdict) == (check, verdict) and says in last.rule


def test_an_engine_that_does_not_mirror_torch_gets_an_unsupported_semantics_row(tmp_path):
    code = cli.main(["run", "--engine", "test_engines:OnlyAdd", "--ops", "add", "--examples", "1", "--programs", "3",
                     "--dtypes", "float64", "--out", str(tmp_path), "--name", "s", "--quiet"])  # fmt: skip
    frame = pd.read_csv(tmp_path / "s" / "results.csv")
    row = frame[frame["check"] == "semantics"].iloc[0]
    assert code == 0 and row["verdict"] == "unsupported" and "mirror torch" in row["rule"]


@pytest.mark.parametrize("checks", [["vjp-fd"], ["forward", "vjp-fd"]])
def test_selecting_checks_does_not_hide_a_backward_that_raised(checks):
    class RaisingVjp(OnlyAdd):
        def vjp(self, inputs, output, cotangent):
            raise RuntimeError("backward broke")

    case = Case(catalogue.get("add"), "float64", (np.ones(2), np.ones(2)))
    records = CaseChecker(RaisingVjp(), torch_oracle(), checks=checks).check(case, CaseIds("t", 0, 0))
    assert [(r.check, r.verdict) for r in records if r.failed] == [("vjp-torch", "error-mismatch")]


def test_engines_that_fail_to_load_are_usage_errors(tmp_path, monkeypatch):
    (tmp_path / "broken_adapter.py").write_text("raise RuntimeError('no licence server')\n")
    (tmp_path / "typo_adapter.py").write_text("def oops(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _raises("broken_adapter:E", "cannot import 'broken_adapter'", "RuntimeError: no licence server")
    _raises("typo_adapter:E", "SyntaxError")
    _raises(".relative:E", "cannot import")
    point = types.SimpleNamespace(name="missing", load=lambda: (_ for _ in ()).throw(AttributeError("no E")))
    monkeypatch.setattr(engines, "entry_points", lambda group: [point])
    _raises("missing", "could not be loaded", "AttributeError")


def test_torch_evaluates_many_points_in_one_vectorised_call_or_one_by_one(monkeypatch):
    """evaluate_many: vmap where torch vectorises the op (the same values as single calls, both
    ends of every batch checked), point by point where it cannot (an op that reads NumPy inside),
    for a few points, or for a batch whose ends differ, without that deciding the next batch."""
    from gradcheck_suite.catalogue import CATALOGUE
    from gradcheck_suite.engines import mirror
    from gradcheck_suite.oracles.torch_oracle import torch_oracle

    torch = torch_oracle()
    singles: list[int] = []
    evaluate = torch.evaluate
    monkeypatch.setattr(torch, "evaluate", lambda op, arrays, kwargs: singles.append(1) or evaluate(op, arrays, kwargs))
    rng = np.random.default_rng(0)
    points = [[rng.standard_normal((3, 4)), rng.standard_normal((4, 2))] for _ in range(mirror.MIN_BATCH)]
    got = torch.evaluate_many(CATALOGUE["matmul"], points, {})
    assert len(singles) == 2  # the two ends, checked against the vectorised call
    for p, g in zip(points, got):
        np.testing.assert_allclose(g, p[0] @ p[1], rtol=1e-12)
    singles.clear()
    few = torch.evaluate_many(CATALOGUE["tanh"], [[np.ones(3)], [np.zeros(3)]], {})
    assert len(singles) == 2 and np.allclose(few[0], np.tanh(1.0))
    with monkeypatch.context() as m:  # a batched kernel that computes otherwise: this batch goes point by point
        m.setattr(mirror, "_same", lambda a, b: False)
        singles.clear()
        looped = torch.evaluate_many(CATALOGUE["matmul"], points, {})
        assert len(singles) == len(points) and all(np.array_equal(a, b) for a, b in zip(looped, got))
    singles.clear()
    torch.evaluate_many(CATALOGUE["matmul"], points, {})
    assert len(singles) == 2  # the next batch is vectorised again: nothing carried over from the one before
    dropout = CATALOGUE["nn.dropout"]  # its torch twin builds the engine's mask with NumPy: not vmappable
    kwargs = {"p": 0.5, "seed": 3}
    singles_in = [[rng.standard_normal(5)] for _ in range(mirror.MIN_BATCH)]
    many = torch.evaluate_many(dropout, singles_in, kwargs)
    assert len(torch._refused) == 1
    for p, g in zip(singles_in, many):
        np.testing.assert_array_equal(g, evaluate(dropout, p, kwargs))
