"""docs/check-your-own-engine.md: its commands run as written and give the figures it shows.

The guide's ``gradcheck-suite run`` commands are read from the guide itself and run in-process
(``cli.main``) with docs/examples on sys.path: the planted bug of tiny_engine is found where
the guide says, the other ops pass, ops the adapter lacks are ``unsupported``, and after the
guide's one-line fix the same command passes. Engines given as ``module:attribute`` are also
plugged in from this very module (``test_guide:SteeperSin``) and by an entry point.
"""

from __future__ import annotations

import doctest
import importlib.metadata
import importlib.util
import json
import re
import shlex
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gradcheck_suite import catalogue, cli, engines
from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.engines.mirror import MirrorEngine
from gradcheck_suite.report import read_csv

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "check-your-own-engine.md"
EXAMPLES = ROOT / "docs" / "examples"
# The documented exit codes of `gradcheck-suite run` (README).
ALL_PASSED, FOUND_FAILURES = 0, 1
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


# -- reading the guide ---------------------------------------------------------------------


def blocks() -> list[tuple[str, str]]:
    """The guide's fenced blocks, as (language, text), in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(GUIDE.read_text(encoding="utf-8"))]


def runs_shown() -> dict[str, tuple[list[str], str]]:
    """Each ``gradcheck-suite run`` the guide shows, by its --name: (argv, the output shown after it)."""
    found, shown = {}, blocks()
    for i, (lang, text) in enumerate(shown):
        if lang != "bash" or "gradcheck-suite run" not in text:
            continue
        words = shlex.split(text.replace("\\\n", " "))
        assert words[:2] == ["PYTHONPATH=docs/examples", "gradcheck-suite"], f"unexpected command: {text}"
        argv = words[2:]
        output = next(t for lang_, t in shown[i + 1 :] if lang_ == "text")
        found[argv[argv.index("--name") + 1]] = (argv, output)
    assert set(found) == {"tiny-buggy", "tiny-fixed"}, f"the guide's run commands: {sorted(found)}"
    return found


def figures(output: str) -> dict:
    """What a run's console output says: per-stream progress, totals, verdict counts, failing ops."""
    progress = re.findall(
        r"^  (\S+)\s+(float\d\d)\s+(\d+) cases\s+(\d+) checks(?:\s+(\d+) FAILING)?(?:\s+\d+ known)?$", output, re.M
    )
    status = re.search(r"^(PASS|FAIL): (\d+) checks of (\d+) ops.*?\((.*)\)$", output, re.M)
    assert status, f"no status line in:\n{output}"
    counts = dict((v, int(n)) for n, v in (c.rsplit(" ", 1)[::-1] for c in status.group(4).split(", ")))
    return {
        "progress": [(op, dtype, int(cases), int(checks), int(bad or 0)) for op, dtype, cases, checks, bad in progress],
        "status": (status.group(1), int(status.group(2)), int(status.group(3))),
        "verdicts": counts,
        "failing ops": dict((op, int(n)) for op, n in re.findall(r"^  (\S+): (\d+) failing checks$", output, re.M)),
    }


def guide_fix() -> tuple[str, str]:
    """The line the guide's diff removes from tiny_engine.py, and the line it adds."""
    diff = next(text for lang, text in blocks() if lang == "diff")
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+")]
    assert len(removed) == len(added) == 1, f"the guide's fix should change one line:\n{diff}"
    return removed[0], added[0]


# -- running it ----------------------------------------------------------------------------


