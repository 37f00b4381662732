"""The elementwise ops of the reference engine against torch: values, node names, gradients
(vjp), forward-mode tangents (jvp), second derivatives (create_graph), type promotion,
torch's values at kinks, error messages, and the accuracy of ``erf_array``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import reference
from reference.ops.pointwise import erf_array

RNG = np.random.default_rng(1234)

# Generic points (away from kinks and poles) for each kind of domain.
REAL = np.array([[-2.3, -0.7, 0.4], [1.1, 2.6, -1.45]])
POSITIVE = np.array([[0.3, 1.7, 2.2], [0.9, 3.1, 0.55]])
UNIT = np.array([[-0.9, -0.35, 0.1], [0.45, 0.8, -0.6]])
OTHER = np.array([[0.6, -1.9, 1.3], [-0.2, 0.75, 2.05]])


def _as_numpy(t, like) -> np.ndarray:
    """A gradient or tangent as an array; None (no dependence) reads as zeros."""
    if t is None:
        return np.zeros(tuple(like.shape))
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True).astype(np.float64)  # force: torch's ZeroTensors
    return t.detach().numpy().astype(np.float64)


def derivatives(ns, fn, arrays, dtype="float64", seed=0):
    """Everything derivative-related a user sees for ``fn(ns, *inputs)``: output, node name,
    vjp, jvp, and the second derivative of <grad, w> (through create_graph)."""
    rng = np.random.default_rng(seed)
    dt = getattr(ns, dtype)
    xs = [ns.tensor(a, dtype=dt, requires_grad=True) for a in arrays]
    y = fn(ns, *xs)
    v = ns.tensor(rng.standard_normal(tuple(y.shape)), dtype=y.dtype)
    grads = ns.autograd.grad(y, xs, v, create_graph=True, allow_unused=True)
    weights = [ns.tensor(rng.standard_normal(a.shape), dtype=dt) for a in arrays]
    terms = [(g * w).sum() for g, w in zip(grads, weights) if g is not None and g.requires_grad]
    second = [None] * len(xs)
    if terms:
        second = ns.autograd.grad(sum(terms[1:], terms[0]), xs, allow_unused=True)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    fwad = ns.autograd.forward_ad
    with fwad.dual_level():
        duals = [fwad.make_dual(ns.tensor(a, dtype=dt), ns.tensor(t, dtype=dt)) for a, t in zip(arrays, tangents)]
        out = fwad.unpack_dual(fn(ns, *duals))
        jvp = _as_numpy(out.tangent, y)
    return {
        "value": y.detach().numpy().astype(np.float64),
        "dtype": str(y.dtype),
        "grad_fn": type(y.grad_fn).__name__,
        "vjp": [_as_numpy(g, x) for g, x in zip(grads, xs)],
        "jvp": jvp,
        "second": [_as_numpy(s, x) for s, x in zip(second, xs)],
    }


def assert_derivatives_match(fn, arrays, dtype="float64", rtol=None):
    rtol = rtol or (1e-12 if dtype == "float64" else 2e-5)
    want = derivatives(torch, fn, arrays, dtype)
    got = derivatives(reference, fn, arrays, dtype)
    assert got["grad_fn"] == want["grad_fn"]
    assert got["dtype"] == want["dtype"]
    for key in ("value", "jvp"):
        np.testing.assert_allclose(got[key], want[key], rtol=rtol, atol=rtol, equal_nan=True, err_msg=key)
    for key in ("vjp", "second"):
        for i, (g, w) in enumerate(zip(got[key], want[key])):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, equal_nan=True, err_msg=f"{key}[{i}]")


UNARY = {
    "neg": (lambda ns, x: -x, REAL),
    "abs": (lambda ns, x: x.abs(), REAL),
    "sign": (lambda ns, x: ns.sign(x), REAL),
    "exp": (lambda ns, x: x.exp(), REAL),
    "expm1": (lambda ns, x: ns.expm1(x), REAL),
    "log": (lambda ns, x: ns.log(x), POSITIVE),
    "log1p": (lambda ns, x: x.log1p(), UNIT),
    "log2": (lambda ns, x: ns.log2(x), POSITIVE),
    "sqrt": (lambda ns, x: x.sqrt(), POSITIVE),
    "rsqrt": (lambda ns, x: ns.rsqrt(x), POSITIVE),
    "reciprocal": (lambda ns, x: x.reciprocal(), REAL),
    "square": (lambda ns, x: ns.square(x), REAL),
    "sin": (lambda ns, x: x.sin(), REAL),
    "cos": (lambda ns, x: ns.cos(x), REAL),
    "tan": (lambda ns, x: ns.tan(x), UNIT),
    "asin": (lambda ns, x: x.asin(), UNIT),
    "acos": (lambda ns, x: ns.acos(x), UNIT),
    "atan": (lambda ns, x: ns.atan(x), REAL),
    "sinh": (lambda ns, x: x.sinh(), REAL),
    "cosh": (lambda ns, x: ns.cosh(x), REAL),
    "tanh": (lambda ns, x: x.tanh(), REAL),
    "sigmoid": (lambda ns, x: ns.sigmoid(x), REAL),
    "relu": (lambda ns, x: x.relu(), REAL),
    "erf": (lambda ns, x: ns.erf(x), REAL),
    "floor": (lambda ns, x: x.floor(), REAL),
    "round": (lambda ns, x: ns.round(x), REAL),
    "round_decimals": (lambda ns, x: x.round(decimals=1), REAL * 1.37),
    "clamp": (lambda ns, x: x.clamp(-1.0, 1.5), REAL),
    "clamp_min": (lambda ns, x: ns.clamp(x, min=0.2), REAL),
    "clamp_max": (lambda ns, x: x.clamp(max=0.2), REAL),
    "clip": (lambda ns, x: ns.clip(x, -0.5, 0.5), REAL),
    "clamp_min_fn": (lambda ns, x: x.clamp_min(-0.5), REAL),
    "clamp_max_fn": (lambda ns, x: ns.clamp_max(x, -0.5), REAL),
    "pow_scalar": (lambda ns, x: x**2.5, POSITIVE),
    "pow_int": (lambda ns, x: x**3, REAL),
    "pow_zero": (lambda ns, x: x**0, REAL),
    "pow_negative": (lambda ns, x: x**-1.5, POSITIVE),
    "rpow": (lambda ns, x: 2.5**x, REAL),
    "torch_pow_scalar_base": (lambda ns, x: ns.pow(3.0, x), REAL),
    "rsub_scalar": (lambda ns, x: 2 - x, REAL),
    "rsub_alpha": (lambda ns, x: ns.rsub(x, 2.0, alpha=3), REAL),
    "rdiv": (lambda ns, x: 2 / x, REAL),
    "div_scalar": (lambda ns, x: x / 4, REAL),
    "add_alpha_scalar": (lambda ns, x: ns.add(x, 2.0, alpha=0.5), REAL),
}

BINARY = {
    "add": (lambda ns, x, y: x + y, REAL, OTHER),
    "add_alpha": (lambda ns, x, y: ns.add(x, y, alpha=-2), REAL, OTHER),
    "sub": (lambda ns, x, y: x - y, REAL, OTHER),
    "sub_alpha": (lambda ns, x, y: x.sub(y, alpha=3), REAL, OTHER),
    "rsub": (lambda ns, x, y: ns.rsub(x, y), REAL, OTHER),
    "mul": (lambda ns, x, y: x * y, REAL, OTHER),
    "div": (lambda ns, x, y: x / y, REAL, OTHER),
    "div_floor": (lambda ns, x, y: ns.div(x, y, rounding_mode="floor"), REAL, OTHER),
    "div_trunc": (lambda ns, x, y: x.div(y, rounding_mode="trunc"), REAL, OTHER),
    "pow_tensor": (lambda ns, x, y: x**y, POSITIVE, OTHER),
    "maximum": (lambda ns, x, y: ns.maximum(x, y), REAL, OTHER),
    "minimum": (lambda ns, x, y: x.minimum(y), REAL, OTHER),
    "atan2": (lambda ns, x, y: ns.atan2(x, y), REAL, OTHER),
    "where": (lambda ns, x, y: ns.where(x > y, x, y * 2), REAL, OTHER),
    "where_method": (lambda ns, x, y: x.where(x < 0, y), REAL, OTHER),
    "clamp_tensor_min": (lambda ns, x, lo: x.clamp(min=lo), REAL, OTHER),
    "clamp_tensor_max": (lambda ns, x, hi: ns.clamp(x, max=hi), REAL, OTHER),
    "clamp_min_tensor": (lambda ns, x, lo: x.clamp_min(lo), REAL, OTHER),
    "clamp_max_tensor": (lambda ns, x, hi: ns.clamp_max(x, hi), REAL, OTHER),
    "mask_mul": (lambda ns, x, y: x * (x > y) + y * (x <= y), REAL, OTHER),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_matches_torch(name, dtype):
    fn, values = UNARY[name]
    assert_derivatives_match(fn, [values], dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_matches_torch(name, dtype):
    fn, x, y = BINARY[name]
    assert_derivatives_match(fn, [x, y], dtype)


@pytest.mark.parametrize("name", ["add", "mul", "div", "pow_tensor", "maximum", "atan2", "clamp_tensor_min"])
def test_binary_op_broadcasts(name):
    fn, x, y = BINARY[name]
    assert_derivatives_match(fn, [x[:, None, :], y[0]])  # (2, 1, 3) with (3,)
    assert_derivatives_match(fn, [x[0, 0], y])  # 0-d with (2, 3)


def test_clamp_with_both_tensor_bounds():
    lo, hi = np.full((2, 3), -0.5), np.array([0.5, 1.0, -1.0])  # the last column has min > max
    assert_derivatives_match(lambda ns, x, a, b: x.clamp(a, b), [REAL, lo, hi])
    assert_derivatives_match(lambda ns, x, a, b: ns.clip(x, a, b), [REAL, lo, hi], "float32")


# -- values at kinks, ties, poles --------------------------------------------------------------

KINKS = {
    "relu": (lambda ns, x: x.relu(), [[0.0, -0.0, -1.0, 1.0, math.nan]]),
    "abs": (lambda ns, x: x.abs(), [[0.0, -0.0, -1.0, 1.0, math.nan]]),
    "sign": (lambda ns, x: x.sign(), [[0.0, -0.0, -1.0, 2.0, math.nan]]),
    "sqrt": (lambda ns, x: x.sqrt(), [[0.0, -1.0, 4.0]]),
    "rsqrt": (lambda ns, x: x.rsqrt(), [[0.0, -1.0, 4.0]]),
    "log": (lambda ns, x: x.log(), [[0.0, -1.0, 2.0]]),
    "log1p": (lambda ns, x: x.log1p(), [[-1.0, -2.0, 2.0]]),
    "log2": (lambda ns, x: x.log2(), [[0.0, -1.0]]),
    "reciprocal": (lambda ns, x: x.reciprocal(), [[0.0, -0.0, 2.0]]),
    "asin": (lambda ns, x: x.asin(), [[1.0, -1.0, 2.0]]),
    "acos": (lambda ns, x: x.acos(), [[1.0, -1.0, 2.0]]),
    "floor": (lambda ns, x: x.floor(), [[0.0, 1.0, -1.5, math.inf]]),
    "round_half_even": (lambda ns, x: x.round(), [[0.5, 1.5, 2.5, -0.5, -1.5, 2.4999]]),
    "sigmoid_saturates": (lambda ns, x: x.sigmoid(), [[-100.0, 100.0, 0.0]]),
    "tanh_saturates": (lambda ns, x: x.tanh(), [[-30.0, 30.0]]),
    "erf_tails": (lambda ns, x: x.erf(), [[-7.0, 7.0, 0.0, -0.0, math.inf, -math.inf, math.nan]]),
    "clamp_at_bounds": (lambda ns, x: x.clamp(0.0, 1.0), [[0.0, 1.0, 0.5, -1.0, 2.0, math.nan]]),
    "clamp_min_above_max": (lambda ns, x: x.clamp(1.0, 0.0), [[0.0, 1.0, 0.5, -1.0, 2.0]]),
    "clamp_nan_bound": (lambda ns, x: x.clamp(math.nan, 1.0), [[0.5, 2.0]]),
    "clamp_min_at_bound": (lambda ns, x: x.clamp(min=0.0), [[0.0, 1.0, -1.0]]),
    "clamp_min_method_at_bound": (lambda ns, x: x.clamp_min(0.0), [[0.0, 1.0, -1.0]]),
    "clamp_max_method_at_bound": (lambda ns, x: x.clamp_max(0.0), [[0.0, 1.0, -1.0]]),
    "pow_at_zero": (lambda ns, x: x**0.5, [[0.0, 1.0]]),
    "pow_zero_at_zero": (lambda ns, x: x**0, [[0.0, 1.0]]),
    "pow_minus_one_at_zero": (lambda ns, x: x**-1, [[0.0, 1.0]]),
    "pow_negative_base": (lambda ns, x: x**1.5, [[-1.0, 0.0]]),
    "pow_square_at_zero": (lambda ns, x: x**2, [[0.0, -1.0]]),
    "rpow_zero_base": (lambda ns, x: 0**x, [[0.0, 1.0, -1.0]]),
    "rpow_negative_base": (lambda ns, x: (-2) ** x, [[0.0, 1.0, 0.5]]),
}

TIES = ([[0.0, 1.0, 2.0, math.nan, 1.0]], [[0.0, 2.0, 1.0, 0.0, math.nan]])  # a tie, a < b, a > b, nans
BINARY_KINKS = {
    "maximum_ties": (lambda ns, x, y: ns.maximum(x, y), *TIES),
    "minimum_ties": (lambda ns, x, y: ns.minimum(x, y), *TIES),
    "atan2_origin": (lambda ns, x, y: ns.atan2(x, y), [[0.0, 0.0, 1.0, 0.0]], [[0.0, -1.0, 0.0, 1e-200]]),
    "pow_tensor_zero_base": (
        lambda ns, x, y: x**y,
        [[0.0, 0.0, 0.0, 2.0, -1.0, -1.0]],
        [[0.0, 1.0, -1.0, 0.0, 2.0, 0.5]],
    ),
    "div_by_zero": (lambda ns, x, y: x / y, [[0.0, 1.0, -1.0]], [[0.0, 0.0, 0.0]]),
    "clamp_min_tensor_ties": (lambda ns, x, lo: x.clamp(min=lo), [[0.0, 1.0, -1.0]], [[0.0, 0.0, 0.0]]),
    "clamp_max_tensor_ties": (lambda ns, x, hi: x.clamp(max=hi), [[0.0, 1.0, -1.0]], [[0.0, 0.0, 0.0]]),
    "clamp_min_method_tensor_ties": (lambda ns, x, lo: x.clamp_min(lo), [[0.0, 1.0, -1.0]], [[0.0, 0.0, 0.0]]),
    "clamp_max_method_tensor_ties": (lambda ns, x, hi: x.clamp_max(hi), [[0.0, 1.0, -1.0]], [[0.0, 0.0, 0.0]]),
    "where_sqrt_at_zero": (lambda ns, x, y: ns.where(x > 0, x.sqrt(), y), [[0.0, 4.0]], [[1.0, 1.0]]),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_unary_kink_values_follow_torch(name):
    fn, values = KINKS[name]
    assert_derivatives_match(fn, [np.array(values)])


@pytest.mark.parametrize("name", sorted(BINARY_KINKS))
def test_binary_kink_values_follow_torch(name):
    fn, x, y = BINARY_KINKS[name]
    assert_derivatives_match(fn, [np.array(x), np.array(y)])


def test_clamp_tensor_bound_ties_and_crossed_bounds():
    x = np.array([0.0, 1.0, 0.5, -1.0, 2.0, math.nan, 0.5, 0.5])
    lo = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, math.nan, 1.0])
    hi = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    assert_derivatives_match(lambda ns, a, b, c: a.clamp(b, c), [x, lo, hi])
    assert_derivatives_match(lambda ns, a, b, c: a.clamp(b, c), [x, lo, lo])  # min == max


def test_relu_and_clamp_keep_negative_zero(same):
    for ns_fn in (lambda ns, x: x.relu(), lambda ns, x: x.clamp(min=0.0), lambda ns, x: x.clamp(0.0, 1.0)):
        got = ns_fn(reference, reference.tensor([-0.0, 0.0]))
        want = ns_fn(torch, torch.tensor([-0.0, 0.0]))
        assert np.signbit(got.numpy()).tolist() == np.signbit(want.numpy()).tolist()


def test_round_decimals_matches_torch(same):
    values = [0.15, 1.25, 2.675, -0.25, 1234.5678, 0.5, 1.5]
    for dtype in ("float32", "float64"):
        for decimals in (-1, 0, 1, 2):
            got = reference.tensor(values, dtype=getattr(reference, dtype)).round(decimals=decimals)
            want = torch.tensor(values, dtype=getattr(torch, dtype)).round(decimals=decimals)
            same(got, want)


# -- node graph shape, freed saved values --------------------------------------------------------


def _edges(y):
    return [None if n is None else type(n).__name__ for n, _ in y.grad_fn.next_functions]


@pytest.mark.parametrize(
    "program",
    [
        lambda ns, x, t: x.clamp(0, 1),
        lambda ns, x, t: x.clamp(min=t),
        lambda ns, x, t: x.clamp(max=t),
        lambda ns, x, t: x.clamp(t, t + 1),
        lambda ns, x, t: x.clamp_min(t),
        lambda ns, x, t: x.clamp_max(0.5),
        lambda ns, x, t: ns.where(x > 0, x, 0.0),
        lambda ns, x, t: ns.where(x > 0, 1.0, x),
        lambda ns, x, t: ns.rsub(x, 2),
        lambda ns, x, t: ns.rsub(x, t),
        lambda ns, x, t: ns.maximum(x, t),
        lambda ns, x, t: 2 / x,
        lambda ns, x, t: x.square(),
    ],
)
def test_next_functions_match_torch(program):
    def run(ns):
        x = ns.tensor([0.5, -1.0, 2.0], requires_grad=True)
        t = ns.tensor([0.0, 0.1, 0.2])
        y = program(ns, x, t)
        return type(y.grad_fn).__name__, _edges(y)

    assert run(reference) == run(torch)


@pytest.mark.parametrize(
    "program",
    [
        lambda x: x.sin(),
        lambda x: x.floor(),
        lambda x: x.relu(),
        lambda x: x.clamp(0, 1),
        lambda x: x.sign(),
        lambda x: x.sigmoid(),
        lambda x: x.erf(),
        lambda x: x**2,
        lambda x: x.abs(),
        lambda x: x.exp(),
    ],
)
def test_second_backward_fails_only_where_torch_needs_saved_values(both, program):
    def run(ns):
        x = ns.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = program(x).sum()
        y.backward()
        y.backward()
        return x.grad

    both(run)


# -- type promotion ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program",
    [
        lambda ns: ns.tensor([1.0, 2.0]) + ns.tensor([1.0, 2.0], dtype=ns.float64),
        lambda ns: ns.tensor([1.0, 2.0]) * ns.tensor(3.0, dtype=ns.float64),
        lambda ns: ns.tensor([1, 2]) * 2.5,
        lambda ns: ns.tensor([1, 2]) / ns.tensor([2, 4]),
        lambda ns: ns.tensor([1, -2]).sqrt(),
        lambda ns: ns.tensor([1, -2]).abs(),
        lambda ns: ns.tensor([1, -2]).neg(),
        lambda ns: ns.tensor([1, -2]).sign(),
        lambda ns: ns.tensor([1, -2]).relu(),
        lambda ns: ns.tensor([1, -2]).floor(),
        lambda ns: ns.tensor([1, -2]).round(),
        lambda ns: ns.tensor([1, -2]).square(),
        lambda ns: ns.tensor([True, False]).square(),
        lambda ns: ns.tensor([True, False]).sign(),
        lambda ns: ns.tensor([True, False]).exp(),
        lambda ns: ns.tensor([True, False]).sigmoid(),
        lambda ns: ns.tensor([1, 5]).clamp(0.5),
        lambda ns: ns.tensor([1, 5]).clamp(0, 2),
        lambda ns: ns.tensor([True, False]).clamp(0, 1),
        lambda ns: ns.tensor([1, 5]).clamp_min(2.5),
        lambda ns: ns.tensor([1.0, 5.0]).clamp(ns.tensor([2.0], dtype=ns.float64)),
        lambda ns: ns.tensor([1.0, 5.0]).clamp(ns.tensor(2.0, dtype=ns.float64)),
        lambda ns: ns.tensor([1, 5]).clamp(ns.tensor([2.5, 0.5])),
        lambda ns: ns.maximum(ns.tensor([1, 2]), ns.tensor(1.5)),
        lambda ns: ns.maximum(ns.tensor([True, False]), ns.tensor([False, False])),
        lambda ns: ns.atan2(ns.tensor([1, 2]), ns.tensor([2, 1])),
        lambda ns: ns.where(ns.tensor([True, False]), ns.tensor([1.0, 2.0]), ns.tensor([1.0, 2.0], dtype=ns.float64)),
        lambda ns: ns.where(ns.tensor([True, False]), ns.tensor([1, 2]), 0.5),
        lambda ns: ns.tensor([1, 2]) ** 2,
        lambda ns: ns.tensor([1, 2]) ** 0.5,
        lambda ns: 2 ** ns.tensor([1, 2]),
        lambda ns: 2.5 ** ns.tensor([1, 2]),
        lambda ns: ns.tensor([1.0, 2.0]) ** ns.tensor([2.0], dtype=ns.float64),
        lambda ns: ns.div(ns.tensor([5, -5]), ns.tensor([2, 2]), rounding_mode="floor"),
        lambda ns: ns.div(ns.tensor([5, -5, 4]), ns.tensor([-2, 2, 2]), rounding_mode="trunc"),
        lambda ns: ns.div(ns.tensor([5.0, -5.0]), ns.tensor([0.0, 2.0]), rounding_mode="floor"),
        lambda ns: ns.tensor([1, 2]) < 1.5,
        lambda ns: ns.tensor([1.0, 2.0]) == ns.tensor([1.0, 3.0], dtype=ns.float64),
        lambda ns: ns.rsub(ns.tensor([1, 2]), 0.5),
        lambda ns: ns.erf(ns.tensor([0, 1])),
    ],
)
def test_type_promotion_matches_torch(both, program):
    both(program)


def test_float32_grad_keeps_dtype_through_float64_graph(both):
    def program(ns):
        x = ns.tensor([0.5, 1.5], requires_grad=True)
        w = ns.tensor([2.0, -1.0], dtype=ns.float64)
        y = ns.maximum(x, w).sin() * ns.atan2(x, w)
        y.sum().backward()
        return [y, x.grad]

    both(program)


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "program",
    [
        lambda ns: ns.tensor([1.0]).clamp(),
        lambda ns: ns.clamp(ns.tensor([1.0]), None, None),
        lambda ns: ns.tensor([1.0]).clip(),
        lambda ns: ns.clamp(ns.tensor([1.0]), ns.tensor([0.0]), 1),
        lambda ns: ns.tensor([1.0]).clamp_min(None),
        lambda ns: ns.where(ns.tensor([1.0, 0.0]), ns.tensor([1.0, 2.0]), 0.0),
        lambda ns: ns.maximum(ns.tensor([1.0]), 2.0),
        lambda ns: ns.minimum(ns.tensor([1.0]), 2),
        lambda ns: ns.atan2(ns.tensor([1.0]), 2.0),
        lambda ns: ns.tensor([True]).relu(),
        lambda ns: ns.tensor([True]).abs(),
        lambda ns: ns.tensor([True]).floor(),
        lambda ns: ns.tensor([True]).round(),
        lambda ns: -ns.tensor([True]),
        lambda ns: ns.tensor([1, 2]) ** -1,
        lambda ns: ns.div(ns.tensor([1.0]), ns.tensor([1.0]), rounding_mode="bad"),
        lambda ns: ns.div(ns.tensor([1, 2]), ns.tensor([0, 1]), rounding_mode="trunc"),
    ],
)
def test_errors_match_torch(both, program):
    result = both(program)
    assert "raised" in result


# -- erf_array ------------------------------------------------------------------------------------


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want)).clip(min=np.spacing(0.0))


def test_erf_array_within_two_ulp_of_math_erf():
    x = np.concatenate([
        RNG.uniform(-7, 7, 50_000), RNG.standard_normal(50_000), RNG.uniform(-1e-3, 1e-3, 5_000),
        np.logspace(-300, 0.8, 5_000), [1.0, np.nextafter(1.0, 0), 6.0, np.nextafter(6.0, 0), 5e-324],
    ])  # fmt: skip
    want = np.array([math.erf(v) for v in x])
    ulps = _ulps(erf_array(x), want)
    assert ulps.max() <= 2
    assert ulps.mean() < 0.3
    np.testing.assert_array_equal(erf_array(-x), -erf_array(x))  # odd, exactly


def test_erf_array_special_values_and_dtypes():
    x = np.array([0.0, -0.0, math.inf, -math.inf, math.nan] * 20)  # vectorised path (over the scalar limit)
    got = erf_array(x)
    np.testing.assert_array_equal(got[:5], [0.0, -0.0, 1.0, -1.0, math.nan])
    assert np.signbit(got[1])
    assert erf_array(np.zeros(3, np.float32)).dtype == np.float32
    assert erf_array(np.zeros(300, np.float32)).dtype == np.float32
    assert erf_array(np.array(0.5)).shape == ()
    assert erf_array(np.zeros((2, 0, 3))).shape == (2, 0, 3)


@pytest.mark.parametrize("size", [5, 5_000])
def test_erf_float32_matches_torch_within_one_ulp(size):
    x = (RNG.standard_normal(size) * 2).astype(np.float32)
    want = torch.erf(torch.from_numpy(x)).numpy()
    got = erf_array(x)
    assert np.max(np.abs(got - want) / np.spacing(np.abs(want))) <= 1


def test_clamp_with_broadcasting_tensor_bounds_where_torch_raises():
    """torch 2.13's clamp backward combines its masks in place, so it raises when x broadcasts
    against both bounds; the reference engine returns the gradient of x expanded to full size."""
    x, lo, hi = np.array([[0.5]]), np.array([0.0]), np.array([[2.0], [0.2], [-1.0]])
    tx, tlo, thi = (torch.tensor(v, requires_grad=True) for v in (x, lo, hi))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        tx.clamp(tlo, thi).sum().backward()
    rx, rlo, rhi = (reference.tensor(v, requires_grad=True) for v in (x, lo, hi))
    rx.clamp(rlo, rhi).sum().backward()
    full = torch.tensor(np.broadcast_to(x, (3, 1)).copy(), requires_grad=True)
    tlo.grad = thi.grad = None
    full.clamp(tlo, thi).sum().backward()
    np.testing.assert_array_equal(rx.grad.numpy(), full.grad.sum(0, keepdim=True).numpy())
    np.testing.assert_array_equal(rlo.grad.numpy(), tlo.grad.numpy())
    np.testing.assert_array_equal(rhi.grad.numpy(), thi.grad.numpy())
