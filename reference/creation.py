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


_MISSING = object()  # an argument not given (None can be a value)


def _infer_dtype(data: Any, arr: np.ndarray) -> dtypes.dtype:
    """torch's inference for Python data: floats -> default dtype, ints -> int64, bools -> bool."""
    if isinstance(data, np.ndarray):
        return dtypes.from_numpy(arr.dtype)
    if arr.dtype.kind == "f":
        return dtypes.get_default_dtype()
    if arr.dtype.kind == "c":
        return dtypes.complex_of(dtypes.get_default_dtype())
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


def tensor(data: Any = _MISSING, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if data is _MISSING:
        raise TypeError('tensor() missing 1 required positional arguments: "data"')
    _check_flag("tensor", requires_grad)
    t = Tensor._make(as_array(data, dtype))
    if requires_grad:
        if t._data.dtype.kind not in "fc":
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


# -- argument checks, in the words of torch's argument parser ------------------------------------


def _check_flag(name: str, requires_grad: Any, none_ok: bool = False) -> None:
    if type(requires_grad) is not bool and not (none_ok and requires_grad is None):
        raise TypeError(f"{name}(): argument 'requires_grad' must be bool, not {type(requires_grad).__name__}")


def _size(name: str, args: tuple, size: Any) -> tuple[int, ...]:
    """The size of a factory call: ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``."""
    if size is not None:
        if args:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
        args = (size,)
    if not args:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(args) > 1 and isinstance(args[0], (tuple, list)):
        raise TypeError(f"{name}() takes 1 positional argument but {len(args)} were given")
    shape = shape_args(args, name)
    if any(n < 0 for n in shape):
        if name == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    return shape


def _filled(shape: tuple, value: Any, dtype: Any, requires_grad: Any) -> Tensor:
    d = dtypes.resolve(dtype) if dtype is not None else None
    if d is None:
        d = dtypes.get_default_dtype() if isinstance(value, float) else dtypes.from_numpy(np.asarray(value).dtype)
    return tensor(np.full(shape, value, dtype=d.np), requires_grad=bool(requires_grad))


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, **kwargs: Any) -> Tensor:
    _check_flag("zeros", requires_grad, none_ok=True)
    return _filled(_size("zeros", size, _size_kwarg("zeros", kwargs)), 0.0, dtype, requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, **kwargs: Any) -> Tensor:
    _check_flag("ones", requires_grad, none_ok=True)
    return _filled(_size("ones", size, _size_kwarg("ones", kwargs)), 1.0, dtype, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``torch.eye``: ones on the diagonal of an n x m matrix (m = n by default)."""
    _check_flag("eye", requires_grad, none_ok=True)
    for name, value in (("n", n), ("m", m)):
        if value is not None and value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    d = dtypes.resolve(dtype) if dtype is not None else dtypes.get_default_dtype()
    return tensor(np.eye(n, n if m is None else m, dtype=d.np), requires_grad=bool(requires_grad))


def _size_kwarg(name: str, kwargs: dict) -> Any:
    """``size=`` is a keyword torch accepts; anything else is not."""
    size = kwargs.pop("size", None)
    if kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return size


def full(*args: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if len(args) < 2:
        missing = ('"size", "fill_value"', "2", "argument") if not args else ('"fill_value"', "1", "arguments")
        raise TypeError(f"full() missing {missing[1]} required positional {missing[2]}: {missing[0]}")
    size, fill_value = args[0], args[1]
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    if not isinstance(fill_value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not {type(fill_value).__name__}")
    _check_flag("full", requires_grad, none_ok=True)
    return _filled(_size("full", (size,), None), fill_value, dtype, requires_grad)


def _like(name: str, input: Any) -> Tensor:
    if input is _MISSING:
        raise TypeError(f'{name}() missing 1 required positional arguments: "input"')
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input


def zeros_like(input: Tensor = _MISSING, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    _check_flag("zeros_like", requires_grad, none_ok=True)
    input = _like("zeros_like", input)
    return _filled(input._data.shape, 0.0, dtype or input.dtype, requires_grad)


def ones_like(input: Tensor = _MISSING, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    _check_flag("ones_like", requires_grad, none_ok=True)
    input = _like("ones_like", input)
    return _filled(input._data.shape, 1.0, dtype or input.dtype, requires_grad)


_RANDN_SIGNATURES = (
    "\n * (tuple of ints size, *, torch.Generator generator, Tensor out = None, torch.dtype dtype = None, "
    "torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool requires_grad = False)"
    "\n * (tuple of ints size, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    if not size:
        raise TypeError(
            f"randn() received an invalid combination of arguments - got (), but expected one of:{_RANDN_SIGNATURES}"
        )
    shape = _size("randn", size, None)
    d = dtypes.resolve(dtype) if dtype is not None else dtypes.get_default_dtype()
    if not d.is_floating_point:
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{_legacy_name(d)}'")
    rng = (generator or default_generator).rng
    values = rng.standard_normal(shape, dtype=d.np)
    return tensor(values, requires_grad=requires_grad)


def _legacy_name(d: dtypes.dtype) -> str:
    return {"int64": "Long", "bool": "Bool"}.get(d.name, d.name)
