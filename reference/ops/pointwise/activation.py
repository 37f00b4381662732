"""sigmoid, relu and erf (with the float erf kernel NumPy lacks)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference.autograd import arrayops as xp
from reference.autograd.function import FLOAT, Function, apply
from reference.ops.pointwise._common import (
    QUIET,
    RealElementwise,
    _inplace,
    _reciprocal_inplace,
    _unsupported_complex,
    _zero_where,
)

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# -- sigmoid, relu, erf ----------------------------------------------------------------------


class Sigmoid(Function):
    promotion = FLOAT

    @staticmethod
    def forward(ctx, a):
        with np.errstate(**QUIET):  # 1 / (1 + exp(-a)), on one temporary
            e = _inplace(np.exp, -a)
            e += 1
            r = _reciprocal_inplace(e)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return _sigmoid_rule(g, xp.conj(r))  # complex: g conj(r (1 - r))

    @staticmethod
    def jvp(ctx, t):
        (r,) = ctx.saved_tensors
        return _sigmoid_rule(t, r)


def _sigmoid_rule(g, r):
    if type(g) is np.ndarray and type(r) is np.ndarray:  # g r (1 - r) on one temporary
        d = np.subtract(1, r)
        d *= r
        d *= g
        return d
    return g * (r * (1 - r))


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind in "bc":
            _unsupported_complex(a, "", "clamp is not supported for complex types")
            raise RuntimeError("Boolean inputs not supported for relu")
        r = a.copy()
        np.copyto(r, 0, where=a < 0)  # keeps -0.0 and nan, as torch
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):  # 0 at 0; threshold on the result, so nan passes g through
        (r,) = ctx.saved_tensors
        return _zero_where(xp.data(r) <= 0, g)

    jvp = backward


class Erf(RealElementwise):
    kernel = "erf_vml_cpu"
    f = staticmethod(lambda a: erf_array(a))  # defined below, with the series it uses
    rule = staticmethod(lambda g, a: g * (xp.exp(-(a * a)) * TWO_OVER_SQRT_PI))


def sigmoid(input):
    return apply(Sigmoid, "SigmoidBackward0", (input,))


def relu(input):
    return apply(Relu, "ReluBackward0", (input,))


def erf(input):
    return apply(Erf, "ErfBackward0", (input,))


# erf on float64 arrays. NumPy has none; coefficients derived here (40 digits, mpmath):
# |x| < 1:  erf(x) = x + x * q(x^2), q from the Chebyshev interpolant of erf(√s)/√s - 1 on
#           s in [0, 1] (degree 13), in powers of s;
# 1 <= |x|: erf(x) = ±(1 - exp(-x^2) h(x)), h = exp(x^2) erfc(x) interpolated in
#           u = 1/(1 + |x|/4) (degree 17), in powers of z = 5u - 3 (z in [-1, 1] for |x| in [1, 6]);
#           past |x| = 6, erfc < 2e-17 and erf rounds to ±1.
# Float32 inputs run in float32 with degree 7 and 10 interpolants (error < 1e-9): within 1 ulp
# of the correctly rounded erf, as torch's float32 erf.
# Float64 accuracy against math.erf on 1e5 points (uniform in [-7, 7], normal, tiny, log-spaced):
# at most 2 ulp, 0.16 ulp on average (tests/reference/test_pointwise.py measures it).
_ERF_SMALL = (
    0.1283791670955126, -0.37612638903183754, 0.1128379167095512, -0.02686617064512984, 0.0052239776254232985,
    -0.000854832702193483, 0.00012055332902888736, -1.4925647567519332e-05, 1.6462045441468418e-06,
    -1.6364642158167616e-07, 1.4792401209404813e-08, -1.216456005728345e-09, 8.709045129053106e-11,
    -4.230945824295338e-12,
)  # fmt: skip
_ERF_LARGE = (
    0.19907263099386563, 0.14812992991458332, 0.05589108556608049, 0.018078437227012044, 0.004990286041083589,
    0.0011615374405681985, 0.0002225964318186246, 3.346127705792256e-05, 3.4988173552439644e-06,
    1.4320651874377451e-07, -2.5771433228199363e-08, -4.95652190053252e-09, -1.0702131573919002e-10,
    6.924327359414642e-11, 6.566678477556606e-12, -8.373298337881446e-13, -1.4304164132499003e-13,
    1.0065864831621792e-14,
)  # fmt: skip
_ERF_SMALL_F32 = (
    0.12837916706154343, -0.3761263846802871, 0.11283782495236845, -0.026865430727670243, 0.005221031807858023,
    -0.0008484080405535107, 0.00011265959025606609, -9.667044571486996e-06,
)  # fmt: skip
_ERF_LARGE_F32 = (
    0.19907263099386563, 0.1481299298633424, 0.05589108556511744, 0.01807843825254995, 0.004990286060410933,
    0.0011615316871848584, 0.00022259632262902428, 3.3474475502388866e-05, 3.499071354422948e-06,
    1.2990364836247104e-07, -2.6035123117593002e-08,
)  # fmt: skip
_ERF_SCALAR_LIMIT = 48  # below this many elements, math.erf per element is faster


def _horner(coeffs: tuple, z: np.ndarray) -> np.ndarray:
    """sum(coeffs[k] * z**k), in place on one temporary."""
    acc = np.full_like(z, coeffs[-1])
    for c in coeffs[-2::-1]:
        acc *= z
        acc += c
    return acc


def erf_array(x: Any) -> np.ndarray:
    """The error function of a float array, elementwise (float32 in, float32 out; else float64).

    Within 2 ulp of ``math.erf`` in float64 (see the note above the coefficients); odd,
    ``erf(±inf) = ±1``, ``erf(nan) = nan``, ``erf(-0.0) = -0.0``.
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    if x.size < _ERF_SCALAR_LIMIT:
        return np.array([math.erf(v) for v in x.ravel().tolist()], dtype).reshape(x.shape)
    narrow = dtype == np.float32
    small, large = (_ERF_SMALL_F32, _ERF_LARGE_F32) if narrow else (_ERF_SMALL, _ERF_LARGE)
    w = x if narrow else x.astype(np.float64, copy=False)  # float32 runs in float32: twice as fast
    ax = np.abs(w)
    near = ax < 1.0
    n_near = np.count_nonzero(near)
    # Both branches run on every element and a branch-free copy picks: gathering the
    # elements of a random mask costs more than a whole polynomial.
    if n_near == w.size:
        out = _erf_near(w, small)
    else:
        out = _erf_far(w, ax, large)
        if n_near:
            np.copyto(out, _erf_near(w, small), where=near)
    return out


