"""dtype objects and torch's type-promotion rules.

The engine decides result dtypes itself instead of letting NumPy do it: NumPy 2
promotes a float64 scalar with a float32 array to float64, torch keeps float32.
"""

from __future__ import annotations

import numpy as np


class dtype:  # noqa: N801 - mirrors torch.dtype
    """A tensor element type; prints as torch prints it (``torch.float32``)."""

    __slots__ = ("category", "is_complex", "is_floating_point", "name", "np")

    def __init__(self, name: str, np_dtype: type, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == FLOAT
        self.is_complex = category == COMPLEX
        self.category = category

    @property
    def itemsize(self) -> int:
        return self.np.itemsize

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> tuple:
        return (resolve, (self.name,))  # unpickles to the same singleton


# Promotion categories: a higher category wins regardless of "dimension priority".
BOOL, INT, FLOAT, COMPLEX = 0, 1, 2, 3

bool_ = dtype("bool", np.bool_, BOOL)
int64 = dtype("int64", np.int64, INT)
float32 = dtype("float32", np.float32, FLOAT)
float64 = dtype("float64", np.float64, FLOAT)
complex64 = dtype("complex64", np.complex64, COMPLEX)
complex128 = dtype("complex128", np.complex128, COMPLEX)

ALL = (bool_, int64, float32, float64, complex64, complex128)
_BY_NUMPY = {d.np: d for d in ALL}
_ALIASES = {
    "float": float32, "double": float64, "long": int64, "bool": bool_, "cfloat": complex64, "cdouble": complex128,
}  # fmt: skip
_COMPLEX_OF = {float32: complex64, float64: complex128}
_REAL_OF = {complex64: float32, complex128: float64}

_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    global _default_float
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def complex_of(d: dtype) -> dtype:
    """The complex dtype whose parts are ``d`` (float32 -> complex64); complex dtypes stay."""
    if d.is_complex:
        return d
    return _COMPLEX_OF.get(d) or _COMPLEX_OF[_default_float]


def real_of(d: dtype) -> dtype:
    """The real dtype of a complex dtype's parts (complex64 -> float32); real dtypes stay."""
    return _REAL_OF.get(d, d)


def from_numpy(np_dtype: np.dtype) -> dtype:
    """The engine dtype that stores ``np_dtype`` (narrower ints and floats widen)."""
    np_dtype = np.dtype(np_dtype)
    found = _BY_NUMPY.get(np_dtype)
    if found is not None:
        return found
    if np_dtype.kind in "iu":
        return int64
    if np_dtype.kind == "f":
        return float32 if np_dtype.itemsize <= 4 else float64
    if np_dtype.kind == "c":
        return complex64 if np_dtype.itemsize <= 8 else complex128
    raise TypeError(f"unsupported array dtype {np_dtype}; expected bool, integer, float or complex")


def _wider(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        high, low = (a, b) if a.category > b.category else (b, a)
        if high.is_complex and low.is_floating_point and low.itemsize > real_of(high).itemsize:
            return complex_of(low)  # torch: complex64 with a float64 tensor gives complex128
        return high
    return a if a.itemsize >= b.itemsize else b


def _scalar_category(value: object) -> int:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, complex):
        return COMPLEX
    return FLOAT


def result_type(tensor_dtypes: list[tuple[dtype, bool]], scalars: tuple = ()) -> dtype:
    """torch's promotion for operands ``[(dtype, is_zero_dim), ...]`` plus Python scalars.

    Dimensioned tensors outrank 0-d tensors, which outrank Python scalars, unless a
    lower-priority operand belongs to a higher category (bool < int < float); then
    that category's default type is used (a float scalar promotes ints to the default
    float dtype, a 0-d float64 promotes an int tensor to float64).
    """
    dim = zero = None
    for d, is_zero in tensor_dtypes:
        if is_zero:
            zero = d if zero is None else _wider(zero, d)
        else:
            dim = d if dim is None else _wider(dim, d)
    result = dim
    if zero is not None and (result is None or zero.category > result.category):
        # a 0-d complex tensor makes a float tensor complex at the float tensor's width
        result = complex_of(result) if zero.is_complex and result is not None and result.is_floating_point else zero
    for s in scalars:
        cat = _scalar_category(s)
        if result is None or cat > result.category:
            if cat == COMPLEX:  # a complex scalar keeps a float tensor's width
                wide = result is not None and result.is_floating_point
                result = complex_of(result) if wide else complex_of(_default_float)
            else:
                result = {BOOL: bool_, INT: int64, FLOAT: _default_float}[cat]
    return result


def resolve(d: object) -> dtype:
    """Accept an engine dtype, a NumPy dtype or a name; raise a clear TypeError otherwise."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str) and d in _ALIASES:
        return _ALIASES[d]
    try:
        return from_numpy(np.dtype(d))
    except TypeError as exc:
        raise TypeError(f"unknown dtype {d!r}; expected one of {', '.join(map(repr, ALL))}") from exc


# torch's scalar type names, as its messages print them ("expected scalar type Float").
_SCALAR_TYPE_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
    "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
    "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}  # fmt: skip


def scalar_type_name(np_dtype: object, default: str | None = None) -> str:
    """torch's name of a dtype in messages (Float, Double, Long, Bool, ...); unknown dtypes give
    ``default``, or NumPy's name."""
    name = np.dtype(np_dtype).name
    return _SCALAR_TYPE_NAMES.get(name, name if default is None else default)
