"""conv1d, conv2d, conv3d: im2col (one strided view) and one batched matmul per call, grouped.

The three linear maps of a convolution, ``convolve`` (x -> out), ``input_adjoint`` (grad ->
x's gradient) and ``weight_adjoint`` (x, grad -> w's gradient), run on arrays or Tensors, so
the backward is differentiable (ConvolutionBackward0 to any order with create_graph) and the
transposed convolutions (conv_transpose.py) are the same maps with the roles swapped.
"""

from __future__ import annotations

import math

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.nn._grad import linear_in_grad, tensor_mode
from reference.nn._windows import Windows, fold, out_size, unfold
from reference.ops import shape


def as_tuple(value, name: str, dims: int) -> tuple[int, ...]:
    """An int or a sequence of ``dims`` ints (one value repeats) as a tuple of ``dims`` ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * dims
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * dims
    if len(value) != dims:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {dims} values to match the convolution "
            f"dimensions, but got {name}={list(value)}"
        )
    return value


def _spatial_axes(dims: int, first: int = 2) -> tuple[int, ...]:
    return tuple(range(first, first + dims))


def _columns(x, win: Windows, groups: int):
    """im2col laid out for one matrix product per group: (groups, C/groups * prod(kernel), N * prod(out))
    (arrays or Tensors)."""
    n, d = x.shape[0], len(win.kernel)
    windows = xp.permute(unfold(x, win), (1, *_spatial_axes(d), 0, *_spatial_axes(d, d + 2)))  # (C, *k, N, *out)
    return windows.reshape(groups, -1, n * math.prod(win.out_hw))


def _grouped(g, groups: int):
    """(N, O, *out) -> (groups, O/groups, N * prod(out)), the layout of ``_columns``."""
    n, o, *out = tuple(g.shape)
    return xp.permute(g, (1, 0, *_spatial_axes(len(out)))).reshape(groups, o // groups, n * math.prod(out))


def _matmul(a, b):
    """Batched over groups; on arrays one 2-d product per group, which NumPy hands to BLAS even for
    transposed views (its batched matmul falls back to a slow loop on those)."""
    if tensor_mode(a) or tensor_mode(b):
        return a @ b
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return np.stack([a[i] @ b[i] for i in range(a.shape[0])])


def _conv_array(x, w, b, win: Windows, groups: int, columns=None):
    """The convolution of arrays: (N, C, *in) * (O, C/groups, *kernel) -> (N, O, *out)
    (``columns``: ``_columns(x, win, groups)``, when the caller has them)."""
    n, o = x.shape[0], w.shape[0]
    if columns is None:
        columns = _columns(x, win, groups)
    product = _matmul(w.reshape(groups, o // groups, -1), columns)  # one GEMM per group
    by_sample = product.reshape(o, n, *win.out_hw).swapaxes(0, 1)
    out = np.empty(by_sample.shape, by_sample.dtype)
    if b is None:
        np.copyto(out, by_sample)
    else:
        np.add(by_sample, per_channel(b, len(win.kernel)), out=out)  # the bias, in the pass that reorders
    return out


def per_channel(b, dims: int):
    """(O,) -> (O, 1, ..., 1): a per-channel value against (N, O, *spatial)."""
    return b.reshape(-1, *(1,) * dims)


def convolve(x, w, win: Windows, groups: int):
    """x (N, C, *in) convolved with w, no bias (arrays or Tensors)."""
    if not (tensor_mode(x) or tensor_mode(w)):
        return _conv_array(x, w, None, win, groups)
    n, o = x.shape[0], w.shape[0]
    product = _matmul(w.reshape(groups, o // groups, -1), _columns(x, win, groups))
    return xp.permute(product.reshape(o, n, *win.out_hw), (1, 0, *_spatial_axes(len(win.kernel))))


def _input_grad_unit_stride(w, g, win: Windows, groups: int, shape: tuple):
    """The input's gradient for a 2-d convolution of stride 1, on arrays: col2im on rows as long
    as the padded input's.

    Widened with zeros to the padded width, each output row's columns for kernel position (i, j)
    land on one contiguous run of the flattened (channel, sample) plane, from i*dh*W + j*dw, so
    col2im is one long add per kernel position instead of one short add per output row (1.6x
    faster on a small conv net's second layer). The zeros spill onto the next row's start, where adding them
    changes nothing."""
    n, c, h, width = shape
    o = w.shape[0]
    (kh, kw), (oh, ow), (dh, dw) = win.kernel, win.out_hw, win.dilation
    (top, left), (ph, pw) = win.pad_before, win.padded_hw
    g_wide = np.zeros((o, n, oh, pw), g.dtype)
    g_wide[..., :ow] = g.transpose(1, 0, 2, 3)
    cols = _matmul(w.reshape(groups, o // groups, -1).mT, g_wide.reshape(groups, o // groups, -1))
    cols = cols.reshape(c, kh, kw, n, oh * pw)
    plane = np.zeros((c, n, ph * pw + (kw - 1) * dw), g.dtype)  # the tail takes the last row's spill
    for i in range(kh):
        for j in range(kw):
            start = i * dh * pw + j * dw
            plane[:, :, start : start + oh * pw] += cols[:, i, j]
    grad = plane[:, :, : ph * pw].reshape(c, n, ph, pw)[:, :, top : top + h, left : left + width]
    return np.ascontiguousarray(grad.transpose(1, 0, 2, 3))


def input_adjoint(w, g, win: Windows, groups: int, shape: tuple):
    """The transpose of ``convolve`` in x: g (N, O, *out) -> (N, C, *in) of ``shape`` (arrays or Tensors)."""
    d = len(win.kernel)
    if d == 2 and win.stride == (1, 1) and not (tensor_mode(g) or tensor_mode(w)):
        return _input_grad_unit_stride(w, g, win, groups, shape)
    n, c, o = shape[0], shape[1], w.shape[0]
    cols = _matmul(w.reshape(groups, o // groups, -1).mT, _grouped(g, groups))  # (G, K, N * L)
    cols = xp.permute(
        cols.reshape(c, *win.kernel, n, *win.out_hw), (d + 1, 0, *_spatial_axes(d, 1), *_spatial_axes(d, d + 2))
    )
    return fold(cols, win)


def weight_adjoint(x, g, win: Windows, groups: int, w_shape: tuple, columns=None):
    """The transpose of ``convolve`` in w: (x, g) -> w's gradient (arrays or Tensors)."""
    if columns is None or tensor_mode(g):  # recorded: the columns must come from the Tensor x
        columns = _columns(x, win, groups)
    # (cols @ g^T)^T: OpenBLAS is ~100x slower on g @ cols^T, whose inner dim is N * prod(out)
    return _matmul(columns, _grouped(g, groups).mT).mT.reshape(w_shape)


def bias_grad(g, connected: tuple, dims: int):
    """The bias's gradient: g summed over all but the channel dim; recorded, it depends on the
    op's inputs as torch's ConvolutionBackwardBackward0 does."""
    axes = (0, *_spatial_axes(dims))
    return linear_in_grad(
        "ConvolutionBackwardBackward0", g, connected,
        lambda v: v.sum(axis=axes), lambda v: v.reshape(1, -1, *(1,) * dims),
    )  # fmt: skip


class Convolution(Function):
    @staticmethod
    def forward(ctx, x, w, b, win, groups):
        columns = _columns(x, win, groups)  # kept for the weight's gradient (freed with the graph)
        ctx.save_for_backward(x, w, columns)
        ctx.win, ctx.groups = win, groups
        return _conv_array(x, w, b, win, groups, columns)

    @staticmethod
    def backward(ctx, g):
        x, w, columns = ctx.saved_tensors
        win, groups = ctx.win, ctx.groups
        need = ctx.needs_input_grad
        if xp.data(w).dtype.kind == "c":  # the conjugate transposes: the adjoints of conj(x), conj(w)
            x, w, columns = xp.conj(x), xp.conj(w), xp.conj(columns)
        gx = input_adjoint(w, g, win, groups, tuple(x.shape)) if need[0] else None
        gw = weight_adjoint(x, g, win, groups, tuple(w.shape), columns) if need[1] else None
        gb = bias_grad(g, (x, w), len(win.kernel)) if need[2] else None
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, tx, tw, tb):
        x, w, columns = ctx.saved_tensors
        parts = []
        if tx is not None:
            parts.append(_conv_array(tx, w, None, ctx.win, ctx.groups))
        if tw is not None:
            parts.append(_conv_array(x, tw, None, ctx.win, ctx.groups, columns))
        if tb is not None:
            parts.append(per_channel(tb, len(ctx.win.kernel)))
        return sum(parts[1:], parts[0])


