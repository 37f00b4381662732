"""Activations and dropout: relu, leaky_relu, hardtanh, elu, gelu, silu, softplus, dropout.

Kinked activations follow torch at their kinks: relu'(0) = 0, leaky_relu'(0) = negative_slope,
hardtanh' = 0 at both bounds, elu'(0) = alpha (and elu''(0) = 0). Their recorded backward
(create_graph=True) is a node connected to the input, as torch's ``*BackwardBackward0`` are.
"""

from __future__ import annotations

import math

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.nn._grad import linear_in_grad, tensor_mode
from reference.ops.pointwise._common import keep_where

QUIET = {"all": "ignore"}


def _float_only(input, kernel: str) -> None:
    """torch's activations other than relu and hardtanh have no integer kernels."""
    kind = input._data.dtype.kind
    if kind != "f":
        name = {"i": "Long", "b": "Bool", "u": "Byte"}.get(kind, input._data.dtype.name)
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


# -- piecewise-linear: relu, leaky_relu, hardtanh ------------------------------------------------


class PiecewiseLinear(Function):
    """y = where(mask, x, slope * x) style ops: the gradient is g where ``mask``, else g * slope."""

    @staticmethod
    def forward(ctx, a, out, mask, slope, grad_node, save_output=False):
        # relu saves its result, as torch's ReluBackward0 does (an in-place change of the input
        # after relu then does not fail backward); the others save their input
        ctx.save_for_backward(out if save_output else a)
        ctx.mask, ctx.slope, ctx.grad_node = mask, slope, grad_node
        return out

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        mask, slope = ctx.mask, ctx.slope
        return linear_in_grad(ctx.grad_node, g, a, lambda v: _masked_slope(mask, v, slope))

    @staticmethod
    def jvp(ctx, t):
        return _masked_slope(ctx.mask, t, ctx.slope)


def _masked_slope(mask, v, slope):
    """``v`` where ``mask``, else ``v * slope`` (exactly 0 for a zero slope: a nan in ``v`` does not leak)."""
    if not slope:
        return keep_where(mask, v)
    return xp.where(mask, v, v * slope)


def relu(input, inplace=False):
    a = input._data
    # torch's threshold_backward passes the gradient where not (x <= 0): nan inputs included
    mask = ~(a <= 0)
    out = np.maximum(0, a)  # keeps -0.0 and nan, as torch
    return apply(
        PiecewiseLinear, "ReluBackward0", (input,), out=out, mask=mask, slope=0,
        grad_node="ThresholdBackwardBackward0", save_output=True,
    )  # fmt: skip


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _float_only(input, "leaky_relu_cpu")
    a = input._data
    mask = a > 0
    with np.errstate(**QUIET):
        out = np.where(mask, a, a * a.dtype.type(negative_slope))
    return apply(
        PiecewiseLinear, "LeakyReluBackward0", (input,),
        out=out, mask=mask, slope=negative_slope, grad_node="LeakyReluBackwardBackward0",
    )  # fmt: skip


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    a = input._data
    out = np.minimum(np.maximum(a, a.dtype.type(min_val)), a.dtype.type(max_val))
    mask = ~((a <= min_val) | (a >= max_val))  # zero gradient at both bounds, as torch
    return apply(
        PiecewiseLinear,
        "HardtanhBackward0",
        (input,),
        out=out,
        mask=mask,
        slope=0,
        grad_node="HardtanhBackwardBackward0",
    )


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0)


# -- smooth activations: the derivative is written once, on arrays or Tensors -------------------


