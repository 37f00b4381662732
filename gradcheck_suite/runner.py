"""Driving hypothesis: one seeded stream of cases per (op, dtype), records collected
from inside a ``@given``-wrapped check function.

Checks never raise into hypothesis (every outcome, even a crash of the checker, is
a record), so hypothesis only generates: no shrinking, no example database, and a
stream is replayed exactly by its seed and example budget.
"""

from __future__ import annotations

import contextlib
import itertools
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.checking.case import CaseChecker, CaseIds
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
    if examples == 0:
        return 0
    counter = itertools.count()

    @settings(STREAM_SETTINGS, max_examples=examples)
    @hypothesis_seed(stream_seed(seed, op.name, dtype))
    @given(case=cases(op, dtype))
    def check(case) -> None:
        ids = CaseIds(run_id=run_id, seed=seed, example=next(counter))
        try:
            records = checker.check(case, ids)
        except Exception as exc:  # noqa: BLE001 - a checker crash is itself a finding
            records = [checker.harness_error(case, ids, exc)]
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
