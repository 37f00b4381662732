"""Users' own ``torch.autograd.Function``s with right backwards: the CORRECT list of the torch
corpus, for comparing our checker with ``torch.autograd.gradcheck`` on custom Functions.

Each entry is what a user hands to a gradient checker: ``fn`` (the custom Function, usually
its ``apply``) and ``make(seed, dtype)``, the inputs exactly as the user would pass them
(differentiable tensors with ``requires_grad=True`` in ``dtype``, constants such as ``dim``,
masks, weights and integer targets in fixed positions). ``reference`` is the same function
written with plain differentiable torch ops: torch autograd through it is the ground truth
(tests/test_torch_corpus.py checks every backward against it). The wrong backwards planted
in copies of these Functions are in benchmarks/torch_mutants.py.

Values are drawn in float64 from a generator seeded by the seed and the entry's name, then
cast, so float32 and float64 inputs are the same numbers. They keep a margin from kinks,
branch boundaries and ties, and stay where the function is meaningful in float32.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as nnf
import torch_corpus_functions as fe
import torch_corpus_layers as fl


@dataclass(frozen=True)
class TorchEntry:
    name: str
    category: str
    fn: Callable[..., Any]  # takes the inputs unpacked; returns a tensor or a tuple of tensors
    make: Callable[[int, torch.dtype], tuple]  # make(seed, dtype) -> the inputs, as a user passes them
    reference: Callable[..., Any]  # the same function in plain differentiable torch ops
    doc: str = ""


def differentiable(inputs: tuple) -> list[torch.Tensor]:
    """The inputs that require grad, in order."""
    return [a for a in inputs if isinstance(a, torch.Tensor) and a.requires_grad]


def outputs(out) -> tuple:
    """A function's result as a tuple (a single tensor, or a tuple of tensors)."""
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _maker(name: str, draw: Callable[[torch.Generator], tuple], constants: tuple[int, ...]) -> Callable:
    """``make(seed, dtype)``: ``draw`` on a generator seeded by the seed and the name; float
    tensors are cast to ``dtype`` and require grad unless their position is in ``constants``."""

    def make(seed: int, dtype: torch.dtype) -> tuple:
        gen = torch.Generator().manual_seed(zlib.crc32(name.encode()) ^ seed)
        return tuple(_prepare(v, dtype, i not in constants) for i, v in enumerate(draw(gen)))

    return make


def _prepare(value, dtype: torch.dtype, differentiable: bool):
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        return value  # ints, floats, bools, integer and boolean tensors
    value = value.to(dtype)
    return value.requires_grad_() if differentiable else value


def _entry(name, category, fn, reference, draw, doc="", constants=()) -> TorchEntry:
    return TorchEntry(name, category, fn, _maker(name, draw, constants), reference, doc)


# -- draws (float64) ----------------------------------------------------------------------------


def _normal(gen, *shape, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(shape, generator=gen, dtype=torch.float64) * scale


def _uniform(gen, low: float, high: float, *shape) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=gen, dtype=torch.float64)


def _balanced(gen, *shape) -> torch.Tensor:
    """A boolean tensor, half of it set (rounded down), at random places."""
    n = math.prod(shape)
    return (torch.randperm(n, generator=gen) < n // 2).reshape(shape)


def _signed(gen, low: float, high: float, *shape) -> torch.Tensor:
    """Magnitudes in [low, high], half of them negative: both sides of a kink at 0."""
    return _uniform(gen, low, high, *shape) * torch.where(_balanced(gen, *shape), -1.0, 1.0)


def _smooth_l1_inputs(gen):
    """x and y with |x - y| in [0.1, 0.8] (quadratic branch) or [1.2, 3] (linear branch), delta 1."""
    near = _balanced(gen, 4, 5)
    size = torch.where(near, _uniform(gen, 0.1, 0.8, 4, 5), _uniform(gen, 1.2, 3.0, 4, 5))
    x = _normal(gen, 4, 5)
    return x, x - size * torch.where(_balanced(gen, 4, 5), -1.0, 1.0), 1.0


def _distinct_rows(gen, rows: int, cols: int) -> torch.Tensor:
    """Rows whose values are at least 0.2 apart: no ties near the maximum."""
    steps = torch.arange(cols, dtype=torch.float64) * 0.3 + _uniform(gen, 0.0, 0.1, rows, cols)
    order = torch.argsort(torch.rand(rows, cols, generator=gen), dim=1)
    return steps.gather(1, order) + _normal(gen, rows, 1)


def _targets(gen, batch: int, classes: int) -> torch.Tensor:
    return torch.randint(0, classes, (batch,), generator=gen)


# -- references: plain differentiable torch ops, same arguments as fn ---------------------------


def _gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(fe.GELU_K * (x + fe.GELU_C * x**3)))


