"""The runner: seeded streams of cases per (op, dtype), records collected, crashes contained."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest

from gradcheck_suite import runner
from gradcheck_suite.catalogue import CATALOGUE
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.engines import get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.records import CASE_CHECKS, FAILING, Record

DTYPES = ("float32", "float64")


@pytest.fixture(scope="module")
def checker() -> CaseChecker:
    return CaseChecker(get_engine("reference"), torch_oracle())


def run(checker, ops, *, seed=0, examples=3, dtypes=DTYPES, progress=None) -> list[Record]:
    records: list[Record] = []
    runner.run(
        [CATALOGUE[o] if isinstance(o, str) else o for o in ops],
        dtypes,
        checker,
        seed=seed,
        examples=examples,
        run_id="test-run",
        sink=records.extend,
        progress=progress or (lambda p: None),
    )
    return records


def rows(records: list[Record]) -> list[dict]:
    """Record rows without the wall time, which differs from run to run."""
    return [{k: v for k, v in r.row().items() if k != "duration_ms"} for r in records]


# -- determinism and stream seeds ---------------------------------------------------------


def test_same_seed_same_records(checker):
    first = run(checker, ["mul", "sum", "reshape"], seed=5)
    second = run(checker, ["mul", "sum", "reshape"], seed=5)
    assert rows(first) == rows(second)
    assert len(first) == 3 * 2 * 3 * len(CASE_CHECKS)


def test_a_stream_does_not_depend_on_the_other_streams_of_the_run(checker):
    alone = run(checker, ["sum"], seed=3, dtypes=("float64",))
    after_others = run(checker, ["mul", "sum"], seed=3)
    assert rows(alone) == rows([r for r in after_others if r.op == "sum" and r.dtype == "float64"])


def test_different_seeds_give_different_cases(checker):
    a = run(checker, ["mul"], seed=1, dtypes=("float64",), examples=5)
    b = run(checker, ["mul"], seed=2, dtypes=("float64",), examples=5)
    assert [(r.shapes, r.detail) for r in a] != [(r.shapes, r.detail) for r in b]
    assert {r.seed for r in a} == {1} and {r.seed for r in b} == {2}


def test_stream_seed_is_a_32_bit_seed_distinct_per_op_dtype_and_seed():
    seeds = {(s, op, dt): runner.stream_seed(s, op, dt) for s in (0, 1, 2**40) for op in CATALOGUE for dt in DTYPES}
    assert all(isinstance(v, int) and 0 <= v < 2**32 for v in seeds.values())
    assert len(set(seeds.values())) == len(seeds)
    assert runner.stream_seed(0, "mul", "float32") == runner.stream_seed(0, "mul", "float32")


def test_stream_seed_is_stable_across_processes_and_hash_seeds():
    """Not Python's hash(), which changes with PYTHONHASHSEED: replays must work in another process."""
    code = "from gradcheck_suite.runner import stream_seed; print(stream_seed(7, 'matmul', 'float32'))"
    values = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hs},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hs in ("1", "2")
    }
    assert values == {str(runner.stream_seed(7, "matmul", "float32"))}


# -- what a run produces ------------------------------------------------------------------


def test_every_check_kind_appears_for_every_case(checker):
    records = run(checker, ["add", "exp", "matmul"], examples=3)
    assert {r.check for r in records} == set(CASE_CHECKS)
    per_case = defaultdict(set)
    for r in records:
        per_case[(r.op, r.dtype, r.example)].add(r.check)
    assert len(per_case) == 3 * 2 * 3
    assert all(checks == set(CASE_CHECKS) for checks in per_case.values())
    assert {r.verdict for r in records} == {"pass"}


def test_example_indices_are_zero_to_n_minus_one_per_stream(checker):
    progress = []
    records = run(checker, ["neg", "transpose"], examples=4, progress=progress.append)
    examples = defaultdict(set)
    for r in records:
        examples[(r.op, r.dtype)].add(r.example)
    assert set(examples) == {(op, dt) for op in ("neg", "transpose") for dt in DTYPES}
    assert all(sorted(e) == [0, 1, 2, 3] for e in examples.values())
    # one progress report per stream, in catalogue-then-dtype order, with that stream's records
    assert [(p.op, p.dtype, p.cases) for p in progress] == [
        ("neg", "float32", 4), ("neg", "float64", 4), ("transpose", "float32", 4), ("transpose", "float64", 4)
    ]  # fmt: skip
    assert sum(len(p.records) for p in progress) == len(records)
    assert all({(r.op, r.dtype) for r in p.records} == {(p.op, p.dtype)} for p in progress)
    assert all(p.failing == 0 for p in progress)


def test_run_stream_returns_the_number_of_cases(checker):
    sunk: list[list[Record]] = []
    n = runner.run_stream(CATALOGUE["dot"], "float64", checker, seed=0, examples=5, run_id="r", sink=sunk.append)
    assert n == 5 == len(sunk)  # one sink call per case
    assert [batch[0].example for batch in sunk] == list(range(5))


def test_dtypes_an_op_does_not_support_are_skipped(checker):
    only64 = dataclasses.replace(CATALOGUE["neg"], dtypes=("float64",))
    records = run(checker, [only64], examples=2)
    assert {r.dtype for r in records} == {"float64"}
    assert len(records) == 2 * len(CASE_CHECKS)


# -- a crashing checker -------------------------------------------------------------------


