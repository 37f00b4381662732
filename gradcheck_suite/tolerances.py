"""Tolerances, in one place, from an error budget rather than fixed atol/rtol.

The allowed difference at element i between a computed value and its reference is

    tol_i = SAFETY * eps(dtype) * sqrt(n_terms) * (|ref_i| + max_j |ref_j|)   rounding floor
          + NOISE_FACTOR * noise_i                                             measured noise
          + FD_FACTOR * fd_error_i                                             finite differences

- eps(dtype) is the unit roundoff of the dtype the value was computed in.
- n_terms bounds how many rounded terms reach one element (reductions, products);
  rounding errors of independent terms grow like its square root.
- max_j |ref_j| makes the floor normwise: an element that is small because of
  cancellation is allowed the absolute error of the large terms it came from.
- noise_i is the float32 rounding noise measured on this very case: the difference
  between torch's float32 and float64 results. It captures ill-conditioning (for
  example 1 - tanh(x)**2 near saturation) that no a-priori constant does; it is zero
  for float64.
- fd_error_i is the finite-difference error estimate (Richardson difference plus
  rounding), for comparisons against finite differences.

A check passes when every element is within tol_i; the record's ``score`` is
max_i |diff_i| / tol_i, so score <= 1 means pass.
"""

from __future__ import annotations

import math

import numpy as np

EPS = {"float32": float(np.finfo(np.float32).eps) / 2, "float64": float(np.finfo(np.float64).eps) / 2}
SAFETY = 64.0
NOISE_FACTOR = 4.0
FD_FACTOR = 8.0


def eps(dtype: str) -> float:
    try:
        return EPS[dtype]
    except KeyError:
        raise ValueError(f"no tolerance model for dtype {dtype!r}; expected one of {sorted(EPS)}") from None


def budget(
    reference: np.ndarray,
    dtype: str,
    *,
    n_terms: int = 1,
    noise: np.ndarray | None = None,
    fd_error: np.ndarray | None = None,
) -> np.ndarray:
    """Elementwise tolerance for values computed in ``dtype`` against ``reference``."""
    ref = np.abs(np.asarray(reference, dtype=np.float64))
    finite = ref[np.isfinite(ref)]
    top = float(finite.max()) if finite.size else 0.0
    tol = SAFETY * eps(dtype) * math.sqrt(max(n_terms, 1)) * (np.where(np.isfinite(ref), ref, 0.0) + top)
    tol = tol + eps(dtype)  # an absolute floor, so an all-zero reference tolerates roundoff
    if noise is not None:
        tol = tol + NOISE_FACTOR * np.abs(noise)
    if fd_error is not None:
        tol = tol + FD_FACTOR * np.abs(fd_error)
    return tol
