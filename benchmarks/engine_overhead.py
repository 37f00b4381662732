"""Per-op cost of the reference engine against torch, measured in the same run.

A chain of 200 mixed elementwise ops (mul, add, tanh, sub, exp, div, ...) runs
forward and backward; the time per op is the chain's time divided by 200. Both
engines run single-threaded. Usage:

    python benchmarks/engine_overhead.py [--repeat 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

OPS_PER_CHAIN = 200


def chain(ns, size: int) -> None:
    x = ns.ones(size, requires_grad=True)
    y = x
    for _ in range(OPS_PER_CHAIN // 8):  # 8 ops per round
        y = ((y * 1.0001 + 0.5).tanh() - 0.25) * 0.5
        y = ns.exp(y * -1.0) / 2.0
    y.sum().backward()


def per_op_us(ns, size: int, repeat: int) -> float:
    chain(ns, size)  # warm up (torch's first call is slow)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        chain(ns, size)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / OPS_PER_CHAIN * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    import torch

    import reference

    torch.set_num_threads(1)
    rows = []
    for size in (10, 100_000):
        ref = per_op_us(reference, size, args.repeat)
        tor = per_op_us(torch, size, args.repeat)
        rows.append({"elements": size, "reference_us_per_op": ref, "torch_us_per_op": tor, "ratio": ref / tor})
    print(
        f"{'elements':>9} {'reference':>12} {'torch':>12} {'ratio':>7}   (median of {args.repeat}, forward + backward)"
    )
    for r in rows:
        ref, tor = r["reference_us_per_op"], r["torch_us_per_op"]
        print(f"{r['elements']:>9} {ref:>9.2f} us {tor:>9.2f} us {r['ratio']:>6.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
