"""Shape ops: views (reshape/view, transpose, permute, t, unsqueeze, squeeze, expand)
and copies (clone, contiguous, dtype conversion).

Views return NumPy views, so they share memory with their input as torch's do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd.function import Function, apply
from reference.ops.operands import dim_range_error, normalize_dim, normalize_dims, shape_args


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


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


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
    shape = _infer_shape(shape_args(shape), input._data.size)
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
    shape = _infer_shape(shape_args(shape), input._data.size)
    if input._data.flags.c_contiguous:
        return apply(View, "ViewBackward0", (input,), shape=shape)
    if _viewable(input._data, shape):
        return apply(View, "ReshapeAliasBackward0", (input,), shape=shape)
    copied = apply(Clone, "CloneBackward0", (input,))
    return apply(View, "UnsafeViewBackward0", (copied,), shape=shape)


def alias(input):
    """A view of the whole tensor (what forward AD's make_dual and unpack_dual return)."""
    return apply(View, "ViewBackward0", (input,), shape=input._data.shape)


def _unsafe_view(input, shape):
    return apply(View, "UnsafeViewBackward0", (input,), shape=tuple(shape))


def clone(input):
    return apply(Clone, "CloneBackward0", (input,))


def contiguous(input):
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.dims = (d0, d1)
        return a.swapaxes(d0, d1) if a.ndim else a.view()

    @staticmethod
    def backward(ctx, g):
        return g.swapaxes(*ctx.dims) if g.ndim else g


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
        ctx.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        from reference.autograd.arrayops import permute as permute_any

        return permute_any(g, ctx.inverse)


def permute(input, *dims):
    dims = shape_args(dims)
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


def T(input):  # noqa: N802 - the .T property
    return permute(input, *reversed(range(input._data.ndim)))


def mT(input):  # noqa: N802 - the .mT property
    if input._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1)


class Unsqueeze(Function):
    @staticmethod
    def forward(ctx, a, dim):
        ctx.in_shape = a.shape
        return np.expand_dims(a, dim)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


def unsqueeze(input, dim):
    n = input._data.ndim + 1
    if not -n <= dim < n:
        raise dim_range_error(dim, n)
    return apply(Unsqueeze, "UnsqueezeBackward0", (input,), dim=dim % n)


class Squeeze(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.in_shape = a.shape
        return a.squeeze(axis=axes) if axes else a.view()

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


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
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine sums it back over the expanded dims


def expand(input, *sizes):
    sizes = shape_args(sizes)
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"expand({_torch_type(input)}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shape)})"
        )
    target = tuple(shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(sizes))
    for i, n in enumerate(shape):
        if n != 1 and n != target[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[lead + i]}) must match the existing size ({n}) at "
                f"non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
    return apply(Expand, "ExpandBackward0", (input,), shape=target)


def broadcast_to(input, size):
    return expand(input, *size)


class ToCopy(Function):
    @staticmethod
    def forward(ctx, a, np_dtype):
        return a.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine casts it back to the input's dtype


def to(input, *args: Any, dtype=None, copy=False, **kwargs: Any):
    """``to(dtype)``; devices other than the CPU are not supported."""
    for a in args:
        if isinstance(a, dtypes.dtype) or (isinstance(a, str) and a in ("float", "double")):
            dtype = a
        elif a not in ("cpu", None):
            raise RuntimeError(f"reference tensors live on the CPU; cannot move to {a!r}")
    if dtype is None:
        return input
    target = dtypes.resolve(dtype)
    if target.np == input._data.dtype and not copy:
        return input
    return apply(ToCopy, "ToCopyBackward0", (input,), np_dtype=target.np)


def double(input):
    return to(input, dtypes.float64)


def float(input):
    return to(input, dtypes.float32)


def _torch_type(input) -> str:
    return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "int64": "torch.LongTensor"}.get(
        input._data.dtype.name, "torch.Tensor"
    )


# Top-level functions (``reference.reshape``), Tensor methods and properties.
__all__ = ["broadcast_to", "clone", "permute", "reshape", "squeeze", "swapaxes", "t", "transpose", "unsqueeze"]
swapaxes = transpose
METHODS = {
    "reshape": reshape, "view": view, "transpose": transpose, "swapaxes": transpose,
    "t": t, "permute": permute, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "expand": expand, "broadcast_to": broadcast_to, "contiguous": contiguous,
    "to": to, "double": double, "float": float, "clone": clone,
}  # fmt: skip
PROPERTIES = {"T": T, "mT": mT}
