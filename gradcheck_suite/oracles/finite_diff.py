"""Finite differences in float64 that report their own error.

Scalar derivatives are of phi(x) = sum(v * f(x)) (the vector-Jacobian product v^T J is
its gradient); array derivatives are of a function returning arrays (f itself for a
Jacobian-vector product, a VJP for a Hessian-vector product).

Central differences, combined by Richardson extrapolation (cancels the h^2 term):

    D(h) = (g(x + h d) - g(x - h d)) / (2 h)        R = (4 D(h/2) - D(h)) / 3
    error estimate = |R - D(h/2)| + rounding

One-sided differences (for kinks), Richardson-combined the same way (cancels the h term):

    D+(h) = (g(x + h d) - g(x)) / h                 R+ = 2 D+(h/2) - D+(h)
    D-(h) = (g(x) - g(x - h d)) / h                 R- = 2 D-(h/2) - D-(h)

The step is h = eps64^(1/3) * max(1, |x|): it balances truncation and rounding, and
follows each element's own magnitude for elementwise derivatives. Rounding is bounded
from the magnitude of the summands (sum |v * f|), not from |phi|, which can be small by
cancellation. Points x + h d are rounded to float64; the displacement actually taken
is computed exactly (Sterbenz) and returned, so the analytic side can be evaluated
along the direction the differences really measured.

A point is a kink when its left and right derivatives differ by more than KINK_FACTOR
times their error estimates together (or one of them is not finite): there no
derivative exists, and a (sub)gradient can only be checked to lie between them.

Small inputs get the full gradient, one element at a time; larger ones are checked along
Rademacher (random +-1) probes: if any element of a gradient is off by more than the
probe's tolerance, one probe misses it with probability at most 1/2 (for the probe sign of
that element, at most one of its two values can bring the dot product back under the
tolerance), so PROBES independent probes miss it with probability at most 2**-PROBES.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EPS64 = float(np.finfo(np.float64).eps)
CBRT_EPS = EPS64 ** (1.0 / 3.0)
FULL_LIMIT = 64  # total input elements up to which the full gradient is computed
PROBES = 4  # Rademacher probes for larger inputs
KINK_FACTOR = 4.0  # left and right derivatives must differ by this many error estimates
CONFIRM = 2.0  # neighbouring rungs of the step ladder agree within this many error estimates
LADDER, RUNGS, STALL, LOST = 8.0, 40, 4, 14  # step refinement: ratio of rungs, most rungs, rungs without gain
PRECISE_STEPS = 64.0  # precise_element's largest step, in default steps (~4e-4 |x|)
DIRECTION_TOL = 2.0**-40  # a ladder rung whose displacement departs from the direction by more is unusable
CONDITION_FREE = 16.0  # measured conditions up to this leave the default step alone (shrink_for)
MIN_SHRINK = 2.0**-26  # no step below ~1e-13 |x|: the displacement itself would be a few dozen ulps

# phi(xs) -> (value, scale): the scalar and the sum of the magnitudes it was summed from
Phi = Callable[[Sequence[np.ndarray]], tuple[float, float]]
# phi at many points at once: (values, scales), one of each per point
PhiMany = Callable[[Sequence[Sequence[np.ndarray]]], tuple[np.ndarray, np.ndarray]]
# fn(xs) -> arrays (an output, or one gradient per input)
ArrayFn = Callable[[Sequence[np.ndarray]], list[np.ndarray]]


@dataclass
class Derivative:
    value: float
    error: float
    directions: list[np.ndarray] | None = None  # the displacement actually measured, per input


@dataclass
class ArrayDerivative:
    values: list[np.ndarray]
    errors: list[np.ndarray]
    directions: list[np.ndarray] | None = None


@dataclass
class OneSided:
    """Left and right derivative estimates (scalars or arrays) and their errors."""

    left: np.ndarray
    left_error: np.ndarray
    right: np.ndarray
    right_error: np.ndarray

    def kink(self) -> np.ndarray:
        """Where the left and right derivatives disagree beyond their errors."""
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(self.left) & np.isfinite(self.right)
            apart = np.abs(self.left - self.right) > KINK_FACTOR * (self.left_error + self.right_error)
        return ~finite | apart

    def defined(self) -> np.ndarray:
        """Where both one-sided derivatives exist (finite, with finite error estimates)."""
        parts = (self.left, self.right, self.left_error, self.right_error)
        return np.logical_and.reduce([np.isfinite(p) for p in parts])

    def between(self, value: np.ndarray, slack: np.ndarray) -> np.ndarray:
        """Where ``value`` lies between the one-sided derivatives (within their errors and ``slack``)."""
        pad = KINK_FACTOR * (self.left_error + self.right_error) + slack
        with np.errstate(invalid="ignore"):
            low, high = np.minimum(self.left, self.right) - pad, np.maximum(self.left, self.right) + pad
            return (value >= low) & (value <= high)


def step(scale: float, shrink: float = 1.0) -> float:
    """The central-difference step for an element of magnitude ``scale``; ``shrink`` (<= 1)
    narrows it for a function that varies on a finer scale (see ``shrink_for``)."""
    return CBRT_EPS * max(1.0, scale) * shrink


def shrink_for(condition: float) -> float:
    """How much to narrow every step for a function whose measured relative condition is
    ``condition`` (noise.py: the relative change of the result per relative change of the
    inputs). Where it is large the function turns on a scale of |x| / condition (a nearly
    singular solve): the default step would straddle that structure and the differences
    would report a kink or a wrong derivative with a confident error estimate.

    With a relative step s, the truncation error of a central difference grows like
    (s condition)^2 and the rounding error like eps / s (each evaluation is off by about
    condition * eps * |f|, the derivative is about condition * |f| / |x|): they balance at
    s = eps^(1/3) condition^(-2/3), the default step times condition^(-2/3)."""
    if not math.isfinite(condition) or condition <= CONDITION_FREE:
        return 1.0
    return max((CONDITION_FREE / condition) ** (2 / 3), MIN_SHRINK)


def _rounding(scales: Sequence[float], denominator: float) -> float:
    """Bound on the rounding error of (phi+ - phi-) / denominator."""
    return 4 * EPS64 * max(scales) / abs(denominator) if denominator else math.inf


def _combine(d1: float, r1: float, d2: float, r2: float) -> Derivative:
    """Richardson: D(h) with rounding r1 and D(h/2) with rounding r2."""
    value = (4 * d2 - d1) / 3
    return Derivative(value, abs(value - d2) + (4 * r2 + r1) / 3)


def largest(xs: Sequence[np.ndarray]) -> float:
    """The largest magnitude over all inputs (1.0 when they are empty): the scale of a joint step."""
    return max((float(np.max(np.abs(x))) for x in xs if x.size), default=1.0)


def _moved(xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], t: float) -> list[np.ndarray]:
    return [x + t * d for x, d in zip(xs, ds)]


def directional(phi: Phi, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], shrink: float = 1.0) -> Derivative:
    """d/dt phi(x + t d) at t = 0, with an error estimate and the effective direction."""
    h = step(largest(xs), shrink)
    parts = []
    for s in (h, h / 2):
        plus, minus = _moved(xs, ds, s), _moved(xs, ds, -s)
        (p, sp), (m, sm) = phi(plus), phi(minus)
        moved = [a - b for a, b in zip(plus, minus)]  # exact differences of close floats
        parts.append(((p - m) / (2 * s), _rounding((sp, sm), 2 * s), moved, 2 * s))
    (d1, r1, moved1, w1), (d2, r2, moved2, w2) = parts
    result = _combine(d1, r1, d2, r2)
    # Richardson's weights on the displacements actually taken: (4 (m2 / w2) - m1 / w1) / 3
    result.directions = [b * (4 / (3 * w2)) - a * (1 / (3 * w1)) for a, b in zip(moved1, moved2)]
    return result


def precise_directional(phi: Phi, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], shrink: float = 1.0):
    """``directional`` to a higher order (6 evaluations of phi): steps H, H/2, H/4 with H =
    PRECISE_STEPS default steps and two levels of Richardson (see precise_element), with the
    displacement actually taken, combined alike."""
    h = step(largest(xs), shrink) * PRECISE_STEPS
    diffs, roundings, moves = [], [], []
    for s in (h, h / 2, h / 4):
        plus, minus = _moved(xs, ds, s), _moved(xs, ds, -s)
        (p, sp), (m, sm) = phi(plus), phi(minus)
        diffs.append((p - m) / (2 * s))
        roundings.append(_rounding((sp, sm), 2 * s))
        moves.append([(a - b) / (2 * s) for a, b in zip(plus, minus)])
    with np.errstate(invalid="ignore", over="ignore"):
        r1, r2 = (4 * diffs[1] - diffs[0]) / 3, (4 * diffs[2] - diffs[1]) / 3
        value = (16 * r2 - r1) / 15
        rounding = (16 * (4 * roundings[2] + roundings[1]) + 4 * roundings[1] + roundings[0]) / 45
    directions = [(16 * (4 * c - b) - (4 * b - a)) / 45 for a, b, c in zip(*moves)]
    return Derivative(value, abs(value - r2) + rounding, directions)


def gradient(phi: Phi, xs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The full gradient of phi with respect to every element of every input, and the
    elementwise error estimates (4 evaluations of phi per element)."""
    grads, errors = [], []
    for i, x in enumerate(xs):
        g = np.zeros(x.shape)
        err = np.zeros(x.shape)
        for k in np.ndindex(x.shape):
            d = element(phi, xs, i, k)
            g[k], err[k] = d.value, d.error
        grads.append(g)
        errors.append(err)
    return grads, errors


