"""Cost of checking one case: gradcheck-suite's three-witness check against
torch.autograd.gradcheck (slow and fast mode) on the same op and inputs, float64.

gradcheck-suite's figure covers everything one case costs: engine forward and VJP,
torch forward and VJP, and finite differences with error estimates. Usage:

    python benchmarks/checker_cost.py [--repeat 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

# (op, input shapes, kwargs): a mixed set of small cases
CASES = [
    ("add", ((3, 4), (4,)), {}),
    ("mul", ((2, 3, 4), (3, 1)), {}),
    ("exp", ((4, 4),), {}),
    ("tanh", ((5, 3),), {}),
    ("sum", ((3, 4, 2),), {"dim": 1, "keepdim": False}),
    ("matmul", ((4, 3), (3, 5)), {}),
    ("matmul", ((2, 3, 4), (4, 2)), {}),
    ("reshape", ((2, 6),), {"shape": (3, 4)}),
]


def _timed(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3  # the least disturbed repeat: other processes only ever add time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import torch

    from gradcheck_suite import catalogue
    from gradcheck_suite.checking.case import CaseChecker, CaseIds
    from gradcheck_suite.engines import get_engine
    from gradcheck_suite.oracles.torch_oracle import torch_oracle
    from gradcheck_suite.strategies import Case

    torch.set_num_threads(1)
    checker = CaseChecker(get_engine("reference"), torch_oracle())
    rng = np.random.default_rng(0)
    rows = []
    for name, shapes, kwargs in CASES:
        op = catalogue.get(name)
        inputs = tuple(rng.uniform(0.5, 1.5, s) for s in shapes)
        case = Case(op=op, dtype="float64", inputs=inputs, kwargs=kwargs, cotangent_seed=1)
        ids = CaseIds(run_id="bench", seed=0, example=0)
        ours = _timed(lambda case=case, ids=ids: checker.check(case, ids), args.repeat)
        tensors = tuple(torch.tensor(x, requires_grad=True) for x in inputs)

        def fn(*ts, op=op, kwargs=kwargs):
            return op.call_torch(torch, *ts, **kwargs)

        slow = _timed(lambda fn=fn, t=tensors: torch.autograd.gradcheck(fn, t), args.repeat)
        fast = _timed(lambda fn=fn, t=tensors: torch.autograd.gradcheck(fn, t, fast_mode=True), args.repeat)
        size = sum(int(np.prod(s)) for s in shapes)
        rows.append({"op": name, "inputs": size, "ours_ms": ours, "gradcheck_ms": slow, "gradcheck_fast_ms": fast})

    header = f"{'op':<8} {'elements':>8} {'ours':>9} {'gradcheck':>10} {'fast mode':>10}"
    print(f"{header}   ms per case, minimum of {args.repeat} repeats")
    for r in rows:
        ours, slow, fast = r["ours_ms"], r["gradcheck_ms"], r["gradcheck_fast_ms"]
        print(f"{r['op']:<8} {r['inputs']:>8} {ours:>9.2f} {slow:>10.2f} {fast:>10.2f}")
    total = {k: sum(r[k] for r in rows) for k in ("ours_ms", "gradcheck_ms", "gradcheck_fast_ms")}
    ours, slow, fast = total["ours_ms"], total["gradcheck_ms"], total["gradcheck_fast_ms"]
    print(f"{'all':<8} {'':>8} {ours:>9.2f} {slow:>10.2f} {fast:>10.2f}", end="")
    print(f"   ours / gradcheck = {ours / slow:.2f}x, ours / fast mode = {ours / fast:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "rows": rows, "total": total}, f, indent=2)


if __name__ == "__main__":
    main()
