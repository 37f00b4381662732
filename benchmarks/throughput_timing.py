"""The throughput benchmark's measuring machinery, shared by ``throughput.py`` (the command:
arguments, report, JSON, ``--compare``) and ``throughput_profile.py`` (its ``--profile`` passes).

A Stopwatch adds up the wall time of engine and torch calls, counted once at the outermost
call; TimedEngine wraps an engine so that each protocol call goes through it; TimedChecker adds
up the time inside ``CaseChecker.check``; Bench is one process's checker behind those proxies,
and runs (op, dtype) streams through ``runner.run_stream`` with the fixed SEED. ``measure``
repeats the streams and keeps each stream's medians; ``summarise`` turns streams into rates
and shares of the wall time.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, fields

import numpy as np

from gradcheck_suite import process, runner
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.engines import get_engine
from gradcheck_suite.engines.protocol import Engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle

# Three ops or so per family: elementwise with and without kinks, reductions, views and
# copies, indexing, products and solvers, nn layers.
OPS = (
    "add", "div", "tanh", "maximum",
    "sum", "logsumexp", "max_dim",
    "permute", "cat", "expand",
    "getitem", "gather",
    "matmul", "einsum", "linalg.solve",
    "nn.linear", "nn.layer_norm", "nn.conv2d",
)  # fmt: skip
QUICK_OPS = ("add", "matmul")
DTYPES = ("float32", "float64")
SEED = 0
FRAMEWORK_ROOT = os.sep + "gradcheck_suite" + os.sep


class Stopwatch:
    """Bare time of engine and torch calls, by side, method and the framework code that called."""

    def __init__(self, sites: bool = False) -> None:
        self.sites = sites  # attribute calls to their callers (a frame walk per call: profiling only)
        self.depth = 0
        self.bare = 0.0
        self.by_side: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.by_site: Counter[tuple[str, str, str]] = Counter()
        self.site_calls: Counter[tuple[str, str, str]] = Counter()
        self._entered = 0.0  # framework clock at the outermost call's entry
        self.gc = 0.0  # garbage collection, wherever it lands (while installed as a gc callback)
        self._gc_start = 0.0

    def on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc += time.perf_counter() - self._gc_start

    def timed(self, side: str, method: str, fn, *args):
        if self.depth:  # a call made inside another: its time is the outer call's
            return fn(*args)
        start = time.perf_counter()
        self._entered = start - self.bare  # before depth: the clock must not read a stale entry
        self.depth = 1
        try:
            return fn(*args)
        finally:
            spent = time.perf_counter() - start
            self.bare += spent
            self.depth = 0
            self.by_side[side] += spent
            self.calls[side] += 1
            if self.sites:
                site = (side, method, _caller())
                self.by_site[site] += spent
                self.site_calls[site] += 1

    def framework_clock(self) -> float:
        """Wall time outside engine and torch calls (stands still inside them): cProfile's timer."""
        return self._entered if self.depth else time.perf_counter() - self.bare


def _caller() -> str:
    """The framework function that asked for an engine call (skipping one-line helpers)."""
    frame = sys._getframe(3)
    while frame is not None:
        code = frame.f_code
        if FRAMEWORK_ROOT in code.co_filename and code.co_name not in ("_attempt", "<lambda>", "<listcomp>"):
            module = os.path.splitext(os.path.basename(code.co_filename))[0]
            return f"{module}.{code.co_qualname.replace('.<locals>', '')}"
        frame = frame.f_back
    return "?"


class TimedEngine(Engine):
    """An engine whose every protocol call is timed by a Stopwatch, then delegated."""

    def __init__(self, inner: Engine, side: str, watch: Stopwatch) -> None:
        self.inner, self.side, self.watch = inner, side, watch
        self.name, self.version = inner.name, inner.version

    def __getattr__(self, attr: str):  # anything beyond the protocol (e.g. torch's ``module``)
        if attr == "inner":  # not set yet (copying, unpickling)
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def supports(self, op) -> bool:
        return self.inner.supports(op)

    def _timed(self, method: str, *args):
        return self.watch.timed(self.side, method, getattr(self.inner, method), *args)


# The protocol calls that are timed; evaluate_many too, so that the engine's own (torch's
# vmap), not the protocol's default loop, is what runs.
TIMED = ("forward", "vjp", "to_numpy", "evaluate", "evaluate_many", "vjp_at", "jvp", "hvp")
for _method in TIMED:
    setattr(TimedEngine, _method, lambda self, *args, _m=_method: self._timed(_m, *args))


class TimedChecker(CaseChecker):
    """Adds up the wall time spent inside ``check`` (the rest of a stream is hypothesis)."""

    check_seconds = 0.0

    def check(self, case, ids):
        start = time.perf_counter()
        try:
            return super().check(case, ids)
        finally:
            self.check_seconds += time.perf_counter() - start


