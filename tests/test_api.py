"""gradcheck_suite.gradcheck: passes, raises with an explanation, returns False, full results."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck_suite
import reference
from gradcheck_suite import GradcheckError, GradcheckResult, check, gradcheck
from reference.ops import pointwise


def _planted(monkeypatch, cls, backward) -> None:
    monkeypatch.setattr(cls, "backward", staticmethod(backward))


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def model(x, w):
    return (x @ w).tanh().sum(-1).exp()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_function_passes(dtype):
    x, w = _rng().standard_normal((4, 3)).astype(dtype), _rng(1).standard_normal((3, 5)).astype(dtype)
    assert gradcheck(model, (x, w)) is True


def test_single_array_and_lists_are_accepted():
    assert gradcheck(lambda x: x.exp().sum(), np.linspace(-1, 1, 5)) is True
    assert gradcheck(lambda x, y: x * y, [[1.0, 2.0], [3.0, 4.0]]) is True  # a list: one input per item


def test_exports_from_the_package():
    assert gradcheck_suite.gradcheck is gradcheck
    assert issubclass(gradcheck_suite.GradcheckError, AssertionError)
    assert issubclass(gradcheck_suite.GradcheckError, RuntimeError)  # what torch's gradcheck raises
    with pytest.raises(AttributeError):
        _ = gradcheck_suite.no_such_name


def test_wrong_gradient_raises_with_input_element_values_and_verdict(monkeypatch):
    _planted(monkeypatch, pointwise.Exp, lambda ctx, g: g * ctx.saved_tensors[0] * 1.001)
    x, y = _rng().standard_normal((3, 4)), _rng(1).standard_normal(4)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: (a * b).exp().sum(1), (x, y))
    message = str(info.value)
    assert "is wrong (verdict engine-bug, check vjp-fd)" in message
    assert "the gradient of input " in message and " at [" in message  # which input, which element
    assert "computed " in message and "expected " in message and "error estimate " in message
    assert "rule: vjp: torch agrees with finite differences, the engine does not" in message
    assert "witnesses: engine | torch | numerical" in message
    assert ", torch " in message.splitlines()[1]  # torch's value there too: an independent witness
    assert "by float64 finite differences" in message  # the legend
    assert isinstance(info.value.result, GradcheckResult)
    assert info.value.result.verdict == "engine-bug"


def test_raise_exception_false_returns_false(monkeypatch):
    _planted(monkeypatch, pointwise.Tanh, lambda ctx, g: g * (1 + ctx.saved_tensors[0] ** 2))
    assert gradcheck(lambda x: x.tanh(), _rng().standard_normal(6), raise_exception=False) is False


def test_only_the_wrong_input_is_named(monkeypatch):
    def other_sign_flipped(ctx, g):
        a, b = ctx.saved_tensors
        return g / b, g * a / (b * b)

    _planted(monkeypatch, pointwise.Div, other_sign_flipped)
    x, y = _rng().standard_normal(5), _rng(1).uniform(0.5, 2, 5)
    result = check(lambda a, b: a / b, (x, y))
    assert not result.ok
    assert result.failing_inputs == [1]
    assert "the gradient is wrong for: input 1" in result.message()


def test_large_input_failure_is_narrowed_to_an_element(monkeypatch):
    _planted(monkeypatch, pointwise.Tanh, lambda ctx, g: g * (1 - ctx.saved_tensors[0] ** 2) * (1 + 1e-6))
    x = _rng().standard_normal((16, 16))  # 256 elements: probes, not the full gradient
    result = gradcheck(lambda a: a.tanh(), x, raise_exception=False, full_result=True)
    assert not result.ok
    first = result.failures[0]
    assert first.verdict == "engine-bug"
    assert "input 0 at [" in first.detail and "fd=" in result.message()


def test_full_result_on_success():
    x, w = _rng().standard_normal((2, 3)), _rng(1).standard_normal((3, 2))
    result = gradcheck(model, (x, w), full_result=True)
    assert isinstance(result, GradcheckResult) and result and result.verdict == "pass"
    assert {r.check for r in result.records} >= {"forward", "vjp-torch", "vjp-fd"}
    assert sorted(result.per_input) == [0, 1]
    assert all(r.verdict == "pass" for recs in result.per_input.values() for r in recs)
    assert result.message().startswith("gradcheck passed")


def test_same_seed_same_records_and_seed_changes_the_cotangent():
    x = _rng().standard_normal((3, 3))

    def run(seed):
        return [(r.check, r.detail) for r in check(lambda a: a.exp() * a, x, seed=seed).records]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_torch_fn_for_functions_written_against_the_engine_module():
    import torch

    x = _rng().uniform(0.5, 2, 4)
    assert gradcheck(lambda a: reference.log(a) * a, x, torch_fn=lambda a: torch.log(a) * a)
    with pytest.raises(TypeError, match="pass torch_fn="):
        gradcheck(lambda a: reference.log(a) * a, x)


def test_forward_ad_and_second_order_checks_run_when_asked():
    x = _rng().standard_normal(4)
    result = check(lambda a: (a * a).tanh(), x, check_forward_ad=True, check_second_order=True)
    assert result.ok
    checks = {r.check for r in result.records}
    assert {"jvp-torch", "jvp-fd", "hvp-torch", "hvp-fd"} <= checks
    default = {r.check for r in check(lambda a: (a * a).tanh(), x).records}
    assert not default & {"jvp-torch", "jvp-fd", "hvp-torch", "hvp-fd"}  # off by default, as in torch's gradcheck


TIED = np.array([[3.0, 1.0, 3.0, -2.0], [0.5, 2.0, 2.0, 2.0]])  # ties of the row maximum


def _amax_backward(weights_of):
    def backward(ctx, g):
        mask = np.asarray(ctx.saved_tensors[0])
        return g.reshape(ctx.kept) * weights_of(mask)

    return backward


def test_a_tie_bug_is_caught_by_default(monkeypatch):
    """Each tied element alone may take the whole gradient (a valid one-sided derivative),
    but all of them moved together move the maximum once: the joint kink rule sees it."""
    from reference.ops import reduction

    assert gradcheck(lambda a: a.amax(-1), TIED)
    _planted(monkeypatch, reduction.Amax, _amax_backward(lambda mask: mask.astype(float)))
    with pytest.raises(GradcheckError, match="moving the kink elements together") as info:
        gradcheck(lambda a: a.amax(-1), TIED)
    assert info.value.result.verdict == "engine-bug"


def test_a_different_valid_subgradient_at_ties_is_a_convention(monkeypatch):
    """The whole gradient to the first tied element: valid, only not torch's even split."""
    from reference.ops import reduction

    def first_only(mask):
        return (mask & (np.cumsum(mask, axis=-1) == 1)).astype(float)

    _planted(monkeypatch, reduction.Amax, _amax_backward(first_only))
    result = check(lambda a: a.amax(-1), TIED)
    assert result.ok and "convention" in {r.verdict for r in result.records}
    with pytest.raises(GradcheckError, match="convention"):
        gradcheck(lambda a: a.amax(-1), TIED, match_torch_at_kinks=True)


