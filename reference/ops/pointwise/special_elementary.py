"""Elementary special functions: xlogy, xlog1py, entr, logit, sinc, logaddexp, logaddexp2, hypot.

Values and gradients at the edges are torch's (observed on torch 2.13):
- xlogy(0, y) = 0 unless y is nan; d/dx is log(y), but 0 where x == 0 and y <= 0; d/dy is x / y
  (nan at x == y == 0). xlog1py alike with log1p(y), y <= -1.
- entr(x) = -x log x, 0 at 0, -inf below; its gradient -(log x + 1) (inf at 0, nan below).
- logit without eps: gradient 1 / (x (1 - x)), nan outside [0, 1]; with eps the input is
  clamped to [eps, 1 - eps] and the gradient is 0 outside (kept at the bounds).
- sinc(0) = 1 with gradient 0; hypot's gradient is nan at (0, 0).
"""

from __future__ import annotations

import math

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import FLOAT, Function, apply, sum_tangents
from reference.ops.pointwise._common import _is_tensor, _or_zero, _tensor_other, operand

# -- xlogy, xlog1py --------------------------------------------------------------------------


class _XLogY(Function):
    """x * log(y) (or x * log1p(y)), 0 where x == 0 and y is not nan. A Python-number side
    comes as the keyword ``x`` or ``y`` and has no edge (torch's XlogyBackward1 and 2)."""

    promotion = FLOAT

    @classmethod
    def forward(cls, ctx, *arrays, x=None, y=None):
        ctx.x, ctx.y = x, y
        ctx.save_for_backward(*arrays)
        a, b = _operands(arrays, x, y)
        dtype = arrays[0].dtype
        r = np.asarray(np.multiply(a, cls.log(b)), dtype=dtype)
        return np.where((np.asarray(a) == 0) & ~np.isnan(b), np.zeros_like(r), r)

    @classmethod
    def backward(cls, ctx, g):
        a, b = _operands(ctx.saved_tensors, ctx.x, ctx.y)
        grads = []
        if ctx.x is None:  # log(y), but 0 where x == 0 and y <= edge (not nan there)
            grads.append(xp.where((xp.data(a) == 0) & (xp.data(b) <= cls.edge), 0.0, g * cls.log(b)))
        if ctx.y is None:
            grads.append(g * a / cls.shifted(b))
        return tuple(grads) if len(grads) > 1 else grads[0]

    @classmethod
    def jvp(cls, ctx, *tangents):
        a, b = _operands(ctx.saved_tensors, ctx.x, ctx.y)
        ta, tb = tangents if len(tangents) == 2 else ((None, *tangents) if ctx.x is not None else (*tangents, None))
        da = None if ta is None else np.where((a == 0) & (b <= cls.edge), 0.0, ta * cls.log(b))
        db = None if tb is None else tb * a / cls.shifted(b)
        return sum_tangents(da, db)


def _operands(saved, x, y):
    """(x, y) from the saved arrays (or Tensors) and the Python-number side."""
    if x is not None:
        return x, saved[0]
    if y is not None:
        return saved[0], y
    return saved[0], saved[1]


class XLogY(_XLogY):
    log = staticmethod(lambda b: xp.log(b) if xp.is_tensor(b) else np.log(b))
    edge = 0.0
    shifted = staticmethod(lambda b: b)


class XLog1pY(_XLogY):
    log = staticmethod(lambda b: b.log1p() if xp.is_tensor(b) else np.log1p(b))
    edge = -1.0
    shifted = staticmethod(lambda b: b + 1)


def _xlog(cls, names, input, other):
    if not _is_tensor(input):
        return apply(cls, names[1], (other,), x=operand(input))
    if not _is_tensor(other):
        return apply(cls, names[2], (input,), y=operand(other))
    return apply(cls, names[0], (input, other))


def xlogy(input, other):
    return _xlog(XLogY, ("XlogyBackward0", "XlogyBackward1", "XlogyBackward2"), input, other)


def xlog1py(input, other):
    names = ("SpecialXlog1PyBackward0", "SpecialXlog1PyBackward1", "SpecialXlog1PyBackward2")
    return _xlog(XLog1pY, names, input, other)


# -- entr, logit, sinc -----------------------------------------------------------------------


class Entr(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        r = -a * np.log(np.where(a > 0, a, 1))
        return np.where(a < 0, -np.inf, np.where(a == 0, 0.0, r)).astype(a.dtype)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * -(xp.log(a) + 1)

    jvp = backward


class Logit(Function):
    """log(x / (1 - x)) of x clamped to [eps, 1 - eps] (bounds in the input's dtype); the
    gradient uses the unclamped input, as torch's."""

    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, eps=None):
        ctx.save_for_backward(a)
        ctx.bounds = None
        if eps is not None:
            lo = np.asarray(eps, dtype=a.dtype)
            ctx.bounds = (lo, np.asarray(1, dtype=a.dtype) - lo)
            a = np.clip(a, *ctx.bounds)
        return np.log(a / (1 - a))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        raw = xp.data(a)
        if ctx.bounds is None:  # nan outside [0, 1]
            return xp.where((raw < 0) | (raw > 1), math.nan, g / (a * (1 - a)))
        lo, hi = ctx.bounds  # 0 outside [eps, 1 - eps], the formula at the bounds
        return xp.where((raw < lo) | (raw > hi), 0.0, g / (a * (1 - a)))

    jvp = backward


