"""Program steps that register and remove hooks: tensor hooks and node (grad_fn) hooks."""

from __future__ import annotations

from hypothesis import strategies as st

TENSOR_HOOKS = ("lambda g: g * 2", "lambda g: g + 1", "lambda g: torch.ones_like(g)", "lambda g: None")
# node hooks see tuples that may hold None (an input that needs no gradient, an undefined one)
PREHOOKS = ("lambda go: tuple(None if g is None else g * 2 for g in go)", "lambda go: None")
POSTHOOKS = ("lambda gi, go: tuple(None if g is None else g - 1 for g in gi)", "lambda gi, go: None")


def tensor_hook(data, lock, tensors) -> str:
    t = data.draw(st.sampled_from(tensors), label="tensor")
    hook = data.draw(st.sampled_from(TENSOR_HOOKS), label="hook")
    return f"{lock.new_name('h')} = {t}.register_hook({hook})"


def nodes(lock, tensors) -> list[str]:
    """Expressions for the nodes the program can reach: grad_fns, and the AccumulateGrad of a
    leaf that requires grad (through the grad_fn of a tensor made from it)."""
    found = []
    for t in tensors:
        fn = lock.value(t).grad_fn
        if fn is None:
            continue
        found.append(f"{t}.grad_fn")
        edges = enumerate(fn.next_functions)
        found.extend(f"{t}.grad_fn.next_functions[{i}][0]" for i, (n, _) in edges if n is not None)
    return found


def node_hook(data, lock, tensors) -> str:
    node = data.draw(st.sampled_from(nodes(lock, tensors)), label="node")
    if data.draw(st.booleans(), label="prehook"):
        return f"{lock.new_name('h')} = {node}.register_prehook({data.draw(st.sampled_from(PREHOOKS), label='hook')})"
    return f"{lock.new_name('h')} = {node}.register_hook({data.draw(st.sampled_from(POSTHOOKS), label='hook')})"


def remove(data, lock, tensors) -> str:
    return f"{data.draw(st.sampled_from(lock.handles()), label='handle')}.remove()"
