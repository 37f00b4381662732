"""Tensor hooks, ``retain_grad`` and node hooks, as torch runs them.

A hook registered on a tensor lives on the node its gradient arrives at: the tensor's
``grad_fn`` (keyed by output number) or, for a leaf, its ``AccumulateGrad`` node. When the
engine has summed every contribution for a node, it runs that node's hooks in registration
order (each may return a replacement gradient), then the ``retain_grad`` stores, which come
last whatever the registration order, then captures. Only a node that then runs calls its own
hooks (``grad_fn.register_prehook``: the gradients of its outputs, before it runs;
``register_hook``: those of its inputs and outputs, after): so ``autograd.grad`` does not call
them on a node whose gradient it only captures, and a node reached by no gradient at all still
calls them, with None, as torch's engine runs it with undefined gradients.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import numpy as np

NO_GRAD_HOOK_MESSAGE = "cannot register a hook on a tensor that doesn't require gradient"
NO_GRAD_RETAIN_MESSAGE = "can't retain_grad on Tensor that has requires_grad=False"

_handle_ids = itertools.count()


class RemovableHandle:
    """What ``register_hook`` returns: ``.remove()`` unregisters the hook (twice is harmless);
    also a context manager that removes it on exit."""

    def __init__(self, table: dict) -> None:
        self.id = next(_handle_ids)
        self._table = table  # the dict that holds the hook

    def remove(self) -> None:
        self._table.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class _StrongRef:
    """Stands in for the weak reference a leaf keeps to its AccumulateGrad node once hooks
    live there, so the node (and its hooks) outlive the graphs that used it."""

    __slots__ = ("node",)

    def __init__(self, node: Any) -> None:
        self.node = node

    def __call__(self) -> Any:
        return self.node


class NodeHooks:
    """The hooks of one node: tensor hooks and retain_grad targets, by output number."""

    __slots__ = ("post", "pre", "retain", "tensor")

    def __init__(self) -> None:
        self.tensor: dict[int, dict[int, Any]] = {}
        self.retain: dict[int, Any] = {}  # output number -> weakref to the tensor
        self.pre: dict[int, Any] = {}  # handle id -> grad_fn.register_prehook hook
        self.post: dict[int, Any] = {}  # handle id -> grad_fn.register_hook hook

    def run_pre(self, grads: list, create_graph: bool) -> list:
        """``register_prehook`` hooks on the gradients of the node's outputs."""
        values = _as_tensors(grads)
        for fn in list(self.pre.values()):
            result = fn(values)
            if result is not None:
                values = _replaced(fn, values, result)
        return _unwrapped(values, create_graph)

    def run_post(self, grad_inputs: list, grad_outputs: list, create_graph: bool) -> list:
        """``register_hook`` hooks: ``hook(grad_inputs, grad_outputs)`` may replace grad_inputs."""
        values, outs = _as_tensors(grad_inputs), _as_tensors(grad_outputs)
        for fn in list(self.post.values()):
            result = fn(values, outs)
            if result is not None:
                values = _replaced(fn, values, result)
        return _unwrapped(values, create_graph)

    def run(self, grads: list, create_graph: bool) -> list:
        from reference.tensor import Tensor

        grads = list(grads)
        for nr, table in self.tensor.items():
            if grads[nr] is None or not table:
                continue
            g = grads[nr] if isinstance(grads[nr], Tensor) else Tensor._make(grads[nr])
            for fn in list(table.values()):
                result = fn(g)
                if result is not None:
                    _check_hook_result(fn, g, result)
                    g = result
            grads[nr] = g if create_graph else g._data
        for nr, ref in self.retain.items():
            tensor = ref()
            if tensor is not None and grads[nr] is not None:
                _store_retained(tensor, grads[nr])
        return grads


def _hook_name(fn: Any) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _check_hook_result(fn: Any, grad: Any, result: Any) -> None:
    from reference.autograd.graph import legacy_type_name
    from reference.tensor import Tensor

    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    if result._data.shape != grad._data.shape:
        raise RuntimeError(f"hook '{_hook_name(fn)}' has changed the size of value")
    if result._data.dtype != grad._data.dtype:
        raise RuntimeError(
            f"hook '{_hook_name(fn)}' has changed the type of value (was {legacy_type_name(grad._data.dtype)} "
            f"got {legacy_type_name(result._data.dtype)})"
        )


