"""View ops: reshape/view, flatten, alias, transpose/permute/t/T/mT, unsqueeze, squeeze, expand.
They return NumPy views, so they share memory (and, through ``apply``, the version counter)
with their input as torch's do; ``clone`` (reshape's copy when no view is possible) is here too.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from reference.autograd.function import Function, apply
from reference.ops.operands import dim_range_error, normalize_dim, normalize_dims, shape_args


def _is_array(x: Any) -> bool:
    """Plain NumPy (the usual backward) rather than a Tensor (backward under create_graph)."""
    return type(x) is np.ndarray


def _infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve one -1 and check the element count, with torch's message."""
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for n in shape:
        if n != -1:
            if n < 0:
                raise RuntimeError(f"invalid shape dimension {n}")
            known *= n
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if n == -1 else n for n in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# -- reshape, view, flatten, alias, clone ---------------------------------------------------


class View(Function):  # also _unsafe_view: same rule, different node name
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape, ctx.shape = a.shape, shape
        return np.reshape(a, shape, copy=False)  # callers checked that no copy is needed

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)

    @staticmethod
    def jvp(ctx, t):
        return t.reshape(ctx.shape)


class UnsafeView(View):
    """torch's _unsafe_view: a reshape of a fresh intermediate (a copy, an mm result) whose output
    torch does not treat as a view, although the memory is shared."""

    may_view = False


class _Identity(Function):
    """An op whose derivative is the identity: gradients and tangents pass through unchanged."""

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def jvp(ctx, t):
        return t


class Alias(_Identity):  # the same data under a new node: x[...], x[:, :]
    @staticmethod
    def forward(ctx, a):
        return a.view()


class Clone(_Identity):
    @staticmethod
    def forward(ctx, a):
        return a.copy()


def _viewable(a: np.ndarray, shape: tuple) -> bool:
    """Whether ``a`` can take ``shape`` without a copy (the same stride rule as torch's view)."""
    if a.flags.c_contiguous:
        return True
    try:
        np.reshape(a, shape, copy=False)
    except ValueError:
        return False
    return True


def view(input, *shape):
    shape = _infer_shape(shape_args(shape, "view"), input._data.size)
    if not _viewable(input._data, shape):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension "
            "spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return apply(View, "ViewBackward0", (input,), shape=shape)


def reshape(input, *shape):
    """The nodes torch records: a view of a contiguous tensor (ViewBackward0), an alias of
    a strided one that can be viewed (ReshapeAliasBackward0), else a copy (CloneBackward0
    then UnsafeViewBackward0)."""
    shape = _infer_shape(shape_args(shape, "reshape", "shape"), input._data.size)
    if input._data.flags.c_contiguous:
        return apply(View, "ViewBackward0", (input,), shape=shape)
    if _viewable(input._data, shape):
        return apply(View, "ReshapeAliasBackward0", (input,), shape=shape)
    copied = apply(Clone, "CloneBackward0", (input,))
    return apply(UnsafeView, "UnsafeViewBackward0", (copied,), shape=shape)


def flatten(input, start_dim=0, end_dim=-1):
    """A reshape of dims start_dim..end_dim into one; the input itself when that is one dim."""
    shape = input._data.shape
    start, end = normalize_dim(start_dim, len(shape)), normalize_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if not shape:
        return reshape(input, 1)
    if start == end:
        return input
    return reshape(input, *shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])


def alias(input):
    """A view of the whole tensor (what forward AD's make_dual and unpack_dual return)."""
    return apply(View, "ViewBackward0", (input,), shape=input._data.shape)


def _unsafe_view(input, shape):
    return apply(UnsafeView, "UnsafeViewBackward0", (input,), shape=tuple(shape))


def clone(input):
    return apply(Clone, "CloneBackward0", (input,))


def contiguous(input):
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


# -- transpose, permute, t -------------------------------------------------------------------


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.dims = (d0, d1)
        return a.swapaxes(d0, d1) if a.ndim else a.view()

    @staticmethod
    def backward(ctx, g):
        return g.swapaxes(*ctx.dims) if g.ndim else g

    @staticmethod
    def jvp(ctx, t):
        return t.swapaxes(*ctx.dims) if t.ndim else t


def transpose(input, dim0, dim1):
    n = input._data.ndim
    return apply(Transpose, "TransposeBackward0", (input,), d0=normalize_dim(dim0, n), d1=normalize_dim(dim1, n))


