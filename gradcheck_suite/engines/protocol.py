"""What an engine adapter provides. The checker talks to engines (and to torch, the
oracle) through these methods only, with NumPy arrays in and out.

Required:
- ``name``, ``version``: shown in every record and in the run metadata.
- ``forward(op, arrays, kwargs) -> (inputs, output)``: run a catalogue op on inputs that
  require grad. Both values are opaque to the checker; they are handed back to ``vjp``.
- ``vjp(inputs, output, cotangent) -> [array per input]``: v^T J for the forward above
  (zeros for an input the output does not depend on).
- ``to_numpy(output) -> ndarray``: the forward value.

- ``independent_of_torch`` (default True): False when the engine computes with torch.autograd
  itself (the ``torch`` adapter, a user's own torch code): torch is then no second witness,
  and only the numerical reference judges its derivatives (checking/verdicts.py).

Optional (the defaults below):
- ``supports(op) -> bool``: False makes the op's stream one ``unsupported`` record (default:
  every op), whose rule gives ``unsupported_reason(op)``. An op may also raise
  ``NotImplementedError`` at any stage: that check is ``unsupported``.
- ``evaluate`` (the forward value alone, for finite differences), ``evaluate_many`` (at many
  points), ``vjp_at``: built from ``forward``/``vjp``; override when the engine has something
  cheaper (torch's adapter evaluates many points in one ``torch.func.vmap`` call).
- ``jvp(op, arrays, tangents, kwargs)``: J u by forward mode; ``hvp(op, arrays, kwargs,
  cotangent, direction)``: d/dx <v^T J(x), w>. Without them those checks are ``unsupported``.

The methods take the catalogue's ``OpSpec``; ``op.name`` is how an adapter with its own
op table finds its implementation, and ``op.call_engine(module, *tensors, **kwargs)``
runs the catalogue's torch-API description on a module that mirrors torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradcheck_suite.catalogue.spec import OpSpec


class Engine:
    """Base class of engine adapters: subclass it, set ``name``/``version``, implement
    ``forward``, ``vjp`` and ``to_numpy`` (and optionally the rest)."""

    name: str = "engine"
    version: str = ""
    independent_of_torch: bool = True
    # Complex cases (complex_view.py) call the engine's view_as_complex / view_as_real through
    # the op's fn; an adapter that can take them says so, the rest report them unsupported.
    complex_numbers: bool = False

    # -- required ----------------------------------------------------------------------

    def forward(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> tuple[Any, Any]:
        raise NotImplementedError(f"engine {self.name!r} does not implement forward")

    def vjp(self, inputs: Any, output: Any, cotangent: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError(f"engine {self.name!r} does not implement vjp")

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.asarray(value)

    # -- optional ----------------------------------------------------------------------

    def supports(self, op: OpSpec) -> bool:
        return True

    def unsupported_reason(self, op: OpSpec) -> str:
        """Why ``supports(op)`` is False, for the ``unsupported`` record (optional)."""
        return ""

    def evaluate(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        """The op's value (called many times by finite differences: override if cheaper)."""
        return self.to_numpy(self.forward(op, arrays, kwargs)[1])

    def evaluate_many(self, op: OpSpec, points: Sequence[Sequence[np.ndarray]], kwargs: dict) -> list[np.ndarray]:
        """``evaluate`` at many points (one list of input arrays each, all of the same shapes):
        finite differences ask for all their points at once; override with one batched call."""
        return [self.evaluate(op, arrays, kwargs) for arrays in points]

    def vjp_at(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict, cotangent: np.ndarray) -> list:
        inputs, out = self.forward(op, arrays, kwargs)
        return self.vjp(inputs, out, cotangent)

    def jvp(self, op: OpSpec, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        raise NotImplementedError(f"engine {self.name!r} has no forward-mode AD")

    def hvp(
        self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict, cotangent: np.ndarray, direction: Sequence
    ) -> list[np.ndarray]:
        raise NotImplementedError(f"engine {self.name!r} has no second-order derivatives")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.version}>".replace("  ", " ")


REQUIRED = ("forward", "vjp", "to_numpy")


class _Adapted:
    """An object with the required methods but not derived from Engine: the Engine
    defaults fill in the optional methods it lacks."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, attr: str) -> Any:
        if hasattr(self._obj, attr):
            return getattr(self._obj, attr)
        default = getattr(Engine, attr)
        return default.__get__(self) if callable(default) else default

    def __repr__(self) -> str:
        return repr(self._obj)


def check_engine(obj: Any, origin: str) -> Engine:
    """``obj`` if it is an Engine; an object with the required methods and a name gets the
    Engine defaults for the rest; anything else is a TypeError that says what is missing."""
    missing = [m for m in REQUIRED if not callable(getattr(obj, m, None))]
    if not isinstance(getattr(obj, "name", None), str):
        missing.append("name (a string)")
    if missing:
        raise TypeError(
            f"{origin} is not an engine adapter: it lacks {', '.join(missing)} "
            "(see gradcheck_suite.engines.Engine for what an adapter provides)"
        )
    return obj if isinstance(obj, Engine) else _Adapted(obj)  # type: ignore[return-value]


def _needs_complex(engine: Engine, op: OpSpec) -> bool:
    return bool(op.complex_inputs or op.complex_output) and not getattr(engine, "complex_numbers", False)


def can_check(engine: Engine, op: OpSpec) -> bool:
    """Whether ``engine`` takes the cases of ``op`` (as complex_view.as_checked made it)."""
    return not _needs_complex(engine, op) and engine.supports(op)


def unsupported_reason(engine: Engine, op: OpSpec) -> str:
    if _needs_complex(engine, op):
        return "its adapter does not take complex numbers (set complex_numbers = True: complex_view.py)"
    return engine.unsupported_reason(op) or "its adapter's supports() is False"