def check_arguments(input, weight, bias, stride, dilation, padding, groups, name: str) -> None:
    """torch's checks common to every convolution, with its messages, in its order."""
    x, w = input._data, weight._data
    dims = len(stride)
    if w.ndim != dims + 2:
        raise RuntimeError(
            f"expected stride to be a single integer value or a list of {w.ndim - 2} values to match the "
            f"convolution dimensions, but got stride={list(stride)}"
        )
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but got input of size: "
            f"{list(x.shape)}"
        )
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    shape_w = list(w.shape)
    if w.shape[0] == 0:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of "
            f"size {shape_w} instead"
        )
    if w.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight "
            f"of size [{shape_w}] instead"
        )
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"expected scalar type {dtypes.scalar_type_name(x.dtype)} but found {dtypes.scalar_type_name(w.dtype)}"
        )
    if bias is not None and bias._data.dtype != x.dtype:
        short = {"float32": "float", "float64": "double"}
        raise RuntimeError(
            f"Input type ({short.get(x.dtype.name)}) and bias type ({short.get(bias._data.dtype.name)}) "
            "should be the same"
        )


def _check_bias(bias, channels: int, shape_w: list) -> None:
    if bias is not None and bias._data.shape != (channels,):
        raise RuntimeError(
            f"Given weight of size {shape_w}, expected bias to be 1-dimensional with {channels} elements, "
            f"but got bias of size {list(bias._data.shape)} instead"
        )


