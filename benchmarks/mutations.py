"""Mutation benchmark: how many planted wrong gradients each checker catches.

Each mutant of ``benchmarks/mutants.py`` plants one wrong gradient in the reference engine
(a backward rule, the broadcast reduction or the gradient buffer). With the bug in place,
the mutant's function is checked, at several seeds, in float64, by

- ours: ``gradcheck_suite.gradcheck`` (the reference engine against torch.autograd and
  float64 finite differences), and
- ``torch.autograd.gradcheck`` with its defaults, on the SAME mutated engine: a
  ``torch.autograd.Function`` whose forward and backward call the reference engine on
  NumPy copies, so torch's finite differences test the engine's (mutated) gradient.

A mutant counts as caught when the checker rejects it at one seed or more. Controls: the
same functions without the bug, which both checkers must accept. Usage (repository root):

    python3 benchmarks/mutations.py [--seeds 3] [--only a,b] [--out results.json|.csv]
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mutants
import results_file


def inputs(mutant: mutants.Mutant, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng([seed, *mutant.name.encode()])
    return tuple(np.asarray(a, dtype=np.float64) for a in mutant.make(rng))


def ours_rejects(mutant: mutants.Mutant, arrays, seed: int) -> tuple[bool, bool, str]:
    """Whether gradcheck_suite.gradcheck rejects: by default, and with match_torch_at_kinks
    (a ``convention`` verdict at a kink fails too); and why."""
    import torch

    import gradcheck_suite
    import reference

    fn, torch_fn = functools.partial(mutant.fn, reference), functools.partial(mutant.fn, torch)
    result = gradcheck_suite.gradcheck(fn, arrays, torch_fn=torch_fn, seed=seed, raise_exception=False,
                                       full_result=True)  # fmt: skip
    strict = any(r.failed or r.verdict == "convention" for r in result.records)
    first = next((r for r in result.records if r.failed or r.verdict == "convention"), None)
    return (not result.ok), strict, ("" if first is None else f"{first.check} {first.verdict}: {first.detail}")


def engine_as_torch_function(fn):
    """A torch callable whose forward and backward run the reference engine (``fn`` on
    reference tensors) on NumPy copies: torch.autograd.gradcheck then checks the engine."""
    import torch

    import reference

    class Engine(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            ref_inputs = [reference.from_numpy(x.detach().numpy().copy()).requires_grad_(True) for x in xs]
            ref_out = fn(*ref_inputs)
            ctx.ref = (ref_inputs, ref_out)
            return torch.from_numpy(np.array(ref_out.detach().numpy(), copy=True))

        @staticmethod
        def backward(ctx, g):
            ref_inputs, ref_out = ctx.ref
            v = reference.from_numpy(np.array(g.detach().numpy(), copy=True))
            grads = reference.autograd.grad(ref_out, ref_inputs, grad_outputs=v, retain_graph=True, allow_unused=True)
            return tuple(
                torch.zeros(x.shape, dtype=torch.float64) if gr is None else torch.from_numpy(gr.numpy().copy())
                for gr, x in zip(grads, ref_inputs)
            )

    return lambda *xs: Engine.apply(*xs)


def torch_rejects(mutant: mutants.Mutant, arrays) -> tuple[bool, str]:
    import torch

    import reference

    wrapped = engine_as_torch_function(functools.partial(mutant.fn, reference))
    tensors = tuple(torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return not torch.autograd.gradcheck(wrapped, tensors), ""
        except Exception as exc:  # noqa: BLE001 - any failure of the checker is a rejection
            return True, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def effective(mutant: mutants.Mutant, arrays) -> bool:
    """Whether the planted bug changes the engine's gradient on these inputs at all."""
    import reference

    def vjp():
        ts = [reference.from_numpy(a.copy()).requires_grad_(True) for a in arrays]
        out = mutant.fn(reference, *ts)
        v = reference.from_numpy(np.random.default_rng(0).standard_normal(tuple(out.shape)))
        try:
            return [None if g is None else g.numpy() for g in reference.autograd.grad(out, ts, v, allow_unused=True)]
        except Exception as exc:  # noqa: BLE001 - a mutant may make backward raise: that is an effect
            return [type(exc).__name__]

    clean = vjp()
    with mutant.planted():
        planted = vjp()
    return any(not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b))
               for a, b in zip(clean, planted))  # fmt: skip


def run(selected: list[mutants.Mutant], seeds: int) -> tuple[list[dict], list[dict]]:
    rows, controls = [], []
    for m in selected:
        for seed in range(seeds):
            arrays = inputs(m, seed)
            control_ours, control_strict, why_ours = ours_rejects(m, arrays, seed)
            control_torch, why_torch = torch_rejects(m, arrays)
            controls.append({"mutant": m.name, "seed": seed, "ours_rejects": control_ours,
                             "ours_strict_rejects": control_strict, "ours_why": why_ours,
                             "torch_rejects": control_torch, "torch_why": why_torch})  # fmt: skip
            is_effective = effective(m, arrays)
            with m.planted():
                caught_ours, caught_strict, why_ours = ours_rejects(m, arrays, seed)
                caught_torch, why_torch = torch_rejects(m, arrays)
            rows.append({"mutant": m.name, "kind": m.kind, "seed": seed, "effective": is_effective,
                         "ours_catches": caught_ours, "ours_strict_catches": caught_strict, "ours_why": why_ours,
                         "torch_catches": caught_torch, "torch_why": why_torch})  # fmt: skip
    return rows, controls


