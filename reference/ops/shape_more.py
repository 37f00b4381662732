"""More shape ops. Copies with their own nodes: roll, rot90, tril/triu, diag (1-d -> 2-d is
DiagEmbedBackward0, 2-d -> 1-d the copy DiagonalBackward0_copy), diag_embed. Views: select,
narrow (SliceBackward0), movedim (PermuteBackward0), unbind (multi-output UnbindBackward0),
unflatten (ViewBackward0). Compositions that record torch's nodes: repeat_interleave (unsqueeze,
expand, clone, view), tile (repeat), hstack/vstack/dstack (atleast_nd, then cat).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference.autograd.function import Function, apply
from reference.ops.operands import normalize_dim, shape_args
from reference.ops.shape_views import _is_array

# -- roll, rot90 -------------------------------------------------------------------------------------


class Roll(Function):
    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(a, shifts, dims)  # dims None: the flattened tensor, rolled, in its shape

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if ctx.dims is not None else -ctx.shifts[0]
        if _is_array(g):
            return np.roll(g, back, ctx.dims)
        return apply(Roll, "RollBackward0", (g,), shifts=back if ctx.dims is not None else (back,), dims=ctx.dims)

    @staticmethod
    def jvp(ctx, t):
        return np.roll(t, ctx.shifts if ctx.dims is not None else ctx.shifts[0], ctx.dims)


def roll(input, shifts, dims=None):
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(Roll, "RollBackward0", (input,), shifts=shifts, dims=None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    axes = tuple(normalize_dim(d, input._data.ndim) for d in dims)
    return apply(Roll, "RollBackward0", (input,), shifts=shifts, dims=axes)


class Rot90(Function):
    @staticmethod
    def forward(ctx, a, k, dims):
        ctx.k, ctx.dims = k, dims
        return np.rot90(a, k, dims).copy()  # torch's rot90 is a copy

    @staticmethod
    def backward(ctx, g):
        if _is_array(g):
            return np.rot90(g, -ctx.k, ctx.dims).copy()
        return apply(Rot90, "Rot90Backward0", (g,), k=-ctx.k, dims=ctx.dims)

    @staticmethod
    def jvp(ctx, t):
        return np.rot90(t, ctx.k, ctx.dims).copy()


def rot90(input, k=1, dims=(0, 1)):
    dims = tuple(dims)
    n = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    d0, d1 = normalize_dim(dims[0], n), normalize_dim(dims[1], n)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return apply(Rot90, "Rot90Backward0", (input,), k=int(k) % 4, dims=(d0, d1))


# -- tril, triu --------------------------------------------------------------------------------------


class Triangle(Function):
    @staticmethod
    def forward(ctx, a, k, upper, node_name):
        ctx.k, ctx.upper, ctx.node_name = k, upper, node_name
        return np.triu(a, k) if upper else np.tril(a, k)

    @staticmethod
    def backward(ctx, g):
        if _is_array(g):
            return np.triu(g, ctx.k) if ctx.upper else np.tril(g, ctx.k)
        return apply(Triangle, ctx.node_name, (g,), k=ctx.k, upper=ctx.upper, node_name=ctx.node_name)

    @staticmethod
    def jvp(ctx, t):
        return np.triu(t, ctx.k) if ctx.upper else np.tril(t, ctx.k)


def _triangle(input, diagonal: int, upper: bool):
    name = "triu" if upper else "tril"
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return apply(Triangle, f"{name.capitalize()}Backward0", (input,), k=int(diagonal), upper=upper,
                 node_name=f"{name.capitalize()}Backward0")  # fmt: skip


def tril(input, diagonal=0):
    return _triangle(input, diagonal, False)


def triu(input, diagonal=0):
    return _triangle(input, diagonal, True)


# -- diag, diag_embed --------------------------------------------------------------------------------


class DiagonalCopy(Function):
    """The diagonal (offset, d1, d2) as a new tensor: diag of a matrix."""

    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        from reference.ops.diagonals import _diagonal_view

        ctx.shape, ctx.where = a.shape, (offset, d1, d2)
        return _diagonal_view(a, offset, d1, d2).copy()

    @staticmethod
    def backward(ctx, g):
        from reference.ops.diagonals import _embed_diagonal

        return _embed_diagonal(g, ctx.shape, ctx.where)

    @staticmethod
    def jvp(ctx, t):
        from reference.ops.diagonals import _diagonal_view

        return _diagonal_view(t, *ctx.where).copy()


class DiagEmbed(Function):
    """Zeros with the input's last dim on the diagonal (offset, d1, d2) of the output."""

    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        from reference.ops.diagonals import _diagonal_view

        ctx.where = (offset, d1, d2)
        m = (a.shape[-1] if a.ndim else 1) + abs(offset)
        batch = list(a.shape[:-1])
        shape = batch[:]
        for d in sorted((d1, d2)):
            shape.insert(d, m)
        out = np.zeros(shape, a.dtype)
        _diagonal_view(out, offset, d1, d2)[...] = a
        return out

    @staticmethod
    def backward(ctx, g):
        from reference.ops.diagonals import _diagonal_view, diagonal

        if _is_array(g):
            return _diagonal_view(g, *ctx.where)
        return diagonal(g, *ctx.where)

    @staticmethod
    def jvp(ctx, t):
        return DiagEmbed.forward(ctx, t, *ctx.where)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input._data.ndim + 1
    d1, d2 = normalize_dim(dim1, n), normalize_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(DiagEmbed, "DiagEmbedBackward0", (input,), offset=int(offset), d1=d1, d2=d2)


