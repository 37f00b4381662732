"""CaseChecker end to end: every verdict pinned by a constructed case (planted bugs in the
reference engine, ops built to differ from torch at a kink), probes and their stated miss
probability, narrowing to input/element/output, JVP and HVP checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

import reference
from gradcheck_suite.catalogue import CATALOGUE
from gradcheck_suite.catalogue.spec import NONZERO, REAL, Kinks, OpSpec, op
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.engines import get_engine
from gradcheck_suite.engines.mirror import MirrorEngine
from gradcheck_suite.oracles import finite_diff
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.records import FAILING
from gradcheck_suite.strategies import Case, shapes
from reference.autograd import arrayops as xp
from reference.ops.pointwise import Mul


@pytest.fixture(scope="module")
def checker() -> CaseChecker:
    return CaseChecker(MirrorEngine("reference", reference, OpSpec.call_engine, "test"), torch_oracle())


def run(checker: CaseChecker, spec: OpSpec, *inputs, dtype: str = "float64", seed: int = 3, **kwargs) -> dict:
    case = Case(spec, dtype, tuple(np.asarray(x, dtype=dtype) for x in inputs), kwargs, cotangent_seed=seed)
    records = checker.check(case, CaseIds("t", 0, 0))
    return {r.check: r for r in records}


AT_ZERO = Kinks(points=(0.0,))


def unary(name: str, engine_fn=None, domain=REAL, kinks=AT_ZERO, torch_name: str | None = None):
    """An op that is ``torch.<torch_name>`` on torch and ``engine_fn`` on the engine."""
    call = torch_name or name
    return op(name, "test", lambda ns, a: getattr(ns, call)(a), shapes(), (domain,), kinks=kinks,
              engine_fn=engine_fn)  # fmt: skip


def relu_via_maximum(a):
    """relu with maximum's tie rule: gradient 0.5 at 0 (HIPS autograd's convention)."""
    return reference.maximum(a, reference.zeros_like(a))


def relu_with_gradient_1_5_at_zero(a):
    """Value relu(a); gradient 3 * 0.5 - 2 * 0 = 1.5 at 0, outside [0, 1]."""
    return 3 * reference.maximum(a, reference.zeros_like(a)) - 2 * reference.relu(a)


KINKED = np.array([0.0, 1.5, -0.75])


# -- verdicts, one constructed case each ---------------------------------------------------


def test_a_planted_wrong_gradient_is_an_engine_bug_located_at_input_element_and_output(checker, monkeypatch):
    def backward(ctx, g):  # input 1's gradient is wrong only where the first output row flows
        a, b = ctx.saved_tensors
        gb = g * a
        return g * b, gb + 0.5 * gb * xp.data(np.arange(gb.shape[0]) == 0).reshape(-1, *([1] * (gb.ndim - 1)))

    monkeypatch.setattr(Mul, "backward", staticmethod(backward))
    rng = np.random.default_rng(0)
    records = run(checker, CATALOGUE["mul"], rng.uniform(0.5, 2, (3, 2)), rng.uniform(0.5, 2, (3, 2)))
    for check in ("vjp-torch", "vjp-fd"):
        r = records[check]
        assert r.verdict == "engine-bug" and r.failed
        where = json.loads(r.location)
        assert where["input"] == 1 and where["element"][0] == 0
    where = json.loads(records["vjp-fd"].location)
    assert where["output"] == where["element"]  # elementwise op: the output element is the input's
    assert where["engine_jacobian"] == pytest.approx(1.5 * where["reference_jacobian"], rel=1e-6)


def test_a_different_valid_subgradient_at_a_kink_is_a_convention(checker):
    records = run(checker, unary("relu", relu_via_maximum), KINKED)
    r = records["vjp-torch"]
    assert r.verdict == "convention" and not r.failed
    assert "different valid subgradients" in r.rule
    assert "kink at input 0 at [0]" in r.detail
    assert records["vjp-fd"].verdict == "pass"  # 0.5 is also the central difference's average
    assert records["forward"].verdict == "pass"


def test_following_torch_at_a_kink_passes_and_finite_differences_say_not_differentiable(checker):
    records = run(checker, CATALOGUE.get("relu") or unary("relu"), KINKED)
    assert records["vjp-torch"].verdict == "pass"
    assert records["vjp-fd"].verdict == "not-differentiable"
    assert records["jvp-fd"].verdict == "not-differentiable"


def test_a_gradient_outside_the_one_sided_derivatives_is_an_engine_bug(checker):
    records = run(checker, unary("relu", relu_with_gradient_1_5_at_zero), KINKED)
    assert records["vjp-torch"].verdict == "engine-bug"
    assert "one-sided derivatives" in records["vjp-torch"].rule
    assert records["vjp-fd"].verdict == "engine-bug"


def test_nan_at_a_kink_where_torch_has_a_convention_is_a_convention(checker):
    def norm_by_hand(a):  # sqrt(sum(a * a)): nan gradient at the zero vector, torch gives 0
        return (a * a).sum().sqrt()

    spec = op("norm", "test", lambda ns, a: a.norm(), shapes(), (NONZERO,), kinks=Kinks(points=(0.0,)),
              engine_fn=norm_by_hand)  # fmt: skip
    records = run(checker, spec, np.zeros(3))
    r = records["vjp-torch"]
    assert r.verdict == "convention"
    assert "departs from torch's documented convention" in r.rule and "inf/nan" in r.rule
    assert records["vjp-fd"].verdict == "not-differentiable"


def test_sqrt_at_zero_has_no_derivative(checker):
    records = run(checker, unary("sqrt", domain=NONZERO), np.array([0.0, 1.0]))
    assert records["vjp-torch"].verdict == "pass"  # both give inf
    assert records["vjp-fd"].verdict == "not-differentiable"
    assert "no derivative" in records["vjp-fd"].rule


def test_maximum_ties_across_inputs_are_judged_at_the_kink(checker):
    spec = op("maximum", "test", lambda ns, a, b: ns.maximum(a, b), shapes(), (REAL, REAL), kinks=Kinks(ties=True))
    x = np.array([0.3, -1.0, 2.0])
    records = run(checker, spec, x, x.copy())  # every element tied
    assert records["vjp-torch"].verdict == "pass"
    assert records["vjp-fd"].verdict == "pass"  # torch's 0.5 split is the central difference's average
    # torch's forward mode also splits a tie evenly, (u_a + u_b) / 2: again the central difference
    assert records["jvp-torch"].verdict == records["jvp-fd"].verdict == "pass"


def test_a_tie_given_in_full_to_both_sides_is_an_engine_bug_along_the_joint_direction(checker, monkeypatch):
    """maximum(a, b) with a == b at several elements, each side given the whole gradient:
    each element alone lies between its one-sided derivatives (0 and v); moving a and b
    together, maximum moves once, so the sum must be v, not 2 v."""
    from reference.ops.pointwise import Maximum

    def both_full(ctx, g):
        a, b = (np.asarray(t) for t in ctx.saved_tensors)
        return g * (a >= b), g * (b >= a)

    monkeypatch.setattr(Maximum, "backward", staticmethod(both_full))
    spec = op("maximum", "test", lambda ns, a, b: ns.maximum(a, b), shapes(), (REAL, REAL), kinks=Kinks(ties=True))
    x = np.array([0.3, -1.0, 2.0, 0.5])
    records = run(checker, spec, x, x.copy())
    for check in ("vjp-torch", "vjp-fd"):
        assert records[check].verdict == "engine-bug", records[check].detail
        assert "moving the" in records[check].detail and "together" in records[check].rule


def _near_singular(rng, n: int, smallest: float) -> np.ndarray:
    q1, _ = np.linalg.qr(rng.standard_normal((n, n)))
    q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q1 @ np.diag(np.geomspace(1.0, smallest, n)) @ q2


SOLVE = op("solve", "test", lambda ns, a, b: ns.linalg.solve(a, b), shapes(), (REAL, REAL))


@pytest.mark.parametrize("seed", range(3))
def test_a_nearly_singular_solve_passes_without_a_false_kink(checker, seed):
    """Condition 1e8: engine and torch differ by ~1e-8 relative (the measured sensitivity
    allows it), and the default finite-difference step crosses the singularity (the step
    ladder finds a step that does not, so no kink is reported)."""
    rng = np.random.default_rng(seed)
    records = run(checker, SOLVE, _near_singular(rng, 5, 1e-8), rng.standard_normal((5, 2)), seed=seed)
    assert not any(r.failed for r in records.values())
    for check in ("forward", "vjp-torch", "vjp-fd", "jvp-torch", "hvp-torch"):
        assert records[check].verdict == "pass", (check, records[check].detail)
    assert "kink" not in records["vjp-fd"].detail


INV = op("inv", "test", lambda ns, a: ns.linalg.inv(a), shapes(), (REAL,))


@pytest.mark.parametrize("condition", [1e8, 1e10, 1e12])
@pytest.mark.parametrize("seed", range(3))
def test_ill_conditioned_solve_and_inverse_raise_no_false_alarm(checker, condition, seed):
    """Up to condition 1e12 (float64 keeps ~4 digits): engine and torch differ by rounding that
    the measured sensitivity allows, and the finite differences' steps follow the measured
    condition (a 2**-32 nudge stops being first order past ~1e8, a 2**-46 one takes over)."""
    for n in (3, 5):
        rng = np.random.default_rng(seed)
        a = _near_singular(rng, n, 1 / condition)
        for spec, inputs in ((INV, (a,)), (SOLVE, (a, rng.standard_normal((n, 2))))):
            records = run(checker, spec, *inputs, seed=seed)
            assert not any(r.failed for r in records.values()), [(r.check, r.verdict, r.detail) for r in
                                                                  records.values() if r.failed]  # fmt: skip


def test_a_small_planted_error_in_an_ill_conditioned_solve_is_still_caught(checker, monkeypatch):
    """A gradient 1e-5 off at condition 1e4 is caught by the reference too, by a wide margin
    (score ~200). 1e-6 sits at the float64 reference's resolution there: it lands in the noise
    band, where the higher-order estimate decides, and its score came out 0.99 on one CPU and
    above 1 on another, so this test does not pin it."""
    from reference.ops.solvers import LinalgSolve

    original = LinalgSolve.backward

    def off(ctx, g):
        return tuple(None if t is None else t * (1 + 1e-5) for t in original(ctx, g))

    monkeypatch.setattr(LinalgSolve, "backward", staticmethod(off))
    rng = np.random.default_rng(1)
    records = run(checker, SOLVE, _near_singular(rng, 4, 1e-4), rng.standard_normal((4, 2)))
    assert records["vjp-torch"].verdict == records["vjp-fd"].verdict == "engine-bug"
    assert records["vjp-fd"].score > 20


def test_a_value_engine_and_torch_share_but_the_reference_rejects_is_a_shared_bug(checker):
    """torch's double backward of a**b is masked at b == 0 exactly (the true mixed second
    derivative is v / a); the reference engine mirrors it. At a smooth point, two independent
    witnesses agreeing does not outvote the numerical reference: both are wrong."""
    records = run(checker, CATALOGUE["pow_tensor"], np.array(0.25), np.array(0.0))
    r = records["hvp-fd"]
    assert r.verdict == "shared-bug" and r.failed
    assert "torch is wrong too" in r.rule
    assert r.witnesses == "engine | torch | numerical"
    assert records["hvp-torch"].verdict == "pass"


def test_the_same_code_on_both_sides_is_judged_by_the_numerical_reference_alone():
    """``--engine torch``: engine and oracle are torch; their agreement is no evidence, so the
    same wrong second derivative is the engine's bug, and the rows say which witnesses were independent."""
    torch_checker = CaseChecker(get_engine("torch"), torch_oracle())
    records = run(torch_checker, CATALOGUE["pow_tensor"], np.array(0.25), np.array(0.0))
    assert records["hvp-fd"].verdict == "engine-bug"
    assert "torch's agreement is no evidence" in records["hvp-fd"].rule
    assert records["hvp-torch"].verdict == "pass" and "two runs agree" in records["hvp-torch"].rule
    assert {r.witnesses for r in records.values()} == {"engine = torch | numerical"}


