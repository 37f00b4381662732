"""Shape ops. Views (reshape/view, flatten, transpose, permute, t, unsqueeze, squeeze, expand,
split/chunk) return NumPy views, so they share memory with their input as torch's do; copies
(clone, contiguous, dtype conversion, repeat, cat, stack, flip, pad) own their memory.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd.function import COMMON, Function, apply
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


class Alias(Function):  # the same data under a new node: x[...], x[:, :]
    @staticmethod
    def forward(ctx, a):
        return a.view()

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def jvp(ctx, t):
        return t


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def jvp(ctx, t):
        return t


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
    return apply(View, "UnsafeViewBackward0", (input,), shape=tuple(shape))


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


T_DEPRECATED = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will "
    "throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
    "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor."
)
_warned_t = False


def T(input):  # noqa: N802 - the .T property
    global _warned_t
    if input._data.ndim != 2 and not _warned_t:  # torch warns once per process
        _warned_t = True
        warnings.warn(T_DEPRECATED, UserWarning, stacklevel=2)
    return permute(input, *reversed(range(input._data.ndim)))


def mT(input):  # noqa: N802 - the .mT property
    n = input._data.ndim
    if n == 0:  # torch: the identity on 0-d tensors (deprecated there)
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
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine sums it back over the expanded dims

    @staticmethod
    def jvp(ctx, t):
        return np.broadcast_to(t, ctx.shape)


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


# -- dtype conversion ------------------------------------------------------------------------


class ToCopy(Function):
    @staticmethod
    def forward(ctx, a, np_dtype):
        return a.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine casts it back to the input's dtype

    @staticmethod
    def jvp(ctx, t):
        return t  # cast to the output's dtype by forward mode


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


# -- repeat, flip ------------------------------------------------------------------------------


class Repeat(Function):
    @staticmethod
    def forward(ctx, a, repeats):
        ctx.in_shape, ctx.repeats = a.shape, repeats
        return np.tile(a.reshape((1,) * (len(repeats) - a.ndim) + a.shape), repeats)

    @staticmethod
    def backward(ctx, g):
        # split every output dim into (repeat, size) and sum over the repeats
        padded = (1,) * (len(ctx.repeats) - len(ctx.in_shape)) + ctx.in_shape
        split = tuple(n for pair in zip(ctx.repeats, padded) for n in pair)
        summed = g.reshape(split).sum(axis=tuple(range(0, len(split), 2))) if split else g
        return summed.reshape(ctx.in_shape)

    @staticmethod
    def jvp(ctx, t):
        return Repeat.forward(ctx, t, ctx.repeats)


def repeat(input, *repeats):
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    repeats = shape_args(repeats)
    shape = input._data.shape
    if len(repeats) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    padded = (1,) * (len(repeats) - len(shape)) + shape
    target = [r * n for r, n in zip(repeats, padded)]
    for n in target:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {target}")
    return apply(Repeat, "RepeatBackward0", (input,), repeats=repeats)


class Flip(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.flip(a, dims).copy()  # torch's flip is a copy, not a view

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims) if _is_array(g) else flip(g, ctx.dims)

    @staticmethod
    def jvp(ctx, t):
        return np.flip(t, ctx.dims)


def flip(input, *dims, **kwargs):
    """``flip(0, 2)``, ``flip([0, 2])`` or ``flip(dims=(0, 2))``; no dims: a plain copy."""
    dims = kwargs.pop("dims", dims)
    if kwargs:
        raise TypeError(f"flip() got an unexpected keyword argument '{next(iter(kwargs))}'")
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    axes = normalize_dims(dims, input._data.ndim) if len(dims) else ()
    return apply(Flip, "FlipBackward0", (input,), dims=axes)


# -- cat, stack --------------------------------------------------------------------------------


def _zeros_for(value: Any, shape: tuple, np_dtype: np.dtype) -> Any:
    """Zeros of ``shape``, a Tensor when ``value`` is one (the create_graph case)."""
    zeros = np.zeros(shape, np_dtype)
    return zeros if _is_array(value) else type(value)._make(zeros)


def concat_any(parts: list, axis: int) -> Any:
    """np.concatenate on arrays; the engine's cat (recorded) when a part is a Tensor."""
    tensor = next((p for p in parts if not _is_array(p)), None)
    if tensor is None:
        return np.concatenate(parts, axis=axis)
    return cat([p if not _is_array(p) else type(tensor)._make(p) for p in parts], axis)


class Cat(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, *arrays, dim, kept):
        ctx.dim, ctx.shapes, ctx.kept = dim, [a.shape for a in arrays], kept
        return np.concatenate([a for a, k in zip(arrays, kept) if k], axis=dim)

    @staticmethod
    def backward(ctx, g):
        grads, offset = [], 0
        for shape, k in zip(ctx.shapes, ctx.kept):
            if not k:  # a legacy empty (0,) input that cat skipped
                grads.append(None)
                continue
            size = shape[ctx.dim]
            grads.append(g[(slice(None),) * ctx.dim + (slice(offset, offset + size),)])
            offset += size
        return tuple(grads)

    @staticmethod
    def jvp(ctx, *tangents):
        parts = [
            np.zeros(shape) if t is None else t for t, shape, k in zip(tangents, ctx.shapes, ctx.kept) if k
        ]  # fmt: skip
        return np.concatenate(parts, axis=ctx.dim)


