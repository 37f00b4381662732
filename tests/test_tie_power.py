"""Ties are drawn often enough to find a wrong gradient there at the default budget.

An engine that gave no gradient to either side of a tie of maximum(a, b) passed 25 examples
per dtype and failed only at 80. Here such bugs are planted in the reference engine, and the
runner's default stream of 25 cases must find them in every dtype and seed; and the strategy
alone must tie in at least 0.168 of the cases, the rate at which 25 cases tie at least once
with probability 0.99.

Not every wrong value at a tie is a finding: where it equals a one-sided derivative the
judge calls it a ``convention`` (the engine picked another valid subgradient). So it is for
clamp's x at a Python bound given 0 (the derivative from outside), for max(dim), whose torch
gives one index the whole gradient (an engine giving 0 differs from torch at that element
alone, and 0 is its derivative from below), and for maximum's whole gradient to one side.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import draws

from gradcheck_suite import runner
from gradcheck_suite.catalogue import CATALOGUE
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.engines import get_engine
from gradcheck_suite.engines.mirror import MirrorEngine
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.strategies import cases

DEFAULT_EXAMPLES = 25
NEEDED_RATE = 1 - 0.01 ** (1 / DEFAULT_EXAMPLES)  # 0.168: 1 - (1 - q)^25 >= 0.99
ACROSS_INPUTS = ("maximum", "minimum", "clamp_tensor")  # ties of elements of different inputs


def _summed_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """A gradient in the broadcast shape summed back to an input's shape."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


class WrongAtTies(MirrorEngine):
    """The reference engine, except that the VJP of ``op`` at an exact tie (or clamp's x at
    a bound) gives every tied element 0 (``form`` "none") or the tie's whole gradient
    ("both"), where torch splits it or gives it to one side."""

    def __init__(self, op: str, form: str = "none") -> None:
        base = get_engine("reference")
        super().__init__(f"{form}-at-ties-{op}", base.module, base._call, base.version)
        self.op, self.form = op, form
        self._case = None

    def forward(self, op, arrays, kwargs):
        self._case = (op, [np.asarray(a) for a in arrays], kwargs)
        return super().forward(op, arrays, kwargs)

    def vjp(self, inputs, output, cotangent):
        grads = super().vjp(inputs, output, cotangent)
        op, arrays, kwargs = self._case
        if op.name != self.op:
            return grads
        change = self.change(op, arrays, kwargs, np.asarray(cotangent, np.float64))
        return [(g + d).astype(g.dtype) for g, d in zip(grads, change)]

    def _weights(self, op, arrays, kwargs) -> tuple[list[np.ndarray], np.ndarray]:
        """The reference's VJP for a cotangent of ones (each element's weight) and the output."""
        ins, out = super().forward(op, arrays, kwargs)
        value = self.to_numpy(out)
        return [np.asarray(w, np.float64) for w in super().vjp(ins, out, np.ones(value.shape))], value

    def _rewritten(self, w: np.ndarray, tied: np.ndarray, total: np.ndarray) -> np.ndarray:
        """The planted weights minus the reference's, at the tied elements."""
        return ((0.0 if self.form == "none" else total) - w) * tied

    def change(self, op, arrays, kwargs, v: np.ndarray) -> list[np.ndarray]:
        """What the planted bug adds to each input's gradient (zero where nothing ties)."""
        if op.name in ACROSS_INPUTS:
            full = np.broadcast_shapes(*(a.shape for a in arrays))
            wide = [np.array(np.broadcast_to(a, full), copy=True) for a in arrays]
            weights, out = self._weights(op, wide, kwargs)
            sides = np.stack([x == out for x in wide])
            tied = sides & (sides.sum(axis=0) >= 2)
            total = sum(w * t for w, t in zip(weights, tied))
            return [_summed_to(self._rewritten(w, t, total) * v, a.shape) for w, t, a in zip(weights, tied, arrays)]
        (x,) = arrays
        (w,), _ = self._weights(op, arrays, kwargs)
        if op.name == "clamp":
            bounds = [b for b in (kwargs["min"], kwargs["max"]) if b is not None]
            return [self._rewritten(w, np.isin(x, np.array(bounds, x.dtype)), w) * v]
        y = x + kwargs["ladder"].astype(x.dtype)  # max and max_dim reduce a + ladder
        dim = kwargs.get("dim")
        axis = None if dim is None or x.ndim == 0 else dim
        top = y == y.max(axis=axis, keepdims=True)
        tied = top & (top.sum(axis=axis, keepdims=True) >= 2)
        total = (w * tied).sum(axis=axis, keepdims=True)
        upstream = v if axis is None or kwargs.get("keepdim") else np.expand_dims(v, axis)
        return [self._rewritten(w, tied, total) * upstream]


