"""Linear algebra and nn ops of the HIPS autograd op table (see hips_ops.py)."""

from __future__ import annotations

import math

import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

try:  # erf and logsumexp live in autograd.scipy, which needs SciPy
    from autograd.scipy import special
except ImportError:  # pragma: no cover - SciPy is optional
    special = None

from gradcheck_suite.engines.hips_dims import _like, _sigmoid

# -- linear algebra --------------------------------------------------------------------------------


def _shifted(a):
    n = np.shape(a)[-1]
    return a + onp.asarray(2.0 * n * onp.eye(n), dtype=onp.result_type(getval(a)))


def _solve(a, b, left):
    """torch.linalg.solve: B is a vector (or batch of vectors) when it is 1-d or A's shape less one dim."""
    a = _shifted(a)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    if np.ndim(b) == 1 or np.shape(b) == np.shape(a)[:-1]:
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


LINALG = {
    "matmul": np.matmul,
    "mm": np.matmul,
    "mv": np.matmul,
    "dot": np.dot,
    "bmm": np.matmul,
    "outer": np.outer,
    "einsum": lambda a, b, equation: np.einsum(equation, a, b),
    "einsum_unary": lambda a, equation: np.einsum(equation, a),
    "trace": np.trace,
    "diagonal": lambda a, offset, dims: np.diagonal(a, offset, dims[0], dims[1]),
    "linalg.inv": lambda a: np.linalg.inv(_shifted(a)),
    "linalg.det": lambda a: np.linalg.det(_shifted(a)),
    "linalg.solve": _solve,
}


# -- nn --------------------------------------------------------------------------------------------


def _reduced(loss, reduction: str):
    return loss if reduction == "none" else np.sum(loss) if reduction == "sum" else np.mean(loss)


def _gelu(a, approximate):
    if approximate == "tanh":
        return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a**3)))
    if special is None:
        raise NotImplementedError("exact gelu needs erf from autograd.scipy (install SciPy)")
    return 0.5 * a * (1.0 + special.erf(a / math.sqrt(2.0)))


def _dropout(a, p, seed):
    """The catalogue's documented mask: keep where PCG64(seed).random(shape) < 1 - p, scaled by 1/(1-p)."""
    dtype = onp.result_type(getval(a))
    keep = onp.random.Generator(onp.random.PCG64(seed)).random(np.shape(a)) < 1.0 - p
    return a * (keep.astype(dtype) / dtype.type(1.0 - p))


def _embedding(w, index, padding_idx):
    if padding_idx is not None:  # torch's padding row gets no gradient, which is no derivative at all
        raise NotImplementedError("embedding with padding_idx: autograd.numpy has no row exempt from differentiation")
    return w[index]


def _layer_norm(x, w, b, eps, spread):
    x = x + _like(spread, x)
    axes = tuple(range(-np.ndim(w), 0))
    centred = x - np.mean(x, axis=axes, keepdims=True)
    return centred / np.sqrt(np.var(x, axis=axes, keepdims=True) + eps) * w + b


def _nll(logp, target, weight, ignore_index, reduction):
    """-weight[t] * logp[..., t, ...] over targets; 'mean' divides by the weights of the targets kept."""
    classes = np.shape(logp)[1 if np.ndim(logp) > 1 else 0]
    rows = np.reshape(np.moveaxis(logp, 1, -1) if np.ndim(logp) > 1 else logp, (-1, classes))
    t = onp.reshape(target, (-1,))
    w = (onp.ones(classes) if weight is None else onp.asarray(weight))[t] * (t != ignore_index)
    w = w.astype(onp.result_type(getval(logp)))
    losses = -w * rows[onp.arange(t.size), t]
    if reduction == "none":
        return np.reshape(losses, target.shape)
    return np.sum(losses) if reduction == "sum" else np.sum(losses) / onp.sum(w)


def _bce_with_logits(x, y, reduction, weight, pos_weight):
    log_weight = 1.0 if pos_weight is None else 1.0 + (_like(pos_weight, x) - 1.0) * y
    loss = (1.0 - y) * x + log_weight * np.logaddexp(0.0, -x)
    return _reduced(loss if weight is None else loss * _like(weight, x), reduction)


NN = {
    "nn.relu": lambda a: np.maximum(a, 0.0),
    "nn.leaky_relu": lambda a, negative_slope: np.where(a > 0, a, negative_slope * a),
    "nn.hardtanh": lambda a, min_val, max_val: np.clip(a, min_val, max_val),
    "nn.elu": lambda a, alpha: np.where(a > 0, a, alpha * np.expm1(a)),
    "nn.gelu": _gelu,
    "nn.silu": lambda a: a * _sigmoid(a),
    "nn.softplus": lambda a, beta, threshold, switch: np.where(  # switch: the kink the catalogue aims at
        a * beta > threshold, a, np.log1p(np.exp(beta * a)) / beta
    ),
    "nn.dropout": _dropout,
    "nn.linear": lambda x, w, b: np.matmul(x, np.transpose(w)) + b,
    "nn.embedding": _embedding,
    "nn.layer_norm": _layer_norm,
    "nn.mse_loss": lambda a, b, reduction: _reduced(np.square(a - b), reduction),
    "nn.nll_loss": _nll,
    "nn.binary_cross_entropy_with_logits": _bce_with_logits,
}
