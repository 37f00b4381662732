"""Central finite differences in float64 that report their own error.

The quantity checked is the vector-Jacobian product v^T J: the gradient of the
scalar phi(x) = sum(v * f(x)). Each derivative is a central difference at step h
and h/2, combined by Richardson extrapolation (which cancels the h^2 term):

    D(h) = (phi(x + h d) - phi(x - h d)) / (2 h)
    R    = (4 D(h/2) - D(h)) / 3
    error estimate = |R - D(h/2)| + rounding, rounding = 4 eps64 max|phi| / h

with h = eps64^(1/3) * max(1, |x|) (the step that balances truncation and rounding
for a central difference). Small inputs get the full gradient, one element at a
time; large inputs are checked along random Gaussian directions d instead
(two forward evaluations per step, whatever the size).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EPS64 = float(np.finfo(np.float64).eps)
CBRT_EPS = EPS64 ** (1.0 / 3.0)
FULL_LIMIT = 64  # total input elements up to which the full gradient is computed
PROBES = 2  # random directions for larger inputs

Phi = Callable[[Sequence[np.ndarray]], float]


@dataclass
class Derivative:
    value: float
    error: float


def _step(scale: float) -> float:
    return CBRT_EPS * max(1.0, scale)


def _richardson(along: Callable[[float], float], h: float) -> Derivative:
    """Derivative at 0 of t -> along(t) from central differences at h and h/2."""

    def central(step: float) -> tuple[float, float]:
        plus, minus = along(step), along(-step)
        return (plus - minus) / (2 * step), max(abs(plus), abs(minus))

    d1, m1 = central(h)
    d2, m2 = central(h / 2)
    value = (4 * d2 - d1) / 3
    rounding = 4 * EPS64 * max(m1, m2) / (h / 2)
    return Derivative(value, abs(value - d2) + rounding)


def directional(phi: Phi, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray]) -> Derivative:
    """d/dt phi(x + t d) at t = 0, with an error estimate."""
    scale = max((float(np.max(np.abs(x))) for x in xs if x.size), default=1.0)
    return _richardson(lambda t: phi([x + t * d for x, d in zip(xs, ds)]), _step(scale))


def gradient(phi: Phi, xs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The full gradient of phi with respect to every element of every input, and the
    elementwise error estimates (4 evaluations of phi per element)."""
    grads, errors = [], []
    for i, x in enumerate(xs):
        g = np.zeros(x.shape)
        err = np.zeros(x.shape)
        for k in np.ndindex(x.shape):

            def along(t: float, i: int = i, k: tuple = k) -> float:
                moved = list(xs)
                moved[i] = xs[i].copy()
                moved[i][k] += t
                return phi(moved)

            d = _richardson(along, _step(abs(float(x[k]))))  # the step follows this element's magnitude
            g[k], err[k] = d.value, d.error
        grads.append(g)
        errors.append(err)
    return grads, errors


def use_full(xs: Sequence[np.ndarray]) -> bool:
    return sum(x.size for x in xs) <= FULL_LIMIT
