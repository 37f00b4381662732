"""conv_transpose1d/2d/3d: the transpose of a convolution's input map, written with conv.py's maps.

A transposed convolution of x (N, C_in, *in) with weight (C_in, C_out/groups, *kernel) is the
input gradient of the convolution that takes (N, C_out, *out) back to x's shape with that weight.
So its forward is ``input_adjoint``, its input gradient ``convolve`` and its weight gradient
``weight_adjoint`` with the convolution's input and gradient swapped. torch records it as
ConvolutionBackward0, like a convolution.
"""

from __future__ import annotations

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.nn._windows import Windows
from reference.nn.conv import (
    as_tuple,
    batched,
    bias_grad,
    check_arguments,
    convolve,
    input_adjoint,
    per_channel,
    weight_adjoint,
)
from reference.ops import shape


class ConvolutionTranspose(Function):
    @staticmethod
    def forward(ctx, x, w, b, win, groups):
        ctx.save_for_backward(x, w)
        ctx.win, ctx.groups = win, groups
        ctx.out_shape = (x.shape[0], w.shape[1] * groups, *win.in_hw)
        out = input_adjoint(w, x, win, groups, ctx.out_shape)
        return out if b is None else out + per_channel(b, len(win.kernel))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        win, groups = ctx.win, ctx.groups
        need = ctx.needs_input_grad
        x, w = xp.conj(x), xp.conj(w)  # complex: the conjugate transposes (no-ops on real arrays)
        gx = convolve(g, w, win, groups) if need[0] else None
        gw = weight_adjoint(g, x, win, groups, tuple(w.shape)) if need[1] else None
        gb = bias_grad(g, (x, w), len(win.kernel)) if need[2] else None
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, tx, tw, tb):
        x, w = ctx.saved_tensors
        win, groups, out_shape = ctx.win, ctx.groups, ctx.out_shape
        parts = []
        if tx is not None:
            parts.append(input_adjoint(w, tx, win, groups, out_shape))
        if tw is not None:
            parts.append(input_adjoint(tw, x, win, groups, out_shape))
        if tb is not None:
            parts.append(per_channel(tb, len(win.kernel)))
        return sum(parts[1:], parts[0])


def _check_transposed(input, weight, bias, stride, padding, output_padding, dilation, groups, dims: int) -> None:
    check_arguments(input, weight, bias, stride, dilation, padding, groups, f"conv_transpose{dims}d")
    x, w = input._data, weight._data
    names = ("depth", "height", "width")[-dims:] if dims > 1 else ("width",)
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        parts = [f"output_padding_{n}: {o}" for n, o in zip(names, output_padding)]
        parts += [f"stride_{n}: {s}" for n, s in zip(names, stride)]
        parts += [f"dilation_{n}: {d}" for n, d in zip(names, dilation)]
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {' '.join(parts)}")
    channels = x.shape[-dims - 1]
    if channels != w.shape[0]:
        shape_in = list(x.shape if x.ndim == dims + 2 else (1, *x.shape))
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w.shape)}, expected input{shape_in} to have "
            f"{w.shape[0]} channels, but got {channels} channels instead"
        )
    out_channels = w.shape[1] * groups
    if bias is not None and bias._data.shape != (out_channels,):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w.shape)}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {list(bias._data.shape)} instead"
        )


def _out_size(n: int, k: int, s: int, p: int, d: int, extra: int) -> int:
    return (n - 1) * s - 2 * p + d * (k - 1) + extra + 1


def _transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, dims: int):
    stride, dilation = as_tuple(stride, "stride", dims), as_tuple(dilation, "dilation", dims)
    padding = as_tuple(padding, "padding", dims)
    output_padding = as_tuple(output_padding, "output_padding", dims)
    _check_transposed(input, weight, bias, stride, padding, output_padding, dilation, groups, dims)
    input, unbatched = batched(input, dims)
    spatial = tuple(input._data.shape[2:])
    kernel = tuple(weight._data.shape[2:])
    out = tuple(_out_size(*args) for args in zip(spatial, kernel, stride, padding, dilation, output_padding))
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, spatial))}). Calculated output size per "
            f"channel: ({' x '.join(map(str, out))}). Output size is too small"
        )
    # the windows of the convolution this one transposes: from the output's size back to the input's
    win = Windows(out, kernel, stride, dilation, padding, spatial)
    result = apply(ConvolutionTranspose, "ConvolutionBackward0", (input, weight, bias), win=win, groups=groups)
    return shape.squeeze(result, 0) if unbatched else result


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _transposed(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)
