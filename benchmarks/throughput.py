"""Throughput of the checker: cases per second per core on a mixed op set, and the
framework's overhead against the bare cost of the engine and torch calls it makes.

Every (op, dtype) stream of OPS in float32 and float64 runs through ``runner.run_stream``
with a fixed seed, as ``gradcheck-suite run`` runs it: the reference engine under test, torch
as the oracle, one process, torch and NumPy's BLAS on one thread. The engine and the oracle
are wrapped in timing proxies: each protocol call (forward, vjp, to_numpy, evaluate, evaluate_many, vjp_at,
jvp, hvp) adds its wall time to the bare cost, counted once at the outermost call (a call
made inside another, on either proxy, belongs to the outer one). Then

    total     = the streams' wall time (hypothesis generation + checking)
    bare      = time inside engine and torch calls (adapter included: NumPy <-> tensor copies)
    overhead  = total - bare, in percent of total: the checker's own work (noise probes,
                finite-difference bookkeeping, tolerances, judging, records) and hypothesis

and two rates no framework work can beat: cases / bare (the framework costing nothing), and
cases / (bare + generation) (the checker's own work costing nothing, hypothesis as it is);
``--compare`` divides both by the baseline's rate: bounds on the ratio any checker speed-up reaches.

Each repeat runs every stream again on the same cases (the seed fixes them); a stream's
figures are the median over the repeats, after one untimed example per stream (torch's first
calls). After that untimed pass the process is set up as the commands set theirs
(``gradcheck_suite.process.for_command``: torch on one thread, TF32 off, glibc's malloc
thresholds raised, ``gc.freeze()``), and the report says so; torch's settings and the
collector are put back at the end (the tests run this in-process), the malloc thresholds stay.
``--profile`` adds two more passes: one that charges each engine and torch call to
the framework function that made it, and one under cProfile with a clock that stands still
inside engine and torch calls, for where the framework's own time goes.

``--compare REV`` measures the code at git revision REV beside the working tree's, on the
same machine state: REV is exported (``git archive``) to a temporary directory, removed
afterwards, and each side's own ``benchmarks/throughput.py --json`` runs in a subprocess that
imports that side's ``gradcheck_suite`` and ``reference``, one repeat per subprocess, the two
sides' repeats interleaved (baseline, current, baseline, ...); both get glibc's malloc
thresholds raised through ``GLIBC_TUNABLES`` whatever their code does. The seed fixes each
side's cases, so the streams hold the same cases only if the case generation did not change
between the two; the table shows both sides' case and check counts.

The measuring machinery (timing proxies, streams, medians, summaries) is in
``throughput_timing.py``, the ``--profile`` passes in ``throughput_profile.py``. Usage:

    python benchmarks/throughput.py [--examples 25] [--repeat 3] [--profile] [--json out.json] [--quick]
    python benchmarks/throughput.py --compare REV [--examples 25] [--repeat 3] [--json out.json] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __name__ == "__main__":  # before NumPy loads its BLAS; importing the module (tests) leaves them alone
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from throughput_timing import (
    DTYPES,
    OPS,
    QUICK_OPS,
    SEED,
    Stream,
    measure,
    median_streams,
    proxy_cost_seconds,
    summarise,
)

from gradcheck_suite import catalogue, process

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
    print(f"{process.describe(run['settings'])} (after the untimed pass)")
    print(f"{total['cases_per_s']:.1f} cases/s ({total['cases_per_cpu_s']:.1f} per CPU-second), "
          f"{total['checks_per_s']:.1f} checks/s on one core; framework overhead {total['overhead_pct']:.1f}% "
          f"of the total (target < 30%): checker {total['checker_own_pct']:.1f}%, case generation "
          f"{total['generation_pct']:.1f}%; the timing proxies ~{run['proxy_pct']:.1f}%; garbage collection "
          f"{total['gc_pct']:.1f}% (wherever it lands)")  # fmt: skip
    print(f"at zero overhead (the engine and torch calls alone): {total['bare_cases_per_s']:.1f} cases/s; with the "
          f"checker's own work at zero, generation as it is: {total['generated_cases_per_s']:.1f} cases/s")  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="cases per (op, dtype) stream (the CLI's default)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the whole set; medians per stream")
    parser.add_argument("--profile", action="store_true", help="also show where the framework's own time goes")
    parser.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK_OPS)}, 2 examples, 1 repeat")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument(
        "--compare", metavar="REV", default=None,
        help="measure the code at git revision REV and the working tree's side by side, repeats interleaved",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        args.examples, args.repeat = 2, 1
    if args.examples < 1 or args.repeat < 1:
        parser.error(f"--examples and --repeat must be at least 1, got {args.examples} and {args.repeat}")
    if args.compare is not None:
        if args.profile:
            parser.error("--profile measures the working tree alone: not with --compare")
        figures = compare(args)
        print_comparison(figures)
    else:
        figures = _measure(args)
        print_report(figures)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return figures


def _measure(args) -> dict:
    """This process's figures (and the --profile passes'), its torch and collector as found afterwards."""
    import torch

    ops = catalogue.select(QUICK_OPS if args.quick else OPS)
    found = torch.get_num_threads(), torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    frozen, load_before = gc.get_freeze_count(), os.getloadavg()[0]
    try:
        streams, settings = measure(ops, args.examples, args.repeat)
        figures = _figures(streams, args, settings, load_before)
        if args.profile:
            from throughput_profile import bare_by_site, profile_framework  # the --profile passes

            total = figures["total"]
            figures["profile"] = {
                "bare_by_site": bare_by_site(ops, args.examples, total["engine_pct"] + total["torch_pct"]),
                **profile_framework(ops, args.examples, total["checker_own_pct"], total["generation_pct"]),
            }
    finally:  # as found (the tests run this in-process); malloc's thresholds cannot be read back, so stay
        torch.set_num_threads(found[0])
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = found[1:]
        if not frozen:
            gc.unfreeze()
    return figures


def _figures(streams: list[Stream], args, settings: dict, load_before: float) -> dict:
    families = defaultdict(list)
    for s in streams:
        families[s.family].append(s)
    total = {"streams": len(streams)} | summarise(streams)
    return {
        "run": {"ops": len({s.op for s in streams}), "examples": args.examples, "repeat": args.repeat, "seed": SEED,
                "torch_version": settings["torch_version"], "cpu_count": os.cpu_count(),
                "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
                "proxy_pct": 100 * proxy_cost_seconds() * total["calls"] / total["wall_s"], "settings": settings},
        "total": total,
        "families": {name: {"streams": len(ss)} | summarise(ss) for name, ss in families.items()},
        "streams": [asdict(s) for s in streams],
    }  # fmt: skip


# -- --compare REV: the code at REV beside the working tree's -------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path("benchmarks") / "throughput.py"
WHICH_CODE = "import gradcheck_suite, reference; print(gradcheck_suite.__file__); print(reference.__file__)"
COMPARED = (  # (label, key in a side's totals, format)
    ("cases/s", "cases_per_s", ".1f"), ("cases/CPU-s", "cases_per_cpu_s", ".1f"), ("overhead %", "overhead_pct", ".1f"),
    ("checker %", "checker_own_pct", ".1f"), ("generation %", "generation_pct", ".1f"),
    ("engine %", "engine_pct", ".1f"), ("torch %", "torch_pct", ".1f"), ("ms/case", "ms_per_case", ".2f"),
)  # fmt: skip
COUNTED = (("cases", "cases"), ("checks", "checks"), ("failing checks", "failing"))


@dataclass
class Side:
    """One side of a comparison: a tree of the code, and its runs' figures (one repeat each)."""

    name: str  # baseline | current
    label: str
    tree: Path
    code: dict = field(default_factory=dict)  # which gradcheck_suite and reference its processes import
    runs: list[dict] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The environment of its processes: its tree first on the path, malloc's thresholds preset."""
        path = os.pathsep.join(filter(None, (str(self.tree), os.environ.get("PYTHONPATH"))))
        return dict(os.environ, PYTHONPATH=path) | _malloc_env()

    def python(self, *argv: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, *argv], cwd=self.tree, env=self.env(), capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{self.name} ({self.label}): {' '.join(argv[:2])} failed:\n{done.stderr[-3000:]}")
        return done

    def which_code(self) -> None:
        """The files its processes import, refused unless they lie in its tree (not the installed ones)."""
        found = self.python("-c", WHICH_CODE).stdout.split()
        self.code = dict(zip(("gradcheck_suite", "reference"), found))
        for package, file in self.code.items():
            if not Path(file).resolve().is_relative_to(self.tree.resolve()):
                raise SystemExit(f"{self.name}: {package} imported from {file}, not from {self.tree}")

    def measure_once(self, args, out: Path) -> dict:
        """One repeat of every stream by this side's own throughput.py, in a fresh process."""
        if not (self.tree / SCRIPT).is_file():
            raise SystemExit(f"{self.name} ({self.label}) has no {SCRIPT}")
        quick = ["--quick"] if args.quick else []
        self.python(str(SCRIPT), "--examples", str(args.examples), "--repeat", "1", "--json", str(out), *quick)
        self.runs.append(json.loads(out.read_text()))
        return self.runs[-1]

    def figures(self) -> dict:
        """Each stream's medians over the runs, summarised; the runs' own totals beside."""
        merged = median_streams([[Stream.from_dict(s) for s in run["streams"]] for run in self.runs])
        first, last = self.runs[0]["run"], self.runs[-1]["run"]
        settings = first.get("settings")  # recorded since the process settings were (older code: absent)
        return {
            "label": self.label, "tree": str(self.tree), "code": self.code,
            "total": {"streams": len(merged)} | summarise(merged),
            "streams": [asdict(s) for s in merged],
            "runs_cases_per_s": [run["total"]["cases_per_s"] for run in self.runs],
            "torch_version": first["torch_version"], "load_before": first["load_before"],
            "load_after": last["load_after"],
            "process": process.describe(settings) if settings else "process settings: not recorded by its code",
        }  # fmt: skip


