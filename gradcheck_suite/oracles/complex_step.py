"""Complex-step differentiation for ops the catalogue marks ``analytic``.

For f holomorphic near real x, Im f(x + i h d) / h = f'(x) d + O(h^2) with no subtraction,
so with h = 1e-20 the truncation term is below 1e-40 and the result is accurate to
rounding: no step trade-off as in central differences.

Where the complex forward runs: in torch, in complex128 (the reference engine has no
complex dtype). Only torch's forward is used, never its autograd, so this witness stays
independent of both gradient implementations under comparison; torch's real forward
is itself compared with the engine's in the same case (the ``forward`` record).

The estimate's error is rounding in the imaginary parts: CS_ULPS units of float64
roundoff times sqrt(n_terms) times the sum of the magnitudes of the derivative's terms.
Ops flagged ``analytic`` by mistake (abs, relu, ...) or evaluated on a branch cut give
wrong numbers here, so the checker confirms the complex step against one central
difference before trusting it (``consistent``) and falls back to central differences
otherwise; an op torch cannot run in complex128 falls back the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from gradcheck_suite.oracles.finite_diff import EPS64, ArrayDerivative, Derivative

H = 1e-20
CS_ULPS = 8.0

# complex forward: complex128 inputs -> complex128 output
ComplexFn = Callable[[Sequence[np.ndarray]], np.ndarray]


def _error(terms: np.ndarray, n_terms: int) -> float:
    return CS_ULPS * EPS64 * math.sqrt(max(n_terms, 1)) * float(np.sum(np.abs(terms)))


def lifted(xs: Sequence[np.ndarray], ds: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The complex point x + i H d."""
    return [np.asarray(x, dtype=np.float64) + 1j * H * np.asarray(d, dtype=np.float64) for x, d in zip(xs, ds)]


def from_output(out: np.ndarray, v: np.ndarray, n_terms: int = 1) -> tuple[float, float]:
    """The derivative of phi = sum(v * f) along d and its error, from f(x + i H d)."""
    terms = v * np.asarray(out).imag / H
    return float(np.sum(terms)), _error(terms, n_terms)


def directional(f: ComplexFn, v: np.ndarray, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], n_terms: int = 1):
    """v^T J d: the derivative of phi = sum(v * f) along ds."""
    value, error = from_output(f(lifted(xs, ds)), v, n_terms)
    return Derivative(value, error, [np.asarray(d, np.float64) for d in ds])


def gradient(f: ComplexFn, v: np.ndarray, xs: Sequence[np.ndarray], n_terms: int = 1):
    """The full gradient of phi = sum(v * f), one complex evaluation per element."""
    grads, errors = [], []
    for i, x in enumerate(xs):
        g, err = np.zeros(x.shape), np.zeros(x.shape)
        for k in np.ndindex(x.shape):
            ds = [np.zeros(y.shape) for y in xs]
            ds[i][k] = 1.0
            d = directional(f, v, xs, ds, n_terms)
            g[k], err[k] = d.value, d.error
        grads.append(g)
        errors.append(err)
    return grads, errors


def element(f: ComplexFn, v: np.ndarray, xs: Sequence[np.ndarray], i: int, k: tuple, n_terms: int = 1):
    ds = [np.zeros(y.shape) for y in xs]
    ds[i][k] = 1.0
    return directional(f, v, xs, ds, n_terms)


def jvp(f: ComplexFn, xs: Sequence[np.ndarray], ds: Sequence[np.ndarray], n_terms: int = 1) -> ArrayDerivative:
    """J d for the whole output at once: Im f(x + i h d) / h, elementwise errors."""
    out = f(lifted(xs, ds)).imag / H
    finite = np.abs(out[np.isfinite(out)])
    top = float(finite.max()) if finite.size else 0.0
    err = CS_ULPS * EPS64 * math.sqrt(max(n_terms, 1)) * (np.abs(out) + top)
    return ArrayDerivative([out], [err], [np.asarray(d, np.float64) for d in ds])


def consistent(estimate: Derivative, central: Derivative, factor: float = 8.0) -> bool:
    """Whether a complex-step value agrees with a central difference along the same direction."""
    return bool(abs(estimate.value - central.value) <= factor * (estimate.error + central.error))
