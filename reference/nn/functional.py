"""``reference.nn.functional``: torch.nn.functional's ops, forward, backward and jvp side by side.

The ops live by kind in ``reference.nn``: activation (relu ... dropout), linear (linear,
embedding), normalization (layer_norm), conv (conv2d), pooling (max/avg_pool2d), loss.
"""

from __future__ import annotations

from reference.nn.activation import dropout, elu, gelu, hardtanh, leaky_relu, relu, relu6, silu, softplus
from reference.nn.conv import conv2d
from reference.nn.linear import embedding, linear
from reference.nn.loss import binary_cross_entropy_with_logits, cross_entropy, log_softmax, mse_loss, nll_loss
from reference.nn.normalization import layer_norm
from reference.nn.pooling import avg_pool2d, max_pool2d
from reference.ops.shape import pad

__all__ = [
    "avg_pool2d", "binary_cross_entropy_with_logits", "conv2d", "cross_entropy", "dropout", "elu", "embedding",
    "gelu", "hardtanh", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss", "nll_loss",
    "pad", "relu", "relu6", "silu", "softplus",
]  # fmt: skip
