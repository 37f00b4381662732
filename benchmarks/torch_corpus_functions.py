"""Custom ``torch.autograd.Function``s of the torch corpus: elementwise, saturating,
piecewise and multi-output ones (benchmarks/torch_corpus.py lists them with their inputs).

Each backward is written by hand, as a user would, and is right: the tests compare it with
torch autograd through the entry's reference. Constants (``beta``, ``dim``, ``slope``) come
after the tensors and get ``None`` as their gradient.
"""

from __future__ import annotations

import math

import torch
from torch.autograd import Function

GELU_K = math.sqrt(2.0 / math.pi)
GELU_C = 0.044715


class MySoftplus(Function):
    """log(1 + exp(beta x)) / beta: the project's headline example, ``MySoftplus.apply(x, 2.0)``."""

    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        ctx.beta = beta
        return torch.log1p(torch.exp(beta * x)) / beta

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.sigmoid(ctx.beta * x), None


class Swish(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = torch.sigmoid(x)
        return grad * s * (1 + x * (1 - s))


class GeluErf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2.0)))
        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad * (cdf + x * pdf)


class GeluTanh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * x * (1 + torch.tanh(GELU_K * (x + GELU_C * x**3)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = torch.tanh(GELU_K * (x + GELU_C * x**3))
        inner = GELU_K * (1 + 3 * GELU_C * x * x)
        return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner)


class Mish(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.tanh(torch.log1p(torch.exp(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = torch.tanh(torch.log1p(torch.exp(x)))
        return grad * (t + x * (1 - t * t) * torch.sigmoid(x))


class LogCosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.log(torch.cosh(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.tanh(x)


class SoftClamp(Function):
    """c tanh(x / c): saturates smoothly at +-c."""

    @staticmethod
    def forward(ctx, x, c):
        t = torch.tanh(x / c)
        ctx.save_for_backward(t)
        return c * t

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        return grad * (1 - t * t), None


class ExpSavedOutput(Function):
    """Saves its output for the backward (exp' = exp)."""

    @staticmethod
    def forward(ctx, x):
        out = torch.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class TanhSavedOutput(Function):
    @staticmethod
    def forward(ctx, x):
        out = torch.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class XSinX(Function):
    """x sin x: a product rule in the backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (torch.sin(x) + x * torch.cos(x))


class PiecewiseCubic(Function):
    """x^2 for x > 0, -x^3 / 3 otherwise: two branches, continuous derivative at 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x * x, -(x**3) / 3)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.where(x > 0, 2 * x, -x * x)


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return torch.where(x > 0, x, slope * x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.where(x > 0, torch.ones_like(x), torch.full_like(x, ctx.slope)), None


class Huber(Function):
    """Mean Huber loss of x - y: quadratic below ``delta``, linear above."""

    @staticmethod
    def forward(ctx, x, y, delta):
        d = x - y
        ctx.save_for_backward(d)
        ctx.delta = delta
        return torch.where(d.abs() < delta, 0.5 * d * d / delta, d.abs() - 0.5 * delta).mean()

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        gd = grad * torch.where(d.abs() < ctx.delta, d / ctx.delta, torch.sign(d)) / d.numel()
        return gd, -gd, None


class SinCos(Function):
    """Two outputs: (sin x, cos x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sin(x), torch.cos(x)

    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        (x,) = ctx.saved_tensors
        return grad_sin * torch.cos(x) - grad_cos * torch.sin(x)


class MeanVar(Function):
    """Two outputs: the mean and the biased variance along ``dim``."""

    @staticmethod
    def forward(ctx, x, dim):
        mean = x.mean(dim)
        ctx.save_for_backward(x, mean)
        ctx.dim = dim
        return mean, ((x - mean.unsqueeze(dim)) ** 2).mean(dim)

    @staticmethod
    def backward(ctx, grad_mean, grad_var):
        x, mean = ctx.saved_tensors
        dim, n = ctx.dim, x.shape[ctx.dim]
        centred = x - mean.unsqueeze(dim)
        return grad_mean.unsqueeze(dim) / n + grad_var.unsqueeze(dim) * 2 * centred / n, None


class MaxWithArgmax(Function):
    """The maximum along ``dim`` and its index: an integer output, marked non-differentiable."""

    @staticmethod
    def forward(ctx, x, dim):
        values, indices = x.max(dim)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.dim, ctx.shape = dim, x.shape
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        dim = ctx.dim
        out = grad_values.new_zeros(ctx.shape)
        return out.scatter(dim, indices.unsqueeze(dim), grad_values.unsqueeze(dim)), None
