"""``torch.nn.functional.pad``: constant padding (negative pads crop), reflect, replicate and circular."""

from __future__ import annotations

import numpy as np

from reference.autograd.function import Function, apply
from reference.ops.shape_views import _is_array

# -- pad (torch.nn.functional.pad) -----------------------------------------------------------


class ConstantPad(Function):
    """Pads (positive) or crops (negative) each dim: ``pairs`` is ((axis, before, after), ...)."""

    @staticmethod
    def forward(ctx, a, pairs, value):
        ctx.pairs = pairs
        return ConstantPad._pad(a, pairs, value)

    @staticmethod
    def _pad(a, pairs, value):
        shape, src, dst = list(a.shape), [slice(None)] * a.ndim, [slice(None)] * a.ndim
        for axis, before, after in pairs:
            length = a.shape[axis]
            kept = length - max(-before, 0) - max(-after, 0)
            shape[axis] = length + before + after
            src[axis] = slice(max(-before, 0), max(-before, 0) + kept)
            dst[axis] = slice(max(before, 0), max(before, 0) + kept)
        out = np.full(shape, value, a.dtype)
        out[tuple(dst)] = a[tuple(src)]
        return out

    @staticmethod
    def backward(ctx, g):
        # the adjoint crops what was padded and zero-fills what was cropped: the opposite pad
        opposite = tuple((axis, -before, -after) for axis, before, after in ctx.pairs)
        if _is_array(g):
            return ConstantPad._pad(g, opposite, 0)
        return apply(ConstantPad, "ConstantPadNdBackward0", (g,), pairs=opposite, value=0)

    @staticmethod
    def jvp(ctx, t):
        return ConstantPad._pad(t, ctx.pairs, 0)


class IndexPad(Function):
    """Reflect or replicate padding: an index_select with computed indices along each padded dim."""

    saved_attributes = ("takes",)

    @staticmethod
    def forward(ctx, a, takes):
        ctx.takes, ctx.in_shape = takes, a.shape
        ctx.save_for_backward(a)  # torch's pad backward saves self: an in-place change of it fails backward
        return IndexPad._take(a, takes)

    @staticmethod
    def _take(a, takes):
        for axis, index in takes:
            a = np.take(a, index, axis=axis)
        return a

    @staticmethod
    def backward(ctx, g):
        from reference.ops.indexing import index_add_any

        ctx.saved_tensors  # noqa: B018 - reading checks the saved input's version, as torch does
        for axis, index in reversed(ctx.takes):
            g = index_add_any(g, axis, index, ctx.in_shape[axis])
        return g

    @staticmethod
    def jvp(ctx, t):
        return IndexPad._take(t, ctx.takes)


