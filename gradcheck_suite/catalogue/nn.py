"""Catalogue family 'nn': torch.nn.functional's ops (``reference.nn.functional``).

Names carry an ``nn.`` prefix (``nn.relu``) so they never clash with the pointwise family.
Integer arguments (targets, indices) are drawn in kwargs as NumPy int arrays; float arguments
that torch does not differentiate (class weights) are drawn there too, in float64, and cast to
the input's dtype inside ``fn``. Shapes stay small: conv and pooling cases are checked by finite
differences in float64, elementwise for up to 64 input elements.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import NONZERO, REAL, SMALL, Convention, Domain, Kinks, op
from gradcheck_suite.strategies import shapes

REDUCTIONS = ("mean", "sum", "none")
PROBABILITY = Domain(0.0, 1.0, name="probability")
WEIGHTS = Domain(0.5, 2.0, name="weights")

_side = st.integers(1, 4)


def _f(ns):
    return ns.nn.functional


def _as(ns, array: np.ndarray, like):
    """A float64 kwarg array as a tensor of ``like``'s dtype."""
    return ns.from_numpy(np.asarray(array, dtype=np.float64)).to(like.dtype)


def _reduction(shapes_):
    return st.fixed_dictionaries({"reduction": st.sampled_from(REDUCTIONS)})


# -- activations -------------------------------------------------------------------------------


def _activation(name: str, call, domain=REAL, kwargs=None, kinks=None, doc=""):
    return op(
        f"nn.{name}", "nn", call, shapes(), (domain,),
        kwargs=kwargs or (lambda s: st.just({})), kinks=kinks, doc=doc,
    )  # fmt: skip


# (beta, threshold): switch points threshold / beta outside the drawn values (20, 10/0.5) and inside
# them, exact in binary (2.5, -1, 0.75, 2.25)
SOFTPLUS_PARAMETERS = ((1.0, 20.0), (0.5, 10.0), (2.0, 5.0), (1.0, -1.0), (2.0, 1.5), (0.5, 1.125))


def _hardtanh_bounds(shapes_):
    # bounds at unremarkable values, so that default draws (often round numbers) miss the kinks
    return st.sampled_from([(-1.0, 1.0), (-1.3, 0.7), (-0.45, 2.15)]).map(lambda b: {"min_val": b[0], "max_val": b[1]})


ACTIVATIONS = [
    _activation(
        "relu", lambda ns, a: _f(ns).relu(a), NONZERO, kinks=Kinks(points=(0.0,)),
        doc="relu'(0) = 0 (torch's threshold_backward); draws keep |x| >= 0.25",
    ),
    _activation(
        "leaky_relu", lambda ns, a, negative_slope: _f(ns).leaky_relu(a, negative_slope), NONZERO,
        kwargs=lambda s: st.fixed_dictionaries({"negative_slope": st.sampled_from((0.01, 0.2, -0.5, 1.5))}),
        kinks=Kinks(points=(0.0,)), doc="leaky_relu'(0) = negative_slope",
    ),
    _activation(
        "hardtanh", lambda ns, a, min_val, max_val: _f(ns).hardtanh(a, min_val, max_val), REAL,
        kwargs=_hardtanh_bounds, kinks=Kinks(kwarg_points=("min_val", "max_val")),
        doc="hardtanh' = 0 at both bounds (torch)",
    ),
    _activation(
        "elu", lambda ns, a, alpha: _f(ns).elu(a, alpha), NONZERO,
        kwargs=lambda s: st.fixed_dictionaries({"alpha": st.sampled_from((1.0, 0.5, 2.0))}),
        kinks=Kinks(points=(0.0,)), doc="elu'(0) = alpha (a kink unless alpha = 1); elu''(0) = 0",
    ),
    _activation(
        "gelu", lambda ns, a, approximate: _f(ns).gelu(a, approximate=approximate), REAL,
        kwargs=lambda s: st.fixed_dictionaries({"approximate": st.sampled_from(("none", "tanh"))}),
    ),
    _activation("silu", lambda ns, a: _f(ns).silu(a), REAL),
    _activation(
        "softplus", lambda ns, a, beta, threshold, switch: _f(ns).softplus(a, beta, threshold), REAL,
        kwargs=lambda s: st.sampled_from(SOFTPLUS_PARAMETERS).map(
            lambda p: {"beta": p[0], "threshold": p[1], "switch": p[1] / p[0]}
        ),
        kinks=Kinks(kwarg_points=("switch",)),
        doc="beta and threshold; above x = threshold / beta (the drawn 'switch', a kink point) torch returns x "
        "itself, a jump of log1p(exp(-threshold)) / beta; at the switch it takes the log1p branch",
    ),
]  # fmt: skip


