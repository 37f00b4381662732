"""Tensor constructors: tensor, from_numpy, zeros/ones/full (and *_like), randn, manual_seed.

Random numbers come from NumPy's PCG64, seeded by ``manual_seed``: sequences are
reproducible but are not torch's values (torch uses its own Mersenne Twister).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import dtypes
from reference.ops.operands import shape_args
from reference.tensor import Tensor

# torch's default CPU seed, so an unseeded program is as reproducible as torch's.
DEFAULT_SEED = 67280421310721


class Generator:
    """A seeded source of random numbers (what ``manual_seed`` returns)."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def initial_seed(self) -> int:
        return self._seed


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    return default_generator.manual_seed(seed)


def _infer_dtype(data: Any, arr: np.ndarray) -> dtypes.dtype:
    """torch's inference for Python data: floats -> default dtype, ints -> int64, bools -> bool."""
    if isinstance(data, np.ndarray):
        return dtypes.from_numpy(arr.dtype)
    if arr.dtype.kind == "f":
        return dtypes.get_default_dtype()
    if arr.dtype.kind == "b":
        return dtypes.bool_
    if arr.dtype.kind in "iu":
        return dtypes.int64
    raise TypeError(f"could not infer a dtype from data of type {type(data).__name__}")


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """A fresh array for ``data`` with torch's dtype inference (or ``dtype``)."""
    if isinstance(data, Tensor):
        data = data._data
    try:
        arr = np.array(data)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"expected a rectangular sequence of numbers: {exc}") from None
    if arr.dtype == object:
        raise TypeError(f"could not convert data of type {type(data).__name__} to a tensor")
    target = dtypes.resolve(dtype) if dtype is not None else _infer_dtype(data, arr)
    return arr.astype(target.np, copy=False)


def tensor(data: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    t = Tensor._make(as_array(data, dtype))
    if requires_grad:
        if t._data.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (float16 and narrower ints are widened)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if dtypes.from_numpy(array.dtype).np != array.dtype:
        array = array.astype(dtypes.from_numpy(array.dtype).np)
    return Tensor._make(array)


def _filled(size: tuple, value: Any, dtype: Any, requires_grad: bool) -> Tensor:
    d = dtypes.resolve(dtype) if dtype is not None else None
    if d is None:
        d = dtypes.get_default_dtype() if isinstance(value, float) else dtypes.from_numpy(np.asarray(value).dtype)
    return tensor(np.full(shape_args(size), value, dtype=d.np), requires_grad=requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(size, 0.0, dtype, requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(size, 1.0, dtype, requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled((size,) if isinstance(size, int) else tuple(size), fill_value, dtype, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    d = dtypes.resolve(dtype) if dtype is not None else dtypes.get_default_dtype()
    if not d.is_floating_point:
        raise RuntimeError(f"\"normal_kernel_cpu\" not implemented for '{_legacy_name(d)}'")
    rng = (generator or default_generator).rng
    values = rng.standard_normal(shape_args(size), dtype=d.np)
    return tensor(values, requires_grad=requires_grad)


def _legacy_name(d: dtypes.dtype) -> str:
    return {"int64": "Long", "bool": "Bool"}.get(d.name, d.name)
