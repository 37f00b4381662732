"""Driving hypothesis: one seeded stream of cases per (op, dtype), records collected
from inside a ``@given``-wrapped check function.

Checks never raise into hypothesis (every outcome, even a crash of the checker, is
a record), so hypothesis only generates: no shrinking, no example database, and a
stream is replayed exactly by its seed and example budget.
"""

from __future__ import annotations

import itertools
import traceback
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.checks import CaseChecker, CaseIds
from gradcheck_suite.records import Record
from gradcheck_suite.strategies import cases

# Our own settings, built on hypothesis's "default" profile rather than whatever
# profile is loaded (hypothesis loads its "ci" profile by itself when CI is set).
STREAM_SETTINGS = settings(
    settings.get_profile("default"),
    derandomize=False,
    database=None,
    deadline=None,  # torch's first call takes seconds
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    verbosity=Verbosity.quiet,
    print_blob=False,
)


def stream_seed(seed: int, op: str, dtype: str) -> int:
    """The hypothesis seed of one (op, dtype) stream: stable across runs and platforms."""
    return zlib.crc32(f"{seed}:{op}:{dtype}".encode())


@dataclass
class Progress:
    """What the runner reports after each stream (for the CLI's progress lines)."""

    op: str
    dtype: str
    cases: int
    records: list[Record] = field(default_factory=list)

    @property
    def failing(self) -> int:
        return sum(r.failed for r in self.records)


def run_stream(
    op: OpSpec,
    dtype: str,
    checker: CaseChecker,
    *,
    seed: int,
    examples: int,
    run_id: str,
    sink: Callable[[list[Record]], None],
) -> int:
    """Check ``examples`` generated cases of ``op`` in ``dtype``; return how many ran."""
    counter = itertools.count()

    @settings(STREAM_SETTINGS, max_examples=examples)
    @hypothesis_seed(stream_seed(seed, op.name, dtype))
    @given(case=cases(op, dtype))
    def check(case) -> None:
        ids = CaseIds(run_id=run_id, seed=seed, example=next(counter))
        try:
            records = checker.check(case, ids)
        except Exception:  # noqa: BLE001 - a checker crash is itself a finding
            records = [_harness_error(op, dtype, case, ids, checker.engine.name)]
        sink(records)

    check()
    return next(counter)


def _harness_error(op: OpSpec, dtype: str, case, ids: CaseIds, engine: str) -> Record:
    import json

    return Record(
        run_id=ids.run_id, engine=engine, op=op.name, check="forward", dtype=dtype,
        shapes=json.dumps([list(s) for s in case.shapes]), kwargs=json.dumps(case.kwargs, default=str),
        seed=ids.seed, example=ids.example, verdict="harness-error",
        rule="the checker raised while checking this case", detail=traceback.format_exc(limit=6)[-1500:],
    )  # fmt: skip


def run(
    ops: Sequence[OpSpec],
    dtypes: Sequence[str],
    checker: CaseChecker,
    *,
    seed: int,
    examples: int,
    run_id: str,
    sink: Callable[[list[Record]], None],
    progress: Callable[[Progress], None] = lambda p: None,
) -> None:
    """Every selected op in every selected dtype it supports."""
    for op in ops:
        for dtype in dtypes:
            if dtype not in op.dtypes:
                continue
            stream: list[Record] = []

            def collect(records: list[Record], stream: list[Record] = stream) -> None:
                stream.extend(records)
                sink(records)

            n = run_stream(op, dtype, checker, seed=seed, examples=examples, run_id=run_id, sink=collect)
            progress(Progress(op.name, dtype, n, stream))
