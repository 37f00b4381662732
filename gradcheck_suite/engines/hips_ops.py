"""The catalogue's ops written with ``autograd.numpy``, as an autograd user would write them.

``TABLE`` maps a catalogue op name to ``impl(*arrays, **kwargs)``, which takes exactly the
kwargs the catalogue draws, with torch's meaning (negative dims, tuples of dims, keepdim, 0-d
tensors, index arrays, reduction modes). The derivatives are autograd's own: relu is
``np.maximum(x, 0.0)``, clamp is ``np.clip``, max is ``np.max``, so where autograd's rules
differ from torch's at kinks (ties split evenly, zero gradient at clip's bounds) the checker
sees the difference; nothing here is bent to match torch. Where autograd.numpy's obvious
spelling has no VJP at all (``np.flip``, ``np.take``) the op uses the indexing a user falls
back to. Values keep NumPy's dtype rules: bool masks times Python floats are float64 in NumPy
(float32 in torch), so ``comparisons`` computes float32 cases in float64.

``UNSUPPORTED`` lists the catalogue ops left out, and why: each is an ``unsupported`` row.
Families: elementwise and reductions here, shape and indexing in hips_structure.py, linear
algebra and nn in hips_layers.py, torch's dims in NumPy terms in hips_dims.py.
"""

from __future__ import annotations

import math

import autograd.numpy as np

try:  # erf and logsumexp live in autograd.scipy, which needs SciPy
    from autograd.scipy import special
except ImportError:  # pragma: no cover - SciPy is optional
    special = None

from gradcheck_suite.engines.hips_dims import _axes, _axis, _like, _sigmoid, _spread
from gradcheck_suite.engines.hips_layers import LINALG, NN, _nll
from gradcheck_suite.engines.hips_structure import INDEXING, SHAPE

# -- reductions ------------------------------------------------------------------------------------


def _reducer(reduce):
    """torch's ``a.op()`` (all dims, keepdim ignored) or ``a.op(dim, keepdim=...)``."""
    return lambda a, dim, keepdim: reduce(a) if dim is None else reduce(a, _axis(dim, np.ndim(a)), keepdims=keepdim)


def _selection(reduce):
    """max/min/amax/amin over ``dim`` of ``a + ladder`` (None: every dim, as torch's ``amax(x, ())``)."""
    return lambda a, ladder, dim, keepdim: reduce(_spread(a, ladder), axis=_axis(dim, np.ndim(a)), keepdims=keepdim)


def _vector_norm(a, ord, dim, keepdim):
    """torch's vector norm over ``dim``: those dims moved last and flattened, then np.linalg.norm."""
    if ord == "fro" and isinstance(dim, tuple) and len(dim) > 2:
        raise ValueError(f"norm: 'fro' takes at most 2 dims, got {dim} (as torch)")
    shape, n = np.shape(a), np.ndim(a)
    axes = _axes(_axis(dim, n), n)
    rest = [i for i in range(n) if i not in axes]
    moved = np.reshape(np.transpose(a, rest + list(axes)) if n else a,
                       (*(shape[i] for i in rest), math.prod(shape[i] for i in axes)))  # fmt: skip
    value = np.linalg.norm(moved, ord=None if ord == "fro" else ord, axis=-1)
    return np.reshape(value, tuple(1 if i in axes else s for i, s in enumerate(shape))) if keepdim else value


def _softmax(a, dim):
    axis = _axis(dim, np.ndim(a))
    if not np.size(a):  # np.max has no identity (torch's softmax of nothing is empty)
        return a
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _logsumexp(a, dim, keepdim):
    """scipy's logsumexp keeps a dim for a 0-d input with keepdims; torch's result stays 0-d."""
    return special.logsumexp(a, axis=_axis(dim, np.ndim(a)), keepdims=keepdim and np.ndim(a) > 0)


def _log_softmax(a, dim):
    return a - _logsumexp(a, dim, keepdim=True)


