"""Normalising op arguments: scalars, dims and shapes, with torch's error messages."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import dtypes


def operand(x: Any) -> Any:
    """A Tensor, or a Python scalar (torch treats both Python and NumPy scalars as "wrapped
    numbers" that never widen a float tensor); arrays and lists become Tensors."""
    from reference.tensor import Tensor

    if isinstance(x, np.generic):  # before float: np.float64 is a float subclass
        return x.item()
    if isinstance(x, (Tensor, bool, int, float)):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        from reference.creation import tensor

        return tensor(x)
    raise TypeError(f"unsupported operand of type {type(x).__name__}; expected a Tensor or a number")


def scalar_promoted(t: Any, scalar: Any) -> Any:
    """``t`` cast to the dtype torch computes ``t op scalar`` in (only int/bool tensors change,
    and those never require grad, so the cast is invisible to autograd)."""
    if t._data.dtype.kind in "fc":
        return t
    target = dtypes.result_type([(t.dtype, t._data.ndim == 0)], (scalar,))
    if target.np == t._data.dtype:
        return t
    return type(t)._make(t._data.astype(target.np))


def dim_range_error(dim: int, ndim: int) -> IndexError:
    lo, hi = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)
    return IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")


def normalize_dim(dim: int, ndim: int) -> int:
    """A dim in [-ndim, ndim) (or [-1, 0] for a 0-d tensor) as a non-negative index."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise dim_range_error(dim, ndim)
    return dim % size


def normalize_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """A dim or sequence of dims as sorted non-negative axes; ``None`` or ``()`` means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dims = (int(dim),)
    else:
        dims = tuple(int(d) for d in dim)
        if not dims:
            return tuple(range(ndim))
    seen = set()
    out = []
    for d in dims:
        n = normalize_dim(d, ndim)
        if n in seen:
            raise RuntimeError(f"dim {n} appears multiple times in the list of dims")
        seen.add(n)
        out.append(n)
    return tuple(sorted(n for n in out if n < ndim))


def shape_args(args: tuple, name: str = "", arg: str = "size") -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` or ``f([2, 3])`` -> ``(2, 3)``, with the messages of torch's
    argument parser for function ``name`` (whose parameter is called ``arg``)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        items = tuple(args[0])
    elif len(args) == 1 and not _int_like(args[0]):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of ints, not {_type_name(args[0])}")
    elif len(args) > 1 and not _int_like(args[0]):
        raise TypeError(f"{name}() takes 1 positional argument but {len(args)} were given")
    else:
        items = args
    for pos, a in enumerate(items, 1):
        if not (_int_like(a) or isinstance(a, (bool, np.bool_))):
            raise TypeError(
                f"{name}(): argument '{arg}' failed to unpack the object at pos {pos} with error "
                f'"type must be tuple of ints,but got {_type_name(a)}"'
            )
    return tuple(int(a) for a in items)


def _int_like(x: Any) -> bool:
    """An int as torch's parser takes one: Python and NumPy ints, and 0-d integer tensors."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, np.integer)):
        return True
    data = getattr(x, "_data", None)
    return data is not None and data.ndim == 0 and data.dtype.kind in "iu"


def _type_name(x: Any) -> str:
    cls = type(x)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"
