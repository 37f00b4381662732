"""Random autograd programs, run on the engine and on torch in lockstep.

A program is a list of steps, each a few lines of Python written against the torch API
(``torch.tensor(...)``, ``t1 = t0 * t0``, ``t1.backward()``, ``h0 = t0.register_hook(...)``).
Each step is drawn from what the program holds so far (read from the torch side), then
executed on both sides; after each step the observable states are compared
(``observe.py``). The first difference raises :class:`Divergence`, which hypothesis
shrinks to a short program; the same lines run as a script on either side by swapping
``import torch`` for ``import reference as torch``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import REAL_DTYPES
from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.semantics import differences, hook_steps, observe, sources
from gradcheck_suite.strategies import values

# The step kinds a program is made of, with their drawing weights.
STEP_KINDS: dict[str, int] = {
    "leaf": 4,  # a new leaf tensor, with or without requires_grad, float32 or float64
    "op": 8,  # a catalogue op on tensors the program holds (reuse, diamonds)
    "op-fresh": 3,  # a catalogue op on inputs of the shapes it wants (new leaves where needed)
    "chain": 1,  # a long loop of ops on one tensor (the tutorial's doubling loop)
    "detach": 1,
    "detach_": 1,
    "requires_grad_": 2,
    "grad-mode": 2,  # set_grad_enabled, no_grad / enable_grad blocks
    "retain_grad": 2,
    "hook": 2,
    "node-hook": 1,  # grad_fn.register_prehook / register_hook, on a node or a leaf's AccumulateGrad
    "hook-remove": 2,
    "inplace": 3,
    "backward": 5,
    "grad": 2,  # autograd.grad, sometimes with create_graph
    "grad-reset": 2,  # .grad = None or .grad.zero_()
}
LEAF_SHAPES = ((), (3,), (2, 3), (2, 1), (1, 3))
INPLACE = ("add_(1.5)", "mul_(2)", "sub_(0.5)", "zero_()", "clamp_(-1, 1)", "div_(4)", "fill_(0.25)")


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


def _real_dtypes(op: OpSpec) -> tuple[str, ...]:
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
        self.ops = [op for op in self.ops if sources.has_source(op) and not op.complex_output and _real_dtypes(op)]
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


# -- drawing steps ------------------------------------------------------------------------


def run_program(data: st.DataObject, lock: Lockstep, steps: int, kinds: Sequence[str] | None = None) -> None:
    """Draw and execute ``steps`` steps (of the given kinds, default all); raises Divergence
    at the first difference."""
    kinds = list(kinds or STEP_KINDS)
    unknown = set(kinds) - set(STEP_KINDS)
    if unknown:
        raise ValueError(f"unknown step kinds {sorted(unknown)}; known: {', '.join(STEP_KINDS)}")
    weights = [STEP_KINDS[k] for k in kinds]
    total = sum(weights)
    for _ in range(steps):
        r = data.draw(st.integers(0, total - 1), label="step")
        kind = kinds[_pick(weights, r)]
        for step_kind, source in draw_step(data, lock, kind):
            lock.execute(step_kind, source)


def _pick(weights: list[int], r: int) -> int:
    for i, w in enumerate(weights):
        if r < w:
            return i
        r -= w
    return len(weights) - 1


def draw_step(data: st.DataObject, lock: Lockstep, kind: str) -> list[tuple[str, str]]:
    """``(kind, source)`` of the step(s) to run for ``kind`` (a leaf when the program holds
    nothing to use; an op on fresh inputs first creates its leaves, as separate steps)."""
    tensors = lock.tensors()
    if kind.startswith("op") and not lock.ops:
        kind = "leaf"
    if not tensors and kind != "op-fresh":
        kind = "leaf"
    if kind == "hook-remove" and not lock.handles():
        kind = "hook"
    if kind == "node-hook" and not hook_steps.nodes(lock, tensors):
        kind = "hook"
    source = _DRAW[kind](data, lock, tensors)
    if kind == "op-fresh" or (kind == "op" and source.count("\n")):
        *leaves, last = source.splitlines()
        return [*(("leaf", leaf) for leaf in leaves), ("op-fresh", last)]
    return [(kind, source)]


def _choose(data: st.DataObject, names: list[str], label: str) -> str:
    return data.draw(st.sampled_from(names), label=label)


def _literal_array(a: np.ndarray) -> str:
    return repr(np.round(a.astype(np.float64), 2).tolist())


def _leaf(data, lock, tensors, shape=None, requires_grad=None, dtype=None, domain=None) -> str:
    name = lock.new_name()
    if shape is None:
        shape = data.draw(st.sampled_from(LEAF_SHAPES), label="leaf shape")
    dtype = dtype or data.draw(st.sampled_from(("float32", "float64")), label="leaf dtype")
    if requires_grad is None:
        requires_grad = data.draw(st.booleans(), label="requires_grad")
    if domain is None:
        arr = data.draw(st.lists(st.integers(-8, 8), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        arr = np.array(arr, dtype=np.float64).reshape(shape) / 4
    else:
        arr = np.clip(
            np.round(data.draw(values(shape, domain, "float64"), label="leaf values"), 2), domain.low, domain.high
        )
    args = [_literal_array(arr)]
    if dtype == "float64":
        args.append("dtype=torch.float64")
    if requires_grad:
        args.append("requires_grad=True")
    if domain is None and data.draw(st.integers(0, 4), label="from numpy") == 0:
        # shared NumPy data: from_numpy keeps NumPy's float64
        src = f"torch.from_numpy(np.array({_literal_array(arr)}))"
        src += ".requires_grad_()" if requires_grad else ""
        return f"{name} = {src}"
    return f"{name} = torch.tensor({', '.join(args)})"


def _op_expression(data, lock, tensors) -> str | None:
    """A catalogue op applied to tensors the program holds, or None if none fits."""
    candidates = [op for op in lock.ops if op.arity <= 2]
    if not candidates:
        return None
    op = data.draw(st.sampled_from(candidates), label="op")
    args = [_choose(data, tensors, f"input {i}") for i in range(op.arity)]
    shapes = tuple(tuple(lock.value(a).shape) for a in args)
    try:
        kwargs = data.draw(op.kwargs(shapes), label="kwargs")
    except Exception:  # noqa: BLE001 - the op's kwargs do not fit these shapes
        return None
    return sources.expression(op, args, kwargs)


def _op(data, lock, tensors) -> str:
    expr = _op_expression(data, lock, tensors)
    if expr is None:
        return _op_fresh(data, lock, tensors)
    return f"{lock.new_name()} = {expr}"


def _op_fresh(data, lock, tensors) -> str:
    if not lock.ops:
        return _leaf(data, lock, tensors)
    op = data.draw(st.sampled_from(list(lock.ops)), label="op")
    shapes = data.draw(op.shapes, label="shapes")
    kwargs = data.draw(op.kwargs(shapes), label="kwargs")
    dtype = data.draw(st.sampled_from(_real_dtypes(op)), label="dtype")
    lines, args = [], []
    for i, (shape, domain) in enumerate(zip(shapes, op.domains)):
        same = [
            t
            for t in tensors
            if tuple(lock.value(t).shape) == tuple(shape) and str(lock.value(t).dtype).endswith(dtype)
        ]
        if same and data.draw(st.booleans(), label=f"reuse input {i}"):
            args.append(_choose(data, same, f"input {i}"))
            continue
        line = _leaf(data, lock, tensors, shape=tuple(shape), requires_grad=True, dtype=dtype, domain=domain)
        lines.append(line)
        args.append(line.split(" = ")[0])
    lines.append(f"{lock.new_name()} = {sources.expression(op, args, kwargs)}")
    return "\n".join(lines)


def _chain(data, lock, tensors) -> str:
    t = _choose(data, tensors, "chain start")
    n = data.draw(st.sampled_from((3, 10, 1000)), label="chain length")
    body = data.draw(st.sampled_from(("{v} * 2", "torch.tanh({v})", "{v} + {v}")), label="chain op")
    v = lock.new_name()
    return f"{v} = {t} * 1\nfor _ in range({n}):\n    {v} = {body.format(v=v)}"


def _detach(data, lock, tensors) -> str:
    return f"{lock.new_name()} = {_choose(data, tensors, 'tensor')}.detach()"


def _detach_inplace(data, lock, tensors) -> str:
    return f"{_choose(data, tensors, 'tensor')}.detach_()"


def _requires_grad(data, lock, tensors) -> str:
    t = _choose(data, tensors, "tensor")
    flag = data.draw(st.sampled_from(("", "False", "True")), label="flag")
    if data.draw(st.booleans(), label="as attribute") and flag:
        return f"{t}.requires_grad = {flag}"
    return f"{t}.requires_grad_({flag})"


def _grad_mode(data, lock, tensors) -> str:
    form = data.draw(st.sampled_from(("switch", "no_grad", "no_grad+enable_grad")), label="grad mode form")
    if form == "switch":
        return f"torch.set_grad_enabled({not lock.torch.is_grad_enabled()})"
    expr = _op_expression(data, lock, tensors) or f"{tensors[0]} * 2"
    inner = f"{lock.new_name()} = {expr}"
    if form == "no_grad":
        return f"with torch.no_grad():\n    {inner}"
    return f"with torch.no_grad():\n    with torch.enable_grad():\n        {inner}"


def _retain_grad(data, lock, tensors) -> str:
    return f"{_choose(data, tensors, 'tensor')}.retain_grad()"


def _inplace(data, lock, tensors) -> str:
    t = _choose(data, tensors, "tensor")
    form = data.draw(st.sampled_from((*INPLACE, "copy_", "setitem")), label="in-place op")
    if form == "copy_":
        stmt = f"{t}.copy_({_choose(data, tensors, 'source')})"
    elif form == "setitem":
        stmt = f"{t}[0] = 1.5"
    else:
        stmt = f"{t}.{form}"
    if data.draw(st.booleans(), label="under no_grad"):
        return f"with torch.no_grad():\n    {stmt}"
    return stmt


def _differentiable(data, lock, tensors, label: str) -> str:
    """A tensor for backward/grad: mostly one with a graph, sometimes any (to hit errors)."""
    with_graph = [t for t in tensors if lock.value(t).requires_grad]
    if with_graph and data.draw(st.integers(0, 4), label=f"{label} has a graph") != 0:
        return _choose(data, with_graph, label)
    return _choose(data, tensors, label)


def _backward(data, lock, tensors) -> str:
    t = _differentiable(data, lock, tensors, "output")
    form = data.draw(st.sampled_from(("plain", "sum", "gradient", "ones")), label="backward form")
    retain = data.draw(st.integers(0, 3), label="retain_graph") == 0  # mostly not: second backwards fail
    extra = "retain_graph=True" if retain else ""
    if form == "plain":
        return f"{t}.backward({extra})"
    if form == "sum":
        return f"{t}.sum().backward({extra})"
    if form == "ones":
        return f"{t}.backward(torch.ones_like({t}){', ' + extra if extra else ''})"
    shape = tuple(lock.value(t).shape)
    dtype = ", dtype=torch.float64" if lock.value(t).dtype == lock.torch.float64 else ""
    grad = np.array(data.draw(st.lists(st.integers(-4, 4), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))))
    literal = _literal_array(grad.reshape(shape) / 2)
    return f"{t}.backward(torch.tensor({literal}{dtype}){', ' + extra if extra else ''})"


def _grad(data, lock, tensors) -> str:
    out = _differentiable(data, lock, tensors, "output")
    wrt = _differentiable(data, lock, tensors, "input")
    flags = []
    if data.draw(st.booleans(), label="create_graph"):
        flags.append("create_graph=True")
    if data.draw(st.booleans(), label="allow_unused"):
        flags.append("allow_unused=True")
    target = f"{out}.sum()" if data.draw(st.booleans(), label="sum output") else out
    if data.draw(st.integers(0, 3), label="batched cotangents") == 0:  # rows of the Jacobian at once
        flags.append(f"grad_outputs=torch.stack([torch.ones_like({target}), -{target}.detach()])")
        flags.append("is_grads_batched=True")
    return f"{lock.new_name()} = torch.autograd.grad({', '.join([target, wrt, *flags])})[0]"


def _grad_reset(data, lock, tensors) -> str:
    t = _choose(data, tensors, "tensor")
    if data.draw(st.booleans(), label="set None"):
        return f"{t}.grad = None"
    return f"{t}.grad.zero_()"


_DRAW = {
    "leaf": _leaf,
    "op": _op,
    "op-fresh": _op_fresh,
    "chain": _chain,
    "detach": _detach,
    "detach_": _detach_inplace,
    "requires_grad_": _requires_grad,
    "grad-mode": _grad_mode,
    "retain_grad": _retain_grad,
    "hook": hook_steps.tensor_hook,
    "node-hook": hook_steps.node_hook,
    "hook-remove": hook_steps.remove,
    "inplace": _inplace,
    "backward": _backward,
    "grad": _grad,
    "grad-reset": _grad_reset,
}
assert set(_DRAW) == set(STEP_KINDS), "every step kind needs a drawing function"
