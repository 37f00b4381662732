"""Tolerances, in one place, from an error budget rather than fixed atol/rtol.

The allowed difference at element i between a computed value and its reference is

    tol_i = SAFETY * eps(dtype) * sqrt(n_terms) * (|ref_i| + max_j |ref_j|)   rounding floor
          + NOISE_FACTOR * noise                                               measured noise
          + FD_FACTOR * fd_error_i                                             finite differences

- eps(dtype) is the unit roundoff of the dtype the value was computed in.
- n_terms bounds how many rounded terms reach one element (reductions, products);
  rounding errors of independent terms grow like its square root.
- max_j |ref_j| makes the floor normwise: an element that is small because of
  cancellation is allowed the absolute error of the large terms it came from.
- noise is the rounding noise measured on this very case (noise.py): it
  captures ill-conditioning (1 - tanh(x)**2 near saturation, solves with nearly
  singular matrices, sums that cancel) that no a-priori constant does.
- fd_error_i is the finite-difference error estimate (Richardson difference plus
  rounding), for comparisons against finite differences.

A check passes when every element is within tol_i; the record's ``score`` is
max_i |diff_i| / tol_i, so score <= 1 means pass.

Where the terms come from, per check:

- n_terms: the number of input elements of the case (an upper bound on the rounded
  terms that reach one output or gradient element: a reduction over n elements, a
  matmul's inner dimension, broadcasting sums).
- noise (noise.py): the larger of two measurements on torch, both normwise (the max over
  the result array), both scaled to the unit roundoff of the case's dtype:

      precision   = eps(dtype) / eps(float32) * max_j |torch32_j - torch64_j|
      sensitivity = eps(dtype) / NUDGE * max_j |torch64(x~)_j - torch64(x)_j| * sqrt(n_terms)

  ``precision``: torch computes the result (forward value, VJP, JVP, HVP) in float32 and
  in float64; the difference is one sample of float32 rounding error, cancellation in
  intermediates included (x * x - mean**2, an expanded polynomial). To first order a
  rounding error is proportional to the unit roundoff (condition number times eps), so
  for a float64 case the float32 error scaled by eps64 / eps32 is the float64 one.
  ``sensitivity``: x~ is every input (and the cotangent, tangent or direction the result
  is linear in) moved by NUDGE relative times a standard normal number; the change is the first-order
  effect of perturbing the inputs by a relative backward error, scaled to one unit
  roundoff, i.e. (componentwise condition) * eps * |result|: the forward error of any
  backward-stable computation. It stays right where float32 loses the case: inputs closer
  than float32 resolves collapse (x A x - x B x with B = A + 1e-8), a condition number
  beyond 1 / eps32 (solve with a nearly singular matrix), a result that cancels terms of
  the cotangent (a JVP summing +-1 tangents to 1e-11). NUDGE = 2**-32 keeps the
  perturbation first order up to conditions ~1e8 and far above float64 roundoff; where it
  measures a condition past FINE_FROM, a second run with FINE_NUDGE = 2**-46 (64 ulps) stays
  first order up to ~1e12, and the larger of the two counts. The
  factor sqrt(n_terms): a backward-stable algorithm's backward error is normwise (an LU
  solve may move every element by eps times the matrix's norm, in the worst direction),
  while one random nudge of every element meets the worst direction with a weight of
  about 1 / sqrt(n_terms); measured: lstsq against solve at condition 1e8 differ by 31
  times the unscaled sensitivity (tests/test_compare_tolerances.py).
  Normwise because one sample at one element is a poor estimate of its error level (the
  ratio of two independent rounding errors is heavy-tailed, and torch32 can equal torch64
  at an element by luck, e.g. both 0), while errors of one computation share their scale
  across the array (reductions and products mix elements), as the rounding floor does.
  Two results may each be off by the noise: twice the noise for engine against torch
  (``twice``), once against finite differences. The finite differences themselves, run
  in float64, take the forward's noise (scaled to eps64) as the rounding of each
  evaluation (intermediates larger than the output round at their own scale).
- fd_error: central differences (Richardson difference + rounding from the summands),
  complex step (CS_ULPS roundoffs of the summed derivative terms), see oracles/.

Directional (probe) comparisons compare dot products <g, d> with a Rademacher d. If every
element of g is within its tol_i of the truth, the dot product's error is a sum of
independent-signed terms bounded by tol_i, so by Hoeffding's inequality

    P(|sum_i d_i e_i| > t) <= 2 exp(-t^2 / (2 sum_i tol_i^2))

and the probe tolerance

    tol_probe = HOEFFDING * sqrt(sum_i (d_i tol_i)^2) + FD_FACTOR * fd_error

gives a correct gradient a false-alarm chance below 2 exp(-HOEFFDING^2 / 2) (< 1e-13)
per probe, while a gradient element off by more than tol_probe is missed by a probe
with probability at most 1/2 (oracles/finite_diff.py).

Forward mode: the rounding floor of a JVP uses the normwise scale max(max|ref|, max|g| /
max|v|) (``jacobian_scale``, from torch's VJP g = v^T J of the same case): a JVP along a
+-1 tangent can cancel to far below the Jacobian's entries.

Second order: the rounding floor of a Hessian-vector product uses the normwise scale
max(max|ref|, max|g| / max|x|) (``hessian_scale``): the product can vanish by
cancellation of terms of the size of the gradient over the input.

Kinks: an element where the one-sided derivatives L and R differ (oracles/finite_diff.py)
is judged "between" them when min(L, R) - pad <= g <= max(L, R) + pad with
pad = KINK_FACTOR * (err_L + err_R) + tol_i. Before that, an element whose reference
disagrees or straddles a jump is estimated again along a ladder of smaller steps, so a
smooth function that varies below the default step (near a pole) is not taken for a
kink. Where several kink elements differ from torch, their sum <g, d> along the direction
d moving all of them together must lie between the one-sided derivatives along d too,
with pad = KINK_FACTOR * (err_L + err_R) + sum_i tol_i (judge.py: the joint kink rule).
"""

