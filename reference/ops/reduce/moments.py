"""var and std, with ``correction`` (or the older ``unbiased``), dims and keepdim.

One element with the default correction gives NaN (0/0), as in torch. The backward
follows torch's conventions at the edges: over all elements with ``N - correction <= 0``
the gradient is inf, or NaN where an element equals the mean; along dims it is
``2 / (N - correction)`` times the deviation, whatever the sign of ``N - correction``
(and ``N`` counts the dims *given*, so ``dim=()`` has ``N = 1``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import Function, apply
from reference.ops.reduce.axes import QUIET, as_constant, axes_of, kept_shape

_SIGNATURES = (
    " * (tuple of ints dim, bool unbiased = True, bool keepdim = False)\n"
    " * (tuple of ints dim = None, *, Number correction = None, bool keepdim = False)\n"
    " * (bool unbiased = True)\n"
)


class Var(Function):
    """Variance (VarBackward0), or its square root (StdBackward0) with ``std=True``."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, correction, grad_count, std):
        ctx.axes, ctx.keepdim, ctx.kept, ctx.std = axes, keepdim, kept_shape(a.shape, axes), std
        ctx.correction, ctx.grad_count = correction, grad_count
        count = math.prod(a.shape[i] for i in axes)
        with np.errstate(**QUIET):
            deviation = a - _mean(a, axes, count)
            if a.dtype.kind == "c":  # |z - mean|^2: the variance of complex input is real
                deviation = np.abs(deviation)
            squares = (deviation * deviation).sum(axis=axes, keepdims=keepdim, dtype=np.float64)
            out = (squares / max(0, count - correction)).astype(deviation.dtype, copy=False)
            if std:
                out = np.sqrt(out)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        g = g.reshape(ctx.kept)
        if ctx.std:
            g = _std_scale(g, out.reshape(ctx.kept))
        return g * _var_factor(ctx, a)

    @staticmethod
    def jvp(ctx, t):
        a, out = ctx.saved_tensors
        tangent = np.real(t * xp.conj(_var_factor(ctx, a))).sum(axis=ctx.axes, keepdims=ctx.keepdim)  # real output
        return _std_scale(tangent, out) if ctx.std else tangent


def _var_factor(ctx, a):
    """d var / d a, elementwise (a Tensor expression of ``a`` under create_graph)."""
    count = math.prod(a.shape[i] for i in ctx.axes)
    with np.errstate(**QUIET):
        mean = _mean(a, ctx.axes, count)
        if ctx.grad_count is None:  # all elements: torch's inf/NaN convention when N <= correction
            dof = count - ctx.correction
            if dof <= 0:
                ad = xp.data(a)  # real, as torch's where of two doubles, also for complex input
                return as_constant(np.where(ad == xp.data(mean), np.nan, np.inf), ad.real)
        else:
            dof = ctx.grad_count - ctx.correction
        scale = np.float64(2.0) / np.float64(dof) if dof else np.inf
        return (a - mean) * float(scale)


def _mean(a, axes, count: int):
    """The mean over ``axes`` (kept), accumulated in float64 and rounded once to ``a``'s dtype,
    as torch's CPU reductions accumulate float32 in double: equal elements then deviate by
    exactly 0 from their mean (a float32 sum of 36 equal values does not divide back)."""
    if isinstance(a, np.ndarray):
        wide = np.complex128 if a.dtype.kind == "c" else np.float64
        return (a.sum(axis=axes, keepdims=True, dtype=wide) / count).astype(a.dtype, copy=False)
    wide = a.to(dtypes.complex128) if a.is_complex() else a.double()  # a Tensor under create_graph
    return (wide.sum(axis=axes, keepdims=True) / count).to(a.dtype)


def _std_scale(g, std):
    """g / (2 std), and 0 where std is 0 (torch's choice at the kink)."""
    zero = xp.data(std) == 0
    safe = xp.where(zero, 1.0, std)
    return xp.where(zero, 0.0, g / (safe * 2))


def _correction(dim, unbiased, correction, fn_name):
    """(dim, correction) from torch's overloads: ``var(True)``, ``var(dim, unbiased)``,
    ``var(dim, correction=...)``."""
    if isinstance(dim, (bool, np.bool_)):  # var(unbiased)
        dim, unbiased = None, bool(dim)
    if unbiased is not None and correction is not None:
        raise TypeError(f"{fn_name}() received an invalid combination of arguments - got (unbiased=bool, "
                        f"correction={type(correction).__name__}, ), but expected one of:\n{_SIGNATURES}")  # fmt: skip
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def _moment(input, dim, unbiased, keepdim, correction, std: bool):
    name = "std" if std else "var"
    dim, correction = _correction(dim, unbiased, correction, name)
    data = input._data
    if data.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = axes_of(dim, data.ndim)
    grad_count = None if dim is None or data.ndim == 0 else _given_count(data.shape, dim)
    _warn_if_no_freedom(name, data, axes, correction)
    return apply(Var, "StdBackward0" if std else "VarBackward0", (input,), axes=axes, keepdim=bool(keepdim),
                 correction=correction, grad_count=grad_count, std=std)  # fmt: skip


def _given_count(shape, dim) -> int:
    """N as torch's backward counts it along dims: the product of the *given* dims' sizes
    (1 for ``dim=()``, although the forward then reduces everything)."""
    given = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    return math.prod(shape[i] for i in axes_of(given, len(shape))) if given else 1


def _warn_if_no_freedom(name, data, axes, correction):
    out_numel = math.prod(n for i, n in enumerate(data.shape) if i not in axes)
    factor = data.size / out_numel if out_numel else 0
    if factor - correction <= 0:
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
            "factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=4,
        )


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _moment(input, dim, unbiased, keepdim, correction, std=False)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _moment(input, dim, unbiased, keepdim, correction, std=True)


__all__ = ["std", "var"]
