"""``gradcheck``: torch.autograd.gradcheck's interface on gradcheck-suite's three witnesses.

    >>> import numpy as np, gradcheck_suite
    >>> x = np.random.default_rng(0).standard_normal((64, 64))
    >>> w = np.random.default_rng(1).standard_normal((64, 64))
    >>> gradcheck_suite.gradcheck(lambda x, w: (x @ w).tanh().sum(-1).exp(), (x, w))
    True

``fn`` takes engine tensors (the reference engine's by default) and returns one tensor.
It is wrapped into an ad-hoc ``OpSpec`` and checked by the very ``CaseChecker`` the
catalogue runs use: engine against torch.autograd (``torch_fn``, by default ``fn`` itself
run on torch tensors) and against float64 finite differences, within the error budget of
``tolerances.py``, with a verdict and the rule that decided it. Nothing here re-implements
a comparison; this module only builds cases, attributes a failure to the inputs whose
gradient is wrong (by checking ``fn`` restricted to one input), and words the result.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck_suite import records as records_module
from gradcheck_suite.catalogue.spec import REAL, OpSpec
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.engines import MirrorEngine, get_engine
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.records import Record
from gradcheck_suite.strategies import Case

FLOAT_DTYPES = ("float32", "float64")
LEGEND = "e: engine, torch: torch.autograd, fd: finite differences in float64"


class GradcheckError(AssertionError, RuntimeError):
    """A gradient that the witnesses reject. An ``AssertionError`` (a failed check in test
    runners) and a ``RuntimeError`` (what ``torch.autograd.gradcheck`` raises), so code
    written for either catches it. ``.result`` holds the full ``GradcheckResult``."""

    def __init__(self, message: str, result: GradcheckResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class GradcheckResult:
    """Everything one ``gradcheck`` found.

    - ``records``: the records of the check over all inputs together (``forward``,
      ``vjp-torch``, ``vjp-fd``, and the core's further checks when requested).
    - ``per_input``: input index -> the records of the check that varies that input alone
      (the others held fixed); filled on failure, or always with ``full_result``/``check``.
    """

    ok: bool
    dtype: str
    seed: int
    shapes: tuple[tuple[int, ...], ...]
    records: list[Record]
    per_input: dict[int, list[Record]] = field(default_factory=dict)
    match_torch_at_kinks: bool = False

    def __bool__(self) -> bool:
        return self.ok

    def fails(self, record: Record) -> bool:
        """A failing verdict; with ``match_torch_at_kinks``, a ``convention`` one too."""
        return record.failed or (self.match_torch_at_kinks and record.verdict == "convention")

    @property
    def failures(self) -> list[Record]:
        return [r for r in self.records if self.fails(r)]

    @property
    def verdict(self) -> str:
        """``pass``, or the verdict of the first failing record."""
        return self.failures[0].verdict if self.failures else "pass"

    @property
    def failing_inputs(self) -> list[int]:
        return [i for i, recs in sorted(self.per_input.items()) if any(self.fails(r) for r in recs)]

    def message(self) -> str:
        """The explanation ``GradcheckError`` carries (also useful when ok: one line)."""
        shapes = [list(s) for s in self.shapes]
        if self.ok:
            return f"gradcheck passed: {len(self.records)} checks, dtype {self.dtype}, input shapes {shapes}"
        first = self.failures[0]
        lines = [
            f"gradcheck failed: verdict {first.verdict!r} on check {first.check!r}",
            f"  rule: {first.rule}",
            f"  dtype {self.dtype}, input shapes {shapes}, seed {self.seed}",
            f"  {first.detail}",
            f"  max abs error {first.max_abs_err:.3g}, tolerance there {first.tolerance:.3g} (score {first.score:.3g})",
        ]
        lines += [f"  also {r.check}: {r.verdict} ({r.detail})" for r in self.failures[1:]]
        if len(self.shapes) > 1 and self.per_input:
            culprits = self.failing_inputs
            named = ", ".join(f"input {i}" for i in culprits) if culprits else "none alone (only jointly)"
            lines.append(f"  varying one input at a time, the gradient is wrong for: {named}")
        lines.append(f"  ({LEGEND})")
        return "\n".join(lines)


def check(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    torch_fn: Callable[..., Any] | None = None,
    engine: str | MirrorEngine = "reference",
    seed: int = 0,
    check_forward_ad: bool = False,
    check_second_order: bool = False,
    match_torch_at_kinks: bool = False,
    per_input: bool = True,
) -> GradcheckResult:
    """Check ``fn``'s gradient at ``inputs`` and return the full ``GradcheckResult``.

    Parameters are those of :func:`gradcheck`; ``per_input`` (default True) also checks
    each input on its own, for ``GradcheckResult.per_input``.
    """
    runner = _Runner(fn, inputs, torch_fn, engine, seed, check_forward_ad, check_second_order, match_torch_at_kinks)
    return runner.run(per_input=per_input)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    torch_fn: Callable[..., Any] | None = None,
    raise_exception: bool = True,
    engine: str | MirrorEngine = "reference",
    seed: int = 0,
    check_forward_ad: bool = False,
    check_second_order: bool = False,
    match_torch_at_kinks: bool = False,
    full_result: bool = False,
) -> bool | GradcheckResult:
    """Check the gradient of ``fn`` at ``inputs`` against torch.autograd and finite differences.

    Parameters
    ----------
    fn : callable
        Takes one engine tensor per input and returns one tensor.
    inputs : array or sequence of arrays
        float32 or float64 NumPy arrays (lists and detached tensors are converted); every
        input is differentiated. Any float32 input makes the check float32 (tolerances and
        measured noise for float32); finite differences always run in float64.
    torch_fn : callable, optional
        The same function on torch tensors. Default: ``fn`` itself, which works when ``fn``
        only uses methods and operators (``x.exp()``, ``x @ w``) that both engines share.
    raise_exception : bool, default True
        Raise ``GradcheckError`` on failure; else return False.
    engine : str or MirrorEngine, default "reference"
        The engine under test.
    seed : int, default 0
        Seeds the cotangent (with the inputs), so a call is deterministic.
    check_forward_ad, check_second_order : bool, default False
        Also check forward mode (JVP) and second order (VJP of the VJP).
    match_torch_at_kinks : bool, default False
        Where the function has a kink (relu at 0, ties of max), the checker accepts any
        gradient between the one-sided derivatives, element by element and with all kink
        elements moved together (so a tie's gradient given in full to every tied element
        fails), as verdict ``convention``. True demands torch's choice there too (for
        engines that mirror torch's conventions).
    full_result : bool, default False
        Return the ``GradcheckResult`` (truthy when the check passed) instead of a bool;
        failures still raise unless ``raise_exception=False``.

    Returns True when every check passes.
    """
    runner = _Runner(fn, inputs, torch_fn, engine, seed, check_forward_ad, check_second_order, match_torch_at_kinks)
    result = runner.run(per_input=full_result)
    if not result.ok and raise_exception:
        raise GradcheckError(result.message(), result)
    return result if full_result else result.ok


# -- building cases from a user function ------------------------------------------------------


class _Runner:
    """One gradcheck call: validated inputs, the two callables, and the checker."""

    def __init__(self, fn, inputs, torch_fn, engine, seed, forward_ad, second_order, at_kinks) -> None:
        if not callable(fn):
            raise TypeError(f"gradcheck: fn must be callable, got {type(fn).__name__}")
        if torch_fn is not None and not callable(torch_fn):
            raise TypeError(f"gradcheck: torch_fn must be callable or None, got {type(torch_fn).__name__}")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"gradcheck: seed must be a non-negative int, got {seed!r}")
        _require_core_support(forward_ad, second_order)
        self.fn = fn
        self.torch_fn = torch_fn if torch_fn is not None else fn
        self.torch_fn_given = torch_fn is not None
        self.arrays = _as_arrays(inputs)
        self.dtype = "float32" if any(a.dtype == np.float32 for a in self.arrays) else "float64"
        self.seed = int(seed)
        self.engine = get_engine(engine) if isinstance(engine, str) else engine
        self.oracle = torch_oracle()
        self.checker = CaseChecker(self.engine, self.oracle)
        self.flags = {"forward_ad": forward_ad, "second_order": second_order}
        self.at_kinks = bool(at_kinks)

    def run(self, *, per_input: bool) -> GradcheckResult:
        out_shape = self._preflight()
        # one cotangent for the joint check and for every restriction of it, so that a
        # per-input check shows the joint check's values for that input
        whole = Case(op=None, dtype=self.dtype, inputs=tuple(self.arrays), cotangent_seed=self.seed)
        self.cotangent = whole.cotangent(out_shape) if out_shape is not None else None
        records = self._check(self.fn, self.torch_fn, self.arrays, name="gradcheck")
        result = GradcheckResult(
            ok=True,
            dtype=self.dtype,
            seed=self.seed,
            shapes=tuple(a.shape for a in self.arrays),
            records=records,
            match_torch_at_kinks=self.at_kinks,
        )
        result.ok = not result.failures
        if len(self.arrays) == 1:
            result.per_input = {0: records}
        elif per_input or not result.ok:
            result.per_input = {i: self._check_input(i) for i in range(len(self.arrays))}
        return result

    def _check(self, engine_fn, torch_fn, arrays, *, name: str) -> list[Record]:
        spec = OpSpec(
            name=name,
            family="user",
            fn=_unused_fn,
            shapes=st.just(tuple(a.shape for a in arrays)),
            domains=(REAL,) * len(arrays),  # unused: the values are given, not drawn
            dtypes=(self.dtype,),
            engine_fn=engine_fn,
            torch_fn=torch_fn,
            **self.flags,
        )
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
        torch_fn = with_others(self.oracle.module, self.torch_fn)
        return self._check(engine_fn, torch_fn, [self.arrays[i]], name=f"gradcheck_input{i}")

    def _preflight(self) -> tuple[int, ...] | None:
        """Errors of the caller's, said plainly before checking: a non-tensor result, or a
        default ``torch_fn`` that cannot run on torch tensors."""
        e_out = _run_plain(self.engine.module, self.fn, self.arrays)
        if e_out is not None and not hasattr(e_out, "detach"):
            raise TypeError(f"gradcheck: fn must return one tensor, got {type(e_out).__name__}")
        try:
            with warnings.catch_warnings():  # an engine function fed torch tensors may warn before it fails
                warnings.simplefilter("ignore")
                t_out = _run_plain(self.oracle.module, self.torch_fn, self.arrays, raise_errors=True)
        except Exception as exc:
            if self.torch_fn_given:
                return None  # the checker reports torch's error as a finding
            raise TypeError(
                "gradcheck: fn could not run on torch tensors "
                f"({type(exc).__name__}: {exc}); pass torch_fn=, the same function written for torch"
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


def _run_plain(module, fn, arrays, *, raise_errors: bool = False):
    """fn's output on tensors of ``module`` without a graph; None if it raised (and
    ``raise_errors`` is off: the checker turns an engine's error into a verdict)."""
    try:
        with module.no_grad():
            return fn(*[module.from_numpy(np.array(a, copy=True)) for a in arrays])
    except Exception:
        if raise_errors:
            raise
        return None


def _as_arrays(inputs: Any) -> list[np.ndarray]:
    items = [inputs] if _is_one_input(inputs) else list(inputs)
    if not items:
        raise ValueError("gradcheck: inputs is empty; give at least one float32 or float64 array")
    arrays = []
    for i, x in enumerate(items):
        if hasattr(x, "detach"):
            x = x.detach().numpy()
        a = np.asarray(x)
        if a.dtype.name not in FLOAT_DTYPES:
            raise TypeError(
                f"gradcheck: input {i} has dtype {a.dtype.name}; every input must be a float32 or float64 "
                "array (cast it, e.g. np.asarray(x, dtype=np.float64))"
            )
        arrays.append(np.array(a, copy=True))
    return arrays


def _is_one_input(inputs: Any) -> bool:
    return isinstance(inputs, np.ndarray) or hasattr(inputs, "detach") or np.isscalar(inputs)


def _require_core_support(forward_ad: bool, second_order: bool) -> None:
    wanted = {"check_forward_ad": (forward_ad, "jvp"), "check_second_order": (second_order, "hvp")}
    for option, (on, marker) in wanted.items():
        if on and not any(marker in name for name in records_module.CHECKS):
            raise NotImplementedError(f"gradcheck: {option}=True needs a checker core with that check; this one has "
                                      f"only {', '.join(records_module.CHECKS)}")  # fmt: skip


__all__ = ["GradcheckError", "GradcheckResult", "check", "gradcheck"]
