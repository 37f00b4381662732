"""interpolate, modes 'nearest', 'linear' (3-d input) and 'bilinear' (4-d input).

Both modes are linear in the input and separable: along each resized dim the output is a fixed
(out, in) matrix times the input, one-hot rows for 'nearest' (so the gradient is a scatter-add)
and two weights per row for the linear modes. Forward, backward (the transposed matrices) and
jvp are the same two products, on arrays or on Tensors, so the derivatives exist to any order.
Source positions follow torch's CPU kernels, in the input's precision.
"""

from __future__ import annotations

import math

import numpy as np

from reference.autograd.function import Function, apply
from reference.nn._grad import constant

_NODES = {
    ("nearest", 1): "UpsampleNearest1DBackward0",
    ("nearest", 2): "UpsampleNearest2DBackward0",
    ("linear", 1): "UpsampleLinear1DBackward0",
    ("bilinear", 2): "UpsampleBilinear2DBackward0",
}
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def _nearest_matrix(n_in: int, n_out: int, scale: float | None, dtype) -> np.ndarray:
    """One-hot rows: output i reads input min(floor(i * s), n_in - 1), s = 1/scale_factor or
    n_in/n_out, in float32 as torch's nearest_idx computes it (exact for n_out = n_in, 2 n_in)."""
    s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    source = np.minimum(np.floor(np.arange(n_out, dtype=np.float32) * s).astype(np.int64), n_in - 1)
    if n_out == n_in:
        source = np.arange(n_out)
    elif n_out == 2 * n_in:
        source = np.arange(n_out) // 2
    matrix = np.zeros((n_out, n_in), dtype)
    matrix[np.arange(n_out), source] = 1
    return matrix


def _linear_matrix(n_in: int, n_out: int, scale: float | None, align_corners: bool, dtype) -> np.ndarray:
    """Rows of two weights (1 - t, t) at inputs i0 and i0 + 1 (clamped), for the source position
    x = i * s (align_corners, s = (n_in - 1)/(n_out - 1)) or max((i + 1/2) s - 1/2, 0)."""
    real = np.dtype(dtype).type
    i = np.arange(n_out, dtype=dtype)
    if align_corners:
        s = real(n_in - 1) / real(n_out - 1) if n_out > 1 else real(0)
        x = s * i
    else:
        s = real(1.0 / scale) if scale else real(n_in) / real(n_out)
        x = np.maximum(s * (i + real(0.5)) - real(0.5), real(0))
    i0 = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
    t = np.clip(x - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = np.minimum(i0 + 1, n_in - 1)
    matrix = np.zeros((n_out, n_in), dtype)
    rows = np.arange(n_out)
    np.add.at(matrix, (rows, i0), 1 - t)
    np.add.at(matrix, (rows, i1), t)
    return matrix


def resample(x, matrices: tuple, transpose: bool = False):
    """Multiply the trailing len(matrices) dims of x by ``matrices`` (their transposes with
    ``transpose``): arrays, or Tensors with the matrices as constants."""
    ndim = len(tuple(x.shape))
    for k, m in enumerate(matrices):
        m = constant(m if transpose else np.ascontiguousarray(m.T), x)  # right-multiply the last dim
        axis = ndim - len(matrices) + k
        x = x @ m if axis == ndim - 1 else _swap(_swap(x, axis) @ m, axis)
    return x


def _swap(x, axis: int):
    """x with ``axis`` and the last dim exchanged (arrays or Tensors)."""
    return np.swapaxes(x, axis, -1) if type(x) is np.ndarray else x.transpose(axis, -1)


class Resample(Function):
    @staticmethod
    def forward(ctx, x, matrices):
        ctx.matrices = matrices
        return np.ascontiguousarray(resample(x, matrices))

    @staticmethod
    def backward(ctx, g):
        return resample(g, ctx.matrices, transpose=True)

    @staticmethod
    def jvp(ctx, t):
        return resample(t, ctx.matrices)


def _sizes(shape: tuple, size, scale_factor, dims: int) -> tuple[tuple[int, ...], tuple]:
    """The output's spatial size and the scales the kernel sees (None where size was given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        out = (size,) * dims if isinstance(size, int) else tuple(int(s) for s in size)
        if len(out) != dims:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {list(shape[2:])} and output size of {list(out)}. Please provide input tensor in "
                "(N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
            )
        return out, (None,) * dims
    scales = (float(scale_factor),) * dims if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    return tuple(math.floor(n * s) for n, s in zip(shape[2:], scales)), scales


def interpolate(
    input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
    antialias=False,
):  # fmt: skip
    shape = tuple(input._data.shape)
    dims = len(shape) - 2
    if mode not in _INTERPOLATING and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    if (mode, dims) not in _NODES or antialias:
        raise NotImplementedError(f"interpolate: mode {mode!r} on {len(shape)}-d input is not in the reference engine")
    out, scales = _sizes(shape, size, scale_factor, dims)
    if recompute_scale_factor:
        scales = (None,) * dims
    dtype = input._data.dtype
    if mode == "nearest":
        matrices = tuple(_nearest_matrix(n, o, s, dtype) for n, o, s in zip(shape[2:], out, scales))
    else:
        corners = bool(align_corners)
        matrices = tuple(_linear_matrix(n, o, s, corners, dtype) for n, o, s in zip(shape[2:], out, scales))
    return apply(Resample, _NODES[mode, dims], (input,), matrices=matrices)
