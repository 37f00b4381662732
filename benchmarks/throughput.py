"""Throughput of the checker: cases per second per core on a mixed op set, and the
framework's overhead against the bare cost of the engine and torch calls it makes.

Every (op, dtype) stream of OPS in float32 and float64 runs through ``runner.run_stream``
with a fixed seed, as ``gradcheck-suite run`` runs it: the reference engine under test, torch
as the oracle, one process, torch and NumPy's BLAS on one thread. The engine and the oracle
are wrapped in timing proxies: each protocol call (forward, vjp, to_numpy, evaluate, vjp_at,
jvp, hvp) adds its wall time to the bare cost, counted once at the outermost call (a call
made inside another, on either proxy, belongs to the outer one). Then

    total     = the streams' wall time (hypothesis generation + checking)
    bare      = time inside engine and torch calls (adapter included: NumPy <-> tensor copies)
    overhead  = total - bare, in percent of total: the checker's own work (noise probes,
                finite-difference bookkeeping, tolerances, judging, records) and hypothesis

Each repeat runs every stream again on the same cases (the seed fixes them); a stream's
figures are the median over the repeats, after one untimed example per stream (torch's first
calls). ``--profile`` adds two more passes: one that charges each engine and torch call to
the framework function that made it, and one under cProfile with a clock that stands still
inside engine and torch calls, for where the framework's own time goes. Usage:

    python benchmarks/throughput.py [--examples 25] [--repeat 3] [--profile] [--json out.json] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

if __name__ == "__main__":  # before NumPy loads its BLAS; importing the module (tests) leaves them alone
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np

from gradcheck_suite import catalogue, runner
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

    def forward(self, *args):
        return self._timed("forward", *args)

    def vjp(self, *args):
        return self._timed("vjp", *args)

    def to_numpy(self, *args):
        return self._timed("to_numpy", *args)

    def evaluate(self, *args):
        return self._timed("evaluate", *args)

    def vjp_at(self, *args):
        return self._timed("vjp_at", *args)

    def jvp(self, *args):
        return self._timed("jvp", *args)

    def hvp(self, *args):
        return self._timed("hvp", *args)


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


@dataclass
class Bench:
    """The checker of one process, its engine and torch behind timing proxies."""

    sites: bool = False
    watch: Stopwatch = field(init=False)
    checker: TimedChecker = field(init=False)

    def __post_init__(self) -> None:
        self.watch = Stopwatch(self.sites)
        oracle = torch_oracle()
        oracle.module.set_num_threads(1)
        self.checker = TimedChecker(
            TimedEngine(get_engine("reference"), "engine", self.watch), TimedEngine(oracle, "torch", self.watch)
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


def measure(ops, examples: int, repeat: int) -> list[Stream]:
    """Every stream ``repeat`` times after one untimed example each (torch's first calls, lazy
    imports); each stream's figures are its medians (the cases are the same in every repeat)."""
    bench = Bench()
    bench.streams(ops, 1)
    gc.freeze()  # as the command line does after start-up (see cli.py)
    gc.callbacks.append(bench.watch.on_gc)
    try:
        repeats = [bench.streams(ops, examples) for _ in range(repeat)]
    finally:
        gc.callbacks.remove(bench.watch.on_gc)
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


# -- the report ---------------------------------------------------------------------------------