def _tensor_sequence(tensors: Any, name: str) -> tuple:
    from reference.tensor import Tensor

    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    return tuple(tensors)


def cat(tensors, dim=0):
    tensors = _tensor_sequence(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if x._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # torch skips legacy empty tensors of shape (0,) beside tensors of other ranks
    kept = tuple(x._data.shape != (0,) for x in tensors)
    ref = next((x for x, k in zip(tensors, kept) if k), tensors[0])
    shape = ref._data.shape
    axis = normalize_dim(dim, len(shape))
    for i, (x, k) in enumerate(zip(tensors, kept)):
        other = x._data.shape
        if not k or other is shape:
            continue
        if len(other) != len(shape):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(shape)} and {len(other)}")
        for d, (n, m) in enumerate(zip(shape, other)):
            if d != axis and n != m:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {axis}. Expected size {n} but got size {m} "
                    f"for tensor number {i} in the list."
                )
    if not any(kept):
        kept = (True,) * len(tensors)
    return apply(Cat, "CatBackward0", tensors, dim=axis, kept=kept)


class Stack(Function):
    promotion = COMMON

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim, ctx.shape = dim, arrays[0].shape
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.dim
        return tuple(g[(*lead, i)] for i in range(g.shape[ctx.dim]))

    @staticmethod
    def jvp(ctx, *tangents):
        return np.stack([np.zeros(ctx.shape) if t is None else t for t in tangents], axis=ctx.dim)


def stack(tensors, dim=0):
    tensors = _tensor_sequence(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    axis = normalize_dim(dim, len(shape) + 1)
    for i, x in enumerate(tensors[1:], 1):
        if x._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(x._data.shape)} at entry {i}"
            )
    return apply(Stack, "StackBackward0", tensors, dim=axis)


# -- split, chunk (several outputs, each a view) ----------------------------------------------


class Split(Function):
    @staticmethod
    def forward(ctx, a, dim, sizes):
        ctx.dim, ctx.sizes = dim, sizes
        return Split._pieces(a, dim, sizes)

    @staticmethod
    def _pieces(a, dim, sizes):
        lead, offset, pieces = (slice(None),) * dim, 0, []
        for n in sizes:
            pieces.append(a[(*lead, slice(offset, offset + n))])
            offset += n
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return concat_any(list(grads), ctx.dim)

    @staticmethod
    def jvp(ctx, t):
        return Split._pieces(t, ctx.dim, ctx.sizes)


def _split_dim(input, dim, name: str) -> int:
    if input._data.ndim == 0:
        raise RuntimeError(f"{name} expects at least a 1-dimensional tensor")
    return normalize_dim(dim, input._data.ndim)