def _setter(phi: Phi, xs: Sequence[np.ndarray], i: int, k: tuple) -> Callable[[float], tuple[float, float]]:
    """phi as a function of element k of input i alone."""

    def at(value: float) -> tuple[float, float]:
        return phi(with_element(xs, i, k, value))

    return at


def with_element(xs: Sequence[np.ndarray], i: int, k: tuple, value: float) -> list[np.ndarray]:
    """The inputs with element k of input i set to ``value`` (that input copied, in float64)."""
    moved = list(xs)
    moved[i] = np.array(xs[i], dtype=np.float64, copy=True)
    moved[i][k] = value
    return moved


def element(
    phi: Phi, xs: Sequence[np.ndarray], i: int, k: tuple, h: float | None = None, shrink: float = 1.0
) -> Derivative:
    """d phi / d xs[i][k] by central differences (4 evaluations of phi); the step follows
    the element's own magnitude unless ``h`` is given."""
    x0 = float(xs[i][k])
    h = step(abs(x0), shrink) if h is None else h
    at = _setter(phi, xs, i, k)
    return central_from(x0, h, [at(x) for x in central_points(x0, h)])


def central_points(x0: float, h: float) -> list[float]:
    """Where ``element`` evaluates phi: x0 +- h, then x0 +- h/2."""
    return [x0 + h, x0 - h, x0 + h / 2, x0 - h / 2]


