"""Drawing a program's steps: each step kind (``STEP_KINDS``, with its weight) has a function
that writes its source lines from what the program holds (``Lockstep``, read on the torch side);
hook steps are in ``hook_steps.py``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st

from gradcheck_suite.semantics import hook_steps, sources
from gradcheck_suite.semantics.program import Lockstep, real_dtypes
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
    dtype = data.draw(st.sampled_from(real_dtypes(op)), label="dtype")
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
