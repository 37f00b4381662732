"""What reductions share: the axes they reduce, the shape a reduced result has with
keepdim, and the argument checks torch makes before reducing."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.ops.operands import normalize_dim, normalize_dims

QUIET = {"all": "ignore"}  # like torch, reductions give inf/nan silently


def kept_shape(shape: tuple, axes: tuple) -> tuple:
    """``shape`` with the reduced ``axes`` kept as size 1 (how backward sees the output)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduced_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def axes_of(dim: Any, ndim: int) -> tuple[int, ...]:
    """Sorted non-negative axes of a dim, a sequence of dims, or None/() for all dims."""
    return normalize_dims(dim, ndim)


def int_dim(fn_name: str, dim: Any, position: int = 1) -> int:
    """An ``int dim`` argument, with torch's message for anything else."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{fn_name}(): argument 'dim' (position {position}) must be int, not {type(dim).__name__}")
    return int(dim)


def one_axis(dim: int, ndim: int) -> int | None:
    """The axis of an int dim; None for a 0-d tensor (dim 0 or -1 names the tensor itself)."""
    axis = normalize_dim(dim, ndim)
    return axis if ndim else None


def keep_or_drop(arr: np.ndarray, axes: tuple, keepdim: bool) -> np.ndarray:
    """A result computed with keepdims=True, shaped as the caller asked."""
    return arr if keepdim else arr.reshape(reduced_shape(arr.shape, axes))


def torch_type_name(np_dtype: np.dtype) -> str:
    """torch's scalar type name in messages: Long, Bool, Float, Double."""
    return dtypes.scalar_type_name(np_dtype)


def require_float(message_prefix: str, arr: np.ndarray) -> None:
    if arr.dtype.kind != "f":
        raise RuntimeError(f"{message_prefix}{torch_type_name(arr.dtype)}")


def refuse_complex(input: Any, kernel: str) -> None:
    """torch has no order on complex numbers: its CPU kernels refuse complex input. ``kernel``
    is torch's kernel name ("max_values_cpu": NotImplementedError, a RuntimeError) or a
    whole message (RuntimeError)."""
    dtype = input._data.dtype
    if dtype.kind != "c":
        return
    if " " in kernel:
        raise RuntimeError(kernel)
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{torch_type_name(dtype)}'")


def missing_dim(fn_name: str) -> TypeError:
    return TypeError(f'{fn_name}() missing 1 required positional arguments: "dim"')


def autograd_dtype_check(input: Any, np_dtype: Any) -> None:
    """torch refuses a non-float result dtype for an input that requires grad."""
    if np_dtype is None:
        return
    from reference.grad_mode import is_grad_enabled

    if np.dtype(np_dtype).kind not in "fc" and input.requires_grad and is_grad_enabled():
        raise RuntimeError(f"Autograd not support dtype: {torch_type_name(np_dtype)}")


def as_constant(mask: np.ndarray, like: Any) -> np.ndarray:
    """A mask or weight array in the dtype of ``like`` (an array or a Tensor), so that
    multiplying a gradient by it never promotes the gradient."""
    dtype = like._data.dtype if hasattr(like, "_grad_fn") else like.dtype
    return mask.astype(dtype, copy=False)


def cast(x: Any, np_dtype: Any) -> Any:
    """``x`` (array or Tensor) in ``np_dtype``; None keeps it. Ops with a ``dtype=`` argument
    save their *input* and cast it again in backward, so that with create_graph the saved
    value is still the differentiable input (torch records no ToCopy node for them)."""
    if np_dtype is None:
        return x
    if hasattr(x, "_grad_fn"):
        from reference import dtypes

        target = dtypes.from_numpy(np.dtype(np_dtype))
        return x if x.dtype is target else x.to(target)
    return x if x.dtype == np_dtype else x.astype(np_dtype)


is_tensor = xp.is_tensor  # true while a backward is being recorded (create_graph=True)
