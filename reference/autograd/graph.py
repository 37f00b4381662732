"""Graph nodes: what ``grad_fn`` and ``next_functions`` are made of.

A ``Node`` is both the recorded operation and the ``ctx`` its forward and backward
share (as in torch's custom Functions). Each node class is named the way torch
names its ``grad_fn`` (``MulBackward0``); the backward rule itself lives beside the
forward in the op's ``Function`` (see function.py).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from reference import dtypes

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)

_sequence = itertools.count()
_FREED = object()


class _Recording(threading.local):
    active = False  # set by the engine while it runs backward with create_graph=True


recording = _Recording()


class Node:
    """A recorded operation. ``next_functions[i]`` is where input i's gradient goes."""

    # Instances also get a __dict__: ops keep their own context there (ctx.dim = ...).
    __slots__ = ("__dict__", "__weakref__", "_input_meta", "_saved", "_seq", "_sources", "next_functions")

    fn: Any = None  # the Function whose backward this node runs

    def __init__(self) -> None:
        self.next_functions: tuple = ()
        self._input_meta: tuple = ()
        self._saved: Any = ()
        self._sources: tuple | None = None
        self._seq = next(_sequence)

    def name(self) -> str:
        return type(self).__name__

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Which inputs want a gradient (valid in backward, once the node is connected)."""
        return tuple(edge[0] is not None for edge in self.next_functions)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    # -- saved values: freed after backward unless retain_graph ---------------------
    def save_for_backward(self, *values: Any) -> None:
        self._saved = values

    @property
    def saved_tensors(self) -> tuple:
        """The saved arrays; while a backward is being recorded (create_graph=True), the
        Tensors they came from, so the backward formula itself is differentiable."""
        if self._saved is _FREED:
            raise RuntimeError(FREED_MESSAGE)
        if recording.active and self._sources is not None:
            return tuple(self._as_tensor(v, src) for v, src in zip(self._saved, self._sources))
        return self._saved

    def _as_tensor(self, value: Any, source: Any) -> Any:
        from reference.tensor import Tensor

        if source is None:  # an intermediate array: a constant of the backward graph
            return Tensor._make(value)
        if type(source) is int:  # one of this node's outputs
            return Tensor._make(value, self, source)
        if source._data.dtype != value.dtype:  # the input was promoted before the op
            return source.to(dtypes.from_numpy(value.dtype))
        return source

    def _release(self) -> None:
        """Free saved values (after a backward without retain_graph)."""
        if self._saved != ():
            self._saved = _FREED
            self._sources = None

    # -- what the engine calls --------------------------------------------------------
    def _backward(self, grads: list) -> tuple:
        out = self.fn.backward(self, *grads)
        return out if type(out) is tuple else (out,)


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: backward ends here, in ``leaf.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Any) -> None:
        super().__init__()
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"


_node_types: dict[tuple[Any, str], type] = {}


def node_type(fn: Any, name: str) -> type:
    """The Node subclass named ``name`` (torch's grad_fn name) that runs ``fn``'s backward."""
    key = (fn, name)
    cls = _node_types.get(key)
    if cls is None:
        cls = type(name, (Node,), {"__slots__": (), "fn": fn, "__module__": "reference.autograd.graph"})
        _node_types[key] = cls
    return cls
