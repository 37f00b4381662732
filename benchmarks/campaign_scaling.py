"""Campaign throughput on this host: the built-in process pool against a Dask LocalCluster,
with 1 and 2 workers (docs/campaigns-on-a-cluster.md quotes it).

Each configuration is one ``gradcheck-suite fuzz`` run in a subprocess doing the same work: the
same seed, ops and dtypes, ``--examples`` cases per op and dtype in chunks of as many, stored
failures not re-checked, into a temporary folder that is removed afterwards. A time budget
would not do: a faster run reaches further into the streams, where the ops cost differently.
The figure is the run's cases over its whole wall time, start-up included (spawning workers,
importing torch, starting the cluster: a cost a campaign pays once). Repeats are interleaved
(pool 1, pool 2, local 1, local 2, pool 1, ...) so that drift in the machine's load spreads
over all of them; the table shows the median. ``client ms/case`` is the CPU time of the
campaign's own process per case (the journal, folding, progress and reports; with a
LocalCluster, Dask's scheduler too): on a cluster of many hosts it is the one process every
case passes through, so 1000 / that figure bounds the cases per second (start-up and the
reports are in it too, so the bound is a low one). Needs the
``[cluster]`` extra (Dask, and psutil with it).

    python benchmarks/campaign_scaling.py [--examples 10] [--repeat 2] [--ops OPS] [--json out.json]
    python benchmarks/campaign_scaling.py --marginal   # the client's CPU per case beyond its fixed costs

``--marginal`` runs 4 and 16 cases per op and dtype with 2 workers on each scheduler and
splits the client's CPU into a per-case part (the difference over the difference in cases) and
a fixed part (imports, start-up, reports).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = [("pool", 1), ("pool", 2), ("local", 1), ("local", 2)]


def one_run(scheduler: str, workers: int, examples: int, ops: str, folder: Path) -> dict:
    name = f"{scheduler}{workers}"
    command = [
        sys.executable, "-m", "gradcheck_suite", "fuzz", "--examples", str(examples), "--chunk", str(examples),
        "--workers", str(workers),
        "--seed", "0", "--no-retry", "--quiet", "--out", str(folder), "--name", name,
        "--dtypes", "float32,float64",  # the real dtypes, as the README figures were measured
    ]  # fmt: skip
    if ops:
        command += ["--ops", ops]
    if scheduler != "pool":
        command += ["--scheduler", scheduler]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        client_cpu = _own_cpu_until_exit(proc)
        wall = time.monotonic() - started
        log.seek(0)
        output = log.read()
    meta_file = folder / name / "meta.json"
    if not meta_file.is_file():
        raise SystemExit(f"{' '.join(command)} wrote no meta.json (exit {proc.returncode}):\n{output[-2000:]}")
    meta = json.loads(meta_file.read_text())
    return {"scheduler": scheduler, "workers": workers, "cases": meta["cases"], "wall_s": wall,
            "rate": meta["cases"] / wall, "client_cpu_s": client_cpu, "exit": proc.returncode}  # fmt: skip


def _own_cpu_until_exit(proc: subprocess.Popen) -> float:
    """The CPU seconds of the campaign's own process (its workers not counted: with a
    LocalCluster, Dask's scheduler runs in it too), sampled until it ends (psutil: a Dask
    dependency)."""
    import psutil

    handle, cpu = psutil.Process(proc.pid), 0.0
    while proc.poll() is None:
        try:
            times = handle.cpu_times()
            cpu = times.user + times.system
        except psutil.Error:  # it ended between poll and the sample
            break
        time.sleep(0.1)
    return cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", type=int, default=10, help="cases per op and dtype (default 10)")
    p.add_argument("--repeat", type=int, default=2, help="runs per configuration, interleaved (default 2)")
    p.add_argument("--ops", default="", help="ops or families fuzzed (default: all, as fuzz has it)")
    p.add_argument("--json", type=Path, default=None, help="also write every run's figures here")
    p.add_argument("--marginal", action="store_true", help="the client's CPU per case, from runs of 4 and 16 examples")
    args = p.parse_args(argv)
    if args.marginal:
        return marginal(args.ops)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="gradcheck-scaling-") as tmp:
        for r in range(args.repeat):
            for scheduler, workers in CONFIGS:
                run = one_run(scheduler, workers, args.examples, args.ops, Path(tmp) / f"r{r}")
                print(f"  {scheduler:5} {workers} worker(s), repeat {r + 1}: {run['cases']} cases, "
                      f"{run['wall_s']:.1f} s, {run['rate']:.1f} cases/s", flush=True)  # fmt: skip
                runs.append(run)
    print(f"\ncampaign throughput, {args.examples} cases per op and dtype (ops {args.ops or 'all'}, seed 0), "
          f"median of {args.repeat}:")  # fmt: skip
    print(f"{'scheduler':<22}{'workers':>8}{'wall s':>9}{'cases/s':>10}{'vs 1 worker':>13}{'client ms/case':>16}")
    base: dict[str, float] = {}
    for scheduler, workers in CONFIGS:
        mine = [r for r in runs if (r["scheduler"], r["workers"]) == (scheduler, workers)]
        rate = statistics.median(r["rate"] for r in mine)
        base.setdefault(scheduler, rate)
        label = "built-in pool" if scheduler == "pool" else "Dask LocalCluster"
        wall = statistics.median(r["wall_s"] for r in mine)
        client = statistics.median(1e3 * r["client_cpu_s"] / r["cases"] for r in mine)
        print(f"{label:<22}{workers:>8}{wall:>9.1f}{rate:>10.1f}{rate / base[scheduler]:>12.2f}x{client:>16.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


def marginal(ops: str, sizes: tuple[int, int] = (4, 16)) -> int:
    with tempfile.TemporaryDirectory(prefix="gradcheck-scaling-") as tmp:
        for scheduler in ("pool", "local"):
            small, large = (one_run(scheduler, 2, n, ops, Path(tmp) / f"{scheduler}{n}") for n in sizes)
            per_case = (large["client_cpu_s"] - small["client_cpu_s"]) / (large["cases"] - small["cases"])
            fixed = small["client_cpu_s"] - per_case * small["cases"]
            print(f"{scheduler:5} 2 workers: client CPU {1e3 * per_case:.2f} ms a case beyond {fixed:.1f} s fixed "
                  f"({small['cases']} and {large['cases']} cases)", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
