"""`gradcheck-suite replay ID`: finding a stored case, re-running it, and a standalone script
that really reproduces it (run here with python3 in a subprocess)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck_suite import cache, catalogue
from gradcheck_suite.cases_io import CaseStore, encode_case
from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.cli import main
from gradcheck_suite.engines.mirror import MirrorEngine
from gradcheck_suite.scripts import array_literal
from gradcheck_suite.strategies import Case

ROOT = Path(__file__).resolve().parents[1]
PLANTED = "test_replay:DoublesGradients"  # this module, importable by its file name (pythonpath = tests)


class DoublesGradients(MirrorEngine):
    """The reference engine with every vector-Jacobian product doubled: a planted engine bug."""

    def __init__(self) -> None:
        import reference

        super().__init__("doubles-gradients", reference, OpSpec.call_engine, "planted")

    def vjp(self, inputs, output, cotangent):
        return [2 * g for g in super().vjp(inputs, output, cotangent)]


def mul_case() -> Case:
    x = np.array([[1.5, -2.25, 0.1], [0.3, 2.0, -0.7]])
    y = np.array([3.0, 0.7, -1.25])
    return Case(op=catalogue.get("mul"), dtype="float64", inputs=(x, y), cotangent_seed=11)


def sum_case() -> Case:  # an op without a source lambda: the script calls it through the catalogue
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -5.5]], dtype=np.float32)
    return Case(op=catalogue.get("sum"), dtype="float32", inputs=(x,), kwargs={"dim": (1,), "keepdim": True})


def stored(tmp_path: Path, case: Case, **extra) -> str:
    return CaseStore(tmp_path / "cases.jsonl").add(case, **extra)


def script_of(stdout: str) -> str:
    return stdout[stdout.index("#!/usr/bin/env python3") :]


def run_script(text: str, tmp_path: Path, *, block_suite: bool = False) -> str:
    """Run a generated script with python3 in a fresh process; its stdout. ``block_suite``
    makes ``import gradcheck_suite`` fail there, proving the script does without it."""
    path = tmp_path / "repro.py"
    path.write_text(text)
    code = (
        f"import sys; sys.modules['gradcheck_suite'] = None; exec(compile(open({str(path)!r}).read(), 'repro', 'exec'))"
    )
    cmd = [sys.executable, "-c", code] if block_suite else [sys.executable, str(path)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def differences(output: str, label: str) -> list[float]:
    """The printed ``input i: max |<label>| = x`` values, one per input."""
    return [float(x) for x in re.findall(rf"input \d+: max \|{re.escape(label)}\| = (\S+)", output)]


def test_a_planted_bug_still_fails_and_its_script_reproduces_it(tmp_path, capsys):
    case = mul_case()
    rid = stored(tmp_path, case, engine=PLANTED, seed=4, example=9)
    assert main(["replay", rid, "--from", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"vjp-torch\s+engine-bug", out) and re.search(r"vjp-fd\s+engine-bug", out)
    assert re.search(r"forward\s+pass", out) and "STILL FAILS" in out

    text = script_of(out)
    assert f"get_engine({PLANTED!r})" in text  # the bug lives in the adapter, so the script calls it
    printed = run_script(text, tmp_path)
    # the engine's gradient is twice torch's, so they differ by torch's gradient itself
    import torch

    xs = [torch.tensor(x, requires_grad=True) for x in case.inputs]
    v = torch.tensor(case.cotangent((2, 3)))
    expected = [float(g.abs().max()) for g in torch.autograd.grad(xs[0] * xs[1], xs, v)]
    assert differences(printed, "engine - torch") == pytest.approx(expected, rel=1e-12)
    assert differences(printed, "engine - fd") == pytest.approx(expected, rel=1e-6)
    assert max(differences(printed, "torch - fd")) < 1e-7
    assert "forward: max |engine - torch| = 0.0" in printed


@pytest.mark.parametrize("make", [mul_case, sum_case], ids=["op-source", "catalogue-call"])
def test_a_reference_script_runs_clean_on_the_exact_case(tmp_path, capsys, make):
    case = make()
    rid = stored(tmp_path, case, engine="reference")
    assert main(["replay", rid, "--from", str(tmp_path / "cases.jsonl"), "--script-only"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("#!/usr/bin/env python3")  # nothing but the script
    assert "import reference" in text and "get_engine" not in text

    values = _assigned_literals(text)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(values["INPUTS"], case.inputs))
    torch_output = case.op.call_torch(__import__("torch"), *map(_torch_tensor, case.inputs), **case.kwargs)
    output_shape = tuple(torch_output.shape)
    np.testing.assert_array_equal(values["V"], case.cotangent(output_shape))

    needs_suite = case.op.name == "sum"
    printed = run_script(text, tmp_path, block_suite=not needs_suite)
    n = len(case.inputs)
    assert differences(printed, "engine - torch") == [0.0] * n
    tolerance = 1e-5 if case.dtype == "float32" else 1e-8
    assert len(differences(printed, "engine - fd")) == n and max(differences(printed, "engine - fd")) < tolerance


def _torch_tensor(a: np.ndarray):
    import torch

    return torch.from_numpy(a.copy())


def _assigned_literals(text: str) -> dict:
    """INPUTS and V as the script builds them (their assignments evaluated alone)."""
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) in ("INPUTS", "V"):
            found[node.targets[0].id] = eval(ast.unparse(node.value), {"np": np})
    return found


def test_a_case_that_no_longer_fails_exits_0_and_says_so(tmp_path, capsys):
    rid = stored(tmp_path, mul_case(), engine="reference")
    assert main(["replay", rid, "--from", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "no longer fails" in out and "Failing checks when generated: none (it no longer fails)" in out


def test_engine_option_overrides_the_stored_engine(tmp_path, capsys):
    rid = stored(tmp_path, mul_case(), engine="reference")
    assert main(["replay", rid, "--from", str(tmp_path), "--engine", PLANTED]) == 1
    assert main(["replay", rid, "--from", str(tmp_path), "--engine", "no-such-engine"]) == 2
    assert "unknown engine 'no-such-engine'" in capsys.readouterr().err


def test_an_unknown_id_names_where_it_looked_and_suggests_close_ids(tmp_path, capsys):
    rid = stored(tmp_path, mul_case())
    typo = rid[:-1] + ("0" if rid[-1] != "0" else "1")
    assert main(["replay", typo, "--from", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"no stored case with replay id {typo!r}" in err
    assert str(tmp_path / "cases.jsonl") in err and f"Did you mean {rid}?" in err

    assert main(["replay", rid, "--from", str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_without_from_the_cache_is_searched_then_the_newest_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "elsewhere"))
    rid = CaseStore(tmp_path / "reports" / "run-1" / "cases.jsonl").add(mul_case(), engine="reference")
    assert main(["replay", rid, "--script-only"]) == 0
    assert "import reference" in capsys.readouterr().out

    assert main(["replay", "mul-float64-000000000000"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "elsewhere" / "cases.jsonl") + " (absent)" in err
    assert str(Path("reports") / "run-1" / "cases.jsonl") in err

    # the same id in the cache names another engine: the cache is searched first
    cache.case_store().add(mul_case(), engine="no-such-engine")
    assert main(["replay", rid, "--script-only"]) == 2
    assert "'no-such-engine'" in capsys.readouterr().err


def test_cache_dir_defaults_to_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    assert cache.cache_dir() == tmp_path / ".gradcheck-suite"
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "c"))
    assert cache.case_store().path == tmp_path / "c" / "cases.jsonl"


def test_corrupt_lines_are_skipped_and_a_corrupt_case_is_a_usage_error(tmp_path, capsys):
    store = tmp_path / "cases.jsonl"
    store.write_text('{"replay_id": "torn\n' + "not json at all\n")
    rid = stored(tmp_path, mul_case(), engine="reference")
    broken = {"replay_id": "mul-float64-broken", "case": {**encode_case(mul_case()), "format": 99}}
    with store.open("a") as f:
        f.write(json.dumps(broken) + "\n" + '{"replay_id": "no-case"}\n' + '{"replay_id": "mul-flo')
    assert main(["replay", rid, "--from", str(store), "--script-only"]) == 0
    capsys.readouterr()

    assert main(["replay", "mul-float64-broken", "--from", str(store)]) == 2
    assert "cannot be read: stored case has format 99" in capsys.readouterr().err
    assert main(["replay", "no-case", "--from", str(store)]) == 2
    assert "the entry has no case object" in capsys.readouterr().err


def test_write_puts_the_script_in_a_file(tmp_path, capsys):
    rid = stored(tmp_path, mul_case(), engine="reference")
    target = tmp_path / "repro.py"
    assert main(["replay", rid, "--from", str(tmp_path), "--script-only", "--write", str(target)]) == 0
    assert f"script written to {target}" in capsys.readouterr().out
    assert target.read_text().startswith("#!/usr/bin/env python3")
    assert (
        main(["replay", rid, "--from", str(tmp_path), "--script-only", "--write", str(tmp_path / "no" / "x.py")]) == 2
    )
    assert "--write: cannot write" in capsys.readouterr().err


@pytest.mark.parametrize(
    "array",
    [
        np.array([0.1, -0.0, np.nan, np.inf, -np.inf, 1e-45, 3.4e38], dtype=np.float32),
        np.array([[np.pi, 5e-324], [-1 / 3, 2.0**-1074]]),
        np.zeros((0, 3), dtype=np.float32),
        np.array(2.5),
    ],
    ids=["float32-specials", "float64-subnormal", "empty", "0-d"],
)
def test_array_literals_rebuild_the_exact_bits(array):
    rebuilt = eval(array_literal(array), {"np": np})
    assert rebuilt.dtype == array.dtype and rebuilt.shape == array.shape
    assert rebuilt.tobytes() == array.tobytes()