class Smooth(Function):
    """y = f(x), with f' given as ``slope(x)`` that works on arrays and on Tensors (so the
    backward of the backward comes from recording ``g * slope(x)``)."""

    @staticmethod
    def forward(ctx, a, value, slope):
        ctx.save_for_backward(a)
        ctx.slope = slope
        with np.errstate(**QUIET):
            return value(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * ctx.slope(a)

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved_tensors
        return t * ctx.slope(a)


def _sigmoid(x):
    """1 / (1 + exp(-x)) on arrays or Tensors (reference.sigmoid when the engine has it)."""
    if tensor_mode(x):
        import reference

        if hasattr(reference, "sigmoid"):
            return reference.sigmoid(x)
        return (xp.exp(-x) + 1.0).reciprocal()
    with np.errstate(**QUIET):
        return 1.0 / (1.0 + np.exp(-x))


def _erf(x):
    """The error function on arrays or Tensors (the engine's, from the pointwise family)."""
    import reference
    from reference.ops import pointwise

    if tensor_mode(x):
        return reference.erf(x)
    return pointwise.erf_array(x)


def _elu_slope(alpha: float):
    def slope(x):
        # torch: alpha * exp(x) for x <= 0 (so elu'(0) = alpha) but elu''(0) = 0: the exponent
        # is where(x < 0, x, 0), constant at and above 0
        d = xp.data(x)
        negative = xp.where(d < 0, x, 0.0)
        return xp.where(d <= 0, xp.exp(negative) * alpha, 1.0)

    return slope


def elu(input, alpha=1.0, inplace=False):
    _float_only(input, "elu_cpu")
    dt = input._data.dtype.type

    def value(a):
        return np.where(a <= 0, np.expm1(a) * dt(alpha), a)

    return apply(Smooth, "EluBackward0", (input,), value=value, slope=_elu_slope(alpha))


def silu(input, inplace=False):
    _float_only(input, "silu_cpu")

    def slope(x):
        s = _sigmoid(x)
        return s * (x * (1.0 - s) + 1.0)

    return apply(Smooth, "SiluBackward0", (input,), value=lambda a: a * _sigmoid(a), slope=slope)


def softplus(input, beta=1.0, threshold=20.0):
    _float_only(input, "softplus_cpu")
    dt = input._data.dtype.type

    def value(a):
        scaled = a * dt(beta)
        return np.where(scaled > threshold, a, np.log1p(np.exp(scaled)) / dt(beta))

    def slope(x):
        # 1 above the threshold (where torch returns x itself); torch's softplus'' is 0 from the
        # threshold on (at it too), so there the sigmoid's argument is held constant
        d = xp.data(x)
        held = xp.where(d * beta >= threshold, d, x) if tensor_mode(x) else x
        return xp.where(d * beta > threshold, 1.0, _sigmoid(held * beta))

    return apply(Smooth, "SoftplusBackward0", (input,), value=value, slope=slope)


SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
GELU_CUBIC = 0.044715


def _gelu_tanh_inner(x):
    return (x * x * x * GELU_CUBIC + x) * SQRT_2_OVER_PI


def _gelu_value(approximate: str):
    if approximate == "tanh":
        return lambda a: a * 0.5 * (1.0 + np.tanh(_gelu_tanh_inner(a)))
    return lambda a: a * 0.5 * (1.0 + _erf(a * INV_SQRT_2))


def _gelu_slope(approximate: str):
    if approximate == "tanh":

        def slope(x):
            t = xp.tanh(_gelu_tanh_inner(x))
            inner_slope = (x * x * (3.0 * GELU_CUBIC) + 1.0) * SQRT_2_OVER_PI
            return (t + 1.0) * 0.5 + x * 0.5 * (1.0 - t * t) * inner_slope

        return slope

    def slope(x):
        cdf = (_erf(x * INV_SQRT_2) + 1.0) * 0.5
        pdf = xp.exp(x * x * -0.5) * INV_SQRT_2PI
        return cdf + x * pdf

    return slope


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _float_only(input, "GeluKernelImpl")
    return apply(Smooth, "GeluBackward0", (input,), value=_gelu_value(approximate), slope=_gelu_slope(approximate))


# -- dropout ---------------------------------------------------------------------------------


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    The mask comes from ``reference.manual_seed``'s generator (NumPy PCG64), so it is
    reproducible but is not torch's: element i is kept when
    ``default_generator.rng.random(input.shape)[i] < 1 - p``. As on torch's CPU path, the
    result is ``input * noise`` (node MulBackward0), noise = keep / (1 - p) in the input's
    dtype; with p = 1 it is ``input * 0``; with p = 0 or ``training=False`` the input itself.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if inplace:
        raise NotImplementedError("reference.nn.functional.dropout: inplace=True is not supported")
    if p == 0 or not training or input._data.size == 0:
        return input
    from reference.creation import default_generator
    from reference.tensor import Tensor

    dt = input._data.dtype
    if p == 1:
        return input * Tensor._make(np.zeros((), dt))
    keep = np.asarray(np.asarray(default_generator.rng.random(input._data.shape)) < 1.0 - p)
    noise = np.asarray(keep.astype(dt) / dt.type(1.0 - p))
    return input * Tensor._make(noise)
