"""Measuring the rounding noise of one case on torch, for the error budget (tolerances.py).

Two estimates, both normwise (the max over each result array), the larger one counts:

- precision: torch computes the result in float32 and in float64; their difference is
  one sample of float32 rounding error, scaled to the case's unit roundoff
  (``tolerances.rounding_noise``). It sees cancellation in intermediates (a naive
  variance, an expanded polynomial), but float32 can lose the case altogether: inputs
  that differ by less than float32 resolves collapse (a - b with b = a + 1e-8 a), and
  a condition number beyond 1 / eps32 leaves no first-order error to scale.
- sensitivity: torch's float64 result at the inputs and at the inputs each nudged by
  NUDGE relative with a random sign; the change is the first-order effect of rounding
  the inputs (a backward error of the size of the unit roundoff), scaled to the case's
  unit roundoff (``tolerances.sensitivity_noise``). It sees conditioning (near-singular
  solves, normalising a near-constant vector) exactly where the first estimate breaks.

``run(arrays, nudge)`` returns torch's results (forward value, gradients, JVP or HVP) at
the given inputs, with ``nudge`` applied to the other arrays the computation reads (the
cotangent v, the tangent u, the direction w: a result that is small by cancellation of
terms of v rounds at the scale of those terms); results in the case's own dtype are
passed in, so each estimate costs two further torch runs (the other precision and the
nudged inputs).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.checking import tolerances

Results = list[np.ndarray] | None
Nudge = Callable[[np.ndarray], np.ndarray]  # applied to the cotangent, tangent or direction of a run


@dataclass
class NoiseProbe:
    """The inputs of one case in the other precision and nudged (float64)."""

    dtype: str
    other: list[np.ndarray]  # float32 inputs for a float64 case, float64 inputs for a float32 one
    nudged: list[np.ndarray]
    rng: np.random.Generator

    @staticmethod
    def of(inputs: Sequence[np.ndarray], dtype: str) -> NoiseProbe:
        wide = [np.asarray(x, dtype=np.float64) for x in inputs]
        rng = np.random.default_rng(zlib.crc32(b"".join(x.tobytes() for x in wide)))
        narrow = np.float32 if dtype == "float64" else np.float64
        with np.errstate(over="ignore", under="ignore"):
            other = [x.astype(narrow) for x in wide]
        return NoiseProbe(dtype, other, [_nudged(x, rng) for x in wide], rng)

    def measure(
        self, run: Callable[[list[np.ndarray], Nudge], Results], same: Sequence[np.ndarray]
    ) -> list[float | None]:
        """The noise of each result of ``run``; ``same``: its results in the case's dtype."""
        other = _attempt(run, self.other, _unchanged)
        nudged = _attempt(run, self.nudged, lambda a: _nudged(a, self.rng))
        high = list(same) if self.dtype == "float64" else other
        out = []
        for k, s in enumerate(same):
            estimates = []
            if other is not None and _fits(s, other[k]):
                low, hi = (s, other[k]) if self.dtype != "float64" else (other[k], s)
                estimates.append(tolerances.rounding_noise(low, hi, self.dtype))
            if nudged is not None and high is not None and _fits(high[k], nudged[k]):
                estimates.append(tolerances.sensitivity_noise(nudged[k], high[k], self.dtype))
            out.append(max(estimates) if estimates else None)
        return out


def _nudged(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each element moved by NUDGE relative, with a random sign (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return x * (1 + tolerances.NUDGE * (rng.integers(0, 2, x.shape) * 2 - 1))


def _unchanged(x: np.ndarray) -> np.ndarray:
    return x


def _fits(a, b) -> bool:
    return b is not None and np.shape(a) == np.shape(b)


def _attempt(run: Callable[[list[np.ndarray], Nudge], Results], arrays: list[np.ndarray], nudge: Nudge) -> Results:
    try:
        with np.errstate(all="ignore"):
            return run(arrays, nudge)
    except Exception:  # noqa: BLE001 - torch refusing a precision only means no estimate
        return None
