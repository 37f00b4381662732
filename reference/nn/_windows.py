"""Sliding windows over the trailing spatial dims (im2col and its transpose, col2im), usable on
arrays or Tensors: the convolutions and avg_pool2d are written with them, so their gradients
exist to any order.

``unfold`` turns (N, C, H, W) into (N, C, kh, kw, oh, ow): entry [n, c, i, j, p, q] is the input
at row p*sh - top + i*dh, column q*sw - left + j*dw (``fill`` outside the input). ``fold`` adds
such an array back into (N, C, H, W). Any number of spatial dims works the same way (1 for
conv1d, 3 for conv3d); the field names say "hw" after the common 2-d case. No Python loop runs
over output pixels: unfold is one strided view, fold one vectorised add per kernel position.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from reference.autograd.function import Function, apply
from reference.nn._grad import tensor_mode


@dataclass(frozen=True)
class Windows:
    """Where the windows lie, per spatial dim: input size, kernel, stride, dilation, padding,
    output size."""

    in_hw: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_before: tuple[int, ...]  # (top, left) in 2-d
    out_hw: tuple[int, ...]

    @property
    def padded_hw(self) -> tuple[int, ...]:
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


def _inside(win: Windows) -> tuple[slice, ...]:
    """Where the input lies within the padded input."""
    return (slice(None), slice(None), *(slice(b, b + n) for b, n in zip(win.pad_before, win.in_hw)))


def _padded(x: np.ndarray, win: Windows, fill: float) -> np.ndarray:
    if not any(win.pad_before) and win.padded_hw == win.in_hw:
        return x
    out = np.full((*x.shape[:2], *win.padded_hw), fill, dtype=x.dtype)
    out[_inside(win)] = x
    return out


def unfold_array(x: np.ndarray, win: Windows, fill: float = 0.0) -> np.ndarray:
    """(N, C, *spatial) -> read-only view (N, C, *kernel, *out): (N, C, kh, kw, oh, ow) in 2-d."""
    p = _padded(x, win, fill)
    spatial = p.strides[2:]
    shape = (*p.shape[:2], *win.kernel, *win.out_hw)
    strides = (
        *p.strides[:2],
        *(s * d for s, d in zip(spatial, win.dilation)),
        *(s * t for s, t in zip(spatial, win.stride)),
    )
    return np.lib.stride_tricks.as_strided(p, shape, strides, writeable=False)


def fold_array(cols: np.ndarray, win: Windows) -> np.ndarray:
    """(N, C, *kernel, *out) -> (N, C, *spatial), summing where windows overlap."""
    out = np.zeros((*cols.shape[:2], *win.padded_hw), dtype=cols.dtype)
    for position in itertools.product(*(range(k) for k in win.kernel)):
        window = tuple(
            slice(i * d, i * d + s * (o - 1) + 1, s)
            for i, d, s, o in zip(position, win.dilation, win.stride, win.out_hw)
        )
        out[(slice(None), slice(None), *window)] += cols[(slice(None), slice(None), *position)]
    return out[_inside(win)]


def _im2col(x: np.ndarray, win: Windows, flat: bool) -> np.ndarray:
    """``unfold_array``; ``flat``: in torch.nn.functional.unfold's layout (N, C * prod(kernel),
    prod(out)), or (C * prod(kernel), prod(out)) for an unbatched (C, H, W) input."""
    if not flat:
        return unfold_array(x, win)
    batched = x if x.ndim == 4 else x[None]
    cols = unfold_array(batched, win)
    cols = cols.reshape(cols.shape[0], -1, int(np.prod(win.out_hw)))
    return cols if x.ndim == 4 else cols[0]


def _col2im(cols: np.ndarray, win: Windows, flat: bool) -> np.ndarray:
    """The transpose of ``_im2col``."""
    if not flat:
        return fold_array(cols, win)
    batched = cols if cols.ndim == 3 else cols[None]
    out = fold_array(batched.reshape(batched.shape[0], -1, *win.kernel, *win.out_hw), win)
    return out if cols.ndim == 3 else out[0]


class Unfold(Function):
    @staticmethod
    def forward(ctx, x, win, flat):
        ctx.win, ctx.flat = win, flat
        return np.ascontiguousarray(_im2col(x, win, flat))

    @staticmethod
    def backward(ctx, g):
        return fold(g, ctx.win, ctx.flat)

    @staticmethod
    def jvp(ctx, t):
        return _im2col(t, ctx.win, ctx.flat)


class Fold(Function):
    @staticmethod
    def forward(ctx, cols, win, flat):
        ctx.win, ctx.flat = win, flat
        return np.ascontiguousarray(_col2im(cols, win, flat))

    @staticmethod
    def backward(ctx, g):
        return unfold(g, ctx.win, ctx.flat)

    @staticmethod
    def jvp(ctx, t):
        return _col2im(t, ctx.win, ctx.flat)


def unfold(x: Any, win: Windows, flat: bool = False) -> Any:
    """im2col with zero padding, on an array (a view unless ``flat``) or a Tensor (recorded);
    ``flat``: torch.nn.functional.unfold's layout (see ``_im2col``)."""
    if tensor_mode(x):
        return apply(Unfold, "Im2ColBackward0", (x,), win=win, flat=flat)
    return _im2col(x, win, flat)


def fold(cols: Any, win: Windows, flat: bool = False) -> Any:
    """col2im: the transpose of ``unfold``."""
    if tensor_mode(cols):
        return apply(Fold, "Col2ImBackward0", (cols,), win=win, flat=flat)
    return _col2im(cols, win, flat)