class CrashOnSecondCase(CaseChecker):
    """Raises while checking example 1 of every stream; checks the others normally."""

    def check(self, case, ids):
        if ids.example == 1:
            raise ZeroDivisionError("synthetic crash in the checker")
        return super().check(case, ids)


@pytest.fixture(scope="module")
def crash_records(checker) -> list[Record]:
    crashing = CrashOnSecondCase(checker.engine, checker.oracle)
    return run(crashing, ["mul"], seed=4, examples=3, dtypes=("float32",))


def test_a_crashing_checker_gives_harness_error_records_not_a_crash(crash_records):
    errors = [r for r in crash_records if r.verdict == "harness-error"]
    assert len(errors) == 1
    r = errors[0]
    assert (r.op, r.dtype, r.example, r.seed, r.run_id, r.engine) == ("mul", "float32", 1, 4, "test-run", "reference")
    assert r.failed and "harness-error" in FAILING
    assert "ZeroDivisionError: synthetic crash in the checker" in r.detail
    assert 'File "' in r.detail and "in check" in r.detail  # the traceback, not just the message
    assert json.loads(r.shapes) and all(isinstance(s, list) for s in json.loads(r.shapes))
    # the stream carried on after the crash
    assert sorted({x.example for x in crash_records}) == [0, 1, 2]
    assert all(x.verdict == "pass" for x in crash_records if x.example != 1)


def test_a_harness_error_has_the_same_case_as_a_normal_run(checker, crash_records):
    normal = run(checker, ["mul"], seed=4, examples=3, dtypes=("float32",))
    crashed = next(r for r in crash_records if r.verdict == "harness-error")
    same = [r for r in normal if r.example == 1]
    assert {r.shapes for r in same} == {crashed.shapes}
    assert {r.kwargs for r in same} == {crashed.kwargs}


def test_a_harness_error_keeps_the_inputs_of_the_case(crash_records):
    crashed = next(r for r in crash_records if r.verdict == "harness-error")
    inputs = json.loads(crashed.inputs)
    assert inputs["dtype"] == "float32"
    assert {"x0", "x1"} <= set(inputs)


def test_keyboard_interrupt_is_not_swallowed_by_the_runner(checker):
    class Interrupting(CaseChecker):
        def check(self, case, ids):
            if ids.example == 2:
                raise KeyboardInterrupt
            return super().check(case, ids)

    sunk: list[Record] = []
    with pytest.raises(KeyboardInterrupt):
        runner.run(
            [CATALOGUE["neg"]],
            ("float64",),
            Interrupting(checker.engine, checker.oracle),
            seed=0,
            examples=5,
            run_id="r",
            sink=sunk.extend,
        )
    assert sorted({r.example for r in sunk}) == [0, 1]  # what ran before the interrupt was delivered


LOCAL_CONSTANTS_SCRIPT = """
import json, sys
from gradcheck_suite import runner
from gradcheck_suite.catalogue import CATALOGUE
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.engines import get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle

checker = CaseChecker(get_engine("reference"), torch_oracle())

def cases():
    out = []
    runner.run_stream(CATALOGUE["mul"], "float64", checker, seed=0, examples=15, run_id="r",
                      sink=lambda recs: out.extend((r.shapes, r.detail) for r in recs))
    return out

first = cases()
again = cases()
sys.path.insert(0, sys.argv[1])
import unrelated_helpers  # a local module that has nothing to do with the run
print(json.dumps({"repeat": first == again, "after_import": first == cases()}))
"""


@pytest.fixture(scope="module")
def local_constants_probe(tmp_path_factory) -> dict:
    """In a fresh process: the same stream twice, then once more after importing an unrelated module."""
    folder = tmp_path_factory.mktemp("local-module")
    (folder / "unrelated_helpers.py").write_text(
        "SCALES = (0.4375, -1.8125, 2.5625, -2.9375, 1.0625)\nSIZES = (3, 2, 1)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", LOCAL_CONSTANTS_SCRIPT, str(folder)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_stream_repeats_within_one_process(local_constants_probe):
    assert local_constants_probe["repeat"] is True


def test_cases_do_not_depend_on_unrelated_local_modules(local_constants_probe):
    assert local_constants_probe["after_import"] is True


def _cases_of(checker, engine, profile=None, examples: int = 15) -> list[tuple]:
    seen = []
    checker = CaseChecker(engine, checker.oracle, checks=["vjp-torch"])
    original = checker.check

    def spy(case, ids):
        seen.append((ids.example, case.shapes, tuple(x.tobytes() for x in case.inputs)))
        return original(case, ids)

    checker.check = spy
    runner.run_stream(CATALOGUE["mul"], "float64", checker, seed=3, examples=examples, run_id="t", sink=lambda r: None,
                      settings_=profile)  # fmt: skip
    return seen


def test_a_conformance_stream_does_not_depend_on_the_engines_errors(checker):
    """Hypothesis steers toward reported targets even outside its target phase: a stream's cases
    would then follow the engine's errors, and two engines (or a fixed engine) would get other
    cases. Only a targeting profile reports targets."""
    from campaign_engines import WrongMulGradient

    from gradcheck_suite.profiles import PROFILES

    assert _cases_of(checker, get_engine()) == _cases_of(checker, WrongMulGradient())
    targeted = PROFILES["campaign"]
    # steering needs a case where the planted error shows (more than two elements) early enough
    assert _cases_of(checker, get_engine(), targeted, 40) != _cases_of(checker, WrongMulGradient(), targeted, 40)