@pytest.fixture
def examples_on_path(monkeypatch, tmp_path):
    """docs/examples importable (as PYTHONPATH=docs/examples does), fresh imports of the tiny
    modules, and the replay cache kept out of the working tree."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for name in ("tiny_engine", "tiny_adapter"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setenv("GRADCHECK_SUITE_CACHE", str(tmp_path / "cache"))


def run_as_shown(argv: list[str], tmp_path: Path, capsys) -> tuple[int, str, pd.DataFrame]:
    code = cli.main([*argv, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    name = argv[argv.index("--name") + 1]
    return code, captured.err + captured.out, read_csv(tmp_path / name / "results.csv")


def fixed_tiny_engine(tmp_path: Path):
    """tiny_engine with the guide's fix applied to its source, imported as ``tiny_engine``."""
    removed, added = guide_fix()
    source = (EXAMPLES / "tiny_engine.py").read_text(encoding="utf-8")
    assert source.count(removed) == 1, "the line the guide's diff removes is not (exactly once) in tiny_engine.py"
    path = tmp_path / "fixed" / "tiny_engine.py"
    path.parent.mkdir()
    path.write_text(source.replace(removed, added), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("tiny_engine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guide_run_finds_the_planted_div_bug(examples_on_path, tmp_path, capsys):
    argv, shown = runs_shown()["tiny-buggy"]
    code, output, rows = run_as_shown(argv, tmp_path, capsys)
    assert code == FOUND_FAILURES
    assert figures(output) == figures(shown), "the guide's output is stale: rerun its command and paste the output"

    failing = rows[rows.verdict.isin(["engine-bug", "forward-mismatch", "error-mismatch", "non-finite"])]
    assert set(failing.op) == {"div"}
    assert set(failing.verdict) == {"engine-bug"}
    assert set(failing.check) == {"vjp-torch", "vjp-fd"}
    assert {json.loads(loc)["input"] for loc in failing.location} == {1}  # the denominator
    assert failing.replay_id.str.fullmatch(r"div-float(32|64)-[0-9a-f]{12}").all()
    div = rows[rows.op == "div"]
    assert set(div[div.check == "forward"].verdict) == {"pass"}  # only the gradient is wrong
    smooth = rows[rows.op.isin(["add", "sub", "mul", "exp", "tanh", "sum"]) & rows.check.str.startswith("vjp")]
    assert len(smooth) > 0 and set(smooth.verdict) == {"pass"}

    unsupported = rows[rows.verdict == "unsupported"]
    assert set(rows[rows.op == "cos"].verdict) == {"unsupported"}  # not in the adapter's op table
    assert set(unsupported.check) == {"forward", "jvp-torch", "hvp-torch"}  # no forward mode, no second order
    matmul = rows[(rows.op == "matmul") & (rows.check == "forward")]
    assert set(matmul.verdict) == {"pass", "unsupported"}  # vectors raise NotImplementedError, matrices work


def test_after_the_guide_fix_the_same_command_passes(examples_on_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tiny_engine", fixed_tiny_engine(tmp_path))
    argv, shown = runs_shown()["tiny-fixed"]
    code, output, rows = run_as_shown(argv, tmp_path, capsys)
    assert code == ALL_PASSED
    assert figures(output) == figures(shown), "the guide's output is stale: rerun its command and paste the output"
    div = rows[(rows.op == "div") & rows.check.str.startswith("vjp")]
    assert (div.verdict == "pass").sum() > 0 and not div.verdict.isin(["engine-bug", "convention"]).any()


def test_both_runs_check_the_same_cases(examples_on_path):
    """The fixed run differs from the buggy one only by its --name."""
    (buggy, _), (fixed, _) = runs_shown()["tiny-buggy"], runs_shown()["tiny-fixed"]
    assert [w for w in buggy if w != "tiny-buggy"] == [w for w in fixed if w != "tiny-fixed"]


def test_the_tiny_engine_docstring_example(examples_on_path):
    import tiny_engine

    result = doctest.testmod(tiny_engine)
    assert result.attempted > 0 and result.failed == 0


def test_the_entry_point_line_of_the_guide_names_the_adapter(examples_on_path, monkeypatch):
    toml = next(text for lang, text in blocks() if lang == "toml")
    assert '[project.entry-points."gradcheck_suite.engines"]' in toml
    name, value = re.search(r'^(\w+) = "([\w.:]+)"$', toml, re.M).groups()
    point = importlib.metadata.EntryPoint(name=name, value=value, group=engines.ENTRY_POINT_GROUP)
    monkeypatch.setattr(engines, "entry_points", lambda group: [point] if group == engines.ENTRY_POINT_GROUP else [])
    engine = engines.get_engine(name)
    assert engine is sys.modules["tiny_adapter"].ENGINE
    assert (engine.name, engine.version) == ("tiny", sys.modules["tiny_engine"].__version__)


def test_the_guide_api_example_prints_what_it_shows(capsys):
    shown = blocks()
    i = next(i for i, (lang, text) in enumerate(shown) if lang == "python" and "gs.gradcheck(" in text)
    message = next(text for lang, text in shown[i + 1 :] if lang == "text")
    from gradcheck_suite.api import GradcheckError

    with pytest.raises(GradcheckError) as info:
        exec(compile(shown[i][1], str(GUIDE), "exec"), {"__name__": "guide_example"})
    assert str(info.value) == message.rstrip("\n")


# -- an engine defined in this module, plugged in by module:attribute ----------------------


def _call_with_steeper_sin(op: OpSpec, module, *tensors, **kwargs):
    """The catalogue's op on ``module``; for sin, the right value with a 1.01-times-too-steep
    gradient: sin(x) + (x - x) * 1.01 cos(x), where only the first x of (x - x) is differentiated."""
    if op.name != "sin":
        return op.call_engine(module, *tensors, **kwargs)
    (x,) = tensors
    x_const = x.detach()
    return module.sin(x_const) + (x - x_const) * (1.01 * module.cos(x_const))


class SteeperSin(MirrorEngine):
    """The reference engine with one planted wrong gradient (sin's, 1% too large)."""

    def __init__(self) -> None:
        import reference

        super().__init__("steeper-sin", reference, _call_with_steeper_sin, reference.__version__)


def test_an_engine_defined_in_the_test_module_is_plugged_in_by_module_attribute(tmp_path, monkeypatch):
    # pytest (--import-mode=importlib) imports this file as tests.test_guide; "test_guide" is
    # importable too (tests/ is on sys.path), as a second copy: all module:attribute needs.
    monkeypatch.setenv("GRADCHECK_SUITE_CACHE", str(tmp_path / "cache"))
    engine = engines.get_engine("test_guide:SteeperSin")
    assert type(engine).__name__ == "SteeperSin" and engine.name == "steeper-sin"

    argv = ["run", "--engine", "test_guide:SteeperSin", "--ops", "sin,exp", "--dtypes", "float64"]
    code = cli.main([*argv, "--examples", "4", "--programs", "0", "--out", str(tmp_path), "--name", "r", "--quiet"])
    rows = read_csv(tmp_path / "r" / "results.csv")
    assert code == FOUND_FAILURES
    assert set(rows.engine) == {"steeper-sin"}
    sin, exp = rows[rows.op == "sin"], rows[rows.op == "exp"]
    assert set(sin[sin.check == "forward"].verdict) == {"pass"}
    verdicts = Counter(zip(sin.check, sin.verdict))
    assert verdicts[("vjp-torch", "engine-bug")] == verdicts[("vjp-fd", "engine-bug")] > 0
    assert not exp.verdict.isin(["engine-bug", "forward-mismatch", "error-mismatch", "non-finite"]).any()


def test_the_planted_sin_gradient_is_off_by_one_percent():
    """The planted engine is what its docstring says (so the test above tests the checker)."""
    engine = SteeperSin()
    op = catalogue.get("sin")
    x = np.array([0.3, -1.2])
    inputs, out = engine.forward(op, [x], {})
    np.testing.assert_array_equal(engine.to_numpy(out), np.sin(x))
    np.testing.assert_allclose(engine.vjp(inputs, out, np.ones(2))[0], 1.01 * np.cos(x), rtol=1e-15)
