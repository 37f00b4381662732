"""grid_sample on 4-d input: mode 'bilinear', padding_mode 'zeros' or 'border' (GridSampler2DBackward0).

A grid point (gx, gy) in [-1, 1] is taken to pixel coordinates (ix, iy) as torch does
(align_corners: (g + 1) / 2 * (size - 1); else ((g + 1) * size - 1) / 2), clipped to the image
for 'border'. The output mixes the four pixels around it with bilinear weights; pixels outside
the image read 0. The corners (floor of ix, iy) and masks are constants, the weights are products
of the fractional parts, so the backward below, written with products, sums and the
gather/scatter of _indexing.py, runs on arrays or Tensors (torch's GridSampler2DBackwardBackward0
exists; forward mode does not, in torch or here). The derivative in the grid jumps where ix or
iy crosses an integer; at an integer, floor picks the cell to the right (torch's value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference.autograd.function import Function, apply
from reference.nn._grad import constant, tensor_mode
from reference.nn._indexing import gather_flat, scatter_flat


@dataclass(frozen=True)
class Axis:
    """One grid coordinate's map to pixels: i = g * slope + offset, clipped to [0, size - 1]
    (border). ``inside`` is that clip's derivative (1 strictly inside, else 0)."""

    slope: float
    offset: float
    size: int


def _axis(size: int, align_corners: bool, dtype) -> Axis:
    real = np.dtype(dtype).type
    if align_corners:
        return Axis(real(size - 1) / 2, real(size - 1) / 2, size)
    return Axis(real(size) / 2, (real(size) - 1) / 2, size)


