"""Finite differences of array-valued functions (a Jacobian-vector product is f's, a
Hessian-vector product a VJP's), with an error estimate per element: central differences
along a direction with Richardson extrapolation, a ladder of smaller steps where an element
is unsure, and one-sided differences for kinks. The scalar machinery (steps, rounding,
Richardson) is finite_diff's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gradcheck_suite.oracles.finite_diff import (
    CONFIRM,
    DIRECTION_TOL,
    EPS64,
    LADDER,
    LOST,
    RUNGS,
    STALL,
    ArrayDerivative,
    ArrayFn,
    OneSided,
    _moved,
    largest,
    step,
)


def _array_rounding(
    a: list[np.ndarray], b: list[np.ndarray], n_terms: int, denominator: float, noise: float = 0.0
) -> list[np.ndarray]:
    """Rounding of (a - b) / denominator, elementwise but normwise-scaled: an element that
    is small by cancellation may carry the rounding of the large terms it came from;
    ``noise`` is a measured rounding noise of each evaluation (intermediates larger than
    the result round at their own scale)."""
    out = []
    for p, m in zip(a, b):
        mag = np.maximum(np.abs(p), np.abs(m))
        finite = mag[np.isfinite(mag)]
        top = float(finite.max()) if finite.size else 0.0
        out.append((4 * EPS64 * math.sqrt(max(n_terms, 1)) * (mag + top) + 2 * noise) / abs(denominator))
    return out


def directional_arrays(
    fn: ArrayFn, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], n_terms: int = 1, noise: float = 0.0,
    h: float | None = None, shrink: float = 1.0,
):  # fmt: skip
    """d/dt fn(x + t d) at t = 0 for an array-valued fn: central differences with
    Richardson extrapolation, elementwise error estimates and the effective direction
    (step ``h``, by default one that follows the inputs' magnitude)."""
    h = step(largest(xs), shrink) if h is None else h
    parts = []
    with np.errstate(all="ignore"):
        for s in (h, h / 2):
            plus, minus = _moved(xs, ds, s), _moved(xs, ds, -s)
            fp, fm = fn(plus), fn(minus)
            diffs = [(p - m) / (2 * s) for p, m in zip(fp, fm)]
            moved = [(a - b) / (2 * s) for a, b in zip(plus, minus)]
            parts.append((diffs, _array_rounding(fp, fm, n_terms, 2 * s, noise), moved))
        (d1, r1, moved1), (d2, r2, moved2) = parts
        values = [(4 * b - a) / 3 for a, b in zip(d1, d2)]
        errors = [np.abs(v - b) + (4 * q + p) / 3 for v, b, p, q in zip(values, d2, r1, r2)]
    return ArrayDerivative(values, errors, [(4 * b - a) / 3 for a, b in zip(moved1, moved2)])


def refined_arrays(
    fn: ArrayFn, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], first: ArrayDerivative, idx: np.ndarray,
    n_terms: int = 1, noise: float = 0.0, shrink: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``refined_element`` for a directional derivative over arrays: better estimates than
    ``first`` at the flat elements ``idx``, from a ladder of ever smaller steps along ``ds``
    (each LADDER times smaller; a rung counts when the next one confirms it, the confirmed
    rung with the smallest error wins). Values nan (errors inf) where no rung was confirmed.
    The ladder stops where the inputs cannot resolve the step any more (the displacement
    actually taken departs from ``ds`` by more than DIRECTION_TOL), so every estimate is
    along the direction the analytic side was evaluated on."""
    u = _flat(ds)
    prev_v, prev_e = _flat(first.values)[idx], _flat(first.errors)[idx]
    best_v, best_e = np.full(idx.size, np.nan), np.full(idx.size, np.inf)
    if u.size == 0:
        return best_v, best_e
    stall = np.zeros(idx.size, int)
    h = step(largest(xs), shrink)
    for _ in range(RUNGS):
        h /= LADDER
        got = directional_arrays(fn, xs, ds, n_terms, noise, h=h)
        with np.errstate(invalid="ignore"):
            if not np.max(np.abs(_flat(got.directions) - u), initial=0.0) <= DIRECTION_TOL * np.max(np.abs(u)):
                break
            v, e = _flat(got.values)[idx], _flat(got.errors)[idx]
            better = np.isfinite(prev_v) & (np.abs(prev_v - v) <= CONFIRM * (prev_e + e)) & (prev_e < best_e)
        best_v[better], best_e[better] = prev_v[better], prev_e[better]
        stall = np.where(better, 0, stall + 1)
        if np.all(stall >= np.where(np.isfinite(best_v), STALL, LOST)):
            break
        prev_v, prev_e = v, e
    return best_v, best_e


def _flat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays]) if len(arrays) else np.zeros(0)


def one_sided_arrays(
    fn: ArrayFn, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], n_terms: int = 1, noise: float = 0.0,
    shrink: float = 1.0,
) -> list:  # fmt: skip
    """Left and right derivatives of an array-valued fn along ds: one OneSided per array."""
    h = step(largest(xs), shrink)
    with np.errstate(all="ignore"):
        f0 = fn(list(xs))
        sides = []
        for sign in (-1.0, 1.0):
            diffs = []
            for s in (h, h / 2):
                f = fn(_moved(xs, ds, sign * s))
                diffs.append(([(a - b) / (sign * s) for a, b in zip(f, f0)], _array_rounding(f, f0, n_terms, s, noise)))
            (a1, r1), (a2, r2) = diffs
            values = [2 * b - a for a, b in zip(a1, a2)]
            sides.append((values, [np.abs(v - b) + 2 * q + p for v, b, p, q in zip(values, a2, r1, r2)]))
    (left, le), (right, re) = sides
    return [OneSided(*parts) for parts in zip(left, le, right, re)]