# -- dropout: the mask is the engine's, reproduced for torch ---------------------------------------


def _dropout_mask(shape: tuple, p: float, seed: int, dtype) -> np.ndarray:
    """The noise reference.nn.functional.dropout draws after ``reference.manual_seed(seed)``:
    keep where PCG64(seed).random(shape) < 1 - p, scaled by 1 / (1 - p) in the input's dtype."""
    keep = np.asarray(np.asarray(np.random.Generator(np.random.PCG64(seed)).random(shape)) < 1.0 - p)
    return np.asarray(keep.astype(dtype) / np.dtype(dtype).type(1.0 - p))


def _dropout_engine(ns, a, p, seed):
    ns.manual_seed(seed)
    return _f(ns).dropout(a, p, training=True)


def _dropout_torch(a, p, seed):
    import torch

    return a * torch.from_numpy(_dropout_mask(tuple(a.shape), p, seed, a.detach().numpy().dtype))


DROPOUT = op(
    "nn.dropout", "nn", _dropout_engine, shapes(), (REAL,),
    kwargs=lambda s: st.fixed_dictionaries({"p": st.sampled_from((0.2, 0.5, 0.8)), "seed": st.integers(0, 2**32 - 1)}),
    torch_fn=_dropout_torch,
    doc="training mode. torch's RNG cannot be reproduced, so the torch witness is input * noise with the "
    "noise the engine documents (reference.manual_seed(seed), then keep where PCG64(seed).random(shape) "
    "< 1 - p, scaled by 1/(1-p)); it checks values, the MulBackward0 gradient and that the engine's mask "
    "follows its documented generator. torch's own F.dropout (also MulBackward0 on CPU) is not called",
)  # fmt: skip


# -- linear, embedding, layer_norm ---------------------------------------------------------------


@st.composite
def _linear_shapes(draw):
    n_in, n_out = draw(_side, label="in_features"), draw(_side, label="out_features")
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3), label="leading dims")
    return (*lead, n_in), (n_out, n_in), (n_out,)


LINEAR = op(
    "nn.linear", "nn", lambda ns, x, w, b: _f(ns).linear(x, w, b), _linear_shapes(), (SMALL, SMALL, SMALL),
    doc="AddmmBackward0 for 2-d input; a view, addmm and a view back for 1-d and 3-d+",
)  # fmt: skip


@st.composite
def _embedding_shapes(draw):
    return ((draw(_side, label="num_embeddings"), draw(_side, label="embedding_dim")),)


@st.composite
def _embedding_kwargs(draw, shapes_):
    num = shapes_[0][0]
    index_shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4), label="index shape")
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, num - 1)), label="indices")
    padding_idx = draw(st.one_of(st.none(), st.integers(-num, num - 1)), label="padding_idx")
    return {"index": index, "padding_idx": padding_idx}


def _padding_row(shapes_, kwargs) -> list[np.ndarray]:
    """The weight gradient's ``padding_idx`` row."""
    mask = np.zeros(shapes_[0], bool)
    if kwargs.get("padding_idx") is not None:
        mask[kwargs["padding_idx"]] = True
    return [mask]


EMBEDDING = op(
    "nn.embedding", "nn", lambda ns, w, index, padding_idx: _f(ns).embedding(ns.from_numpy(index), w, padding_idx),
    _embedding_shapes(), (REAL,), kwargs=_embedding_kwargs,
    doc="duplicate indices accumulate; the padding_idx row gets no gradient",
    conventions=(Convention("vjp", _padding_row, "torch documents that the padding_idx row gets no gradient "
                            "(nn.functional.embedding), although the output depends on it"),),
)  # fmt: skip