def _pixels(coord: np.ndarray, axis: Axis, align_corners: bool, border: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates in torch's arithmetic, and the clip's derivative (ones without border)."""
    i = (coord + 1) / 2 * (axis.size - 1) if align_corners else ((coord + 1) * axis.size - 1) / 2
    if not border:
        return i, np.ones_like(i)
    inside = ((i > 0) & (i < axis.size - 1)).astype(i.dtype)
    return np.clip(i, 0, axis.size - 1), inside


@dataclass
class Corners:
    """Constants of one sampling: the floor (x0, y0) of each point, and per corner (dx, dy in
    {0, 1}) the flat input position read (per sample and channel) and whether it is in the image."""

    x0: np.ndarray  # (N, Ho, Wo)
    y0: np.ndarray
    index: dict  # (dx, dy) -> (N, C, Ho, Wo) int64
    valid: dict  # (dx, dy) -> (N, 1, Ho, Wo) in the input's dtype


def _corners(ix: np.ndarray, iy: np.ndarray, shape: tuple, dtype) -> Corners:
    n, c, h, w = shape
    x0, y0 = np.floor(ix), np.floor(iy)
    plane = (np.arange(n).reshape(n, 1, 1, 1) * c + np.arange(c).reshape(1, c, 1, 1)) * (h * w)
    index, valid = {}, {}
    for dx in (0, 1):
        for dy in (0, 1):
            xs, ys = (x0 + dx).astype(np.int64), (y0 + dy).astype(np.int64)
            ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
            flat = np.where(ok, ys * w + xs, 0)[:, None]
            index[dx, dy] = plane + flat
            valid[dx, dy] = ok[:, None].astype(dtype)
    return Corners(x0, y0, index, valid)


def _weights(fx, fy):
    """Bilinear weights per corner from the fractional parts (arrays or Tensors)."""
    return {(0, 0): (1 - fx) * (1 - fy), (1, 0): fx * (1 - fy), (0, 1): (1 - fx) * fy, (1, 1): fx * fy}


def _fractions(grid, axes: tuple, masks: tuple, corners: Corners):
    """(fx, fy): the grid's pixel coordinates minus their floors as functions of the Tensor grid
    (slopes, clip masks and floors are constants), for the recorded backward."""
    out = []
    for k, (axis, inside, floor) in enumerate(zip(axes, masks, (corners.x0, corners.y0))):
        pixel = grid[..., k] * axis.slope + axis.offset
        # outside a 'border' image the coordinate is the bound, a constant (inside is 0 there)
        bound = np.clip(pixel._data, 0, axis.size - 1) * (1 - inside)
        out.append(pixel * constant(inside, grid) + constant(bound - floor, grid))
    return out


def _spread(w):
    """(N, Ho, Wo) -> (N, 1, Ho, Wo), against the channels."""
    return w.unsqueeze(1) if tensor_mode(w) else w[:, None]


def _sample(x, weights: dict, corners: Corners):
    total = None
    for key, weight in weights.items():
        term = gather_flat(x, corners.index[key]) * (_spread(weight) * constant(corners.valid[key], weight))
        total = term if total is None else total + term
    return total


class GridSample2d(Function):
    @staticmethod
    def forward(ctx, x, grid, align_corners, border):
        axes = (_axis(x.shape[3], align_corners, x.dtype), _axis(x.shape[2], align_corners, x.dtype))
        ix, inside_x = _pixels(grid[..., 0], axes[0], align_corners, border)
        iy, inside_y = _pixels(grid[..., 1], axes[1], align_corners, border)
        corners = _corners(ix, iy, x.shape, x.dtype)
        weights = _weights(ix - corners.x0, iy - corners.y0)  # torch's fractions, in its arithmetic
        ctx.save_for_backward(x, grid)
        ctx.axes, ctx.masks, ctx.corners, ctx.border = axes, (inside_x, inside_y), corners, border
        ctx.fractions = (ix - corners.x0, iy - corners.y0)
        return _sample(x, weights, corners)

    @staticmethod
    def backward(ctx, g):
        x, grid = ctx.saved_tensors
        corners, axes, masks = ctx.corners, ctx.axes, ctx.masks
        fx, fy = _fractions(grid, axes, masks, corners) if tensor_mode(g) else ctx.fractions
        need = ctx.needs_input_grad
        gx = ggrid = None
        if need[0]:
            weights = _weights(fx, fy)
            shape = tuple(x.shape)
            for key, weight in weights.items():
                part = scatter_flat(
                    g * (_spread(weight) * constant(corners.valid[key], weight)), corners.index[key], shape
                )
                gx = part if gx is None else gx + part
        if need[1]:
            # d weight / d fx and d fy per corner, times the pixel values read, summed over channels
            reads = {key: gather_flat(x, corners.index[key]) * constant(corners.valid[key], g) for key in corners.index}
            per_point = {key: (g * value).sum(axis=1) for key, value in reads.items()}
            d_fx = (per_point[1, 0] - per_point[0, 0]) * (1 - fy) + (per_point[1, 1] - per_point[0, 1]) * fy
            d_fy = (per_point[0, 1] - per_point[0, 0]) * (1 - fx) + (per_point[1, 1] - per_point[1, 0]) * fx
            parts = [d * (constant(mask, d) * axis.slope) for d, mask, axis in zip((d_fx, d_fy), masks, axes)]
            ggrid = _stack_last(parts)
        return gx, ggrid


def _stack_last(parts: list):
    if tensor_mode(parts[0]):
        from reference.ops.shape_join import stack

        return stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    if mode != "bilinear" or padding_mode not in ("zeros", "border"):
        raise NotImplementedError(
            f"grid_sample: mode {mode!r} with padding_mode {padding_mode!r} is not in the reference engine"
        )
    x, g = input._data, grid._data
    if x.ndim != 4 or g.ndim != 4 or g.shape[-1] != 2 or g.shape[0] != x.shape[0]:
        raise NotImplementedError("grid_sample: the reference engine takes 4-d input and an (N, H, W, 2) grid")
    if x.dtype != g.dtype:
        raise RuntimeError(
            f"grid_sampler(): expected input and grid to have same dtype, but input has {input.dtype} and grid has "
            f"{grid.dtype}"
        )
    border = padding_mode == "border"
    return apply(
        GridSample2d, "GridSampler2DBackward0", (input, grid), align_corners=bool(align_corners), border=border
    )
