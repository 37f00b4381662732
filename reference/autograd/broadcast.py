"""The one place where broadcasting is undone.

Every backward rule returns its gradients in the shape of the op's output; the
engine calls :func:`to_input` to bring each one to its input's shape and dtype:
summing over broadcast dimensions, or expanding a gradient that is smaller than
the input (how sum and mean hand their gradient back).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _reduce_axes(grad_shape: tuple, shape: tuple) -> tuple | None:
    """Axes to sum so that ``grad_shape`` becomes ``shape``; None if it does not broadcast to it."""
    lead = len(grad_shape) - len(shape)
    if lead < 0:
        return None
    axes = list(range(lead))
    for i, n in enumerate(shape):
        g = grad_shape[lead + i]
        if n == g:
            continue
        if n != 1:
            return None
        axes.append(lead + i)
    return tuple(axes)


def sum_to_shape(grad: Any, shape: tuple) -> Any:
    """Sum ``grad`` (array or Tensor) over the dimensions along which ``shape`` was broadcast.

    On Tensors (create_graph) this records what torch's ``sum_to`` records: ``sum()`` for a
    0-d target, else one keepdim ``sum`` over the reduced dims, then a ``view`` only if
    leading dims were added."""
    axes = _reduce_axes(tuple(grad.shape), shape)
    if axes is None:
        raise RuntimeError(f"gradient of shape {tuple(grad.shape)} cannot be reduced to input shape {shape}")
    if not shape:
        total = grad.sum()
        return np.asarray(total) if isinstance(total, np.generic) else total  # NumPy sums to a scalar
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape) if len(grad.shape) != len(shape) else grad


def to_input(grad: Any, shape: tuple, np_dtype: np.dtype) -> Any:
    """Bring an output-shaped gradient to an input's ``shape`` and dtype."""
    if isinstance(grad, np.generic):  # NumPy turns 0-d results into scalars
        grad = np.asarray(grad)
    if type(grad) is np.ndarray:
        if grad.shape != shape:
            if _reduce_axes(grad.shape, shape) is not None:
                grad = sum_to_shape(grad, shape)
            else:
                grad = np.broadcast_to(grad, shape)
        if grad.dtype != np_dtype:
            if grad.dtype.kind == "c" and np_dtype.kind != "c":
                grad = grad.real  # a real input's gradient is the real part (torch's handle_r_to_c)
            grad = grad.astype(np_dtype)
        return grad
    # A Tensor: backward is being recorded (create_graph=True), so use differentiable ops.
    from reference import dtypes

    if tuple(grad.shape) != shape:
        grad = sum_to_shape(grad, shape) if _reduce_axes(tuple(grad.shape), shape) is not None else grad.expand(shape)
    target = dtypes.from_numpy(np_dtype)
    if grad.dtype is not target:
        if grad.dtype.is_complex and not target.is_complex:
            grad = grad.real
        grad = grad.to(target)
    return grad
