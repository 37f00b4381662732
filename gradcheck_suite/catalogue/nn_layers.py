"""Catalogue family 'nn': torch.nn.functional's layers beyond conv2d and the 2-d pools: conv1d/conv3d,
the transposed convolutions, group/batch/instance norm; nn_sampling.py adds interpolate, attention,
grid_sample; nn_pools.py the 1-d pools, adaptive_avg_pool2d, pixel_(un)shuffle, unfold and fold.

Shapes stay small (every case is checked by float64 finite differences); an optional bias is a
``bias`` kwarg (the bias input is then unused and its gradient zero on every side).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_suite.catalogue import nn_pools, nn_sampling
from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.nn import _as, _f
from gradcheck_suite.catalogue.spec import POSITIVE, REAL, SMALL, op

_BATCH = st.sampled_from([(), (1,), (2,)])


# -- convolutions ---------------------------------------------------------------------------------


@st.composite
def _conv_shapes(draw, dims: int, transposed: bool = False):
    """Input (N, C, *spatial) or (C, *spatial), weight, bias. A convolution's weight is
    (O, C/groups, *kernel) and each side leaves room for dilation 2 without padding; a transposed
    one's weight is (C, O/groups, *kernel) and any input size works."""
    groups = draw(st.integers(1, 2), label="groups")
    c_in, c_out = groups * draw(st.integers(1, 2), label="in per group"), groups * draw(st.integers(1, 2))
    largest = 3 if dims < 3 else 2
    kernel = tuple(draw(st.integers(1, largest), label="kernel") for _ in range(dims))
    if transposed:
        spatial = tuple(draw(st.integers(1, 3 if dims < 3 else 2), label="size") for _ in kernel)
        weight = (c_in, c_out // groups, *kernel)
    else:
        spatial = tuple(draw(st.integers(2 * k - 1, 2 * k + (dims < 3)), label="size") for k in kernel)
        weight = (c_out, c_in // groups, *kernel)
    batch = draw(_BATCH, label="batch")
    return (*batch, c_in, *spatial), weight, (weight[1] * groups if transposed else c_out,)


def _per_dim(dims: int, values: tuple):
    """An int from ``values``, or (dims > 1) a tuple of them, one per spatial dim."""
    options = [st.sampled_from(values)]
    if dims > 1:
        options.append(st.tuples(*(st.sampled_from(values) for _ in range(dims))))
    return st.one_of(options)


@st.composite
def _conv_kwargs(draw, shapes_, dims: int):
    x, w = shapes_[0], shapes_[1]
    stride = draw(_per_dim(dims, (1, 2)), label="stride")
    dilation = draw(_per_dim(dims, (1, 2)), label="dilation")
    # 'same' with an even (dilated) kernel pads the input first (ConstantPadNdBackward0), as torch does
    paddings = [0, 1, "valid"] + (["same"] if stride == 1 else [])
    return {
        "stride": stride,
        "padding": draw(st.sampled_from(paddings), label="padding"),
        "dilation": dilation,
        "groups": x[-dims - 1] // w[1],
        "bias": draw(st.booleans(), label="bias"),
    }


def _conv(dims: int):
    def call(ns, x, w, b, stride, padding, dilation, groups, bias):
        conv = getattr(_f(ns), f"conv{dims}d")
        return conv(x, w, b if bias else None, stride, padding, dilation, groups)

    return call


@st.composite
def _transposed_kwargs(draw, shapes_, dims: int):
    x, w = shapes_[0], shapes_[1]
    spatial, kernel = x[-dims:], w[2:]
    stride, dilation, padding, output_padding = [], [], [], []
    for n, k in zip(spatial, kernel):
        s, d = draw(st.sampled_from((1, 2, 3)), label="stride"), draw(st.sampled_from((1, 2)), label="dilation")
        span = (n - 1) * s + d * (k - 1) + 1  # the output size without padding
        p = draw(st.integers(0, min(1, (span - 1) // 2)), label="padding")  # one output element at least
        extra = draw(st.integers(0, max(s, d) - 1), label="output_padding")
        stride.append(s), dilation.append(d), padding.append(p), output_padding.append(extra)
    return {
        "stride": tuple(stride),
        "padding": tuple(padding),
        "output_padding": tuple(output_padding),
        "groups": shapes_[2][0] // w[1],  # output channels over the weight's per-group count
        "dilation": tuple(dilation),
        "bias": draw(st.booleans(), label="bias"),
    }


def _transposed(dims: int):
    def call(ns, x, w, b, stride, padding, output_padding, groups, dilation, bias):
        conv = getattr(_f(ns), f"conv_transpose{dims}d")
        return conv(x, w, b if bias else None, stride, padding, output_padding, groups, dilation)

    return call


def _conv_op(dims: int):
    return op(
        f"nn.conv{dims}d", "nn", _conv(dims), _conv_shapes(dims), (SMALL, SMALL, SMALL),
        kwargs=lambda s: _conv_kwargs(s, dims),
        doc="ConvolutionBackward0: stride, padding (ints, 'valid', 'same'), dilation, groups, optional bias; "
        "unbatched input is unsqueezed (SqueezeBackward1 on top)",
    )  # fmt: skip


def _transposed_op(dims: int):
    return op(
        f"nn.conv_transpose{dims}d", "nn", _transposed(dims), _conv_shapes(dims, transposed=True),
        (SMALL, SMALL, SMALL), kwargs=lambda s: _transposed_kwargs(s, dims),
        doc="ConvolutionBackward0 (transposed): stride, padding, output_padding, groups, dilation, optional bias",
    )  # fmt: skip


CONVOLUTIONS = [_conv_op(1), _conv_op(3), _transposed_op(1), _transposed_op(2), _transposed_op(3)]


# -- normalization over channels ----------------------------------------------------------------------


@st.composite
def _channel_shapes(draw, per_group: bool):
    """(N, C, *spatial), weight (C,), bias (C,); C = groups * channels per group for group_norm."""
    groups = draw(st.integers(1, 2), label="groups") if per_group else 1
    channels = groups * draw(st.integers(1, 3), label="channels per group")
    spatial = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3), label="spatial")
    batch = draw(st.integers(1, 3), label="N")
    return (batch, channels, *spatial), (channels,), (channels,)


def _spread(shape: tuple) -> np.ndarray:
    """A fixed ramp added to the input, so that no normalized group is constant (where rstd =
    eps**-0.5 makes every result rounding noise)."""
    return np.linspace(-1.7, 1.3, int(np.prod(shape))).reshape(shape)


@st.composite
def _group_norm_kwargs(draw, shapes_):
    x = shapes_[0]
    divisors = [g for g in range(1, x[1] + 1) if x[1] % g == 0 and x[1] // g * int(np.prod(x[2:])) >= 3]
    return {
        "num_groups": draw(st.sampled_from(divisors or [1]), label="num_groups"),
        "eps": draw(st.sampled_from((1e-5, 0.1)), label="eps"),
        "affine": draw(st.booleans(), label="weight and bias"),
        "spread": _spread(x),
    }


def _group_norm(ns, x, w, b, num_groups, eps, affine, spread):
    return _f(ns).group_norm(x + _as(ns, spread, x), num_groups, w if affine else None, b if affine else None, eps)


def _group_shapes(draw_shapes):
    # at least three elements per channel group: the whole of C * spatial must reach three
    return draw_shapes.filter(lambda s: s[0][1] * int(np.prod(s[0][2:])) >= 3)


GROUP_NORM = op(
    "nn.group_norm", "nn", _group_norm, _group_shapes(_channel_shapes(per_group=True)), (REAL, REAL, REAL),
    kwargs=_group_norm_kwargs,
    doc="NativeGroupNormBackward0 with or without weight and bias; the input is x + spread (a fixed ramp), as for "
    "layer_norm, so no group is constant",
)  # fmt: skip


@st.composite
def _batch_norm_kwargs(draw, shapes_):
    x = shapes_[0]
    c = x[1]
    enough = x[0] * int(np.prod(x[2:])) >= 3  # training statistics over three elements or more
    return {
        "training": draw(st.booleans(), label="training") if enough else False,
        "running_mean": draw(hnp.arrays(np.float64, (c,), elements=SMALL.elements()), label="running_mean"),
        "running_var": draw(hnp.arrays(np.float64, (c,), elements=POSITIVE.elements()), label="running_var"),
        "momentum": draw(st.sampled_from((0.1, 0.5)), label="momentum"),
        "eps": draw(st.sampled_from((1e-5, 0.1)), label="eps"),
        "affine": draw(st.booleans(), label="weight and bias"),
        "spread": _spread(x),
    }


def _batch_norm(ns, x, w, b, training, running_mean, running_var, momentum, eps, affine, spread):
    # fresh running statistics per call: training updates them in place, as torch does
    mean, var = _as(ns, running_mean, x).clone(), _as(ns, running_var, x).clone()
    w, b = (w, b) if affine else (None, None)
    return _f(ns).batch_norm(x + _as(ns, spread, x), mean, var, w, b, training, momentum, eps)


BATCH_NORM = op(
    "nn.batch_norm", "nn", _batch_norm, _channel_shapes(per_group=False), (REAL, REAL, REAL),
    kwargs=_batch_norm_kwargs,
    doc="NativeBatchNormBackward0, training (batch statistics; running_mean/var updated in place, not "
    "differentiated) or eval (running statistics); optional weight and bias; input is x + spread (a fixed ramp)",
)  # fmt: skip


@st.composite
def _instance_norm_kwargs(draw, shapes_):
    return {
        "eps": draw(st.sampled_from((1e-5, 0.1)), label="eps"),
        "affine": draw(st.booleans(), label="weight and bias"),
        "spread": _spread(shapes_[0]),
    }


def _instance_norm(ns, x, w, b, eps, affine, spread):
    w, b = (w, b) if affine else (None, None)
    return _f(ns).instance_norm(x + _as(ns, spread, x), weight=w, bias=b, eps=eps)


INSTANCE_NORM = op(
    "nn.instance_norm", "nn", _instance_norm,
    _channel_shapes(per_group=False).filter(lambda s: len(s[0]) > 2 and np.prod(s[0][2:]) >= 3),
    (REAL, REAL, REAL), kwargs=_instance_norm_kwargs,
    doc="ViewBackward0 over NativeBatchNormBackward0: torch views (N, C, *) as one sample of N * C channels "
    "(weight and bias repeated N times); input is x + spread (a fixed ramp)",
)  # fmt: skip

# convolutions are linear maps (conjugates in backward); norms, sampling and pooling are real-only in torch
OPS: list = [
    *also_complex(CONVOLUTIONS), GROUP_NORM, BATCH_NORM, INSTANCE_NORM, *nn_sampling.OPS, *nn_pools.OPS,
]  # fmt: skip
