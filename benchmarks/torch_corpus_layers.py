"""Custom ``torch.autograd.Function``s of the torch corpus: reductions, broadcasting, linear
algebra, layers and functions with constant inputs (benchmarks/torch_corpus.py lists them).

Each backward is written by hand and is right. Constants (``dim``, masks, weights, integer
targets) get ``None`` as their gradient.
"""

from __future__ import annotations

import math

import torch
from torch.autograd import Function


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = torch.softmax(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = torch.log_softmax(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - torch.exp(y) * grad.sum(ctx.dim, keepdim=True), None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, dim, keepdim):
        out = torch.logsumexp(x, dim, keepdim=True)
        ctx.save_for_backward(x, out)
        ctx.dim, ctx.keepdim = dim, keepdim
        return out if keepdim else out.squeeze(dim)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            grad = grad.unsqueeze(ctx.dim)
        return grad * torch.exp(x - out), None, None


class CrossEntropy(Function):
    """Mean cross-entropy of logits (B, C) against integer targets (B,), a constant LongTensor."""

    @staticmethod
    def forward(ctx, logits, targets):
        log_p = torch.log_softmax(logits, 1)
        ctx.save_for_backward(log_p, targets)
        return -log_p.gather(1, targets.unsqueeze(1)).mean()

    @staticmethod
    def backward(ctx, grad):
        log_p, targets = ctx.saved_tensors
        one_hot = torch.zeros_like(log_p).scatter(1, targets.unsqueeze(1), 1.0)
        return grad * (torch.exp(log_p) - one_hot) / log_p.shape[0], None


class WeightedMSE(Function):
    """mean(w (x - y)^2) with constant weights w."""

    @staticmethod
    def forward(ctx, x, y, w):
        d = x - y
        ctx.save_for_backward(d, w)
        return (w * d * d).mean()

    @staticmethod
    def backward(ctx, grad):
        d, w = ctx.saved_tensors
        gx = grad * 2 * w * d / d.numel()
        return gx, -gx, None


class MaskedMeanSquare(Function):
    """The mean of x^2 over the elements where a constant boolean mask is set."""

    @staticmethod
    def forward(ctx, x, mask):
        m = mask.to(x.dtype)
        ctx.save_for_backward(x, m)
        return (x * x * m).sum() / m.sum()

    @staticmethod
    def backward(ctx, grad):
        x, m = ctx.saved_tensors
        return grad * 2 * x * m / m.sum(), None


class CosineSimilarity(Function):
    """Row-wise cosine similarity of a and b (B, n)."""

    @staticmethod
    def forward(ctx, a, b):
        na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
        out = (a * b).sum(-1, keepdim=True) / (na * nb)
        ctx.save_for_backward(a, b, na, nb, out)
        return out.squeeze(-1)

    @staticmethod
    def backward(ctx, grad):
        a, b, na, nb, out = ctx.saved_tensors
        g = grad.unsqueeze(-1)
        return g * (b / (na * nb) - out * a / na**2), g * (a / (na * nb) - out * b / nb**2)


class PairwiseSqDist(Function):
    """D[i, j] = |x_i - y_j|^2 for x (n, d) and y (m, d)."""

    @staticmethod
    def forward(ctx, x, y):
        diff = x[:, None, :] - y[None, :, :]
        ctx.save_for_backward(diff)
        return (diff * diff).sum(-1)

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        weighted = 2 * grad.unsqueeze(-1) * diff
        return weighted.sum(1), -weighted.sum(0)


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b.T, a.T @ grad


class Outer(Function):
    @staticmethod
    def forward(ctx, u, v):
        ctx.save_for_backward(u, v)
        return u[:, None] * v[None, :]

    @staticmethod
    def backward(ctx, grad):
        u, v = ctx.saved_tensors
        return grad @ v, grad.T @ u


class Linear(Function):
    """x @ W.T + b, the bias broadcast over the batch."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return grad @ weight, grad.T @ x, grad.sum(0)


class BatchedBilinear(Function):
    """out[b] = x[b] @ A[b] @ y[b] for x (B, n), A (B, n, m), y (B, m)."""

    @staticmethod
    def forward(ctx, x, a, y):
        ctx.save_for_backward(x, a, y)
        return torch.einsum("bi,bij,bj->b", x, a, y)

    @staticmethod
    def backward(ctx, grad):
        x, a, y = ctx.saved_tensors
        gx = grad[:, None] * torch.einsum("bij,bj->bi", a, y)
        ga = grad[:, None, None] * x[:, :, None] * y[:, None, :]
        gy = grad[:, None] * torch.einsum("bi,bij->bj", x, a)
        return gx, ga, gy


class LayerNorm(Function):
    """Layer norm over the last dim with an affine weight and bias, written by hand."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean(-1, keepdim=True)
        std = torch.sqrt(((x - mean) ** 2).mean(-1, keepdim=True) + eps)
        xhat = (x - mean) / std
        ctx.save_for_backward(xhat, std, weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad):
        xhat, std, weight = ctx.saved_tensors
        gxhat = grad * weight
        mean_g = gxhat.mean(-1, keepdim=True)
        mean_gx = (gxhat * xhat).mean(-1, keepdim=True)
        gx = (gxhat - mean_g - xhat * mean_gx) / std
        return gx, (grad * xhat).sum(0), grad.sum(0), None


class Attention(Function):
    """softmax(q k^T / sqrt(d)) v for one small head: q, k, v (L, d)."""

    @staticmethod
    def forward(ctx, q, k, v):
        p = torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), -1)
        ctx.save_for_backward(q, k, v, p)
        return p @ v

    @staticmethod
    def backward(ctx, grad):
        q, k, v, p = ctx.saved_tensors
        gp = grad @ v.T
        gs = p * (gp - (gp * p).sum(-1, keepdim=True)) / math.sqrt(q.shape[-1])
        return gs @ k, gs.T @ q, p.T @ grad


