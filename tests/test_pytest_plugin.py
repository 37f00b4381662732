"""``pytest --gradcheck``: catalogue streams as test items, the known-discrepancies file,
stale entries, the budget profiles, and an inert plugin without the flag."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import settings

from gradcheck_suite import cache, catalogue, profiles, runner
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.engines import get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle

pytest_plugins = ["pytester"]

# An engine with a planted bug: relu's vector-Jacobian product is doubled.
PLANTED = """
from gradcheck_suite.engines import get_engine
from gradcheck_suite.engines.mirror import MirrorEngine


class DoubledRelu(MirrorEngine):
    def __init__(self):
        ref = get_engine("reference")
        super().__init__("doubled-relu", ref.module, ref._call, ref.version)
        self.op = None

    def forward(self, op, arrays, kwargs):
        self.op = op.name
        return super().forward(op, arrays, kwargs)

    def vjp(self, inputs, output, cotangent):
        grads = super().vjp(inputs, output, cotangent)
        return [2 * g for g in grads] if self.op == "relu" else grads


class NoRelu(MirrorEngine):
    def __init__(self):
        ref = get_engine("reference")
        super().__init__("no-relu", ref.module, ref._call, ref.version)

    def supports(self, op):
        return op.name != "relu"
"""

KNOWN = """
[[known]]
op = "relu"
check = "vjp-torch"
dtype = "*"
verdict = "engine-bug"
reason = "planted: doubled gradient"

[[known]]
op = "relu"
check = "vjp-fd"
dtype = "*"
verdict = "engine-bug"
reason = "planted: doubled gradient"
"""

STALE = """
[[known]]
op = "relu"
check = "jvp-torch"
dtype = "float64"
verdict = "engine-bug"
reason = "forward mode is not doubled: stale"