def _as_tensors(grads: Any) -> tuple:
    from reference.tensor import Tensor

    return tuple(g if g is None or isinstance(g, Tensor) else Tensor._make(g) for g in grads)


def _unwrapped(values: tuple, create_graph: bool) -> list:
    return [v if v is None or create_graph else v._data for v in values]


def _replaced(fn: Any, old: tuple, result: Any) -> tuple:
    """A node hook's replacement gradients, checked as torch checks them."""
    if not isinstance(result, (tuple, list)):
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != len(old):
        raise RuntimeError(
            f"hook '{_hook_name(fn)}' has returned an incorrect number of values "
            f"(got {len(result)}, but expected {len(old)})"
        )
    for before, after in zip(old, result):
        if after is None:
            continue
        if before is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        _check_hook_result(fn, before, after)
    return tuple(result)


def register_node_hook(node: Any, hook: Any, *, pre: bool) -> RemovableHandle:
    """``grad_fn.register_prehook`` / ``register_hook``: the hook lives as long as the node."""
    hooks = _hooks_of(node)
    table = hooks.pre if pre else hooks.post
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def _store_retained(tensor: Any, g: Any) -> None:
    """A retained gradient is a copy at first, then a new sum at each backward (torch's rule)."""
    from reference.tensor import Tensor

    if not isinstance(g, Tensor):
        g = Tensor._make(np.array(g, copy=True))
    tensor._grad = g if tensor._grad is None else tensor._grad + g


def _hooks_of(node: Any) -> NodeHooks:
    hooks = node._hooks
    if hooks is None:
        hooks = node._hooks = NodeHooks()
    return hooks


def _node_of(tensor: Any) -> tuple[Any, int]:
    """The node a tensor's gradient arrives at; a leaf's accumulator is kept alive from now on."""
    node, nr = tensor._edge()
    if node is not None and tensor.grad_fn is None and not isinstance(tensor._accumulator, _StrongRef):
        tensor._accumulator = _StrongRef(node)
    return node, nr


def register_hook(tensor: Any, hook: Any) -> RemovableHandle:
    if not tensor.requires_grad:
        raise RuntimeError(NO_GRAD_HOOK_MESSAGE)
    node, nr = _node_of(tensor)
    if node is None:  # a view made before its base required grad: no gradient ever reaches it
        return RemovableHandle({})
    table = _hooks_of(node).tensor.setdefault(nr, {})
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def retain_grad(tensor: Any) -> None:
    if not tensor.requires_grad:
        raise RuntimeError(NO_GRAD_RETAIN_MESSAGE)
    if tensor._grad_fn is None or tensor._retains_grad:  # torch reads a view's grad_fn without regenerating it here
        return  # a leaf's .grad is populated anyway
    _hooks_of(tensor.grad_fn).retain[tensor._output_nr] = weakref.ref(tensor)
    tensor._retains_grad = True


def move_retain(tensor: Any, old_node: Any, old_nr: int) -> None:
    """After an in-place op rebased ``tensor``, its retained gradient follows the new history."""
    hooks = old_node._hooks if old_node is not None else None
    if hooks is None or not tensor._retains_grad:
        return
    ref = hooks.retain.get(old_nr)
    if ref is not None and ref() is tensor:
        del hooks.retain[old_nr]
        _hooks_of(tensor.grad_fn).retain[tensor._output_nr] = weakref.ref(tensor)


def grad_inputs(node: Any, outs: tuple) -> list:
    """The gradients a node hands its inputs, in the inputs' shapes, as its post-hooks see them."""
    from reference.autograd.broadcast import to_input

    return [
        None if nxt is None or g is None else to_input(g, meta[0], meta[1])
        for (nxt, _), g, meta in zip(node.next_functions, outs, node._input_meta)
    ]


def undefined_run(node: Any, outputs: int, create_graph: bool) -> None:
    """torch runs a node that no gradient reached with undefined ones (for each of its
    ``outputs``): its own hooks see None."""
    from reference.autograd.graph import AccumulateGrad

    grads = node._hooks.run_pre([None] * outputs, create_graph)
    if node._hooks.post:
        gi = () if type(node) is AccumulateGrad else [None] * len(node.next_functions)
        node._hooks.run_post(gi, grads, create_graph)
