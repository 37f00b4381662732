"""More activations: mish, selu, celu, logsigmoid, hardswish, hardsigmoid, softshrink,
hardshrink, softsign, tanhshrink, softmin, glu, prelu.

Values and gradients at the switch points are torch 2.13's (observed): hardswish' = 0 at -3
and 1 at 3, hardsigmoid' = 0 at both +-3, soft/hardshrink' = 0 at +-lambd, prelu' = weight at
0. softsign, tanhshrink and softmin are composites in torch and are composed the same way here.
"""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.nn._grad import constant, linear_in_grad, tensor_mode
from reference.nn.activation import QUIET, Smooth, _elu_slope, _float_only, _sigmoid

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SIXTH_FLOAT32 = float(np.float32(1.0 / 6.0))


# -- smooth activations (first derivative continuous) ------------------------------------------


def _softplus(x):
    """log(1 + exp(x)): stable on arrays; on Tensors (recorded backward) the plain formula."""
    if tensor_mode(x):
        return xp.log1p(xp.exp(x))
    return np.logaddexp(0.0, x)


def mish(input, inplace=False):
    _float_only(input, "mish_cpu")

    def slope(x):
        t = xp.tanh(_softplus(x))
        return t + x * _sigmoid(x) * (1.0 - t * t)

    return apply(Smooth, "MishBackward0", (input,), value=lambda a: a * np.tanh(_softplus(a)), slope=slope)


def selu(input, inplace=False):
    """scale * elu(x, alpha): torch records EluBackward0 (elu with a scale)."""
    _float_only(input, "elu_cpu")
    dt = input._data.dtype.type
    elu_slope = _elu_slope(SELU_ALPHA)

    def value(a):
        return np.where(a <= 0, np.expm1(a) * dt(SELU_ALPHA * SELU_SCALE), a * dt(SELU_SCALE))

    return apply(Smooth, "EluBackward0", (input,), value=value, slope=lambda x: elu_slope(x) * SELU_SCALE)


def celu(input, alpha=1.0, inplace=False):
    """elu with input scale 1/alpha: celu'(0) = 1, and celu''(0) = 0 as torch gives it."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    _float_only(input, "elu_cpu")
    dt = input._data.dtype.type

    def value(a):
        return np.where(a <= 0, np.expm1(a / dt(alpha)) * dt(alpha), a)

    def slope(x):
        d = xp.data(x)
        negative = xp.where(d < 0, x, 0.0)  # exponent held constant from 0 on: celu''(0) = 0
        return xp.where(d <= 0, xp.exp(negative * (1.0 / alpha)), 1.0)

    return apply(Smooth, "CeluBackward0", (input,), value=value, slope=slope)


def logsigmoid(input):
    _float_only(input, "log_sigmoid_forward")
    return apply(
        Smooth, "LogSigmoidBackward0", (input,), value=lambda a: -np.logaddexp(0.0, -a), slope=lambda x: _sigmoid(-x)
    )


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6. torch's gradient: 0 up to -3 (at -3 too), x/3 + 1/2 below 3, then 1;
    its second derivative is 0 at both switch points (the middle branch is strict there)."""
    _float_only(input, "hardswish_cpu")
    dt = input._data.dtype.type

    def value(a):
        return a * np.minimum(np.maximum(a + dt(3), dt(0)), dt(6)) / dt(6)

    def slope(x):
        d = xp.data(x)
        return xp.where(d <= -3, 0.0, xp.where(d < 3, x * (1.0 / 3.0) + 0.5, 1.0))

    return apply(Smooth, "HardswishBackward0", (input,), value=value, slope=slope)


# -- piecewise-constant slopes -------------------------------------------------------------------


