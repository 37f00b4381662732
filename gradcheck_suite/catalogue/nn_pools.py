"""Catalogue family 'nn' (gathered by nn_layers.py): the 1-d pools, adaptive_avg_pool2d, and the
rearranging ops pixel_shuffle, pixel_unshuffle, unfold (im2col) and fold (col2im).

max_pool1d's ties are its kinks (the gradient goes to the first maximum, torch's CPU index). fold's
input shape fixes its geometry only up to a choice: its kwargs pick one of the small geometries
whose number of sliding blocks matches the drawn input.
"""

from __future__ import annotations

import functools
import itertools

from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.nn import _f
from gradcheck_suite.catalogue.spec import REAL, SMALL, Kinks, op

# -- avg_pool1d, max_pool1d ---------------------------------------------------------------------------


@st.composite
def _pool1d_shapes(draw):
    batch = draw(st.sampled_from([(), (1,), (2,)]), label="batch")
    return ((*batch, draw(st.integers(1, 2), label="C"), draw(st.integers(1, 6), label="L")),)


@st.composite
def _pool1d_kwargs(draw, shapes_, dilated: bool):
    n = shapes_[0][-1]
    k = draw(st.integers(1, min(3, n)), label="kernel")
    d = draw(st.sampled_from([1, 2] if dilated else [1]), label="dilation")
    d = d if (k - 1) * d + 1 <= n else 1  # one window fits without padding
    out = {
        "kernel_size": k,
        "stride": draw(st.sampled_from([None, 1, 2]), label="stride"),
        "padding": draw(st.integers(0, k // 2), label="padding"),
        "ceil_mode": draw(st.booleans(), label="ceil_mode"),
    }
    if dilated:
        out["dilation"] = d
    else:
        out["count_include_pad"] = draw(st.booleans(), label="count_include_pad")
    return out


POOLS_1D = [
    op(
        "nn.max_pool1d", "nn", lambda ns, x, **kw: _f(ns).max_pool1d(x, **kw), _pool1d_shapes(), (REAL,),
        kwargs=lambda s: _pool1d_kwargs(s, dilated=True), kinks=Kinks(ties=True),
        doc="SqueezeBackward1 over MaxPool2DWithIndicesBackward0 (torch pools a height-1 view); ties send the "
        "gradient to the first maximum",
    ),
    op(
        "nn.avg_pool1d", "nn", lambda ns, x, **kw: _f(ns).avg_pool1d(x, **kw), _pool1d_shapes(), (REAL,),
        kwargs=lambda s: _pool1d_kwargs(s, dilated=False),
        doc="SqueezeBackward1 over AvgPool2DBackward0: padding, ceil_mode, count_include_pad",
    ),
]  # fmt: skip


# -- adaptive_avg_pool2d ---------------------------------------------------------------------------------


@st.composite
def _image_shapes(draw):
    batch = draw(st.sampled_from([(), (1,), (2,)]), label="batch")
    return ((*batch, draw(st.integers(1, 2), label="C"), draw(st.integers(1, 5), label="H"), draw(st.integers(1, 5))),)


def _adaptive_kwargs(shapes_):
    side = st.one_of(st.integers(1, 5), st.none())  # None keeps the input's size; more than it overlaps windows
    return st.fixed_dictionaries({"output_size": st.one_of(st.integers(1, 5), st.tuples(side, side))})


ADAPTIVE_AVG = op(
    "nn.adaptive_avg_pool2d", "nn", lambda ns, x, output_size: _f(ns).adaptive_avg_pool2d(x, output_size),
    _image_shapes(), (REAL,), kwargs=_adaptive_kwargs,
    doc="AdaptiveAvgPool2DBackward0: windows floor(i n / o) to ceil((i + 1) n / o), larger outputs included",
)  # fmt: skip


# -- pixel_shuffle, pixel_unshuffle -------------------------------------------------------------------


@st.composite
def _shuffle_shapes(draw, inverse: bool):
    r = draw(st.integers(1, 3), label="factor")
    lead = draw(st.sampled_from([(), (2,)]), label="leading dims")
    c, h, w = draw(st.integers(1, 2), label="C"), draw(st.integers(1, 2), label="H"), draw(st.integers(1, 2))
    return ((*lead, c, h * r, w * r),) if inverse else ((*lead, c * r * r, h, w),)


def _shuffle_kwargs(shapes_, inverse: bool):
    shape = shapes_[0]
    if inverse:
        factors = [r for r in (1, 2, 3) if shape[-1] % r == 0 and shape[-2] % r == 0]
    else:
        factors = [r for r in (1, 2, 3) if shape[-3] % (r * r) == 0]
    return st.fixed_dictionaries({"factor": st.sampled_from(factors)})


SHUFFLES = [
    op(
        "nn.pixel_shuffle", "nn", lambda ns, x, factor: _f(ns).pixel_shuffle(x, factor),
        _shuffle_shapes(inverse=False), (SMALL,), kwargs=lambda s: _shuffle_kwargs(s, inverse=False),
        doc="PixelShuffleBackward0: (*, C r^2, H, W) -> (*, C, H r, W r)",
    ),
    op(
        "nn.pixel_unshuffle", "nn", lambda ns, x, factor: _f(ns).pixel_unshuffle(x, factor),
        _shuffle_shapes(inverse=True), (SMALL,), kwargs=lambda s: _shuffle_kwargs(s, inverse=True),
        doc="PixelUnshuffleBackward0: (*, C, H r, W r) -> (*, C r^2, H, W)",
    ),
]  # fmt: skip


# -- unfold, fold ---------------------------------------------------------------------------------------


@st.composite
def _unfold_kwargs(draw, shapes_):
    h, w = shapes_[0][-2:]
    kernel = (draw(st.integers(1, min(3, h)), label="kh"), draw(st.integers(1, min(3, w)), label="kw"))
    dilation = tuple(d if (k - 1) * d + 1 <= n else 1 for d, k, n in zip(
        (draw(st.sampled_from([1, 2]), label="dilation H"), draw(st.sampled_from([1, 2]), label="dilation W")),
        kernel, (h, w),
    ))  # fmt: skip
    return {
        "kernel_size": kernel,
        "dilation": dilation,
        "padding": draw(st.sampled_from([0, 1, (1, 0)]), label="padding"),
        "stride": draw(st.sampled_from([1, 2, (2, 1)]), label="stride"),
    }


UNFOLD = op(
    "nn.unfold", "nn", lambda ns, x, **kw: _f(ns).unfold(x, **kw), _image_shapes(), (SMALL,), kwargs=_unfold_kwargs,
    doc="Im2ColBackward0 (unbatched input too): kernel_size, dilation, padding, stride",
)  # fmt: skip


def _blocks(size: int, kernel: int, dilation: int, padding: int, stride: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@functools.cache
def _fold_geometries() -> dict[tuple[int, int], tuple[dict, ...]]:
    """Every small fold geometry, by (kernel elements, sliding blocks)."""
    table: dict[tuple[int, int], list[dict]] = {}
    per_dim = list(
        itertools.product(range(1, 5), (1, 2), (1, 2), (0, 1), (1, 2))
    )  # size, kernel, dilation, pad, stride
    for a, b in itertools.product(per_dim, per_dim):
        blocks = [_blocks(*a), _blocks(*b)]
        if min(blocks) < 1:
            continue
        geometry = {"output_size": (a[0], b[0]), "kernel_size": (a[1], b[1]), "dilation": (a[2], b[2]),
                    "padding": (a[3], b[3]), "stride": (a[4], b[4])}  # fmt: skip
        table.setdefault((a[1] * b[1], blocks[0] * blocks[1]), []).append(geometry)
    return {key: tuple(value) for key, value in table.items()}


@st.composite
def _fold_shapes(draw):
    key = draw(st.sampled_from(sorted(_fold_geometries())), label="kernel elements, blocks")
    channels = draw(st.integers(1, 2), label="C")
    batch = draw(st.sampled_from([(), (1,), (2,)]), label="batch")
    return ((*batch, channels * key[0], key[1]),)


def _fold_kwargs(shapes_):
    channels_by_kernel, blocks = shapes_[0][-2:]
    candidates = [
        g for (elements, n), options in _fold_geometries().items() if n == blocks and channels_by_kernel % elements == 0
        for g in options
    ]  # fmt: skip
    return st.sampled_from(candidates)


FOLD = op(
    "nn.fold", "nn", lambda ns, x, **kw: _f(ns).fold(x, **kw), _fold_shapes(), (SMALL,), kwargs=_fold_kwargs,
    doc="Col2ImBackward0 (unbatched input too): overlapping blocks add up",
)  # fmt: skip

# data movement (shuffles, unfold, fold) is the same for complex numbers; torch pools real numbers only
OPS = [*POOLS_1D, ADAPTIVE_AVG, *also_complex([*SHUFFLES, UNFOLD, FOLD])]
