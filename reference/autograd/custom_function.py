"""``reference.autograd.Function``: custom operations written by users, as torch's.

Unlike the engine's own ops (``function.Function``, on NumPy arrays), a user's ``forward``
and ``backward`` work on Tensors with ordinary reference ops::

    class Square(reference.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(x)  # y.grad_fn is a SquareBackward node

``forward`` runs without recording; its Tensor outputs get one node whose backward calls
the user's ``backward`` with Tensors (recorded when ``create_graph=True``).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from reference.autograd import forward_ad
from reference.autograd.graph import _FREED, FREED_MESSAGE, Node, bump_version, clock
from reference.grad_mode import is_grad_enabled, no_grad

NO_BACKWARD_MESSAGE = (
    "You must implement either the backward or vjp method for your custom autograd.Function to use it with "
    "backward mode AD."
)
NO_JVP_MESSAGE = "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."


def _tensor_cls() -> type:
    from reference.tensor import Tensor

    return Tensor


class BackwardCFunction(Node):
    """The ``ctx`` of a custom Function and the node of its outputs (``SquareBackward``)."""

    __slots__ = ()
    fn_cls: Any = None  # the user's Function subclass
    _materialize_grads = True
    _engine_fills_missing = False

    def __init__(self) -> None:
        super().__init__()
        self._needs: tuple = ()
        self._non_differentiable: tuple = ()
        self._dirty: tuple = ()
        self._args_are_tensors: tuple = ()

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """One flag per forward argument: whether it is a Tensor that requires grad."""
        return self._needs

    def save_for_backward(self, *tensors: Any) -> None:
        tensor_cls = _tensor_cls()
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, tensor_cls):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type {type(t).__name__}"
                )
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is _FREED:
            raise RuntimeError(FREED_MESSAGE)
        epoch = self._epoch
        if epoch is not None and epoch != clock.now:
            self._check_versions(epoch)
        return self._saved

    def mark_non_differentiable(self, *outputs: Any) -> None:
        self._non_differentiable = outputs

    def mark_dirty(self, *tensors: Any) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize_grads = bool(value)

    def _backward(self, grads: list) -> tuple:
        tensor_cls = _tensor_cls()
        args = [g if g is None or isinstance(g, tensor_cls) else tensor_cls._make(g) for g in grads]
        if self._materialize_grads:
            args = [
                tensor_cls._make(np.zeros(*meta)) if g is None and meta is not None else g
                for g, meta in zip(args, self.output_meta)
            ]
        results = type(self).fn_cls.backward(self, *args)
        if type(results) is not tuple:
            results = (results,)
        return self._edge_grads(results)

    def _edge_grads(self, results: tuple) -> tuple:
        """Check the user's gradients (one per forward argument) and keep those of Tensor
        arguments, in the order of ``next_functions``."""
        from reference.autograd.graph import recording

        expected = len(self._args_are_tensors)
        if len(results) > expected and all(g is None for g in results[expected:]):
            results = results[:expected]  # extra Nones are tolerated
        if len(results) != expected:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {expected}, got {len(results)})"
            )
        tensor_cls = _tensor_cls()
        out = []
        for i, (g, is_tensor) in enumerate(zip(results, self._args_are_tensors)):
            if not is_tensor:
                if g is not None:
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than None at position {i + 1}, "
                        "but the corresponding forward input was not a Variable"
                    )
                continue
            if g is not None and not isinstance(g, tensor_cls):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            out.append(g)
        for i, (g, meta) in enumerate(zip(out, self._input_meta)):
            if g is not None and meta is not None and not _compatible(tuple(g.shape), meta[0]):
                raise RuntimeError(
                    f"Function {self.name()} returned an invalid gradient at index {i} - got {list(g.shape)} "
                    f"but expected shape compatible with {list(meta[0])}"
                )
        if recording.active:
            return tuple(out)
        return tuple(None if g is None else g._data for g in out)


def _compatible(shape: tuple, target: tuple) -> bool:
    """Whether a gradient of ``shape`` can be summed (or expanded) to ``target``."""
    try:
        return np.broadcast_shapes(shape, target) in (shape, target)
    except ValueError:
        return False


_node_classes: dict[type, type] = {}


def _node_class(fn_cls: type) -> type:
    cls = _node_classes.get(fn_cls)
    if cls is None:
        name = f"{fn_cls.__name__}Backward"
        cls = type(name, (BackwardCFunction,), {"__slots__": (), "fn_cls": fn_cls, "__module__": fn_cls.__module__})
        _node_classes[fn_cls] = cls
    return cls


class Function:
    """Base class for custom differentiable operations; see the module docstring."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise NotImplementedError(NO_BACKWARD_MESSAGE)

    vjp = backward
    jvp: Any = None

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        tensor_cls = _tensor_cls()
        if kwargs:  # keyword arguments count as positional ones (defaults do not), as in torch
            args = _bind(cls, args, kwargs)
        ctx = _node_class(cls)()
        ctx._args_are_tensors = tuple(isinstance(a, tensor_cls) for a in args)
        ctx._needs = tuple(isinstance(a, tensor_cls) and a.requires_grad for a in args)
        recording = is_grad_enabled() and any(ctx._needs)
        with no_grad():
            outputs = cls.forward(ctx, *args)
        single = type(outputs) is not tuple
        outs = (outputs,) if single else outputs
        outs = _connect_outputs(ctx, args, outs, recording)
        if forward_ad._levels:
            _forward_mode(cls, ctx, args, outs)
        return outs[0] if single else outs


