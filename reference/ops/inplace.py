"""In-place ops (``add_``, ``mul_``, ``zero_``, ``clamp_``, ``copy_``, ``x[i] = v``, ``+=`` ...):
version counters, history rebasing and torch's errors.

Every in-place op runs its out-of-place twin on a snapshot of the tensor (same memory,
same history), writes the result into the tensor's memory and bumps the version counter
it shares with its views. When the result has a graph node, the tensor's history moves to
that node (``y.mul_(2)``: grad_fn becomes MulBackward0), or, for a view, its base's history
moves to a ``CopySlices`` node; the other views of the memory get an ``AsStridedBackward0``
when their grad_fn is next read (the version bump tells them, see ``Tensor.grad_fn``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reference.autograd import views
from reference.autograd.function import Function, apply
from reference.autograd.graph import bump_version, clock, node_type
from reference.autograd.hooks import move_retain
from reference.grad_mode import is_grad_enabled
from reference.ops import indexing, memory, pointwise, shape

LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_MESSAGE = "a view of a leaf Variable that requires grad is being used in an in-place operation."
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}  # a result may not be written into a lower kind


def _tensor_cls() -> type:
    from reference.tensor import Tensor

    return Tensor


# -- the driver ----------------------------------------------------------------------------


def _check_autograd(self: Any, requires_grad: bool) -> None:
    """torch's check_inplace: with grad mode on and an input requiring grad, a view made in
    no_grad mode or by a multi-output op, a view of a leaf or a leaf that require grad refuse."""
    if requires_grad and is_grad_enabled():
        base = self._view_base
        if base is not None:
            if self._view_kind is not None:
                raise views.view_rebase_error(self, indirect=False)
            if self.requires_grad and base.grad_fn is None:
                raise RuntimeError(VIEW_OF_LEAF_MESSAGE)
        if self.requires_grad and self.is_leaf:
            raise RuntimeError(LEAF_MESSAGE)


def _dtype_name(np_dtype: np.dtype) -> str:
    from reference.autograd.graph import legacy_type_name

    return legacy_type_name(np_dtype).removeprefix("torch.").removesuffix("Tensor")


def _check_result(self: Any, result: Any) -> None:
    """torch's rules for writing a result back: same shape, and no narrowing of the kind
    (float into an integer tensor, integer into bool)."""
    out, res = self._data, result._data
    if res.shape != out.shape:
        raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast shape {list(res.shape)}")
    if _KIND_RANK.get(res.dtype.kind, 3) > _KIND_RANK.get(out.dtype.kind, 3):
        raise RuntimeError(
            f"result type {_dtype_name(res.dtype)} can't be cast to the desired output type {_dtype_name(out.dtype)}"
        )


def _snapshot(self: Any) -> Any:
    """The tensor's current value and history, as a separate Tensor over the same memory
    (under no_grad the history is not needed, and a view's is not regenerated)."""
    old = _tensor_cls()._make(self._data.view(), self.grad_fn if is_grad_enabled() else self._grad_fn, self._output_nr)
    old._requires_grad = self._requires_grad
    old._fw = self._fw
    return old


def inplace(self: Any, compute: Callable[[Any], Any], fill: bool = False) -> Any:
    """Run ``compute(snapshot)`` (the out-of-place op), write its result into ``self`` and
    rebase ``self``'s history (or its base's) onto the result's node. ``fill``: the op writes one
    value everywhere, which torch allows where elements share memory (zero_, fill_)."""
    self_requires_grad = self.requires_grad
    _check_autograd(self, self_requires_grad)
    old = _snapshot(self)
    result = compute(old)
    if not self_requires_grad and result.requires_grad:  # another input requires grad
        _check_autograd(self, True)
    memory.check_writable(self, fill)
    _check_result(self, result)
    node = result.grad_fn
    if node is not None:
        _keep_saved_self(node, old)
    memory.write(self, result._data)
    bump_version(self._vc)
    if node is not None:
        _rebase(self, result, node)
    if result._fw is not None:
        self._fw = result._fw
    return self


def _keep_saved_self(node: Any, old: Any) -> None:
    """A node that saved the value being overwritten keeps a private copy of it (torch saves
    the original self); the snapshot then owns that copy, so create_graph still sees it."""
    saved = node._saved
    if saved == () or not any(v is old._data for v in saved):
        return
    kept = old._data.copy()
    node._saved = tuple(kept if v is old._data else v for v in saved)
    old._data = kept


def _rebase(self: Any, result: Any, node: Any) -> None:
    """``self``'s history moves to ``node``; for a view, its base's moves to a CopySlices node.
    Other views of the same memory regenerate their grad_fn when next read (see Tensor.grad_fn)."""
    _retarget_saved_output(node, result, self)
    base = self._view_base
    if base is None:
        old_node, old_nr = self._grad_fn, self._output_nr
        self._grad_fn, self._output_nr = node, result._output_nr
        move_retain(self, old_node, old_nr)
    else:
        old_node, old_nr = base._grad_fn, base._output_nr
        base._grad_fn, base._output_nr = views.CopySlices(base, self, node), 0
        move_retain(base, old_node, old_nr)
        self.grad_fn  # noqa: B018 - torch regenerates the modified view's grad_fn right away


def _retarget_saved_output(node: Any, result: Any, self: Any) -> None:
    """The op's output is ``self`` now: a saved output is checked against self's version."""
    if node._out_vcs:
        node._out_vcs = (self._vc,)
        node._out_epoch = clock.now
        if result._data.dtype == self._data.dtype:
            node._saved = tuple(self._data if v is result._data else v for v in node._saved)


# -- ops without an out-of-place twin in the families ----------------------------------------


def _zeros_like(g: Any) -> Any:
    if isinstance(g, (np.ndarray, np.generic)):  # a 0-d gradient may arrive as a NumPy scalar
        return np.zeros_like(g)
    from reference.creation import zeros_like

    return zeros_like(g)


class Zero(Function):
    @staticmethod
    def forward(ctx, a):
        return np.zeros_like(a)

    @staticmethod
    def backward(ctx, g):
        return _zeros_like(g)

    @staticmethod
    def jvp(ctx, t):
        return np.zeros_like(t)


class Fill(Function):  # FillBackward2: filled with a number
    @staticmethod
    def forward(ctx, a, value):
        return np.full_like(a, value)

    @staticmethod
    def backward(ctx, g):
        return _zeros_like(g)

    @staticmethod
    def jvp(ctx, ta):
        return np.zeros_like(ta)


class FillTensor(Function):  # FillBackward3: filled with a 0-d tensor, which gets the summed gradient
    @staticmethod
    def forward(ctx, a, value):
        return np.full_like(a, value)

    @staticmethod
    def backward(ctx, g):
        return _zeros_like(g), g

    @staticmethod
    def jvp(ctx, ta, tv):
        return None if tv is None else tv


class Copy(Function):  # CopyBackwards: self gets zeros, src the gradient (reduced to its shape/dtype)
    @staticmethod
    def forward(ctx, a, src):
        return np.broadcast_to(src, a.shape).astype(a.dtype, copy=True)

    @staticmethod
    def backward(ctx, g):
        return (_zeros_like(g) if ctx.needs_input_grad[0] else None), g

    @staticmethod
    def jvp(ctx, ta, ts):
        return 0 * ta if ts is None else ts


_CopyNode = node_type(Copy, "CopyBackwards")
_CopyNode.name = lambda self: "torch::autograd::CopyBackwards"


def _copy_shape_error(dst_shape: tuple, src_shape: tuple) -> RuntimeError:
    """torch's message: the rightmost dim where the shapes do not broadcast, else the broadcast
    shape that would not fit into the destination."""
    ndim = max(len(dst_shape), len(src_shape))
    a = (1,) * (ndim - len(dst_shape)) + tuple(dst_shape)
    b = (1,) * (ndim - len(src_shape)) + tuple(src_shape)
    for dim in range(ndim - 1, -1, -1):
        if a[dim] != b[dim] and a[dim] != 1 and b[dim] != 1:
            return RuntimeError(
                f"The size of tensor a ({a[dim]}) must match the size of tensor b ({b[dim]}) "
                f"at non-singleton dimension {dim}"
            )
    shape = [m if n == 1 else n for n, m in zip(a, b)]
    return RuntimeError(f"output with shape {list(dst_shape)} doesn't match the broadcast shape {shape}")


def _as_tensor(value: Any, like: Any) -> Any:
    tensor_cls = _tensor_cls()
    if isinstance(value, tensor_cls):
        return value
    return tensor_cls._make(np.asarray(value, dtype=like._data.dtype))


def _copy(dst: Any, src: Any) -> Any:
    if memory.partial_overlap(dst._data, src._data):
        raise RuntimeError(memory.PARTIAL_OVERLAP_MESSAGE)
    if not _broadcastable(src._data.shape, dst._data.shape):
        raise _copy_shape_error(dst._data.shape, src._data.shape)
    return apply(Copy, "CopyBackwards", (dst, src))


def _broadcastable(src: tuple, dst: tuple) -> bool:
    return len(src) <= len(dst) and all(s in (1, d) for s, d in zip(src[::-1], dst[::-1]))


# -- the methods -----------------------------------------------------------------------------


def copy_(self, src, non_blocking=False):
    src = _as_tensor(src, self)
    return inplace(self, lambda t: _copy(t, src))


def zero_(self):
    return inplace(self, lambda t: apply(Zero, "ZeroBackward0", (t,)), fill=True)


def fill_(self, value):
    tensor_cls = _tensor_cls()
    if isinstance(value, tensor_cls):
        if value._data.ndim:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions."
            )
        return inplace(self, lambda t: apply(FillTensor, "FillBackward3", (t, value)))
    return inplace(self, lambda t: apply(Fill, "FillBackward2", (t,), value=value), fill=True)