[[known]]
op = "tanh"
check = "vjp-torch"
dtype = "*"
verdict = "engine-bug"
reason = "tanh is not run here: not stale"
"""


@pytest.fixture(scope="module")
def warm():
    """Pytester drops the modules a test imported when it ends, and torch (with the
    submodules it loads on first use) cannot be imported twice in one process: load them
    once for the module, before any pytester fixture takes its snapshot."""
    checker = CaseChecker(get_engine("reference"), torch_oracle())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation warnings on first use
        for op in ("relu", "exp"):
            runner.run_stream(catalogue.get(op), "float32", checker, seed=0, examples=2, run_id="w", sink=len)


@pytest.fixture
def gc(warm, pytester, monkeypatch):
    """Run pytest --gradcheck in process, in a directory holding the planted engine module."""
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    monkeypatch.delenv(cache.ENV_VAR, raising=False)  # failing cases go to ./.gradcheck-suite, in the test's dir
    pytester.makepyfile(planted=PLANTED)
    pytester.syspathinsert()
    autoload_off = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")

    def run(*args: str):
        plugin = ["-p", "gradcheck_suite.pytest_plugin"] if autoload_off else []
        return pytester.runpytest_inprocess(*plugin, "-p", "no:cacheprovider", *args)

    return run


def test_reference_relu_passes_one_item_per_dtype(gc):
    result = gc("--gradcheck", "--gradcheck-ops", "relu", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "gradcheck::relu[[]float32[]] PASSED*",
            "gradcheck::relu[[]float64[]] PASSED*",
            "engine 'reference', profile ci (10 cases per op and dtype), seed 0: * checks, 0 new failing, 0 known*",
        ]
    )


def test_planted_bug_fails_with_a_readable_message(gc):
    result = gc("--gradcheck", "--gradcheck-ops", "relu,exp", "--gradcheck-engine", "planted:DoubledRelu")
    result.assert_outcomes(passed=2, failed=2)  # exp is untouched
    result.stdout.fnmatch_lines(
        [
            "relu float64 on engine 'doubled-relu': * failing checks (no --gradcheck-known file)",
            "  engine-bug on check 'vjp-torch' (example *, shapes *)",
            "    rule: vjp: torch agrees with finite differences, the engine does not",
            "    detail: worst at input 0 at *",
            "    replay: gradcheck-suite replay relu-float64-*",
            "rerun the stream: gradcheck-suite run --ops relu --dtypes float64 --seed 0 --examples 10 --programs 0 "
            "--engine planted:DoubledRelu",
            "FAILED gradcheck::relu[[]float32[]] - relu float32 on engine 'doubled-relu'*",
        ]
    )
    # Every replay id the message names is stored for `gradcheck-suite replay`, with the engine's spec.
    stored = {e["replay_id"]: e for e in cache.case_store().entries()}
    named = re.findall(r"gradcheck-suite replay (\S+)", result.stdout.str())
    assert named and set(named) <= set(stored)
    assert {stored[n]["engine"] for n in named} == {"planted:DoubledRelu"}


def test_known_failures_pass_and_stale_entries_warn(gc, pytester):
    pytester.makefile(".toml", known=KNOWN + STALE)
    args = ("--gradcheck", "--gradcheck-ops", "relu,exp", "--gradcheck-engine", "planted:DoubledRelu")
    result = gc(*args, "--gradcheck-known", "known.toml")
    result.assert_outcomes(passed=4, warnings=1)
    assert result.ret == 0
    lines = (pytester.path / "known.toml").read_text().splitlines()
    line = lines.index('check = "jvp-torch"') - 1  # 1-based: the [[known]] header of entry 3
    assert lines[line - 1] == "[[known]]"
    result.stdout.fnmatch_lines(
        [
            f"*known.toml:{line}: GradcheckStaleWarning: entry 3 (relu jvp-torch float64 engine-bug: forward mode is "
            "not doubled: stale) no longer occurs although its check ran; remove it?",
            "*: * checks, 0 new failing, * known failing",
        ]
    )
    assert "tanh" not in result.stdout.str()  # an op that did not run is not stale

    strict = gc(
        *args, "--gradcheck-known", "known.toml", "-W", "error::gradcheck_suite.pytest_plugin.GradcheckStaleWarning"
    )
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.stdout.fnmatch_lines([f"ERROR stale known entry: known.toml:{line}: entry 3 *"])


def test_a_known_file_that_covers_one_check_still_fails_on_the_other(gc, pytester):
    pytester.makefile(".toml", known=KNOWN.split("\n\n")[0])  # vjp-torch only
    result = gc("--gradcheck", "--gradcheck-ops", "relu", "--gradcheck-engine", "planted:DoubledRelu",
                "--gradcheck-known", "known.toml")  # fmt: skip
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "failing checks not in known.toml" in out
    assert "engine-bug on check 'vjp-fd'" in out and "engine-bug on check 'vjp-torch'" not in out


def test_unsupported_op_is_skipped(gc):
    result = gc("--gradcheck", "--gradcheck-ops", "relu,exp", "--gradcheck-engine", "planted:NoRelu", "-rs")
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED * engine 'no-relu' does not support relu"])


def test_profile_from_option_and_environment(gc, monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "dev")
    gc("--gradcheck", "--gradcheck-ops", "exp", "--gradcheck-dtypes", "float64").stdout.fnmatch_lines(
        ["engine 'reference', profile dev (25 cases per op and dtype), seed 0: 175 checks*"]
    )
    chosen = gc("--gradcheck", "--gradcheck-ops", "exp", "--gradcheck-dtypes", "float64", "--gradcheck-profile", "ci",
                "--gradcheck-seed", "3")  # fmt: skip
    chosen.stdout.fnmatch_lines(["*profile ci (10 cases per op and dtype), seed 3: 70 checks*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--gradcheck-ops", "relux"), "ERROR: --gradcheck-ops: unknown op 'relux' (did you mean 'relu'?)*"),
        (("--gradcheck-engine", "nope"), "ERROR: --gradcheck-engine: unknown engine 'nope'; known engines: *"),
        (
            ("--gradcheck-engine", "planted:Nope"),
            "ERROR: --gradcheck-engine: *module 'planted' has no attribute 'Nope'",
        ),
        (("--gradcheck-profile", "fast"), "ERROR: --gradcheck-profile: unknown gradcheck profile 'fast'; expected *"),
        (("--gradcheck-dtypes", "float16"), "ERROR: --gradcheck-dtypes: unknown dtype(s) float16; expected *"),
        (
            ("--gradcheck-known", "nope.toml"),
            "ERROR: --gradcheck-known: cannot read known-discrepancies file nope.toml*",
        ),
    ],
)
def test_bad_options_are_usage_errors(gc, args, message):
    result = gc("--gradcheck", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_marker_selects_only_gradcheck_items(gc, pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    both = gc("--gradcheck", "--gradcheck-ops", "exp", "--collect-only", "-q")
    both.stdout.fnmatch_lines(
        [
            "test_plain.py::test_plain",
            "gradcheck::exp[[]float32[]]",
            "gradcheck::exp[[]float64[]]",
            "3 tests collected*",
        ]
    )
    only = gc("--gradcheck", "--gradcheck-ops", "exp", "-m", "gradcheck", "-k", "float64")
    only.assert_outcomes(passed=1, deselected=2)


def test_plugin_is_inert_without_the_flag(gc, pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = gc("-v")
    result.assert_outcomes(passed=1)
    assert "gradcheck::" not in result.stdout.str()
    gc("--help").stdout.fnmatch_lines(["*--gradcheck-profile=NAME*", "*budget profile: ci, dev or campaign*"])
    assert all(name in "ci, dev or campaign" for name in profiles.PROFILES)
    # Loaded in every pytest session: importing it must not pull in the heavy machinery.
    probe = (
        "import sys, gradcheck_suite.pytest_plugin; "
        "print([m for m in sys.modules if m.split('.')[0] in ('torch', 'hypothesis', 'numpy', 'pandas', 'reference')"
        " or m.startswith('gradcheck_suite.') and m not in ('gradcheck_suite.pytest_plugin',"
        " 'gradcheck_suite.pytest_fixture')])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def pytest_subprocess(cwd, *args: str) -> subprocess.CompletedProcess:
    """A fresh pytest with plugin autoloading on, as in a user's session."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_plugin_named_by_its_module_with_p(tmp_path):
    """The entry point is named after the module, so `-p gradcheck_suite.pytest_plugin` next to
    the autoloaded plugin is a no-op (not "already registered under a different name"), and
    `-p no:gradcheck_suite.pytest_plugin` turns it off."""
    named = pytest_subprocess(tmp_path, "-p", "gradcheck_suite.pytest_plugin", "--gradcheck", "--gradcheck-ops", "exp",
                              "--collect-only", "-q")  # fmt: skip
    assert named.returncode == 0, named.stdout + named.stderr
    assert "gradcheck::exp[float32]\ngradcheck::exp[float64]\n" in named.stdout
    off = pytest_subprocess(tmp_path, "-p", "no:gradcheck_suite.pytest_plugin", "--gradcheck")
    assert off.returncode == pytest.ExitCode.USAGE_ERROR
    assert "unrecognized arguments: --gradcheck" in off.stderr


