"""Graph nodes: what ``grad_fn`` and ``next_functions`` are made of.

A ``Node`` is both the recorded operation and the ``ctx`` its forward and backward
share (as in torch's custom Functions). Each node class is named the way torch
names its ``grad_fn`` (``MulBackward0``); the backward rule itself lives beside the
forward in the op's ``Function`` (see function.py).
"""

from __future__ import annotations

import bisect
import itertools
import re
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

VERSION_MESSAGE = (
    "one of the variables needed for gradient computation has been modified by an inplace operation: "
    "[{tensor_type} {shape}]{origin} is at version {version}; expected version {expected} instead. Hint: enable "
    "anomaly detection to find the operation that failed to compute its gradient, with "
    "torch.autograd.set_detect_anomaly(True, check_nan=False)."
)

_sequence = itertools.count()
_FREED = object()


class _InplaceClock:
    """Counts in-place operations. A version counter is the list of the clock times at which
    its tensor was modified, so "modified since time t" is ``vc and vc[-1] > t`` and a node
    that saved values at time t can skip every check while the clock still reads t."""

    now = 0

    def tick(self) -> int:
        self.now += 1
        return self.now


clock = _InplaceClock()


def bump_version(vc: list) -> None:
    vc.append(clock.tick())


def short_name(node: Any) -> str:
    """How torch names a node in messages: ``MulBackward0`` -> ``Mul``, ``PowBackward1`` -> ``Pow1``,
    ``MyFnBackward`` -> ``MyFn``."""
    return re.sub(r"Backward0?(?=\d*$)", "", node.name())


class _Recording(threading.local):
    active = False  # set by the engine while it runs backward with create_graph=True


recording = _Recording()


class Node:
    """A recorded operation. ``next_functions[i]`` is where input i's gradient goes."""

    # Instances also get a __dict__: ops keep their own context there (ctx.dim = ...).
    __slots__ = ("__dict__", "__weakref__", "_input_meta", "_saved", "_seq", "_sources", "next_functions")

    fn: Any = None  # the Function whose backward this node runs
    # Defaults for attributes set on a few nodes only (instances keep theirs in __dict__):
    _epoch: int | None = None  # clock time when the saved values were recorded (None: nothing to check)
    _out_vcs: tuple = ()  # version counters of this node's outputs (for saved outputs)
    _out_epoch: int | None = None  # an in-place node saves its outputs after its own bump
    _hooks: Any = None  # hooks.NodeHooks: tensor hooks and retain_grad, by output number
    _engine_fills_missing = True  # outputs without a gradient get zeros (custom Functions decide themselves)

    def __init__(self) -> None:
        self.next_functions: tuple = ()
        self._input_meta: tuple = ()
        self._saved: Any = ()
        self._sources: tuple | None = None
        self._seq = next(_sequence)

    def name(self) -> str:
        return type(self).__name__

    def register_prehook(self, hook: Any) -> Any:
        """``hook(grad_outputs)`` before this node runs; it may return replacements (a tuple)."""
        from reference.autograd.hooks import register_node_hook

        return register_node_hook(self, hook, pre=True)

    def register_hook(self, hook: Any) -> Any:
        """``hook(grad_inputs, grad_outputs)`` after this node ran; it may replace grad_inputs."""
        from reference.autograd.hooks import register_node_hook

        return register_node_hook(self, hook, pre=False)

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Which inputs want a gradient (valid in backward, once the node is connected)."""
        return tuple([edge[0] is not None for edge in self.next_functions])

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
        epoch = self._epoch
        if epoch is not None and epoch != clock.now:
            self._check_versions(epoch)
        if recording.active and self._sources is not None:
            return tuple(self._as_tensor(v, src) for v, src in zip(self._saved, self._sources))
        return self._saved

    def _check_versions(self, epoch: int) -> None:
        """Fail like torch when a saved input or output was modified in place after it was saved."""
        from reference.tensor import Tensor

        saved_for = getattr(self.fn, "saved_for", None)
        for i, (value, source) in enumerate(zip(self._saved, self._sources or ())):
            if saved_for is not None and saved_for[i] is not None and self.next_functions[saved_for[i]][0] is None:
                continue  # needed only for a gradient nobody wants: torch did not save it
            if isinstance(source, Tensor):
                vc, since, tensor = source._vc, epoch, source
            elif type(source) is int and source < len(self._out_vcs):
                vc, tensor = self._out_vcs[source], None
                since = epoch if self._out_epoch is None else self._out_epoch
            else:
                continue
            if vc and vc[-1] > since:
                raise RuntimeError(_version_message(value, tensor, self, source, vc, since))

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
        """Free saved values (after a backward without retain_graph), including the index,
        mask and condition arrays an op keeps as ctx attributes (``fn.saved_attributes``):
        torch saves those as tensors and frees them too."""
        if self._saved != ():
            self._saved = _FREED
            self._sources = None
        for name in getattr(self.fn, "saved_attributes", ()):
            self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:  # only reached for attributes that are missing
        if name in getattr(type(self).fn, "saved_attributes", ()):
            raise RuntimeError(FREED_MESSAGE)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- what the engine calls --------------------------------------------------------
    def _backward(self, grads: list) -> tuple:
        out = self.fn.backward(self, *grads)
        return out if type(out) is tuple else (out,)


def legacy_type_name(np_dtype: Any) -> str:
    """torch's legacy tensor type name in messages: ``torch.FloatTensor`` for float32."""
    return f"torch.{dtypes.scalar_type_name(np_dtype, default='')}Tensor"


def _version_message(value: Any, tensor: Any, node: Node, source: Any, vc: list, since: int) -> str:
    if tensor is None:  # one of the node's own outputs
        origin = f", which is output {source} of {short_name(node)},"
    elif tensor.grad_fn is not None:  # torch names the tensor's current history
        origin = f", which is output {tensor._output_nr} of {short_name(tensor.grad_fn)},"
    else:
        origin = ""
    return VERSION_MESSAGE.format(
        tensor_type=legacy_type_name(getattr(value, "_data", value).dtype),
        shape=list(getattr(value, "_data", value).shape),
        origin=origin,
        version=len(vc),
        expected=bisect.bisect_right(vc, since),
    )


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
