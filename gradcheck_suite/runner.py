"""Driving hypothesis: one seeded stream of cases per (op, dtype), records collected
from inside a ``@given``-wrapped check function.

Checks never raise into hypothesis (every outcome, even a crash of the checker, is
a record), so hypothesis only generates: no shrinking, no example database, and a
stream is replayed exactly by its seed and example budget.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import warnings
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed

from gradcheck_suite.catalogue.complex_view import as_checked
from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.engines.protocol import can_check
from gradcheck_suite.records import Record
from gradcheck_suite.strategies import Case, cases

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


@contextlib.contextmanager
def without_local_constants() -> Iterator[None]:
    """Hypothesis (6.1xx) mixes literals found in the source of loaded local modules into
    what it generates, so a stream would change whenever this project's (or the user's)
    code changes or another module is imported, and replay commands would stop
    reproducing their rows. Within a run, generation depends on the seed alone.

    This patches a hypothesis internal; where it is absent the context does nothing.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        original = providers._get_local_constants
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):
        yield
        return
    empty = Constants()
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


TARGET_CAP = 1e12  # a score of inf (nan against a number) must not swamp the optimiser


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


def check_case(checker: CaseChecker, case: Case, ids: CaseIds) -> list[Record]:
    """The records of one case; a crash of the checker itself is a record too. Warnings the
    ops raise (torch's "degrees of freedom <= 0", ...) are expected at edge cases and not
    findings: they are silenced rather than printed thousands of times."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return checker.check(case, ids)
    except Exception as exc:  # noqa: BLE001 - a checker crash is itself a finding
        return [checker.harness_error(case, ids, exc)]


def aim_at_large_errors(records: list[Record]) -> None:
    """Each check's score (error over budget) as a hypothesis target, so the target phase (the
    campaign profile) climbs toward the largest discrepancies."""
    for r in records:
        if not math.isnan(r.score):
            target(min(float(r.score), TARGET_CAP), label=r.check)


def run_stream(
    op: OpSpec,
    dtype: str,
    checker: CaseChecker,
    *,
    seed: int,
    examples: int,
    run_id: str,
    sink: Callable[[list[Record]], None],
    settings_: settings | None = None,
    on_failure: Callable[[Case, list[Record]], None] | None = None,
) -> int:
    """Check ``examples`` generated cases of ``op`` in ``dtype``; return how many ran.
    ``settings_`` replaces STREAM_SETTINGS (e.g. a profile of profiles.py); ``on_failure``
    gets each case with a failing record (to store it for replay)."""
    if examples == 0:
        return 0
    counter = itertools.count()
    # Targets steer generation even outside the target phase, which would make a stream's
    # cases depend on the engine's errors: only a targeting profile reports them.
    aim = Phase.target in (settings_ or STREAM_SETTINGS).phases

    @settings(settings_ or STREAM_SETTINGS, max_examples=examples)
    @hypothesis_seed(stream_seed(seed, op.name, dtype))
    @given(case=cases(op, dtype))
    def check(case) -> None:
        records = check_case(checker, case, CaseIds(run_id=run_id, seed=seed, example=next(counter)))
        if aim:
            aim_at_large_errors(records)
        if on_failure is not None and any(r.failed for r in records):
            on_failure(case, records)
        sink(records)

    with without_local_constants():
        check()
    return next(counter)


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
    settings_: settings | None = None,
    on_failure: Callable[[Case, list[Record]], None] | None = None,
) -> None:
    """Every selected op in every selected dtype it supports."""
    for op in ops:
        for dtype in dtypes:
            if dtype not in op.dtypes:
                continue
            if not can_check(checker.engine, as_checked(op, dtype)):
                record = checker.unsupported(as_checked(op, dtype), dtype, CaseIds(run_id=run_id, seed=seed, example=0))
                sink([record])
                progress(Progress(op.name, dtype, 0, [record]))
                continue
            stream: list[Record] = []

            def collect(records: list[Record], stream: list[Record] = stream) -> None:
                stream.extend(records)
                sink(records)

            n = run_stream(
                op, dtype, checker, seed=seed, examples=examples, run_id=run_id, sink=collect, settings_=settings_,
                on_failure=on_failure,
            )  # fmt: skip
            progress(Progress(op.name, dtype, n, stream))