from __future__ import annotations

import math

import numpy as np

CBRT_EPS = float(np.finfo(np.float64).eps) ** (1 / 3)
EPS = {"float32": float(np.finfo(np.float32).eps) / 2, "float64": float(np.finfo(np.float64).eps) / 2}
SAFETY = 64.0
NOISE_FACTOR = 4.0
FD_FACTOR = 8.0
NUDGE = 2.0**-32  # relative input nudge that measures sensitivity (first order up to condition ~1e8)
FINE_NUDGE = 2.0**-46  # a finer one (64 ulps) where the first measures a condition past FINE_FROM
FINE_FROM = 1e7
FINE_RATIO = 0.1  # the finer nudge's change must be at most this share of the coarse one's (noise._first_order)
HOEFFDING = 8.0  # probe tolerance in standard deviations: 2 exp(-32) ~ 2.5e-14 false alarms


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
    noise: np.ndarray | float | None = None,
    fd_error: np.ndarray | None = None,
    scale: float = 0.0,
) -> np.ndarray:
    """Elementwise tolerance for values computed in ``dtype`` against ``reference``;
    ``scale`` raises the normwise magnitude where the result hides its terms' size."""
    ref = np.abs(np.asarray(reference, dtype=np.float64))
    finite = ref[np.isfinite(ref)]
    top = max(float(finite.max()) if finite.size else 0.0, scale)
    tol = SAFETY * eps(dtype) * math.sqrt(max(n_terms, 1)) * (np.where(np.isfinite(ref), ref, 0.0) + top)
    tol = tol + eps(dtype)  # an absolute floor, so an all-zero reference tolerates roundoff
    if noise is not None:
        tol = tol + NOISE_FACTOR * finite_noise(noise)
    if fd_error is not None:
        tol = tol + FD_FACTOR * np.abs(fd_error)
    return tol


def finite_noise(noise: np.ndarray | float | None) -> np.ndarray | float:
    """|noise|, with inf and nan (inf - inf in a measurement: no information) counted as zero."""
    if noise is None:
        return 0.0
    if isinstance(noise, float):  # the common case, without NumPy's per-call cost
        return abs(noise) if math.isfinite(noise) else 0.0
    size = np.abs(noise)
    return size if np.isfinite(size).all() else np.nan_to_num(size, nan=0.0, posinf=0.0)


