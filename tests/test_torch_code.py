"""gradcheck on people's own torch code: the drop-in for torch.autograd.gradcheck, its keyword
arguments, the checks torch makes on every call, gradgradcheck, check_module, the replay script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as nnf

import gradcheck_suite as gs

pytest_plugins = ["pytester"]


class MySoftplus(torch.autograd.Function):
    """The issue's example: softplus with beta, and a backward 5% too steep (``scale``)."""

    scale = 1.05

    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        ctx.beta = beta
        return nnf.softplus(x, beta)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.sigmoid(ctx.beta * x) * cls.scale, None


class RightSoftplus(MySoftplus):
    scale = 1.0


def x45(dtype=torch.float64, seed=0):
    return torch.randn(4, 5, dtype=dtype, generator=torch.Generator().manual_seed(seed)).requires_grad_()


def test_the_issues_example_fails_clearly_on_the_wrong_backward_and_passes_on_the_right_one():
    x = x45()
    assert gs.gradcheck(lambda x: RightSoftplus.apply(x, 2.0), (x,)) is True
    with pytest.raises(gs.GradcheckError) as info:
        gs.gradcheck(lambda x: MySoftplus.apply(x, 2.0), (x,))
    message = str(info.value)
    assert message.startswith("gradcheck failed: the gradient of input 0 at [")
    assert "(verdict engine-bug, check vjp-fd)" in message
    assert "computed " in message and "expected " in message and "error estimate " in message
    assert "witnesses: engine = torch | numerical" in message
    assert "torch's agreement is no evidence" in message
    assert "replay: python " in message
    result = info.value.result
    where = json.loads(result.failures[0].location)
    assert where["computed"] == pytest.approx(1.05 * where["expected"], rel=1e-6)  # the planted 5%
    assert result.settings["tf32_matmul"] is False and result.settings["device"] == "cpu"
    assert {r.witnesses for r in result.records} == {"engine = torch | numerical"}


@pytest.mark.parametrize("relative", [1e-5, 1e-6])
def test_torch_s_own_gradcheck_misses_what_the_drop_in_catches(relative):
    """A backward 1e-5 or 1e-6 off (the README's claim): inside torch.autograd.gradcheck's rtol=1e-3."""
    MySmall = type("MySmall", (MySoftplus,), {"scale": 1 + relative})
    for seed in range(3):
        x = x45(seed=seed)
        assert torch.autograd.gradcheck(lambda x: MySmall.apply(x, 2.0), (x,))
        assert not gs.gradcheck(lambda x: MySmall.apply(x, 2.0), (x,), raise_exception=False)


def test_constants_tuples_and_integer_outputs():
    w = torch.randn(5, dtype=torch.float64)  # a constant tensor: no requires_grad
    mask = torch.tensor([True, False, True, True, False])

    def fn(x, w, mask, scale):
        y = (x * w).masked_fill(~mask, 0.0) * scale
        return y.sin(), y.cos().sum(-1), y.argmax(-1)  # the integer output is not differentiated

    result = gs.gradcheck(fn, (x45(), w, mask, 3.0), full_result=True)
    assert result.ok, result.message()
    assert result.labels == ["input 0"] and len(result.shapes) == 1


def test_a_wrong_gradient_through_the_second_output_names_that_output():
    class SinCos(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs_, gc):
            (x,) = ctx.saved_tensors
            return gs_ * x.cos() - gc * x.sin() * 1.01

    x = torch.linspace(0.2, 1.4, 6, dtype=torch.float64).requires_grad_()
    result = gs.gradcheck(SinCos.apply, (x,), raise_exception=False, full_result=True)
    assert not result.ok
    assert "the Jacobian entry for output 1 at [" in result.message()


