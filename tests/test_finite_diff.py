"""Finite differences: accuracy on functions with known gradients, honest error estimates,
directional derivatives, and the switch between the full gradient and random directions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradcheck_suite.oracles import fd_arrays, nearby
from gradcheck_suite.oracles import finite_diff as fd

Terms = Callable[[list[np.ndarray]], np.ndarray]


def phi_of(terms: Terms):
    """phi(xs) -> (sum of the terms, sum of their magnitudes), the oracle's phi protocol."""

    def phi(xs):
        t = np.asarray(terms(xs), dtype=np.float64)
        return float(np.sum(t)), float(np.sum(np.abs(t)))

    return phi


rng = np.random.default_rng(2024)
X = rng.uniform(-2.0, 2.0, (3, 4))
Y = rng.uniform(-2.0, 2.0, (3, 4))
A, B, V = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
W = rng.standard_normal((3, 4))

# name -> (terms of phi, analytic gradient, inputs)
KNOWN = {
    "cubic polynomial": (
        lambda xs: xs[0] ** 3 - 2 * xs[0] ** 2 + xs[0] - 7,
        lambda xs: [3 * xs[0] ** 2 - 4 * xs[0] + 1],
        [X],
    ),
    "quintic, large inputs": (
        lambda xs: 0.01 * xs[0] ** 5,
        lambda xs: [0.05 * xs[0] ** 4],
        [rng.uniform(-40.0, 40.0, (5,))],
    ),
    "weighted exp": (lambda xs: W * np.exp(xs[0]), lambda xs: [W * np.exp(xs[0])], [X]),
    "sin*cos of two inputs": (
        lambda xs: np.sin(xs[0]) * np.cos(xs[1]),
        lambda xs: [np.cos(xs[0]) * np.cos(xs[1]), -np.sin(xs[0]) * np.sin(xs[1])],
        [X, Y],
    ),
    "matrix product": (lambda xs: V * (xs[0] @ xs[1]), lambda xs: [V @ xs[1].T, xs[0].T @ V], [A, B]),
    "0-d input": (
        lambda xs: np.exp(xs[0]) * np.sin(xs[0]),
        lambda xs: [np.exp(xs[0]) * (np.sin(xs[0]) + np.cos(xs[0]))],
        [np.array(0.7)],
    ),
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_gradient_matches_the_analytic_gradient(name):
    terms, grad, xs = KNOWN[name]
    values, errors = fd.gradient(phi_of(terms), xs)
    assert len(values) == len(errors) == len(xs)
    for g, err, exact, x in zip(values, errors, grad(xs), xs):
        assert g.shape == err.shape == x.shape
        true_error = np.abs(g - exact)
        scale = np.max(np.abs(exact))
        assert np.max(true_error) <= 1e-8 * scale, name  # ~1e-9 relative, normwise
        # the estimate bounds the true error, element by element ...
        assert np.all(true_error <= err), (name, np.max(true_error / err))
        # ... and is itself small, so it does not excuse real gradient errors
        assert np.all(err >= 0)
        assert np.max(err) <= 1e-6 * scale


def test_gradient_does_not_modify_its_inputs():
    x = X.copy()
    fd.gradient(phi_of(lambda xs: xs[0] ** 2), [x])
    np.testing.assert_array_equal(x, X)


def test_gradient_of_an_empty_input_is_empty():
    values, errors = fd.gradient(phi_of(lambda xs: xs[0] * 2), [np.zeros((0, 3))])
    assert values[0].shape == (0, 3) and errors[0].shape == (0, 3)


def test_estimate_covers_rounding_when_the_summands_cancel():
    """phi = x**2 computed as (c*x) + (-c*x + x**2): its value is small, its summands are not,
    so rounding in the sum is ~eps*c. The estimate must follow the summands, not |phi|."""
    c = 1e7
    x = np.array([0.3, -1.2, 0.9])

    def terms(xs):
        return np.concatenate([c * xs[0], -c * xs[0] + xs[0] ** 2])

    values, errors = fd.gradient(phi_of(terms), [x])
    true_error = np.abs(values[0] - 2 * x)
    assert np.max(true_error) > 1e-9  # rounding really matters here
    assert np.all(true_error <= errors[0])


def test_estimate_flags_a_kink():
    """|x| at 0 has no derivative: the estimate must not claim a precise value there."""
    values, errors = fd.gradient(phi_of(lambda xs: np.abs(xs[0])), [np.array([0.0, 2.0])])
    assert values[0][1] == pytest.approx(1.0, abs=1e-9)
    assert errors[0][1] < 1e-8
    assert values[0][0] == pytest.approx(0.0, abs=1e-9)  # symmetric difference of |x| at 0


# -- directional derivatives --------------------------------------------------------------


@pytest.mark.parametrize("name", ["cubic polynomial", "sin*cos of two inputs", "matrix product", "0-d input"])
def test_directional_derivative_is_the_gradient_dotted_with_the_direction(name):
    terms, grad, xs = KNOWN[name]
    local = np.random.default_rng(7)
    ds = [local.standard_normal(x.shape) for x in xs]
    d = fd.directional(phi_of(terms), xs, ds)
    exact = grad(xs)
    # the displacement actually measured is the requested direction, up to float64 rounding
    assert d.directions is not None and len(d.directions) == len(ds)
    for measured, want in zip(d.directions, ds):
        assert measured.shape == want.shape
        np.testing.assert_allclose(measured, want, rtol=0, atol=1e-9 * max(1.0, np.max(np.abs(want))))
    along_measured = sum(float(np.sum(g * m)) for g, m in zip(exact, d.directions))
    along_requested = sum(float(np.sum(g * dd)) for g, dd in zip(exact, ds))
    scale = sum(float(np.sum(np.abs(g * dd))) for g, dd in zip(exact, ds))
    assert abs(d.value - along_measured) <= d.error
    assert d.error <= 1e-7 * scale
    # the requested direction differs from the measured one by the rounding of x + h d
    assert d.value == pytest.approx(along_requested, abs=1e-9 * sum(float(np.sum(np.abs(g))) for g in exact))


def test_directional_derivative_detects_a_wrong_gradient():
    terms, grad, xs = KNOWN["matrix product"]
    ds = [np.ones(x.shape) for x in xs]
    d = fd.directional(phi_of(terms), xs, ds)
    wrong = [1.01 * g for g in grad(xs)]
    wrong_dot = sum(float(np.sum(g * m)) for g, m in zip(wrong, d.directions))
    assert abs(d.value - wrong_dot) > 100 * d.error


def test_directional_agrees_with_gradient_on_a_single_element_direction():
    terms, _, xs = KNOWN["weighted exp"]
    values, errors = fd.gradient(phi_of(terms), xs)
    e = np.zeros(xs[0].shape)
    e[1, 2] = 1.0
    d = fd.directional(phi_of(terms), xs, [e])
    assert d.value == pytest.approx(values[0][1, 2], abs=d.error + errors[0][1, 2])


# -- full gradient or random directions ---------------------------------------------------


def test_use_full_switches_at_the_limit_over_all_inputs():
    limit = fd.FULL_LIMIT
    assert fd.use_full([np.zeros(limit)])
    assert fd.use_full([np.zeros(limit - 10), np.zeros(10)])
    assert not fd.use_full([np.zeros(limit + 1)])
    assert not fd.use_full([np.zeros(limit - 10), np.zeros(11)])  # counted over all inputs together
    assert fd.use_full([np.zeros(()), np.zeros((0, 100))])  # a 0-d input is one element, size-0 none


# -- one-sided differences: kinks ---------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "x", "left", "right"),
    [
        (lambda xs: np.abs(xs[0]), 0.0, -1.0, 1.0),
        (lambda xs: np.maximum(xs[0], 0.0), 0.0, 0.0, 1.0),
        (lambda xs: np.clip(xs[0], -1.0, 0.5), 0.5, 1.0, 0.0),
        (lambda xs: np.maximum(xs[0], 0.25) * 3, 0.25, 0.0, 3.0),
    ],
)
def test_one_sided_differences_find_a_kink_and_its_two_derivatives(terms, x, left, right):
    sides = fd.one_sided_element(phi_of(terms), [np.array([x, 1.7])], 0, (0,))
    assert bool(sides.kink()) and bool(sides.defined())
    assert float(sides.left) == pytest.approx(left, abs=1e-8)
    assert float(sides.right) == pytest.approx(right, abs=1e-8)
    between = (left + right) / 2
    assert bool(sides.between(np.float64(between), np.float64(0.0)))
    assert not bool(sides.between(np.float64(max(left, right) + 0.1), np.float64(0.0)))