def central_from(x0: float, h: float, at: list[tuple[float, float]]) -> Derivative:
    """Richardson's central difference from phi's (value, scale) at ``central_points``."""
    parts = []
    for m, s in enumerate((h, h / 2)):
        up, down = x0 + s, x0 - s
        (p, sp), (q, sq) = at[2 * m], at[2 * m + 1]
        parts.append(((p - q) / (up - down), _rounding((sp, sq), up - down)))
    (d1, r1), (d2, r2) = parts
    return _combine(d1, r1, d2, r2)


def elements(
    phi_many: PhiMany, xs: Sequence[np.ndarray], targets: Sequence[tuple[int, tuple]], shrinks: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """``element`` at many (input, index) targets, with all their 4 evaluations of phi asked
    for in one call of ``phi_many`` (values and errors, one per target, as ``element`` gives)."""
    points, spans = [], []
    for i, k in targets:
        x0 = float(xs[i][k])
        h = step(abs(x0), shrinks[i])
        for s in (h, h / 2):
            for value in (x0 + s, x0 - s):
                moved = list(xs)
                moved[i] = np.array(xs[i], dtype=np.float64, copy=True)
                moved[i][k] = value
                points.append(moved)
            spans.append((x0 + s) - (x0 - s))
    values, scales = phi_many(points)
    span = np.array(spans, dtype=np.float64)
    with np.errstate(all="ignore"):
        d = (values[0::2] - values[1::2]) / span
        r = np.where(span != 0, 4 * EPS64 * np.maximum(scales[0::2], scales[1::2]) / np.abs(span), np.inf)
        d1, d2, r1, r2 = d[0::2], d[1::2], r[0::2], r[1::2]
        value = (4 * d2 - d1) / 3
        return value, np.abs(value - d2) + (4 * r2 + r1) / 3


def precise_element(phi: Phi, xs: Sequence[np.ndarray], i: int, k: tuple, shrink: float = 1.0) -> Derivative:
    """d phi / d xs[i][k] to a higher order (6 evaluations of phi): central differences at the
    steps H, H/2, H/4 with H = PRECISE_STEPS default steps, combined by two levels of Richardson
    extrapolation (the error falls like H^6); the error estimate is the last level's change plus
    the rounding of the smallest step. The larger steps cut the rounding error that dominates
    where phi sums many terms larger than its derivative (a log_softmax's), so a small error
    that the default estimate only suspects (the noise band) is judged for what it is."""
    x0 = float(xs[i][k])
    h = step(abs(x0), shrink) * PRECISE_STEPS
    at = _setter(phi, xs, i, k)
    diffs, roundings = [], []
    for s in (h, h / 2, h / 4):
        up, down = x0 + s, x0 - s
        (p, sp), (m, sm) = at(up), at(down)
        diffs.append((p - m) / (up - down))
        roundings.append(_rounding((sp, sm), up - down))
    with np.errstate(invalid="ignore", over="ignore"):
        r1, r2 = (4 * diffs[1] - diffs[0]) / 3, (4 * diffs[2] - diffs[1]) / 3
        value = (16 * r2 - r1) / 15
        rounding = (16 * (4 * roundings[2] + roundings[1]) + 4 * roundings[1] + roundings[0]) / 45
        return Derivative(value, abs(value - r2) + rounding)


def refined_element(
    phi: Phi, xs: Sequence[np.ndarray], i: int, k: tuple, first: Derivative, shrink: float = 1.0
) -> tuple[Derivative, float] | None:
    """A better estimate than ``first`` (at the default step) and its step, from a ladder of
    ever smaller steps (each LADDER times smaller than the last), and from a short ladder at
    the element's own scale (a tiny element's function may vary on that scale).

    A function that varies on a scale far below the default step (a nearly singular system,
    tiny inputs, a period much shorter than |x|) makes the default step straddle that
    structure, and Richardson's error estimate, which assumes the step is small enough, can
    be confidently wrong there. So a rung counts only when the next smaller rung confirms it
    (they agree within CONFIRM times their error estimates); of the confirmed rungs the
    one with the smallest error estimate wins. The ladder stops STALL rungs after the last
    improvement, or after LOST rungs without any confirmed rung (a jump: None, ``first`` stays)."""
    x0 = float(xs[i][k])
    best, best_h = None, step(abs(x0), shrink)

    def walk(h: float, previous: Derivative, rungs: int, stall_limit: int) -> None:
        nonlocal best, best_h
        stall = 0
        for _ in range(rungs):
            if x0 + h / (2 * LADDER) == x0 or stall >= (stall_limit if best else LOST):
                return
            d = element(phi, xs, i, k, h / LADDER)
            if agree(previous, d) and (best is None or previous.error < best.error):
                best, best_h, stall = previous, h, 0
            else:
                stall += 1
            previous, h = d, h / LADDER

    own = CBRT_EPS * abs(x0)
    if 0 < own < best_h / LADDER:
        walk(own, element(phi, xs, i, k, own), 1, 1)
    walk(best_h, first, RUNGS, STALL)
    return None if best is None else (best, best_h)


def agree(a: Derivative, b: Derivative) -> bool:
    """Two estimates at neighbouring steps that agree within their error estimates."""
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.isfinite(a.value) and abs(a.value - b.value) <= CONFIRM * (a.error + b.error))


