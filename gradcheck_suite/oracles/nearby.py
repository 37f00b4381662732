"""Points near a kink, for telling whether an element is coupled to it: an element whose
value is one of its derivatives just across a tie or kink (clamp's x == min == max, a tied
max) is judged with the kink, not as a smooth point. The estimates at these points are
finite_diff's; this module only chooses the points and takes the spread of what they give.
"""

from __future__ import annotations

import itertools

import numpy as np

from gradcheck_suite.oracles.finite_diff import CBRT_EPS, OneSided

NEARBY_SAMPLES = 64  # random points near a kink when its tied group is too large to enumerate (a three-way
# tie of clamp(x, lo, hi) leaves x between its bounds at one point in six: 64 miss 1 element in 10^5)
NEARBY_ORDERS = 4  # tied groups up to this size are broken up in every order, on both sides
NEARBY_SPAN = 64.0  # how far (in default steps) the kink is broken up; the estimates use 1/8 step


def tied_group(x: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Flat indices of ``seeds`` and of every element equal in value to one of them (a tie of
    max, clamp's x == min == max): the elements a kink at ``seeds`` couples together."""
    values = x[seeds]
    return np.union1d(seeds, np.flatnonzero(np.isin(x, values[np.isfinite(values)])))


def nearby_points(
    rng: np.random.Generator, x: np.ndarray, group: np.ndarray, shrink: float | np.ndarray = 1.0
) -> list[np.ndarray]:
    """Points near x (flat) where the elements of ``group`` are moved apart by a few dozen
    default steps: for a small group, one point per order of its elements, all moved up or
    all down (ties and point kinks are then broken every way: a three-way clamp tie has one
    order that leaves x between its bounds); for a larger group, the orders in which earlier
    elements are larger and in which later ones are (the "first/last of a tie wins" rules of
    max and max pooling), up and down, and NEARBY_SAMPLES random points."""
    unit = CBRT_EPS * np.maximum(1.0, np.abs(x[group])) * NEARBY_SPAN * np.broadcast_to(shrink, x.shape)[group]
    small = group.size <= NEARBY_ORDERS
    orders = itertools.permutations(range(1, group.size + 1)) if small else (
        np.arange(group.size, 0, -1), np.arange(1, group.size + 1))  # fmt: skip
    points = []
    for order in orders:
        for sign in (1.0, -1.0):
            y = x.copy()
            y[group] += sign * np.asarray(order) / group.size * unit
            points.append(y)
    if small:
        return points
    for _ in range(NEARBY_SAMPLES):
        y = x.copy()
        y[group] += rng.uniform(-1.0, 1.0, group.size) * unit
        points.append(y)
    return points


def spread(values: list[np.ndarray], errors: list[np.ndarray]) -> OneSided:
    """The smallest and largest of several derivative estimates, as a [L, R] interval."""
    v, e = np.array(values), np.array(errors)
    low, high = np.argmin(v, axis=0), np.argmax(v, axis=0)
    take = np.take_along_axis
    return OneSided(
        take(v, low[None], 0)[0], take(e, low[None], 0)[0], take(v, high[None], 0)[0], take(e, high[None], 0)[0]
    )
