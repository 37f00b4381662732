"""Per-element differences for many elements in one batched call (oracles/element_batches.py)
give exactly what finite_diff's one-element functions give: the same ladder walks (smooth
elements, kinks that never confirm a rung, jumps, functions varying below the default step,
tiny elements with their short walk at their own scale) and the same one-sided derivatives,
bit for bit; only the order and batching of the evaluations differ."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_suite.oracles import element_batches as eb
from gradcheck_suite.oracles import finite_diff as fd

# name -> (terms of phi, inputs): every element's ladder takes a different path
FUNCTIONS = {
    "smooth": (lambda xs: np.sin(xs[0]) * xs[1] ** 2, [np.linspace(-2, 2, 6).reshape(2, 3), np.full((2, 3), 1.3)]),
    "kinks at ties": (
        lambda xs: np.maximum(xs[0], xs[1]),
        [np.array([0.0, 0.5, -1.0, 2.0]), np.array([0.0, 0.5, 0.3, 2.0])],
    ),
    "jumps": (lambda xs: np.floor(xs[0]) + xs[0], [np.array([1.0, 2.0, 0.25, -3.0])]),
    "pole below the step": (lambda xs: 1 / (xs[0] - 0.3), [np.array([0.3 + 2e-7, 0.3 - 5e-7, 2.0])]),
    "tiny elements": (lambda xs: (xs[0] * 1e30) ** 2 + np.abs(xs[0]), [np.array([3e-31, -2e-29, 0.0, 1e-300])]),
}


def phi_of(terms):
    def phi(xs):
        with np.errstate(all="ignore"):
            t = np.asarray(terms(xs), dtype=np.float64)
            return float(np.sum(t)), float(np.sum(np.abs(t)))

    return phi


def batched(phi, calls: list):
    """phi at many points, counting the calls (one per rung of all ladders together)."""

    def phi_each(points):
        calls.append(len(points))
        return [phi(p) for p in points]

    return phi_each


def _targets(xs):
    return [(i, tuple(int(a) for a in k)) for i, x in enumerate(xs) for k in np.ndindex(x.shape)]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_lockstep_ladders_walk_as_one_element_at_a_time(name):
    terms, xs = FUNCTIONS[name]
    phi, shrinks = phi_of(terms), [1.0, 0.5][: len(xs)]
    targets = _targets(xs)
    firsts = [fd.element(phi, xs, i, k, shrink=shrinks[i]) for i, k in targets]
    expected = [fd.refined_element(phi, xs, i, k, f, shrinks[i]) for (i, k), f in zip(targets, firsts)]
    calls: list = []
    got = eb.refined_elements(batched(phi, calls), xs, targets, firsts, shrinks)
    assert got == expected  # Derivative and step, exactly (nan-free here; None where no rung confirmed)
    assert len(calls) < sum(c // 4 for c in calls)  # many elements' rungs per call


def test_the_functions_cover_every_ending_of_a_ladder():
    endings = set()
    for terms, xs in FUNCTIONS.values():
        phi = phi_of(terms)
        for i, k in _targets(xs):
            first = fd.element(phi, xs, i, k)
            found = fd.refined_element(phi, xs, i, k, first)
            endings.add("none" if found is None else "default step" if found[1] == fd.step(abs(xs[i][k])) else "finer")
    assert endings == {"none", "default step", "finer"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_batched_one_sided_derivatives_are_the_one_element_ones(name):
    terms, xs = FUNCTIONS[name]
    phi = phi_of(terms)
    targets = _targets(xs)
    steps = [None if n % 2 else 1e-3 for n in range(len(targets))]  # None: the element's default step
    shrinks = [0.5] * len(xs)
    singles = [fd.one_sided_element(phi, xs, i, k, h, 0.5) for (i, k), h in zip(targets, steps)]
    calls: list = []
    got = eb.one_sided_elements(batched(phi, calls), xs, targets, steps, shrinks)
    for field in ("left", "left_error", "right", "right_error"):
        np.testing.assert_array_equal(getattr(got, field), [getattr(s, field) for s in singles])
    assert calls == [5 * len(targets)]
    empty = eb.one_sided_elements(batched(phi, calls), xs, [], [], shrinks)
    assert empty.left.shape == (0,)
