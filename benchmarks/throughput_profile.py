"""``throughput.py --profile``: where the framework's own time goes. One pass charges each
engine and torch call to the framework function that made it; one runs cProfile with a clock
that stands still inside engine and torch calls (NumPy and builtins charged to their caller).
Both passes use the measuring machinery of ``throughput_timing.py`` (and nothing of the command)."""

from __future__ import annotations

import cProfile
import os
import pstats
from collections import Counter

from throughput_timing import Bench

# -- where the framework's time goes (--profile) ---------------------------------------------


def bare_by_site(ops, examples: int, bare_pct: float, top: int = 12) -> list[dict]:
    """The costliest engine and torch calls by the framework code that made them, from one more
    pass that walks the stack at each call; shares of that pass's bare time scaled to the timed
    run's bare share of the total."""
    bench = Bench(sites=True)
    bench.streams(ops, 1)
    for counter in (bench.watch.by_site, bench.watch.site_calls):
        counter.clear()
    bench.streams(ops, examples)
    total = bench.watch.by_site.total()
    return [
        {"side": side, "method": method, "site": site, "calls": bench.watch.site_calls[(side, method, site)],
         "pct_of_total": bare_pct * spent / total}
        for (side, method, site), spent in bench.watch.by_site.most_common(top)
    ]  # fmt: skip


TIMING_FILE = "throughput_timing.py"  # TimedChecker.check and the timing proxies
GENERATION = ("hypothesis", "gradcheck_suite/strategies.py", "gradcheck_suite/runner.py")  # outside check()


def profile_framework(ops, examples: int, checker_pct: float, generation_pct: float, top: int = 20) -> dict:
    """The framework's own time by module and by function: one more pass under cProfile with
    a clock that stands still inside engine and torch calls. Time in NumPy, builtins and the
    standard library is charged to the framework function that called it. Profiling slows
    Python code unevenly (hypothesis's many small calls most), so the profiled time inside
    ``check`` is scaled to the timed checker share, the rest to the timed generation share."""
    bench = Bench()
    bench.streams(ops, 1)
    profiler = cProfile.Profile(bench.watch.framework_clock)
    profiler.enable()
    bench.streams(ops, examples)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    charged = owners(stats)
    inside = next(row[3] for f, row in stats.items() if f[2] == "check" and f[0].endswith(TIMING_FILE))
    scales = (checker_pct / inside, generation_pct / (charged.total() - inside))
    modules: Counter[str] = Counter()
    for owner, spent in charged.items():
        module = owner if isinstance(owner, str) else _owner(owner[0])
        modules[module] += spent * scales[module in GENERATION]
    functions = [(f, t) for f, t in charged.most_common() if not isinstance(f, str)][:top]

    def scaled(f, t):
        return t * scales[_owner(f[0]) in GENERATION]

    return {
        "by_module": [{"module": m, "pct_of_total": t} for m, t in modules.most_common(top)],
        "by_function": [
            {"function": _label(f), "calls": stats[f][1], "own_pct": scaled(f, t),
             "cumulative_pct": scaled(f, stats[f][3])}
            for f, t in functions
        ],
    }  # fmt: skip


def _path(filename: str) -> str:
    return filename.replace(os.sep, "/")


def _label(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    return f"{_owner(filename)}:{line}({name})"


def _owner(filename: str) -> str | None:
    """The part of the framework a function belongs to; None for NumPy, builtins, the stdlib."""
    path = _path(filename)
    if "gradcheck_suite/" in path:
        return "gradcheck_suite/" + path.split("gradcheck_suite/", 1)[1]
    if "/hypothesis/" in path:
        return "hypothesis"
    if path.endswith(TIMING_FILE):
        return f"benchmarks/{TIMING_FILE} (timing proxies)"
    return None


def _charged_to(func) -> tuple | str | None:
    """Who a function's own time is charged to: itself (ours), "hypothesis", or None (its callers)."""
    owner = _owner(func[0])
    return "hypothesis" if owner == "hypothesis" else func if owner else None


def owners(stats: dict) -> Counter:
    """Own time by framework function (hypothesis as one); time in anything else goes to the
    framework functions that called it, through any depth, split by the callers' share."""
    memo: dict = {}

    def shares(func, seen: frozenset) -> dict:
        if func not in memo:
            callers = stats[func][4]
            weight = sum(edge[3] for edge in callers.values())
            if _charged_to(func) or func in seen or weight <= 0:
                memo[func] = {_charged_to(func) or "other": 1.0}
            else:
                out: Counter = Counter()
                for caller, edge in callers.items():
                    for owner, frac in shares(caller, seen | {func}).items():
                        out[owner] += frac * edge[3] / weight
                memo[func] = out
        return memo[func]

    total: Counter = Counter()
    for func, (_, _, tt, _, callers) in stats.items():
        if _charged_to(func) or not callers:
            total[_charged_to(func) or "other"] += tt
            continue
        for caller, edge in callers.items():
            for owner, frac in shares(caller, frozenset({func})).items():
                total[owner] += frac * edge[2]
    return total
