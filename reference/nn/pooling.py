"""max_pool2d and avg_pool2d over (N, C, H, W) or (C, H, W) inputs.

max_pool2d sends each output's gradient to the one input its value came from: the first
maximum of the window in row-major order, as torch's CPU kernel does with ties.
"""

from __future__ import annotations

import numpy as np

from reference.autograd.function import Function, apply
from reference.nn._grad import constant, linear_in_grad
from reference.nn._indexing import gather_flat, scatter_flat
from reference.nn._windows import Windows, fold, out_size, unfold, unfold_array
from reference.nn.interpolate import resample
from reference.ops import shape


def _pair(value, name: str, default=None) -> tuple[int, int]:
    if value is None or (isinstance(value, (tuple, list)) and len(value) == 0):
        value = default
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return (value[0], value[0])
    if len(value) != 2:
        raise RuntimeError(f"{name} must either be a single int, or a tuple of two ints")
    return value


def _as_batch(x: np.ndarray) -> np.ndarray:
    return x if x.ndim == 4 else x[None]


def _windows(input, kernel_size, stride, padding, dilation, ceil_mode, op: str) -> Windows:
    """Validate the arguments (torch's messages, in torch's order) and place the windows."""
    kernel = _pair(kernel_size, "kernel_size")
    stride = _pair(stride, "stride", default=kernel)
    padding, dilation = _pair(padding, "padding"), _pair(dilation, "dilation")
    x = input._data
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationH: {dilation[0]} dilationW: {dilation[1]}"
        )
    if x.ndim == 2 and op == "avg":
        raise IndexError("Dimension out of range (expected to be in range of [-2, 1], but got -3)")
    if x.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if any(n == 0 for n in x.shape[-3:]):
        raise RuntimeError(
            f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:{list(x.shape)}"
        )
    for p, k, d in zip(padding, kernel, dilation):
        if p > ((k - 1) * d + 1) // 2 or p < 0:
            raise RuntimeError(
                "pad should be at most half of effective kernel size, "
                f"but got pad={p}, kernel_size={k} and dilation={d}"
            )
    if op == "max" and any(p > k // 2 for p, k in zip(padding, kernel)):  # torch checks this too, dilation aside
        raise RuntimeError(
            "pad should be smaller than or equal to half of kernel size, but got "
            f"padW = {padding[1]}, padH = {padding[0]}, kW = {kernel[1]}, kH = {kernel[0]}"
        )
    hw = x.shape[-2:]
    out_hw = tuple(
        out_size(n, k, s, p, p, d, ceil_mode) for n, k, s, p, d in zip(hw, kernel, stride, padding, dilation)
    )
    if any(o < 1 for o in out_hw):
        c = x.shape[-3]
        raise RuntimeError(
            f"Given input size: ({c}x{hw[0]}x{hw[1]}). Calculated output size: ({c}x{out_hw[0]}x{out_hw[1]}). "
            "Output size is too small"
        )
    return Windows(tuple(hw), kernel, stride, dilation, padding, out_hw)


# -- max_pool2d ------------------------------------------------------------------------------


def _max_windows(x: np.ndarray, win: Windows) -> tuple[np.ndarray, np.ndarray]:
    """The maxima and the flat positions (in ``x``) of the inputs they came from.

    One pass per kernel position (no copy of the windows). Which input wins is torch's CPU
    rule: scanning the window in row-major order from -inf, a value takes over when it is
    greater or nan, so a tie goes to the first maximum, a nan to the last nan, and a window of
    -inf to its first position inside the input."""
    xb = _as_batch(x)
    n, c, h, w = xb.shape
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    kh, kw = win.kernel
    windows = unfold_array(xb, win, fill)
    values = [windows[:, :, i, j] for i in range(kh) for j in range(kw)]  # (N, C, oh, ow) views
    out = values[0].copy()
    for v in values[1:]:
        np.maximum(out, v, out=out)  # nan wins, as in torch
    which = _first_maximum(values, out, _inside_input(win))
    if x.dtype.kind == "f":
        _last_nan(values, out, which)
    rows, cols = win.input_rows_cols()  # input row of (kernel row, output row), same for columns
    flat = np.take((rows[:, 0, None] * w + cols[None, :, 0]).reshape(-1), which)  # kernel offset in the plane
    flat += (rows[0, :, None] * w + cols[0, None, :]) - (rows[0, 0] * w + cols[0, 0])  # window start
    flat += np.arange(n * c, dtype=np.int64).reshape(n, c, 1, 1) * (h * w)  # plane start
    shape = out.shape if x.ndim == 4 else out.shape[1:]
    return out.reshape(shape), flat.reshape(shape)


def _in_plane(flat: np.ndarray, hw: tuple) -> np.ndarray:
    """Flat positions as row * W + col within their (H, W) plane: max_pool2d's indices."""
    return flat % (hw[0] * hw[1])


def _inside_input(win: Windows) -> list | None:
    """Per kernel position, an (oh, ow) mask of the windows for which it lies inside the input
    (None without padding: always)."""
    if win.pad_before == (0, 0):
        return None
    rows, cols = win.input_rows_cols()  # (kh, oh), (kw, ow)
    in_rows = (rows >= 0) & (rows < win.in_hw[0])
    in_cols = (cols >= 0) & (cols < win.in_hw[1])
    return [in_rows[i][:, None] & in_cols[j][None, :] for i in range(len(rows)) for j in range(len(cols))]


def _first_maximum(values: list, maximum: np.ndarray, inside: list | None) -> np.ndarray:
    """The first kernel position holding the maximum (inside the input), per window. Branch-free
    (which -= hit * (which - k), last position first): masked stores are slow on irregular masks."""
    which = np.zeros(maximum.shape, np.int8 if len(values) < 128 else np.int32)
    which += len(values) - 1
    for k in range(len(values) - 2, -1, -1):
        hit = values[k] == maximum
        if inside is not None:
            hit &= inside[k]
        which -= hit.view(np.int8) * (which - k)
    return which


def _last_nan(values: list, maximum: np.ndarray, which: np.ndarray) -> None:
    """Point windows whose maximum is nan at their last nan."""
    nan = np.isnan(maximum)
    if not nan.any():
        return
    for k, v in enumerate(values):
        np.copyto(which, k, where=nan & np.isnan(v))


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, win):
        out, flat = _max_windows(x, win)
        ctx.save_for_backward(x)
        ctx.flat, ctx.shape = flat, x.shape
        ctx.disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(win.stride, win.dilation, win.kernel))
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        flat, shape, disjoint = ctx.flat, ctx.shape, ctx.disjoint  # disjoint windows: no input gets two
        return linear_in_grad(
            "MaxPool2DWithIndicesBackwardBackward0", g, x,
            lambda v: scatter_flat(v, flat, shape, disjoint), lambda v: gather_flat(v, flat),
        )  # fmt: skip

    @staticmethod
    def jvp(ctx, t):
        return gather_flat(t, ctx.flat)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    from reference.tensor import Tensor

    win = _windows(input, kernel_size, stride, padding, dilation, ceil_mode, "max")
    node = "MaxPool2DWithIndicesBackward0"
    out = apply(MaxPool2d, node, (input,), win=win)
    if not return_indices:
        return out
    flat = out.grad_fn.flat if out.grad_fn is not None else _max_windows(input._data, win)[1]
    return out, Tensor._make(_in_plane(flat, win.in_hw))


