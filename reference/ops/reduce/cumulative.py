"""logcumsumexp, and the compositions torch builds from slices, sums and cumsum: diff,
trapezoid, cumulative_trapezoid (their nodes are those of the ops they are made of, as in
torch: SubBackward0, MulBackward1, CumsumBackward0)."""

from __future__ import annotations

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.operands import normalize_dim
from reference.ops.reduce.axes import int_dim, missing_dim, one_axis

_REQUIRED = object()
TORCH_JVP_EPS = 1e-13  # added by torch's logcumsumexp forward-mode formula to its denominator


def _unsqueeze(x, axis: int):
    return x.unsqueeze(axis) if xp.is_tensor(x) else np.expand_dims(x, axis)


def _lower_triangle(n: int, axis: int, ndim: int) -> np.ndarray:
    """mask[i, j] = j <= i on axes (axis, axis + 1) of an (ndim + 1)-d array."""
    return np.tril(np.ones((n, n), bool)).reshape((n, n) + (1,) * (ndim - axis - 1))


class Logcumsumexp(Function):
    """Running log(sum(exp)) (LogcumsumexpBackward0). d out_i / d a_j = exp(a_j - out_i) for
    j <= i: the gradient contracts an n x n stack of those weights (never exp(a) alone, which
    would overflow where out does not)."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        if axis is None:
            out = a.copy()
        elif a.dtype.kind == "c":
            out = _complex_accumulate(a, axis)
        else:
            out = np.logaddexp.accumulate(a, axis=axis)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if ctx.axis is None:
            return g
        weights = xp.conj(_weights(a, out, ctx.axis))  # [..., i, j, ...] (conjugated for complex)
        return (_unsqueeze(g, ctx.axis + 1) * weights).sum(axis=ctx.axis)

    @staticmethod
    def jvp(ctx, t):
        """torch's formula, observed: cumsum(exp(a - m) * t) / (cumsum(exp(a - m)) + 1e-13) with m
        the slice's max. The 1e-13 biases the tangent by a relative 1e-13 / cumsum(exp(a - m))
        (x = [-30, 0], t = [1, 0] gives 0.5, not 1); mirrored, as is the error torch raises for an
        empty slice (it takes that max even there)."""
        a, _out = ctx.saved_tensors
        if a.dtype.kind == "c":  # torch does not shift complex inputs (their tangent overflows), nor check
            scaled = np.exp(a)
            if ctx.axis is None:
                return scaled * t / (scaled + TORCH_JVP_EPS)
            return np.cumsum(scaled * t, axis=ctx.axis) / (np.cumsum(scaled, axis=ctx.axis) + TORCH_JVP_EPS)
        if ctx.axis is None:  # a 0-d tensor: the same formula, t / (1 + 1e-13)
            return t / (1.0 + TORCH_JVP_EPS)
        if a.shape[ctx.axis] == 0:
            raise IndexError(f"max(): Expected reduction dim {ctx.axis} to have non-zero size.")
        scaled = np.exp(a - a.max(axis=ctx.axis, keepdims=True))
        return np.cumsum(scaled * t, axis=ctx.axis) / (np.cumsum(scaled, axis=ctx.axis) + TORCH_JVP_EPS)


def _complex_accumulate(a: np.ndarray, axis: int) -> np.ndarray:
    """The running complex log(sum(exp)), one step at a time as torch's scan: each step is
    logaddexp's m + log1p(exp(n - m)), m the operand with the larger real part."""
    from reference.ops.pointwise.special_elementary import _complex_logaddexp

    moved = np.moveaxis(a, axis, 0)
    out = np.empty_like(moved)
    if moved.shape[0]:
        out[0] = moved[0]
        for i in range(1, moved.shape[0]):
            out[i] = _complex_logaddexp(out[i - 1], moved[i])
    return np.moveaxis(out, 0, axis)


def _weights(a, out, axis: int):
    """exp(a_j - out_i) where j <= i, else 0, on axes (axis, axis + 1) = (i, j)."""
    n = a.shape[axis]
    mask = _lower_triangle(n, axis, len(a.shape))
    gap = _unsqueeze(a, axis) - _unsqueeze(out, axis + 1)
    with np.errstate(invalid="ignore", over="ignore"):
        return xp.exp(xp.where(mask, gap, -np.inf))


def logcumsumexp(input, dim=_REQUIRED):
    if dim is _REQUIRED:
        raise missing_dim("logcumsumexp")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("logcumsumexp(): expected input to have floating point or complex dtype")
    axis = one_axis(int_dim("logcumsumexp", dim), input._data.ndim)
    return apply(Logcumsumexp, "LogcumsumexpBackward0", (input,), axis=axis)


class _Scale(Function):
    """x * c for a Python number c: torch's Tensor-Scalar mul (MulBackward1, one edge)."""

    @staticmethod
    def forward(ctx, a, c):
        ctx.c = c
        return a * a.dtype.type(c)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.c

    @staticmethod
    def jvp(ctx, t):
        return t * t.dtype.type(ctx.c)


# -- compositions --------------------------------------------------------------------------------------


def _along(axis: int, part: slice) -> tuple:
    return (slice(None),) * axis + (part,)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along ``dim``: out[i] = x[i + 1] - x[i], n times, after
    ``prepend``/``append`` are concatenated (SubBackward0)."""
    import reference

    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    axis = normalize_dim(int_dim("diff", dim, 2), ndim)
    if prepend is not None or append is not None:
        parts = [p for p in (prepend, input, append) if p is not None]
        input = reference.cat(parts, axis)
    for _ in range(int(n)):
        input = input[_along(axis, slice(1, None))] - input[_along(axis, slice(None, -1))]
    return input


def _check_dx(name: str, dx) -> None:
    if isinstance(dx, bool) or not isinstance(dx, (int, float, np.number)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got dx={type(dx).__name__}, "
                        "but expected one of:\n * (Tensor y, *, Number dx = 1, int dim = -1)")  # fmt: skip


def trapezoid(y, *, dx=1, dim=-1):
    """The trapezoidal rule along ``dim`` with spacing ``dx``:
    (sum(y) - (y_first + y_last) / 2) * dx (MulBackward1)."""
    import reference

    _check_dx("trapezoid", dx)
    axis = normalize_dim(int_dim("trapezoid", dim), y._data.ndim)
    if y._data.shape[axis] == 0:
        shape = tuple(n for i, n in enumerate(y._data.shape) if i != axis)
        return reference.zeros(shape, dtype=y.dtype)
    ends = y[_along(axis, 0)] + y[_along(axis, -1)]
    return apply(_Scale, "MulBackward1", (y.sum(axis) - ends * 0.5,), c=dx)


def cumulative_trapezoid(y, *, dx=1, dim=-1):
    """Running trapezoidal rule: cumsum((y[1:] + y[:-1]) * dx / 2) (CumsumBackward0)."""
    _check_dx("cumulative_trapezoid", dx)
    axis = normalize_dim(int_dim("cumulative_trapezoid", dim), y._data.ndim)
    pairs = y[_along(axis, slice(1, None))] + y[_along(axis, slice(None, -1))]
    return (pairs * (dx / 2.0)).cumsum(axis)


__all__ = ["cumulative_trapezoid", "diff", "logcumsumexp", "trapezoid"]