@st.composite
def _max_norm_kwargs(draw, shapes_):
    out = draw(_embedding_kwargs(shapes_))
    out["max_norm"] = draw(st.sampled_from((0.5, 1.0, 2.5)), label="max_norm")
    out["norm_type"] = draw(st.sampled_from((2.0, 1.0, 3.0)), label="norm_type")
    return out


def _embedding_max_norm(ns, w, index, padding_idx, max_norm, norm_type):
    # the op renormalises the rows it reads in place: a clone keeps the case's inputs intact
    return _f(ns).embedding(ns.from_numpy(index), w.clone(), padding_idx, max_norm=max_norm, norm_type=norm_type)


EMBEDDING_MAX_NORM = op(
    "nn.embedding_max_norm", "nn", _embedding_max_norm, _embedding_shapes(), (REAL,), kwargs=_max_norm_kwargs,
    doc="max_norm and norm_type: rows read whose norm exceeds max_norm are scaled in place by "
    "max_norm / (norm + 1e-7) under no_grad (the weight's version goes up by one); the gradient stays the "
    "plain scatter, which the numerical reference rejects on renormalised rows (torch_findings.toml)",
    conventions=EMBEDDING.conventions,
)  # fmt: skip


@st.composite
def _layer_norm_shapes(draw):
    # three or more elements: with two, xhat is +-1 whatever x is, and every gradient is rounding noise
    normalized = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=3, max_side=4), label="normalized_shape")
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3), label="leading dims")
    return (*lead, *normalized), normalized, normalized


def _layer_norm_kwargs(shapes_):
    normalized = shapes_[1]
    ramp = np.linspace(-1.7, 1.3, int(np.prod(normalized))).reshape(normalized)
    return st.fixed_dictionaries({"eps": st.sampled_from((1e-5, 0.1)), "spread": st.just(ramp)})


def _layer_norm(ns, x, w, b, eps, spread):
    return _f(ns).layer_norm(x + _as(ns, spread, x), tuple(w.shape), w, b, eps)


LAYER_NORM = op(
    "nn.layer_norm", "nn", _layer_norm, _layer_norm_shapes(), (REAL, REAL, REAL), kwargs=_layer_norm_kwargs,
    doc="NativeLayerNormBackward0 over the trailing dims, with weight and bias. The input is x + spread (a fixed "
    "ramp) so that draws never give constant rows, where rstd = eps**-0.5 makes every result rounding-dominated",
)  # fmt: skip


# -- losses -------------------------------------------------------------------------------------


@st.composite
def _same_shapes(draw, n: int = 2):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), label="shape")
    return (shape,) * n


MSE = op(
    "nn.mse_loss", "nn", lambda ns, a, b, reduction: _f(ns).mse_loss(a, b, reduction=reduction),
    _same_shapes(), (REAL, REAL), kwargs=_reduction,
)  # fmt: skip


@st.composite
def _class_shapes(draw):
    """(C,), (N, C) or (N, C, d): class scores for nll_loss and cross_entropy."""
    classes = draw(st.integers(1, 4), label="classes")
    kind = draw(st.sampled_from(["single", "batch", "spatial"]), label="layout")
    if kind == "single":
        return ((classes,),)
    batch = draw(_side, label="batch")
    if kind == "batch":
        return ((batch, classes),)
    return ((batch, classes, draw(st.integers(1, 3), label="extra dim")),)


@st.composite
def _same_class_shapes(draw):
    (shape,) = draw(_class_shapes())
    return shape, shape


@st.composite
def _class_kwargs(draw, shapes_, weighted: bool = True, smoothing: bool = False):
    shape = shapes_[0]
    classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    target = draw(hnp.arrays(np.int64, target_shape, elements=st.integers(0, classes - 1)), label="target")
    ignore_index = -100
    if target.size and draw(st.booleans(), label="ignore some"):
        ignore_index = draw(st.integers(0, classes - 1), label="ignore_index")
    weight = None
    if weighted and draw(st.booleans(), label="class weights"):
        weight = draw(hnp.arrays(np.float64, (classes,), elements=WEIGHTS.elements()), label="weight")
    reduction = draw(st.sampled_from(REDUCTIONS), label="reduction")
    out = {"target": target, "weight": weight, "ignore_index": ignore_index, "reduction": reduction}
    if smoothing:
        out["label_smoothing"] = draw(st.sampled_from((0.0, 0.1, 0.35, 1.0)), label="label_smoothing")
    return out