def print_report(figures: dict) -> None:
    run, total = figures["run"], figures["total"]
    print(f"{'family':<10} {'streams':>7} {'cases':>6} {'checks':>7} {'cases/s':>8} {'ms/case':>8} "
          f"{'engine%':>8} {'torch%':>7} {'checker%':>9} {'generate%':>10} {'overhead%':>10}")  # fmt: skip
    for name, f in [*figures["families"].items(), ("all", total)]:
        print(f"{name:<10} {f['streams']:>7} {f['cases']:>6} {f['checks']:>7} {f['cases_per_s']:>8.1f} "
              f"{f['ms_per_case']:>8.2f} {f['engine_pct']:>8.1f} {f['torch_pct']:>7.1f} {f['checker_own_pct']:>9.1f} "
              f"{f['generation_pct']:>10.1f} {f['overhead_pct']:>10.1f}")  # fmt: skip
    if "profile" in figures:
        p = figures["profile"]
        print("\nengine and torch calls by the framework code that made them (% of the total):")
        for s in p["bare_by_site"]:
            print(
                f"  {s['pct_of_total']:5.1f}%  {s['side']:<6} {s['method']:<9} {s['calls']:>7} calls  from {s['site']}"
            )
        print("\nthe framework's own time by module, NumPy and builtins charged to their callers (% of the total):")
        for m in p["by_module"]:
            print(f"  {m['pct_of_total']:5.1f}%  {m['module']}")
        print("framework functions by own time incl. the NumPy they call; cumulative: with their callees")
        print(f"  {'own%':>5} {'cum.%':>6} {'calls':>8}")
        for fn in p["by_function"]:
            print(f"  {fn['own_pct']:5.1f} {fn['cumulative_pct']:6.1f} {fn['calls']:>8}  {fn['function']}")
    print(f"\n{run['ops']} ops x {len(DTYPES)} dtypes, {run['examples']} examples per stream, seed {SEED}, "
          f"median of {run['repeat']} repeats per stream; reference engine, torch {run['torch_version']}, one "
          f"thread; load average {run['load_before']} -> {run['load_after']} on {run['cpu_count']} CPUs")  # fmt: skip
    print(f"{total['cases_per_s']:.1f} cases/s ({total['cases_per_cpu_s']:.1f} per CPU-second), "
          f"{total['checks_per_s']:.1f} checks/s on one core; framework overhead {total['overhead_pct']:.1f}% "
          f"of the total (target < 30%): checker {total['checker_own_pct']:.1f}%, case generation "
          f"{total['generation_pct']:.1f}%; the timing proxies ~{run['proxy_pct']:.1f}%; garbage collection "
          f"{total['gc_pct']:.1f}% (wherever it lands)")  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="cases per (op, dtype) stream (the CLI's default)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the whole set; medians per stream")
    parser.add_argument("--profile", action="store_true", help="also show where the framework's own time goes")
    parser.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK_OPS)}, 2 examples, 1 repeat")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.examples, args.repeat = 2, 1
    if args.examples < 1 or args.repeat < 1:
        parser.error(f"--examples and --repeat must be at least 1, got {args.examples} and {args.repeat}")
    import torch

    ops = catalogue.select(QUICK_OPS if args.quick else OPS)
    threads, load_before = torch.get_num_threads(), os.getloadavg()[0]
    try:
        streams = measure(ops, args.examples, args.repeat)
        figures = _figures(streams, args, torch.__version__, load_before)
        if args.profile:
            from throughput_profile import bare_by_site, profile_framework  # the --profile passes

            total = figures["total"]
            figures["profile"] = {
                "bare_by_site": bare_by_site(ops, args.examples, total["engine_pct"] + total["torch_pct"]),
                **profile_framework(ops, args.examples, total["checker_own_pct"], total["generation_pct"]),
            }
    finally:
        torch.set_num_threads(threads)  # as found (the tests run this in-process)
    print_report(figures)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return figures


def _figures(streams: list[Stream], args, torch_version: str, load_before: float) -> dict:
    families = defaultdict(list)
    for s in streams:
        families[s.family].append(s)
    total = {"streams": len(streams)} | summarise(streams)
    return {
        "run": {"ops": len({s.op for s in streams}), "examples": args.examples, "repeat": args.repeat, "seed": SEED,
                "torch_version": torch_version, "cpu_count": os.cpu_count(), "load_before": round(load_before, 2),
                "load_after": round(os.getloadavg()[0], 2),
                "proxy_pct": 100 * proxy_cost_seconds() * total["calls"] / total["wall_s"]},
        "total": total,
        "families": {name: {"streams": len(ss)} | summarise(ss) for name, ss in families.items()},
        "streams": [asdict(s) for s in streams],
    }  # fmt: skip


if __name__ == "__main__":
    main()
