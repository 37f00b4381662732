"""Running program streams: hypothesis generates programs from a seed, shrinks the first
divergence to a short program, and the outcome becomes records (check ``semantics``)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.records import Record
from gradcheck_suite.semantics import sources
from gradcheck_suite.semantics.program import Divergence, Lockstep, minimise
from gradcheck_suite.semantics.steps import run_program

STEPS = 12  # steps per program: enough for backward-after-hook-after-op stories, short to shrink
OP = "program"  # the records' op column


@dataclass
class ProgramRun:
    """What a stream of programs did."""

    programs: int = 0
    steps: int = 0
    kinds: Counter = field(default_factory=Counter)
    divergence: Divergence | None = None
    seconds: float = 0.0


def search(
    engine: Any,
    torch: Any,
    ops: Sequence[OpSpec],
    *,
    seed: int,
    programs: int,
    steps: int = STEPS,
    shrink: bool = True,
    kinds: Sequence[str] | None = None,
) -> ProgramRun:
    """Generate ``programs`` programs (of the given step kinds, default all); stop at the
    first divergence (shrunk if ``shrink``)."""
    from gradcheck_suite.runner import STREAM_SETTINGS, stream_seed, without_local_constants

    result = ProgramRun()
    start = time.perf_counter()

    @settings(
        STREAM_SETTINGS,
        max_examples=programs,
        phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate],
        report_multiple_bugs=False,
    )
    @hypothesis_seed(stream_seed(seed, OP, "semantics"))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        lock = Lockstep(engine, torch, ops)
        try:
            run_program(data, lock, steps, kinds)
        finally:
            lock.close()
            result.programs += 1
            result.steps += sum(lock.kinds.values())
            result.kinds.update(lock.kinds)

    try:
        with without_local_constants():
            check()
    except Divergence as exc:
        result.divergence = minimise(engine, torch, exc) if shrink else exc
    except BaseExceptionGroup as group:  # hypothesis's Flaky*: replaying a shrunk program went differently
        found = _divergence_in(group)
        if found is None:
            raise
        result.divergence = minimise(engine, torch, found) if shrink else found
    result.seconds = time.perf_counter() - start
    return result


def _divergence_in(group: BaseExceptionGroup) -> Divergence | None:
    for exc in group.exceptions:
        if isinstance(exc, Divergence):
            return exc
        if isinstance(exc, BaseExceptionGroup) and (found := _divergence_in(exc)) is not None:
            return found
    return None


def _common(*, run_id: str, engine_name: str, seed: int, programs: int, ops: str) -> dict:
    budget = json.dumps({"ops": ops, "programs": programs, "steps": STEPS})
    return dict(run_id=run_id, engine=engine_name, op=OP, check="semantics", dtype="mixed", shapes="[]",
                kwargs=budget, seed=seed, example=0)  # fmt: skip


def unsupported(*, run_id: str, engine_name: str, seed: int, programs: int, ops: str = "all") -> list[Record]:
    """The stream's record for an engine that does not mirror torch's API (programs are torch source)."""
    common = _common(run_id=run_id, engine_name=engine_name, seed=seed, programs=programs, ops=ops)
    rule = "the programs are torch source text; this engine's adapter does not mirror torch's API"
    return [Record(**common, verdict="unsupported", rule=rule)]


def records(
    result: ProgramRun, *, run_id: str, engine_name: str, seed: int, programs: int, ops: str = "all"
) -> list[Record]:
    """One record for the stream: pass, or the shrunk program that diverged. ``ops`` is the
    selection the programs drew from (for the replay command)."""
    kinds = json.dumps(dict(sorted(result.kinds.items())))
    common = _common(run_id=run_id, engine_name=engine_name, seed=seed, programs=programs, ops=ops)
    if result.divergence is None:
        return [
            Record(
                **common,
                verdict="pass",
                rule="every step had the same outcome and observable state on the engine and on torch",
                detail=f"{result.programs} programs, {result.steps} steps; step kinds {kinds}",
                duration_ms=result.seconds * 1000,
            )
        ]
    d = result.divergence
    return [
        Record(
            **common,
            verdict="semantics-mismatch",
            rule="a step raised on one side only, or left a different observable state (values, flags, "
            "grad_fn, .grad, grad mode)",
            detail=f"after step {d.step!r}: " + "; ".join(d.differences[:6]),
            inputs=sources.script(d.lines, "import reference as torch  # or: import torch"),
            duration_ms=result.seconds * 1000,
        )
    ]
