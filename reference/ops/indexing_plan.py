"""Reading a torch-style index (``x[index]``): ints, slices, None, Ellipsis, bools, integer and
boolean arrays or Tensors, with torch's errors; the plan ``getitem`` follows, and
``normalize_index``, the one NumPy index that reads and writes what torch's index does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

INVALID_INDEX = "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices"
ZERO_DIM_INT = (
    "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a "
    "0-dim tensor to a number"
)


def _entry(e: Any) -> tuple:
    """One index entry as (kind, value): none, ellipsis, bool, int, slice, array (int64) or mask (bool)."""
    if e is None:
        return ("none", None)
    if e is Ellipsis:
        return ("ellipsis", None)
    if isinstance(e, (bool, np.bool_)):
        return ("bool", bool(e))
    if isinstance(e, (int, np.integer)):
        return ("int", int(e))
    if isinstance(e, slice):
        return ("slice", e)
    data = getattr(e, "_data", None)  # a Tensor
    if data is None and isinstance(e, (np.ndarray, list, tuple)):
        data = np.asarray(e)
        if data.dtype.kind == "f" and not isinstance(e, np.ndarray):  # torch truncates float lists
            data = data.astype(np.int64)
    if data is None:
        raise IndexError(f"{INVALID_INDEX} (got {type(e).__name__})")
    if data.dtype.kind == "b":
        return ("bool", bool(data)) if data.ndim == 0 else ("mask", data)
    if data.dtype.kind not in "iu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return ("int", int(data)) if data.ndim == 0 else ("array", data.astype(np.int64, copy=False))


def _as_entries(index: Any) -> tuple[tuple, bool]:
    """The index as a tuple of entries, and whether torch reads it as a tuple (a list holding
    sequences, slices, None or Ellipsis counts as one, as in old NumPy)."""
    if type(index) is tuple:
        return index, True
    if isinstance(index, list) and len(index) < 32 and any(_tuple_like(e) for e in index):
        return tuple(index), True
    return (index,), False


def _tuple_like(e: Any) -> bool:
    return isinstance(e, (list, tuple, slice, np.ndarray)) or e is None or e is Ellipsis or hasattr(e, "_data")


@dataclass
class _Plan:
    """What ``x[index]`` does: basic steps in order, then the advanced part.

    - ``steps``: ("select", dim, i) | ("slice", dim, slice) | ("unsqueeze", dim), dims of the result so far
    - ``arrays``: (dim of the basic result, int64 array), each array already in range
    - ``vdims``: per dim of the basic result, ("in", input dim, start, step, size) or ("new",)
    - ``ints``: input dim -> selected position (non-negative)
    - ``basic``: the NumPy index of the basic part alone
    """

    steps: list = field(default_factory=list)
    arrays: list = field(default_factory=list)
    vdims: list = field(default_factory=list)
    ints: dict = field(default_factory=dict)
    basic: list = field(default_factory=list)
    shape: list = field(default_factory=list)  # of the basic result


def _full_slice(s: slice, size: int) -> bool:
    """torch skips a slice that keeps everything (start 0 or None, stop past the end, step 1)."""
    return s.start in (None, 0) and (s.stop is None or s.stop >= size) and s.step in (None, 1)


def _plan(index: Any, shape: tuple) -> tuple[_Plan, bool]:
    entries, is_tuple = _as_entries(index)
    kinds = [_entry(e) for e in entries]
    ndim = len(shape)
    if not is_tuple and ndim == 0:
        if kinds[0][0] == "int" and not hasattr(entries[0], "_data"):
            raise IndexError(ZERO_DIM_INT)
        if kinds[0][0] == "slice":
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    specified = sum(1 if k in ("int", "slice", "array") else v.ndim if k == "mask" else 0 for k, v in kinds)
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    plan = _Plan(shape=list(shape))
    src = 0  # the next input dim
    for position, (kind, value) in enumerate(kinds):
        dim = len(plan.vdims)
        if kind == "ellipsis":
            for _ in range(ndim - specified):
                _keep(plan, src, 0, 1, shape[src])
                src += 1
            plan.basic.append(Ellipsis)
            specified = ndim  # torch: later ellipses expand to nothing
        elif kind == "none":
            _new_axis(plan, dim)
            plan.basic.append(None)
        elif kind == "bool":
            _new_axis(plan, dim)
            plan.arrays.append((dim, np.arange(int(value), dtype=np.int64)))
        elif kind == "int":
            size = shape[src]
            if not -size <= value < size:
                raise IndexError(f"index {value} is out of bounds for dimension {position} with size {size}")
            plan.steps.append(("select", dim, value))
            plan.ints[src] = value % size
            plan.shape.pop(dim)
            plan.basic.append(value)
            src += 1
        elif kind == "slice":
            if value.step is not None and value.step <= 0:
                raise ValueError("slice step cannot be zero" if value.step == 0 else "step must be greater than zero")
            size = shape[src]
            start, stop, step = value.indices(size)
            length = len(range(start, stop, step))
            if not is_tuple or not _full_slice(value, size):
                plan.steps.append(("slice", dim, slice(start, stop, step)))
            _keep(plan, src, start, step, length)
            plan.basic.append(slice(start, stop, step))
            src += 1
        elif kind == "array":
            _keep(plan, src, 0, 1, shape[src])
            plan.arrays.append((dim, value))
            src += 1
        else:  # a mask: one array per masked dim
            _check_mask(value, plan.shape, dim)
            for offset, positions in enumerate(np.nonzero(value)):
                _keep(plan, src, 0, 1, shape[src])
                plan.arrays.append((dim + offset, positions))
                src += 1
    for d in range(src, ndim):
        _keep(plan, d, 0, 1, shape[d])
    _check_arrays(plan)
    return plan, is_tuple


def _keep(plan: _Plan, src: int, start: int, step: int, size: int) -> None:
    """The basic result keeps input dim ``src`` (sliced to ``size`` elements)."""
    dim = len(plan.vdims)
    plan.vdims.append(("in", src, start, step, size))
    plan.shape[dim] = size


def _new_axis(plan: _Plan, dim: int) -> None:
    plan.steps.append(("unsqueeze", dim))
    plan.vdims.append(("new",))
    plan.shape.insert(dim, 1)


def _check_mask(mask: np.ndarray, shape: list, dim: int) -> None:
    for i, n in enumerate(mask.shape):
        if dim + i >= len(shape) or shape[dim + i] != n:
            raise IndexError(
                f"The shape of the mask {list(mask.shape)} at index {i} does not match the shape of the indexed "
                f"tensor {shape} at index {dim + i}"
            )


def _check_arrays(plan: _Plan) -> None:
    """Broadcast the index arrays and bring them in range, with torch's messages."""
    if not plan.arrays:
        return
    try:
        np.broadcast_shapes(*(a.shape for _, a in plan.arrays))
    except ValueError:
        shown = ", ".join(str(list(a.shape)) for _, a in plan.arrays)
        message = f"shape mismatch: indexing tensors could not be broadcast together with shapes {shown}"
        raise IndexError(message) from None
    for k, (dim, a) in enumerate(plan.arrays):
        size = plan.shape[dim]
        bad = (a < -size) | (a >= size)
        if bad.any():
            raise IndexError(f"index {a[bad].flat[0]} is out of bounds for dimension {k} with size {size}")
        if (a < 0).any():
            plan.arrays[k] = (dim, np.where(a < 0, a + size, a))