def rounding_noise(low: np.ndarray, high: np.ndarray, dtype: str) -> float:
    """The normwise rounding noise of a result computed in ``dtype``, from torch's float32
    (``low``) and float64 (``high``) results of the same computation (see the module
    docstring). Non-finite differences (float32 overflow) carry no information."""
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(np.asarray(low, dtype=np.float64) - np.asarray(high, dtype=np.float64))
    finite = gap[np.isfinite(gap)]
    top = float(finite.max()) if finite.size else 0.0
    return top * eps(dtype) / EPS["float32"]


def sensitivity_noise(
    nudged: np.ndarray, high: np.ndarray, dtype: str, n_terms: int = 1, nudge: float = NUDGE
) -> float:
    """The normwise first-order effect on a result of rounding its inputs in ``dtype``: from
    torch's float64 result at the inputs (``high``) and at the inputs nudged by NUDGE
    relative (``nudged``), scaled to ``dtype``'s unit roundoff and by sqrt(n_terms) (see the
    module docstring: one random nudge sees the worst direction with a weight of about
    1 / sqrt(n_terms) of a normwise backward error)."""
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(np.asarray(nudged, dtype=np.float64) - np.asarray(high, dtype=np.float64))
    finite = gap[np.isfinite(gap)]
    top = float(finite.max()) if finite.size else 0.0
    return top * eps(dtype) / nudge * math.sqrt(max(n_terms, 1))


def condition(nudged: np.ndarray, high: np.ndarray, nudge: float = NUDGE) -> float:
    """The relative condition of a result: max_j |nudged_j - high_j| / (NUDGE max_j |high_j|),
    from the same two torch runs as ``sensitivity_noise`` (0 for an all-zero result)."""
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(np.asarray(nudged, dtype=np.float64) - np.asarray(high, dtype=np.float64))
        size = np.abs(np.asarray(high, dtype=np.float64))
    gap, size = gap[np.isfinite(gap)], size[np.isfinite(size)]
    top = float(size.max()) if size.size else 0.0
    if not (top > 0 and gap.size):
        return 0.0
    return float(gap.max()) / top / nudge  # in this order: nudge * a subnormal top would be 0


def twice(noise: np.ndarray | float | None) -> np.ndarray | float | None:
    """Two noisy results may each be off by the measured noise."""
    return None if noise is None else 2 * np.abs(noise)


def probe(budgets: list[np.ndarray], directions: list[np.ndarray], fd_error: float) -> float:
    """Tolerance for a dot product <g, d> whose elements have the elementwise ``budgets``."""
    spread = sum(float(np.sum((np.asarray(d) * b) ** 2)) for d, b in zip(directions, budgets))
    return HOEFFDING * math.sqrt(spread) + FD_FACTOR * abs(fd_error)


def jacobian_scale(grads: list[np.ndarray] | None, v: np.ndarray) -> float:
    """The size of the Jacobian's entries, max|v^T J| / max|v| (dimensional: J ~ g / v). A
    JVP with a +-1 tangent sums such entries and can cancel to far below them (the sum of a
    4x4 array along a tangent whose effective entries are 1 +- 1e-12), so its rounding floor
    is scaled by it, as a Hessian-vector product's is by hessian_scale."""
    if not grads:
        return 0.0
    g = max((float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)) for a in grads), default=0.0)
    top = float(np.max(np.abs(v), initial=0.0))
    return g / top if top > 0 else 0.0


def hessian_scale(xs: list[np.ndarray], grads: list[np.ndarray]) -> float:
    """The size of second-derivative terms, max|g| / max|x| (dimensional: H ~ g / x). A
    Hessian-vector product can be ~0 by cancellation of terms of this size (the norm's
    Hessian along x), so its rounding floor is scaled by it."""
    g = max((float(np.max(np.abs(a[np.isfinite(a)]), initial=0.0)) for a in grads), default=0.0)
    x = max((float(np.max(np.abs(a), initial=0.0)) for a in xs), default=0.0)
    return g / max(x, CBRT_EPS)