def split(input, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` (the last may be smaller), or of the listed sizes."""
    axis = _split_dim(input, dim, "split")
    length = input._data.shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        return _split_with_sizes(input, [int(n) for n in split_size_or_sections], axis)
    size = int(split_size_or_sections)
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0 and length != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {length}")
    count = max(1, -(-length // size)) if size else 1
    sizes = tuple(min(size, length - i * size) for i in range(count))
    return apply(Split, "SplitBackward0", (input,), dim=axis, sizes=sizes)


def _split_with_sizes(input, sizes: list, axis: int):
    length = input._data.shape[axis]
    if any(n < 0 for n in sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={sizes}"
        )
    if sum(sizes) != length:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size at dimension "
            f"{axis}), but got split_sizes={sizes}"
        )
    return apply(Split, "SplitWithSizesBackward0", (input,), dim=axis, sizes=tuple(sizes))


def chunk(input, chunks, dim=0):
    """``split`` into pieces of ceil(size / chunks): possibly fewer than ``chunks`` pieces."""
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = normalize_dim(dim, input._data.ndim)
    length = input._data.shape[axis]
    if length == 0:  # torch: `chunks` empty pieces
        return _split_with_sizes(input, [0] * chunks, axis)
    return split(input, -(-length // chunks), axis)


# -- pad (torch.nn.functional.pad) -----------------------------------------------------------


class ConstantPad(Function):
    """Pads (positive) or crops (negative) each dim: ``pairs`` is ((axis, before, after), ...)."""

    @staticmethod
    def forward(ctx, a, pairs, value):
        ctx.pairs = pairs
        return ConstantPad._pad(a, pairs, value)

    @staticmethod
    def _pad(a, pairs, value):
        shape, src, dst = list(a.shape), [slice(None)] * a.ndim, [slice(None)] * a.ndim
        for axis, before, after in pairs:
            length = a.shape[axis]
            kept = length - max(-before, 0) - max(-after, 0)
            shape[axis] = length + before + after
            src[axis] = slice(max(-before, 0), max(-before, 0) + kept)
            dst[axis] = slice(max(before, 0), max(before, 0) + kept)
        out = np.full(shape, value, a.dtype)
        out[tuple(dst)] = a[tuple(src)]
        return out

    @staticmethod
    def backward(ctx, g):
        # the adjoint crops what was padded and zero-fills what was cropped: the opposite pad
        opposite = tuple((axis, -before, -after) for axis, before, after in ctx.pairs)
        if _is_array(g):
            return ConstantPad._pad(g, opposite, 0)
        return apply(ConstantPad, "ConstantPadNdBackward0", (g,), pairs=opposite, value=0)

    @staticmethod
    def jvp(ctx, t):
        return ConstantPad._pad(t, ctx.pairs, 0)


class IndexPad(Function):
    """Reflect or replicate padding: an index_select with computed indices along each padded dim."""

    @staticmethod
    def forward(ctx, a, takes):
        ctx.takes, ctx.in_shape = takes, a.shape
        return IndexPad._take(a, takes)

    @staticmethod
    def _take(a, takes):
        for axis, index in takes:
            a = np.take(a, index, axis=axis)
        return a

    @staticmethod
    def backward(ctx, g):
        from reference.ops.indexing import index_add_any

        for axis, index in reversed(ctx.takes):
            g = index_add_any(g, axis, index, ctx.in_shape[axis])
        return g

    @staticmethod
    def jvp(ctx, t):
        return IndexPad._take(t, ctx.takes)


_PAD_SUPPORT = (
    "\nSupported combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def pad(input, pad, mode="constant", value=None):
    """``torch.nn.functional.pad``: ``pad`` lists (before, after) pairs from the last dim backwards;
    modes 'constant' (negative pads crop), 'reflect' and 'replicate'."""
    ndim, sizes = input._data.ndim, [int(p) for p in pad]
    if len(sizes) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(sizes) // 2 > ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding length "
            f"{len(sizes)} and input of dimension {ndim}"
        )
    pairs = tuple((ndim - 1 - k, sizes[2 * k], sizes[2 * k + 1]) for k in range(len(sizes) // 2))
    if mode == "constant":
        return _constant_pad(input, pairs, 0 if value is None else value)
    if mode not in ("reflect", "replicate"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not len(sizes) or ndim not in (len(sizes) // 2 + 1, len(sizes) // 2 + 2):
        raise NotImplementedError(f"Padding size {len(sizes)} is not supported for {ndim}D input tensor.{_PAD_SUPPORT}")
    shape = input._data.shape
    if any(n == 0 for n in shape[ndim - 1 - len(pairs) :]):
        raise RuntimeError(
            f"Expected {ndim - 1}D or {ndim}D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {list(shape)}"
        )
    takes = tuple((axis, _pad_indices(mode, shape, axis, lo, hi, k)) for k, (axis, lo, hi) in enumerate(pairs))
    name = f"{'ReflectionPad' if mode == 'reflect' else 'ReplicationPad'}{len(pairs)}DBackward0"
    return apply(IndexPad, name, (input,), takes=takes)


def _constant_pad(input, pairs, value):
    shape = input._data.shape
    for axis, before, after in pairs:
        if shape[axis] + min(before, 0) < 0 or shape[axis] + min(before, 0) + min(after, 0) < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
    return apply(ConstantPad, "ConstantPadNdBackward0", (input,), pairs=pairs, value=value)


def _pad_indices(mode: str, shape: tuple, axis: int, before: int, after: int, k: int) -> np.ndarray:
    """For each output position along ``axis``, the input position it copies."""
    length = shape[axis]
    if mode == "reflect" and (before >= length or after >= length):
        raise RuntimeError(
            f"Argument #{4 + 2 * k}: Padding size should be less than the corresponding input dimension, but got: "
            f"padding ({before}, {after}) at dimension {axis} of input {list(shape)}"
        )
    out = length + before + after
    if out < 1:
        label = "WHD"[k] if k < 3 else str(axis)
        raise RuntimeError(f"input ({label}: {length}) is too small. Calculated output {label}: {out}")
    positions = np.arange(out) - before
    if mode == "replicate":
        return np.clip(positions, 0, length - 1)
    positions = np.abs(positions)  # reflect at the start, then at the end
    return np.where(positions > length - 1, 2 * (length - 1) - positions, positions)


# Top-level functions (``reference.reshape``), Tensor methods and properties.
__all__ = [
    "broadcast_to", "cat", "chunk", "clone", "concat", "concatenate", "flatten", "flip", "permute", "reshape",
    "split", "squeeze", "stack", "swapaxes", "swapdims", "t", "transpose", "unsqueeze",
]  # fmt: skip
swapaxes = swapdims = transpose
concat = concatenate = cat
METHODS = {
    "reshape": reshape, "view": view, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose,
    "t": t, "permute": permute, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "expand": expand, "broadcast_to": broadcast_to, "contiguous": contiguous,
    "to": to, "double": double, "float": float, "clone": clone, "flatten": flatten,
    "repeat": repeat, "flip": flip, "split": split, "chunk": chunk,
}  # fmt: skip
PROPERTIES = {"T": T, "mT": mT}