REDUCTIONS = {
    "sum": _reducer(np.sum),
    "mean": _reducer(np.mean),
    "prod": _reducer(np.prod),
    "max": lambda a, ladder: np.max(_spread(a, ladder)),
    "min": lambda a, ladder: np.min(_spread(a, ladder)),
    "max_dim": _selection(np.max),
    "min_dim": _selection(np.min),
    "amax": _selection(np.amax),
    "amin": _selection(np.amin),
    "var": lambda a, dim, keepdim, correction: np.var(a, axis=_axis(dim, np.ndim(a)), ddof=correction,
                                                      keepdims=keepdim),
    "std": lambda a, ladder, dim, keepdim, correction: np.std(_spread(a, ladder), axis=_axis(dim, np.ndim(a)),
                                                              ddof=correction, keepdims=keepdim),
    "norm": lambda a, p, dim, keepdim: _vector_norm(a, p, dim, keepdim),
    "vector_norm_inf": lambda a, ladder, signs, ord, dim, keepdim: _vector_norm(
        (_spread(a, ladder) + 4.0) * _like(signs, a), ord, dim, keepdim),
    "softmax": _softmax,
    "cumsum": lambda a, dim: np.cumsum(a, axis=dim) if np.ndim(a) else a,
}  # fmt: skip
if special is not None:
    REDUCTIONS |= {
        "logsumexp": _logsumexp,
        "log_softmax": _log_softmax,
    }


# -- pointwise -------------------------------------------------------------------------------------


def _comparisons(a, b):
    return a * (a > b) + b * (a <= b) + (a < b) * 0.5 - (a >= b) * 0.25 + a * (a != b) - (a == b) * 1.0


def _clamp_tensor(a, lo, hi, bounds):
    if bounds == "min":
        return np.maximum(a, lo)
    return np.minimum(a, hi) if bounds == "max" else np.minimum(np.maximum(a, lo), hi)


POINTWISE = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "rsub_tensor": lambda a, b: b - a,
    "neg": lambda a: -a,
    "rsub": lambda a, other: other - a,
    "rdiv": lambda a, other: other / a,
    "reciprocal": np.reciprocal,
    "pow": lambda a, exponent: a**exponent,
    "pow_tensor": lambda a, b: a**b,
    "rpow": lambda a, base: base**a,
    "square": np.square,
    "sqrt": np.sqrt,
    "rsqrt": lambda a: 1.0 / np.sqrt(a),
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda a: np.maximum(a, 0.0),
    "abs": np.abs,
    "sign": np.sign,
    "floor": np.floor,
    "round": np.round,
    "round_decimals": lambda a: np.round(a, 1),
    "clamp": lambda a, min, max: np.clip(a, min, max),
    "clamp_min": lambda a, min: np.clip(a, min, None),
    "clamp_max": lambda a, max: np.clip(a, None, max),
    "clamp_tensor": _clamp_tensor,
    "clamp_min_tensor": np.maximum,
    "clamp_max_tensor": np.minimum,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "atan2": np.arctan2,
    "where": lambda a, b, condition: np.where(condition, a, b),
    "comparisons": _comparisons,
}
if special is not None:
    POINTWISE["erf"] = special.erf


if special is not None:  # cross_entropy = nll_loss of log_softmax, as torch defines it
    NN["nn.cross_entropy"] = lambda x, target, weight, ignore_index, reduction: _nll(
        _log_softmax(x, 1 if np.ndim(x) > 1 else 0), target, weight, ignore_index, reduction
    )

TABLE = {**POINTWISE, **REDUCTIONS, **SHAPE, **INDEXING, **LINALG, **NN}

