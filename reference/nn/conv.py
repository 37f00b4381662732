"""conv2d: im2col (one strided view) and one batched matmul per call, grouped.

The backward is written with differentiable pieces (unfold/fold, matmul, reshape), so the
double backward torch supports (ConvolutionBackward0 to any order) works with create_graph.
"""

from __future__ import annotations

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.nn._grad import linear_in_grad, tensor_mode
from reference.nn._windows import Windows, fold, out_size, unfold
from reference.ops import shape


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return (value[0], value[0])
    if len(value) != 2:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of 2 values to match the convolution "
            f"dimensions, but got {name}={list(value)}"
        )
    return value


def _columns(x, win: Windows, groups: int):
    """im2col laid out for one matrix product per group: (groups, C/groups * kh * kw, N * oh * ow)
    (arrays or Tensors)."""
    n = x.shape[0]
    windows = xp.permute(unfold(x, win), (1, 2, 3, 0, 4, 5))  # (C, kh, kw, N, oh, ow)
    return windows.reshape(groups, -1, n * win.out_hw[0] * win.out_hw[1])


def _grouped(g, groups: int):
    """(N, O, oh, ow) -> (groups, O/groups, N * oh * ow), the layout of ``_columns``."""
    n, o, oh, ow = tuple(g.shape)
    return xp.permute(g, (1, 0, 2, 3)).reshape(groups, o // groups, n * oh * ow)


def _matmul(a, b):
    """Batched over groups; on arrays one 2-d product per group, which NumPy hands to BLAS even for
    transposed views (its batched matmul falls back to a slow loop on those)."""
    if tensor_mode(a) or tensor_mode(b):
        return a @ b
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return np.stack([a[i] @ b[i] for i in range(a.shape[0])])


def _conv_array(x, w, b, win: Windows, groups: int, columns=None):
    """The convolution of arrays: (N, C, H, W) * (O, C/groups, kh, kw) -> (N, O, oh, ow)
    (``columns``: ``_columns(x, win, groups)``, when the caller has them)."""
    n, o = x.shape[0], w.shape[0]
    if columns is None:
        columns = _columns(x, win, groups)
    product = _matmul(w.reshape(groups, o // groups, -1), columns)  # one GEMM per group
    by_sample = product.reshape(o, n, *win.out_hw).transpose(1, 0, 2, 3)
    out = np.empty(by_sample.shape, by_sample.dtype)
    if b is None:
        np.copyto(out, by_sample)
    else:
        np.add(by_sample, b.reshape(-1, 1, 1), out=out)  # the bias, in the pass that reorders
    return out


def _input_grad_unit_stride(w, g, win: Windows, groups: int, shape: tuple):
    """The input's gradient for stride 1, on arrays: col2im on rows as long as the padded input's.

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


def _sum_nhw(g):
    return g.sum(axis=(0, 2, 3))


class Conv2d(Function):
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
        (n, c, *_), (o, *_) = tuple(x.shape), tuple(w.shape)
        g_grouped = _grouped(g, groups)
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[0] and win.stride == (1, 1) and not tensor_mode(g):
            gx = _input_grad_unit_stride(w, g, win, groups, tuple(x.shape))
        elif need[0]:
            cols = _matmul(w.reshape(groups, o // groups, -1).mT, g_grouped)  # (G, K, N * L)
            cols = xp.permute(cols.reshape(c, *win.kernel, n, *win.out_hw), (3, 0, 1, 2, 4, 5))
            gx = fold(cols, win)
        if need[1]:
            # (cols @ g^T)^T: OpenBLAS is ~100x slower on g @ cols^T, whose inner dim is N * oh * ow
            if tensor_mode(g):  # recorded: the columns must come from the Tensor x
                columns = _columns(x, win, groups)
            gw = _matmul(columns, g_grouped.mT).mT.reshape(tuple(w.shape))
        if need[2]:  # recorded, it depends on x and w as torch's ConvolutionBackwardBackward0 does
            gb = linear_in_grad("ConvolutionBackwardBackward0", g, (x, w), _sum_nhw, lambda v: v.reshape(1, -1, 1, 1))
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
            parts.append(tb.reshape(-1, 1, 1))
        return sum(parts[1:], parts[0])


def _check(input, weight, bias, stride, dilation, padding, groups) -> None:
    x, w = input._data, weight._data
    if x.ndim not in (3, 4):
        raise RuntimeError(
            f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: {list(x.shape)}"
        )
    if w.ndim != 4:
        raise RuntimeError(
            f"expected stride to be a single integer value or a list of {w.ndim - 2} values to match the "
            f"convolution dimensions, but got stride={list(stride)}"
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
    batched = x if x.ndim == 4 else x[None]
    if batched.shape[1] != w.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {shape_w}, expected input{list(batched.shape)} to have "
            f"{w.shape[1] * groups} channels, but got {batched.shape[1]} channels instead"
        )
    if bias is not None and bias._data.shape != (w.shape[0],):
        raise RuntimeError(
            f"Given weight of size {shape_w}, expected bias to be 1-dimensional with {w.shape[0]} elements, "
            f"but got bias of size {list(bias._data.shape)} instead"
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
    padded = [n + 2 * p for n, p in zip(x.shape[-2:], padding)]
    kernel = [d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:])]
    if any(p < k for p, k in zip(padded, kernel)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({padded[0]} x {padded[1]}). Kernel size: "
            f"({kernel[0]} x {kernel[1]}). Kernel size can't be greater than actual input size"
        )


def _same_padding(weight, stride, dilation) -> tuple[tuple[int, int], tuple[int, int]]:
    """'same': total padding d*(k-1) per dim, the odd one extra after (as torch does)."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for d, k in zip(dilation, weight._data.shape[2:])]
    before = tuple(t // 2 for t in total)
    extra = tuple(t - 2 * b for t, b in zip(total, before))
    return before, extra


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    extra = (0, 0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            padding, extra = _same_padding(weight, stride, dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _pair(padding, "padding")
    if extra != (0, 0):  # torch pads the input first (ConstantPadNdBackward0), then convolves
        input = _pad_after(input, extra)
    _check(input, weight, bias, stride, dilation, padding, groups)
    unbatched = input._data.ndim == 3
    if unbatched:
        input = shape.unsqueeze(input, 0)
    hw = input._data.shape[2:]
    kernel = weight._data.shape[2:]
    out_hw = tuple(out_size(n, k, s, p, p, d) for n, k, s, p, d in zip(hw, kernel, stride, padding, dilation))
    win = Windows(tuple(hw), tuple(kernel), stride, dilation, padding, out_hw)
    out = apply(Conv2d, "ConvolutionBackward0", (input, weight, bias), win=win, groups=groups)
    return shape.squeeze(out, 0) if unbatched else out


def _pad_after(input, extra):
    from reference.nn import functional

    pad = getattr(functional, "pad", None)
    if pad is None:
        raise NotImplementedError(
            "conv2d: padding='same' with an even dilated kernel needs reference.nn.functional.pad"
        )
    return pad(input, [0, extra[1], 0, extra[0]])