def _erf_near(w: np.ndarray, coeffs: tuple) -> np.ndarray:
    """x + x q(x^2), for |x| < 1 (the correction is small, so its rounding barely shows)."""
    s = np.square(w)
    np.minimum(s, 1.0, out=s)  # elements of the other branch: keep the powers finite
    q = _horner(coeffs, s)
    q *= w
    q += w
    return q


def _erf_far(w: np.ndarray, ax: np.ndarray, coeffs: tuple) -> np.ndarray:
    """±(1 - exp(-x^2) h(x)) for |x| >= 1; overwrites ``ax``."""
    xf = np.clip(ax, 1.0, 6.0, out=ax)  # nan stays nan; past 6, erf rounds to ±1
    z = xf * 0.25
    z += 1.0
    np.divide(5.0, z, out=z)
    z -= 3.0  # 5 / (1 + x/4) - 3, in [-1, 1]
    h = _horner(coeffs, z)
    np.square(xf, out=xf)
    np.negative(xf, out=xf)
    h *= np.exp(xf, out=xf)
    np.subtract(1.0, h, out=h)
    return np.copysign(h, w, out=h)


FUNCTIONS = ("sigmoid", "relu", "erf")
__all__ = [*FUNCTIONS, "Sigmoid", "Relu", "Erf", "erf_array"]
METHODS = {"sigmoid": sigmoid, "relu": relu, "erf": erf}
