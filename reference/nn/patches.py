"""Rearranging ops: unfold (im2col) and fold (col2im) in torch.nn.functional's flat layout, and
pixel_shuffle / pixel_unshuffle. All are linear and each one's gradient is the other's map
(recorded with create_graph, as torch records Col2Im for Im2Col and so on)."""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.nn._grad import tensor_mode
from reference.nn._windows import Windows, out_size
from reference.nn._windows import fold as fold_windows
from reference.nn._windows import unfold as unfold_windows
from reference.nn.conv import as_tuple


def _windows(spatial: tuple, kernel_size, dilation, padding, stride) -> Windows:
    kernel = as_tuple(kernel_size, "kernel_size", 2)
    dilation, padding, stride = (
        as_tuple(v, n, 2) for v, n in ((dilation, "dilation"), (padding, "padding"), (stride, "stride"))
    )
    if any(v <= 0 for v in (*kernel, *dilation, *stride)) or any(p < 0 for p in padding):
        raise RuntimeError(
            f"kernel size, dilation and stride should be greater than zero and padding non-negative, but got "
            f"kernel_size={list(kernel)}, dilation={list(dilation)}, padding={list(padding)}, stride={list(stride)}"
        )
    out = tuple(out_size(n, k, s, p, p, d) for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation))
    return Windows(tuple(spatial), kernel, stride, dilation, padding, out)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    x = input._data
    if x.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)")
    win = _windows(x.shape[-2:], kernel_size, dilation, padding, stride)
    if any(o < 1 for o in win.out_hw):
        raise RuntimeError(
            f"Given input with spatial size ({x.shape[-2]}, {x.shape[-1]}), kernel_size={tuple(win.kernel)}, "
            f"dilation={tuple(win.dilation)}, padding={tuple(win.pad_before)}, calculated shape of the array of "
            f"sliding blocks as ({win.out_hw[0]}, {win.out_hw[1]}), but its components must be at least one."
        )
    return unfold_windows(input, win, flat=True)  # a Tensor: recorded as Im2ColBackward0, unbatched too


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    x = input._data
    if x.ndim not in (2, 3):
        raise RuntimeError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {x.ndim}D)"
        )
    win = _windows(as_tuple(output_size, "output_size", 2), kernel_size, dilation, padding, stride)
    blocks, per_block = int(np.prod(win.out_hw)), int(np.prod(win.kernel))
    if x.shape[-2] % per_block or x.shape[-1] != blocks:
        raise RuntimeError(
            f"Given output_size={tuple(win.in_hw)}, kernel_size={tuple(win.kernel)}, dilation={tuple(win.dilation)}, "
            f"padding={tuple(win.pad_before)}, stride={tuple(win.stride)}, expected size of input's dimension 2 to "
            f"match the calculated number of sliding blocks {win.out_hw[0]} * {win.out_hw[1]} = {blocks}, but got "
            f"input.size(2)={x.shape[-1]}."
        )
    return fold_windows(input, win, flat=True)  # recorded as Col2ImBackward0, unbatched too


# -- pixel_shuffle, pixel_unshuffle ----------------------------------------------------------------


def _shuffle(x, r: int):
    """(*, C r^2, H, W) -> (*, C, H r, W r) (arrays or Tensors)."""
    *lead, c, h, w = tuple(x.shape)
    k = len(lead)
    x = x.reshape(*lead, c // (r * r), r, r, h, w)
    order = (*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, r, W, r)
    return xp.permute(x, order).reshape(*lead, c // (r * r), h * r, w * r)


def _unshuffle(x, r: int):
    """(*, C, H r, W r) -> (*, C r^2, H, W) (arrays or Tensors)."""
    *lead, c, h, w = tuple(x.shape)
    k = len(lead)
    x = x.reshape(*lead, c, h // r, r, w // r, r)
    order = (*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, r, r, H, W)
    return xp.permute(x, order).reshape(*lead, c * r * r, h // r, w // r)


class PixelShuffle(Function):
    @staticmethod
    def forward(ctx, x, r, inverse):
        ctx.r, ctx.inverse = r, inverse
        return np.ascontiguousarray(_unshuffle(x, r) if inverse else _shuffle(x, r))

    @staticmethod
    def backward(ctx, g):
        if tensor_mode(g):  # the other op, recorded
            return _rearrange(g, ctx.r, not ctx.inverse)
        return np.ascontiguousarray(_shuffle(g, ctx.r) if ctx.inverse else _unshuffle(g, ctx.r))

    @staticmethod
    def jvp(ctx, t):
        return _unshuffle(t, ctx.r) if ctx.inverse else _shuffle(t, ctx.r)


def _rearrange(input, r: int, inverse: bool):
    node = "PixelUnshuffleBackward0" if inverse else "PixelShuffleBackward0"
    return apply(PixelShuffle, node, (input,), r=r, inverse=inverse)


def _check_rank(x: np.ndarray, name: str) -> None:
    if x.ndim < 3:
        raise RuntimeError(
            f"{name} expects input to have at least 3 dimensions, but got input with {x.ndim} dimension(s)"
        )


def pixel_shuffle(input, upscale_factor):
    x = input._data
    r = int(upscale_factor)
    _check_rank(x, "pixel_shuffle")
    if r <= 0 or x.shape[-3] % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
            f"but input.size(-3)={x.shape[-3]} is not divisible by {r * r}"
        )
    return _rearrange(input, r, inverse=False)


def pixel_unshuffle(input, downscale_factor):
    x = input._data
    r = int(downscale_factor)
    _check_rank(x, "pixel_unshuffle")
    for name, dim in (("height", -2), ("width", -1)):
        if r <= 0 or x.shape[dim] % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({dim})={x.shape[dim]} is not divisible by {r}"
            )
    return _rearrange(input, r, inverse=True)
