"""The reference engine's speed and memory against torch, measured in the same run.

- chain: 200 mixed elementwise ops (mul, add, tanh, sub, exp, div, ...) forward and
  backward, reported per op, on 10-element and 100,000-element float32 tensors;
- mlp: one SGD training step of a 784-256-10 MLP (relu, cross-entropy), batch 64;
- conv: one SGD step of a small conv net (two conv2d+relu+max_pool2d, linear,
  cross-entropy), batch 32, 1x28x28 inputs;
- memory: peak resident memory of a 1,000-op chain on 1M-element tensors, forward and
  backward, each engine in its own process (RSS above the process's baseline; the lower of
  two runs, as torch's peak varies from run to run between about 1.9 and 3.8 GB).

Both engines run single-threaded (torch.set_num_threads(1); NumPy's BLAS limited to one
thread before NumPy loads: on a loaded machine a multi-threaded OpenBLAS spins and makes a
0.2 ms product take 30 ms), in float32, on the same data. The two engines' repeats are
interleaved so that both see the same machine load and the same state of the C allocator
(glibc's malloc gives freed blocks back to the system until a large free raises its
thresholds: an engine measured first in a fresh process would pay page faults the other does
not). Importing ``reference`` leaves malloc alone, so this benchmark opts in: it raises those
thresholds at start (``reference.autograd.allocator.tune_malloc()``), in its own process and in
each memory subprocess, torch's included, and says so in its output and JSON (``malloc_tuned``;
nothing changes where malloc is not glibc's or ``REFERENCE_TUNE_MALLOC=0``). Usage:

    python benchmarks/engine_overhead.py [--repeat 30] [--skip-memory] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy loads its BLAS

import numpy as np  # noqa: E402

OPS_PER_CHAIN = 200
MEMORY_OPS, MEMORY_ELEMENTS = 1000, 1_000_000


def chain(ns, size: int) -> None:
    x = ns.ones(size, requires_grad=True)
    y = x
    for _ in range(OPS_PER_CHAIN // 8):  # 8 ops per round
        y = ((y * 1.0001 + 0.5).tanh() - 0.25) * 0.5
        y = ns.exp(y * -1.0) / 2.0
    y.sum().backward()


class MLP:
    """784-256-10 with relu and cross-entropy; weights shared by both engines."""

    def __init__(self, ns, rng: np.random.Generator) -> None:
        self.ns = ns
        self.params = [
            ns.from_numpy((rng.standard_normal((256, 784)) * 0.05).astype(np.float32)).requires_grad_(),
            ns.from_numpy(np.zeros(256, np.float32)).requires_grad_(),
            ns.from_numpy((rng.standard_normal((10, 256)) * 0.05).astype(np.float32)).requires_grad_(),
            ns.from_numpy(np.zeros(10, np.float32)).requires_grad_(),
        ]
        self.x = ns.from_numpy(rng.standard_normal((64, 784)).astype(np.float32))
        self.y = ns.from_numpy(rng.integers(0, 10, 64))

    def loss(self):
        F = self.ns.nn.functional  # noqa: N806 - torch's usual name
        w1, b1, w2, b2 = self.params
        return F.cross_entropy(F.linear(F.relu(F.linear(self.x, w1, b1)), w2, b2), self.y)

    def step(self, lr: float = 0.01) -> float:
        loss = self.loss()
        loss.backward()
        with self.ns.no_grad():
            for p in self.params:
                p -= lr * p.grad
                p.grad = None
        return loss.item()


class ConvNet(MLP):
    """conv(1->8, 3x3) relu pool2, conv(8->16, 3x3) relu pool2, linear(400->10)."""

    def __init__(self, ns, rng: np.random.Generator) -> None:
        self.ns = ns

        def param(*shape, scale=0.1):
            return ns.from_numpy((rng.standard_normal(shape) * scale).astype(np.float32)).requires_grad_()

        self.params = [param(8, 1, 3, 3), param(8), param(16, 8, 3, 3), param(16), param(10, 400), param(10)]
        self.x = ns.from_numpy(rng.standard_normal((32, 1, 28, 28)).astype(np.float32))
        self.y = ns.from_numpy(rng.integers(0, 10, 32))

    def loss(self):
        F = self.ns.nn.functional  # noqa: N806 - torch's usual name
        c1, b1, c2, b2, w, b = self.params
        h = F.max_pool2d(F.relu(F.conv2d(self.x, c1, b1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, c2, b2)), 2)
        return F.cross_entropy(F.linear(h.reshape(h.shape[0], -1), w, b), self.y)


def median_seconds(fns, repeat: int) -> list[float]:
    """The median time of each function, their repeats interleaved (same load for all)."""
    for fn in fns:
        fn()  # warm up (torch's first call is slow)
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def memory_child(engine: str) -> None:
    """Run in a subprocess: print the peak RSS growth (MiB) of a long chain, forward + backward."""
    ns = __import__(engine)
    if engine == "torch":
        ns.set_num_threads(1)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    x = ns.ones(MEMORY_ELEMENTS, requires_grad=True)
    y = x
    for _ in range(MEMORY_OPS // 2):
        y = (y * 1.0001).tanh()  # tanh saves its output: the chain holds MEMORY_OPS/2 arrays
    y.sum().backward()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((peak - baseline) / 1024)


def peak_memory_mib(engine: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", engine], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip-memory", action="store_true", help="skip the (slow, ~8 GB) memory benchmark")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from reference.autograd.allocator import tune_malloc

    tuned = tune_malloc()  # process-wide, as the figures assume (importing reference no longer does it)
    if args.memory_child:
        memory_child(args.memory_child)
        return

    import torch

    import reference

    torch.set_num_threads(1)
    rows = []
    for size in (10, 100_000):
        ref, tor = median_seconds([lambda ns=ns, n=size: chain(ns, n) for ns in (reference, torch)], args.repeat)
        per_op = 1e6 / OPS_PER_CHAIN
        rows.append(_row(f"chain, {size:,} elements, per op", ref * per_op, tor * per_op, "us"))
    for label, model in (("MLP step, 784-256-10, batch 64", MLP), ("conv net step, batch 32", ConvNet)):
        ref_model, tor_model = model(reference, np.random.default_rng(0)), model(torch, np.random.default_rng(0))
        ref, tor = median_seconds([ref_model.step, tor_model.step], args.repeat)
        rows.append(_row(label, ref * 1e3, tor * 1e3, "ms"))
    if not args.skip_memory:
        label = f"peak memory, {MEMORY_OPS:,}-op chain on {MEMORY_ELEMENTS:,} elements"
        ref, tor = (min(peak_memory_mib(engine) for _ in range(2)) for engine in ("reference", "torch"))
        rows.append(_row(label, ref, tor, "MiB"))

    print(f"{'benchmark':<52} {'reference':>12} {'torch':>12} {'ratio':>7}")
    for r in rows:
        unit = r["unit"]
        print(f"{r['benchmark']:<52} {r['reference']:>9.2f} {unit:<2} {r['torch']:>9.2f} {unit:<2} {r['ratio']:>6.2f}x")
    print(f"(median of {args.repeat} runs each, interleaved; torch {torch.__version__}, one thread each, float32)")
    where = "this process" + ("" if args.skip_memory else " and each memory subprocess")
    untouched = "malloc untouched: not glibc's, or REFERENCE_TUNE_MALLOC=0"
    print(f"glibc malloc thresholds raised (tune_malloc) in {where}" if tuned else untouched)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_version": torch.__version__, "malloc_tuned": tuned, "rows": rows}, f, indent=2)


def _row(label: str, ref: float, tor: float, unit: str) -> dict:
    return {"benchmark": label, "reference": ref, "torch": tor, "unit": unit, "ratio": ref / tor}


if __name__ == "__main__":
    main()