def test_an_entry_for_another_engine_is_noted(gc, pytester):
    other = KNOWN.split("\n\n")[0] + '\nengine = "tiny"\n'
    pytester.makefile(".toml", known=other)
    result = gc(
        "--gradcheck", "--gradcheck-ops", "exp", "--gradcheck-dtypes", "float64", "--gradcheck-known", "known.toml"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "note: known.toml: entry 1 (line *): relu vjp-torch * engine-bug engine tiny is for engine 'tiny', "
            "not the engine under test 'reference'"
        ]
    )
    assert "GradcheckStaleWarning" not in result.stdout.str()


# -- profiles -----------------------------------------------------------------------------


def test_profiles_budgets_and_errors(monkeypatch):
    ci, dev, campaign = (profiles.get_profile(n) for n in ("ci", "dev", "campaign"))
    assert ci.max_examples < dev.max_examples < campaign.max_examples
    assert ci.database is None and dev.database is None and campaign.database is None  # the case store instead
    assert "target" in {p.name for p in campaign.phases} and [p.name for p in ci.phases] == ["generate"]
    with pytest.raises(profiles.UnknownProfileError, match=r"unknown gradcheck profile 'quick' \(from \$GRADCHECK"):
        monkeypatch.setenv(profiles.ENV_VAR, "quick")
        profiles.profile_from_env()
    monkeypatch.setenv(profiles.ENV_VAR, "dev")
    assert profiles.profile_from_env() is dev
    monkeypatch.delenv(profiles.ENV_VAR)
    assert profiles.profile_from_env() is ci


STREAM_DIGEST = """
import json, sys
from gradcheck_suite import cache, catalogue, profiles, runner
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.engines import get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle

checker = CaseChecker(get_engine("reference"), torch_oracle())
streams = []
for settings_ in (profiles.get_profile(sys.argv[1]), None):
    records = []
    runner.run_stream(catalogue.get("abs"), "float64", checker, seed=5, examples=6, run_id="x",
                      sink=records.extend, settings_=settings_)
    streams.append([[r.check, r.shapes, r.kwargs, r.example, r.verdict] for r in records])
print(json.dumps(streams))
"""


