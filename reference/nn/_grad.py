"""Helpers for nn backward rules, which run on arrays or, with create_graph=True, on Tensors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reference.autograd.function import Function, apply


def tensor_mode(x: Any) -> bool:
    """Whether a backward rule is being recorded (its gradient is a Tensor, not an array)."""
    return type(x) is not np.ndarray and hasattr(x, "_grad_fn")


def zeros(shape: tuple, dtype: np.dtype, like: Any) -> Any:
    """Zeros of ``shape``: a Tensor when ``like`` is one (arrays and Tensors must not mix in sums)."""
    z = np.zeros(shape, dtype)
    if tensor_mode(like):
        from reference.tensor import Tensor

        return Tensor._make(z)
    return z


def constant(value: np.ndarray, like: Any) -> Any:
    """An array as a Tensor constant when ``like`` is a Tensor (so ``Tensor * constant`` stays
    a Tensor); the array itself otherwise."""
    if tensor_mode(like):
        from reference.tensor import Tensor

        return Tensor._make(value)
    return value


class LinearInGrad(Function):
    """The recorded backward of an op whose gradient is ``linear(g)`` with coefficients that
    are constant in the input x (piecewise-linear activations, nll_loss). Recorded with inputs
    ``(g, x)``, as torch records ``ThresholdBackwardBackward0`` and friends: the first-order
    gradient then requires grad like torch's, and its derivative in x is exactly zero."""

    @staticmethod
    def forward(ctx, g, *others, linear, adjoint):
        ctx.linear, ctx.adjoint = linear, adjoint
        ctx.others = tuple((x.shape, x.dtype) for x in others)
        return linear(g)

    @staticmethod
    def backward(ctx, gg):
        return (ctx.adjoint(gg), *(zeros(*meta, like=gg) for meta in ctx.others))

    @staticmethod
    def jvp(ctx, tg, *others):
        return None if tg is None else ctx.linear(tg)


def linear_in_grad(name: str, g: Any, x: Any, linear: Callable, adjoint: Callable | None = None) -> Any:
    """``linear(g)``; while a backward is recorded, as node ``name`` connected to ``g`` and to
    ``x`` (a Tensor, or a tuple of them: the op's inputs torch's double-backward node takes).
    ``adjoint`` is the transpose of ``linear`` (default: ``linear`` itself, a diagonal map)."""
    if not tensor_mode(g):
        return linear(g)
    others = x if isinstance(x, tuple) else (x,)
    return apply(LinearInGrad, name, (g, *others), linear=linear, adjoint=adjoint or linear)