_PAD_SUPPORT = (
    "\nSupported combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def pad(input, pad, mode="constant", value=None):
    """``torch.nn.functional.pad``: ``pad`` lists (before, after) pairs from the last dim backwards;
    modes 'constant' (negative pads crop), 'reflect', 'replicate' and 'circular'."""
    ndim, sizes = input._data.ndim, [int(p) for p in pad]
    if len(sizes) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(sizes) // 2 > ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding length "
            f"{len(sizes)} and input of dimension {ndim}"
        )
    pairs = tuple((ndim - 1 - k, sizes[2 * k], sizes[2 * k + 1]) for k in range(len(sizes) // 2))
    if mode == "constant":
        return _constant_pad(input, pairs, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not len(sizes) or ndim not in (len(sizes) // 2 + 1, len(sizes) // 2 + 2):
        raise NotImplementedError(f"Padding size {len(sizes)} is not supported for {ndim}D input tensor.{_PAD_SUPPORT}")
    shape = input._data.shape
    if any(n == 0 for n in shape[ndim - 1 - len(pairs) :]):
        raise RuntimeError(
            f"Expected {len(pairs) + 1}D or {len(pairs) + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {list(shape)}"
        )
    if mode == "circular":
        return _circular_pad(input, pairs)
    takes = tuple((axis, _pad_indices(mode, shape, axis, lo, hi, k)) for k, (axis, lo, hi) in enumerate(pairs))
    name = f"{'ReflectionPad' if mode == 'reflect' else 'ReplicationPad'}{len(pairs)}DBackward0"
    return apply(IndexPad, name, (input,), takes=takes)


def _constant_pad(input, pairs, value):
    shape = input._data.shape
    for axis, before, after in pairs:
        if shape[axis] + min(before, 0) < 0 or shape[axis] + min(before, 0) + min(after, 0) < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
    return apply(ConstantPad, "ConstantPadNdBackward0", (input,), pairs=pairs, value=value)


def _pad_indices(mode: str, shape: tuple, axis: int, before: int, after: int, k: int) -> np.ndarray:
    """For each output position along ``axis``, the input position it copies."""
    length = shape[axis]
    if mode == "reflect" and (before >= length or after >= length):
        raise RuntimeError(
            f"Argument #{4 + 2 * k}: Padding size should be less than the corresponding input dimension, but got: "
            f"padding ({before}, {after}) at dimension {axis} of input {list(shape)}"
        )
    out = length + before + after
    if out < 1:
        label = "WHD"[k] if k < 3 else str(axis)
        raise RuntimeError(f"input ({label}: {length}) is too small. Calculated output {label}: {out}")
    positions = np.arange(out) - before
    if mode == "replicate":
        return np.clip(positions, 0, length - 1)
    positions = np.abs(positions)  # reflect at the start, then at the end
    return np.where(positions > length - 1, 2 * (length - 1) - positions, positions)


def _circular_pad(input, pairs):
    """torch's circular pad, step by step, so that it records torch's nodes (CopySlices over
    SliceBackward0): copy the (cropped) input into a new tensor, then per padded dim fill the
    start from the end and the end from the start of what is there."""
    from reference.ops.shape_more import narrow

    shape = list(input._data.shape)
    for axis, before, after in pairs:
        if before > shape[axis] or after > shape[axis]:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        shape[axis] += before + after
        if shape[axis] < 0:
            raise RuntimeError(f"Negative padding value is resulting in an empty dimension: {shape[axis]}")
    out = type(input)._make(np.zeros(shape, input._data.dtype))
    target, source = out, input
    for axis, before, after in pairs:
        kept = shape[axis] - max(before, 0) - max(after, 0)
        target = narrow(target, axis, max(before, 0), kept)
        source = narrow(source, axis, max(-before, 0), kept)
    target.copy_(source)
    for axis, before, after in pairs:
        if before > 0:
            narrow(out, axis, 0, before).copy_(narrow(out, axis, shape[axis] - before - max(after, 0), before))
        if after > 0:
            narrow(out, axis, shape[axis] - after, after).copy_(narrow(out, axis, max(before, 0), after))
    _circular_tangent(input, out, pairs)
    return out


def _circular_tangent(input, out, pairs) -> None:
    """Forward mode: the engine's in-place copies into views do not carry tangents to the base,
    so the output's tangent is the input's, padded the same way (an index take per dim)."""
    from reference.autograd import forward_ad

    if not forward_ad._levels or input._fw is None:
        return
    tangent = forward_ad.get_tangent(input)
    if tangent is None:
        return
    t = tangent._data
    for axis, before, after in pairs:  # crop (negative pads), then wrap around what is left
        length = t.shape[axis] - max(-before, 0) - max(-after, 0)
        kept = np.arange(length) + max(-before, 0)
        positions = kept[(np.arange(length + max(before, 0) + max(after, 0)) - max(before, 0)) % max(length, 1)]
        t = np.take(t, positions, axis=axis)
    out._fw = (forward_ad.current_level(), type(out)._make(np.ascontiguousarray(t, out._data.dtype)))