# -- avg_pool2d ------------------------------------------------------------------------------


def _avg_divisor(win: Windows, count_include_pad: bool, divisor_override) -> np.ndarray:
    """torch's divisor per output position: the window clipped to the padded input (to the
    input itself without count_include_pad), or divisor_override."""
    sizes = []
    for axis in range(2):
        n, k, s, p = win.in_hw[axis], win.kernel[axis], win.stride[axis], win.pad_before[axis]
        start = np.arange(win.out_hw[axis]) * s - p
        end = np.minimum(start + k, n + p)
        sizes.append(end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0))
    return (sizes[0][:, None] * sizes[1][None, :]).astype(np.int64)


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, win, divisor):
        ctx.save_for_backward(x)
        ctx.win, ctx.shape = win, x.shape
        ctx.divisor = divisor.astype(x.dtype)
        return _average(x, win, ctx.divisor)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        win, shape, divisor = ctx.win, ctx.shape, ctx.divisor
        return linear_in_grad(
            "AvgPool2DBackwardBackward0", g, x,
            lambda v: _spread(v, win, divisor, shape), lambda v: _average(v, win, divisor),
        )  # fmt: skip

    @staticmethod
    def jvp(ctx, t):
        return _average(t, ctx.win, ctx.divisor)


def _average(x, win: Windows, divisor: np.ndarray):
    """Window sums over the divisor (arrays or Tensors): avg_pool2d's values."""
    shape = tuple(x.shape)
    batched = x if len(shape) == 4 else x.reshape(1, *shape)
    summed = unfold(batched, win).sum(axis=(2, 3))
    return (summed / constant(divisor, summed)).reshape(shape[:-2] + win.out_hw)


