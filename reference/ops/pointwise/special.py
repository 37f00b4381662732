"""Special functions: lgamma, digamma, polygamma, erfc, erfcx, erfinv, ndtr, ndtri, log_ndtr,
and the modified Bessel functions i0, i0e, i1, i1e (their kernels: special_kernels.py).

Derivatives are written with these same ops, so a backward recorded with create_graph is
differentiable again (lgamma' = digamma, digamma' = polygamma(1), polygamma(n)' = polygamma(n + 1),
i0' = i1, ...). Values at poles follow torch (lgamma(0) = inf, digamma(+-0) = -+inf,
polygamma(n, 0) = +-inf, erfinv(+-1) = +-inf).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import FLOAT, Function, apply
from reference.ops.pointwise import special_kernels as kernels
from reference.ops.pointwise._common import RealElementwise, _torch_sign
from reference.ops.pointwise.activation import erf

SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
SQRT_2PI = math.sqrt(2 * math.pi)
SQRT1_2 = math.sqrt(0.5)


def _either(kernel, op):
    """``op`` on a Tensor (a backward being recorded), ``kernel`` on an array."""
    return lambda a: op(a) if xp.is_tensor(a) else kernel(a)


def _sign(a: Any) -> Any:
    """torch's sign of ``a``'s values, as a constant array (its derivative is zero anyway)."""
    return _torch_sign(np.asarray(xp.data(a)))


# -- lgamma, digamma, polygamma --------------------------------------------------------------


class Lgamma(RealElementwise):
    kernel = "lgamma_vml_cpu"
    f = staticmethod(kernels.lgamma_array)
    rule = staticmethod(lambda g, a: g * _either(kernels.digamma_array, digamma)(a))


class Digamma(RealElementwise):
    kernel = "digamma"
    f = staticmethod(kernels.digamma_array)
    rule = staticmethod(lambda g, a: g * _either(lambda v: kernels.polygamma_array(1, v), lambda t: polygamma(1, t))(a))


class Polygamma(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, n):
        ctx.n = n
        ctx.save_for_backward(a)
        return kernels.polygamma_array(n, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        n = ctx.n + 1
        return g * (polygamma(n, a) if xp.is_tensor(a) else kernels.polygamma_array(n, a))

    jvp = backward


def lgamma(input):
    return apply(Lgamma, "LgammaBackward0", (input,))


def digamma(input):
    return apply(Digamma, "DigammaBackward0", (input,))


def polygamma(n, input):
    """The n-th derivative of digamma (``torch.polygamma(n, input)``); n = 0 is digamma."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input)
    return apply(Polygamma, "PolygammaBackward0", (input,), n=n)


def _polygamma_method(self, n):
    return polygamma(n, self)


