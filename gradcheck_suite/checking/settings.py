"""How a CaseChecker checks, beyond its engine and oracle: the knobs that torch.autograd.gradcheck
users know (``eps``, ``atol``, ``rtol``, ``nondet_tol``, ``fast_mode``), with the catalogue runs'
defaults. Every default leaves the error budget of tolerances.py alone."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gradcheck_suite.oracles import finite_diff


@dataclass(frozen=True)
class Settings:
    """- ``probes``: Rademacher probes for inputs above ``full_limit`` elements.
    - ``full_limit``: the full gradient up to this many input elements, probes above
      (0: always probes, torch's ``fast_mode``).
    - ``step``: the finite-difference step for an element of magnitude up to 1 (torch's
      ``eps``), growing with larger magnitudes; None: eps64^(1/3) ~ 6e-6, narrowed where the
      measured condition asks for it (finite_diff.shrink_for).
    - ``atol``, ``rtol``: a user's own allowance: a difference within atol + rtol |reference|
      passes even where the error budget is tighter (the budget is never narrowed).
    - ``nondet_tol``: when engine and torch are one witness (the code under test runs on
      torch), how far two runs of the same code on the same inputs may differ (torch's meaning).
    - ``raise_fails``: code that raises on both sides fails (a user's code must run); by
      default both raising alike passes (torch defines the op to raise there).
    """

    probes: int = finite_diff.PROBES
    full_limit: int = finite_diff.FULL_LIMIT
    step: float | None = None
    atol: float = 0.0
    rtol: float = 0.0
    nondet_tol: float = 0.0
    raise_fails: bool = False

    def __post_init__(self) -> None:
        if self.probes < 1:
            raise ValueError(f"probes must be >= 1, got {self.probes}")
        if self.full_limit < 0:
            raise ValueError(f"full_limit must be >= 0, got {self.full_limit}")
        if self.step is not None and not (math.isfinite(self.step) and self.step > 0):
            raise ValueError(f"eps (the finite-difference step) must be a positive number, got {self.step!r}")
        for name in ("atol", "rtol", "nondet_tol"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

    @property
    def step_scale(self) -> float:
        """Every step's factor relative to the default (finite_diff.step's eps64^(1/3))."""
        return 1.0 if self.step is None else self.step / finite_diff.CBRT_EPS

    def widen(self, tol: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """``tol`` raised to atol + rtol |reference| where that is larger."""
        if not (self.atol or self.rtol):
            return tol
        with np.errstate(invalid="ignore"):
            own = self.atol + self.rtol * np.nan_to_num(np.abs(np.asarray(reference, dtype=np.float64)), posinf=0.0)
        return np.maximum(tol, own)