_signatures: dict[type, inspect.Signature] = {}


def _bind(cls: type, args: tuple, kwargs: dict) -> tuple:
    signature = _signatures.get(cls)
    if signature is None:
        signature = _signatures[cls] = inspect.signature(cls.forward)
    return signature.bind(None, *args, **kwargs).args[1:]


def _connect_outputs(ctx: BackwardCFunction, args: tuple, outs: tuple, recording: bool) -> tuple:
    tensor_cls = _tensor_cls()
    tensor_args = [a for a in args if isinstance(a, tensor_cls)]
    for t in ctx._dirty:
        bump_version(t._vc)
    if not recording:
        return outs
    ctx.next_functions = tuple(a._edge() if a.requires_grad else (None, 0) for a in tensor_args)
    ctx._input_meta = tuple((a._data.shape, a._data.dtype) if a.requires_grad else None for a in tensor_args)
    ctx.output_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, tensor_cls) else None for o in outs)
    result = []
    for nr, out in enumerate(outs):
        if isinstance(out, tensor_cls) and out._data.dtype.kind in "fc" and not _contains(ctx._non_differentiable, out):
            out = _attach(ctx, nr, out, tensor_args)
        result.append(out)
    _record_saved(ctx, result)
    return tuple(result)


def _contains(tensors: tuple, t: Any) -> bool:
    return any(x is t for x in tensors)


def _attach(ctx: BackwardCFunction, nr: int, out: Any, tensor_args: list) -> Any:
    """Make ``out`` output ``nr`` of ``ctx``. An input returned as is becomes a view of it
    (torch's rule), unless forward marked it dirty: then it is modified in place."""
    if _contains(tensor_args, out) and not _contains(ctx._dirty, out):
        from reference.autograd.function import _mark_view

        view = _tensor_cls()._make(out._data.view())
        _mark_view(view, view._data, (out,), [out._data], None)
        out = view
    elif _contains(ctx._dirty, out) and out.grad_fn is None and out._requires_grad:
        from reference.ops.inplace import LEAF_MESSAGE

        raise RuntimeError(LEAF_MESSAGE)
    out.grad_fn, out._output_nr = ctx, nr
    return out


def _record_saved(ctx: BackwardCFunction, outs: list) -> None:
    if not ctx._saved:
        return
    tensor_cls = _tensor_cls()
    sources = []
    for t in ctx._saved:
        index = next((i for i, o in enumerate(outs) if o is t), None)
        sources.append(index if index is not None else t if isinstance(t, tensor_cls) else None)
    ctx._sources = tuple(sources)
    ctx._epoch = clock.now
    ctx._out_vcs = tuple(o._vc if isinstance(o, tensor_cls) else [] for o in outs)


def _forward_mode(cls: type, ctx: BackwardCFunction, args: tuple, outs: tuple) -> None:
    tensor_cls = _tensor_cls()
    tangents = [forward_ad.get_tangent(a) if isinstance(a, tensor_cls) else None for a in args]
    if all(t is None for t in tangents):
        return
    if cls.jvp is None:
        raise NotImplementedError(NO_JVP_MESSAGE)
    with no_grad():
        out_tangents = cls.jvp(ctx, *tangents)
    if type(out_tangents) is not tuple:
        out_tangents = (out_tangents,)
    level = forward_ad.current_level()
    for out, tangent in zip(outs, out_tangents):
        if isinstance(out, tensor_cls) and tangent is not None:
            out._fw = (level, tangent)
