"""Joining and splitting along a dim: ``cat``/``stack`` (copies) and ``split``/``chunk``
(several outputs, each a view of the input)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd.function import COMMON, Function, apply
from reference.ops.operands import normalize_dim
from reference.ops.shape_views import _is_array

# -- cat, stack --------------------------------------------------------------------------------


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
            if not k:  # a legacy empty (0,) input that cat skipped: torch hands it an empty gradient
                grads.append(g.reshape(-1)[:0])
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
    if not any(kept):  # only legacy empties: torch does not even check dim
        return apply(Cat, "CatBackward0", tensors, dim=0, kept=(True,) * len(tensors))
    ref = next(x for x, k in zip(tensors, kept) if k)
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
