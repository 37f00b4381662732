"""verdicts.py rule by rule, then whole cases through CaseChecker with fake engines and oracles."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import reference
from gradcheck_suite.catalogue import CATALOGUE
from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.checking import verdicts
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.checking.compare import Comparison
from gradcheck_suite.engines.mirror import MirrorEngine
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.records import FAILING, VERDICTS
from gradcheck_suite.strategies import Case


def cmp(ok: bool, nonfinite: bool = False) -> Comparison:
    score = 0.5 if ok else (math.inf if nonfinite else 7.0)
    return Comparison(ok, 1.0, 1.0, 1.0, score, (0,), math.nan if nonfinite else 2.0, 1.0, nonfinite=nonfinite)


OK, BAD, NONFINITE = cmp(True), cmp(False), cmp(False, nonfinite=True)


def test_every_verdict_a_rule_can_give_is_a_known_verdict():
    produced = (
        {verdicts.forward(c)[0] for c in (OK, BAD, NONFINITE)}
        | {
            verdicts.vjp_torch(a, b, c)[0]
            for a in (OK, BAD, NONFINITE)
            for b in (OK, BAD, None)
            for c in (OK, BAD, None)
        }
        | {verdicts.vjp_fd(a, b, c)[0] for a in (OK, BAD, NONFINITE) for b in (OK, BAD, None) for c in (OK, BAD, None)}
        | {
            verdicts.errors(e, t, "forward")[0]
            for e, t in ((ValueError(), None), (None, ValueError()), (ValueError(), ValueError()))
        }
    )
    assert produced <= set(VERDICTS)
    assert {"pass", "engine-bug", "torch-differs", "numerical-noise", "non-finite", "forward-mismatch"} <= produced


# -- forward ------------------------------------------------------------------------------


def test_forward_rules():
    assert verdicts.forward(OK)[0] == "pass"
    assert verdicts.forward(BAD)[0] == "forward-mismatch"
    verdict, rule = verdicts.forward(NONFINITE)
    assert verdict == "non-finite"
    assert rule.startswith("forward:") and "inf/nan" in rule


# -- vjp-torch ----------------------------------------------------------------------------


@pytest.mark.parametrize("e_f", [OK, BAD, None])
@pytest.mark.parametrize("t_f", [OK, BAD, None])
def test_vjp_torch_passes_whenever_engine_matches_torch(e_f, t_f):
    assert verdicts.vjp_torch(OK, e_f, t_f)[0] == "pass"


@pytest.mark.parametrize("e_f", [OK, BAD, None])
def test_vjp_torch_engine_bug_when_torch_agrees_with_fd(e_f):
    verdict, rule = verdicts.vjp_torch(BAD, e_f, OK)
    assert verdict == "engine-bug"
    assert "torch agrees with finite differences" in rule


def test_vjp_torch_non_finite_engine_gradient_when_torch_agrees_with_fd():
    assert verdicts.vjp_torch(NONFINITE, BAD, OK)[0] == "non-finite"
    # without a finite-difference witness for torch, non-finite is still an engine bug
    assert verdicts.vjp_torch(NONFINITE, None, None)[0] == "engine-bug"


def test_vjp_torch_torch_differs_when_only_engine_agrees_with_fd():
    verdict, rule = verdicts.vjp_torch(BAD, OK, BAD)
    assert verdict == "torch-differs"
    assert "engine agrees with finite differences" in rule
    assert verdict not in FAILING
    assert verdicts.vjp_torch(BAD, OK, None)[0] == "torch-differs"


@pytest.mark.parametrize(("e_f", "t_f"), [(BAD, BAD), (None, None), (BAD, None), (None, BAD)])
def test_vjp_torch_engine_bug_when_nobody_agrees(e_f, t_f):
    verdict, rule = verdicts.vjp_torch(BAD, e_f, t_f)
    assert verdict == "engine-bug"
    assert "neither" in rule


# -- vjp-fd -------------------------------------------------------------------------------


@pytest.mark.parametrize("e_t", [OK, BAD, None])
@pytest.mark.parametrize("t_f", [OK, BAD, None])
def test_vjp_fd_passes_whenever_engine_matches_fd(e_t, t_f):
    assert verdicts.vjp_fd(OK, e_t, t_f)[0] == "pass"


@pytest.mark.parametrize("t_f", [OK, BAD, None])
def test_vjp_fd_numerical_noise_when_engine_and_torch_agree(t_f):
    verdict, rule = verdicts.vjp_fd(BAD, OK, t_f)
    assert verdict == "numerical-noise"
    assert verdict not in FAILING
    assert "finite differences differ" in rule


def test_vjp_fd_engine_bug_and_non_finite_when_torch_agrees_with_fd():
    assert verdicts.vjp_fd(BAD, BAD, OK)[0] == "engine-bug"
    assert verdicts.vjp_fd(NONFINITE, BAD, OK)[0] == "non-finite"
    assert verdicts.vjp_fd(BAD, None, OK)[0] == "engine-bug"


@pytest.mark.parametrize(("e_t", "t_f"), [(BAD, BAD), (None, None), (BAD, None)])
def test_vjp_fd_engine_bug_when_nobody_agrees(e_t, t_f):
    verdict, rule = verdicts.vjp_fd(BAD, e_t, t_f)
    assert verdict == "engine-bug"
    assert "from torch" in rule


# -- errors -------------------------------------------------------------------------------


def test_error_rules_name_the_side_and_the_stage():
    both = verdicts.errors(ValueError("x"), RuntimeError("y"), "forward")
    assert both == ("pass", "forward: both engine and torch raised")
    verdict, rule = verdicts.errors(ValueError("x"), None, "backward")
    assert verdict == "error-mismatch" and rule.startswith("backward:") and "engine raised" in rule
    verdict, rule = verdicts.errors(None, ValueError("x"), "forward")
    assert verdict == "error-mismatch" and rule.startswith("forward:") and "torch raised" in rule


# -- whole cases through CaseChecker ------------------------------------------------------


def _reference_engine(cls=MirrorEngine) -> MirrorEngine:
    return cls("reference", reference, OpSpec.call_engine, "test")


class ScaledVjp(MirrorEngine):
    """A vjp that is 10% too large on every input."""

    def vjp(self, inputs, output, cotangent):
        return [g * 1.1 for g in super().vjp(inputs, output, cotangent)]


class ForwardRaises(MirrorEngine):
    def forward(self, op, arrays, kwargs):
        raise RuntimeError("forward exploded")


class BackwardRaises(MirrorEngine):
    def vjp(self, inputs, output, cotangent):
        raise RuntimeError("backward exploded")


class ForwardOff(MirrorEngine):
    factor = 1.001

    def forward(self, op, arrays, kwargs):
        inputs, out = super().forward(op, arrays, kwargs)
        return inputs, out * self.factor


class ForwardNan(ForwardOff):
    factor = math.nan


def _mul_case(dtype: str, shapes=((2, 3), (3,)), seed: int = 4) -> Case:
    rng = np.random.default_rng(seed)
    inputs = tuple(rng.uniform(0.5, 2.0, s).astype(dtype) for s in shapes)
    return Case(op=CATALOGUE["mul"], dtype=dtype, inputs=inputs, kwargs={}, cotangent_seed=seed)


def _check(engine, oracle, case) -> dict[str, object]:
    records = CaseChecker(engine, oracle).check(case, CaseIds(run_id="t", seed=9, example=3))
    by_check = {r.check: r for r in records}
    assert len(by_check) == len(records)  # one record per check
    for r in records:
        assert (r.op, r.dtype, r.seed, r.example, r.run_id) == ("mul", case.dtype, 9, 3, "t")
    return by_check


@pytest.fixture(scope="module")
def oracle() -> MirrorEngine:
    return torch_oracle()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_correct_engine_passes_every_check(oracle, dtype):
    records = _check(_reference_engine(), oracle, _mul_case(dtype))
    assert sorted(records) == ["forward", "hvp-fd", "hvp-torch", "jvp-fd", "jvp-torch", "vjp-fd", "vjp-torch"]
    assert {r.verdict for r in records.values()} == {"pass"}
    assert all(r.score <= 1 for r in records.values())
    assert all(r.inputs == "" for r in records.values())  # inputs are kept for failing rows only


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_wrong_engine_gradient_is_an_engine_bug(oracle, dtype):
    case = _mul_case(dtype)
    records = _check(_reference_engine(ScaledVjp), oracle, case)
    assert records["forward"].verdict == "pass"
    for check in ("vjp-torch", "vjp-fd"):
        r = records[check]
        assert r.verdict == "engine-bug", r
        assert r.score > 1
        assert "torch agrees with finite differences" in r.rule
        assert r.detail.startswith("worst at input")
        # the failing row carries its inputs, enough to rebuild the case
        inputs = json.loads(r.inputs)
        assert inputs["dtype"] == dtype
        np.testing.assert_array_equal(np.array(inputs["x0"], dtype=dtype), case.inputs[0])
        np.testing.assert_array_equal(np.array(inputs["x1"], dtype=dtype), case.inputs[1])
    assert "full gradient" in records["vjp-fd"].reference


def test_wrong_torch_gradient_is_torch_differs_and_fd_passes():
    records = _check(_reference_engine(), torch_oracle_scaled(), _mul_case("float64"))
    assert records["forward"].verdict == "pass"
    assert records["vjp-torch"].verdict == "torch-differs"
    assert records["vjp-torch"].score > 1
    assert records["vjp-fd"].verdict == "pass"
    assert not any(r.failed for r in records.values())


def torch_oracle_scaled() -> MirrorEngine:
    import torch

    return ScaledVjp("torch", torch, OpSpec.call_torch, torch.__version__)


def test_engine_forward_raising_is_an_error_mismatch(oracle):
    records = _check(_reference_engine(ForwardRaises), oracle, _mul_case("float64"))
    assert list(records) == ["forward"]  # no gradient checks without a forward
    r = records["forward"]
    assert r.verdict == "error-mismatch"
    assert "engine raised" in r.rule
    assert "RuntimeError: forward exploded" in r.detail
    assert r.inputs  # a failing row


def test_torch_forward_raising_is_an_error_mismatch():
    import torch

    class TorchRaises(ForwardRaises):
        pass

    failing_oracle = TorchRaises("torch", torch, OpSpec.call_torch, torch.__version__)
    records = _check(_reference_engine(), failing_oracle, _mul_case("float64"))
    assert records["forward"].verdict == "error-mismatch"
    assert "torch raised" in records["forward"].rule


def test_both_forwards_raising_pass(oracle):
    case = _mul_case("float64", shapes=((2, 3), (4,)))  # not broadcastable: both sides raise
    records = _check(_reference_engine(), oracle, case)
    assert list(records) == ["forward"]
    assert records["forward"].verdict == "pass"
    assert "engine:" in records["forward"].detail and "torch:" in records["forward"].detail


def test_engine_backward_raising_is_an_error_mismatch(oracle):
    records = _check(_reference_engine(BackwardRaises), oracle, _mul_case("float64"))
    assert records["forward"].verdict == "pass"
    assert records["vjp-torch"].verdict == "error-mismatch"
    assert records["vjp-torch"].rule.startswith("backward:")
    assert "backward exploded" in records["vjp-torch"].detail
    assert "vjp-fd" not in records


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_engine_forward_off_is_a_forward_mismatch(oracle, dtype):
    records = _check(_reference_engine(ForwardOff), oracle, _mul_case(dtype))
    r = records["forward"]
    assert r.verdict == "forward-mismatch"
    assert r.score > 1
    assert r.max_rel_err == pytest.approx(1e-3, rel=1e-2)
    assert "engine" in r.rule and "torch" in r.rule


def test_engine_forward_nan_is_non_finite(oracle):
    records = _check(_reference_engine(ForwardNan), oracle, _mul_case("float64"))
    assert records["forward"].verdict == "non-finite"
    assert records["forward"].failed
    # the gradient of nan * f is nan too, where torch and finite differences agree on a finite value
    assert records["vjp-torch"].verdict == "non-finite"


def test_large_inputs_use_random_directions_and_still_catch_a_wrong_gradient(oracle):
    case = _mul_case("float64", shapes=((5, 13), (13,)))  # 78 elements: over the full-gradient limit
    good = _check(_reference_engine(), oracle, case)
    bad = _check(_reference_engine(ScaledVjp), oracle, case)
    assert good["vjp-fd"].verdict == "pass"
    assert "Rademacher probes" in good["vjp-fd"].reference
    assert "full gradient" not in good["vjp-fd"].reference
    assert bad["vjp-fd"].verdict == "engine-bug"
    assert "Rademacher probes" in bad["vjp-fd"].reference