def _check(input, weight, bias, stride, dilation, padding, groups, name: str) -> None:
    check_arguments(input, weight, bias, stride, dilation, padding, groups, name)
    x, w = input._data, weight._data
    shape_w = list(w.shape)
    batched = x if x.ndim == w.ndim else x[None]
    if batched.shape[1] != w.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {shape_w}, expected input{list(batched.shape)} to have "
            f"{w.shape[1] * groups} channels, but got {batched.shape[1]} channels instead"
        )
    _check_bias(bias, w.shape[0], shape_w)
    padded = [n + 2 * p for n, p in zip(x.shape[-len(stride) :], padding)]
    kernel = [d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:])]
    if any(p < k for p, k in zip(padded, kernel)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input size"
        )


def _same_padding(weight, stride, dilation) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """'same': total padding d*(k-1) per dim, the odd one extra after (as torch does)."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for d, k in zip(dilation, weight._data.shape[2:])]
    before = tuple(t // 2 for t in total)
    extra = tuple(t - 2 * b for t, b in zip(total, before))
    return before, extra


def batched(input, dims: int):
    """(input with a batch dim, whether one was added): torch unsqueezes unbatched input."""
    if input._data.ndim == dims + 1:
        return shape.unsqueeze(input, 0), True
    return input, False


def _convolution(input, weight, bias, stride, padding, dilation, groups, dims: int):
    name = f"conv{dims}d"
    stride, dilation = as_tuple(stride, "stride", dims), as_tuple(dilation, "dilation", dims)
    extra = (0,) * dims
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * dims
        elif padding == "same":
            padding, extra = _same_padding(weight, stride, dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = as_tuple(padding, "padding", dims)
    if any(extra):  # torch pads the input first (ConstantPadNdBackward0), then convolves
        input = _pad_after(input, extra)
    _check(input, weight, bias, stride, dilation, padding, groups, name)
    input, unbatched = batched(input, dims)
    spatial = input._data.shape[2:]
    kernel = weight._data.shape[2:]
    out = tuple(out_size(n, k, s, p, p, d) for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation))
    win = Windows(tuple(spatial), tuple(kernel), stride, dilation, padding, out)
    result = apply(Convolution, "ConvolutionBackward0", (input, weight, bias), win=win, groups=groups)
    return shape.squeeze(result, 0) if unbatched else result


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 3)


def _pad_after(input, extra: tuple):
    from reference.nn import functional

    pad = getattr(functional, "pad", None)
    if pad is None:
        raise NotImplementedError("padding='same' with an even dilated kernel needs reference.nn.functional.pad")
    return pad(input, [v for e in reversed(extra) for v in (0, e)])