def _class_loss(name: str):
    def call(ns, x, target, weight, ignore_index, reduction, **smoothing):
        w = None if weight is None else _as(ns, weight, x)
        loss = getattr(_f(ns), name)
        return loss(x, ns.from_numpy(target), w, ignore_index=ignore_index, reduction=reduction, **smoothing)

    return call


NLL = op(
    "nn.nll_loss", "nn", _class_loss("nll_loss"), _class_shapes(), (REAL,), kwargs=_class_kwargs,
    doc="class-index targets, class weights, ignore_index; NllLoss2DBackward0 for (N, C, d) inputs (viewed to 4-d)",
)  # fmt: skip
CROSS_ENTROPY = op(
    "nn.cross_entropy", "nn", _class_loss("cross_entropy"), _class_shapes(), (REAL,),
    kwargs=lambda s: _class_kwargs(s, smoothing=True),
    doc="NllLossBackward0 after LogSoftmaxBackward0; class-index targets; label_smoothing (torch's composite: "
    "(1 - s) nll + (s / C) smooth, MulBackward1 and AddBackward0)",
)  # fmt: skip


@st.composite
def _probability_kwargs(draw, shapes_):
    weight = None
    classes = shapes_[0][0] if len(shapes_[0]) == 1 else shapes_[0][1]
    if draw(st.booleans(), label="class weights"):
        weight = draw(hnp.arrays(np.float64, (classes,), elements=WEIGHTS.elements()), label="weight")
    return {
        "weight": weight,
        "reduction": draw(st.sampled_from(REDUCTIONS), label="reduction"),
        "label_smoothing": draw(st.sampled_from((0.0, 0.1, 0.35)), label="label_smoothing"),
    }


def _cross_entropy_probabilities(ns, x, t, weight, reduction, label_smoothing):
    w = None if weight is None else _as(ns, weight, x)
    distribution = t / t.sum(0 if t.dim() == 1 else 1, keepdim=True)  # rows sum to 1 over the classes
    return _f(ns).cross_entropy(x, distribution, w, reduction=reduction, label_smoothing=label_smoothing)


CROSS_ENTROPY_PROBABILITIES = op(
    "nn.cross_entropy_probs", "nn", _cross_entropy_probabilities, _same_class_shapes(),
    (REAL, Domain(0.05, 1.0, name="[0.05, 1]")), kwargs=_probability_kwargs,
    doc="class-probability targets (the target input normalised over the class dim, differentiable): "
    "-(log_softmax(x) * t [* w]).sum(class dim), DivBackward1 for 'mean'; label_smoothing, class weights",
)  # fmt: skip


@st.composite
def _bce_kwargs(draw, shapes_):
    last = shapes_[0][-1:] if shapes_[0] else ()
    out = {"reduction": draw(st.sampled_from(REDUCTIONS), label="reduction"), "weight": None, "pos_weight": None}
    for key in ("weight", "pos_weight"):
        if draw(st.booleans(), label=f"use {key}"):
            out[key] = draw(hnp.arrays(np.float64, last, elements=WEIGHTS.elements()), label=key)
    return out


def _bce(ns, x, y, reduction, weight, pos_weight):
    w = None if weight is None else _as(ns, weight, x)
    pw = None if pos_weight is None else _as(ns, pos_weight, x)
    return _f(ns).binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=pw)


BCE = op(
    "nn.binary_cross_entropy_with_logits", "nn", _bce, _same_shapes(), (REAL, PROBABILITY), kwargs=_bce_kwargs,
    doc="gradients for input and target; weight and pos_weight (not differentiable in torch) over the last dim",
)  # fmt: skip


# -- conv2d and pooling ---------------------------------------------------------------------------


