"""Random autograd programs, run on the engine and on torch in lockstep.

A program is a list of steps, each a few lines of Python written against the torch API
(``torch.tensor(...)``, ``t1 = t0 * t0``, ``t1.backward()``, ``h0 = t0.register_hook(...)``).
Each step is drawn from what the program holds so far (read from the torch side), then
executed on both sides; after each step the observable states are compared
(``observe.py``). The first difference raises :class:`Divergence`, which hypothesis
shrinks to a short program; the same lines run as a script on either side by swapping
``import torch`` for ``import reference as torch``. The steps are drawn in ``steps.py``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck_suite.catalogue.complex_view import REAL_DTYPES
from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.semantics import differences, observe, sources


class Divergence(AssertionError):  # noqa: N818 - a finding, not an error of ours
    """The engine and torch disagree after a step of a program."""

    def __init__(self, steps: list[tuple[str, str]], step: str, differences: list[str]) -> None:
        self.steps = list(steps)  # (kind, source) of every step up to the diverging one
        self.step = step
        self.differences = differences
        super().__init__(self.describe())

    def describe(self) -> str:
        shown = "\n".join(f"  {d}" for d in self.differences[:8])
        more = f"\n  ... {len(self.differences) - 8} more" if len(self.differences) > 8 else ""
        return f"after step {self.step!r}:\n{shown}{more}\nprogram:\n{sources.script(self.lines)}"

    @property
    def lines(self) -> list[str]:
        return [line for _, source in self.steps for line in source.splitlines()]


def real_dtypes(op: OpSpec) -> tuple[str, ...]:
    return tuple(d for d in op.dtypes if d in REAL_DTYPES)


@dataclass
class Lockstep:
    """Two namespaces (the engine's module and torch) running the same lines."""

    engine: Any
    torch: Any
    ops: Sequence[OpSpec]
    steps: list[tuple[str, str]] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)
    counter: int = 0

    def __post_init__(self) -> None:
        self.envs = {"engine": {"torch": self.engine, "np": np}, "torch": {"torch": self.torch, "np": np}}
        self.formula: dict[str, set[int]] = {"engine": set(), "torch": set()}  # ids of formula-recorded nodes
        # programs run in the real dtypes: their losses and backward calls assume real outputs
        self.ops = [op for op in self.ops if sources.has_source(op) and not op.complex_output and real_dtypes(op)]
        self._saved_modes = (self.engine.is_grad_enabled(), self.torch.is_grad_enabled())

    def close(self) -> None:
        """Programs may switch grad mode off: leave both libraries as they were."""
        self.engine.set_grad_enabled(self._saved_modes[0])
        self.torch.set_grad_enabled(self._saved_modes[1])

    # -- running ---------------------------------------------------------------------------
    def execute(self, kind: str, source: str) -> None:
        self.kinds[kind] += 1
        self.steps.append((kind, source))
        outcomes = {side: self._exec(side, source) for side in self.envs}
        if kind == "grad" and "create_graph=True" in source:
            self._note_formula_nodes(source.split(" = ")[0])
        diffs = []
        (e_out, e_warn), (t_out, t_warn) = outcomes["engine"], outcomes["torch"]
        if e_out != t_out:
            diffs.append(f"engine {e_out}; torch {t_out}")
        if e_warn != t_warn:
            diffs.append(f"warnings: engine {list(e_warn)}; torch {list(t_warn)}")
        diffs += observe.differences(self._snapshot("engine"), self._snapshot("torch"))
        diffs = [d for d in diffs if differences.accepted(d) is None]
        if diffs:
            raise Divergence(self.steps, source, diffs)

    def _exec(self, side: str, source: str) -> tuple[observe.Outcome, tuple[str, ...]]:
        """How the step ended on one side, and the warnings it raised."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", append=True)  # libraries' own filters still apply
            try:
                exec(compile(source, "<program>", "exec"), self.envs[side])
                outcome = observe.Outcome.of(None)
            except Exception as exc:  # noqa: BLE001 - an exception is an observable outcome
                outcome = observe.Outcome.of(exc)
        return outcome, observe.compared_warnings([str(w.message) for w in caught])

    def _snapshot(self, side: str) -> dict:
        module = self.engine if side == "engine" else self.torch
        formula = frozenset(self.formula[side])
        return observe.snapshot(self._user_vars(side), module.Tensor, module.is_grad_enabled(), formula)

    def _note_formula_nodes(self, name: str) -> None:
        """The graph of a gradient computed with create_graph=True was recorded by backward
        formulas; remember its nodes (differences.FORMULA_NODES explains why)."""
        for side, env in self.envs.items():
            stack = [getattr(env.get(name), "grad_fn", None)]
            while stack:
                node = stack.pop()
                if node is None or id(node) in self.formula[side] or "AccumulateGrad" in type(node).__name__:
                    continue
                self.formula[side].add(id(node))
                stack.extend(n for n, _ in node.next_functions)

    def _user_vars(self, side: str) -> dict:
        return {k: v for k, v in self.envs[side].items() if k not in ("torch", "np", "__builtins__")}

    # -- what the program holds (read on the torch side) -----------------------------------
    def tensors(self, *, float_only: bool = True) -> list[str]:
        env = self.envs["torch"]
        return sorted(
            (
                k
                for k, v in env.items()
                if isinstance(v, self.torch.Tensor) and (not float_only or v.is_floating_point())
            ),
            key=_var_order,
        )

    def handles(self) -> list[str]:
        return sorted((k for k in self.envs["torch"] if k.startswith("h")), key=_var_order)

    def value(self, name: str) -> Any:
        return self.envs["torch"][name]

    def new_name(self, prefix: str = "t") -> str:
        name = f"{prefix}{self.counter}"
        self.counter += 1
        return name


def replay(engine: Any, torch: Any, steps: list[tuple[str, str]]) -> Divergence | None:
    """Run fixed steps in lockstep; the divergence they lead to, if any."""
    lock = Lockstep(engine, torch, ())
    try:
        for kind, source in steps:
            lock.execute(kind, source)
    except Divergence as exc:
        return exc
    finally:
        lock.close()
    return None


def minimise(engine: Any, torch: Any, divergence: Divergence) -> Divergence:
    """Drop every step whose removal keeps the program diverging at the same step.

    Hypothesis shrinks the choices that drew a program, but a step that later draws
    point at by position cannot be removed that way; removing steps from the finished
    program (last to first, repeated until nothing changes) gets the few lines that matter.
    """
    best = divergence
    changed = True
    while changed:
        changed = False
        for i in range(len(best.steps) - 2, -1, -1):
            trial = best.steps[:i] + best.steps[i + 1 :]
            found = replay(engine, torch, trial)
            if found is not None and found.step == best.step:
                best, changed = found, True
    return best


def _var_order(name: str) -> tuple[str, int]:
    return name[0], int(name[1:]) if name[1:].isdigit() else -1
