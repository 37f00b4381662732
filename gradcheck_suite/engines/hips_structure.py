"""Shape and indexing ops of the HIPS autograd op table (see hips_ops.py)."""

from __future__ import annotations

import math

import autograd.numpy as np
import numpy as onp

try:  # erf and logsumexp live in autograd.scipy, which needs SciPy
    from autograd.scipy import special
except ImportError:  # pragma: no cover - SciPy is optional
    special = None

from gradcheck_suite.engines.hips_dims import _along, _axes, _axis, _transposed

# -- shape -----------------------------------------------------------------------------------------


def _flatten(a, start_dim, end_dim):
    shape = np.shape(a)
    if not shape:
        return np.reshape(a, (1,))
    s, e = start_dim % len(shape), end_dim % len(shape)
    return np.reshape(a, (*shape[:s], math.prod(shape[s : e + 1]), *shape[e + 1 :]))


def _squeeze(a, dim):
    """torch's squeeze(dim): dims (int or tuple) that are not of size 1 stay."""
    if dim is None:
        return np.squeeze(a)
    shape = np.shape(a)
    axes = _axes(_axis(dim, len(shape)), len(shape)) if shape else ()
    return np.squeeze(a, axis=tuple(i for i in axes if shape[i] == 1))


def _expand(a, sizes):
    shape = np.shape(a)
    lead = len(sizes) - len(shape)
    return np.broadcast_to(a, tuple(shape[i - lead] if n == -1 else n for i, n in enumerate(sizes)))


def _flip(a, dims):
    """Reversed slices (np.flip has no VJP in autograd)."""
    n = np.ndim(a)
    flipped = {d % n for d in dims} if n else set()
    return a[tuple(slice(None, None, -1) if i in flipped else slice(None) for i in range(n))]


def _split(a, sections, dim, piece):
    axis = dim % np.ndim(a)
    if isinstance(sections, int):
        start = piece * sections
        stop = min(start + sections, np.shape(a)[axis])
    else:
        start = sum(sections[:piece])
        stop = start + sections[piece]
    return a[_along(axis, slice(start, stop))]


def _chunk(a, chunks, dim):
    """torch's chunk (pieces of ceil(n / chunks)), each weighted by position, flattened and joined."""
    axis = dim % np.ndim(a)
    n = np.shape(a)[axis]
    if not n or not np.size(a):
        return np.reshape(a, (0,))
    size = -(-n // chunks)
    pieces = [a[_along(axis, slice(i * size, (i + 1) * size))] for i in range(-(-n // size))]
    return np.concatenate([np.reshape(p * (i + 1), (-1,)) for i, p in enumerate(pieces)])


def _pad(a, pad, value):
    """F.pad with a constant: pairs from the last dim backwards; negative widths crop."""
    n = np.ndim(a)
    if not pad:
        return a
    widths, crop = [(0, 0)] * n, [slice(None)] * n
    for k in range(len(pad) // 2):
        axis, (before, after) = n - 1 - k, pad[2 * k : 2 * k + 2]
        crop[axis] = slice(max(-before, 0), np.shape(a)[axis] - max(-after, 0))
        widths[axis] = (max(before, 0), max(after, 0))
    return np.pad(a[tuple(crop)], widths, mode="constant", constant_values=value)


SHAPE = {
    "reshape": lambda a, shape: np.reshape(a, shape),
    "reshape_strided": lambda a, shape: np.reshape(_transposed(a), shape),
    "view": lambda a, shape: np.reshape(a, shape),
    "flatten": _flatten,
    "flatten_strided": lambda a, start_dim, end_dim: _flatten(_transposed(a), start_dim, end_dim),
    "transpose": lambda a, dim0, dim1: np.swapaxes(a, dim0, dim1) if np.ndim(a) else a,
    "permute": lambda a, dims: np.transpose(a, dims),
    "t": lambda a: np.transpose(a) if np.ndim(a) == 2 else a,
    "T": np.transpose,
    "mT": lambda a: np.swapaxes(a, -1, -2),
    "unsqueeze": lambda a, dim: np.expand_dims(a, dim),
    "squeeze": _squeeze,
    "expand": _expand,
    "broadcast_to": lambda a, size: np.broadcast_to(a, size),
    "clone": lambda a: np.array(a, copy=True),
    "contiguous": _transposed,  # NumPy users never ask for contiguity (np.ascontiguousarray has no VJP)
    "to": lambda a: a.astype(np.float64).astype(a.dtype),
    "repeat": lambda a, repeats: np.tile(a, repeats),
    "flip": _flip,
    "cat": lambda a, b, c, dim: np.concatenate([a, b, c], axis=dim),
    "stack": lambda a, b, c, dim: np.stack([a, b, c], axis=dim),
    "split": _split,
    "chunk": _chunk,
    "pad": _pad,
}


# -- indexing --------------------------------------------------------------------------------------


def _index_select(a, dim, index):
    flat = onp.reshape(index, (-1,))  # torch reads a 0-d index as one element
    if not np.ndim(a):
        return np.reshape(np.reshape(a, (1,))[flat], ())
    return a[_along(dim % np.ndim(a), flat)]


def _gather(a, dim, index):
    """out[i][j][k] = a[i][index[i][j][k]][k] (dim 1), by advanced indexing with a grid."""
    if not np.ndim(a):
        return np.reshape(a, (1,))[index]
    grid = list(onp.indices(index.shape, sparse=True))
    grid[dim % np.ndim(a)] = index
    return a[tuple(grid)]


def _integer(entry) -> bool:
    """A Python int or a 0-d integer array: torch selects with both."""
    return type(entry) is int or (isinstance(entry, onp.ndarray) and entry.ndim == 0 and entry.dtype.kind in "iu")


def _without_ellipsis(entries: tuple, ndim: int) -> tuple:
    """The Ellipsis spelled out as full slices: an Ellipsis of no dims separates index arrays for
    NumPy (which then moves their result dims first) but not for torch."""
    if not any(e is Ellipsis for e in entries):
        return entries
    used = sum(e.ndim if isinstance(e, onp.ndarray) and e.dtype == bool else 1
               for e in entries if e is not None and e is not Ellipsis)  # fmt: skip
    at = next(i for i, e in enumerate(entries) if e is Ellipsis)
    return (*entries[:at], *(slice(None),) * (ndim - used), *entries[at + 1 :])


def _getitem(a, index):
    """``a[index]`` as torch reads it: integers select before index arrays apply, so only arrays
    count as advanced (NumPy counts integers too, and moves the result dims first when they are
    not adjacent to the arrays)."""
    entries = _without_ellipsis(index if isinstance(index, tuple) else (index,), np.ndim(a))
    integers = [_integer(e) for e in entries]
    if not any(integers) or all(i or not isinstance(e, onp.ndarray) for e, i in zip(entries, integers)):
        return a[entries]
    selected = a[tuple(int(e) if i else slice(None) for e, i in zip(entries, integers) if e is not None)]
    return selected[tuple(e for e, i in zip(entries, integers) if not i)]


INDEXING = {
    "getitem": lambda a, index: a[index],
    "getitem_advanced": _getitem,
    "getitem_mask": lambda a, index: a[index],
    "index_select": _index_select,
    "gather": _gather,
    "masked_fill": lambda a, mask, value: np.where(mask, value, a),
    "masked_fill_tensor": lambda a, v, mask: np.where(mask, v, a),
}