class Mvlgamma(Function):
    """The multivariate log-gamma function of order p: p(p-1)/4 log(pi) + sum_j lgamma(x - j/2),
    summed as torch sums it (from j = p - 1 down to 0)."""

    promotion = FLOAT

    @staticmethod
    def forward(ctx, a, p):
        ctx.p = p
        ctx.save_for_backward(a)
        total = sum(kernels.lgamma_array(a - j / 2) for j in range(p - 1, -1, -1))
        return np.asarray(total + p * (p - 1) / 4 * math.log(math.pi), dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        if xp.is_tensor(a):
            return g * sum(digamma(a - j / 2) for j in range(ctx.p - 1, -1, -1))
        return g * sum(kernels.digamma_array(a - j / 2) for j in range(ctx.p - 1, -1, -1))

    jvp = backward


def mvlgamma(input, p):
    if not isinstance(p, int) or p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return apply(Mvlgamma, "MvlgammaBackward0", (input,), p=p)


def _mvlgamma_method(self, p):
    return mvlgamma(self, p)


# -- erfc, erfcx, erfinv, ndtr, ndtri, log_ndtr ----------------------------------------------


class Erfc(RealElementwise):
    kernel = "erfc_vml_cpu"
    f = staticmethod(kernels.erfc_array)
    rule = staticmethod(lambda g, a: g * (xp.exp(-(a * a)) * -TWO_OVER_SQRT_PI))


class Erfinv(RealElementwise):
    """The gradient sqrt(pi)/2 exp(erfinv(y)^2), from the result: inf at +-1, as torch's."""

    kernel = "erfinv_vml_cpu"
    f = staticmethod(kernels.erfinv_array)
    saves = "result"
    rule = staticmethod(lambda g, r: g * (xp.exp(r * r) * SQRT_PI_OVER_2))


class _WithResult(Function):
    """A unary op whose derivative needs its input and its result: ``rule(g, a, r)``."""

    promotion = FLOAT

    @classmethod
    def forward(cls, ctx, a):
        r = cls.f(a)
        ctx.save_for_backward(a, r)
        return r

    @classmethod
    def backward(cls, ctx, g):
        a, r = ctx.saved_tensors
        return cls.rule(g, a, r)

    jvp = backward


class Erfcx(_WithResult):  # d/dx exp(x^2) erfc(x) = 2 x erfcx(x) - 2 / sqrt(pi)
    f = staticmethod(kernels.erfcx_array)
    rule = staticmethod(lambda g, a, r: g * (a * r * 2 - TWO_OVER_SQRT_PI))


class Ndtri(RealElementwise):  # 1 / phi(ndtri(p)) = sqrt(2 pi) exp(ndtri(p)^2 / 2)
    kernel = "ndtri_cpu"
    f = staticmethod(kernels.ndtri_array)
    saves = "result"
    rule = staticmethod(lambda g, r: g * (xp.exp(r * r * 0.5) * SQRT_2PI))


class LogNdtr(_WithResult):  # phi(x) / ndtr(x) = exp(-x^2 / 2 - log_ndtr(x)) / sqrt(2 pi)
    f = staticmethod(kernels.log_ndtr_array)
    rule = staticmethod(lambda g, a, r: g * (xp.exp(a * a * -0.5 - r) * (1 / SQRT_2PI)))


def erfc(input):
    return apply(Erfc, "ErfcBackward0", (input,))


def erfcx(input):
    return apply(Erfcx, "SpecialErfcxBackward0", (input,))


def erfinv(input):
    return apply(Erfinv, "ErfinvBackward0", (input,))


class _TimesNumber(Function):  # x * c for a Python number c: torch's MulBackward1 (one edge)
    @staticmethod
    def forward(ctx, a, c):
        ctx.c = c
        return a * c

    @staticmethod
    def backward(ctx, g):
        return g * ctx.c

    jvp = backward


class _PlusNumber(Function):  # x + c for a Python number c: torch's AddBackward1 (one edge)
    @staticmethod
    def forward(ctx, a, c):
        return a + c

    @staticmethod
    def backward(ctx, g):
        return g

    jvp = backward


def ndtr(input):
    """The standard normal CDF, recorded as torch records it: (1 + erf(x / sqrt 2)) / 2, with
    MulBackward1 and AddBackward1 nodes (Tensor-Scalar ops)."""
    scaled = apply(_TimesNumber, "MulBackward1", (_as_float(input),), c=SQRT1_2)
    shifted = apply(_PlusNumber, "AddBackward1", (erf(scaled),), c=1)
    return apply(_TimesNumber, "MulBackward1", (shifted,), c=0.5)


def _as_float(t):
    return t if t._data.dtype.kind == "f" else t.float()


def ndtri(input):
    return apply(Ndtri, "SpecialNdtriBackward0", (input,))


def log_ndtr(input):
    return apply(LogNdtr, "SpecialLogNdtrBackward0", (input,))


# -- modified Bessel functions ---------------------------------------------------------------


def _i0(a):
    return i0(a) if xp.is_tensor(a) else kernels.bessel_array(0, a, False)


def _i0e(a):
    return i0e(a) if xp.is_tensor(a) else kernels.bessel_array(0, a, True)


class I0(RealElementwise):
    kernel = "i0_vml_cpu"
    f = staticmethod(lambda a: kernels.bessel_array(0, a, False))
    rule = staticmethod(lambda g, a: g * (i1(a) if xp.is_tensor(a) else kernels.bessel_array(1, a, False)))


class I0e(_WithResult):  # i1e(x) - sign(x) i0e(x)
    f = staticmethod(lambda a: kernels.bessel_array(0, a, True))
    rule = staticmethod(
        lambda g, a, r: g * ((i1e(a) if xp.is_tensor(a) else kernels.bessel_array(1, a, True)) - _sign(a) * r)
    )


def _at_zero_half(a, derivative):
    """``derivative(a with 1 for 0)`` with 1/2 where x == 0 (the limit torch gives for i1 and
    i1e): the stand-in keeps 1 / x finite, so the derivative of the masked branch is 0, not nan."""
    zero = np.asarray(xp.data(a)) == 0
    return xp.where(zero, 0.5, derivative(xp.where(zero, 1.0, a)))


class I1(_WithResult):  # i0(x) - i1(x) / x, 1/2 at 0
    f = staticmethod(lambda a: kernels.bessel_array(1, a, False))
    rule = staticmethod(lambda g, a, r: g * _at_zero_half(a, lambda safe: _i0(a) - r / safe))


class I1e(_WithResult):  # i0e(x) - i1e(x) (sign(x) + 1 / x), 1/2 at 0
    f = staticmethod(lambda a: kernels.bessel_array(1, a, True))
    rule = staticmethod(lambda g, a, r: g * _at_zero_half(a, lambda safe: _i0e(a) - r * (_sign(a) + 1 / safe)))


def i0(input):
    return apply(I0, "I0Backward0", (input,))


def i0e(input):
    return apply(I0e, "SpecialI0EBackward0", (input,))


def i1(input):
    return apply(I1, "SpecialI1Backward0", (input,))


def i1e(input):
    return apply(I1e, "SpecialI1EBackward0", (input,))


# torch exposes these at the top level and as Tensor methods; ndtr, ndtri, log_ndtr, erfcx,
# i0e, i1 and i1e only in torch.special (reference.special)
FUNCTIONS = ("lgamma", "digamma", "polygamma", "mvlgamma", "erfc", "erfinv", "i0")
SPECIAL_ONLY = ("erfcx", "ndtr", "ndtri", "log_ndtr", "i0e", "i1", "i1e")
__all__ = [*FUNCTIONS, "Lgamma", "Digamma", "Polygamma", "Mvlgamma", "Erfc", "Erfcx", "Erfinv", "Ndtri", "LogNdtr",
           "I0", "I0e", "I1", "I1e"]  # fmt: skip
METHODS = {
    "lgamma": lgamma, "digamma": digamma, "polygamma": _polygamma_method, "mvlgamma": _mvlgamma_method, "erfc": erfc,
    "erfinv": erfinv, "i0": i0,
}  # fmt: skip