@dataclass
class Stream:
    """One (op, dtype) stream's figures (seconds); medians over the repeats once merged."""

    op: str
    family: str
    dtype: str
    cases: int = 0
    checks: int = 0
    failing: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    checking: float = 0.0  # inside CaseChecker.check
    engine: float = 0.0  # inside calls of the engine under test
    torch: float = 0.0  # inside calls of the torch oracle
    gc: float = 0.0  # garbage collection (in any of the above)
    calls: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> Stream:
        """A stream as ``dataclasses.asdict`` wrote it (a JSON file's ``streams``; extra keys ignored)."""
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass
class Bench:
    """The checker of one process, its engine and torch behind timing proxies."""

    sites: bool = False
    watch: Stopwatch = field(init=False)
    checker: TimedChecker = field(init=False)

    def __post_init__(self) -> None:
        self.watch = Stopwatch(self.sites)
        self.checker = TimedChecker(
            TimedEngine(get_engine("reference"), "engine", self.watch), TimedEngine(torch_oracle(), "torch", self.watch)
        )

    def stream(self, op, dtype: str, examples: int) -> Stream:
        w, c = self.watch, self.checker
        before = (w.by_side["engine"], w.by_side["torch"], w.calls.total(), c.check_seconds, w.gc)
        records: list = []
        wall, cpu = time.perf_counter(), time.process_time()
        cases = runner.run_stream(op, dtype, c, seed=SEED, examples=examples, run_id="throughput", sink=records.extend)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return Stream(
            op.name, op.family, dtype, cases, len(records), sum(r.failed for r in records), wall, cpu,
            c.check_seconds - before[3], w.by_side["engine"] - before[0], w.by_side["torch"] - before[1],
            w.gc - before[4], w.calls.total() - before[2],
        )  # fmt: skip

    def streams(self, ops, examples: int) -> list[Stream]:
        return [self.stream(op, dtype, examples) for op in ops for dtype in DTYPES if dtype in op.dtypes]


TIMES = ("wall", "cpu", "checking", "engine", "torch", "gc")


def measure(ops, examples: int, repeat: int) -> tuple[list[Stream], dict]:
    """Every stream ``repeat`` times after one untimed example each (torch's first calls, lazy
    imports); each stream's figures are its medians (the cases are the same in every repeat).
    After the untimed pass the process is set up as a command sets it (``process.for_command``:
    torch on one thread, TF32 off, glibc malloc thresholds raised, ``gc.freeze()``); returns the
    streams and those settings."""
    bench = Bench()
    bench.streams(ops, 1)
    state = process.for_command(bench.checker.oracle.module)  # gc.freeze() after the warm-up, as before
    gc.callbacks.append(bench.watch.on_gc)
    try:
        repeats = [bench.streams(ops, examples) for _ in range(repeat)]
    finally:
        gc.callbacks.remove(bench.watch.on_gc)
    return median_streams(repeats), state


def median_streams(repeats: list[list[Stream]]) -> list[Stream]:
    """Each stream's median times over some repeats of the same streams; counts from the first."""
    merged = []
    for runs in zip(*repeats):
        first = runs[0]
        timed = {k: statistics.median(getattr(s, k) for s in runs) for k in TIMES}
        merged.append(Stream(first.op, first.family, first.dtype, first.cases, first.checks, first.failing,
                             calls=first.calls, **timed))  # fmt: skip
    return merged


def summarise(streams: list[Stream]) -> dict:
    """Cases and checks per second, and where the time went, over some streams."""
    s = {k: sum(getattr(x, k) for x in streams) for k in ("cases", "checks", "failing", "calls")}
    wall, cpu, checking, engine, torch_, gc_ = (sum(getattr(x, k) for x in streams) for k in TIMES)
    return s | {
        "wall_s": wall, "cpu_s": cpu,
        "cases_per_s": s["cases"] / wall, "cases_per_cpu_s": s["cases"] / cpu, "checks_per_s": s["checks"] / wall,
        "ms_per_case": 1e3 * wall / s["cases"],
        "engine_pct": 100 * engine / wall, "torch_pct": 100 * torch_ / wall,
        "checker_own_pct": 100 * (checking - engine - torch_) / wall, "generation_pct": 100 * (wall - checking) / wall,
        "overhead_pct": 100 * (wall - engine - torch_) / wall, "gc_pct": 100 * gc_ / wall,
        # the rate if the framework cost nothing: the engine and torch calls it makes, alone
        "bare_cases_per_s": s["cases"] / (engine + torch_) if engine + torch_ > 0 else None,
        # ... and if the checker's own work cost nothing, but hypothesis generated the cases as it does
        "generated_cases_per_s": s["cases"] / (engine + torch_ + wall - checking) if wall > 0 else None,
    }  # fmt: skip


def proxy_cost_seconds(calls: int = 20_000) -> float:
    """What one timed call adds to a bare one (the proxies' own cost, counted as overhead)."""
    bare = Engine()
    timed = TimedEngine(bare, "engine", Stopwatch())
    x = np.zeros(3)
    spent = []
    for fn in (bare.to_numpy, timed.to_numpy) * 3:
        start = time.perf_counter()
        for _ in range(calls):
            fn(x)
        spent.append(time.perf_counter() - start)
    return max(0.0, min(spent[1::2]) - min(spent[0::2])) / calls