def _method_variant(name: str) -> Callable:
    """``x.name_(...)``: the out-of-place method ``name`` written back into ``x``."""
    op = _OUT_OF_PLACE[name]

    def method(self, *args: Any, **kwargs: Any) -> Any:
        return inplace(self, lambda t: op(t, *args, **kwargs))

    method.__name__ = method.__qualname__ = name + "_"
    return method


# Torch's in-place variants whose out-of-place op a family defines (bound when it exists).
_VARIANTS = (
    "abs", "absolute", "acos", "arccos", "add", "addcdiv", "addcmul", "asin", "arcsin", "atan", "arctan", "atan2",
    "arctan2", "ceil", "clamp", "clamp_max", "clamp_min", "clip", "copysign", "cos", "cosh", "deg2rad", "digamma",
    "div", "divide", "erf", "erfc", "erfinv", "exp", "exp2", "expm1", "fix", "float_power", "floor", "fmod", "frac",
    "hypot", "index_add", "index_copy", "index_fill", "index_put", "lerp", "lgamma", "log", "log10", "log1p",
    "log2", "logit", "masked_fill", "masked_scatter", "mul", "multiply", "nan_to_num", "neg", "negative", "pow",
    "rad2deg", "reciprocal", "relu", "remainder", "round", "rsqrt", "scatter", "scatter_add", "sigmoid", "sign",
    "sin", "sinc", "sinh", "sqrt", "square", "sub", "subtract", "tan", "tanh", "true_divide", "trunc", "xlogy",
)  # fmt: skip
_OUT_OF_PLACE = {
    name: fn for family in (pointwise, indexing, shape) for name, fn in family.METHODS.items() if name in _VARIANTS
}