class Sinc(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        pi_a = a * np.asarray(math.pi, dtype=a.dtype)
        return np.where(a == 0, np.ones_like(pi_a), np.sin(pi_a) / pi_a)

    @staticmethod
    def backward(ctx, g):  # (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at 0; conjugated for complex x
        return g * xp.conj(Sinc.derivative(ctx))

    @staticmethod
    def jvp(ctx, t):
        return t * Sinc.derivative(ctx)

    @staticmethod
    def derivative(ctx):
        (a,) = ctx.saved_tensors
        pi_a = a * math.pi
        d = (pi_a * xp.cos(pi_a) - xp.sin(pi_a)) / (pi_a * a)
        return xp.where(xp.data(a) == 0, 0.0, d)


def entr(input):
    return apply(Entr, "SpecialEntrBackward0", (input,))


def logit(input, eps=None):
    return apply(Logit, "LogitBackward0", (input,), eps=eps)


def sinc(input):
    return apply(Sinc, "SincBackward0", (input,))


# -- logaddexp, logaddexp2, hypot ------------------------------------------------------------


class Logaddexp(Function):
    promotion = FLOAT
    combine = staticmethod(np.logaddexp)
    exp = staticmethod(lambda v: xp.exp(v))

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        if np.result_type(a, b).kind == "c":
            return _complex_logaddexp(a, b)
        return cls.combine(a, b)

    @classmethod
    def backward(cls, ctx, g):  # each side's weight 1 / (1 + exp(other - self)): nan at +-inf ties
        a, b = ctx.saved_tensors
        if xp.data(a).dtype.kind == "c" or xp.data(b).dtype.kind == "c":  # holomorphic: conjugated weights
            ga = g * xp.conj(1 / (cls.exp(b - a) + 1))
            return ga, (g * xp.conj(1 / (cls.exp(a - b) + 1)) if ctx.needs_input_grad[1] else None)
        ga = g / (cls.exp(b - a) + 1)
        gb = g / (cls.exp(a - b) + 1) if ctx.needs_input_grad[1] else None
        return ga, gb

    @classmethod
    def jvp(cls, ctx, ta, tb):
        a, b = ctx.saved_tensors
        return _or_zero(ta) / (cls.exp(b - a) + 1) + _or_zero(tb) / (cls.exp(a - b) + 1)


def _complex_logaddexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(exp(a) + exp(b)) as torch computes it in complex: m + log1p(exp(n - m)), m the one
    with the larger real part (a on a tie), so no exp overflows."""
    a, b = np.broadcast_arrays(a, b)
    first = a.real >= b.real
    m, n = np.where(first, a, b), np.where(first, b, a)
    with np.errstate(all="ignore"):
        return m + np.log1p(np.exp(n - m))


class Logaddexp2(Logaddexp):
    combine = staticmethod(np.logaddexp2)
    exp = staticmethod(lambda v: xp.exp2(v))


class Hypot(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, b):
        r = np.hypot(a, b)
        ctx.save_for_backward(a, b, r)
        return r

    @staticmethod
    def backward(ctx, g):
        a, b, r = ctx.saved_tensors
        return g * a / r, (g * b / r if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b, r = ctx.saved_tensors
        return (_or_zero(ta) * a + _or_zero(tb) * b) / r


def logaddexp(input, other):
    return apply(Logaddexp, "LogaddexpBackward0", (input, _tensor_other("logaddexp", other)))


def logaddexp2(input, other):
    return apply(Logaddexp2, "Logaddexp2Backward0", (input, _tensor_other("logaddexp2", other)))


def hypot(input, other):
    return apply(Hypot, "HypotBackward0", (input, _tensor_other("hypot", other)))


FUNCTIONS = ("xlogy", "logit", "sinc", "logaddexp", "logaddexp2", "hypot")
SPECIAL_ONLY = ("xlog1py", "entr")
__all__ = [*FUNCTIONS, "XLogY", "XLog1pY", "Entr", "Logit", "Sinc", "Logaddexp", "Logaddexp2", "Hypot"]
METHODS = {
    "xlogy": xlogy, "logit": logit, "sinc": sinc, "logaddexp": logaddexp, "logaddexp2": logaddexp2, "hypot": hypot,
}  # fmt: skip