def _spread(g, win: Windows, divisor: np.ndarray, shape: tuple):
    """The transpose of ``_average``: each output's share back over its window."""
    per_window = g / constant(divisor, g)
    n = 1 if len(shape) == 3 else shape[0]
    spread = per_window.reshape(n, shape[-3], 1, 1, *win.out_hw)
    full = (n, shape[-3], *win.kernel, *win.out_hw)
    spread = np.broadcast_to(spread, full) if type(spread) is np.ndarray else spread.expand(*full)
    return fold(spread, win).reshape(shape)


def avg_pool2d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    win = _windows(input, kernel_size, stride, padding, 1, ceil_mode, "avg")
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        divisor = np.full(win.out_hw, int(divisor_override), dtype=np.int64)
    else:
        divisor = _avg_divisor(win, count_include_pad, divisor_override)
    return apply(AvgPool2d, "AvgPool2DBackward0", (input,), win=win, divisor=divisor)


# -- the 1-d pools: the 2-d ones on a height-1 view (SqueezeBackward1 on top, as in torch) ------------


def _single(value, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{name} must either be a single int, or a tuple of one int")
        value = value[0]
    return int(value)


def _as_2d(input):
    return shape.unsqueeze(input, -2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    kernel = _single(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () else _single(stride, "stride")
    out = avg_pool2d(
        _as_2d(input), (1, kernel), (1, stride), (0, _single(padding, "padding")), ceil_mode, count_include_pad
    )
    return shape.squeeze(out, -2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    kernel = _single(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () else _single(stride, "stride")
    padding, dilation = _single(padding, "padding"), _single(dilation, "dilation")
    out = max_pool2d(_as_2d(input), (1, kernel), (1, stride), (0, padding), (1, dilation), ceil_mode, return_indices)
    if return_indices:
        return shape.squeeze(out[0], -2), shape.squeeze(out[1], -2)
    return shape.squeeze(out, -2)


# -- adaptive_avg_pool2d: a fixed averaging matrix per dim (interpolate.py's separable products) -----


def _adaptive_matrix(n_in: int, n_out: int, dtype) -> np.ndarray:
    """Row i averages inputs floor(i n_in / n_out) to ceil((i + 1) n_in / n_out) - 1 (torch's windows)."""
    matrix = np.zeros((n_out, n_in), dtype)
    for i in range(n_out):
        start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        matrix[i, start:end] = np.dtype(dtype).type(1) / (end - start)
    return matrix


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, matrices):
        ctx.save_for_backward(x)
        ctx.matrices = matrices
        return np.ascontiguousarray(resample(x, matrices))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        m = ctx.matrices
        return linear_in_grad(
            "AdaptiveAvgPool2DBackwardBackward0", g, x,
            lambda v: resample(v, m, transpose=True), lambda v: resample(v, m),
        )  # fmt: skip

    @staticmethod
    def jvp(ctx, t):
        return resample(t, ctx.matrices)


def adaptive_avg_pool2d(input, output_size):
    x = input._data
    if x.ndim not in (3, 4) or any(n == 0 for n in x.shape[-3:]):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(x.shape)}")
    sizes = (output_size, output_size) if isinstance(output_size, (int, np.integer)) else tuple(output_size)
    sizes = tuple(n if o is None else int(o) for n, o in zip(x.shape[-2:], sizes))
    matrices = tuple(_adaptive_matrix(n, o, x.dtype) for n, o in zip(x.shape[-2:], sizes))
    return apply(AdaptiveAvgPool2d, "AdaptiveAvgPool2DBackward0", (input,), matrices=matrices)