@pytest.mark.parametrize("name", ["cubic polynomial", "weighted exp", "sin*cos of two inputs"])
def test_one_sided_differences_agree_on_smooth_functions(name):
    terms, grad, xs = KNOWN[name]
    sides = fd.one_sided_element(phi_of(terms), xs, 0, (1, 2))
    assert not bool(sides.kink())
    exact = grad(xs)[0][1, 2]
    assert abs(float(sides.left) - exact) <= float(sides.left_error)
    assert abs(float(sides.right) - exact) <= float(sides.right_error)


def test_one_sided_differences_at_the_edge_of_the_domain_have_no_derivative():
    with np.errstate(invalid="ignore"):
        sides = fd.one_sided_element(phi_of(lambda xs: np.sqrt(xs[0])), [np.array([0.0])], 0, (0,))
    assert bool(sides.kink()) and not bool(sides.defined())
    assert np.isnan(sides.left) and sides.right > 100


def test_array_differences_give_the_jacobian_vector_product_with_error_estimates():
    x = rng.uniform(-1, 1, (3, 2))
    u = fd.rademacher(np.random.default_rng(1), x.shape)
    got = fd_arrays.directional_arrays(lambda xs: [np.sin(xs[0]) * xs[0]], [x], [u])
    exact = (np.cos(x) * x + np.sin(x)) * got.directions[0]
    assert np.all(np.abs(got.values[0] - exact) <= got.errors[0])
    assert np.max(got.errors[0]) < 1e-8
    sides = fd_arrays.one_sided_arrays(lambda xs: [np.abs(xs[0])], [np.array([0.0, 2.0])], [np.array([1.0, 1.0])])[0]
    np.testing.assert_array_equal(sides.kink(), [True, False])