def per_mutant(rows: list[dict]) -> list[dict]:
    out = []
    for name in dict.fromkeys(r["mutant"] for r in rows):
        sel = [r for r in rows if r["mutant"] == name]
        out.append({
            "mutant": name, "kind": sel[0]["kind"], "seeds": len(sel),
            "effective": any(r["effective"] for r in sel),
            "ours": sum(r["ours_catches"] for r in sel), "strict": sum(r["ours_strict_catches"] for r in sel),
            "torch": sum(r["torch_catches"] for r in sel),
        })  # fmt: skip
    return out


def print_report(rows: list[dict], controls: list[dict], seeds: int) -> dict:
    table = per_mutant(rows)
    print(f"seeds (of {seeds}) at which each checker rejects the mutated engine; float64")
    print("ours: gradcheck_suite.gradcheck; strict: the same with match_torch_at_kinks=True")
    print(f"{'mutant':<34} {'kind':<13} {'ours':>5} {'strict':>6} {'torch':>6}")
    for t in table:
        flag = "" if t["effective"] else "  (no effect on these inputs)"
        print(f"{t['mutant']:<34} {t['kind']:<13} {t['ours']:>5} {t['strict']:>6} {t['torch']:>6}{flag}")
    n = len(table)
    caught_ours = sum(t["ours"] > 0 for t in table)
    caught_torch = sum(t["torch"] > 0 for t in table)
    caught_strict = sum(t["strict"] > 0 for t in table)
    trials = len(rows)
    trials_ours = sum(r["ours_catches"] for r in rows)
    trials_torch = sum(r["torch_catches"] for r in rows)
    false_ours = sum(c["ours_rejects"] for c in controls)
    false_strict = sum(c["ours_strict_rejects"] for c in controls)
    false_torch = sum(c["torch_rejects"] for c in controls)
    print()
    print(f"mutants caught (at one seed or more): ours {caught_ours}/{n} ({100 * caught_ours / n:.1f}%), "
          f"ours strict {caught_strict}/{n} ({100 * caught_strict / n:.1f}%), "
          f"torch.autograd.gradcheck {caught_torch}/{n} ({100 * caught_torch / n:.1f}%)")  # fmt: skip
    print(f"(mutant, seed) trials caught: ours {trials_ours}/{trials} ({100 * trials_ours / trials:.1f}%), "
          f"torch.autograd.gradcheck {trials_torch}/{trials} ({100 * trials_torch / trials:.1f}%)")  # fmt: skip
    print(f"controls (same functions, no bug) rejected: ours {false_ours}/{len(controls)}, "
          f"ours strict {false_strict}/{len(controls)}, "
          f"torch.autograd.gradcheck {false_torch}/{len(controls)}")  # fmt: skip
    for t in table:
        if t["ours"] == 0:
            why = next(r["ours_why"] for r in rows if r["mutant"] == t["mutant"])
            print(f"  ours missed {t['mutant']} {why[:160]}")
    for c in controls:
        if c["ours_rejects"]:
            print(f"  ours rejected the clean {c['mutant']} seed {c['seed']}: {c['ours_why'][:160]}")
    return {"mutants": n, "ours_caught": caught_ours, "ours_strict_caught": caught_strict,
            "torch_caught": caught_torch, "ours_strict_control_rejects": false_strict, "trials": trials,
            "ours_trials": trials_ours, "torch_trials": trials_torch, "controls": len(controls),
            "ours_control_rejects": false_ours, "torch_control_rejects": false_torch}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per mutant (default 3)")
    parser.add_argument("--only", default="", help="comma list of mutants (default: all available)")
    parser.add_argument("--out", default=None, help="write the rows to this .json (with metadata) or .csv file")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds takes a positive int")
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    known = {m.name for m in mutants.MUTANTS}
    if set(names) - known:
        parser.error(f"unknown mutants {sorted(set(names) - known)}; known: {', '.join(sorted(known))}")
    selected = [m for m in mutants.MUTANTS if (not names or m.name in names) and m.available()]
    missing = [m.name for m in mutants.MUTANTS if not m.available()]

    import torch

    from gradcheck_suite.oracles.torch_oracle import torch_settings

    torch.set_num_threads(1)
    start = time.perf_counter()
    rows, controls = run(selected, args.seeds)
    summary = print_report(rows, controls, args.seeds)
    if missing:
        print(f"skipped (their target is not in this engine): {', '.join(missing)}")
    meta = {"seeds": args.seeds, "summary": summary, "skipped": missing, **torch_settings(),
            "numpy_version": np.__version__, "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    print(f"({meta['seconds']} s; torch {torch.__version__}, CPU, 1 thread)")
    if args.out:
        results_file.write(rows, {"meta": meta, "rows": rows, "controls": controls}, args.out)
        print(f"rows written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
