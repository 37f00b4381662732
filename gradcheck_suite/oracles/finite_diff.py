"""Central finite differences in float64 that report their own error.

The quantity checked is the vector-Jacobian product v^T J: the gradient of the
scalar phi(x) = sum(v * f(x)). Each derivative is a central difference at step h
and h/2, combined by Richardson extrapolation (which cancels the h^2 term):

    D(h) = (phi(x + h d) - phi(x - h d)) / (2 h)
    R    = (4 D(h/2) - D(h)) / 3
    error estimate = |R - D(h/2)| + rounding

with h = eps64^(1/3) * max(1, |x|), the step that balances truncation and rounding.
Rounding is bounded from the magnitude of the summands of phi (sum |v * f|), not
from |phi|, which can be small by cancellation. Points x + h d are rounded to float64;
the displacement actually taken is computed exactly (Sterbenz) and reported, so the
analytic side is compared along the direction the differences really measured.

Small inputs get the full gradient, one element at a time; larger ones are checked
along random Gaussian directions (four evaluations of phi per direction).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EPS64 = float(np.finfo(np.float64).eps)
CBRT_EPS = EPS64 ** (1.0 / 3.0)
FULL_LIMIT = 64  # total input elements up to which the full gradient is computed
PROBES = 2  # random directions for larger inputs

# phi(xs) -> (value, scale): the scalar and the sum of the magnitudes it was summed from
Phi = Callable[[Sequence[np.ndarray]], tuple[float, float]]


@dataclass
class Derivative:
    value: float
    error: float
    directions: list[np.ndarray] | None = None  # the displacement actually measured, per input


def _step(scale: float) -> float:
    return CBRT_EPS * max(1.0, scale)


def _rounding(scales: Sequence[float], denominator: float) -> float:
    """Bound on the rounding error of (phi+ - phi-) / denominator."""
    return 4 * EPS64 * max(scales) / abs(denominator) if denominator else math.inf


def _combine(d1: float, r1: float, d2: float, r2: float) -> Derivative:
    """Richardson: D(h) with rounding r1 and D(h/2) with rounding r2."""
    value = (4 * d2 - d1) / 3
    return Derivative(value, abs(value - d2) + (4 * r2 + r1) / 3)


def directional(phi: Phi, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray]) -> Derivative:
    """d/dt phi(x + t d) at t = 0, with an error estimate and the effective direction."""
    scale = max((float(np.max(np.abs(x))) for x in xs if x.size), default=1.0)
    h = _step(scale)
    parts = []
    for step in (h, h / 2):
        plus = [x + step * d for x, d in zip(xs, ds)]
        minus = [x - step * d for x, d in zip(xs, ds)]
        (p, sp), (m, sm) = phi(plus), phi(minus)
        moved = [(a - b) / (2 * step) for a, b in zip(plus, minus)]  # exact differences of close floats
        parts.append(((p - m) / (2 * step), _rounding((sp, sm), 2 * step), moved))
    (d1, r1, moved1), (d2, r2, moved2) = parts
    result = _combine(d1, r1, d2, r2)
    result.directions = [(4 * b - a) / 3 for a, b in zip(moved1, moved2)]
    return result


def gradient(phi: Phi, xs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The full gradient of phi with respect to every element of every input, and the
    elementwise error estimates (4 evaluations of phi per element)."""
    grads, errors = [], []
    for i, x in enumerate(xs):
        g = np.zeros(x.shape)
        err = np.zeros(x.shape)
        for k in np.ndindex(x.shape):
            d = _element(phi, xs, i, k)
            g[k], err[k] = d.value, d.error
        grads.append(g)
        errors.append(err)
    return grads, errors


def _element(phi: Phi, xs: Sequence[np.ndarray], i: int, k: tuple) -> Derivative:
    x0 = float(xs[i][k])
    h = _step(abs(x0))  # the step follows this element's own magnitude

    def at(value: float) -> tuple[float, float]:
        moved = list(xs)
        moved[i] = xs[i].copy()
        moved[i][k] = value
        return phi(moved)

    parts = []
    for step in (h, h / 2):
        up, down = x0 + step, x0 - step
        (p, sp), (m, sm) = at(up), at(down)
        parts.append(((p - m) / (up - down), _rounding((sp, sm), up - down)))
    (d1, r1), (d2, r2) = parts
    return _combine(d1, r1, d2, r2)


def use_full(xs: Sequence[np.ndarray]) -> bool:
    return sum(x.size for x in xs) <= FULL_LIMIT