def test_rademacher_probes_are_plus_minus_one():
    d = fd.rademacher(np.random.default_rng(0), (1000,))
    assert set(np.unique(d)) == {-1.0, 1.0}
    assert abs(d.mean()) < 0.1


# -- complex step -------------------------------------------------------------------------


def test_complex_step_is_accurate_to_rounding_where_central_differences_are_not():
    import torch

    from gradcheck_suite.oracles import complex_step

    x = np.array([0.3, -1.2, 2.5])
    v = np.array([1.0, -2.0, 0.5])

    def f(xs):
        return torch.tanh(torch.from_numpy(xs[0]) ** 3).numpy()

    grads, errors = complex_step.gradient(f, v, [x])
    exact = v * 3 * x**2 / np.cosh(x**3) ** 2
    assert np.max(np.abs(grads[0] - exact)) <= 4e-16 * np.max(np.abs(exact)) * 8
    assert np.all(np.abs(grads[0] - exact) <= errors[0])
    central, _ = fd.gradient(phi_of(lambda xs: v * np.tanh(xs[0] ** 3)), [x])
    assert np.max(np.abs(central[0] - exact)) > 10 * np.max(np.abs(grads[0] - exact))
    d = complex_step.directional(f, v, [x], [np.ones(3)])
    assert complex_step.consistent(d, fd.directional(phi_of(lambda xs: v * np.tanh(xs[0] ** 3)), [x], [np.ones(3)]))


def test_complex_step_on_a_non_analytic_function_is_caught_by_the_consistency_check():
    import torch

    from gradcheck_suite.oracles import complex_step

    x, v = np.array([0.5, -1.5]), np.array([1.0, 1.0])
    u = np.array([1.0, 2.0])
    d = complex_step.directional(lambda xs: torch.abs(torch.from_numpy(xs[0])).numpy(), v, [x], [u])
    central = fd.directional(phi_of(lambda xs: v * np.abs(xs[0])), [x], [u])
    assert not complex_step.consistent(d, central)


# -- the step ladder ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "x", "derivative"),
    [
        (lambda xs: (xs[0] * 1e30) ** 2, 3e-31, 2 * 3e-31 * 1e60),  # tiny input: the default step is 1e25 x
        (lambda xs: np.sin(xs[0]), 4.1e7, np.cos(4.1e7)),  # a period far below the relative step
        (lambda xs: 1 / (xs[0] - 0.3), 0.3 + 2e-7, -1 / 4e-14),  # a pole closer than the default step
    ],
)
def test_the_step_ladder_recovers_functions_that_vary_below_the_default_step(terms, x, derivative):
    phi, xs = phi_of(terms), [np.array([x])]
    first = fd.element(phi, xs, 0, (0,))
    assert abs(first.value - derivative) > 1e-3 * abs(derivative)  # the default step is lost
    best, h = fd.refined_element(phi, xs, 0, (0,), first)
    assert h < fd.step(abs(x))
    assert best.value == pytest.approx(derivative, rel=1e-6)
    assert abs(best.value - derivative) <= 8 * best.error


