"""The planted wrong backwards of the torch corpus (benchmarks/torch_mutants.py lists them).

Each class subclasses a correct Function of torch_corpus_functions / torch_corpus_layers,
keeps its forward, and overrides the backward with a copy that has exactly one bug, the
kind of slip a user makes when writing a backward by hand. Scaled and offset gradients are
built generically in torch_mutants.py.
"""

from __future__ import annotations

import math

import torch
import torch_corpus_functions as fe
import torch_corpus_layers as fl

# -- sign-branch: one branch of a piecewise backward has the wrong sign


class PiecewiseCubicNegativeSign(fe.PiecewiseCubic):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.where(x > 0, 2 * x, x * x)  # d(-x^3/3) = -x^2


class LeakyReluNegativeSign(fe.LeakyRelu):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.where(x > 0, torch.ones_like(x), torch.full_like(x, -ctx.slope)), None


class HuberLinearSign(fe.Huber):
    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        gd = grad * torch.where(d.abs() < ctx.delta, d / ctx.delta, -torch.sign(d)) / d.numel()
        return gd, -gd, None


class HuberQuadraticSign(fe.Huber):
    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        gd = grad * torch.where(d.abs() < ctx.delta, -d / ctx.delta, torch.sign(d)) / d.numel()
        return gd, -gd, None


# -- missing-term: a product-rule or chain-rule term dropped


class XSinXMissingCos(fe.XSinX):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.sin(x)  # x cos x dropped


class MishMissingInner(fe.Mish):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.tanh(torch.log1p(torch.exp(x)))  # x tanh'(sp) sigmoid(x) dropped


class GeluTanhMissingCubic(fe.GeluTanh):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        t = torch.tanh(fe.GELU_K * (x + fe.GELU_C * x**3))
        return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * fe.GELU_K)  # d(c x^3) = 3 c x^2 dropped


class LayerNormMissingMean(fl.LayerNorm):
    @staticmethod
    def backward(ctx, grad):
        xhat, std, weight = ctx.saved_tensors
        gxhat = grad * weight
        mean_gx = (gxhat * xhat).mean(-1, keepdim=True)
        return (gxhat - xhat * mean_gx) / std, (grad * xhat).sum(0), grad.sum(0), None


class LayerNormMissingProjection(fl.LayerNorm):
    @staticmethod
    def backward(ctx, grad):
        xhat, std, weight = ctx.saved_tensors
        gxhat = grad * weight
        return (gxhat - gxhat.mean(-1, keepdim=True)) / std, (grad * xhat).sum(0), grad.sum(0), None


class NormalizeMissingProjection(fl.Normalize):
    @staticmethod
    def backward(ctx, grad):
        _, norm = ctx.saved_tensors
        return grad / norm


class SoftmaxMissingTerm(fl.Softmax):
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * grad, None


class AttentionMissingSoftmaxTerm(fl.Attention):
    @staticmethod
    def backward(ctx, grad):
        q, k, v, p = ctx.saved_tensors
        gs = p * (grad @ v.T) / math.sqrt(q.shape[-1])
        return gs @ k, gs.T @ q, p.T @ grad


class ExpScaleMissingX(fl.ExpScale):
    @staticmethod
    def backward(ctx, grad):
        w, _ = ctx.saved_tensors
        gx = grad * torch.exp(w) if ctx.needs_input_grad[0] else None
        gw = grad * torch.exp(w) if ctx.needs_input_grad[1] else None  # the factor x dropped
        return gx, gw


# -- reduction-axis: a sum or broadcast over the wrong dim of a square input


class SoftmaxWrongDim(fl.Softmax):
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(1 - ctx.dim, keepdim=True)), None


class LogSoftmaxWrongDim(fl.LogSoftmax):
    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - torch.exp(y) * grad.sum(1 - ctx.dim, keepdim=True), None


class LogSumExpWrongDim(fl.LogSumExp):
    @staticmethod
    def backward(ctx, grad):
        x, _ = ctx.saved_tensors
        if not ctx.keepdim:
            grad = grad.unsqueeze(ctx.dim)
        return grad * torch.softmax(x, 1 - ctx.dim), None, None


class ProdWrongDim(fl.Prod):
    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return (grad * out).unsqueeze(1 - ctx.dim) / x, None


class SumSquaresColumnView(fl.SumSquaresKeepdim):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad.reshape(-1, 1), None  # assumes dim=1


class PairwiseWrongAxis(fl.PairwiseSqDist):
    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        weighted = 2 * grad.unsqueeze(-1) * diff
        return weighted.sum(0), -weighted.sum(0)


class MeanVarWrongDim(fe.MeanVar):
    @staticmethod
    def backward(ctx, grad_mean, grad_var):
        x, mean = ctx.saved_tensors
        dim, n = ctx.dim, x.shape[ctx.dim]
        centred = x - mean.unsqueeze(dim)
        return grad_mean.unsqueeze(dim) / n + grad_var.unsqueeze(1 - dim) * 2 * centred / n, None


# -- unbroadcast: a broadcast input's gradient reduced wrongly, with the right shape


