"""The command line: exit codes, reports, messages, selection, reproducibility, interruption.

Most runs call ``cli.main`` in-process (torch is imported once); a few run the real entry
points (``python -m gradcheck_suite`` and the ``gradcheck-suite`` console script).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

from gradcheck_suite import __version__, catalogue, cli, runner
from gradcheck_suite.catalogue import CATALOGUE, FAMILIES
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.records import CASE_CHECKS, FAILING, replay_command
from gradcheck_suite.report import read_csv, read_meta
from reference.autograd import arrayops as xp
from reference.ops.pointwise import Mul

CHECKS_PER_CASE = len(CASE_CHECKS)  # ops with forward-mode and second-order checks (all used below)


def checks_per_case(op: str) -> int:
    spec = CATALOGUE[op]
    return 3 + 2 * bool(spec.forward_ad) + 2 * bool(spec.second_order)


def run_cli(tmp_path: Path, *args: str, name: str = "r", quiet: bool = True, programs: int = 0) -> int:
    """A run of the per-case checks; ``programs`` > 0 adds the semantics stream (one more row)."""
    argv = ["run", *args, "--programs", str(programs), "--out", str(tmp_path), "--name", name]
    return cli.main([*argv, "--quiet"] if quiet else argv)


def results(tmp_path: Path, name: str = "r") -> tuple[pd.DataFrame, dict, str]:
    folder = tmp_path / name
    return read_csv(folder / "results.csv"), read_meta(folder / "meta.json"), (folder / "report.html").read_text()


def usage_exit(capsys, argv: list[str]) -> str:
    """argparse rejects the arguments: exit status 2 and a one-line message, no traceback."""
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == cli.EXIT_USAGE == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# -- a passing run ------------------------------------------------------------------------


def test_passing_run_exits_0_and_writes_the_three_reports(tmp_path, capsys):
    assert run_cli(tmp_path, "--ops", "add,neg", "--examples", "3", "--seed", "7") == cli.EXIT_OK == 0
    frame, meta, html = results(tmp_path)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["meta.json", "report.html", "results.csv"]
    assert len(frame) == 2 * 4 * 3 * CHECKS_PER_CASE  # ops x dtypes (real and complex) x examples x checks
    assert set(frame["verdict"]) == {"pass"}
    assert set(frame["op"]) == {"add", "neg"} and set(frame["check"]) == set(CASE_CHECKS)
    assert set(frame["seed"]) == {7}
    assert meta["ops"] == ["add", "neg"] and meta["examples"] == 3 and meta["seed"] == 7
    assert meta["dtypes"] == ["float32", "float64", "complex64", "complex128"]
    assert meta["interrupted"] is False and meta["engine"] == "reference"
    assert 'data-status="pass"' in html
    out = capsys.readouterr().out
    assert out.startswith(f"PASS: {len(frame)} checks of 2 ops")
    assert str(tmp_path / "r" / "results.csv") in out


def test_progress_lines_go_to_stderr_unless_quiet(tmp_path, capsys):
    assert run_cli(tmp_path, "--ops", "neg", "--examples", "2", quiet=False) == 0
    err = capsys.readouterr().err
    assert re.search(rf"neg\s+float32\s+2 cases\s+{2 * CHECKS_PER_CASE} checks", err)
    assert re.search(rf"neg\s+float64\s+2 cases\s+{2 * CHECKS_PER_CASE} checks", err)
    assert run_cli(tmp_path, "--ops", "neg", "--examples", "2", name="q") == 0
    assert capsys.readouterr().err == ""


def test_the_semantics_stream_adds_one_run_level_row(tmp_path):
    code = run_cli(tmp_path, "--ops", "neg", "--dtypes", "float64", "--examples", "1", programs=2)
    frame, meta, _ = results(tmp_path)
    programs = frame[frame["op"] == "program"]
    assert len(programs) == 1 and len(frame) == CHECKS_PER_CASE + 1
    row = programs.iloc[0]
    assert (row["check"], row["dtype"]) == ("semantics", "mixed")
    assert meta["programs"] == 2
    assert code == (cli.EXIT_FAILURES if row["verdict"] in FAILING else cli.EXIT_OK)


# -- a failing run ------------------------------------------------------------------------


def _mul_backward_with_wrong_sign(ctx, g):
    """Mul's gradient with the sign of the second input's gradient flipped (conjugates kept)."""
    a, b = ctx.saved_tensors
    return g * xp.conj(b), (-(g * xp.conj(a)) if ctx.needs_input_grad[1] else None)


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    """One run of mul (broken) and add (unaffected): (exit code, stdout, frame, meta, html)."""
    tmp_path = tmp_path_factory.mktemp("failing")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setattr(Mul, "backward", staticmethod(_mul_backward_with_wrong_sign))
        code = run_cli(tmp_path, "--ops", "mul,add", "--examples", "12")
    assert Mul.backward is not _mul_backward_with_wrong_sign  # the patch is undone
    return (code, out.getvalue(), *results(tmp_path))


def test_wrong_gradient_exits_1(failing_run):
    code, *_ = failing_run
    assert code == cli.EXIT_FAILURES == 1


def test_wrong_gradient_gives_engine_bug_rows_for_mul_only(failing_run):
    _, _, frame, _, _ = failing_run
    mul, add = frame[frame["op"] == "mul"], frame[frame["op"] == "add"]
    assert len(mul) == len(add) == 4 * 12 * CHECKS_PER_CASE
    bugs = mul[mul["verdict"] == "engine-bug"]
    assert set(bugs["check"]) == {"vjp-torch", "vjp-fd", "hvp-torch", "hvp-fd"}  # the VJP of a wrong VJP is wrong
    assert set(bugs["dtype"]) == {"float32", "float64", "complex64", "complex128"}
    assert (bugs["score"] > 1).all()
    assert set(mul[mul["check"] == "forward"]["verdict"]) == {"pass"}  # only the gradient is wrong
    assert set(add["verdict"]) == {"pass"}
    # failing rows carry their inputs; the worst element is in input 1, the one whose gradient is wrong
    for _, row in bugs.iterrows():
        inputs = json.loads(row["inputs"])
        assert [list(_shape(inputs[k])) for k in ("x0", "x1")] == json.loads(row["shapes"])
        if row["check"] == "vjp-torch" or "full gradient" in row["detail"]:
            assert row["detail"].startswith("worst at input 1"), row["detail"]


def _shape(nested) -> tuple:
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0] if nested else None
    return tuple(shape)


def test_wrong_gradient_html_shows_mul_in_a_failing_section(failing_run):
    _, _, _, _, html = failing_run
    assert 'data-status="fail"' in html
    sections = {m.group(1): m.group(0) for m in re.finditer(r'<section[^>]*data-op="([^"]+)".*?</section>', html, re.S)}
    assert set(sections) == {"mul"}  # add passed everywhere: no findings section
    assert 'class="pill tone-fail">engine-bug<' in sections["mul"]
    assert "gradcheck-suite run --ops mul" in sections["mul"]  # the replay command
    row = re.search(r'<tr class="op-row" data-op="mul">.*?</tr>', html, re.S).group(0)
    assert "tone-fail" in row


def test_wrong_gradient_summary_names_mul(failing_run):
    _, out, frame, _, _ = failing_run
    n_failing = int(frame[frame["op"] == "mul"]["verdict"].isin(FAILING).sum())
    lines = out.splitlines()
    assert lines[0].startswith(f"FAIL: {len(frame)} checks of 2 ops")
    assert f"  mul: {n_failing} failing checks" in lines
    assert not any(line.strip().startswith("add:") for line in lines)


# -- usage errors -------------------------------------------------------------------------


def test_unknown_op_exits_2_listing_the_known_ops(tmp_path, capsys):
    assert run_cli(tmp_path, "--ops", "nosuchop") == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("gradcheck-suite: error: unknown op 'nosuchop'")
    for name in CATALOGUE:
        assert re.search(rf"\b{re.escape(name)}\b", err.split("Known ops:")[1])
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()  # nothing is created for a run that cannot start


def test_misspelt_op_gets_a_suggestion(tmp_path, capsys):
    assert run_cli(tmp_path, "--ops", "mull") == 2
    assert "'mull' (did you mean 'mul'?)" in capsys.readouterr().err


def test_unknown_engine_exits_2(tmp_path, capsys):
    assert run_cli(tmp_path, "--ops", "add", "--engine", "jax") == 2
    err = capsys.readouterr().err
    assert "unknown engine 'jax'" in err and "reference" in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--dtypes", "float16", "float16"),
        ("--dtypes", "float32,int8", "int8"),
        ("--dtypes", ",", "dtype"),
        ("--examples", "-2", "whole number of examples"),  # 0 is allowed: programs only
        ("--examples", "many", "whole number of examples"),
        ("--seed", "-1", "seed"),
        ("--seed", "1.5", "seed"),
    ],
)
def test_bad_option_values_exit_2(tmp_path, capsys, option, value, message):
    err = usage_exit(capsys, ["run", option, value, "--out", str(tmp_path)])
    assert f"argument {option}" in err and message in err
    assert not any(tmp_path.iterdir())


def test_unwritable_out_exits_2_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code = run_cli(tmp_path / "a-file" / "sub", "--ops", "add", "--examples", "2", quiet=False)
    assert code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "cannot write reports to" in err and str(blocker) in err
    assert "--out" in err  # says what to change
    assert "Traceback" not in err
    assert "cases" not in err  # no progress line: it failed before checking anything
    assert blocker.read_text() == "not a directory"


def test_version_and_missing_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out
    usage_exit(capsys, [])


# -- internal errors ----------------------------------------------------------------------


def _break_selection(monkeypatch):
    def broken(names=None):
        raise RuntimeError("synthetic internal failure")

    monkeypatch.setattr(catalogue, "select", broken)


def test_internal_error_exits_3_with_a_message_and_no_traceback(tmp_path, capsys, monkeypatch):
    _break_selection(monkeypatch)
    assert run_cli(tmp_path, "--ops", "add") == cli.EXIT_INTERNAL == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: synthetic internal failure" in err
    assert "--debug" in err
    assert "Traceback" not in err


def test_internal_error_with_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    _break_selection(monkeypatch)
    assert cli.main(["--debug", "run", "--ops", "add", "--out", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: synthetic internal failure" in err
    assert "in broken" in err  # the frame that raised


def test_debug_is_accepted_after_the_subcommand(tmp_path, capsys, monkeypatch):
    _break_selection(monkeypatch)
    assert cli.main(["run", "--ops", "add", "--out", str(tmp_path), "--debug"]) == 3
    assert "Traceback (most recent call last)" in capsys.readouterr().err


# -- selection and listing ----------------------------------------------------------------


def test_family_selection_runs_exactly_that_family(tmp_path):
    assert run_cli(tmp_path, "--ops", "linalg", "--dtypes", "float64", "--examples", "2") == 0
    frame, meta, _ = results(tmp_path)
    assert meta["ops"] == list(FAMILIES["linalg"])
    assert meta["dtypes"] == ["float64"]
    assert set(frame["op"]) == set(FAMILIES["linalg"])
    assert set(frame["dtype"]) == {"float64"}
    assert len(frame) == sum(2 * checks_per_case(op) for op in FAMILIES["linalg"])


def test_duplicate_dtypes_collapse_like_duplicate_ops(tmp_path):
    assert run_cli(tmp_path, "--ops", "neg,neg", "--dtypes", "float64,float64", "--examples", "2") == 0
    frame, meta, _ = results(tmp_path)
    assert meta["ops"] == ["neg"]
    assert len(frame) == 2 * CHECKS_PER_CASE


def test_list_prints_every_catalogue_op(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(CATALOGUE)
    for line, spec in zip(lines, CATALOGUE.values()):
        assert line.split()[1] == spec.family
        assert all(str(d) in line for d in spec.domains)


def test_list_ops_selects_ops_and_families_in_the_one_line_format(capsys):
    assert cli.main(["list", "--ops", "reduction,add"]) == 0
    lines = capsys.readouterr().out.splitlines()
    wanted = [n for n in CATALOGUE if n == "add" or CATALOGUE[n].family == "reduction"]
    assert [line.split()[0] for line in lines] == wanted
    assert all(len(line.split("inputs: ")) == 2 for line in lines)  # one line per op, no verbose fields


# -- reproducibility ----------------------------------------------------------------------


def test_deterministic_runs_are_byte_identical(tmp_path):
    args = ("--ops", "mul,sum,matmul", "--examples", "3", "--deterministic")
    assert run_cli(tmp_path, *args, name="one") == 0
    assert run_cli(tmp_path, *args, name="two") == 0
    one, two = ((tmp_path / n / "results.csv").read_bytes() for n in ("one", "two"))
    assert one == two
    frame, meta, _ = results(tmp_path, "one")
    assert set(frame["run_id"]) == {meta["run_id"]} and meta["deterministic"] is True
    assert frame["duration_ms"].isna().all()


def test_non_deterministic_runs_record_timings(tmp_path):
    assert run_cli(tmp_path, "--ops", "neg", "--examples", "2") == 0
    frame, _, _ = results(tmp_path)
    assert (frame["duration_ms"] > 0).all()


def _stream(frame: pd.DataFrame, op: str, dtype: str) -> pd.DataFrame:
    keep = frame[(frame["op"] == op) & (frame["dtype"] == dtype)]
    return keep.drop(columns=["run_id", "duration_ms"]).reset_index(drop=True)


def test_seed_and_example_columns_reproduce_a_row(tmp_path):
    assert run_cli(tmp_path, "--ops", "mul,sum,reshape", "--seed", "11", "--examples", "4", name="first") == 0
    first, _, _ = results(tmp_path, "first")
    row = first[(first["op"] == "sum") & (first["dtype"] == "float32") & (first["example"] == 2)].iloc[0]
    # rerun exactly the command the report offers for this row
    command = shlex.split(replay_command(row.to_dict(), 4))
    assert command[:2] == ["gradcheck-suite", "run"]
    assert run_cli(tmp_path, *command[2:], name="replay") == 0
    replay, _, _ = results(tmp_path, "replay")
    assert set(replay["op"]) == {"sum"} and set(replay["dtype"]) == {"float32"}
    pd.testing.assert_frame_equal(_stream(replay, "sum", "float32"), _stream(first, "sum", "float32"))
    again = replay[(replay["example"] == 2) & (replay["check"] == row["check"])].iloc[0]
    for column in ("shapes", "kwargs", "max_abs_err", "max_rel_err", "score", "detail", "verdict"):
        assert again[column] == row[column] or (pd.isna(again[column]) and pd.isna(row[column])), column


def test_a_different_seed_gives_different_cases(tmp_path):
    for seed in ("11", "12"):
        assert run_cli(tmp_path, "--ops", "mul", "--seed", seed, "--examples", "4", name=f"s{seed}") == 0
    a, b = (_stream(results(tmp_path, f"s{s}")[0], "mul", "float64") for s in ("11", "12"))
    assert list(zip(a["shapes"], a["detail"])) != list(zip(b["shapes"], b["detail"]))


# -- interruption -------------------------------------------------------------------------


def test_ctrl_c_between_streams_exits_130_with_reports_of_what_ran(tmp_path, capsys, monkeypatch):
    real = runner.run_stream
    calls = []

    def interrupted_after_first_stream(*args, **kwargs):
        calls.append(args[:2])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_stream", interrupted_after_first_stream)
    assert run_cli(tmp_path, "--ops", "neg,exp", "--examples", "3") == cli.EXIT_INTERRUPTED == 130
    frame, meta, html = results(tmp_path)
    assert meta["interrupted"] is True
    assert len(frame) == 3 * CHECKS_PER_CASE
    assert set(zip(frame["op"], frame["dtype"])) == {("neg", "float32")}
    assert 'data-op="neg"' in html
    captured = capsys.readouterr()
    assert "interrupted" in captured.err
    assert f"{len(frame)} checks" in captured.out


def test_ctrl_c_inside_a_check_keeps_the_cases_already_checked(tmp_path, monkeypatch):
    real = CaseChecker.check
    seen = []

    def check(self, case, ids):
        seen.append(ids.example)
        if len(seen) == 3:
            raise KeyboardInterrupt
        return real(self, case, ids)

    monkeypatch.setattr(CaseChecker, "check", check)
    assert run_cli(tmp_path, "--ops", "neg", "--dtypes", "float64", "--examples", "5") == 130
    frame, meta, _ = results(tmp_path)
    assert meta["interrupted"] is True
    assert sorted(set(frame["example"])) == [0, 1]
    assert len(frame) == 2 * CHECKS_PER_CASE


def test_sigterm_is_handled_like_ctrl_c_and_the_handler_restored(tmp_path, monkeypatch):
    before = signal.getsignal(signal.SIGTERM)
    real = CaseChecker.check
    seen = []

    def check(self, case, ids):
        seen.append(ids.example)
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(self, case, ids)

    monkeypatch.setattr(CaseChecker, "check", check)
    assert run_cli(tmp_path, "--ops", "neg", "--dtypes", "float64", "--examples", "4") == 130
    assert signal.getsignal(signal.SIGTERM) == before
    frame, meta, _ = results(tmp_path)
    assert meta["interrupted"] is True
    assert set(frame["example"]) == {0}


# -- the real entry points ----------------------------------------------------------------

CI_VARIABLES = (
    "CI",
    "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI",
    "TF_BUILD",
    "bamboo.buildKey",
    "BUILDKITE",
    "CIRCLECI",
    "CIRRUS_CI",
    "CODEBUILD_BUILD_ID",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "HEROKU_TEST_RUN_ID",
    "TEAMCITY_VERSION",
)


def _env(ci: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env.pop("GRADCHECK_HYPOTHESIS_PROFILE", None)
    return {**env, "CI": "true"} if ci else env


RUN_ARGS = ["run", "--ops", "neg,mul", "--dtypes", "float32", "--examples", "4", "--programs", "0", "--deterministic",
            "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def python_m_runs(tmp_path_factory) -> dict[bool, bytes]:
    """results.csv of `python -m gradcheck_suite run ...`, without and with CI=true."""
    out = tmp_path_factory.mktemp("python-m")
    csv = {}
    for ci in (False, True):
        proc = subprocess.run(
            [sys.executable, "-m", "gradcheck_suite", *RUN_ARGS, "--out", str(out), "--name", f"ci-{ci}"],
            env=_env(ci),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("PASS:")
        csv[ci] = (out / f"ci-{ci}" / "results.csv").read_bytes()
    return csv


def test_python_m_run_is_the_same_with_and_without_ci(python_m_runs):
    """Hypothesis loads its own "ci" profile when CI is set; the runner must not depend on it."""
    probe = "from hypothesis import settings; print(settings.default.derandomize)"
    loaded = [
        subprocess.run([sys.executable, "-c", probe], env=_env(ci), capture_output=True, text=True, check=True)
        for ci in (False, True)
    ]
    assert [p.stdout.strip() for p in loaded] == ["False", "True"]  # CI=true really changes hypothesis' profile
    assert python_m_runs[False] == python_m_runs[True]
    assert python_m_runs[False].count(b"\n") == 1 + 2 * 4 * CHECKS_PER_CASE


def test_an_in_process_run_generates_the_same_cases_as_the_command_line(tmp_path, python_m_runs):
    assert run_cli(tmp_path, *RUN_ARGS[1:-1], name="in-process") == 0
    assert (tmp_path / "in-process" / "results.csv").read_bytes() == python_m_runs[False]


def _console_script() -> str:
    path = Path(sysconfig.get_path("scripts")) / "gradcheck-suite"
    found = str(path) if path.exists() else shutil.which("gradcheck-suite")
    assert found, "the gradcheck-suite console script is not installed (pip install -e .)"
    return found


def test_console_script_runs_and_reports_exit_codes(tmp_path):
    script = _console_script()
    args = ["run", "--ops", "dot", "--dtypes", "float64", "--examples", "2", "--programs", "0", "--out", str(tmp_path),
            "--name", "c"]  # fmt: skip
    ok = subprocess.run(
        [script, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    frame, meta, _ = results(tmp_path, "c")
    assert len(frame) == 2 * CHECKS_PER_CASE and set(frame["op"]) == {"dot"}
    assert meta["command"].startswith("gradcheck-suite run --ops dot")

    bad = subprocess.run([script, "run", "--ops", "nosuchop"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "unknown op 'nosuchop'" in bad.stderr and "Traceback" not in bad.stderr


def test_ctrl_c_outside_the_work_loops_exits_130_without_a_traceback(monkeypatch, capsys):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_list", interrupted)
    assert cli.main(["list"]) == cli.EXIT_INTERRUPTED == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_a_wrong_torch_formula_fails_a_run_of_the_torch_engine(tmp_path, monkeypatch, capsys):
    """--engine torch: engine and oracle run the same (here patched) catalogue entry, so their
    agreement proves nothing; the numerical reference finds the wrong gradient and the run fails."""
    import dataclasses

    assert run_cli(tmp_path, "--ops", "sin", "--engine", "torch", "--examples", "5", name="right") == 0
    from helpers import wrong_sin

    monkeypatch.setitem(CATALOGUE, "sin", dataclasses.replace(CATALOGUE["sin"], torch_fn=wrong_sin()))
    assert run_cli(tmp_path, "--ops", "sin", "--engine", "torch", "--examples", "5", name="wrong") == 1
    frame, _, _ = results(tmp_path, "wrong")
    fd = frame[frame.check == "vjp-fd"]
    nonempty = fd.shapes.map(lambda s: 0 not in json.loads(s)[0])  # an empty input has no gradient to be wrong
    assert set(fd[nonempty].verdict) == {"engine-bug"} and set(fd.witnesses) == {"engine = torch | numerical"}
    assert (frame[frame.check == "vjp-torch"].verdict == "pass").all()  # two runs of the same code agree


def test_torch_s_own_findings_are_known_unless_asked_otherwise(tmp_path, capsys):
    """pow's double backward at an exponent of exactly 0 (drawn in this stream): a finding about
    torch that the reference engine shares; known by default, a failure with --no-torch-findings."""
    args = ("--ops", "pow_tensor", "--dtypes", "float64")
    assert run_cli(tmp_path, *args, name="known") == 0
    frame, meta, _ = results(tmp_path, "known")
    assert (frame.verdict == "shared-bug").any() and meta["torch_findings"].endswith("torch_findings.toml")
    assert "known: " in capsys.readouterr().out
    assert run_cli(tmp_path, *args, "--no-torch-findings", name="strict") == 1
    assert results(tmp_path, "strict")[1]["torch_findings"] is None