# Catalogue ops without an entry, and why (each is an `unsupported` row).
UNSUPPORTED = {
    "cumprod": "autograd defines no VJP for np.cumprod",
    "pad_reflect": "autograd's np.pad VJP supports mode='constant' only",
    "pad_replicate": "autograd's np.pad VJP supports mode='constant' only",
    "scatter_add": "autograd.numpy has no differentiable scatter (np.add.at is not traced)",
    "nn.conv2d": "no conv2d in autograd.numpy (stride, padding, dilation, groups would be hand-written)",
    "nn.max_pool2d": "no pooling in autograd.numpy (ceil_mode, dilation would be hand-written)",
    "nn.avg_pool2d": "no pooling in autograd.numpy (ceil_mode, count_include_pad would be hand-written)",
}
# Ops the catalogue gained after this table was written (the 296-op round): each still needs its
# autograd.numpy formula, and is an `unsupported` row until then.
NOT_YET_WRITTEN = (
    "log10", "exp2", "ldexp", "logaddexp", "logaddexp2", "asinh", "acosh", "atanh", "deg2rad", "rad2deg", "hypot",
    "trunc", "ceil", "frac", "fmod", "remainder", "fmod_tensor", "remainder_tensor", "copysign", "lerp",
    "lerp_tensor", "addcmul", "addcdiv", "nan_to_num", "fmax", "fmin", "lgamma", "digamma", "polygamma",
    "special.multigammaln", "erfc", "erfinv", "special.erfcx", "special.ndtr", "special.ndtri",
    "special.log_ndtr", "i0", "special.i0e", "special.i1", "special.i1e", "sinc", "logit", "logit_eps_upper",
    "special.entr", "xlogy", "xlogy_number", "special.xlog1py", "sort", "msort", "topk", "cummax", "cummin",
    "argmax_gather", "argmin_gather", "logcumsumexp", "nansum", "nanmean", "var_mean", "std_mean", "diff",
    "diff_prepend_append", "trapezoid", "cumulative_trapezoid", "roll", "rot90", "movedim", "narrow", "select",
    "unbind", "tril", "triu", "diag", "diag_vector", "diag_embed", "repeat_interleave", "tile", "unflatten",
    "hstack", "vstack", "dstack", "pad_circular", "index_add", "index_copy", "index_fill", "index_fill_tensor",
    "scatter", "scatter_value", "scatter_reduce_sum", "scatter_reduce_mean", "scatter_reduce_prod",
    "scatter_reduce_amax", "scatter_reduce_amin", "take_along_dim", "take", "put", "put_accumulate",
    "masked_select", "masked_scatter", "index_put", "index_put_accumulate", "linalg.eigh", "linalg.eigvalsh",
    "linalg.svd", "linalg.svdvals", "linalg.qr", "linalg.cholesky", "linalg.slogdet", "logdet",
    "linalg.matrix_exp", "linalg.pinv", "cholesky_solve", "linalg.lstsq", "linalg.cross", "linalg.vecdot",
    "linalg.multi_dot", "linalg.matrix_power", "linalg.solve_triangular", "linalg.matrix_norm", "linalg.norm",
    "nn.embedding_max_norm", "nn.cross_entropy_probs", "nn.mish", "nn.selu", "nn.celu", "nn.logsigmoid",
    "nn.hardswish", "nn.hardsigmoid", "nn.softshrink", "nn.hardshrink", "nn.softsign", "nn.tanhshrink",
    "nn.softmin", "nn.glu", "nn.prelu", "nn.huber_loss", "nn.smooth_l1_loss", "nn.l1_loss", "nn.kl_div",
    "nn.binary_cross_entropy", "nn.soft_margin_loss", "nn.margin_ranking_loss", "nn.poisson_nll_loss",
    "nn.normalize", "nn.cosine_similarity", "nn.pairwise_distance", "nn.conv1d", "nn.conv3d",
    "nn.conv_transpose1d", "nn.conv_transpose2d", "nn.conv_transpose3d", "nn.group_norm", "nn.batch_norm",
    "nn.instance_norm", "nn.interpolate_nearest", "nn.interpolate_bilinear", "nn.interpolate_linear",
    "nn.scaled_dot_product_attention", "nn.grid_sample", "nn.max_pool1d", "nn.avg_pool1d",
    "nn.adaptive_avg_pool2d", "nn.pixel_shuffle", "nn.pixel_unshuffle", "nn.unfold", "nn.fold"
)  # fmt: skip
UNSUPPORTED |= {name: "not yet in the adapter's op table" for name in NOT_YET_WRITTEN}
# The complex-number ops and the FFTs of the complex round: the adapter maps real arrays only.
UNSUPPORTED |= {
    name: "the adapter maps real arrays only (no complex numbers yet)"
    for name in ("real", "imag", "conj", "conj_physical", "angle", "sgn", "view_as_real", "view_as_complex",
                 "complex", "polar", "fft.fft", "fft.ifft", "fft.rfft", "fft.irfft", "fft.fft2",
                 "kthvalue", "median_dim", "aminmax")
}  # fmt: skip
if special is None:  # pragma: no cover - SciPy is optional
    UNSUPPORTED |= {name: "needs autograd.scipy (install SciPy)" for name in
                    ("erf", "logsumexp", "log_softmax", "nn.cross_entropy")}  # fmt: skip
