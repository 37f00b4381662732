"""Sliding windows over the last two dims (im2col and its transpose, col2im), usable on arrays or
Tensors: conv2d and avg_pool2d are written with them, so their gradients exist to any order.

``unfold`` turns (N, C, H, W) into (N, C, kh, kw, oh, ow): entry [n, c, i, j, p, q] is the input
at row p*sh - top + i*dh, column q*sw - left + j*dw (``fill`` outside the input). ``fold`` adds
such an array back into (N, C, H, W). No Python loop runs over output pixels: unfold is one
strided view, fold one vectorised add per kernel position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reference.autograd.function import Function, apply
from reference.nn._grad import tensor_mode


@dataclass(frozen=True)
class Windows:
    """Where the windows lie: input size, kernel, stride, dilation, padding, output size."""

    in_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad_before: tuple[int, int]  # (top, left)
    out_hw: tuple[int, int]

    @property
    def padded_hw(self) -> tuple[int, int]:
        """The padded size the windows need: before-padding, input, then enough after it."""
        return tuple(
            max(b + n, (o - 1) * s + d * (k - 1) + 1) if o > 0 else b + n
            for b, n, o, s, d, k in zip(
                self.pad_before, self.in_hw, self.out_hw, self.stride, self.dilation, self.kernel
            )
        )

    def input_rows_cols(self) -> tuple[np.ndarray, np.ndarray]:
        """Input row of [i, p] and column of [j, q] (may lie outside the input: padding)."""
        out = []
        for axis in range(2):
            k = np.arange(self.kernel[axis])[:, None] * self.dilation[axis]
            o = np.arange(self.out_hw[axis])[None, :] * self.stride[axis]
            out.append(k + o - self.pad_before[axis])
        return out[0], out[1]


def out_size(
    size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int, ceil_mode=False
) -> int:
    """torch's output length; with ``ceil_mode`` a last partial window counts if it starts
    inside the input or the before-padding."""
    span = size + pad_before + pad_after - dilation * (kernel - 1) - 1
    if ceil_mode:
        n = -(-span // stride) + 1
        if (n - 1) * stride >= size + pad_before:
            n -= 1
        return n
    return span // stride + 1


def _padded(x: np.ndarray, win: Windows, fill: float) -> np.ndarray:
    (top, left), (h, w) = win.pad_before, win.in_hw
    ph, pw = win.padded_hw
    if (top, left) == (0, 0) and (ph, pw) == (h, w):
        return x
    out = np.full((*x.shape[:2], ph, pw), fill, dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out


def unfold_array(x: np.ndarray, win: Windows, fill: float = 0.0) -> np.ndarray:
    """(N, C, H, W) -> read-only view (N, C, kh, kw, oh, ow)."""
    p = _padded(x, win, fill)
    sn, sc, sh, sw = p.strides
    shape = (*p.shape[:2], *win.kernel, *win.out_hw)
    strides = (sn, sc, sh * win.dilation[0], sw * win.dilation[1], sh * win.stride[0], sw * win.stride[1])
    return np.lib.stride_tricks.as_strided(p, shape, strides, writeable=False)


def fold_array(cols: np.ndarray, win: Windows) -> np.ndarray:
    """(N, C, kh, kw, oh, ow) -> (N, C, H, W), summing where windows overlap."""
    (top, left), (h, w) = win.pad_before, win.in_hw
    (oh, ow), (sh, sw), (dh, dw) = win.out_hw, win.stride, win.dilation
    out = np.zeros((*cols.shape[:2], *win.padded_hw), dtype=cols.dtype)
    for i in range(win.kernel[0]):
        for j in range(win.kernel[1]):
            out[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw] += cols[
                :, :, i, j
            ]
    return out[:, :, top : top + h, left : left + w]


class Unfold(Function):
    @staticmethod
    def forward(ctx, x, win):
        ctx.win = win
        return np.ascontiguousarray(unfold_array(x, win))

    @staticmethod
    def backward(ctx, g):
        return fold(g, ctx.win)

    @staticmethod
    def jvp(ctx, t):
        return unfold_array(t, ctx.win)


class Fold(Function):
    @staticmethod
    def forward(ctx, cols, win):
        ctx.win = win
        return np.ascontiguousarray(fold_array(cols, win))

    @staticmethod
    def backward(ctx, g):
        return unfold(g, ctx.win)

    @staticmethod
    def jvp(ctx, t):
        return fold_array(t, ctx.win)


def unfold(x: Any, win: Windows) -> Any:
    """im2col with zero padding, on an array (a view) or a Tensor (recorded)."""
    if tensor_mode(x):
        return apply(Unfold, "Im2ColBackward0", (x,), win=win)
    return unfold_array(x, win)


def fold(cols: Any, win: Windows) -> Any:
    """col2im: the transpose of ``unfold``."""
    if tensor_mode(cols):
        return apply(Fold, "Col2ImBackward0", (cols,), win=win)
    return fold_array(cols, win)