def _is_basic(index: tuple) -> bool:
    return not any(isinstance(i, (np.ndarray, np.bool_)) for i in index)


def setitem(self, index, value):
    """``self[index] = value``: a copy into the view for basic indices (the base's grad_fn
    becomes CopySlices), an index_put for advanced ones (IndexPutBackward0). The value is
    prepared the way torch's indexing code does it (the View/Expand nodes it records)."""
    torch_index = index
    index = indexing.normalize_index(index, self._data.shape)
    value = _as_tensor(value, self)
    if _is_basic(index):  # the view torch's indexing makes (its node names show in view errors)
        _copy_to(indexing.getitem(self, torch_index), value)
        return
    positions = np.arange(self._data.size).reshape(self._data.shape)[index]
    if value._data.dtype != self._data.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {_dtype_name(self._data.dtype)} "
            f"for the destination and {_dtype_name(value._data.dtype)} for the source."
        )
    if value._data.ndim and value._data.shape[0] == 1:
        value = value.view(_without_leading_ones(value._data.shape))
    if not _broadcastable(value._data.shape, positions.shape):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value._data.shape)} cannot be broadcast to indexing "
            f"result of shape {list(positions.shape)}"
        )
    inplace(self, lambda t: apply(views.Replace, "IndexPutBackward0", (t, value), positions=positions))


def _without_leading_ones(shape: tuple) -> tuple:
    i = 0
    while i < len(shape) and shape[i] == 1:
        i += 1
    return shape[i:]


def _copy_to(target: Any, value: Any) -> None:
    """torch's copy into a basic-index view: copy_ for equal shapes, fill_ for a 0-d value,
    otherwise a view without leading ones, expanded to the target's shape."""
    if value._data.shape == target._data.shape:
        inplace(target, lambda t: _copy(t, value))
    elif value._data.ndim == 0:
        inplace(target, lambda t: apply(FillTensor, "FillBackward3", (t, value)))
    else:
        src = value.view(_without_leading_ones(value._data.shape))
        if src._data.shape != target._data.shape:
            src = src.expand(target._data.shape)
        inplace(target, lambda t: _copy(t, src))


def _binary_dunder(name: str) -> Callable:
    variant = _method_variant(name)

    def method(self, other):
        return variant(self, other)

    method.__name__ = f"__i{name}__"
    return method


__all__: list[str] = []
METHODS: dict = {
    "copy_": copy_, "zero_": zero_, "fill_": fill_, "__setitem__": setitem,
    **{name + "_": _method_variant(name) for name in _OUT_OF_PLACE},
    "__iadd__": _binary_dunder("add"), "__isub__": _binary_dunder("sub"),
    "__imul__": _binary_dunder("mul"), "__itruediv__": _binary_dunder("div"),
    "__ipow__": _binary_dunder("pow"),
}  # fmt: skip
