"""Random autograd programs on the engine and torch in lockstep (gradcheck_suite.semantics)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from helpers import draws

import reference
from gradcheck_suite.catalogue import CATALOGUE, select
from gradcheck_suite.semantics import sources, steps
from gradcheck_suite.semantics.observe import Outcome, differences, snapshot
from gradcheck_suite.semantics.run import records, search
from gradcheck_suite.strategies import cases

SIMPLE_OPS = select(["add", "mul", "sub", "neg", "exp", "tanh", "sum", "mean"])


# -- catalogue ops as source ------------------------------------------------------------------


def test_expression_renders_catalogue_lambdas_with_literals():
    assert sources.expression(CATALOGUE["mul"], ["t0", "t1"], {}) == "t0 * t1"
    assert sources.expression(CATALOGUE["exp"], ["t3"], {}) == "torch.exp(t3)"
    assert sources.expression(CATALOGUE["pow"], ["t0"], {"exponent": 2}) == "t0 ** 2"
    assert sources.expression(CATALOGUE["nn.relu"], ["t0"], {}) == "torch.nn.functional.relu(t0)"
    assert sources.literal((float("inf"), [np.float64(0.5)])) == "(float('inf'), [0.5])"
    assert sources.literal(np.array([1, 2], dtype=np.int64)) == "np.array([1, 2], dtype=np.int64)"


@pytest.mark.parametrize(
    "name", [n for n, s in CATALOGUE.items() if "float64" in s.dtypes and not s.complex_output]
)  # the ops programs use: real dtypes, real outputs
def test_every_catalogue_op_renders_as_source_computing_what_fn_computes(name):
    """Program steps are source; rendered or called through the catalogue, an op must compute
    exactly what its fn computes."""
    spec = CATALOGUE[name]
    case = draws(cases(spec, "float64"), 1)[0]
    args = [f"t{i}" for i in range(spec.arity)]
    source = sources.expression(spec, args, case.kwargs)
    env = {"torch": torch, "np": np, **{a: torch.from_numpy(x.copy()) for a, x in zip(args, case.inputs)}}
    if "op(" in source:
        exec(sources.CATALOGUE_IMPORT, env)
    rendered = eval(source, env)
    direct = spec.call_torch(torch, *(torch.from_numpy(x.copy()) for x in case.inputs), **case.kwargs)
    np.testing.assert_array_equal(rendered.detach().numpy(), direct.detach().numpy())


def test_script_runs_unchanged_on_both_libraries():
    lines = ["t0 = torch.tensor([1.0, 2.0], requires_grad=True)", "t1 = (t0 * t0).sum()", "t1.backward()"]
    for module in (torch, reference):
        env = {}
        exec(sources.script(lines, "import reference as torch" if module is reference else "import torch"), env)
        assert env["t0"].grad.tolist() == [2.0, 4.0]


# -- observing and comparing states ---------------------------------------------------------------


def test_snapshot_differences_name_the_tensor_and_attribute():
    def state(module, flag):
        t = module.tensor([1.0, 2.0], requires_grad=flag)
        return snapshot({"t0": t, "t1": t * 2}, module.Tensor, True)

    assert differences(state(reference, True), state(torch, True)) == []
    diff = differences(state(reference, True), state(torch, False))
    assert any(d.startswith("t0.requires_grad") for d in diff)
    assert any(d.startswith("t1.grad_fn") for d in diff)


def test_outcome_normalises_addresses_and_torch_source_locations():
    a = Outcome.of(RuntimeError("node <Foo at 0x7f00aa> failed (Triggered internally at /x/y.h:3.)"))
    b = Outcome.of(RuntimeError("node <Foo at 0x1234> failed"))
    assert a == b
    assert Outcome.of(None) != b


# -- programs ---------------------------------------------------------------------------------------


def test_generator_exercises_every_step_kind():
    """torch against itself never diverges, so this budget shows what programs are made of."""
    result = search(torch, torch, select(None), seed=3, programs=60, shrink=False)
    assert result.divergence is None
    assert set(result.kinds) == set(steps.STEP_KINDS), set(steps.STEP_KINDS) - set(result.kinds)


def test_unknown_step_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown step kinds"):
        search(torch, torch, SIMPLE_OPS, seed=0, programs=1, kinds=["leaf", "teleport"])


def test_a_divergence_becomes_a_failing_record_with_a_runnable_script(monkeypatch):
    monkeypatch.setattr(reference.autograd.engine, "_accumulate", _overwrite_grad)
    result = search(reference, torch, SIMPLE_OPS, seed=0, programs=60, kinds=["leaf", "op", "backward"])
    (rec,) = records(result, run_id="r", engine_name="reference", seed=0, programs=60)
    assert rec.check == "semantics" and rec.verdict == "semantics-mismatch" and rec.failed
    assert rec.inputs.startswith("import numpy as np\nimport reference as torch")
    env = {}
    exec(rec.inputs.replace("import reference as torch", "import torch"), env)


def test_a_clean_stream_is_one_passing_record():
    result = search(reference, torch, SIMPLE_OPS, seed=0, programs=20, kinds=["leaf", "op", "backward"])
    (rec,) = records(result, run_id="r", engine_name="reference", seed=0, programs=20)
    assert rec.verdict == "pass", rec.detail
    assert result.programs >= 20 and f"{result.programs} programs" in rec.detail


# -- planted semantic bugs are caught and shrink to a few lines -----------------------------------------


def _overwrite_grad(leaf, g):
    """Planted: .grad is replaced by each backward instead of accumulated."""
    leaf._grad = reference.Tensor._make(np.array(g, dtype=leaf._data.dtype, copy=True))


def _overwrite_buffer(buffers, node, nr, g):
    """Planted: a tensor used twice in one graph keeps only the last gradient."""
    buf = buffers.setdefault(node, [None] * reference.autograd.engine._num_outputs(node))
    buf[nr] = g


def _plant_graph_kept(monkeypatch):
    monkeypatch.setattr(reference.autograd.graph.Node, "_release", lambda self: None)


def _plant_no_grad_ignored(monkeypatch):
    monkeypatch.setattr(reference.autograd.function, "is_grad_enabled", lambda: True)


def _plant_detach_keeps_graph(monkeypatch):
    monkeypatch.setattr(
        reference.Tensor, "detach", lambda self: reference.Tensor._make(self._data, self.grad_fn, self._output_nr)
    )


def _plant_nonscalar_backward_sums(monkeypatch):
    original = reference.autograd.engine._initial_grads

    def ones_for_missing(outputs, grads, create_graph):
        grads = tuple(grads) + (None,) * (len(outputs) - len(grads))
        filled = tuple(reference.ones_like(o) if g is None else g for o, g in zip(outputs, grads))
        return original(outputs, filled, create_graph)

    monkeypatch.setattr(reference.autograd.engine, "_initial_grads", ones_for_missing)


def _plant_hook_result_ignored(monkeypatch):
    hooks = reference.autograd.hooks.NodeHooks
    original = hooks.run

    def run_ignoring_results(self, grads, create_graph):
        kept = self.tensor
        self.tensor = {nr: {k: _called_for_effect(f) for k, f in table.items()} for nr, table in kept.items()}
        try:
            return original(self, grads, create_graph)
        finally:
            self.tensor = kept

    monkeypatch.setattr(hooks, "run", run_ignoring_results)


def _called_for_effect(hook):
    return lambda g: (hook(g), None)[1]


PLANTED = {
    "grad overwritten across backward calls": (
        lambda mp: mp.setattr(reference.autograd.engine, "_accumulate", _overwrite_grad),
        ["leaf", "op", "backward"],
    ),
    "reused tensor's gradient overwritten": (
        lambda mp: mp.setattr(reference.autograd.engine, "_add", _overwrite_buffer),
        ["leaf", "op", "backward"],
    ),
    "graph not freed after backward": (_plant_graph_kept, ["leaf", "op", "backward"]),
    "no_grad not respected": (_plant_no_grad_ignored, ["leaf", "op", "grad-mode"]),
    "detach shares the graph": (_plant_detach_keeps_graph, ["leaf", "op", "detach", "backward"]),
    "non-scalar backward sums silently": (_plant_nonscalar_backward_sums, ["leaf", "op", "backward"]),
    "a hook's return value ignored": (_plant_hook_result_ignored, ["leaf", "op", "hook", "backward"]),
}


@functools.cache
def _clean_run(kinds: tuple[str, ...]):
    """The unplanted engine on the same budget: must pass, so what the planted run finds is the bug."""
    return search(reference, torch, SIMPLE_OPS, seed=1, programs=150, kinds=kinds)


@pytest.mark.parametrize("bug", list(PLANTED))
def test_planted_semantic_bug_is_caught_and_shrinks_to_a_few_lines(bug, monkeypatch):
    plant, kinds = PLANTED[bug]
    clean = _clean_run(tuple(kinds))
    assert clean.divergence is None, clean.divergence and clean.divergence.describe()
    plant(monkeypatch)
    found = search(reference, torch, SIMPLE_OPS, seed=1, programs=150, kinds=kinds)
    assert found.divergence is not None, f"{bug} was not caught"
    assert len(found.divergence.lines) <= 4, found.divergence.describe()