def test_relu_as_maximum_is_a_convention_at_several_kinks():
    """HIPS autograd's relu (maximum with 0: gradient 1/2 at 0) against torch's relu (0 at 0),
    with several zeros and cotangents of both signs: within the one-sided derivatives, also
    moved together."""
    import torch

    x = np.array([0.0, 0.0, 1.5, 0.0, -0.75, 0.0])
    for seed in range(4):
        result = check(lambda a: reference.maximum(a, reference.zeros_like(a)), x, torch_fn=torch.relu, seed=seed)
        assert result.ok, result.message()
        assert "convention" in {r.verdict for r in result.records}


@pytest.mark.parametrize(
    ("fn", "inputs", "error", "words"),
    [
        (lambda a: a, [np.arange(3)], TypeError, "input 0 has dtype int64"),
        (lambda a: a, [], ValueError, "inputs is empty"),
        ("not callable", [np.ones(2)], TypeError, "fn must be callable"),
        (lambda a: (a, a), [np.ones(2)], TypeError, "must return one tensor, got tuple"),
    ],
)
def test_caller_errors_say_what_is_wrong(fn, inputs, error, words):
    with pytest.raises(error, match=words):
        gradcheck(fn, inputs)


def test_bad_seed_is_refused():
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        gradcheck(lambda a: a, np.ones(2), seed=-1)


def test_engine_error_is_a_verdict_not_a_crash():
    def fails_on_engine(a):
        if isinstance(a, reference.Tensor):
            raise RuntimeError("planted engine failure")
        return a * 2

    result = check(fails_on_engine, np.ones(3), torch_fn=lambda a: a * 2)
    assert not result.ok and result.verdict == "error-mismatch"