def diag(input, diagonal=0):
    n = input._data.ndim
    if n == 1:
        return apply(DiagEmbed, "DiagEmbedBackward0", (input,), offset=int(diagonal), d1=0, d2=1)
    if n == 2:
        return apply(DiagonalCopy, "DiagonalBackward0_copy", (input,), offset=int(diagonal), d1=0, d2=1)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{n}D")


# -- select, narrow, movedim, unbind, unflatten (views) -------------------------------------------


def select(input, dim, index):
    from reference.ops.indexing import _select

    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    axis = normalize_dim(dim, len(shape))
    size = shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(shape)} at dimension {axis}")
    return _select(input, axis, index % size)


def narrow(input, dim, start, length):
    from reference.ops.indexing import _slice

    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = normalize_dim(dim, len(shape))
    size = shape[axis]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice(input, axis, slice(start, start + length))


def movedim(input, source, destination):
    from reference.ops.shape_views import permute

    n = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain the same number "
            f"of dims as destination ({list(dst)} dims)"
        )
    src = tuple(normalize_dim(d, n) for d in src)
    dst = tuple(normalize_dim(d, n) for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in `source` or `destination`")
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    if not n:  # torch: an alias of a 0-d tensor
        from reference.ops.shape_views import Alias

        return apply(Alias, "AliasBackward0", (input,))
    return permute(input, *order)


class Unbind(Function):
    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(a[(*lead, i, Ellipsis)] for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        if all(_is_array(g) for g in grads):
            return np.stack(grads, axis=ctx.dim)
        from reference.ops.shape_join import stack

        like = next(g for g in grads if not _is_array(g))
        return stack([g if not _is_array(g) else type(like)._make(g) for g in grads], ctx.dim)

    @staticmethod
    def jvp(ctx, t):
        lead = (slice(None),) * ctx.dim
        return tuple(t[(*lead, i, Ellipsis)] for i in range(t.shape[ctx.dim]))


def unbind(input, dim=0):
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    axis = normalize_dim(dim, input._data.ndim)
    if input._data.shape[axis] == 0:
        return ()
    return apply(Unbind, "UnbindBackward0", (input,), dim=axis)


def unflatten(input, dim, sizes):
    from reference.ops.shape_views import _infer_shape, view

    shape = input._data.shape
    axis = normalize_dim(dim, len(shape))
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = shape[axis] if shape else 1
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be inferred")
    known = math.prod(n for n in sizes if n != -1)
    if (known != size) if -1 not in sizes else (known == 0 or size % known):
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {axis} ({size}) in the "
            "input tensor"
        )
    inner = _infer_shape(sizes, size)
    return view(input, *shape[:axis], *inner, *shape[axis + 1 :])


# -- repeat_interleave, tile, stacking -----------------------------------------------------------------


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    from reference.ops.indexing_dim import index_select
    from reference.ops.shape_views import clone, expand, flatten, reshape, unsqueeze

    if dim is None:
        input, dim = flatten(input), 0
    shape = input._data.shape
    axis = normalize_dim(dim, len(shape))
    if not isinstance(repeats, int):  # a tensor of counts: an index_select
        counts = np.asarray(getattr(repeats, "_data", repeats)).reshape(-1)
        if counts.size == 1:
            counts = np.full(shape[axis], counts[0])
        index = np.repeat(np.arange(shape[axis]), counts)
        return index_select(input, axis, index)
    if repeats < 0:
        raise RuntimeError("repeats can not be negative")
    grown = unsqueeze(input, axis + 1)
    target = (*shape[: axis + 1], repeats, *shape[axis + 1 :])
    copied = clone(expand(grown, target))
    return reshape(copied, *shape[:axis], shape[axis] * repeats, *shape[axis + 1 :])


def tile(input, *dims):
    from reference.ops.shape_copies import repeat

    dims = shape_args(dims, "tile", "dims")
    dims = (1,) * (input._data.ndim - len(dims)) + tuple(dims)
    return repeat(input, dims)


def _atleast(input, n: int):
    from reference.ops.shape_views import reshape, unsqueeze

    ndim = input._data.ndim
    if ndim >= n:
        return input
    if ndim == 0:
        return reshape(input, *(1,) * n)
    if n == 3 and ndim == 1:
        return unsqueeze(unsqueeze(input, 0), -1)
    return unsqueeze(input, -1 if n == 3 else 0)


def atleast_1d(*tensors: Any):
    return _each(tensors, 1)


def atleast_2d(*tensors: Any):
    return _each(tensors, 2)


def atleast_3d(*tensors: Any):
    return _each(tensors, 3)


def _each(tensors: tuple, n: int):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(t, n) for t in tensors[0])
    out = tuple(_atleast(t, n) for t in tensors)
    return out[0] if len(out) == 1 else out


def hstack(tensors):
    from reference.ops.shape_join import cat

    parts = [_atleast(t, 1) for t in tensors]
    return cat(parts, 0 if parts and parts[0]._data.ndim == 1 else 1)


def vstack(tensors):
    from reference.ops.shape_join import cat

    return cat([_atleast(t, 2) for t in tensors], 0)


def dstack(tensors):
    from reference.ops.shape_join import cat

    return cat([_atleast(t, 3) for t in tensors], 2)