def test_only_inputs_that_require_grad_are_checked_and_named_by_position():
    class WrongSecond(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a * 1.001

    a = torch.randn(3, dtype=torch.float64)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    result = gs.gradcheck(WrongSecond.apply, (a, b), raise_exception=False, full_result=True)
    assert not result.ok
    assert result.labels == ["input 1"]
    assert "the gradient of input 1 at [" in result.message()


def test_a_non_reentrant_backward_is_nondeterministic_unless_nondet_tol_allows_it():
    calls = []

    class Jittery(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.exp()

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g * ctx.saved_tensors[0] * (1 + 1e-12 * len(calls)) if ctx.saved_tensors else g

    class JitteryExp(Jittery):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

    x = x45()
    result = gs.gradcheck(JitteryExp.apply, (x,), raise_exception=False, full_result=True)
    assert result.verdict == "nondeterministic"
    assert "two runs of the same code" in result.failures[0].rule
    assert gs.gradcheck(JitteryExp.apply, (x,), nondet_tol=1e-9)


def test_zero_grad_output_and_undefined_gradients():
    class Offset(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2 + 0.0 * g.sum() + (g != 0).any() * 0 + 1e-3  # not proportional to g

    result = gs.gradcheck(Offset.apply, (x45(),), raise_exception=False, full_result=True)
    checks = {r.check: r.verdict for r in result.records}
    assert checks["zero-grad"] == "engine-bug"

    class NoUndefined(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            if g is None:
                raise RuntimeError("no gradient")
            return g * 3

    ok = gs.gradcheck(NoUndefined.apply, (x45(),), full_result=True)
    assert {r.check: r.verdict for r in ok.records}["undefined-grad"] == "pass"
    skipped = gs.gradcheck(NoUndefined.apply, (x45(),), check_undefined_grad=False, full_result=True)
    assert "undefined-grad" not in {r.check for r in skipped.records}


def test_grad_dtypes_and_batched_gradients():
    x = x45()
    result = gs.gradcheck(torch.tanh, (x,), check_grad_dtypes=True, check_batched_grad=True, full_result=True)
    checks = {r.check: r.verdict for r in result.records}
    assert checks["grad-attributes"] == checks["batched-grad"] == "pass"
    assert gs.gradcheck(lambda x: RightSoftplus.apply(x, 2.0), (x,), check_batched_grad=True)

    class ScalarBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2 if g.abs().max().item() >= 0 else g  # .item(): vmap cannot batch this backward

    unbatched = gs.gradcheck(ScalarBackward.apply, (x,), check_batched_grad=True, full_result=True)
    assert unbatched.ok and {r.check: r.verdict for r in unbatched.records}["batched-grad"] == "unsupported"


def test_forward_mode_is_checked_on_request():
    class WrongJvp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.x = x
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            return g * ctx.saved_tensors[0].cos()

        @staticmethod
        def jvp(ctx, t):
            return t * ctx.x.cos() * 1.01

    x = x45()
    assert gs.gradcheck(WrongJvp.apply, (x,))  # backward only, as torch's default
    result = gs.gradcheck(WrongJvp.apply, (x,), check_forward_ad=True, raise_exception=False, full_result=True)
    assert {r.check: r.verdict for r in result.records}["jvp-fd"] == "engine-bug"
    forward_only = gs.gradcheck(torch.sin, (x,), check_forward_ad=True, check_backward_ad=False, full_result=True)
    assert forward_only.ok and not {"vjp-fd", "zero-grad"} & {r.check for r in forward_only.records}


def test_fast_mode_eps_atol_and_rtol():
    x = x45()
    fast = gs.gradcheck(torch.sin, (x,), fast_mode=True, full_result=True)
    assert "Rademacher probes" in next(r.reference for r in fast.records if r.check == "vjp-fd")
    Slightly = type("Slightly", (MySoftplus,), {"scale": 1 + 1e-4})
    assert not gs.gradcheck(lambda x: Slightly.apply(x, 2.0), (x,), raise_exception=False)
    assert gs.gradcheck(lambda x: Slightly.apply(x, 2.0), (x,), atol=1e-5, rtol=1e-3)  # the user's own allowance
    assert gs.gradcheck(torch.exp, (x,), eps=1e-4)  # torch's eps: a larger step, still Richardson-corrected
    with pytest.raises(ValueError, match="eps"):
        gs.gradcheck(torch.exp, (x,), eps=-1.0)


def test_float32_code_is_judged_with_float32_budgets():
    x = x45(torch.float32)
    assert gs.gradcheck(lambda x: RightSoftplus.apply(x, 2.0), (x,))
    assert not gs.gradcheck(lambda x: MySoftplus.apply(x, 2.0), (x,), raise_exception=False)


def test_caller_errors_are_said_before_any_work():
    x = x45()
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gs.gradcheck(torch.sin, (x.detach(),))
    bad = x.detach().clone()
    bad[1, 2] = float("nan")
    with pytest.raises(ValueError, match=r"input 0 has a non-finite value \(nan\) at \[1, 2\]"):
        gs.gradcheck(torch.sin, (bad.requires_grad_(),))
    with pytest.raises(TypeError, match="float32, float64, complex64 or complex128"):
        gs.gradcheck(torch.sin, (x.detach().half().requires_grad_(),))
    with pytest.raises(ValueError, match="engine functions"):
        gs.gradcheck(torch.sin, (x,), torch_fn=torch.sin)


def test_gradgradcheck_catches_a_wrong_double_backward():
    class WrongSecond(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x.detach()  # right value, half of its derivative in x is lost

    x = x45()
    assert gs.gradcheck(WrongSecond.apply, (x,))
    assert gs.gradgradcheck(lambda x: x**3, (x,))
    result = gs.gradgradcheck(WrongSecond.apply, (x,), raise_exception=False, full_result=True)
    assert not result.ok and result.labels == ["input 0", "grad_output 0"]


def test_check_module_names_parameters_and_leaves_the_module_alone():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(), torch.nn.Dropout(0.3), torch.nn.Linear(4, 2)
    ).double()
    net.train()
    stats = net[1].running_mean.clone()
    result = gs.check_module(net, torch.randn(5, 3, dtype=torch.float64), full_result=True)
    assert result.ok, result.message()
    assert result.labels[:2] == ["parameter 0.weight", "parameter 0.bias"] and result.labels[-1] == "input 0"
    assert torch.equal(net[1].running_mean, stats)  # buffers copied for every call

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.randn(3, dtype=torch.float64))

        def forward(self, x):
            return MySoftplus.apply(x * self.weight, 2.0)

    failed = gs.check_module(Scaled(), torch.randn(2, 3, dtype=torch.float64), raise_exception=False, full_result=True)
    assert not failed.ok and "the gradient of parameter weight at [" in failed.message()


def test_an_engine_function_without_a_torch_twin_is_checked_against_finite_differences_alone():
    import numpy as np

    import reference

    class Square(reference.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    x = np.linspace(-1, 1, 6)
    with pytest.raises(TypeError, match="torch_fn=False"):
        gs.gradcheck(Square.apply, [x])
    result = gs.gradcheck(Square.apply, [x], torch_fn=False, full_result=True)
    assert result.ok and result.witnesses == "engine | numerical (torch not consulted)"
    with pytest.raises(ValueError, match=r"input 0 has a non-finite value \(nan\) at \[1\]"):
        gs.gradcheck(lambda a: a.exp(), [np.array([1.0, np.nan])])


def test_the_replay_script_reproduces_the_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADCHECK_SUITE_CACHE", str(tmp_path))
    result = gs.gradcheck(MySoftplus_apply, (x45(),), raise_exception=False, full_result=True)
    assert result.script_path and result.script_path.startswith(str(tmp_path))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}  # the module as pytest imported it
    run = subprocess.run([sys.executable, result.script_path], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    found = re.search(r"computed (\S+), finite differences (\S+)", run.stdout)
    computed, expected = float(found.group(1)), float(found.group(2))
    assert computed == pytest.approx(1.05 * expected, rel=1e-6)


def MySoftplus_apply(x):  # an importable function: the script imports it
    return MySoftplus.apply(x, 2.0)


def test_the_pytest_fixture_fails_with_the_verdict_and_attaches_the_script(pytester):
    pytester.makepyfile(
        """
        import torch, torch.nn.functional as nnf

        class Wrong(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return nnf.softplus(x)

            @staticmethod
            def backward(ctx, g):
                return g * torch.sigmoid(ctx.saved_tensors[0]) * 1.05

        def test_right(gradcheck):
            gradcheck(nnf.softplus, (torch.randn(3, dtype=torch.float64, requires_grad=True),))

        def test_wrong(gradcheck):
            gradcheck(Wrong.apply, (torch.randn(3, dtype=torch.float64, requires_grad=True),))
        """
    )
    run = pytester.runpytest("-p", "gradcheck_suite.pytest_plugin", "-rA")
    run.assert_outcomes(passed=1, failed=1)
    out = run.stdout.str()
    assert "the gradient of input 0 at [" in out and "verdict engine-bug" in out
    assert "gradcheck replay script" in out and "DIFFERENTIATED = [0]" in out


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none on this machine)")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cuda_code_runs_on_cuda_with_tf32_off_and_a_device_budget(dtype):
    torch.backends.cuda.matmul.allow_tf32 = True  # what a user may have on: the check switches it off
    try:
        x = torch.randn(16, 32, dtype=dtype, device="cuda", requires_grad=True)
        w = torch.randn(32, 8, dtype=dtype, device="cuda", requires_grad=True)
        result = gs.gradcheck(lambda x, w: (x @ w).tanh(), (x, w), full_result=True)
        assert result.ok, result.message()
        assert result.settings["device"] == "cuda:0" and result.settings["tf32_matmul"] is False
        assert result.settings["tf32_before_check"]["tf32_matmul"] is True
        assert torch.backends.cuda.matmul.allow_tf32  # restored
        wrong = gs.gradcheck(lambda x: MySoftplus.apply(x, 2.0), (x,), raise_exception=False)
        assert wrong is False
    finally:
        torch.backends.cuda.matmul.allow_tf32 = False


def test_a_result_writes_a_run_folder_whose_meta_records_tf32_off(tmp_path):
    result = gs.gradcheck(lambda x: MySoftplus.apply(x, 2.0), (x45(),), raise_exception=False, full_result=True)
    paths = result.write_reports(tmp_path / "mine")
    meta = json.loads(paths["meta"].read_text())
    assert meta["torch_tf32_matmul"] is False and meta["torch_tf32_cudnn"] is False
    assert meta["torch_device"] == "cpu" and meta["witnesses"] == "engine = torch | numerical"
    assert "tf32_before_check" in meta["torch_settings"]
    html = paths["html"].read_text()
    assert "engine-bug" in html and "zero-grad" in html