def _mean_var(x, dim):
    return x.mean(dim), x.var(dim, correction=0)


def _max_with_argmax(x, dim):
    values, indices = torch.max(x, dim)
    return values, indices


def _masked_mean_square(x, mask):
    return (x * x)[mask].mean()


def _cosine(a, b):
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))


def _bilinear(x, a, y):
    return (x.unsqueeze(1) @ a @ y.unsqueeze(2)).reshape(-1)


def _layer_norm(x, weight, bias, eps):
    return nnf.layer_norm(x, x.shape[-1:], weight, bias, eps)


def _attention(q, k, v):
    return torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), -1) @ v


CORRECT: list[TorchEntry] = [
    # -- elementwise
    _entry("softplus_beta", "elementwise", lambda x: fe.MySoftplus.apply(x, 2.0), lambda x: nnf.softplus(x, beta=2.0),
           lambda g: (_uniform(g, -4, 4, 4, 5),), "the headline example: MySoftplus.apply(x, 2.0), a float constant"),
    _entry("swish", "elementwise", fe.Swish.apply, nnf.silu, lambda g: (_normal(g, 3, 4, scale=2),)),
    _entry("gelu_erf", "elementwise", fe.GeluErf.apply, nnf.gelu, lambda g: (_normal(g, 3, 5, scale=2),)),
    _entry("gelu_tanh", "elementwise", fe.GeluTanh.apply, _gelu_tanh, lambda g: (_normal(g, 3, 5, scale=2),),
           "the tanh approximation: a chain rule through a cubic"),
    _entry("mish", "elementwise", fe.Mish.apply, nnf.mish, lambda g: (_normal(g, 4, 4, scale=2),)),
    _entry("log_cosh", "elementwise", fe.LogCosh.apply, lambda x: torch.log(torch.cosh(x)),
           lambda g: (_normal(g, 10, 20, scale=3),), "200 elements"),
    _entry("exp_saved_output", "elementwise", fe.ExpSavedOutput.apply, torch.exp, lambda g: (_uniform(g, -4, 4, 6),),
           "saves its output for the backward"),
    _entry("tanh_saved_output", "elementwise", fe.TanhSavedOutput.apply, torch.tanh,
           lambda g: (_normal(g, 2, 5, scale=1.5),), "saves its output for the backward"),
    _entry("x_sin_x", "elementwise", fe.XSinX.apply, lambda x: x * torch.sin(x), lambda g: (_normal(g, 8, scale=2),),
           "a product rule"),
    # -- saturation
    _entry("soft_clamp", "saturation", fe.SoftClamp.apply, lambda x, c: c * torch.tanh(x / c),
           lambda g: (_uniform(g, -8, 8, 10), 2.0), "c tanh(x / c) with c = 2, partly saturated"),
    # -- branch (values kept 0.1 away from the boundary)
    _entry("piecewise_cubic", "branch", fe.PiecewiseCubic.apply, lambda x: torch.where(x > 0, x * x, -(x**3) / 3),
           lambda g: (_signed(g, 0.1, 2.0, 12),)),
    _entry("leaky_relu", "branch", fe.LeakyRelu.apply, nnf.leaky_relu, lambda g: (_signed(g, 0.1, 3.0, 4, 5), 0.1)),
    _entry("smooth_l1", "branch", fe.Huber.apply, lambda x, y, d: nnf.smooth_l1_loss(x, y, beta=d), _smooth_l1_inputs,
           "Huber / smooth-L1 loss, both inputs differentiable, both branches present"),
    # -- multi-output
    _entry("sin_cos", "multi-output", fe.SinCos.apply, lambda x: (torch.sin(x), torch.cos(x)),
           lambda g: (_normal(g, 7, scale=2),), "two outputs"),
    _entry("mean_var", "multi-output", fe.MeanVar.apply, _mean_var, lambda g: (_normal(g, 5, 5), 1),
           "two outputs, square input"),
    _entry("max_with_argmax", "multi-output", fe.MaxWithArgmax.apply, _max_with_argmax,
           lambda g: (_distinct_rows(g, 4, 5), 1), "values and a non-differentiable integer index"),
    # -- reduction
    _entry("softmax", "reduction", fl.Softmax.apply, torch.softmax, lambda g: (_normal(g, 5, 5, scale=2), 1)),
    _entry("log_softmax", "reduction", fl.LogSoftmax.apply, torch.log_softmax,
           lambda g: (_normal(g, 16, 16, scale=2), 1), "256 elements, square"),
    _entry("logsumexp_keepdim", "reduction", fl.LogSumExp.apply, torch.logsumexp,
           lambda g: (_normal(g, 4, 4, scale=2), 1, True), "a reduction over a dim with keepdim"),
    _entry("cumsum", "reduction", fl.CumSum.apply, torch.cumsum, lambda g: (_normal(g, 3, 7), 1)),
    _entry("prod", "reduction", fl.Prod.apply, torch.prod, lambda g: (_signed(g, 0.5, 1.5, 5, 5), 1)),
    _entry("sum_squares_keepdim", "reduction", fl.SumSquaresKeepdim.apply, lambda x, d: (x * x).sum(d, keepdim=True),
           lambda g: (_normal(g, 32, 32), 0), "1024 elements"),
    # -- nn
    _entry("cross_entropy", "nn", fl.CrossEntropy.apply, nnf.cross_entropy,
           lambda g: (_normal(g, 4, 5, scale=2), _targets(g, 4, 5)), "integer targets, a constant LongTensor"),
    _entry("linear", "nn", fl.Linear.apply, nnf.linear,
           lambda g: (_normal(g, 32, 16), _normal(g, 16, 16, scale=0.25), _normal(g, 16)),
           "x @ W.T + b with a broadcast bias; 784 elements"),
    _entry("layer_norm", "nn", fl.LayerNorm.apply, _layer_norm,
           lambda g: (_normal(g, 4, 8), _uniform(g, 0.5, 1.5, 8), _normal(g, 8), 1e-5)),
    _entry("layer_norm_large", "nn", fl.LayerNorm.apply, _layer_norm,
           lambda g: (_normal(g, 32, 16, scale=2), _uniform(g, 0.5, 1.5, 16), _normal(g, 16), 1e-5), "544 elements"),
    _entry("attention", "nn", fl.Attention.apply, _attention,
           lambda g: (_normal(g, 4, 3), _normal(g, 4, 3), _normal(g, 4, 3)), "one small head"),
    _entry("conv1d", "nn", fl.Conv1d.apply, nnf.conv1d,
           lambda g: (_normal(g, 4, 4, 32), _normal(g, 4, 4, 5, scale=0.5)), "unfold forward, loops in the backward"),
    # -- linalg
    _entry("matmul", "linalg", fl.MatMul.apply, torch.matmul,
           lambda g: (_normal(g, 12, 12), _normal(g, 12, 12)), "square, 288 elements"),
    _entry("outer", "linalg", fl.Outer.apply, torch.outer, lambda g: (_normal(g, 6), _normal(g, 6))),
    _entry("batched_bilinear", "linalg", fl.BatchedBilinear.apply, _bilinear,
           lambda g: (_normal(g, 3, 3), _normal(g, 3, 3, 3), _normal(g, 3, 3))),
    _entry("cosine_similarity", "linalg", fl.CosineSimilarity.apply, _cosine,
           lambda g: (_normal(g, 4, 6), _normal(g, 4, 6))),
    _entry("pairwise_sq_dist", "linalg", fl.PairwiseSqDist.apply,
           lambda x, y: ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1), lambda g: (_normal(g, 5, 3), _normal(g, 5, 3))),
    _entry("normalize", "linalg", fl.Normalize.apply, lambda x: nnf.normalize(x, dim=-1),
           lambda g: (_normal(g, 4, 5),)),
    # -- broadcast
    _entry("broadcast_affine", "broadcast", fl.BroadcastAffine.apply, lambda a, b, c: torch.tanh(a * b + c),
           lambda g: (_normal(g, 3, 4), _normal(g, 4), _normal(g, 3, 1)), "(3, 4) with (4,) and (3, 1)"),
    _entry("row_col_bias", "broadcast", fl.RowColBias.apply, lambda x, r, c: (x + r + c) ** 2,
           lambda g: (_normal(g, 5, 5), _normal(g, 1, 5), _normal(g, 5, 1)), "(5, 5) with (1, 5) and (5, 1)"),
    # -- constants
    _entry("weighted_mse", "constants", fl.WeightedMSE.apply, lambda x, y, w: (w * (x - y) ** 2).mean(),
           lambda g: (_normal(g, 4, 5), _normal(g, 4, 5), _uniform(g, 0.5, 2, 4, 5)), "constant weights",
           constants=(2,)),
    _entry("masked_mean_square", "constants", fl.MaskedMeanSquare.apply, _masked_mean_square,
           lambda g: (_normal(g, 4, 6), _balanced(g, 4, 6)), "a constant boolean mask"),
    _entry("exp_scale_second_only", "constants", fl.ExpScale.apply, lambda x, w: x * torch.exp(w),
           lambda g: (_normal(g, 3, 4), _normal(g, 3, 4)), "only the second tensor requires grad", constants=(0,)),
    _entry("mul_add", "constants", fl.MulAdd.apply, lambda x, y, z: x * y + z,
           lambda g: (_normal(g, 3, 4), _normal(g, 3, 4), _normal(g, 3, 4)), "uses ctx.needs_input_grad"),
]  # fmt: skip