class UntilCaught:
    """A CaseChecker that stops checking once a case has failed (the stream is caught)."""

    def __init__(self, checker: CaseChecker) -> None:
        self.checker, self.caught = checker, False

    def check(self, case, ids):
        if self.caught:
            return []
        records = self.checker.check(case, ids)
        self.caught = any(r.failed and r.verdict != "shared-bug" for r in records)  # the engine alone is wrong
        return records


@pytest.fixture(scope="module")
def oracle():
    return torch_oracle()


# (op, planted form): clamp_tensor's torch gives x the whole gradient at x == min, so an
# engine giving none is at a one-sided derivative (a convention); giving both is a bug.
PLANTED = {"maximum": "none", "minimum": "none", "max": "none", "clamp_tensor": "both"}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", list(PLANTED))
def test_every_default_stream_finds_a_wrong_gradient_at_ties(op, dtype, oracle):
    checker = CaseChecker(WrongAtTies(op, PLANTED[op]), oracle, checks=("vjp-torch", "vjp-fd"))
    for seed in (0, 1, 2):
        stream = UntilCaught(checker)
        runner.run_stream(
            CATALOGUE[op], dtype, stream, seed=seed, examples=DEFAULT_EXAMPLES, run_id="ties", sink=lambda r: None
        )
        assert stream.caught, f"seed {seed}: 25 {dtype} cases of {op} never caught {PLANTED[op]!r} at a tie"


def test_the_planted_bugs_change_the_tied_elements_alone():
    """Against torch's own values: maximum splits a tie's gradient evenly, and the planted
    engine takes it away (or gives it whole to both) there and nowhere else."""
    import torch

    a, b, v = np.array([1.0, 2.0, -0.5]), np.array([1.0, 3.0, -0.5]), np.array([0.7, -1.1, 2.0])
    ta, tb = (torch.tensor(x, requires_grad=True) for x in (a, b))
    torch.maximum(ta, tb).backward(torch.tensor(v))
    assert ta.grad.tolist() == [0.35, 0.0, 1.0] and tb.grad.tolist() == [0.35, -1.1, 1.0]
    op = CATALOGUE["maximum"]
    none = WrongAtTies("maximum", "none").change(op, [a, b], {}, v)
    both = WrongAtTies("maximum", "both").change(op, [a, b], {}, v)
    assert [g.tolist() for g in none] == [[-0.35, 0.0, -1.0]] * 2
    assert [g.tolist() for g in both] == [[0.35, 0.0, 1.0]] * 2


@pytest.mark.parametrize("op", ["maximum", "minimum", "max", "max_dim", "clamp", "clamp_tensor"])
def test_the_strategy_ties_in_enough_cases(op, oracle):
    """The share of drawn cases where a tie reaches the output with a nonzero cotangent (the
    planted bug changes the VJP) is at least NEEDED_RATE, in float32 and float64."""
    engine = WrongAtTies(op)
    for dtype in ("float32", "float64"):
        drawn = draws(cases(CATALOGUE[op], dtype), 100)
        tied = 0
        for case in drawn:
            out = oracle.evaluate(case.op, case.inputs, case.kwargs)
            change = engine.change(case.op, list(case.inputs), case.kwargs, case.cotangent(np.shape(out)))
            tied += any(np.any(d != 0) for d in change)
        assert tied / len(drawn) >= NEEDED_RATE, f"{op} {dtype}: {tied} of {len(drawn)} cases tie"