def test_a_wrong_torch_formula_shared_by_both_sides_is_caught_at_a_smooth_point(monkeypatch):
    """A wrong backward of torch.sin (an autograd.Function patched into the catalogue entry,
    which engine and oracle both run): the old rule called the agreement a convention."""
    import dataclasses

    from helpers import wrong_sin

    patched = dataclasses.replace(CATALOGUE["sin"], torch_fn=wrong_sin(1.05), second_order=False)
    for engine in (get_engine("torch"), MirrorEngine("reference", reference, OpSpec.call_engine, "t")):
        records = run(CaseChecker(engine, torch_oracle()), patched, np.array([0.3, -1.2, 2.0]))
        expected = "engine-bug" if engine.name == "torch" else "torch-differs"
        assert records["vjp-fd"].verdict == ("engine-bug" if engine.name == "torch" else "pass")
        assert records["vjp-torch"].verdict == ("pass" if engine.name == "torch" else expected)


def test_a_forward_mismatch_and_an_exception_on_one_side(checker):
    class Off(MirrorEngine):
        def forward(self, spec, arrays, kwargs):
            inputs, out = super().forward(spec, arrays, kwargs)
            return inputs, out * 1.001

    class Raises(MirrorEngine):
        def vjp(self, inputs, output, cotangent):
            raise ValueError("no backward")

    x = np.array([1.0, 2.0])
    off = CaseChecker(Off("reference", reference, OpSpec.call_engine, "t"), checker.oracle)
    assert run(off, CATALOGUE["exp"], x)["forward"].verdict == "forward-mismatch"
    raising = CaseChecker(Raises("reference", reference, OpSpec.call_engine, "t"), checker.oracle)
    r = run(raising, CATALOGUE["exp"], x)["vjp-torch"]
    assert r.verdict == "error-mismatch" and "ValueError: no backward" in r.detail


