"""An engine that raises: its row's detail says the message first, then where the engine raised
(the innermost frames of its traceback, ``file:line in func: code``), bounded; and the CSV, the
HTML report and ``replay`` all carry it."""

from __future__ import annotations

import html
import inspect
from pathlib import Path

import numpy as np
import pytest

import reference
from gradcheck_suite import catalogue, cli
from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.checking import raised
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.engines.mirror import MirrorEngine
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.report import read_csv
from gradcheck_suite.strategies import Case

HERE = Path(__file__).name


def _deep_helper(grads):
    if grads:
        raise ValueError("gradient lost in the helper")
    return grads


def _gather(grads):
    return _deep_helper(list(grads))


def line_of(fn, text: str) -> int:
    """The file line of ``fn``'s source line containing ``text``."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


class RaisesInHelper(MirrorEngine):
    """The reference engine whose VJP (or JVP) raises two calls down, in ``_deep_helper``."""

    def __init__(self, stage: str = "vjp") -> None:
        super().__init__("raises-in-helper", reference, OpSpec.call_engine, "planted")
        self.stage = stage

    def vjp(self, inputs, output, cotangent):
        grads = super().vjp(inputs, output, cotangent)
        return _gather(grads) if self.stage == "vjp" else grads

    def jvp(self, op, arrays, tangents, kwargs):
        return _gather([super().jvp(op, arrays, tangents, kwargs)])


class ForwardRaises(MirrorEngine):
    """Forward raises, with a long multi-line message, from a recursion 30 calls deep."""

    def __init__(self, error: type[Exception] = RuntimeError) -> None:
        super().__init__("forward-raises", reference, OpSpec.call_engine, "planted")
        self.error = error

    def forward(self, op, arrays, kwargs):
        return self._descend(30)

    def _descend(self, depth: int):
        if depth == 0:
            raise self.error("bad\n" + "x" * 5000)
        return self._descend(depth - 1)


ENGINE = RaisesInHelper()


def check(engine, op: str = "mul") -> dict:
    x, y = np.array([[0.5, -1.25], [2.0, 0.75]]), np.array([1.5, -0.5])
    inputs = (x, y) if catalogue.get(op).arity == 2 else (x,)
    records = CaseChecker(engine, torch_oracle()).check(Case(catalogue.get(op), "float64", inputs), CaseIds("t", 0, 0))
    return {r.check: r for r in records}


def test_a_vjp_raising_in_a_helper_names_the_helper_and_its_line():
    row = check(ENGINE)["vjp-torch"]
    assert row.verdict == "error-mismatch" and row.failed
    assert row.detail.startswith("engine: ValueError: gradient lost in the helper [raised at ")
    frames = row.detail.split("[raised at ", 1)[1].split(" <- ")
    # innermost first: the helper, then its caller, then the adapter's vjp
    assert frames[0].startswith(f"tests/{HERE}:{line_of(_deep_helper, 'raise ValueError')} in _deep_helper: raise")
    assert f"{HERE}:{line_of(_gather, 'return _deep_helper')} in _gather" in frames[1]
    assert " in vjp: " in frames[2]
    assert "gradcheck_suite/checking" not in row.detail  # the checker's own call is not the engine's


def test_a_jvp_raising_in_a_helper_is_located_too():
    row = check(RaisesInHelper("jvp"), "neg")["jvp-torch"]
    assert row.verdict == "error-mismatch"
    assert f"{HERE}:{line_of(_deep_helper, 'raise ValueError')} in _deep_helper" in row.detail


def test_the_detail_is_bounded_and_keeps_the_innermost_frames():
    row = check(ForwardRaises())["forward"]
    assert row.detail.startswith("engine: RuntimeError: bad xxx")  # the message first, on one line
    assert "\n" not in row.detail
    assert len(row.detail) <= raised.MESSAGE_CHARS + raised.FRAMES * (raised.CODE_CHARS + 120)
    tail = row.detail.split("[raised at ", 1)[1]
    assert tail.count(" in _descend: ") == raised.FRAMES
    assert " in forward" not in tail  # 30 calls deep: the outer frames are left out


def test_not_implemented_stays_a_plain_unsupported_message():
    row = check(ForwardRaises(NotImplementedError))["forward"]
    assert row.verdict == "unsupported"
    assert "raised at" not in row.detail and row.detail.startswith("engine: NotImplementedError: bad")


def test_when_both_sides_raise_the_passing_row_keeps_the_messages_alone():
    try:
        _deep_helper([1])
    except ValueError as exc:
        engine_error = exc
    assert "raised at" in raised.describe(engine_error, None, "error-mismatch")
    both = raised.describe(engine_error, RuntimeError("torch too"), "pass")
    assert both == "engine: ValueError: gradient lost in the helper; torch: RuntimeError: torch too"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    argv = ["run", "--engine", "test_engine_raised:ENGINE", "--ops", "mul", "--dtypes", "float64"]
    assert cli.main([*argv, "--examples", "2", "--programs", "0", "--out", str(out), "--name", "r", "--quiet"]) == 1
    return out / "r"


def test_csv_html_and_replay_carry_where_the_engine_raised(run_folder, capsys):
    rows = read_csv(run_folder / "results.csv")
    failing = rows[rows.verdict == "error-mismatch"]
    assert len(failing) == 2 and set(failing.check) == {"vjp-torch"}
    where = f"{HERE}:{line_of(_deep_helper, 'raise ValueError')} in _deep_helper"
    assert all(where in d for d in failing.detail)
    page = (run_folder / "report.html").read_text(encoding="utf-8")
    assert html.escape(where) in page and "gradient lost in the helper" in page
    capsys.readouterr()
    assert cli.main(["replay", failing.replay_id.iloc[0], "--from", str(run_folder)]) == 1
    shown = capsys.readouterr().out
    assert f"detail: engine: ValueError: gradient lost in the helper [raised at tests/{where}" in shown
