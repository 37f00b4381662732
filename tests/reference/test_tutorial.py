"""The PyTorch autograd tutorial (examples/autograd_tutorial.py) prints on the reference
engine exactly what it prints on torch, step for step, from the same random inputs."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import torch

import reference

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "autograd_tutorial.py"
ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


def _run(source: str, module, monkeypatch, draws: list) -> tuple[list[str], dict]:
    """Run the script with ``randn`` recording (reference) or replaying (torch) its draws."""
    real_randn = module.randn
    replay = list(draws)

    def randn(*size, requires_grad=False, **kwargs):
        if module is reference:
            t = real_randn(*size, requires_grad=requires_grad, **kwargs)
            draws.append(t.detach().numpy().copy())
            return t
        return torch.tensor(replay.pop(0), requires_grad=requires_grad)

    monkeypatch.setattr(module, "randn", randn)
    out = io.StringIO()
    namespace: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(SCRIPT), "exec"), namespace)  # running the example is the test
    return [ADDRESS.sub(" at 0x...>", line) for line in out.getvalue().splitlines()], namespace


@pytest.fixture
def runs(monkeypatch):
    source = SCRIPT.read_text()
    assert source.count("import reference as torch") == 1, (
        "the example must differ from the tutorial only in its import"
    )
    draws: list = []
    ref_lines, ref_ns = _run(source, reference, monkeypatch, draws)
    torch_source = source.replace("import reference as torch", "import torch")
    torch_lines, torch_ns = _run(torch_source, torch, monkeypatch, draws)
    return ref_lines, ref_ns, torch_lines, torch_ns, draws


def test_tutorial_prints_what_torch_prints(runs):
    ref_lines, _, torch_lines, _, draws = runs
    assert len(draws) == 2, "the tutorial draws two random tensors"
    assert len(torch_lines) >= 20
    for i, (got, want) in enumerate(zip(ref_lines, torch_lines)):
        assert got == want, f"line {i + 1} differs:\n reference: {got}\n     torch: {want}"
    assert len(ref_lines) == len(torch_lines)


def test_tutorial_values_flags_and_nodes_match(runs, same):
    _, ref_ns, _, torch_ns, _ = runs
    for name in ("x", "y", "z", "out", "a", "b", "v"):
        same(ref_ns[name], torch_ns[name])
    assert ref_ns["x"].grad is not None
    same(ref_ns["x"].grad, torch_ns["x"].grad)


def test_tutorial_known_figures(runs):
    """The figures the tutorial itself quotes."""
    ref_lines, *_ = runs
    assert "tensor([[4.5000, 4.5000]," in ref_lines
    assert "tensor(27., grad_fn=<MeanBackward0>)" in " ".join(ref_lines)
    assert "<AddBackward0 object at 0x...>" in ref_lines
    assert "<SumBackward0 object at 0x...>" in ref_lines
    assert ref_lines[-1] == "tensor(True)"
