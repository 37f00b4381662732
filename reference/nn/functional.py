"""``reference.nn.functional``: torch.nn.functional's ops, forward, backward and jvp side by side.

The ops live by kind in ``reference.nn``: activation(_more), linear (linear, embedding),
normalization (layer/batch/group/instance norm), conv (1-d to 3-d), conv_transpose, pooling,
interpolate, attention, grid_sample, patches (unfold/fold, pixel_shuffle), distance, and the
losses (loss, loss_regression, loss_cross_entropy).
"""

from __future__ import annotations

from reference.nn.activation import dropout, elu, gelu, hardtanh, leaky_relu, relu, relu6, silu, softplus
from reference.nn.activation_more import (
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    logsigmoid,
    mish,
    prelu,
    selu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
)
from reference.nn.attention import scaled_dot_product_attention
from reference.nn.conv import conv1d, conv2d, conv3d
from reference.nn.conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from reference.nn.distance import cosine_similarity, normalize, pairwise_distance
from reference.nn.grid_sample import grid_sample
from reference.nn.interpolate import interpolate
from reference.nn.linear import embedding, linear
from reference.nn.loss import binary_cross_entropy_with_logits, cross_entropy, log_softmax, mse_loss, nll_loss
from reference.nn.loss_regression import (
    binary_cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
)
from reference.nn.normalization import batch_norm, group_norm, instance_norm, layer_norm
from reference.nn.patches import fold, pixel_shuffle, pixel_unshuffle, unfold
from reference.nn.pooling import adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from reference.ops.shape import pad

__all__ = [
    "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d", "cosine_similarity", "cross_entropy", "dropout", "elu", "embedding",
    "fold", "gelu", "glu", "grid_sample", "group_norm", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "huber_loss", "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear",
    "log_softmax", "logsigmoid", "margin_ranking_loss", "max_pool1d", "max_pool2d", "mish", "mse_loss", "nll_loss",
    "normalize", "pad", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu",
    "relu", "relu6", "scaled_dot_product_attention", "selu", "silu", "smooth_l1_loss", "soft_margin_loss",
    "softmin", "softplus", "softshrink", "softsign", "tanhshrink", "unfold"
]  # fmt: skip