def test_a_nan_gradient_where_torch_and_the_reference_are_finite_is_non_finite(checker, monkeypatch):
    monkeypatch.setattr(Mul, "backward", staticmethod(lambda ctx, g: (g * np.nan, g * ctx.saved_tensors[0])))
    records = run(checker, CATALOGUE["mul"], np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert records["vjp-torch"].verdict == "non-finite"
    assert records["vjp-fd"].verdict == "non-finite"


def test_an_engine_without_a_jvp_rule_is_unsupported_not_a_crash(checker, monkeypatch):
    monkeypatch.setattr(Mul, "jvp", None)
    records = run(checker, CATALOGUE["mul"], np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    r = records["jvp-torch"]
    assert r.verdict == "unsupported" and not r.failed
    assert "NotImplementedError" in r.detail
    assert "jvp-fd" not in records
    assert records["hvp-torch"].verdict == "pass"


def test_an_engine_without_forward_ad_is_unsupported():
    class NoForwardAd:  # a torch-like module without autograd.forward_ad
        def __getattr__(self, name):
            return getattr(reference, name) if name != "autograd" else type("A", (), {"grad": reference.autograd.grad})

    engine = MirrorEngine("bare", NoForwardAd(), OpSpec.call_engine, "t")
    records = run(CaseChecker(engine, torch_oracle()), CATALOGUE["mul"], np.array([1.0]), np.array([2.0]))
    assert records["jvp-torch"].verdict == "unsupported"


def test_a_wrong_jvp_rule_is_an_engine_bug(checker, monkeypatch):
    monkeypatch.setattr(Mul, "jvp", staticmethod(lambda ctx, ta, tb: ta * ctx.saved_tensors[1]))  # drops b's term
    records = run(checker, CATALOGUE["mul"], np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert records["jvp-torch"].verdict == "engine-bug"
    assert records["jvp-fd"].verdict == "engine-bug"
    assert json.loads(records["jvp-fd"].location)["output"] in ([0], [1])
    assert records["vjp-torch"].verdict == "pass"


def test_a_backward_that_cannot_be_differentiated_again_is_an_hvp_engine_bug(checker, monkeypatch):
    def backward(ctx, g):  # right values, but constant under create_graph: no second derivative
        a, b = ctx.saved_tensors
        return g * xp.data(b), g * xp.data(a)

    monkeypatch.setattr(Mul, "backward", staticmethod(backward))
    records = run(checker, CATALOGUE["mul"], np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert records["vjp-torch"].verdict == records["vjp-fd"].verdict == "pass"
    assert records["hvp-torch"].verdict == "engine-bug"
    assert records["hvp-fd"].verdict == "engine-bug"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_correct_ops_pass_every_check_in_both_dtypes(checker, dtype):
    rng = np.random.default_rng(5)
    for name, args in {"tanh": [(3, 4)], "matmul": [(2, 3), (3, 2)], "div": [(3,), (2, 3)]}.items():
        inputs = [rng.uniform(0.5, 2.0, s) for s in args]
        records = run(checker, CATALOGUE[name], *inputs, dtype=dtype)
        assert {r.verdict for r in records.values()} == {"pass"}, (
            name,
            [(r.check, r.detail) for r in records.values()],
        )


def test_analytic_ops_use_the_complex_step(checker):
    records = run(checker, CATALOGUE["exp"], np.array([0.5, 1.0]))
    assert records["vjp-fd"].reference.startswith("complex step")
    assert "complex step" in records["jvp-fd"].reference
    assert records["vjp-fd"].verdict == "pass"
    non_analytic = op("sum_sq", "test", lambda ns, a: (a * a).sum(), shapes(), (REAL,))
    assert run(checker, non_analytic, np.array([0.5, 1.0]))["vjp-fd"].reference.startswith("central")


# -- probes: miss probability and narrowing ----------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_a_single_planted_element_error_is_caught_by_every_probe_and_narrowed_to_it(checker, monkeypatch, seed):
    """Rademacher probes see a single wrong element with full weight (|<err, d>| = |err_k|), so it
    is caught with probability 1 (the stated bound 2**-probes is for errors spread over elements);
    narrowing reports the element and the output element."""
    rng = np.random.default_rng(seed)
    shape = (5, 4, 4)  # 80 elements: over the full-gradient limit
    k = tuple(int(i) for i in rng.integers(0, shape))
    mask = np.zeros(shape, bool)
    mask[k] = True

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b + 1e-3 * g * xp.data(mask), g * a

    monkeypatch.setattr(Mul, "backward", staticmethod(backward))
    records = run(checker, CATALOGUE["mul"], rng.uniform(0.5, 2, shape), rng.uniform(0.5, 2, shape), seed=seed)
    r = records["vjp-fd"]
    assert "Rademacher probes" in r.reference
    assert r.verdict == "engine-bug"
    where = json.loads(r.location)
    assert (where["input"], tuple(where["element"]), tuple(where["output"])) == (0, k, k)


def test_probe_tolerance_gives_no_false_alarms_on_large_correct_inputs(checker):
    rng = np.random.default_rng(8)
    for dtype in ("float32", "float64"):
        records = run(checker, CATALOGUE["tanh"], rng.uniform(-3, 3, (4, 4, 4, 2)), dtype=dtype)
        assert "Rademacher probes" in records["vjp-fd"].reference
        assert not any(r.failed for r in records.values())


def test_stated_miss_probability():
    assert finite_diff.miss_probability(4) == 1 / 16
    rng = np.random.default_rng(0)
    err = np.zeros(100)
    err[:2] = 1.0  # two equal errors cancel for half of the sign patterns: the bound is tight
    misses = np.mean([abs(err @ finite_diff.rademacher(rng, (100,))) < 1.0 for _ in range(4000)])
    assert 0.45 < misses <= 0.5 + 0.03


def test_failing_rows_name_a_known_verdict(checker, monkeypatch):
    monkeypatch.setattr(Mul, "backward", staticmethod(lambda ctx, g: (g, g)))
    records = run(checker, CATALOGUE["mul"], np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert {r.verdict for r in records.values() if r.failed} <= FAILING
    assert records["vjp-torch"].inputs  # failing rows keep their inputs


def test_a_jvp_that_cancels_is_judged_at_the_scale_of_its_terms(checker):
    """A fuzz campaign's false alarm: the sum of this 4x4 array along a +-1 tangent cancels to
    1.7e-12 (x +- h is inexact, so the tangent's effective entries are 1 +- 1e-12), and the
    reference engine and torch, summing in other orders, differ there by 9e-16: roundoff of
    the O(1) terms, which the JVP's rounding floor now allows (tolerances.jacobian_scale)."""
    x = np.array([
        [1.374763496297288e-243, -1.724506577773214, -0.13984991846284212, -1.0684119779845419e-68],
        [1.7779935771281075, 3.948659971544952e-215, -0.13984991846284212, -0.13984991846284212],
        [-0.13984991846284212, -4.749515464878312e-70, -0.13984991846284212, 1.5052173531482156],
        [-0.13984991846284212, -0.13984991846284212, -6.148451165963933e-241, -0.13984991846284212],
    ])  # fmt: skip
    case = Case(CATALOGUE["einsum_unary"], "float64", (x,), {"equation": "ij->"}, cotangent_seed=1075)
    jvp = {r.check: r for r in checker.check(case, CaseIds("t", 0, 0)) if r.check.startswith("jvp")}
    assert {r.verdict for r in jvp.values()} == {"pass"}
    assert 1e-16 < jvp["jvp-torch"].max_abs_err < 1e-14 < jvp["jvp-torch"].tolerance  # a real, tiny difference


def test_a_declared_convention_is_judged_against_its_declaration(checker):
    """embedding's padding_idx row gets no gradient (torch documents it), though the output
    depends on it: convention with the catalogue's reason, not a shared bug."""
    spec = CATALOGUE["nn.embedding"]
    weight = np.arange(12.0).reshape(4, 3) / 7
    records = run(checker, spec, weight, index=np.array([0, 2, 2, 1]), padding_idx=2)
    assert records["vjp-fd"].verdict == "convention"
    assert "padding_idx row gets no gradient" in records["vjp-fd"].rule
    assert not any(r.failed for r in records.values())


def test_float32_overflow_shared_by_engine_and_torch_is_not_a_finding(checker):
    """exp(100) overflows float32 in both; torch's float64 run and the reference are finite."""
    records = run(checker, CATALOGUE["exp"], np.array([1.0, 100.0]), dtype="float32")
    assert records["vjp-fd"].verdict == "overflow" and not records["vjp-fd"].failed
    assert "leaves the dtype's range" in records["vjp-fd"].rule


def test_an_element_tied_to_a_kink_is_judged_with_the_kink():
    """clamp(x, lo, hi) with x == lo == hi: x's own partial derivative is 0 (clamp(x, c, c) is
    constant), yet torch gives the gradient to x; at a point where lo and hi break the tie
    every way, x's derivative is 1 or 0, so torch's value is a derivative just across the tie."""
    torch_checker = CaseChecker(get_engine("torch"), torch_oracle())
    reference_checker = CaseChecker(MirrorEngine("reference", reference, OpSpec.call_engine, "t"), torch_oracle())
    for c in (torch_checker, reference_checker):
        for seed in range(4):
            records = run(c, CATALOGUE["clamp_tensor"], *[np.array(2.05)] * 3, seed=seed, bounds="both")
            assert not any(r.failed for r in records.values()), {k: r.detail for k, r in records.items()}


def test_a_whole_tied_tensor_is_judged_with_the_kink():
    """clamp(x, lo, hi) with x == lo == hi == 0 in every one of x's 48 elements (a case the
    main job drew): each of them is coupled to the kink, not only the first few, and the
    estimates at nearby points are batched (one call per point)."""
    checker = CaseChecker(MirrorEngine("reference", reference, OpSpec.call_engine, "t"), torch_oracle())
    x = np.zeros((4, 1, 4, 3))
    for dtype in ("float32", "float64"):
        records = run(checker, CATALOGUE["clamp_tensor"], x, x, np.zeros(3), dtype=dtype, bounds="both")
        assert records["vjp-fd"].verdict == "not-differentiable", records["vjp-fd"].detail
        assert not any(r.failed for r in records.values()), {k: r.detail for k, r in records.items()}
