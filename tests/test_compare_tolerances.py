"""compare.compare / worst_of and the error budget of tolerances.budget."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradcheck_suite.checking import tolerances
from gradcheck_suite.checking.compare import Comparison, compare, worst_of

NAN, INF = math.nan, math.inf


# -- compare: non-finite values ---------------------------------------------------------


def test_nan_matches_nan_and_inf_matches_inf():
    a = np.array([NAN, INF, -INF, 1.0])
    c = compare(a, a.copy(), 1e-12)
    assert c.ok
    assert c.max_abs_err == 0.0
    assert c.score == 0.0
    assert not c.nonfinite


def test_opposite_infinities_differ():
    c = compare(np.array([1.0, INF]), np.array([1.0, -INF]), 1.0)
    assert not c.ok
    assert c.score == INF
    assert c.worst == (1,)


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_non_finite_actual_against_finite_expected_is_flagged(bad):
    c = compare(np.array([1.0, bad, 3.0]), np.array([1.0, 2.0, 3.0]), 1.0)
    assert not c.ok
    assert c.nonfinite
    assert c.score == INF
    assert c.worst == (1,)
    assert c.expected == 2.0


def test_nan_only_in_expected_fails_but_is_not_an_engine_non_finite():
    c = compare(np.array([1.0, 2.0]), np.array([1.0, NAN]), 1.0)
    assert not c.ok
    assert not c.nonfinite  # the engine's value is finite; the reference is the odd one
    assert c.worst == (1,)
    assert c.max_abs_err == INF


# -- compare: shapes and sizes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "e"),
    [((3,), (1, 3)), ((2, 3), (3, 2)), ((), (1,)), ((0,), (0, 2))],
)
def test_shape_mismatch_fails_and_names_both_shapes(a, e):
    c = compare(np.zeros(a), np.zeros(e), 1.0)
    assert not c.ok
    assert c.score == INF
    assert str(a) in c.note and str(e) in c.note


def test_empty_arrays_agree():
    c = compare(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3)))
    assert c.ok
    assert c.score == 0.0
    assert c.max_abs_err == 0.0


def test_zero_dim_arrays():
    ok = compare(np.array(1.0), np.array(1.0 + 1e-9), 1e-6)
    bad = compare(np.array(1.0), np.array(2.0), 1e-6)
    assert ok.ok and ok.worst == ()
    assert not bad.ok and bad.worst == ()
    assert bad.actual == 1.0 and bad.expected == 2.0


# -- compare: worst element, boundary, relative error -------------------------------------


def test_worst_is_the_highest_score_not_the_largest_difference():
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[0, 0] = 5.0  # largest absolute difference, but a generous tolerance there
    actual[1, 2] = 0.5  # smaller difference, tight tolerance: the worst by score
    tol = np.full((2, 3), 1e-3)
    tol[0, 0] = 100.0
    c = compare(actual, expected, tol)
    assert not c.ok
    assert c.worst == (1, 2)
    assert c.actual == 0.5 and c.expected == 0.0
    assert c.tolerance == 1e-3
    assert c.score == pytest.approx(0.5 / 1e-3)
    assert c.max_abs_err == 5.0  # the maximum over all elements, not just the worst one


def test_difference_equal_to_tolerance_passes_and_just_above_fails():
    e = np.array([1.0, 2.0])
    assert compare(e + np.array([0.0, 0.5]), e, 0.5).ok
    assert not compare(e + np.array([0.0, 0.5]), e, np.nextafter(0.5, 0.0)).ok


def test_zero_tolerance_allows_only_exact_equality():
    e = np.array([2.0, 0.0])
    assert compare(e.copy(), e, 0.0).ok
    c = compare(e + np.array([0.0, 1e-300]), e, 0.0)
    assert not c.ok and c.score == INF


def test_a_nan_tolerance_does_not_pass_a_difference():
    c = compare(np.array([5.0, 1.0]), np.array([1.0, 1.0]), np.array([NAN, 1.0]))
    assert not c.ok
    assert c.worst == (0,)


def test_relative_error_is_relative_to_expected():
    c = compare(np.array([1.1, 10.5]), np.array([1.0, 10.0]), 1.0)
    assert c.max_rel_err == pytest.approx(0.1)
    assert c.max_abs_err == pytest.approx(0.5)


def test_float32_actual_is_compared_in_float64():
    e = np.array([0.1, 0.2, 0.3])
    c = compare(e.astype(np.float32), e, 1e-7)
    assert c.ok
    assert 0 < c.max_abs_err < 2e-8


def test_worst_of_picks_the_highest_score_and_handles_no_comparisons():
    good = compare(np.array([1.0]), np.array([1.0]), 1.0)
    bad = compare(np.array([3.0]), np.array([1.0]), 1.0)
    worse = compare(np.array([9.0]), np.array([1.0]), 1.0)
    assert worst_of([("input 0", good), ("input 1", worse), ("input 2", bad)]) == ("input 1", worse)
    label, empty = worst_of([])
    assert label == "" and empty.ok and empty == Comparison.empty()


# -- tolerances ---------------------------------------------------------------------------


def test_eps_is_the_unit_roundoff_and_unknown_dtypes_are_refused():
    assert 1.0 + tolerances.eps("float64") == 1.0  # half an ulp of 1 rounds to even
    assert 1.0 + 2 * tolerances.eps("float64") > 1.0
    assert np.float32(1.0) + np.float32(tolerances.eps("float32")) == np.float32(1.0)
    assert np.float32(1.0) + np.float32(2 * tolerances.eps("float32")) > np.float32(1.0)
    with pytest.raises(ValueError, match="float16"):
        tolerances.eps("float16")
    with pytest.raises(ValueError, match="float16"):
        tolerances.budget(np.ones(2), "float16")


def test_budget_grows_with_the_number_of_terms_like_its_square_root():
    ref = np.array([1.0, -2.0, 0.5])
    floor = tolerances.budget(np.zeros(3), "float32")
    one, four, hundred = (tolerances.budget(ref, "float32", n_terms=n) for n in (1, 4, 100))
    assert np.all(one < four) and np.all(four < hundred)
    np.testing.assert_allclose(four - floor, 2 * (one - floor), rtol=1e-12)
    np.testing.assert_allclose(hundred - floor, 10 * (one - floor), rtol=1e-12)
    # fewer than one term is treated as one
    np.testing.assert_array_equal(tolerances.budget(ref, "float32", n_terms=0), one)


def test_budget_adds_the_measured_noise_and_the_fd_error_estimate():
    ref = np.array([1.0, 2.0, 3.0])
    base = tolerances.budget(ref, "float64")
    noise = np.array([1e-3, -2e-3, 0.0])  # a sign must not shrink the budget
    fd_error = np.array([0.0, 1e-4, -1e-2])
    with_noise = tolerances.budget(ref, "float64", noise=noise)
    with_fd = tolerances.budget(ref, "float64", fd_error=fd_error)
    both = tolerances.budget(ref, "float64", noise=noise, fd_error=fd_error)
    np.testing.assert_allclose(with_noise - base, tolerances.NOISE_FACTOR * np.abs(noise), atol=1e-18)
    np.testing.assert_allclose(with_fd - base, tolerances.FD_FACTOR * np.abs(fd_error), atol=1e-18)
    np.testing.assert_allclose(both - base, (with_noise - base) + (with_fd - base), atol=1e-18)
    assert np.all(with_noise >= base) and np.all(with_fd >= base)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_budget_has_an_absolute_floor(dtype):
    tol = tolerances.budget(np.zeros((2, 2)), dtype)
    assert np.all(tol > 0)
    np.testing.assert_array_equal(tol, np.full((2, 2), tol[0, 0]))
    # the floor tolerates roundoff around zero, and no more than a few ulps of 1
    assert compare(np.array([tolerances.eps(dtype) / 2]), np.array([0.0]), tol[0, :1]).ok
    # ... and is well below the allowance of a reference of magnitude one
    assert tol[0, 0] < 0.1 * tolerances.budget(np.ones(1), dtype)[0]


def test_float32_budget_is_wider_than_float64():
    ref = np.array([1.0, 1e-3, 7.0])
    assert np.all(tolerances.budget(ref, "float32") > 1e6 * tolerances.budget(ref, "float64"))


def test_budget_is_normwise_small_elements_get_the_large_elements_allowance():
    ref = np.array([1e-12, 1000.0])
    tol = tolerances.budget(ref, "float64")
    # elementwise-relative would give the first element ~1e-12 of the second's allowance
    assert tol[0] >= 0.4 * tol[1]
    assert tol[0] > 1e3 * tolerances.eps("float64")


def test_budget_ignores_non_finite_references_when_scaling():
    tol = tolerances.budget(np.array([INF, NAN, 1.0]), "float64")
    assert np.all(np.isfinite(tol))
    finite_only = tolerances.budget(np.array([1.0]), "float64")
    assert tol[2] == finite_only[0]
    assert 0 < tol[0] < tol[2]


def test_budget_accepts_float32_rounding_and_rejects_a_real_error():
    """The point of the budget: rounding to float32 passes, a 1e-3 relative error fails."""
    rng = np.random.default_rng(12)
    exact = rng.standard_normal((5, 7))
    rounded = exact.astype(np.float32)
    assert compare(rounded, exact, tolerances.budget(exact, "float32")).ok
    wrong = rounded.copy()
    wrong[2, 3] *= 1.001
    c = compare(wrong, exact, tolerances.budget(exact, "float32"))
    assert not c.ok and c.worst == (2, 3)


def test_budget_with_n_terms_covers_a_float32_sum():
    rng = np.random.default_rng(3)
    n = 4096
    terms = rng.uniform(0.0, 1.0, n)
    exact = np.array(math.fsum(terms))
    approx = np.cumsum(terms.astype(np.float32), dtype=np.float32)[-1]  # sequential: error grows with n
    assert not compare(approx, exact, tolerances.eps("float32") * abs(exact)).ok  # plain eps is too tight
    assert compare(approx, exact, tolerances.budget(exact, "float32", n_terms=n)).ok


# -- measured rounding noise (noise.py) ---------------------------------------------------------


def test_rounding_noise_is_normwise_and_scaled_to_the_dtype():
    low = np.array([1.0, 2.0 + 1e-6, 3.0], dtype=np.float32)
    high = np.array([1.0, 2.0, 3.0])
    measured = float(np.abs(np.float64(low[1]) - 2.0))
    assert tolerances.rounding_noise(low, high, "float32") == pytest.approx(measured)  # every element gets it
    ratio = tolerances.eps("float64") / tolerances.eps("float32")
    assert tolerances.rounding_noise(low, high, "float64") == pytest.approx(measured * ratio)
    assert tolerances.rounding_noise(np.array([np.inf, 1.0]), np.array([5.0, 1.0]), "float32") == 0.0


def test_sensitivity_noise_is_the_nudged_change_per_unit_roundoff():
    high, nudged = np.array([1.0, -4.0]), np.array([1.0, -4.0 + 8 * tolerances.NUDGE])
    assert tolerances.sensitivity_noise(nudged, high, "float64") == pytest.approx(8 * tolerances.eps("float64"))


def test_noise_probe_sees_a_near_singular_solve_that_float32_cannot():
    """solve(A, b) with singular values down to 1e-8: float32 loses A altogether, the nudge
    measures the condition number, and the noise covers the float64 error of a second solver."""
    from gradcheck_suite.checking.noise import NoiseProbe

    rng = np.random.default_rng(0)
    q1, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    q2, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    a, b = q1 @ np.diag(np.geomspace(1, 1e-8, 5)) @ q2, rng.standard_normal((5, 2))
    x = np.linalg.solve(a, b)
    (noise,) = NoiseProbe.of([a, b], "float64").measure(lambda xs, nudge: [np.linalg.solve(*xs)], [x])
    other = np.linalg.lstsq(a, b, rcond=None)[0]  # another backward-stable algorithm
    assert np.max(np.abs(other - x)) <= tolerances.NOISE_FACTOR * 2 * noise
    assert noise < 1e-6 * np.max(np.abs(x))  # still a float64-sized allowance (cond 1e8 * eps)


def test_settings_validate_and_widen_only_upwards():
    from gradcheck_suite.checking.settings import Settings

    s = Settings(atol=1e-3, rtol=1e-2)
    tol = s.widen(np.array([1.0, 1e-9]), np.array([0.5, 0.5]))
    assert tol.tolist() == [1.0, 1e-3 + 1e-2 * 0.5]
    assert Settings().widen(np.array([1e-9]), np.array([5.0])).tolist() == [1e-9]
    for bad in ({"step": 0.0}, {"atol": -1.0}, {"nondet_tol": float("nan")}, {"probes": 0}):
        with pytest.raises(ValueError):
            Settings(**bad)
