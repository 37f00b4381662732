"""The JVP and HVP checks measure torch's rounding noise only where the budgets without it leave
an element in doubt (higher_order._settled). The noise only widens budgets, so skipping it
must change no verdict: the same streams run with the probe always taken give the same rows."""

from __future__ import annotations

import sys
from collections import Counter

import pytest

from gradcheck_suite import catalogue, runner
from gradcheck_suite.checking import higher_order
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.engines import get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle

# smooth ops (the probe is skipped) and kinked ones at ties (it is taken), in both precisions
OPS = ("tanh", "div", "logsumexp", "matmul", "nn.layer_norm", "maximum", "max_dim", "nn.relu")
EXAMPLES = 6


def _rows(checker: CaseChecker) -> list[tuple]:
    records: list = []
    for op in catalogue.select(OPS):
        for dtype in ("float32", "float64"):
            runner.run_stream(op, dtype, checker, seed=5, examples=EXAMPLES, run_id="lazy", sink=records.extend)
    return [(r.op, r.dtype, r.example, r.check, r.verdict, r.rule, r.max_abs_err, r.location) for r in records]


@pytest.fixture(scope="module")
def checker() -> CaseChecker:
    return CaseChecker(get_engine("reference"), torch_oracle())


def test_skipping_the_noise_probe_changes_no_verdict(checker, monkeypatch):
    settled = Counter()
    decide = higher_order._settled

    def counted(w):
        outcome = decide(w)
        settled[outcome] += 1
        return outcome

    monkeypatch.setattr(higher_order, "_settled", counted)
    lazy = _rows(checker)
    # both branches ran: most checks settle without the noise, the kinked cases need it
    assert settled[True] > settled[False] > 0, settled
    monkeypatch.setattr(higher_order, "_settled", lambda w: False)  # always measure (the old way)
    assert _rows(checker) == lazy


def test_a_settled_check_takes_no_noise_probe(checker, monkeypatch):
    calls = []
    measure = higher_order.NoiseProbe.measure

    def counted(self, *args):
        if sys._getframe(1).f_code.co_filename == higher_order.__file__:  # not the first-order probe (case.py)
            calls.append(1)
        return measure(self, *args)

    monkeypatch.setattr(higher_order.NoiseProbe, "measure", counted)
    (op,) = catalogue.select(["tanh"])
    records: list = []
    runner.run_stream(op, "float64", checker, seed=5, examples=EXAMPLES, run_id="lazy", sink=records.extend)
    checks = Counter(r.check for r in records if r.verdict == "pass")
    assert checks["jvp-fd"] == checks["hvp-fd"] == EXAMPLES
    assert calls == []
    monkeypatch.setattr(higher_order, "_settled", lambda w: False)
    runner.run_stream(op, "float64", checker, seed=5, examples=1, run_id="lazy", sink=records.extend)
    assert len(calls) == 2  # the counting sees the probe where it is taken: the JVP's and the HVP's
