"""Per-element differences for many elements at once, each round of evaluations asked for in
one call (``PhiEach``: the engine's ``evaluate_many``, which vectorises them where the op allows):

- ``refined_elements``: ``finite_diff.refined_element``'s step ladders walked in lockstep;
- ``one_sided_elements``: ``finite_diff.one_sided_element`` at many elements.

A kink element's ladder never confirms a rung and walks LOST rungs of four evaluations each,
and every failing element gets five more for its one-sided differences: a tie of a few dozen
elements (max over a dim, clamp) made that a thousand single torch calls per case. Each
element's walk, and the arithmetic of every estimate, is finite_diff's: only the order of the
evaluations differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.oracles.finite_diff import (
    CBRT_EPS,
    LADDER,
    LOST,
    RUNGS,
    STALL,
    Derivative,
    OneSided,
    agree,
    central_from,
    central_points,
    one_sided_from,
    one_sided_points,
    step,
    with_element,
)

# phi at many points: (value, summand magnitude) per point, each computed as Phi computes it
PhiEach = Callable[[Sequence[Sequence[np.ndarray]]], list[tuple[float, float]]]


@dataclass
class _Walk:
    """One element's ladder: refined_element's ``walk`` as a state between rungs."""

    i: int
    k: tuple
    x0: float
    first: Derivative
    best: Derivative | None = None
    best_h: float = 0.0
    previous: Derivative | None = None
    h: float = 0.0
    rungs: int = 0
    limit: int = STALL
    stall: int = 0
    main: bool = False  # the walk from the default step (after the short one at the element's own scale)

    def start_main(self) -> None:
        self.previous, self.h, self.rungs, self.limit, self.stall, self.main = (
            self.first, self.best_h, RUNGS, STALL, 0, True
        )  # fmt: skip

    def next_step(self) -> float | None:
        """The step of the next rung's estimate, or None when the element is done."""
        while True:
            stop = self.rungs <= 0 or self.x0 + self.h / (2 * LADDER) == self.x0
            if not stop and self.stall < (self.limit if self.best else LOST):
                return self.h / LADDER
            if self.main:
                return None
            self.start_main()

    def take(self, d: Derivative) -> None:
        if agree(self.previous, d) and (self.best is None or self.previous.error < self.best.error):
            self.best, self.best_h, self.stall = self.previous, self.h, 0
        else:
            self.stall += 1
        self.previous, self.h, self.rungs = d, self.h / LADDER, self.rungs - 1


def refined_elements(
    phi_each: PhiEach, xs: Sequence[np.ndarray], targets: Sequence[tuple[int, tuple]],
    firsts: Sequence[Derivative], shrinks: Sequence[float],
) -> list[tuple[Derivative, float] | None]:  # fmt: skip
    """refined_element at each (input, index) target with its first estimate and its input's
    shrink: (better estimate, its step), or None where no rung was confirmed."""
    walks = []
    for (i, k), first in zip(targets, firsts):
        x0 = float(xs[i][k])
        w = _Walk(i, k, x0, first, best_h=step(abs(x0), shrinks[i]))
        own = CBRT_EPS * abs(x0)
        if 0 < own < w.best_h / LADDER:  # first a short walk at the element's own scale
            w.h, w.rungs, w.limit = own, 1, 1
            walks.append((w, own))
        else:
            w.start_main()
            walks.append((w, None))
    firsts_at = [(w, h) for w, h in walks if h is not None]  # the own-scale walks' starting estimates
    for (w, _), d in zip(firsts_at, estimates(phi_each, xs, [(w.i, w.k, h) for w, h in firsts_at])):
        w.previous = d
    active = [w for w, _ in walks]
    while active:
        steps = [(w, w.next_step()) for w in active]
        active = [w for w, h in steps if h is not None]
        got = estimates(phi_each, xs, [(w.i, w.k, h) for w, h in steps if h is not None])
        for w, d in zip(active, got):
            w.take(d)
    return [None if w.best is None else (w.best, w.best_h) for w, _ in walks]


def estimates(phi_each: PhiEach, xs: Sequence[np.ndarray], requests: list[tuple[int, tuple, float]]) -> list:
    """finite_diff.element(phi, xs, i, k, h) for each (i, k, h), all 4 x len(requests)
    evaluations in one ``phi_each`` call."""
    if not requests:
        return []
    at = [(i, k, float(xs[i][k]), h) for i, k, h in requests]
    got = _evaluated(phi_each, xs, at, central_points)
    return [central_from(x0, h, got[4 * n : 4 * n + 4]) for n, (_, _, x0, h) in enumerate(at)]


def one_sided_elements(
    phi_each: PhiEach, xs: Sequence[np.ndarray], targets: Sequence[tuple[int, tuple]],
    steps: Sequence[float | None], shrinks: Sequence[float],
) -> OneSided:  # fmt: skip
    """one_sided_element at each (input, index) target with its step (None: the element's
    default, narrowed by its input's shrink): arrays of left and right derivatives and their
    errors, one element per target (5 evaluations each, one call)."""
    if not targets:
        return OneSided(*(np.zeros(0) for _ in range(4)))
    x0s = [float(xs[i][k]) for i, k in targets]
    at = [(i, k, x0, step(abs(x0), shrinks[i]) if h is None else h) for (i, k), x0, h in zip(targets, x0s, steps)]
    got = _evaluated(phi_each, xs, at, one_sided_points)
    rows = [one_sided_from(x0, h, got[5 * n : 5 * n + 5]) for n, (_, _, x0, h) in enumerate(at)]
    return OneSided(*(np.array(column, dtype=np.float64) for column in zip(*rows)))


def _evaluated(phi_each: PhiEach, xs, at: list[tuple[int, tuple, float, float]], points) -> list:
    """phi at ``points(x0, h)`` of every (input, index, x0, step) in ``at``, in one call."""
    return phi_each([with_element(xs, i, k, x) for i, k, x0, h in at for x in points(x0, h)])