def _one_side(diffs: list[tuple[float, float]]) -> tuple[float, float]:
    """Richardson for first-order differences: [(D(h), rounding), (D(h/2), rounding)]."""
    (d1, r1), (d2, r2) = diffs
    value = 2 * d2 - d1
    with np.errstate(invalid="ignore"):
        return value, abs(value - d2) + 2 * r2 + r1


def one_sided_element(
    phi: Phi, xs: Sequence[np.ndarray], i: int, k: tuple, h: float | None = None, shrink: float = 1.0
) -> OneSided:
    """Left and right derivatives of phi in element k of input i (5 evaluations of phi), with
    the element's default step or ``h`` (the step refined_element settled on)."""
    x0 = float(xs[i][k])
    h = step(abs(x0), shrink) if h is None else h
    at = _setter(phi, xs, i, k)
    return OneSided(*map(np.float64, one_sided_from(x0, h, [at(x) for x in one_sided_points(x0, h)])))


def one_sided_points(x0: float, h: float) -> list[float]:
    """Where one_sided_element evaluates phi: x0, then the left side's steps h, h/2, then the right's."""
    return [x0, x0 - h, x0 - h / 2, x0 + h, x0 + h / 2]


def one_sided_from(x0: float, h: float, at: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """(left, its error, right, its error) from phi's (value, scale) at ``one_sided_points``."""
    (f0, s0), moved_at = at[0], iter(at[1:])
    sides = []
    for sign in (-1.0, 1.0):
        diffs = []
        for s in (h, h / 2):
            moved = x0 + sign * s
            f, sf = next(moved_at)
            with np.errstate(invalid="ignore", over="ignore"):
                diffs.append(((f - f0) / (moved - x0), _rounding((sf, s0), moved - x0)))
        sides.append(_one_side(diffs))
    (left, le), (right, re) = sides
    return left, le, right, re


def one_sided_directional(
    phi: Phi, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], shrink: float = 1.0
) -> OneSided:
    """Left and right derivatives of phi along the direction ds (5 evaluations of phi)."""
    h = step(largest(xs), shrink)
    f0, s0 = phi(list(xs))
    sides = []
    for sign in (-1.0, 1.0):
        diffs = []
        for s in (h, h / 2):
            f, sf = phi(_moved(xs, ds, sign * s))
            with np.errstate(invalid="ignore", over="ignore"):
                diffs.append(((f - f0) / (sign * s), _rounding((sf, s0), s)))
        sides.append(_one_side(diffs))
    (left, le), (right, re) = sides
    return OneSided(np.float64(left), np.float64(le), np.float64(right), np.float64(re))


# -- probes -------------------------------------------------------------------------------


def rademacher(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random +-1 array: every element takes part in every probe with full weight."""
    return rng.integers(0, 2, size=shape).astype(np.float64) * 2 - 1


def miss_probability(probes: int = PROBES) -> float:
    """Bound on the chance that ``probes`` Rademacher probes all miss a gradient element
    that is off by more than the probe tolerance (see the module docstring)."""
    return 0.5**probes


def use_full(xs: Sequence[np.ndarray], limit: int = FULL_LIMIT) -> bool:
    """Whether the full gradient is computed (up to ``limit`` input elements), else probes."""
    return sum(x.size for x in xs) <= limit
