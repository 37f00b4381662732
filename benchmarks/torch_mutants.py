"""Users' own ``torch.autograd.Function``s with wrong backwards: the WRONG list of the torch
corpus (the correct ones are in benchmarks/torch_corpus.py).

Each mutant is a copy of one correct Function (a subclass: the forward is inherited, so the
function is unchanged) whose backward has exactly one planted bug. It takes its base's
inputs (``make``) and reference, so the ground truth is the base's: torch autograd through
the reference. ``kind`` says what the bug is; ``relative`` is the planted relative size of
a scale error (the gradient times ``1 + relative``), ``None`` for other kinds.
tests/test_torch_corpus.py checks that every mutant's gradient really differs from the
reference's, by about ``relative`` where it is set.

Returning a broadcast input's gradient unreduced (with the output's shape) is deliberately
absent: torch's engine sum-reduces it to the input's shape, so it is not a bug in torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch_corpus_functions as fe
import torch_corpus_layers as fl
import torch_mutant_functions as m
from torch.autograd import Function
from torch_corpus import CORRECT, TorchEntry

KINDS = ("scale", "offset", "sign-branch", "missing-term", "reduction-axis", "unbroadcast", "second-input", "other")
RELATIVE_SIZES = (5e-2, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


@dataclass(frozen=True)
class Mutant(TorchEntry):
    kind: str = "other"  # one of KINDS
    relative: float | None = None  # the planted relative size of a scale error
    base: str = ""  # the name of the correct entry it mutates


def _as_tuple(grads) -> tuple:
    return grads if isinstance(grads, tuple) else (grads,)


def _scaled(function: type[Function], relative: float) -> type[Function]:
    """``function`` with every input gradient multiplied by ``1 + relative``."""

    def backward(ctx, *grads):
        out = _as_tuple(function.backward(ctx, *grads))
        return tuple(None if g is None else g * (1 + relative) for g in out)

    return type(f"{function.__name__}Scaled", (function,), {"backward": staticmethod(backward)})


def _offset(function: type[Function], size: float, of_max: bool = False) -> type[Function]:
    """``function`` with ``size`` added to every element of its first input's gradient
    (``size * max|gradient|`` with ``of_max``)."""

    def backward(ctx, *grads):
        first, *rest = _as_tuple(function.backward(ctx, *grads))
        shift = size * first.abs().max() if of_max else size
        return (first + shift, *rest)

    return type(f"{function.__name__}Offset", (function,), {"backward": staticmethod(backward)})


_BASES = {e.name: e for e in CORRECT}


def _mutant(base: str, suffix: str, kind: str, fn: Callable, relative: float | None = None, doc: str = "") -> Mutant:
    """A mutant of the correct entry ``base``: its inputs and reference, with ``fn`` in place."""
    entry = _BASES[base]
    return Mutant(name=f"{base}_{suffix}", category=entry.category, fn=fn, make=entry.make,
                  reference=entry.reference, doc=doc, kind=kind, relative=relative, base=base)  # fmt: skip


_SOFTPLUS_5E_2 = _scaled(fe.MySoftplus, 5e-2)
_SOFTPLUS_1E_6 = _scaled(fe.MySoftplus, 1e-6)


WRONG: list[Mutant] = [
    # -- scale: the whole gradient times (1 + r)
    _mutant("softplus_beta", "rel_5e_2", "scale", lambda x: _SOFTPLUS_5E_2.apply(x, 2.0), 5e-2,
            "the headline example: MySoftplus's gradient 5% too large"),
    _mutant("softplus_beta", "rel_1e_6", "scale", lambda x: _SOFTPLUS_1E_6.apply(x, 2.0), 1e-6),
    _mutant("gelu_erf", "rel_1e_2", "scale", _scaled(fe.GeluErf, 1e-2).apply, 1e-2),
    _mutant("cosine_similarity", "rel_1e_2", "scale", _scaled(fl.CosineSimilarity, 1e-2).apply, 1e-2),
    _mutant("layer_norm", "rel_1e_3", "scale", _scaled(fl.LayerNorm, 1e-3).apply, 1e-3),
    _mutant("mish", "rel_1e_3", "scale", _scaled(fe.Mish, 1e-3).apply, 1e-3),
    _mutant("matmul", "rel_1e_4", "scale", _scaled(fl.MatMul, 1e-4).apply, 1e-4, "288 elements"),
    _mutant("conv1d", "rel_1e_4", "scale", _scaled(fl.Conv1d, 1e-4).apply, 1e-4, "592 elements"),
    _mutant("attention", "rel_1e_5", "scale", _scaled(fl.Attention, 1e-5).apply, 1e-5),
    _mutant("log_softmax", "rel_1e_5", "scale", _scaled(fl.LogSoftmax, 1e-5).apply, 1e-5, "256 elements"),
    _mutant("linear", "rel_1e_6", "scale", _scaled(fl.Linear, 1e-6).apply, 1e-6, "784 elements"),
    _mutant("sum_squares_keepdim", "rel_1e_5", "scale", _scaled(fl.SumSquaresKeepdim, 1e-5).apply, 1e-5,
            "1024 elements"),
    # -- offset: a small constant added to the first input's gradient
    _mutant("swish", "plus_1e_3", "offset", _offset(fe.Swish, 1e-3).apply),
    _mutant("exp_saved_output", "plus_1e_3", "offset", _offset(fe.ExpSavedOutput, 1e-3).apply),
    _mutant("tanh_saved_output", "plus_1e_6_max", "offset", _offset(fe.TanhSavedOutput, 1e-6, of_max=True).apply),
    _mutant("gelu_erf", "plus_1e_6_max", "offset", _offset(fe.GeluErf, 1e-6, of_max=True).apply),
    _mutant("log_cosh", "plus_1e_6_max", "offset", _offset(fe.LogCosh, 1e-6, of_max=True).apply, doc="200 elements"),
    # -- sign-branch: only the elements on one side of a branch are wrong
    _mutant("piecewise_cubic", "negative_branch_sign", "sign-branch", m.PiecewiseCubicNegativeSign.apply),
    _mutant("leaky_relu", "negative_branch_sign", "sign-branch", m.LeakyReluNegativeSign.apply),
    _mutant("smooth_l1", "linear_branch_sign", "sign-branch", m.HuberLinearSign.apply),
    _mutant("smooth_l1", "quadratic_branch_sign", "sign-branch", m.HuberQuadraticSign.apply),
    # -- missing-term: a product-rule or chain-rule term dropped
    _mutant("x_sin_x", "missing_x_cos_x", "missing-term", m.XSinXMissingCos.apply),
    _mutant("mish", "missing_inner_term", "missing-term", m.MishMissingInner.apply),
    _mutant("gelu_tanh", "missing_cubic_term", "missing-term", m.GeluTanhMissingCubic.apply),
    _mutant("layer_norm", "missing_mean_term", "missing-term", m.LayerNormMissingMean.apply,
            doc="the mean of the gradient is not subtracted"),
    _mutant("layer_norm", "missing_projection_term", "missing-term", m.LayerNormMissingProjection.apply),
    _mutant("normalize", "missing_projection_term", "missing-term", m.NormalizeMissingProjection.apply),
    _mutant("softmax", "missing_subtracted_term", "missing-term", m.SoftmaxMissingTerm.apply),
    _mutant("attention", "missing_softmax_term", "missing-term", m.AttentionMissingSoftmaxTerm.apply),
    _mutant("exp_scale_second_only", "missing_x_factor", "missing-term", m.ExpScaleMissingX.apply),
    # -- reduction-axis: the wrong dim of a square input, so the shapes still match
    _mutant("softmax", "wrong_dim", "reduction-axis", m.SoftmaxWrongDim.apply),
    _mutant("log_softmax", "wrong_dim", "reduction-axis", m.LogSoftmaxWrongDim.apply),
    _mutant("logsumexp_keepdim", "wrong_dim", "reduction-axis", m.LogSumExpWrongDim.apply),
    _mutant("prod", "wrong_dim", "reduction-axis", m.ProdWrongDim.apply),
    _mutant("sum_squares_keepdim", "column_view", "reduction-axis", m.SumSquaresColumnView.apply,
            doc="the kept dim's gradient laid out as a column"),
    _mutant("pairwise_sq_dist", "wrong_axis", "reduction-axis", m.PairwiseWrongAxis.apply),
    _mutant("mean_var", "wrong_dim", "reduction-axis", m.MeanVarWrongDim.apply),
    # -- unbroadcast: a broadcast input's gradient reduced wrongly, with the right shape
    _mutant("linear", "bias_first_row", "unbroadcast", m.LinearBiasFirstRow.apply),
    _mutant("linear", "bias_mean", "unbroadcast", m.LinearBiasMean.apply),
    _mutant("layer_norm", "bias_mean", "unbroadcast", m.LayerNormBiasMean.apply),
    _mutant("broadcast_affine", "row_bias_first_row", "unbroadcast", m.BroadcastAffineFirstRow.apply),
    _mutant("broadcast_affine", "column_bias_mean", "unbroadcast", m.BroadcastAffineColumnMean.apply),
    _mutant("row_col_bias", "column_bias_wrong_axis", "unbroadcast", m.RowColBiasColumnWrongAxis.apply),
    # -- second-input: the first input's gradient right, a later one's wrong
    _mutant("linear", "weight_transposed", "second-input", m.LinearWeightTransposed.apply),
    _mutant("matmul", "second_transposed", "second-input", m.MatMulSecondTransposed.apply),
    _mutant("outer", "swapped", "second-input", m.OuterSwapped.apply),
    _mutant("cosine_similarity", "second_norm", "second-input", m.CosineSecondNorm.apply),
    _mutant("batched_bilinear", "second_untransposed", "second-input", m.BilinearSecondUntransposed.apply),
    _mutant("mul_add", "second_swapped", "second-input", m.MulAddSecondSwapped.apply),
    _mutant("smooth_l1", "second_sign", "second-input", m.HuberSecondSign.apply),
    _mutant("weighted_mse", "second_unweighted", "second-input", m.WeightedMseSecondUnweighted.apply),
    # -- other
    _mutant("sin_cos", "ignores_cos_gradient", "other", m.SinCosIgnoresCos.apply,
            doc="the gradient of the tuple's second output ignored"),
    _mutant("max_with_argmax", "next_index", "other", m.MaxWithArgmaxNextIndex.apply),
    _mutant("masked_mean_square", "unmasked", "other", m.MaskedMeanSquareUnmasked.apply,
            doc="wrong only for the masked-out elements"),
    _mutant("cumsum", "exclusive", "other", m.CumSumExclusive.apply, doc="the reverse cumsum off by one"),
    _mutant("cumsum", "not_reversed", "other", m.CumSumNotReversed.apply),
    _mutant("cross_entropy", "over_numel", "other", m.CrossEntropyOverNumel.apply,
            doc="divides by B * C instead of the batch size B"),
    _mutant("conv1d", "flipped_kernel", "other", m.Conv1dFlippedKernel.apply, doc="592 elements"),
]  # fmt: skip


def by_name(name: str) -> TorchEntry:
    """A correct or wrong entry by name."""
    return next(e for e in (*CORRECT, *WRONG) if e.name == name)
