"""What a user can observe of an autograd program's state, and how two states differ.

After every step both sides are snapshotted: per tensor variable its values, shape,
dtype, requires_grad, is_leaf, grad_fn name and next_functions, ``.grad`` (with any
warning reading it raised), and the global grad mode. Two snapshots differ when any
of these differ (values within a small tolerance: semantics, not numerics, is checked).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradcheck_suite.semantics.differences import ONCE_PER_PROCESS

# Normalised in messages: object addresses, and the C++ source location torch appends to
# some warnings ("(Triggered internally at .../TensorBody.h:493.)"), which no engine has.
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_TRIGGERED = re.compile(r" \(Triggered internally at [^)]*\)$")


def compared_warnings(messages: list[str]) -> tuple[str, ...]:
    """The normalised warnings of a step that are compared between the two sides."""
    out = (normalise(m) for m in messages)
    return tuple(m for m in out if not any(re.match(p, m) for p in ONCE_PER_PROCESS))


def normalise(message: str) -> str:
    return _TRIGGERED.sub("", _ADDRESS.sub("0x…", message.strip()))


# Value tolerances per dtype: engines compute elementwise functions with different
# kernels, so values agree to a few ulps, not bitwise; exp/pow chains amplify that, and a
# float64 result may have been computed from float32 values (0-d promotion), so float64
# allows float32-sized differences too. Semantics, not numerics, is checked here.
RTOL = {"float32": 1e-4, "float64": 1e-6}


@dataclass(frozen=True)
class Outcome:
    """How a step ended: ``None`` if it ran, else the exception's type and message."""

    error: tuple[str, str] | None

    @classmethod
    def of(cls, exc: BaseException | None) -> Outcome:
        if exc is None:
            return cls(None)
        return cls((type(exc).__name__, normalise(str(exc))))

    def __str__(self) -> str:
        return "ran" if self.error is None else f"raised {self.error[0]}: {self.error[1]}"


def node_name(fn: Any) -> str | None:
    return None if fn is None else type(fn).__name__


def _read_grad(t: Any) -> tuple[Any, tuple[str, ...]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", append=True)  # libraries' own filters still apply
        g = t.grad
    return g, compared_warnings([str(w.message) for w in caught])


def _array(t: Any) -> np.ndarray:
    return np.array(t.data.numpy(), copy=True)  # .data: an engine's detach may be what is under test


def _observe(read: Any) -> Any:
    """``read()``, or the Outcome of the exception it raised (torch refuses some reads,
    e.g. grad_fn of a no_grad view whose base was modified in place)."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - refusing to answer is observable behaviour
        return Outcome.of(exc)


# Shown instead of the name of a node that a backward formula recorded (create_graph=True):
# see differences.FORMULA_NODES for why those names are not compared.
FORMULA = "<recorded by a backward formula>"


def _name(node: Any, formula: frozenset) -> str | None:
    return FORMULA if node is not None and id(node) in formula else node_name(node)


def _next_functions(fn: Any, formula: frozenset) -> Any:
    if fn is None:
        return None
    if id(fn) in formula:
        return FORMULA
    return tuple(_name(n, formula) for n, _ in fn.next_functions)


def tensor_state(t: Any, formula: frozenset = frozenset()) -> dict[str, Any]:
    """The observable state of one tensor, as plain Python/NumPy values; ``formula`` holds
    the ids of nodes recorded by backward formulas (their names are not compared)."""
    grad = _observe(lambda: _read_grad(t))
    g, grad_warnings = grad if isinstance(grad, tuple) else (grad, ())
    fn = _observe(lambda: t.grad_fn)
    failed = isinstance(fn, Outcome)
    return {
        "shape": tuple(t.shape),
        "dtype": str(t.dtype),
        "requires_grad": _observe(lambda: bool(t.requires_grad)),
        "is_leaf": _observe(lambda: bool(t.is_leaf)),
        "grad_fn": fn if failed else _name(fn, formula),
        "next_functions": fn if failed else _observe(lambda: _next_functions(fn, formula)),
        "values": _array(t),
        "grad": g if g is None or isinstance(g, Outcome) else _array(g),
        "grad_warnings": grad_warnings,
    }


def snapshot(
    env: dict[str, Any], tensor_type: type, grad_enabled: bool, formula: frozenset = frozenset()
) -> dict[str, Any]:
    state: dict[str, Any] = {"grad mode": grad_enabled}
    for name, value in env.items():
        if isinstance(value, tensor_type):
            state[name] = tensor_state(value, formula)
    return state


def _same_values(a: np.ndarray, b: np.ndarray, dtype: str) -> bool:
    if a.shape != b.shape:
        return False
    rtol = RTOL.get(dtype.removeprefix("torch."), 0.0)
    scale = max(1.0, float(np.max(np.abs(b[np.isfinite(b)]), initial=0.0)))
    return bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True))


def differences(engine: dict[str, Any], torch: dict[str, Any]) -> list[str]:
    """Every way the engine's snapshot differs from torch's, in words."""
    out = []
    for name in sorted(set(engine) | set(torch)):
        if name not in engine or name not in torch:
            out.append(f"{name}: exists on {'the engine' if name in engine else 'torch'} only")
            continue
        e, t = engine[name], torch[name]
        if not isinstance(t, dict):
            if e != t:
                out.append(f"{name}: engine {e!r}, torch {t!r}")
            continue
        for key in t:
            ev, tv = e[key], t[key]
            if key in ("values", "grad"):
                if (ev is None) != (tv is None) or (tv is not None and not _same_values(ev, tv, t["dtype"])):
                    out.append(f"{name}.{key}: engine {_short(ev)}, torch {_short(tv)}")
            elif ev != tv:
                out.append(f"{name}.{key}: engine {ev!r}, torch {tv!r}")
    return out


def _short(value: Any) -> str:
    if value is None:
        return "None"
    return np.array2string(np.asarray(value), precision=6, threshold=12)