@st.composite
def _conv_shapes(draw):
    """Input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw), bias (O,); H and W leave
    room for dilation 2 without padding, so every drawn stride/padding/dilation is valid."""
    groups = draw(st.integers(1, 2), label="groups")
    c_in, c_out = groups * draw(st.integers(1, 2), label="in per group"), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3), label="kh"), draw(st.integers(1, 3), label="kw")
    h, w = draw(st.integers(2 * kh - 1, 2 * kh + 1), label="H"), draw(st.integers(2 * kw - 1, 2 * kw + 1), label="W")
    batch = draw(st.sampled_from([(), (1,), (2,)]), label="batch")
    return (*batch, c_in, h, w), (c_out, c_in // groups, kh, kw), (c_out,)


@st.composite
def _conv_kwargs(draw, shapes_):
    x, w = shapes_[0], shapes_[1]
    groups = x[-3] // w[1]
    stride = draw(st.sampled_from([1, 2, (1, 2)]), label="stride")
    dilation = draw(st.sampled_from([1, 2, (2, 1)]), label="dilation")
    # 'same' with an even (dilated) kernel pads the input first (ConstantPadNdBackward0), as torch does
    paddings = [0, 1, (1, 0), "valid"] + (["same"] if stride == 1 else [])
    padding = draw(st.sampled_from(paddings), label="padding")
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


CONV2D = op(
    "nn.conv2d", "nn",
    lambda ns, x, w, b, stride, padding, dilation, groups: _f(ns).conv2d(x, w, b, stride, padding, dilation, groups),
    _conv_shapes(), (SMALL, SMALL, SMALL), kwargs=_conv_kwargs,
    doc="ConvolutionBackward0: stride, padding (ints, 'valid', 'same'), dilation, groups, bias; 3-d input unbatched",
)  # fmt: skip


@st.composite
def _pool_shapes(draw):
    batch = draw(st.sampled_from([(), (1,), (2,)]), label="batch")
    return ((*batch, draw(st.integers(1, 2), label="C"), draw(st.integers(1, 5), label="H"), draw(st.integers(1, 5))),)


@st.composite
def _pool_kwargs(draw, shapes_, dilated: bool):
    h, w = shapes_[0][-2:]
    kernel, dilation, padding = [], [], []
    for n, axis in ((h, "H"), (w, "W")):
        k = draw(st.integers(1, min(3, n)), label=f"kernel {axis}")
        d = draw(st.sampled_from([1, 2] if dilated else [1]), label=f"dilation {axis}")
        d = d if (k - 1) * d + 1 <= n else 1  # one window fits without padding
        kernel.append(k)
        dilation.append(d)
        padding.append(draw(st.integers(0, k // 2), label=f"padding {axis}"))  # torch: at most half the kernel
    out = {
        "kernel_size": tuple(kernel),
        "stride": draw(st.sampled_from([None, 1, 2, (2, 1)]), label="stride"),
        "padding": tuple(padding),
        "ceil_mode": draw(st.booleans(), label="ceil_mode"),
    }
    if dilated:
        out["dilation"] = tuple(dilation)
    else:
        out["count_include_pad"] = draw(st.booleans(), label="count_include_pad")
        out["divisor_override"] = draw(st.sampled_from([None, None, 3]), label="divisor_override")
    return out


MAX_POOL = op(
    "nn.max_pool2d", "nn", lambda ns, x, **kw: _f(ns).max_pool2d(x, **kw), _pool_shapes(), (REAL,),
    kwargs=lambda s: _pool_kwargs(s, dilated=True), kinks=Kinks(ties=True),
    doc="MaxPool2DWithIndicesBackward0; ties send the gradient to the first maximum (torch's CPU index)",
)  # fmt: skip
AVG_POOL = op(
    "nn.avg_pool2d", "nn", lambda ns, x, **kw: _f(ns).avg_pool2d(x, **kw), _pool_shapes(), (REAL,),
    kwargs=lambda s: _pool_kwargs(s, dilated=False),
    doc="AvgPool2DBackward0: padding, ceil_mode, count_include_pad, divisor_override",
)  # fmt: skip


OPS = [
    *ACTIVATIONS, DROPOUT, LINEAR, EMBEDDING, EMBEDDING_MAX_NORM, LAYER_NORM, MSE, NLL, CROSS_ENTROPY,
    CROSS_ENTROPY_PROBABILITIES, BCE, CONV2D, MAX_POOL, AVG_POOL,
]  # fmt: skip

# torch's activations, norms and losses are real-only, but not its linear maps
OPS = also_complex(OPS, ("nn.dropout", "nn.linear", "nn.conv2d"))