class ConstantSlope(Function):
    """y = f(x) whose derivative ``slope`` (an array) is constant in x between switch points.
    The recorded backward is node ``grad_node`` on (g, x), as torch's ``*BackwardBackward0``;
    ``no_double`` names the torch op whose derivative torch does not implement."""

    @staticmethod
    def forward(ctx, a, out, slope, grad_node, no_double=None):
        ctx.save_for_backward(a)
        ctx.slope, ctx.grad_node, ctx.no_double = slope, grad_node, no_double
        return out

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        slope = ctx.slope

        def linear(v):
            return v * constant(slope, v)

        adjoint = linear if ctx.no_double is None else _not_implemented(ctx.no_double)
        return linear_in_grad(ctx.grad_node, g, a, linear, adjoint)

    @staticmethod
    def jvp(ctx, t):
        return t * ctx.slope


def _not_implemented(name: str):
    def fail(_):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")

    return fail


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6; gradient ~1/6 strictly inside (-3, 3), 0 at and beyond. torch has no
    derivative of hardsigmoid_backward: differentiating the recorded gradient raises, as there."""
    _float_only(input, "hardsigmoid_cpu")
    a = input._data
    dt = a.dtype.type
    out = np.minimum(np.maximum(a + dt(3), dt(0)), dt(6)) / dt(6)
    # torch's kernel uses 1/6 rounded to float32 for float64 too (observed: 0.1666666716337204)
    slope = np.where((a > -3) & (a < 3), dt(SIXTH_FLOAT32), dt(0)).astype(a.dtype)
    return apply(
        ConstantSlope, "HardsigmoidBackward0", (input,), out=out, slope=slope,
        grad_node="NotImplemented", no_double="hardsigmoid_backward",
    )  # fmt: skip


def _shrink_slope(a, lambd: float):
    """1 outside [-lambd, lambd], 0 inside and at both ends (torch)."""
    return np.where((a >= -lambd) & (a <= lambd), 0, 1).astype(a.dtype)


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")  # torch's check
    _float_only(input, "softshrink_cpu")
    a = input._data
    lam = a.dtype.type(lambd)
    with np.errstate(**QUIET):
        out = np.where(a > lam, a - lam, np.where(a < -lam, a + lam, a * 0))  # x * 0 inside: -0.0 kept
    return apply(
        ConstantSlope, "SoftshrinkBackward0", (input,), out=out, slope=_shrink_slope(a, lambd),
        grad_node="SoftshrinkBackwardBackward0",
    )  # fmt: skip


def hardshrink(input, lambd=0.5):
    _float_only(input, "hardshrink_cpu")
    a = input._data
    slope = _shrink_slope(a, lambd)
    out = np.where(slope.astype(bool), a, a.dtype.type(0))
    return apply(
        ConstantSlope, "HardshrinkBackward0", (input,), out=out, slope=slope, grad_node="HardshrinkBackwardBackward0"
    )


# -- composites in torch ---------------------------------------------------------------------


def softsign(input):
    """x / (1 + |x|): DivBackward0 over AddBackward0 over AbsBackward0, as torch composes it."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    import reference

    if dim is None:
        raise NotImplementedError("reference.nn.functional.softmin: give dim (the implicit dim is deprecated)")
    if dtype is not None:
        input = input.to(dtype)
    return reference.softmax(-input, dim)


# -- glu -----------------------------------------------------------------------------------------


def _halves(x, dim: int):
    if tensor_mode(x):
        return x.chunk(2, dim)
    return np.split(x, 2, axis=dim)


def _join(parts, dim: int):
    if tensor_mode(parts[0]):
        import reference

        return reference.cat(list(parts), dim)
    return np.concatenate(parts, axis=dim)


