"""False alarms: how often a checker rejects a correct function.

Every function of ``benchmarks/corpus.py`` is correct; each runs at several seeds in
float64 and float32 through

- ours: ``gradcheck_suite.gradcheck`` (reference engine, against torch.autograd and float64
  finite differences), and
- ``torch.autograd.gradcheck`` with its defaults, on the same function run on torch
  tensors, in the same dtype, as a user would call it (in float32 it warns that it will
  likely fail; the warning is recorded, not silenced away).

A rejection is a False, a raised GradcheckError, or any other error of the checker.
Usage (from the repository root):

    python3 benchmarks/false_alarms.py [--seeds 4] [--dtypes float64,float32] [--only a,b] [--out results.json|.csv]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import corpus
import results_file

DTYPES = ("float64", "float32")


def ours(entry: corpus.Entry, arrays: tuple[np.ndarray, ...], seed: int) -> dict:
    import gradcheck_suite

    fn, torch_fn = entry.callables()
    result = gradcheck_suite.gradcheck(fn, arrays, torch_fn=torch_fn, seed=seed, raise_exception=False,
                                       full_result=True)  # fmt: skip
    failed = result.failures[0] if result.failures else None
    return {
        "rejected": not result.ok,
        "verdicts": sorted({r.verdict for r in result.records}),
        "why": "" if failed is None else f"{failed.check} {failed.verdict}: {failed.detail}",
    }


def torch_gradcheck(entry: corpus.Entry, arrays: tuple[np.ndarray, ...]) -> dict:
    import torch

    tensors = tuple(torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ok, why = bool(torch.autograd.gradcheck(entry.callables()[1], tensors)), ""
        except Exception as exc:  # noqa: BLE001 - any failure of the checker is a rejection
            ok, why = False, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return {"rejected": not ok, "why": why, "warned": bool(caught)}


def run(names: list[str] | None, seeds: int, dtypes: list[str]) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    rows = []
    for entry in corpus.ENTRIES:
        if (names and entry.name not in names) or not entry.available():
            continue
        for dtype in dtypes:
            for seed in range(seeds):
                arrays = corpus.inputs(entry, seed, dtype)
                start = time.perf_counter()
                mine = ours(entry, arrays, seed)
                mid = time.perf_counter()
                theirs = torch_gradcheck(entry, arrays)
                end = time.perf_counter()
                rows.append({
                    "function": entry.name, "category": entry.category, "dtype": dtype, "seed": seed,
                    "elements": int(sum(a.size for a in arrays)),
                    "ours_rejects": mine["rejected"], "ours_verdicts": " ".join(mine["verdicts"]),
                    "ours_why": mine["why"], "ours_ms": round((mid - start) * 1e3, 1),
                    "torch_rejects": theirs["rejected"], "torch_why": theirs["why"],
                    "torch_warned": theirs["warned"], "torch_ms": round((end - mid) * 1e3, 1),
                })  # fmt: skip
    return rows


def summary(rows: list[dict], dtypes: list[str]) -> dict:
    out = {}
    for dtype in dtypes:
        sel = [r for r in rows if r["dtype"] == dtype]
        n = len(sel)
        out[dtype] = {
            "runs": n,
            "functions": len({r["function"] for r in sel}),
            "ours_rejects": sum(r["ours_rejects"] for r in sel),
            "torch_rejects": sum(r["torch_rejects"] for r in sel),
        }
    return out


def print_table(rows: list[dict], dtypes: list[str], seeds: int) -> None:
    names = list(dict.fromkeys(r["function"] for r in rows))
    cols = [f"{who} {dt[5:]}" for dt in dtypes for who in ("ours", "torch")]
    print(f"rejections out of {seeds} seeds per function (a correct function: every rejection is a false alarm)")
    print(f"{'function':<28} {'category':<16} " + " ".join(f"{c:>9}" for c in cols))
    for name in names:
        sel = [r for r in rows if r["function"] == name]
        cells = []
        for dt in dtypes:
            here = [r for r in sel if r["dtype"] == dt]
            cells += [sum(r["ours_rejects"] for r in here), sum(r["torch_rejects"] for r in here)]
        print(f"{name:<28} {sel[0]['category']:<16} " + " ".join(f"{c:>9}" for c in cells))
    print()
    for dt, s in summary(rows, dtypes).items():
        n = s["runs"]
        print(
            f"{dt}: {s['functions']} functions x {seeds} seeds = {n} runs; "
            f"ours rejects {s['ours_rejects']} ({100 * s['ours_rejects'] / n:.1f}%), "
            f"torch.autograd.gradcheck rejects {s['torch_rejects']} ({100 * s['torch_rejects'] / n:.1f}%)"
        )
    for r in rows:
        if r["ours_rejects"]:
            print(f"  ours rejected {r['function']} {r['dtype']} seed {r['seed']}: {r['ours_why'][:200]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="seeds per function and dtype (default 4)")
    parser.add_argument("--dtypes", default=",".join(DTYPES), help="comma list of float64, float32")
    parser.add_argument("--only", default="", help="comma list of corpus functions (default: all)")
    parser.add_argument("--out", default=None, help="write the rows to this .json (with metadata) or .csv file")
    args = parser.parse_args(argv)
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    unknown = [d for d in dtypes if d not in DTYPES]
    if unknown or args.seeds < 1:
        parser.error(f"--dtypes takes {', '.join(DTYPES)}; --seeds a positive int")
    names = [n.strip() for n in args.only.split(",") if n.strip()] or None
    known = {e.name for e in corpus.ENTRIES}
    if names and set(names) - known:
        parser.error(f"unknown corpus functions {sorted(set(names) - known)}; known: {', '.join(sorted(known))}")

    import torch

    from gradcheck_suite.oracles.torch_oracle import torch_settings

    start = time.perf_counter()
    rows = run(names, args.seeds, dtypes)
    print_table(rows, dtypes, args.seeds)
    meta = {"seeds": args.seeds, "dtypes": dtypes, "summary": summary(rows, dtypes), **torch_settings(),
            "numpy_version": np.__version__, "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    print(f"({meta['seconds']} s; torch {torch.__version__}, CPU, 1 thread)")
    if args.out:
        results_file.write(rows, {"meta": meta, "rows": rows}, args.out)
        print(f"rows written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
