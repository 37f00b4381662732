"""The ground truth of the torch corpus (benchmarks/torch_corpus.py and benchmarks/torch_mutants.py),
proved with torch autograd through each entry's reference, independently of any checker: every
correct custom backward equals the reference's vector-Jacobian product to rounding, and every
planted one differs from it by clearly more than rounding (by about its planted size)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import torch_corpus
import torch_corpus_functions
import torch_corpus_layers
import torch_mutants
from torch_corpus import CORRECT, differentiable, outputs
from torch_mutants import KINDS, RELATIVE_SIZES, WRONG

SEEDS = (0, 1, 2)
BASES = {e.name: e for e in CORRECT}
GRADCHECK_SLICE = ["softplus_beta", "sin_cos", "max_with_argmax", "broadcast_affine", "cross_entropy"]


def _vjp(fn, inputs: tuple, seed: int) -> tuple[tuple, list[torch.Tensor]]:
    """fn's outputs, and the gradients of sum(cotangent * output) over its differentiable outputs
    (random float64 cotangents, the same for every fn given the seed) for the inputs that require grad."""
    outs = outputs(fn(*inputs))
    diff = [o for o in outs if o.is_floating_point() and o.requires_grad]
    gen = torch.Generator().manual_seed(1000 + seed)
    cotangents = [torch.randn(o.shape, generator=gen, dtype=torch.float64).to(o.dtype) for o in diff]
    leaves = differentiable(inputs)
    grads = torch.autograd.grad(diff, leaves, cotangents, allow_unused=True)
    return outs, [torch.zeros_like(x) if g is None else g for g, x in zip(grads, leaves)]


def _scale(tensors) -> float:
    return max(float(t.detach().abs().max()) for t in tensors)


def _assert_forward_equal(outs: tuple, expected: tuple) -> None:
    assert len(outs) == len(expected)
    for out, ref in zip(outs, expected):
        assert out.shape == ref.shape and out.dtype == ref.dtype
        if not ref.is_floating_point():
            assert torch.equal(out, ref)
            continue
        scale = float(ref.detach().abs().max())
        assert float((out - ref).detach().abs().max()) <= 1e-12 * scale


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("entry", CORRECT, ids=lambda e: e.name)
def test_correct_backward_equals_reference(entry, seed):
    inputs = entry.make(seed, torch.float64)
    outs, grads = _vjp(entry.fn, inputs, seed)
    ref_outs, ref_grads = _vjp(entry.reference, inputs, seed)
    _assert_forward_equal(outs, ref_outs)
    for got, ref in zip(grads, ref_grads, strict=True):
        assert got.shape == ref.shape
        scale = float(ref.abs().max())
        assert scale > 0
        assert bool(((got - ref).abs() <= 1e-10 * ref.abs() + 1e-12 * scale).all()), float((got - ref).abs().max())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mutant", WRONG, ids=lambda m: m.name)
def test_wrong_backward_differs_from_reference(mutant, seed):
    inputs = mutant.make(seed, torch.float64)
    outs, grads = _vjp(mutant.fn, inputs, seed)
    base = BASES[mutant.base]
    ref_outs, ref_grads = _vjp(base.reference, inputs, seed)
    _assert_forward_equal(outs, ref_outs)
    scale = _scale(ref_grads)
    error = max(float((got - ref).abs().max()) for got, ref in zip(grads, ref_grads, strict=True))
    if mutant.relative is None:
        assert error > 1e-9 * scale
    else:
        assert error >= max(1e3 * 1e-16 * scale, 0.3 * mutant.relative * scale)
        assert error <= 1.01 * mutant.relative * scale  # about the planted size, not more


def _functions(module) -> list[type]:
    """The custom Function classes a module defines."""
    return [
        c
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, torch.autograd.Function) and c.__module__ == module.__name__
    ]


def test_names_are_unique_and_snake_case():
    names = [e.name for e in (*CORRECT, *WRONG)]
    assert len(names) == len(set(names))
    assert all(n.isidentifier() and n == n.lower() for n in names)


def test_counts_kinds_and_sizes():
    assert len(CORRECT) >= 32
    assert len(_functions(torch_corpus_functions) + _functions(torch_corpus_layers)) >= 32
    assert len(WRONG) >= 44
    assert {m.kind for m in WRONG} == set(KINDS)
    assert {m.relative for m in WRONG if m.kind == "scale"} == set(RELATIVE_SIZES)
    large = [e.name for e in CORRECT if sum(t.numel() for t in differentiable(e.make(0, torch.float64))) > 100]
    assert len(large) >= 6, large


def test_mutants_take_their_base_inputs_and_reference():
    for m in WRONG:
        base = BASES[m.base]
        assert m.make is base.make and m.reference is base.reference and m.category == base.category
        assert m.kind in KINDS
        assert (m.relative is not None) == (m.kind == "scale"), m.name


def test_headline_example():
    entry = BASES["softplus_beta"]
    (x,) = entry.make(0, torch.float64)
    assert x.shape == (4, 5) and x.requires_grad
    assert torch.equal(entry.fn(x), torch_corpus_functions.MySoftplus.apply(x, 2.0))
    assert any(m.base == "softplus_beta" and m.kind == "scale" and m.relative == 5e-2 for m in WRONG)


@pytest.mark.parametrize("entry", CORRECT, ids=lambda e: e.name)
def test_inputs_are_what_a_user_passes(entry):
    """Differentiable tensors in the dtype with requires_grad, the same numbers in float32 and
    float64, constants without requires_grad, and 1 to 4096 differentiable elements."""
    wide, narrow = entry.make(3, torch.float64), entry.make(3, torch.float32)
    assert len(wide) == len(narrow)
    for a, b in zip(wide, narrow):
        if isinstance(a, torch.Tensor) and a.requires_grad:
            assert a.dtype == torch.float64 and b.dtype == torch.float32 and b.requires_grad
            assert torch.equal(a.detach().to(torch.float32), b.detach())
        elif isinstance(a, torch.Tensor):
            assert not b.requires_grad and torch.equal(a.to(b.dtype), b)
        else:
            assert a == b
    assert 1 <= sum(t.numel() for t in differentiable(wide)) <= 4096
    again = entry.make(3, torch.float64)
    assert all(torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b for a, b in zip(wide, again))


@pytest.mark.parametrize("entry", [*CORRECT, *WRONG], ids=lambda e: e.name)
def test_runs_in_float32(entry):
    outs, grads = _vjp(entry.fn, entry.make(0, torch.float32), 0)
    assert all(bool(torch.isfinite(o).all()) for o in outs if o.is_floating_point())
    assert grads and all(g.dtype == torch.float32 and bool(torch.isfinite(g).all()) for g in grads)


@pytest.mark.parametrize("name", GRADCHECK_SLICE)
def test_torch_gradcheck_accepts_small_correct_entries(name):
    entry = BASES[name]
    assert torch.autograd.gradcheck(entry.fn, entry.make(0, torch.float64))


def test_unreduced_broadcast_gradient_is_not_a_bug_in_torch():
    """Why no "unbroadcast" mutant returns the gradient with the output's shape: torch's engine
    sum-reduces it to the input's shape, which is the right gradient."""

    class AddUnreduced(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # b's gradient left with a's (3, 4) shape

    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    cotangent = torch.randn(3, 4, dtype=torch.float64)
    (gb,) = torch.autograd.grad(AddUnreduced.apply(a, b), b, cotangent)
    assert torch.equal(gb, cotangent.sum(1, keepdim=True))


def test_by_name_finds_both_lists():
    assert torch_mutants.by_name("softplus_beta") is BASES["softplus_beta"]
    assert torch_mutants.by_name("softplus_beta_rel_5e_2").base == "softplus_beta"
    assert torch_corpus.TorchEntry in type(torch_mutants.by_name("cumsum_exclusive")).__mro__
