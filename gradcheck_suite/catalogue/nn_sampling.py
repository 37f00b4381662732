"""Catalogue family 'nn' (gathered by nn_layers.py): interpolate, scaled_dot_product_attention,
grid_sample.

interpolate is linear in its input (nearest is a fixed scatter, bilinear fixed weights): no kinks.
grid_sample's derivative in the grid jumps where a sample point crosses a pixel: its grid is drawn
in pixel coordinates from ``Cells`` away from the integers (the kinks, declared so that a share of
cases lands on them) and mapped to torch's [-1, 1] coordinates inside ``fn``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_suite.catalogue.nn import _as, _f
from gradcheck_suite.catalogue.pointwise import Cells
from gradcheck_suite.catalogue.spec import SMALL, Kinks, op

_BATCH = st.sampled_from([(), (1,), (2,)])

# -- interpolate ---------------------------------------------------------------------------------


@st.composite
def _resize_shapes(draw, dims_options: tuple):
    dims = draw(st.sampled_from(dims_options), label="spatial dims")
    n, c = draw(st.integers(1, 2), label="N"), draw(st.integers(1, 2), label="C")
    return ((n, c, *(draw(st.integers(1, 4), label="size") for _ in range(dims))),)


_SCALES = (0.5, 0.75, 1.5, 1.7, 2.0, 2.5)


@st.composite
def _resize_kwargs(draw, shapes_, mode: str):
    spatial = shapes_[0][2:]
    out = {"mode": mode}
    if draw(st.booleans(), label="by size"):
        out["size"] = tuple(draw(st.integers(1, 6), label="out size") for _ in spatial)
    else:
        # a scale that leaves every dim at least one element (torch's size is floor(n * scale))
        scales = tuple(draw(st.sampled_from([s for s in _SCALES if math.floor(n * s) >= 1])) for n in spatial)
        out["scale_factor"] = scales
    if mode != "nearest":
        out["align_corners"] = draw(st.booleans(), label="align_corners")
    return out


def _interpolate(ns, x, **kwargs):
    return _f(ns).interpolate(x, **kwargs)


def _resize_op(name: str, mode: str, dims: tuple, doc: str):
    return op(
        name, "nn", _interpolate, _resize_shapes(dims), (SMALL,),
        kwargs=lambda s: _resize_kwargs(s, mode), doc=doc,
    )  # fmt: skip


RESIZE = [
    _resize_op(
        "nn.interpolate_nearest",
        "nearest",
        (1, 2),
        "UpsampleNearest1DBackward0 / UpsampleNearest2DBackward0, by size or scale_factor: the gradient is a "
        "scatter-add of the output's gradient onto the pixels read",
    ),
    _resize_op(
        "nn.interpolate_bilinear",
        "bilinear",
        (2,),
        "UpsampleBilinear2DBackward0, align_corners True/False, by size or scale_factor (the kernel's scale)",
    ),
    _resize_op("nn.interpolate_linear", "linear", (1,), "UpsampleLinear1DBackward0, align_corners True/False"),
]


# -- scaled_dot_product_attention -------------------------------------------------------------------


@st.composite
def _attention_shapes(draw):
    batch = draw(st.sampled_from([(), (2,), (1, 2)]), label="batch")
    rows, cols = draw(st.integers(1, 4), label="L"), draw(st.integers(1, 4), label="S")
    width, value_width = draw(st.integers(1, 4), label="E"), draw(st.integers(1, 3), label="Ev")
    return (*batch, rows, width), (*batch, cols, width), (*batch, cols, value_width)


@st.composite
def _attention_kwargs(draw, shapes_):
    rows, cols = shapes_[0][-2], shapes_[1][-2]
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]), label="mask")
    mask = None
    if kind == "bool":  # rows with every column masked out give zeros (torch's _safe_softmax)
        mask = draw(hnp.arrays(np.bool_, (rows, cols)), label="bool mask")
    elif kind == "float":
        mask = draw(hnp.arrays(np.float64, (rows, cols), elements=SMALL.elements()), label="float mask")
    scale = draw(st.sampled_from([None, 0.3, 1.0]), label="scale")
    return {"mask": mask, "is_causal": kind == "causal", "scale": scale}


def _attention(ns, q, k, v, mask, is_causal, scale):
    if mask is not None:
        mask = ns.from_numpy(mask.copy()) if mask.dtype == np.bool_ else _as(ns, mask, q)
    return _f(ns).scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal, scale=scale)


ATTENTION = op(
    "nn.scaled_dot_product_attention", "nn", _attention, _attention_shapes(), (SMALL, SMALL, SMALL),
    kwargs=_attention_kwargs,
    doc="torch's CPU math path: UnsafeViewBackward0 over BmmBackward0 (MmBackward0 for 2-d), SafeSoftmaxBackward0, "
    "MulBackward1 scalings; bool and float masks, is_causal, scale; no dropout",
)  # fmt: skip


# -- grid_sample ------------------------------------------------------------------------------------

# grid points in pixel coordinates, 0.1 or more from the integers where the bilinear cell changes
PIXELS = Cells(-1.0, 4.0, start=0.1, stop=0.9, name="pixels k + [0.1, 0.9]")


@st.composite
def _grid_shapes(draw):
    n, c = draw(st.integers(1, 2), label="N"), draw(st.integers(1, 2), label="C")
    h, w = draw(st.integers(2, 4), label="H"), draw(st.integers(2, 4), label="W")
    out = (draw(st.integers(1, 3), label="grid H"), draw(st.integers(1, 3), label="grid W"))
    return (n, c, h, w), (n, *out, 2)


def _grid_kwargs(shapes_):
    return st.fixed_dictionaries({"padding_mode": st.sampled_from(("zeros", "border")), "align_corners": st.booleans()})


def _to_normalized(size: int, align_corners: bool) -> tuple[float, float]:
    """(slope, offset) taking a pixel coordinate to torch's [-1, 1] grid coordinate."""
    if align_corners:
        return 2.0 / (size - 1), -1.0
    return 2.0 / size, 1.0 / size - 1.0


def _grid_sample(ns, x, pixels, padding_mode, align_corners):
    (sx, ox), (sy, oy) = (_to_normalized(n, align_corners) for n in (x.shape[3], x.shape[2]))
    grid = pixels * _as(ns, np.array([sx, sy]), pixels) + _as(ns, np.array([ox, oy]), pixels)
    return _f(ns).grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=align_corners)


GRID_SAMPLE = op(
    "nn.grid_sample", "nn", _grid_sample, _grid_shapes(), (SMALL, PIXELS), kwargs=_grid_kwargs,
    kinks=Kinks(points=(-1.0, 0.0, 1.0, 2.0, 3.0, 4.0), inputs=(1,)), forward_ad=False,
    doc="GridSampler2DBackward0, bilinear, padding_mode zeros/border, align_corners. The second input is the grid "
    "in pixel coordinates (x, y), mapped to [-1, 1] in fn; the derivative in it jumps at integer pixels (kinks; "
    "torch takes the cell to the right). torch has no forward-mode rule for grid_sampler_2d",
)  # fmt: skip

OPS = [*RESIZE, ATTENTION, GRID_SAMPLE]