def _advanced_index(plan: _Plan) -> tuple:
    """The NumPy index of the advanced part, over the basic result (no ints, Nones or bools:
    NumPy places the broadcast dims exactly as torch does)."""
    index: list[Any] = [slice(None)] * len(plan.shape)
    for dim, a in plan.arrays:
        index[dim] = a
    return tuple(index)


def normalize_index(index: Any, shape: tuple) -> tuple:
    """The NumPy index that selects, from an array of ``shape``, what torch's ``x[index]`` selects.

    ``index`` is anything torch accepts: ints, slices (positive steps), None, Ellipsis, bools,
    lists, NumPy arrays and Tensors (integer or boolean), alone or in a tuple. Errors are torch's
    (IndexError for out-of-range indices and mask shapes, ValueError for slice steps). The result
    reads and writes alike: ``a[idx]`` is torch's ``x[index]`` and ``a[idx] = v`` is torch's
    ``x[index] = v`` (NumPy broadcasting ``v`` the same way). Without integer arrays or masks it
    is a basic index (ints, slices, None), so ``a[idx]`` is a view; with them, every input dim gets
    an integer array laid out in torch's result order (torch applies the basic part first, which
    NumPy's placement rules for mixed indices would not reproduce).
    """
    plan, _ = _plan(index, tuple(shape))
    if not plan.arrays:
        return tuple(plan.basic)
    return _composed_index(plan, len(shape))


def _composed_index(plan: _Plan, ndim: int) -> tuple:
    groups = [dim for dim, _ in plan.arrays]
    adjacent = groups == list(range(groups[0], groups[0] + len(groups)))  # torch keeps them in place
    bshape = np.broadcast_shapes(*(a.shape for _, a in plan.arrays))
    others = [j for j in range(len(plan.vdims)) if j not in set(groups)]
    before = [j for j in others if adjacent and j < groups[0]]
    after = [j for j in others if j not in before]
    rank = len(others) + len(bshape)
    at_b = len(before)  # first axis of the broadcast dims in the result
    axis_of = {j: i for i, j in enumerate(before)} | {j: at_b + len(bshape) + i for i, j in enumerate(after)}
    if ndim == 0:  # only new axes: NumPy's own bool scalar gives the broadcast dim
        keep = all(a.size for _, a in plan.arrays)
        return (None,) * at_b + (np.bool_(keep),) + (None,) * len(after)
    index: list[Any] = [None] * ndim
    for d, i in plan.ints.items():
        index[d] = np.intp(i)
    for j in others:
        desc = plan.vdims[j]
        if desc[0] == "in":
            _, d, start, step, size = desc
            layout = [1] * rank
            layout[axis_of[j]] = size
            index[d] = (start + step * np.arange(size)).reshape(layout)
    spread = None  # broadcast dims that come from new axes (bool entries) only
    for j, a in plan.arrays:
        layout = (1,) * at_b + (1,) * (len(bshape) - a.ndim) + a.shape + (1,) * (rank - at_b - len(bshape))
        desc = plan.vdims[j]
        if desc[0] == "in":
            _, d, start, step, _ = desc
            index[d] = (start + step * a).reshape(layout)
        else:
            zeros = np.zeros(layout, np.intp)
            spread = zeros if spread is None else spread + zeros
    if spread is not None:
        index[0] = index[0] + spread
    return tuple(index)
