"""What in-place changes through views need: where a view's elements sit in its base, and
the differentiable gather/scatter that torch's ``CopySlices`` and ``AsStridedBackward0`` do.

A view shares its base's NumPy memory, so its place in the base is read off the memory
layout (pointers and strides), whatever view op made it: no view op has to record anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from reference.autograd.broadcast import to_input
from reference.autograd.function import Function, apply
from reference.autograd.graph import Node, node_type


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


def _is_tensor(x: Any) -> bool:
    return type(x) is not np.ndarray and hasattr(x, "grad_fn")


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
    """Zeros of the base's shape with ``g`` at the view's positions (unique positions)."""

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
    out = np.zeros(int(np.prod(base_shape)), g.dtype)
    out[positions.reshape(-1)] = np.broadcast_to(g, positions.shape).reshape(-1)
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
