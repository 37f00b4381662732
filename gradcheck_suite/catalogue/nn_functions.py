"""Catalogue family 'nn', continued: more torch.nn.functional activations, losses and distances.

Names carry the ``nn.`` prefix. Ops with two switch points where torch takes the left-hand
slope at one and the right-hand slope at the other (hardswish, hardsigmoid, soft/hardshrink)
draw one of them per case as ``kink_at`` (ignored by the op): the checker moves all kink
elements of a case together, and with one witness (``--engine torch``) judges such a mixed
case a bug although each element's value is a one-sided derivative.

Losses whose kink is at ``|input - target| = delta`` are checked as ``loss(input + shift,
target)`` with ``shift = +-delta`` a drawn constant: a tie ``input == target`` then sits
exactly on the kink.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import NONZERO, REAL, Domain, Kinks, op
from gradcheck_suite.strategies import shapes

WIDE = Domain(-4.5, 4.5, name="[-4.5, 4.5]")
AT_ZERO = Kinks(points=(0.0,))


def _f(ns):
    return ns.nn.functional


def _unary(name: str, call, domain=REAL, kwargs=None, kinks=None, **rest):
    return op(
        f"nn.{name}", "nn", call, shapes(), (domain,),
        kwargs=kwargs or (lambda s: st.just({})), kinks=kinks, **rest,
    )  # fmt: skip


@st.composite
def _lambd_kwargs(draw, shapes_):
    # lambd off the quarter grid that value draws favour; one switch point (-lambd or lambd) per case:
    # torch's slope 0 is the right-hand one at -lambd and the left-hand one at lambd, and kinks of
    # both kinds in one case are judged together (see the module docstring)
    lam = draw(st.sampled_from((0.45, 0.3, 1.15)), label="lambd")
    return {"lambd": lam, "kink_at": draw(st.sampled_from((-lam, lam)), label="kink at")}


SHRINK_KINKS = Kinks(kwarg_points=("kink_at",))


@st.composite
def _hard_kinks_kwargs(draw, shapes_):
    return {"kink_at": draw(st.sampled_from((-3.0, 3.0)), label="kink at")}


HARD_KINKS = Kinks(kwarg_points=("kink_at",))


def _one_dim(shapes_):
    size = max(len(shapes_[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-size, size - 1)})


@st.composite
def _glu_shapes(draw):
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), label="shape"))
    dim = draw(st.integers(0, len(shape) - 1), label="halved dim")
    shape[dim] *= 2
    return (tuple(shape),)


@st.composite
def _glu_kwargs(draw, shapes_):
    even = [d for d, n in enumerate(shapes_[0]) if n % 2 == 0]
    dim = draw(st.sampled_from(even), label="dim")
    return {"dim": dim - len(shapes_[0]) if draw(st.booleans(), label="negative dim") else dim}


@st.composite
def _prelu_shapes(draw):
    """x of rank 0 to 4; the weight is one element ((1,) or 0-d) or one per channel (dim 1)."""
    x = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3), label="input shape")
    options = [(1,), ()] + ([(x[1],)] if len(x) >= 2 else [])
    return x, draw(st.sampled_from(options), label="weight shape")


ACTIVATIONS = [
    _unary("mish", lambda ns, a: _f(ns).mish(a), WIDE, doc="MishBackward0"),
    _unary(
        "selu", lambda ns, a: _f(ns).selu(a), NONZERO, kinks=AT_ZERO,
        doc="EluBackward0 (elu with scale); the slope jumps at 0, where torch takes the negative side",
    ),
    _unary(
        "celu", lambda ns, a, alpha: _f(ns).celu(a, alpha), WIDE,
        kwargs=lambda s: st.fixed_dictionaries({"alpha": st.sampled_from((1.0, 0.5, 2.0))}), kinks=AT_ZERO,
        doc="CeluBackward0; C1 at 0, where torch's second derivative is 0",
    ),
    _unary("logsigmoid", lambda ns, a: _f(ns).logsigmoid(a), WIDE, doc="LogSigmoidBackward0"),
    _unary(
        "hardswish", lambda ns, a, kink_at: _f(ns).hardswish(a), WIDE, kwargs=_hard_kinks_kwargs, kinks=HARD_KINKS,
        doc="HardswishBackward0; torch's slope is 0 at -3 and 1 at 3",
    ),
    _unary(
        "hardsigmoid", lambda ns, a, kink_at: _f(ns).hardsigmoid(a), WIDE, kwargs=_hard_kinks_kwargs, kinks=HARD_KINKS,
        second_order=False, doc="HardsigmoidBackward0; slope 0 at +-3; torch has no double backward",
    ),
    _unary(
        "softshrink", lambda ns, a, lambd, kink_at: _f(ns).softshrink(a, lambd), REAL,
        kwargs=_lambd_kwargs, kinks=SHRINK_KINKS, doc="SoftshrinkBackward0; slope 0 at +-lambd (torch)",
    ),
    _unary(
        "hardshrink", lambda ns, a, lambd, kink_at: _f(ns).hardshrink(a, lambd), REAL,
        kwargs=_lambd_kwargs, kinks=SHRINK_KINKS,
        doc="HardshrinkBackward0; a jump at +-lambd, where torch gives 0 and slope 0",
    ),
    _unary(
        "softsign", lambda ns, a: _f(ns).softsign(a), REAL, kinks=AT_ZERO,
        doc="composite x / (1 + |x|) (DivBackward0); C1 at 0, abs'(0) = 0",
    ),
    _unary("tanhshrink", lambda ns, a: _f(ns).tanhshrink(a), REAL, doc="composite x - tanh(x) (SubBackward0)"),
    _unary(
        "softmin", lambda ns, a, dim: _f(ns).softmin(a, dim), REAL, kwargs=_one_dim,
        doc="composite softmax(-x) (SoftmaxBackward0 over NegBackward0)",
    ),
    op(
        "nn.glu", "nn", lambda ns, a, dim: _f(ns).glu(a, dim), _glu_shapes(), (REAL,), kwargs=_glu_kwargs,
        doc="GluBackward0: first half * sigmoid(second half) along dim",
    ),
    op(
        "nn.prelu", "nn", lambda ns, x, w: _f(ns).prelu(x, w), _prelu_shapes(), (NONZERO, REAL),
        kinks=Kinks(points=(0.0,), inputs=(0,)),
        doc="PreluKernelBackward0 after a ViewBackward0 of the weight where ranks differ; slope w at 0, "
        "where torch's double backward takes the positive side",
    ),
]  # fmt: skip


# -- elementwise losses ----------------------------------------------------------------------------

REDUCTIONS = ("mean", "sum", "none")
INSIDE_UNIT = Domain(0.05, 0.95, name="[0.05, 0.95]")
TARGET_PROBABILITY = Domain(0.05, 1.0, name="[0.05, 1]")
WEIGHTS = Domain(0.5, 2.0, name="weights")
TIE_KINKS = Kinks(ties=True)


@st.composite
def _same_shapes(draw, n: int = 2):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), label="shape")
    return (shape,) * n


@st.composite
def _shifted_kwargs(draw, shapes_, key: str, widths: tuple):
    """reduction, the width (delta or beta) and a shift of +-width: input == target is then on the kink."""
    width = draw(st.sampled_from(widths), label=key)
    sign = draw(st.sampled_from((1.0, -1.0)), label="shift sign")
    return {"reduction": draw(st.sampled_from(REDUCTIONS), label="reduction"), key: width, "shift": sign * width}


def _reduction_only(shapes_):
    return st.fixed_dictionaries({"reduction": st.sampled_from(REDUCTIONS)})


@st.composite
def _kl_kwargs(draw, shapes_):
    reduction = draw(st.sampled_from((*REDUCTIONS, "batchmean")), label="reduction")
    return {"reduction": reduction, "log_target": draw(st.booleans(), label="log_target")}


def _kl_div(ns, x, t, reduction, log_target):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'mean' warns that it will become 'batchmean'
        return _f(ns).kl_div(x, t, reduction=reduction, log_target=log_target)


@st.composite
def _bce_kwargs(draw, shapes_):
    last = shapes_[0][-1:] if shapes_[0] else ()
    weight = None
    if draw(st.booleans(), label="use weight"):
        weight = draw(hnp.arrays(np.float64, last, elements=WEIGHTS.elements()), label="weight")
    return {"reduction": draw(st.sampled_from(REDUCTIONS), label="reduction"), "weight": weight}


def _bce(ns, x, y, reduction, weight):
    w = None if weight is None else ns.from_numpy(np.asarray(weight)).to(x.dtype)
    return _f(ns).binary_cross_entropy(x, y, w, reduction=reduction)


@st.composite
def _signs_kwargs(draw, shapes_):
    signs = draw(hnp.arrays(np.float64, shapes_[0], elements=st.sampled_from((1.0, -1.0))), label="target signs")
    return {"target": signs, "reduction": draw(st.sampled_from(REDUCTIONS), label="reduction")}


@st.composite
def _poisson_kwargs(draw, shapes_):
    return {
        "log_input": draw(st.booleans(), label="log_input"),
        "full": draw(st.booleans(), label="full"),
        "reduction": draw(st.sampled_from(REDUCTIONS), label="reduction"),
    }


@st.composite
def _margin_kwargs(draw, shapes_):
    out = draw(_signs_kwargs(shapes_))
    out["margin"] = draw(st.sampled_from((0.0, 0.5, -0.25)), label="margin")
    return out


def _margin_ranking(ns, a, b, target, reduction, margin):
    # input1 is shifted by margin * target: a tie input1 == input2 is then on the kink
    # -target * (input1 - input2) + margin = 0
    y = ns.from_numpy(target).to(a.dtype)
    shifted = a + ns.from_numpy(np.asarray(margin * target)).to(a.dtype)
    return _f(ns).margin_ranking_loss(shifted, b, y, margin, reduction=reduction)


LOSSES = [
    op(
        "nn.huber_loss", "nn",
        lambda ns, a, b, reduction, delta, shift: _f(ns).huber_loss(a + shift, b, reduction=reduction, delta=delta),
        _same_shapes(), (REAL, REAL), kwargs=lambda s: _shifted_kwargs(s, "delta", (1.0, 0.5, 2.0)),
        kinks=TIE_KINKS,
        doc="HuberLossBackward0 on (input + shift, target), shift = +-delta: ties sit on |d| = delta, where "
        "torch's second derivative is 0",
    ),
    op(
        "nn.smooth_l1_loss", "nn",
        lambda ns, a, b, reduction, beta, shift: _f(ns).smooth_l1_loss(a + shift, b, reduction=reduction, beta=beta),
        _same_shapes(), (REAL, REAL), kwargs=lambda s: _shifted_kwargs(s, "beta", (1.0, 0.5, 0.0)),
        kinks=TIE_KINKS,
        doc="SmoothL1LossBackward0 on (input + shift, target), shift = +-beta (ties on |d| = beta); beta = 0 is "
        "torch's composite l1_loss",
    ),
    op(
        "nn.l1_loss", "nn", lambda ns, a, b, reduction: _f(ns).l1_loss(a, b, reduction=reduction),
        _same_shapes(), (REAL, REAL), kwargs=_reduction_only, kinks=TIE_KINKS,
        doc="composite |input - target| (AbsBackward0), then MeanBackward0 or SumBackward0",
    ),
    op(
        "nn.kl_div", "nn", _kl_div, _same_shapes(), (REAL, TARGET_PROBABILITY), kwargs=_kl_kwargs,
        doc="composite: xlogy(t, t) - t x, or exp(t) (t - x) with log_target; 'batchmean' divides the sum by dim 0",
    ),
    op(
        "nn.binary_cross_entropy", "nn", _bce, _same_shapes(), (INSIDE_UNIT, INSIDE_UNIT), kwargs=_bce_kwargs,
        second_order=False,
        doc="BinaryCrossEntropyBackward0, input and target differentiable; weight (not) over the last dim. "
        "Targets stay inside (0, 1), where torch checks them. No hvp check: torch's double backward adds "
        "eps = 1e-12 terms (relative differences ~1e-12) that the engine's recorded backward does not mirror",
    ),
    op(
        "nn.soft_margin_loss", "nn",
        lambda ns, a, target, reduction: _f(ns).soft_margin_loss(
            a, ns.from_numpy(target).to(a.dtype), reduction=reduction
        ),
        _same_shapes(1), (REAL,), kwargs=_signs_kwargs,
        doc="SoftMarginLossBackward0; +-1 targets (torch does not differentiate the target)",
    ),
    op(
        "nn.margin_ranking_loss", "nn", _margin_ranking, _same_shapes(), (REAL, REAL), kwargs=_margin_kwargs,
        kinks=TIE_KINKS,
        doc="composite (-y (x1 - x2) + margin).clamp_min(0) (ClampMinBackward0 over AddBackward1), +-1 targets; "
        "x1 shifted by margin * y so that ties sit on the kink, where torch's clamp_min passes the gradient",
    ),
    op(
        "nn.poisson_nll_loss", "nn",
        lambda ns, x, t, **kw: _f(ns).poisson_nll_loss(x, t, **kw),
        _same_shapes(), (Domain(0.1, 3.0, name="[0.1, 3]"), Domain(0.1, 4.0, name="[0.1, 4]")),
        kwargs=_poisson_kwargs, kinks=Kinks(points=(1.0,), inputs=(1,)),
        doc="composite; full=True adds Stirling's term where target > 1 (MaskedFillBackward0): a jump at 1",
    ),
]  # fmt: skip


# -- distances ----------------------------------------------------------------------------------


@st.composite
def _normalize_kwargs(draw, shapes_):
    ndim = len(shapes_[0])
    return {
        "p": draw(st.sampled_from((2.0, 1.0, 3.0)), label="p"),
        "dim": draw(st.integers(-ndim, ndim - 1), label="dim"),
        "eps": draw(st.sampled_from((1e-12, 0.6)), label="eps"),
    }


# Reduced dims have two elements or more: over one element (or over a dim an input is broadcast
# along) the result is a constant +-1 or |d|, whose exactly-zero derivative is then judged on
# rounding noise alone (torch's 2e-16 against an exact 0: see the report of this family)
VECTORS = hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4)


@st.composite
def _pair_shapes(draw):
    """Equal shapes, or the first with size 1 in one dim but the last (broadcast against the second)."""
    shape = draw(VECTORS, label="shape")
    first = list(shape)
    if len(shape) >= 2 and draw(st.booleans(), label="broadcast"):
        first[draw(st.integers(0, len(shape) - 2), label="broadcast dim")] = 1
    return tuple(first), shape


@st.composite
def _cosine_kwargs(draw, shapes_):
    ndim = len(shapes_[1])
    dims = [d for d in range(ndim) if shapes_[0][d] != 1]
    dim = draw(st.sampled_from(dims), label="dim")
    if draw(st.booleans(), label="negative dim"):
        dim -= ndim
    return {"dim": dim, "eps": draw(st.sampled_from((1e-8, 1e-3)), label="eps")}


def _pairwise_kwargs(shapes_):
    return st.fixed_dictionaries(
        {"p": st.sampled_from((2.0, 1.0, 3.0)), "eps": st.sampled_from((1e-6, 0.1)), "keepdim": st.booleans()}
    )


DISTANCES = [
    op(
        "nn.normalize", "nn", lambda ns, a, p, dim, eps: _f(ns).normalize(a, p, dim, eps),
        VECTORS.map(lambda shape: (shape,)), (NONZERO,), kwargs=_normalize_kwargs,
        doc="composite x / norm(x).clamp_min(eps).expand (DivBackward0); eps = 0.6 clamps short vectors",
    ),
    op(
        "nn.cosine_similarity", "nn", lambda ns, a, b, dim, eps: _f(ns).cosine_similarity(a, b, dim, eps),
        _pair_shapes(), (NONZERO, NONZERO), kwargs=_cosine_kwargs,
        doc="composite: norms cloned and clamped at eps in place under no_grad, sum((x1/n1) * (x2/n2)) "
        "(SumBackward1); inputs broadcast. Norms stay above eps: below it torch's gradient still follows the "
        "unclamped norm",
    ),
    op(
        "nn.pairwise_distance", "nn",
        lambda ns, a, b, p, eps, keepdim: _f(ns).pairwise_distance(a, b, p, eps, keepdim),
        _pair_shapes(), (REAL, REAL), kwargs=_pairwise_kwargs,
        doc="composite norm(x1 - x2 + eps, p, last dim) (NormBackward1 over AddBackward1); inputs broadcast",
    ),
]  # fmt: skip


OPS: list = [*ACTIVATIONS, *LOSSES, *DISTANCES]

# the few that torch computes in complex (through |x|, not an order)
OPS = also_complex(OPS, ("nn.softsign", "nn.tanhshrink", "nn.l1_loss", "nn.normalize", "nn.pairwise_distance"))