def digest(records) -> list:
    return [[r.check, r.shapes, r.kwargs, r.example, r.verdict] for r in records]


def abs_stream(checker, examples: int, settings_=None) -> list:
    records = []
    runner.run_stream(catalogue.get("abs"), "float64", checker, seed=5, examples=examples, run_id="x",
                      sink=records.extend, settings_=settings_)  # fmt: skip
    return digest(records)


def test_same_seed_and_budget_give_the_same_cases(warm, tmp_path):
    """Same seed and budget, same cases: under the non-targeting profiles, under the runner's own
    settings (what `gradcheck-suite run` reruns a stream with), and whatever global profile
    hypothesis loaded (this session loads one of tests/conftest.py; CI=true makes hypothesis load
    its "ci"). The budget is part of it: hypothesis's generation depends on max_examples, so
    example k of a 6-case stream is not example k of a 12-case one, and the rerun command
    carries the profile's budget."""
    checker = CaseChecker(get_engine("reference"), torch_oracle())
    streams = {
        name: abs_stream(checker, 6, profiles.get_profile(name) if name else None) for name in (None, "ci", "dev")
    }
    assert len({row[1] for row in streams[None]}) > 1  # a stream, not one repeated case
    assert streams["ci"] == streams["dev"] == streams[None]
    out = subprocess.run(
        [sys.executable, "-c", STREAM_DIGEST, "ci"], capture_output=True, text=True,
        env={**os.environ, "CI": "true"}, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert json.loads(out.stdout) == [streams[None], streams[None]]
    longer = abs_stream(checker, 12)
    assert longer[: len(streams[None])] != streams[None]  # another budget, other cases


def test_only_a_targeting_profile_reports_targets(warm, monkeypatch):
    """Targets steer generation even outside the target phase, so a conformance stream (ci, dev)
    must not report them: its cases would depend on the engine's errors."""
    aimed = []
    monkeypatch.setattr(runner, "aim_at_large_errors", aimed.append)
    checker = CaseChecker(get_engine("reference"), torch_oracle())
    for name in ("ci", "dev"):
        abs_stream(checker, 2, profiles.get_profile(name))
    assert aimed == []
    abs_stream(checker, 2, profiles.get_profile("campaign"))
    assert len(aimed) == 2 and all(aimed)  # once per case, with its records


def test_campaign_failures_point_to_replay_ids_not_the_stream(gc, monkeypatch):
    # The campaign budget (200 cases) cut down for a test: targeting, not the budget, is the point.
    monkeypatch.setitem(profiles.PROFILES, "campaign", settings(profiles.PROFILES["campaign"], max_examples=12))
    result = gc("--gradcheck", "--gradcheck-ops", "relu", "--gradcheck-dtypes", "float64",
                "--gradcheck-engine", "planted:DoubledRelu", "--gradcheck-profile", "campaign")  # fmt: skip
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "    replay: gradcheck-suite replay relu-float64-*",
            "reproduce each case with its replay id above: under the targeting profile 'campaign' the stream's "
            "cases depend on the engine's errors, so no command reruns the stream",
        ]
    )
    assert "rerun the stream" not in result.stdout.str()


def test_dev_failures_rerun_the_stream_with_the_dev_budget(gc):
    result = gc("--gradcheck", "--gradcheck-ops", "relu", "--gradcheck-dtypes", "float64",
                "--gradcheck-engine", "planted:DoubledRelu", "--gradcheck-profile", "dev")  # fmt: skip
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["rerun the stream: gradcheck-suite run --ops relu --dtypes float64 --seed 0 --examples 25 --programs 0 *"]
    )


# -- the example workflow -----------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_example_workflow_runs_the_conformance_job_and_keeps_the_report():
    text = (DOCS / "examples" / "gradcheck-ci.yml").read_text()
    assert text[text.index("name: gradcheck conformance") :] in (DOCS / "ci.md").read_text()  # the page shows it
    yaml = pytest.importorskip("yaml")
    steps = yaml.safe_load(text)["jobs"]["conformance"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert any(".[pinned]" in r for r in runs)
    run = next(r.split() for r in runs if r.startswith("gradcheck-suite run"))
    assert run[run.index("--known") + 1] == "known-discrepancies.toml" and "--deterministic" in run
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"].rstrip("/") == "reports"