def t(input):
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return apply(Transpose, "TBackward0", (input,), d0=0, d1=n - 1 if n else 0)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims, ctx.inverse = dims, tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        from reference.autograd.arrayops import permute as permute_any

        return permute_any(g, ctx.inverse)

    @staticmethod
    def jvp(ctx, t):
        return t.transpose(ctx.dims)


def permute(input, *dims):
    dims = shape_args(dims, "permute", "dims")
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
            f"of the desired ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}"
        )
    axes = tuple(normalize_dim(d, n) for d in dims)
    if len(set(axes)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(Permute, "PermuteBackward0", (input,), dims=axes)


T_DEPRECATED = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will "
    "throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
    "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor."
)
ZERO_DIM_DEPRECATED = "Tensor.{name} is deprecated on 0-D tensors. This function is the identity in these cases."
_warned: set = set()  # torch gives these warnings once per process


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, UserWarning, stacklevel=3)


def T(input):  # noqa: N802 - the .T property
    n = input._data.ndim
    if n == 0:
        _warn_once("T 0-d", ZERO_DIM_DEPRECATED.format(name="T"))
    elif n != 2:
        _warn_once("T", T_DEPRECATED)
    return permute(input, tuple(reversed(range(n))))


def mT(input):  # noqa: N802 - the .mT property
    n = input._data.ndim
    if n == 0:  # torch: the tensor itself
        _warn_once("mT 0-d", ZERO_DIM_DEPRECATED.format(name="mT"))
        return input
    if n < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {n}-D tensor.")
    return transpose(input, -2, -1)


# -- unsqueeze, squeeze, expand --------------------------------------------------------------


class Unsqueeze(Function):
    @staticmethod
    def forward(ctx, a, dim):
        ctx.in_shape, ctx.dim = a.shape, dim
        return np.expand_dims(a, dim)

    @staticmethod
    def backward(ctx, g):
        if _is_array(g):
            return g.reshape(ctx.in_shape)
        return apply(Squeeze, "SqueezeBackward1", (g,), axes=(ctx.dim,))

    @staticmethod
    def jvp(ctx, t):
        return np.expand_dims(t, ctx.dim)


def unsqueeze(input, dim):
    n = input._data.ndim + 1
    if not -n <= dim < n:
        raise dim_range_error(dim, n)
    return apply(Unsqueeze, "UnsqueezeBackward0", (input,), dim=dim % n)


class Squeeze(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.in_shape = a.shape
        out = a.squeeze(axis=axes) if axes else a.view()
        ctx.shape = out.shape
        return out

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)

    @staticmethod
    def jvp(ctx, t):
        return t.reshape(ctx.shape)


def squeeze(input, dim=None):
    """Drop size-1 dims (all, one, or several); others named in ``dim`` are left alone."""
    shape = input._data.shape
    if dim is None:
        axes = tuple(i for i, n in enumerate(shape) if n == 1)
        name = "SqueezeBackward0"
    else:
        name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
        axes = tuple(a for a in normalize_dims(dim, len(shape)) if shape[a] == 1)
    return apply(Squeeze, name, (input,), axes=axes)


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = shape
        out = np.broadcast_to(a, shape)
        if any(s == 0 and n > 1 for s, n in zip(out.strides, out.shape)):
            return out  # elements overlap: read-only (torch refuses to write there too)
        return as_strided(a, shape, out.strides)  # no overlap: a writable view, as torch's

    @staticmethod
    def backward(ctx, g):
        return g  # the engine sums it back over the expanded dims

    @staticmethod
    def jvp(ctx, t):
        return np.broadcast_to(t, ctx.shape)


def expand(input, *sizes):
    sizes = shape_args(sizes, "expand")
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"expand({_torch_type(input)}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shape)})"
        )
    return apply(Expand, "ExpandBackward0", (input,), shape=_expanded_shape(shape, sizes, lead))


def _expanded_shape(shape: tuple, sizes: tuple, lead: int) -> tuple:
    """torch's expand geometry: dims checked from the last one back (the first mismatch from the
    right is the one reported); -1 keeps an existing size."""
    target = list(sizes)
    for i in range(len(sizes) - 1, -1, -1):
        existing = shape[i - lead] if i >= lead else 1
        if target[i] == -1:
            if i < lead:
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}"
                )
            target[i] = existing
        elif target[i] < 0:
            raise RuntimeError("numel: integer multiplication overflow")
        elif existing != target[i] and existing != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[i]}) must match the existing size ({existing}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
    return tuple(target)


def broadcast_to(input, size):
    return expand(input, tuple(size))


def _torch_type(input) -> str:
    return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "int64": "torch.LongTensor"}.get(
        input._data.dtype.name, "torch.Tensor"
    )
