"""What in-place changes through views need: where a view's elements sit in its base, and
the differentiable gather/scatter that torch's ``CopySlices`` and ``AsStridedBackward0`` do.

A view shares its base's NumPy memory, so its place in the base is read off the memory
layout (pointers and strides), whatever view op made it: no view op has to record anything.
A view whose memory changed in place since its grad_fn was made gets a fresh one when read
(``regenerate_grad_fn``), unless torch refuses (``view_rebase_error``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from reference.autograd import arrayops
from reference.autograd.broadcast import to_input
from reference.autograd.function import NO_GRAD_VIEW, Function, apply
from reference.autograd.graph import Node, node_type, short_name


def view_positions(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """For each element of ``view`` (which lies in ``base``'s memory), its flat C-order
    index in ``base``: an int array of the view's shape."""
    if view.size == 0:
        return np.zeros(view.shape, np.intp)
    itemsize = base.itemsize
    low = sum((n - 1) * s for n, s in zip(base.shape, base.strides) if s < 0 and n > 0)
    high = sum((n - 1) * s for n, s in zip(base.shape, base.strides) if s > 0 and n > 0) + itemsize
    storage = np.full((high - low) // itemsize, -1, np.intp)
    step = storage.itemsize
    base_start = -low // itemsize
    as_strided(storage[base_start:], base.shape, tuple(s // itemsize * step for s in base.strides), writeable=True)[
        ...
    ] = np.arange(base.size).reshape(base.shape)
    offset = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // itemsize + base_start
    positions = as_strided(storage[offset:], view.shape, tuple(s // itemsize * step for s in view.strides)).copy()
    if (positions < 0).any():
        raise RuntimeError("internal error: a view reaches outside its base's memory")
    return positions


_is_tensor = arrayops.is_tensor


class Gather(Function):
    """The elements of a base that a view covers (torch's AsStridedBackward0)."""

    @staticmethod
    def forward(ctx, a, positions):
        ctx.positions, ctx.base_shape = positions, a.shape
        return a.reshape(-1)[positions]

    @staticmethod
    def backward(ctx, g):
        return scatter(g, ctx.positions, ctx.base_shape)

    @staticmethod
    def jvp(ctx, t):
        return t.reshape(-1)[ctx.positions]


class Scatter(Function):
    """Zeros of the base's shape with ``g`` at the view's positions (summed where positions
    repeat, as in an expanded view)."""

    @staticmethod
    def forward(ctx, g, positions, base_shape):
        ctx.positions = positions
        return _scatter_array(g, positions, base_shape)

    @staticmethod
    def backward(ctx, g):
        return gather(g, ctx.positions)


class Replace(Function):
    """The base with the view's positions replaced by ``src`` (both differentiable)."""

    @staticmethod
    def forward(ctx, base, src, positions):
        ctx.positions = positions
        return _replace_array(base, src, positions)

    @staticmethod
    def backward(ctx, g):
        return replace(g, 0.0, ctx.positions), gather(g, ctx.positions)


def _scatter_array(g: np.ndarray, positions: np.ndarray, base_shape: tuple) -> np.ndarray:
    size = int(np.prod(base_shape))
    flat = positions.reshape(-1)
    values = np.broadcast_to(g, positions.shape).reshape(-1)
    if flat.size and np.bincount(flat, minlength=size).max() > 1:  # an overlapping view (expand): sum
        return np.bincount(flat, weights=values, minlength=size).astype(g.dtype).reshape(base_shape)
    out = np.zeros(size, g.dtype)
    out[flat] = values
    return out.reshape(base_shape)


def _replace_array(base: np.ndarray, src: Any, positions: np.ndarray) -> np.ndarray:
    out = np.array(base, copy=True)
    out.reshape(-1)[positions.reshape(-1)] = np.broadcast_to(src, positions.shape).reshape(-1)
    return out


def gather(g: Any, positions: np.ndarray) -> Any:
    if _is_tensor(g):
        return apply(Gather, "AsStridedBackward0", (g,), positions=positions)
    return g.reshape(-1)[positions]


def scatter(g: Any, positions: np.ndarray, base_shape: tuple) -> Any:
    if _is_tensor(g):
        return apply(Scatter, "AsStridedScatterBackward0", (g,), positions=positions, base_shape=base_shape)
    return _scatter_array(g, positions, base_shape)


def replace(base: Any, src: Any, positions: np.ndarray) -> Any:
    if _is_tensor(base) or _is_tensor(src):
        return apply(Replace, "IndexPutBackward0", (base, src), positions=positions)
    return _replace_array(base, src, positions)


def as_strided_node(base: Any, view: Any) -> Node:
    """A fresh ``AsStridedBackward0`` grad_fn for ``view``: its gradient lands in the base's
    current history at the view's positions (torch regenerates views' grad_fns this way)."""
    node = node_type(Gather, "AsStridedBackward0")()
    node.positions = view_positions(base._data, view._data)
    node.base_shape = base._data.shape
    node.next_functions = (base._edge(),)
    node._input_meta = ((base._data.shape, base._data.dtype),)
    return node


NO_GRAD_VIEW_ADVICE = (
    " Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving "
    "both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
    "tracked) or both outside (if you want the inplace to be tracked)."
)
MULTI_OUTPUT_VIEW_ADVICE = (
    " This view is the output of a function that returns multiple views. Such functions do not allow the output "
    "views to be modified inplace. You should replace the inplace operation by an out-of-place one."
)


def view_rebase_error(view: Any, indirect: bool) -> RuntimeError:
    """torch's refusal to rebase a view made in no_grad mode or by a multi-output op, when it
    (or, ``indirect``, its base or another view of it) is modified in place."""
    what = "its base or another view of its base has been" if indirect else "is being"
    fn, kind = view._grad_fn, view._view_kind
    if kind == NO_GRAD_VIEW or fn is None:
        prefix = (
            f"Output {view._output_nr} of {short_name(fn)} is a view of a view which was created in"
            if fn is not None
            else "A view was created in"
        )
        message = f"{prefix} no_grad mode and {what} modified inplace with grad mode enabled."
    else:
        message = f"Output {view._output_nr} of {short_name(fn)} is a view and {what} modified inplace."
    return RuntimeError(message + (NO_GRAD_VIEW_ADVICE if kind == NO_GRAD_VIEW else MULTI_OUTPUT_VIEW_ADVICE))


def regenerate_grad_fn(view: Any) -> Node | None:
    """A view's grad_fn once its memory changed in place since it was made: a fresh
    AsStridedBackward0 into the base's current history (torch regenerates it when read).
    Retained gradients move to it; hooks stay on the old node, as in torch."""
    from reference.autograd.hooks import move_retain

    base, old = view._view_base, view._grad_fn
    if old is None and not base.requires_grad:
        return None
    if view._view_kind is not None:
        raise view_rebase_error(view, indirect=True)
    old_nr = view._output_nr
    view._grad_fn, view._output_nr = as_strided_node(base, view), 0
    view._attr_version = len(view._vc)
    move_retain(view, old, old_nr)
    return view._grad_fn


class CopySlices(Node):
    """A base's grad_fn after an in-place op on one of its views: the op's own node runs on
    the view's part of the gradient; the rest of the gradient goes to the base's old history."""

    __slots__ = ()

    def __init__(self, base: Any, view: Any, inner: Node) -> None:
        super().__init__()
        self.inner = inner
        self.positions = view_positions(base._data, view._data)
        base_edge = base._edge() if base.requires_grad else (None, 0)
        base_meta = (base._data.shape, base._data.dtype) if base.requires_grad else None
        self.next_functions = (base_edge, *inner.next_functions[1:])
        self._input_meta = (base_meta, *inner._input_meta[1:])

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def _backward(self, grads: list) -> tuple:
        g = grads[0]
        inner = self.inner
        inner_grads = inner._backward([gather(g, self.positions)])
        g_view = inner_grads[0]
        if g_view is not None and inner._input_meta[0] is not None:
            meta = inner._input_meta[0]
            g_view = to_input(g_view, meta[0], meta[1])
        g_base = None
        if self.next_functions[0][0] is not None:
            g_base = replace(g, 0.0 if g_view is None else g_view, self.positions)
        return (g_base, *inner_grads[1:])

    def _release(self) -> None:
        self.inner._release()


CopySlices.__name__ = CopySlices.__qualname__ = "CopySlices"