class LinearBiasFirstRow(fl.Linear):
    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return grad @ weight, grad.T @ x, grad[0]


class LinearBiasMean(fl.Linear):
    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return grad @ weight, grad.T @ x, grad.mean(0)


class LayerNormBiasMean(fl.LayerNorm):
    @staticmethod
    def backward(ctx, grad):
        gx, gw, _, _ = fl.LayerNorm.backward(ctx, grad)
        return gx, gw, grad.mean(0), None


class BroadcastAffineFirstRow(fl.BroadcastAffine):
    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        gs = grad * (1 - out * out)
        return gs * b, (gs * a)[0], gs.sum(1, keepdim=True)


class BroadcastAffineColumnMean(fl.BroadcastAffine):
    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        gs = grad * (1 - out * out)
        return gs * b, (gs * a).sum(0), gs.mean(1, keepdim=True)


class RowColBiasColumnWrongAxis(fl.RowColBias):
    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        gs = 2 * grad * s
        return gs, gs.sum(0, keepdim=True), gs.sum(0).unsqueeze(1)  # rows' sums laid out as a column


# -- second-input: the first input's gradient right, a later one's wrong


class LinearWeightTransposed(fl.Linear):
    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return grad @ weight, x.T @ grad, grad.sum(0)


class MatMulSecondTransposed(fl.MatMul):
    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad @ b.T, grad.T @ a


class OuterSwapped(fl.Outer):
    @staticmethod
    def backward(ctx, grad):
        u, v = ctx.saved_tensors
        return grad @ v, grad @ u


class CosineSecondNorm(fl.CosineSimilarity):
    @staticmethod
    def backward(ctx, grad):
        a, b, na, nb, out = ctx.saved_tensors
        g = grad.unsqueeze(-1)
        return g * (b / (na * nb) - out * a / na**2), g * (a / (na * nb) - out * b / na**2)


class BilinearSecondUntransposed(fl.BatchedBilinear):
    @staticmethod
    def backward(ctx, grad):
        x, a, y = ctx.saved_tensors
        gx = grad[:, None] * torch.einsum("bij,bj->bi", a, y)
        ga = grad[:, None, None] * x[:, :, None] * y[:, None, :]
        return gx, ga, grad[:, None] * torch.einsum("bij,bj->bi", a, x)  # A x, not A^T x


class MulAddSecondSwapped(fl.MulAdd):
    @staticmethod
    def backward(ctx, grad):
        _, y = ctx.saved_tensors
        gx = grad * y if ctx.needs_input_grad[0] else None
        gy = grad * y if ctx.needs_input_grad[1] else None
        gz = grad if ctx.needs_input_grad[2] else None
        return gx, gy, gz


class HuberSecondSign(fe.Huber):
    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        gd = grad * torch.where(d.abs() < ctx.delta, d / ctx.delta, torch.sign(d)) / d.numel()
        return gd, gd, None


class WeightedMseSecondUnweighted(fl.WeightedMSE):
    @staticmethod
    def backward(ctx, grad):
        d, w = ctx.saved_tensors
        return grad * 2 * w * d / d.numel(), -grad * 2 * d / d.numel(), None


# -- other


class SinCosIgnoresCos(fe.SinCos):
    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        (x,) = ctx.saved_tensors
        return grad_sin * torch.cos(x)  # the second output's gradient ignored


class MaxWithArgmaxNextIndex(fe.MaxWithArgmax):
    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        dim = ctx.dim
        shifted = (indices + 1) % ctx.shape[dim]
        return grad_values.new_zeros(ctx.shape).scatter(dim, shifted.unsqueeze(dim), grad_values.unsqueeze(dim)), None


class MaskedMeanSquareUnmasked(fl.MaskedMeanSquare):
    @staticmethod
    def backward(ctx, grad):
        x, m = ctx.saved_tensors
        return grad * 2 * x / m.sum(), None  # masked-out elements get a gradient too


class CumSumExclusive(fl.CumSum):
    @staticmethod
    def backward(ctx, grad):
        dim = ctx.dim
        return grad.flip(dim).cumsum(dim).flip(dim) - grad, None  # off by one: excludes its own term


class CumSumNotReversed(fl.CumSum):
    @staticmethod
    def backward(ctx, grad):
        return grad.cumsum(ctx.dim), None


class CrossEntropyOverNumel(fl.CrossEntropy):
    @staticmethod
    def backward(ctx, grad):
        log_p, targets = ctx.saved_tensors
        one_hot = torch.zeros_like(log_p).scatter(1, targets.unsqueeze(1), 1.0)
        return grad * (torch.exp(log_p) - one_hot) / log_p.numel(), None  # 1 / (B C), not 1 / B


class Conv1dFlippedKernel(fl.Conv1d):
    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        size, length = w.shape[2], grad.shape[2]
        gw = torch.einsum("bol,bclk->ock", grad, x.unfold(2, size, 1))
        gx = torch.zeros_like(x)
        for k in range(size):
            gx[:, :, k : k + length] += torch.einsum("bol,oc->bcl", grad, w[:, :, size - 1 - k])
        return gx, gw