class Glu(Function):
    """a * sigmoid(b), (a, b) the halves of x along ``dim``."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        a, b = _halves(x, dim)
        return a * _sigmoid(b)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        a, b = _halves(x, ctx.dim)
        s = _sigmoid(b)
        return _join((g * s, g * a * s * (1.0 - s)), ctx.dim)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        a, b = _halves(x, ctx.dim)
        ta, tb = _halves(t, ctx.dim)
        s = _sigmoid(b)
        return ta * s + a * s * (1.0 - s) * tb


def glu(input, dim=-1):
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    dim %= ndim
    size = input._data.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    _float_only(input, "glu_cpu")
    return apply(Glu, "GluBackward0", (input,), dim=dim)


# -- prelu -------------------------------------------------------------------------------------


class PreluKernel(Function):
    """where(x > 0, x, w * x), w broadcast against x; at x = 0 the gradient is w (torch)."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return np.where(x > 0, x, w * x)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        if tensor_mode(g):  # torch's PreluKernelBackwardBackward0, with its own masks
            gx = apply(PreluGradInput, "PreluKernelBackwardBackward0", (g, x, w)) if need[0] else None
            gw = apply(PreluGradWeight, "PreluKernelBackwardBackward0", (g, x)) if need[1] else None
            return gx, gw
        positive = x > 0
        return (np.where(positive, g, w * g) if need[0] else None), (np.where(positive, 0, x * g) if need[1] else None)

    @staticmethod
    def jvp(ctx, tx, tw):
        x, w = ctx.saved_tensors
        out = 0 if tx is None else np.where(x > 0, tx, w * tx)
        return out if tw is None else out + np.where(x > 0, 0, tw * x)


def _masks(x, like):
    """(x >= 0, x < 0) as constants of ``like``'s kind: torch's double backward of prelu
    counts x = 0 with the positive side, although its first derivative there is w."""
    d = xp.data(x)
    return constant((d >= 0).astype(d.dtype), like), constant((d < 0).astype(d.dtype), like)


class PreluGradInput(Function):
    """The input gradient where(x > 0, g, w * g) as a function of (g, x, w)."""

    @staticmethod
    def forward(ctx, g, x, w):
        ctx.save_for_backward(g, x, w)
        return np.where(x > 0, g, w * g)

    @staticmethod
    def backward(ctx, gg):
        g, x, w = ctx.saved_tensors
        ge, lt = _masks(x, gg)
        return gg * ge + gg * w * lt, gg * 0.0, gg * g * lt

    @staticmethod
    def jvp(ctx, tg, tx, tw):
        g, x, w = ctx.saved_tensors
        ge, lt = _masks(x, g)
        out = 0 if tg is None else tg * ge + tg * w * lt
        return out if tw is None else out + tw * g * lt


class PreluGradWeight(Function):
    """The weight gradient where(x > 0, 0, x * g) (before the reduction to w's shape)."""

    @staticmethod
    def forward(ctx, g, x):
        ctx.save_for_backward(g, x)
        return np.where(x > 0, 0, x * g).astype(np.result_type(g, x))

    @staticmethod
    def backward(ctx, gg):
        g, x = ctx.saved_tensors
        _, lt = _masks(x, gg)
        return gg * x * lt, gg * g * lt

    @staticmethod
    def jvp(ctx, tg, tx):
        g, x = ctx.saved_tensors
        _, lt = _masks(x, g)
        out = 0 if tg is None else tg * x * lt
        return out if tx is None else out + tx * g * lt


def prelu(input, weight):
    """torch views a 1-element or per-channel (dim 1) weight to broadcast against the input
    (ViewBackward0) unless the ranks already agree, then runs _prelu_kernel."""
    if weight._data.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight._data.ndim}")
    ndim, count = input._data.ndim, weight._data.size
    if count != 1:
        channels = input._data.shape[1] if ndim >= 2 else 1
        if count != channels:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. "
                f"Found parameter numbers = {count} and channel size = {channels}."
            )
    if weight._data.ndim != ndim:
        shape = [1] * ndim
        if ndim >= 2:
            shape[1] = count
        weight = weight.reshape(*shape) if shape else weight.reshape(())
    return apply(PreluKernel, "PreluKernelBackward0", (input, weight))