class Conv1d(Function):
    """Valid 1-D cross-correlation of x (B, C, L) with w (O, C, K), via unfold."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return torch.einsum("bclk,ock->bol", x.unfold(2, w.shape[2], 1), w)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        size, length = w.shape[2], grad.shape[2]
        gw = torch.einsum("bol,bclk->ock", grad, x.unfold(2, size, 1))
        gx = torch.zeros_like(x)
        for k in range(size):
            gx[:, :, k : k + length] += torch.einsum("bol,oc->bcl", grad, w[:, :, k])
        return gx, gw


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return x.cumsum(dim)

    @staticmethod
    def backward(ctx, grad):
        dim = ctx.dim
        return grad.flip(dim).cumsum(dim).flip(dim), None


class Prod(Function):
    """The product along ``dim`` (inputs kept away from zero)."""

    @staticmethod
    def forward(ctx, x, dim):
        out = x.prod(dim)
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return (grad * out).unsqueeze(ctx.dim) / x, None


class SumSquaresKeepdim(Function):
    """sum(x^2) along ``dim`` with keepdim."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        return (x * x).sum(dim, keepdim=True)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad, None


class Normalize(Function):
    """x / |x| along the last dim."""

    @staticmethod
    def forward(ctx, x):
        norm = x.norm(dim=-1, keepdim=True)
        y = x / norm
        ctx.save_for_backward(y, norm)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, norm = ctx.saved_tensors
        return (grad - y * (grad * y).sum(-1, keepdim=True)) / norm


class BroadcastAffine(Function):
    """tanh(a * b + c) for a (3, 4), b (4,), c (3, 1)."""

    @staticmethod
    def forward(ctx, a, b, c):
        out = torch.tanh(a * b + c)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        gs = grad * (1 - out * out)
        return gs * b, (gs * a).sum(0), gs.sum(1, keepdim=True)


class RowColBias(Function):
    """(x + r + c)^2 for a square x (n, n), a row bias r (1, n) and a column bias c (n, 1)."""

    @staticmethod
    def forward(ctx, x, r, c):
        s = x + r + c
        ctx.save_for_backward(s)
        return s * s

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        gs = 2 * grad * s
        return gs, gs.sum(0, keepdim=True), gs.sum(1, keepdim=True)


class ExpScale(Function):
    """x * exp(w); computes only the gradients ``ctx.needs_input_grad`` asks for."""

    @staticmethod
    def forward(ctx, x, w):
        out = x * torch.exp(w)
        ctx.save_for_backward(w, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        w, out = ctx.saved_tensors
        gx = grad * torch.exp(w) if ctx.needs_input_grad[0] else None
        gw = grad * out if ctx.needs_input_grad[1] else None
        return gx, gw


class MulAdd(Function):
    """x * y + z; computes only the gradients ``ctx.needs_input_grad`` asks for."""

    @staticmethod
    def forward(ctx, x, y, z):
        ctx.save_for_backward(x, y)
        return x * y + z

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = grad * y if ctx.needs_input_grad[0] else None
        gy = grad * x if ctx.needs_input_grad[1] else None
        gz = grad if ctx.needs_input_grad[2] else None
        return gx, gy, gz