def test_the_step_ladder_leaves_a_kink_a_kink_and_gives_up_on_a_jump():
    relu, xs = phi_of(lambda xs: np.maximum(xs[0], 0)), [np.array([0.0])]
    first = fd.element(relu, xs, 0, (0,))
    best, h = fd.refined_element(relu, xs, 0, (0,), first)
    assert best.value == pytest.approx(0.5) and h == fd.step(0.0)  # confirmed at once
    assert bool(fd.one_sided_element(relu, xs, 0, (0,), h).kink())
    floor, at_one = phi_of(lambda xs: np.floor(xs[0])), [np.array([1.0])]
    assert fd.refined_element(floor, at_one, 0, (0,), fd.element(floor, at_one, 0, (0,))) is None


def test_one_sided_directional_derivatives_of_a_tie_moved_together_agree():
    """max(a, b) at a tie: a kink along each element, smooth along (1, 1)."""
    phi, xs = phi_of(lambda xs: np.maximum(xs[0], xs[1])), [np.array([0.7]), np.array([0.7])]
    along = fd.one_sided_directional(phi, xs, [np.ones(1), np.ones(1)])
    assert not bool(along.kink()) and float(along.left) == pytest.approx(1.0)
    apart = fd.one_sided_directional(phi, xs, [np.ones(1), np.zeros(1)])
    assert bool(apart.kink()) and (float(apart.left), float(apart.right)) == pytest.approx((0.0, 1.0))


def test_the_higher_order_estimate_cuts_the_rounding_of_a_sum_of_large_terms():
    """phi sums 400 terms of size ~8 (a log_softmax's): the default central difference is
    rounding-bound; the higher-order one, with larger steps, is far more precise and knows it."""
    rng = np.random.default_rng(0)
    v, x = rng.standard_normal(400), rng.standard_normal(400)

    def phi(xs):
        terms = v * (np.sin(xs[0]) - 8.0)
        return float(terms.sum()), float(np.abs(terms).sum())

    exact = v[3] * np.cos(x[3])
    default, precise = fd.element(phi, [x], 0, (3,)), fd.precise_element(phi, [x], 0, (3,))
    assert abs(precise.value - exact) <= precise.error < default.error / 10
    assert abs(default.value - exact) <= default.error
    d = fd.rademacher(np.random.default_rng(1), (400,))
    along = fd.precise_directional(phi, [x], [d])
    assert abs(along.value - float(v * np.cos(x) @ along.directions[0])) <= along.error < fd.directional(
        phi, [x], [d]).error / 10  # fmt: skip


def test_steps_narrow_for_an_ill_conditioned_function_only():
    assert fd.shrink_for(0.0) == fd.shrink_for(fd.CONDITION_FREE) == 1.0
    assert fd.shrink_for(1e8) == pytest.approx((fd.CONDITION_FREE / 1e8) ** (2 / 3))
    assert fd.shrink_for(float("inf")) == 1.0 and fd.shrink_for(1e300) == fd.MIN_SHRINK


def test_nearby_points_break_a_small_tie_every_way():
    x = np.array([2.0, 2.0, 2.0, 5.0])
    group = nearby.tied_group(x, np.array([0]))
    assert group.tolist() == [0, 1, 2]
    orders = {tuple(np.argsort(y[group])) for y in nearby.nearby_points(np.random.default_rng(0), x, group)}
    assert len(orders) == 6  # every order of the three tied elements
    assert all(y[3] == 5.0 for y in nearby.nearby_points(np.random.default_rng(0), x, group))


def test_elements_in_one_batch_are_element_by_element():
    """fd.elements asks for all its points at once and gives what fd.element gives, target by target."""
    phi = phi_of(lambda xs: np.sin(xs[0]) * xs[1] ** 2)
    calls = []

    def phi_many(points):
        calls.append(len(points))
        got = [phi(p) for p in points]
        return np.array([g[0] for g in got]), np.array([g[1] for g in got])

    targets = [(0, (0, 1)), (1, (2, 3)), (0, (2, 0))]
    values, errors = fd.elements(phi_many, [X, Y], targets, shrinks=[1.0, 0.5])
    assert calls == [4 * len(targets)]
    for n, (i, k) in enumerate(targets):
        one = fd.element(phi, [X, Y], i, k, shrink=[1.0, 0.5][i])
        assert values[n] == one.value and errors[n] == one.error
    assert abs(values[0] - np.cos(X[0, 1]) * Y[0, 1] ** 2) < 1e-9
