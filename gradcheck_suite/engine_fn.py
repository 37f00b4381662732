"""``gradcheck`` for a function written against an engine's torch-mirroring API (the reference
engine's by default), on NumPy inputs.

``fn`` is wrapped into an ad-hoc ``OpSpec`` and checked by the very ``CaseChecker`` the
catalogue runs use: the engine against torch.autograd (``torch_fn``, by default ``fn`` itself
run on torch tensors; ``torch_fn=False``: torch not consulted, the numerical reference alone
decides) and against float64 finite differences. A failure is attributed to the inputs whose
gradient is wrong by checking ``fn`` restricted to one input.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck_suite.catalogue.spec import REAL, UNDECLARED_KINKS, OpSpec
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.checking.settings import Settings
from gradcheck_suite.engines import MirrorEngine, get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.records import Record
from gradcheck_suite.result import GradcheckResult
from gradcheck_suite.strategies import Case

FLOAT_DTYPES = ("float32", "float64")


class EngineFunction:
    """One gradcheck call on an engine function: validated inputs, the two callables, the checker."""

    def __init__(
        self, fn, inputs, torch_fn, engine, seed: int, checks: list[str], settings: Settings, at_kinks: bool,
        forward_ad: bool, second_order: bool,
    ) -> None:  # fmt: skip
        if not callable(fn):
            raise TypeError(f"gradcheck: fn must be callable, got {type(fn).__name__}")
        if torch_fn not in (None, False) and not callable(torch_fn):
            raise TypeError(f"gradcheck: torch_fn must be callable, False or None, got {type(torch_fn).__name__}")
        self.fn = fn
        self.consult_torch = torch_fn is not False
        self.torch_fn = torch_fn if callable(torch_fn) else fn
        self.torch_fn_given = callable(torch_fn)
        self.arrays = as_arrays(inputs)
        self.dtype = "float32" if any(a.dtype == np.float32 for a in self.arrays) else "float64"
        self.seed = seed
        self.engine = get_engine(engine) if isinstance(engine, str) else engine
        self.oracle = torch_oracle() if self.consult_torch else self.engine
        self.checker = CaseChecker(self.engine, self.oracle, checks=checks, settings=settings)
        self.flags = {"forward_ad": forward_ad, "second_order": second_order}
        self.at_kinks = bool(at_kinks)
        self.cotangent: np.ndarray | None = None

    @property
    def module(self) -> Any:
        return self.oracle.module if self.consult_torch else self.engine.module

    def run(self, *, per_input: bool) -> GradcheckResult:
        out_shape = self._preflight()
        # one cotangent for the joint check and for every restriction of it, so that a
        # per-input check shows the joint check's values for that input
        whole = Case(op=None, dtype=self.dtype, inputs=tuple(self.arrays), cotangent_seed=self.seed)
        self.cotangent = whole.cotangent(out_shape) if out_shape is not None else None
        records = self._check(self.fn, self.torch_fn, self.arrays, name="gradcheck")
        result = GradcheckResult(
            ok=True, dtype=self.dtype, seed=self.seed, shapes=tuple(a.shape for a in self.arrays), records=records,
            match_torch_at_kinks=self.at_kinks, labels=[f"input {i}" for i in range(len(self.arrays))],
        )  # fmt: skip
        result.ok = not result.failures
        if len(self.arrays) == 1:
            result.per_input = {0: records}
        elif per_input or not result.ok:
            result.per_input = {i: self._check_input(i) for i in range(len(self.arrays))}
        return result

    def _check(self, engine_fn, torch_fn, arrays, *, name: str) -> list[Record]:
        spec = OpSpec(
            name=name, family="user", fn=_unused_fn, shapes=st.just(tuple(a.shape for a in arrays)),
            domains=(REAL,) * len(arrays),  # unused: the values are given, not drawn
            dtypes=(self.dtype,), engine_fn=engine_fn, torch_fn=torch_fn if self.consult_torch else engine_fn,
            kinks=UNDECLARED_KINKS,
            **self.flags,
        )  # fmt: skip
        case = _SameCotangentCase(spec, self.dtype, tuple(arrays), cotangent_seed=self.seed, fixed=self.cotangent)
        ids = CaseIds(run_id="gradcheck", seed=self.seed, example=0)
        try:
            return self.checker.check(case, ids)
        except Exception as exc:  # noqa: BLE001 - reported as the core reports its own crashes
            return [self.checker.harness_error(case, ids, exc)]

    def _check_input(self, i: int) -> list[Record]:
        """The check that varies input ``i`` alone, the others held fixed as constants."""

        def with_others(module, fn):
            def restricted(t):
                args = [module.from_numpy(np.array(a, copy=True)) for a in self.arrays]
                args[i] = t
                return fn(*args)

            return restricted

        engine_fn = with_others(self.engine.module, self.fn)
        torch_fn = with_others(self.module, self.torch_fn)
        return self._check(engine_fn, torch_fn, [self.arrays[i]], name=f"gradcheck_input{i}")

    def _preflight(self) -> tuple[int, ...] | None:
        """Errors of the caller's, said plainly before checking: a non-tensor result, or a
        default ``torch_fn`` that cannot run on torch tensors."""
        e_out = _run_plain(self.engine.module, self.fn, self.arrays)
        if e_out is not None and not hasattr(e_out, "detach"):
            raise TypeError(f"gradcheck: fn must return one tensor, got {type(e_out).__name__}")
        if not self.consult_torch:
            return tuple(e_out.shape) if e_out is not None else None
        try:
            with warnings.catch_warnings():  # an engine function fed torch tensors may warn before it fails
                warnings.simplefilter("ignore")
                t_out = _run_plain(self.oracle.module, self.torch_fn, self.arrays, raise_errors=True)
        except Exception as exc:
            if self.torch_fn_given:
                return None  # the checker reports torch's error as a finding
            raise TypeError(
                "gradcheck: fn could not run on torch tensors "
                f"({type(exc).__name__}: {exc}); pass torch_fn=, the same function written for torch, or "
                "torch_fn=False to check against finite differences alone"
            ) from exc
        if not hasattr(t_out, "shape"):
            raise TypeError(f"gradcheck: torch_fn must return one tensor, got {type(t_out).__name__}")
        return tuple(t_out.shape)


@dataclass
class _SameCotangentCase(Case):
    """A case whose cotangent is given (the joint check's), not drawn from its inputs."""

    fixed: np.ndarray | None = None

    def cotangent(self, shape: tuple[int, ...]) -> np.ndarray:
        if self.fixed is not None and self.fixed.shape == tuple(shape):
            return self.fixed
        return super().cotangent(shape)


def _unused_fn(ns, *tensors):
    raise AssertionError("gradcheck specs call engine_fn and torch_fn directly")


def _run_plain(module, fn: Callable, arrays, *, raise_errors: bool = False):
    """fn's output on tensors of ``module`` without a graph; None if it raised (and
    ``raise_errors`` is off: the checker turns an engine's error into a verdict)."""
    try:
        with module.no_grad():
            return fn(*[module.from_numpy(np.array(a, copy=True)) for a in arrays])
    except Exception:
        if raise_errors:
            raise
        return None


def as_arrays(inputs: Any) -> list[np.ndarray]:
    """The inputs as float32/float64 arrays; a non-finite element is an error that names it."""
    items = [inputs] if _is_one_input(inputs) else list(inputs)
    if not items:
        raise ValueError("gradcheck: inputs is empty; give at least one float32 or float64 array")
    arrays = []
    for i, x in enumerate(items):
        a = np.asarray(x)
        if a.dtype.name not in FLOAT_DTYPES:
            raise TypeError(
                f"gradcheck: input {i} has dtype {a.dtype.name}; every input must be a float32 or float64 "
                "array (cast it, e.g. np.asarray(x, dtype=np.float64))"
            )
        bad = np.argwhere(~np.isfinite(a))
        if bad.size:
            at = [int(k) for k in bad[0]]
            raise ValueError(
                f"gradcheck: input {i} has a non-finite value ({a[tuple(at)]}) at {at}: no derivative can be "
                "checked there (finite differences need finite inputs); pass finite values"
            )
        arrays.append(np.array(a, copy=True))
    return arrays


def _is_one_input(inputs: Any) -> bool:
    return isinstance(inputs, np.ndarray) or np.isscalar(inputs)


__all__ = ["EngineFunction", "MirrorEngine", "as_arrays"]