def _malloc_env() -> dict[str, str]:
    """glibc's malloc thresholds at the ceilings ``tune_malloc`` sets, for any code's process (older
    code may set them on import or not at all); nothing where ``REFERENCE_TUNE_MALLOC=0``."""
    from reference.autograd.allocator import MMAP_THRESHOLD, TRIM_THRESHOLD

    if os.environ.get("REFERENCE_TUNE_MALLOC", "1") == "0":
        return {}
    tunables = f"glibc.malloc.mmap_threshold={MMAP_THRESHOLD}:glibc.malloc.trim_threshold={TRIM_THRESHOLD}"
    return {"GLIBC_TUNABLES": ":".join(filter(None, (os.environ.get("GLIBC_TUNABLES"), tunables)))}


def _git(*argv: str, stdout=subprocess.PIPE, text: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *argv], check=True, stdout=stdout, stderr=subprocess.PIPE, text=text)


def export(rev: str, into: Path) -> str:
    """The files of revision ``rev`` (committed ones, as ``git archive`` gives them) under ``into``; its commit."""
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", text=True).stdout.strip()
    except subprocess.CalledProcessError:
        raise SystemExit(f"--compare: {rev!r} is not a revision of {ROOT}") from None
    with tempfile.TemporaryFile(dir=into.parent) as archive:
        _git("archive", "--format=tar", commit, stdout=archive)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(into, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return commit


def _working_tree() -> str:
    """The working tree's label: its HEAD and how many files differ from it (untracked ones included)."""
    head = _git("rev-parse", "--short=12", "HEAD", text=True).stdout.strip()
    changed = len(_git("status", "--porcelain", text=True).stdout.splitlines())
    return f"working tree (HEAD {head}" + (f" + {changed} changed files)" if changed else ", unchanged)")


def compare(args) -> dict:
    """The code at ``args.compare`` and the working tree's, each side's repeats in its own
    processes, interleaved; the temporary tree removed afterwards (on Ctrl-C and SIGTERM too)."""
    main_thread = threading.current_thread() is threading.main_thread()  # where signal handlers can be set
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        with tempfile.TemporaryDirectory(prefix="throughput-compare-") as tmp:
            commit = export(args.compare, Path(tmp) / "baseline")
            sides = (Side("baseline", f"{args.compare} ({commit[:12]})", Path(tmp) / "baseline"),
                     Side("current", _working_tree(), ROOT))  # fmt: skip
            for side in sides:
                side.which_code()
                code = side.code["gradcheck_suite"]
                print(f"{side.name}: {side.label}, gradcheck_suite from {code}", file=sys.stderr)
            for r in range(args.repeat):
                for side in sides:
                    total = side.measure_once(args, Path(tmp) / f"{side.name}-{r}.json")["total"]
                    print(f"repeat {r + 1}/{args.repeat}: {side.name:<8} {total['cases_per_s']:.1f} cases/s",
                          file=sys.stderr, flush=True)  # fmt: skip
            baseline, current = (side.figures() for side in sides)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    return _comparison(args, commit, baseline, current)


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds: the temporary tree is removed


def _comparison(args, commit: str, baseline: dict, current: dict) -> dict:
    b, c = baseline["total"], current["total"]
    ratio = {key: c[key] / b[key] if b[key] else None for _, key, _ in COMPARED}
    same = [(s["op"], s["dtype"], s["cases"]) for s in baseline["streams"]] == [
        (s["op"], s["dtype"], s["cases"]) for s in current["streams"]
    ]
    return {
        "run": {"compare": args.compare, "commit": commit, "examples": args.examples, "repeat": args.repeat,
                "quick": args.quick, "seed": SEED, "cpu_count": os.cpu_count(), "interleaved": True,
                "malloc_env": _malloc_env()},
        "baseline": baseline, "current": current, "ratio": ratio,
        "same_case_counts": same, "same_check_counts": same and b["checks"] == c["checks"],
        "targets": {"overhead_below_30_pct": c["overhead_pct"] < 30,
                    "cases_per_s_at_least_2x": ratio["cases_per_s"] >= 2},
        # what the current side could reach if its framework cost nothing (its engine and torch calls alone)
        "bound_at_zero_overhead": c["bare_cases_per_s"] / b["cases_per_s"] if c.get("bare_cases_per_s") else None,
        # ... and with a checker that costs nothing, but cases generated as they are
        "bound_with_generation": (
            c["generated_cases_per_s"] / b["cases_per_s"] if c.get("generated_cases_per_s") else None
        ),
    }  # fmt: skip


def print_comparison(figures: dict) -> None:
    run, b, c, ratio = figures["run"], figures["baseline"], figures["current"], figures["ratio"]
    head = f"baseline {run['compare']}"
    print(f"{'':<16} {head:>20} {'current':>20} {'current/baseline':>17}")
    for label, key, fmt in COMPARED:
        r = ratio[key]
        print(f"{label:<16} {b['total'][key]:>20{fmt}} {c['total'][key]:>20{fmt}} {f'{r:.2f}x' if r else '-':>17}")
    for label, key in COUNTED:
        print(f"{label:<16} {b['total'][key]:>20} {c['total'][key]:>20}")
    for name, side in (("baseline", b), ("current", c)):
        runs = ", ".join(f"{x:.1f}" for x in side["runs_cases_per_s"])
        print(f"\n{name}: {side['label']}, gradcheck_suite from "
              f"{side['code']['gradcheck_suite']}; torch {side['torch_version']}; cases/s by repeat {runs}; "
              f"{side['process']}")  # fmt: skip
    counts = "the same" if figures["same_case_counts"] else "NOT the same"
    print(f"\n{b['total']['streams']} and {c['total']['streams']} streams, {run['examples']} examples per stream, seed "
          f"{run['seed']}, medians of {run['repeat']} repeats per stream, the two sides' repeats interleaved, each in "
          f"a fresh process; load average {b['load_before']} -> {c['load_after']} on {run['cpu_count']} CPUs; "
          f"both sides with {_describe_env(run['malloc_env'])}")  # fmt: skip
    print(
        f"case counts per stream: {counts} on both sides (checks {b['total']['checks']} and {c['total']['checks']}); "
        "the seed fixes each side's own cases: if the case generation changed between the two, equal counts need "
        "not mean equal cases"
    )
    bound = figures["bound_at_zero_overhead"]
    if bound:
        print(f"bound: with no framework cost at all, the current side's engine and torch calls alone would give "
              f"{bound:.2f}x the baseline's cases/s ({c['total']['bare_cases_per_s']:.1f} cases/s); with a checker "
              f"that cost nothing but the cases generated as they are, {figures['bound_with_generation']:.2f}x "
              f"({c['total']['generated_cases_per_s']:.1f} cases/s)")  # fmt: skip
    t = figures["targets"]
    print(f"targets: overhead < 30%: {'yes' if t['overhead_below_30_pct'] else 'no'} "
          f"({c['total']['overhead_pct']:.1f}%); cases/s >= 2x baseline: "
          f"{'yes' if t['cases_per_s_at_least_2x'] else 'no'} ({ratio['cases_per_s']:.2f}x)")  # fmt: skip


def _describe_env(env: dict) -> str:
    return f"GLIBC_TUNABLES={env['GLIBC_TUNABLES']}" if env else "malloc untouched by the environment"


if __name__ == "__main__":
    main()
