"""Measuring the rounding noise of one case on torch, for the error budget (tolerances.py).

Two estimates, both normwise (the max over each result array), the larger one counts:

- precision: torch computes the result in float32 and in float64; their difference is
  one sample of float32 rounding error, scaled to the case's unit roundoff
  (``tolerances.rounding_noise``). It sees cancellation in intermediates (a naive
  variance, an expanded polynomial), but float32 can lose the case altogether: inputs
  that differ by less than float32 resolves collapse (a - b with b = a + 1e-8 a), and
  a condition number beyond 1 / eps32 leaves no first-order error to scale.
- sensitivity: torch's float64 result at the inputs and at the inputs each nudged by
  NUDGE relative times a standard normal number; the change is the first-order effect of rounding
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
from dataclasses import dataclass, field

import numpy as np

from gradcheck_suite.checking import tolerances

Results = list[np.ndarray] | None
Nudge = Callable[[np.ndarray], np.ndarray]  # applied to the cotangent, tangent or direction of a run


@dataclass
class NoiseProbe:
    """The inputs of one case in the other precision and nudged (float64). After ``measure``,
    ``conditions`` holds each result's relative condition: its largest relative change per
    relative nudge of the inputs (finite_diff.shrink_for narrows the steps by it)."""

    dtype: str
    wide: list[np.ndarray]  # the inputs in float64
    other: list[np.ndarray]  # float32 inputs for a float64 case, float64 inputs for a float32 one
    nudged: list[np.ndarray]
    rng: np.random.Generator
    conditions: list[float] = field(default_factory=list)
    high: list[np.ndarray] | None = None  # the float64 results at the inputs (after ``measure``)
    # per result, the noise of one evaluation at a point (without sensitivity_noise's sqrt(n_terms)
    # for the worst direction): finite differences' rounding of each evaluation
    pointwise: list[float] = field(default_factory=list)

    @property
    def n_terms(self) -> int:
        return max(1, sum(x.size for x in self.wide))

    @staticmethod
    def of(inputs: Sequence[np.ndarray], dtype: str) -> NoiseProbe:
        wide = [np.asarray(x, dtype=np.float64) for x in inputs]
        rng = np.random.default_rng(zlib.crc32(b"".join(x.tobytes() for x in wide)))
        narrow = np.float32 if dtype == "float64" else np.float64
        with np.errstate(over="ignore", under="ignore"):
            other = [x.astype(narrow) for x in wide]
        return NoiseProbe(dtype, wide, other, [_nudged(x, rng) for x in wide], rng)

    def measure(
        self, run: Callable[[list[np.ndarray], Nudge], Results], same: Sequence[np.ndarray]
    ) -> list[float | None]:
        """The noise of each result of ``run``; ``same``: its results in the case's dtype."""
        other = _attempt(run, self.other, _unchanged)
        nudged = _attempt(run, self.nudged, lambda a: _nudged(a, self.rng))
        high = list(same) if self.dtype == "float64" else other
        self.high = high
        runs = [(nudged, tolerances.NUDGE)]
        fits = [k for k in range(len(same)) if nudged is not None and high is not None and _fits(high[k], nudged[k])]
        if any(tolerances.condition(nudged[k], high[k]) > tolerances.FINE_FROM for k in fits):
            # past ~1e7 the nudge's effect is no longer first order: measure again with a finer one
            fine = [_nudged(x, self.rng, tolerances.FINE_NUDGE) for x in self.wide]
            runs.append(
                (_attempt(run, fine, lambda a: _nudged(a, self.rng, tolerances.FINE_NUDGE)), tolerances.FINE_NUDGE)
            )
        out = []
        for k, s in enumerate(same):
            estimates = []
            if other is not None and _fits(s, other[k]):
                low, hi = (s, other[k]) if self.dtype != "float64" else (other[k], s)
                estimates.append(tolerances.rounding_noise(low, hi, self.dtype))
            pointwise, condition = list(estimates), 0.0
            for moved, size in _first_order(runs, high, k):
                estimates.append(tolerances.sensitivity_noise(moved[k], high[k], self.dtype, self.n_terms, size))
                pointwise.append(tolerances.sensitivity_noise(moved[k], high[k], self.dtype, 1, size))
                condition = max(condition, tolerances.condition(moved[k], high[k], size))
            self.conditions.append(condition)
            out.append(max(estimates) if estimates else None)
            self.pointwise.append(max(pointwise) if pointwise else 0.0)
        return out

    def input_conditions(self, evaluate: Callable[[list[np.ndarray]], np.ndarray]) -> list[float]:
        """The first result's relative condition with respect to each input alone: ``evaluate``
        (the float64 forward) with that one input nudged, against the result ``measure`` saw.
        One further forward per input; only asked for when the joint condition is large."""
        if not self.high:
            return [0.0] * len(self.nudged)
        out = []
        for i, moved in enumerate(self.nudged):
            xs = [*self.wide[:i], moved, *self.wide[i + 1 :]]
            got = _attempt(lambda a, _: [evaluate(a)], xs, _unchanged)
            out.append(tolerances.condition(got[0], self.high[0]) if got and _fits(got[0], self.high[0]) else 0.0)
        return out


def _first_order(runs: list, high: list | None, k: int) -> list:
    """The nudged runs whose result ``k`` can be read as a first-order response. The finer
    nudge counts only where its change is markedly smaller than the coarse one's (a
    first-order change shrinks with the nudge, 2**14 times here): a jump, such as a tie of max
    broken by any nudge, changes the result alike at both sizes, and read as a response to the
    finer nudge it would look 2**14 times more sensitive than it is."""
    usable = [
        (moved, size) for moved, size in runs if moved is not None and high is not None and _fits(high[k], moved[k])
    ]
    if len(usable) < 2:
        return usable
    (coarse, _), (fine, _) = usable
    with np.errstate(invalid="ignore", over="ignore"):
        gaps = [
            float(np.nanmax(np.abs(np.asarray(r[k], dtype=np.float64) - high[k]), initial=0.0)) for r in (coarse, fine)
        ]
    return usable if gaps[1] <= tolerances.FINE_RATIO * gaps[0] else usable[:1]


def _nudged(x: np.ndarray, rng: np.random.Generator, size: float = tolerances.NUDGE) -> np.ndarray:
    """Each element moved by ``size`` (NUDGE) times a standard normal number, relative (float64).
    Gaussian, not random signs: a 3x3 matrix has 512 sign patterns, and the 32 of them that
    are an outer product of signs (D1 A D2) leave a nearly singular inverse's sensitive
    direction untouched, measuring a condition of 1 where it is 1e10."""
    x = np.asarray(x, dtype=np.float64)
    return x * (1 + size * rng.standard_normal(x.shape))


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
