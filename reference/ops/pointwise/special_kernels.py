"""Special functions on float arrays, NumPy alone: lgamma, digamma, polygamma (Hurwitz zeta),
erfc, erfcx, erfinv / the inverse of erfc, and the modified Bessel functions I0 and I1.

Everything is computed in float64 and returned in the input's float dtype (float32 in,
float32 out). The methods are textbook ones, chosen for float64 accuracy (a few ulp away
from zeros; tests/reference/test_special.py measures them against torch):

- Hurwitz zeta: Euler-Maclaurin summation (9 terms, then the integral and 12 Bernoulli
  corrections), which also gives the Taylor coefficients of lgamma around 2.
- lgamma: the Taylor series of lgamma(2 + z) for |z| <= 1/2 (exact near the zeros at 1
  and 2), the recurrence up to 13, Stirling's series beyond; reflection for x < 0.
- digamma: the recurrence up to 10, then the asymptotic series; reflection for x < 0.
- erfcx: exp(x^2) erfc(x) from erf below 1, the erf kernel's tail interpolant on [1, 6]
  and the Laplace continued fraction beyond.
- erfinv: Winitzki's closed-form guess, then Halley steps on erf (or on erfc in the tails,
  where 1 - |y| is exact).
- I0, I1: the power series below 30, the asymptotic expansion beyond (scaled by exp(-|x|)).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from reference.ops.pointwise.activation import _ERF_LARGE, _horner, erf_array

EULER_GAMMA = 0.57721566490153286061
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
ONE_OVER_SQRT_PI = 1.0 / math.sqrt(math.pi)

# B_2, B_4, ..., B_26 (exact), for Euler-Maclaurin and the Stirling and digamma series
_BERNOULLI = tuple(
    Fraction(n, d)
    for n, d in (
        (1, 6), (-1, 30), (1, 42), (-1, 30), (5, 66), (-691, 2730), (7, 6), (-3617, 510), (43867, 798),
        (-174611, 330), (854513, 138), (-236364091, 2730), (8553103, 6),
    )
)  # fmt: skip


def _float64(x: Any) -> tuple[np.ndarray, tuple]:
    """``x`` as a flat float64 array (masks index it, 0-d included), and what ``_back`` needs
    to restore: the shape and the float dtype to return."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return x.astype(np.float64).reshape(-1), (x.shape, dtype)


def _back(values: np.ndarray, like: tuple) -> np.ndarray:
    shape, dtype = like
    return np.asarray(values, dtype=dtype).reshape(shape)


# -- Hurwitz zeta and polygamma ----------------------------------------------------------------

_EM_TERMS = 9


def hurwitz_zeta(s: float, q: np.ndarray) -> np.ndarray:
    """zeta(s, q) = sum_k (q + k)^-s for an integer s >= 2, elementwise over the float64 ``q``
    (q > 0, or negative non-integers; inf at 0 and the negative integers)."""
    q = np.asarray(q, dtype=np.float64)
    shift = _EM_TERMS + max(0, math.ceil(-float(np.nanmin(q, initial=0.0))))  # keep q + N positive
    with np.errstate(all="ignore"):
        total = np.zeros_like(q)
        for k in range(shift):
            total += np.power(q + k, -s)
        a = q + shift
        total += np.power(a, 1.0 - s) / (s - 1.0) + 0.5 * np.power(a, -s)
        rising, factorial, power = float(s), 2.0, np.power(a, -s - 1.0)  # (s)_(2j-1), (2j)!, a^(-s-2j+1)
        for j, b in enumerate(_BERNOULLI[:12], start=1):
            total += float(b) / factorial * rising * power
            rising *= (s + 2 * j - 1) * (s + 2 * j)
            factorial *= (2 * j + 1) * (2 * j + 2)
            power = power / (a * a)
        total[np.isposinf(q)] = 0.0
    return total


def _trigamma_as_torch(x: np.ndarray) -> np.ndarray:
    """polygamma(1, x) as torch 2.13 computes it: reflection below 1/2, the recurrence to x + 6,
    then the asymptotic series 1/x + 1/(2x^2) + B2/x^3 + B4/x^5 + B6/x^7. Its truncation error
    reaches ~5e-10 relative (near x = 1); the engine mirrors it because torch's value is the one
    its forward is compared with (hurwitz_zeta gives the accurate value)."""
    reflect = x < 0.5
    sin_pi = np.sin(math.pi * x)
    total = np.where(reflect, -(math.pi * math.pi) / (sin_pi * sin_pi), 0.0)
    x = np.where(reflect, 1.0 - x, x)
    for _ in range(6):
        total += 1.0 / (x * x)
        x = x + 1.0
    inverse_square = 1.0 / (x * x)
    total += (1.0 + 0.5 / x + inverse_square * (1 / 6 - inverse_square * (1 / 30 - inverse_square / 42))) / x
    return np.where(reflect, -total, total)


def polygamma_array(n: int, x: Any) -> np.ndarray:
    """The n-th derivative of digamma (n >= 1): (-1)^(n+1) n! zeta(n + 1, x); n = 1 as torch."""
    w, dtype = _float64(x)
    with np.errstate(all="ignore"):
        if n == 1:
            r = _trigamma_as_torch(w)
        else:
            r = (-1.0) ** (n + 1) * math.factorial(n) * hurwitz_zeta(n + 1, w)
            pole = (w <= 0) & (w == np.floor(w))  # torch: inf at 0 for odd n, -inf for even n
            r[pole] = math.inf if n % 2 else -math.inf
    return _back(r, dtype)


# -- lgamma ------------------------------------------------------------------------------------

# lgamma(2 + z) = (1 - gamma) z + sum_{k >= 2} (-1)^k (zeta(k) - 1) / k z^k, |z| <= 1/2
_LGAMMA_AT_2 = (
    0.0,
    1.0 - EULER_GAMMA,
    *((-1.0) ** k * float(hurwitz_zeta(k, np.array([2.0]))[0]) / k for k in range(2, 31)),
)
_STIRLING = tuple(float(b / (2 * k * (2 * k - 1))) for k, b in enumerate(_BERNOULLI[:8], start=1))


def _lgamma_near_2(z: np.ndarray) -> np.ndarray:
    return _horner(_LGAMMA_AT_2, z)


def _lgamma_positive(x: np.ndarray) -> np.ndarray:
    """lgamma for x > 0 (finite)."""
    out = np.empty_like(x)
    small = x < 2.5
    xs = x[small]
    nearest = np.floor(xs + 0.5)  # 0, 1 or 2: Gamma(x) = Gamma(2 + z) / (x (x + 1))^(2 - m) terms
    z = xs - nearest
    r = _lgamma_near_2(np.where(nearest == 0, xs, z))
    r -= np.where(nearest == 0, np.log(xs) + np.log1p(xs), np.where(nearest == 1, np.log1p(z), 0.0))
    out[small] = r
    middle = (x >= 2.5) & (x < 13.0)
    xm = x[middle]
    steps = np.floor(xm - 1.5)  # x = 2 + z + steps with z in [-0.5, 0.5)
    z = xm - steps - 2.0
    product = np.ones_like(xm)
    for k in range(1, 12):  # (2 + z)(3 + z)...(x - 1)
        product *= np.where(k <= steps, z + 1.0 + k, 1.0)
    out[middle] = _lgamma_near_2(z) + np.log(product)
    large = x >= 13.0
    xl = x[large]
    inverse_square = 1.0 / (xl * xl)
    series = _horner(_STIRLING, inverse_square) / xl
    out[large] = (xl - 0.5) * np.log(xl) - xl + HALF_LOG_2PI + series
    return out


def lgamma_array(x: Any) -> np.ndarray:
    """log|Gamma(x)|: inf at 0, the negative integers and +-inf; nan at nan."""
    w, dtype = _float64(x)
    out = np.full_like(w, math.inf)
    with np.errstate(all="ignore"):
        positive = (w > 0) & np.isfinite(w)
        out[positive] = _lgamma_positive(w[positive])
        negative = (w < 0) & (w != np.floor(w)) & np.isfinite(w)
        xn = w[negative]
        sin_pi = np.abs(np.sin(math.pi * (xn - np.round(xn))))  # |sin(pi x)|, reduced exactly
        out[negative] = math.log(math.pi) - np.log(sin_pi) - _lgamma_positive(1.0 - xn)
        out[np.isnan(w)] = math.nan
    return _back(out, dtype)


# -- digamma -----------------------------------------------------------------------------------

_DIGAMMA_SERIES = tuple(float(b / (2 * k)) for k, b in enumerate(_BERNOULLI[:8], start=1))


def _digamma_positive(x: np.ndarray) -> np.ndarray:
    total = np.zeros_like(x)
    x = x.copy()
    for _ in range(10):  # recurrence psi(x) = psi(x + 1) - 1 / x up to x >= 10
        low = x < 10.0
        if not low.any():
            break
        total -= np.where(low, 1.0 / x, 0.0)
        x = np.where(low, x + 1.0, x)
    inverse_square = 1.0 / (x * x)
    series = _horner((0.0, *_DIGAMMA_SERIES), inverse_square)
    return total + np.log(x) - 0.5 / x - series


def digamma_array(x: Any) -> np.ndarray:
    """psi(x): -inf at +0 and inf at -0 (torch's signs), nan at the negative integers."""
    w, dtype = _float64(x)
    out = np.full_like(w, math.nan)
    with np.errstate(all="ignore"):
        positive = w > 0
        out[positive] = _digamma_positive(w[positive])
        out[np.isposinf(w)] = math.inf
        zero = w == 0
        out[zero] = np.copysign(math.inf, -w[zero])
        negative = (w < 0) & (w != np.floor(w)) & np.isfinite(w)
        xn = w[negative]
        reduced = xn - np.round(xn)  # psi(x) = psi(1 - x) - pi / tan(pi x)
        out[negative] = _digamma_positive(1.0 - xn) - math.pi / np.tan(math.pi * reduced)
    return _back(out, dtype)


# -- erfc, erfcx, erfinv -----------------------------------------------------------------------

_CONTINUED_FRACTION_DEPTH = 60


def _erfcx_nonnegative(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x) for x >= 0 (float64)."""
    out = np.empty_like(x)
    low = x < 1.0
    xl = x[low]
    out[low] = np.exp(xl * xl) * (1.0 - erf_array(xl))
    middle = (x >= 1.0) & (x <= 6.0)
    out[middle] = _horner(_ERF_LARGE, 5.0 / (1.0 + x[middle] * 0.25) - 3.0)  # the erf kernel's tail fit
    high = x > 6.0
    xh = x[high]
    fraction = np.zeros_like(xh)  # erfcx(x) = 1/sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))))
    for k in range(_CONTINUED_FRACTION_DEPTH, 0, -1):
        fraction = (0.5 * k) / (xh + fraction)
    out[high] = ONE_OVER_SQRT_PI / (xh + fraction)
    return out


def erfcx_float64(w: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x) on a flat float64 array: 2 exp(x^2) - erfcx(-x) for x < 0 (inf past -26.6)."""
    out = np.full_like(w, math.nan)
    with np.errstate(all="ignore"):
        nonnegative = w >= 0
        out[nonnegative] = _erfcx_nonnegative(w[nonnegative])
        negative = w < 0
        xn = w[negative]
        out[negative] = 2.0 * np.exp(xn * xn) - _erfcx_nonnegative(-xn)
    return out


def erfcx_array(x: Any) -> np.ndarray:
    w, dtype = _float64(x)
    return _back(erfcx_float64(w), dtype)


def erfc_float64(w: np.ndarray) -> np.ndarray:
    """erfc(x) = 1 - erf(x) where that loses nothing (x < 1/2), else exp(-x^2) erfcx(x)."""
    with np.errstate(all="ignore"):
        tail = w >= 0.5
        out = 1.0 - erf_array(np.where(tail, 0.0, w))
        xt = w[tail]
        out[tail] = _exp_minus_square(xt) * _erfcx_nonnegative(xt)
    return out


def _exp_minus_square(x: np.ndarray) -> np.ndarray:
    """exp(-x^2) without the rounding of x^2 (relative error ~x^2 eps otherwise): x = h + l
    with h on a 2^-12 grid, so h^2 is exact and x^2 = h^2 + l (x + h)."""
    h = np.trunc(x * 4096.0) / 4096.0
    return np.exp(-(h * h)) * np.exp(-((x - h) * (x + h)))


def erfc_array(x: Any) -> np.ndarray:
    w, dtype = _float64(x)
    return _back(erfc_float64(w), dtype)


def _winitzki_guess(q: np.ndarray) -> np.ndarray:
    """x >= 0 with erfc(x) ~ q (relative error ~2e-3), from log(1 - y^2) = log(q (2 - q))."""
    a = 0.147
    log_term = np.log(q) + np.log(2.0 - q)
    base = 2.0 / (math.pi * a) + 0.5 * log_term
    return np.sqrt(np.sqrt(base * base - log_term / a) - base)


def _inverse_erfc_tail(q: np.ndarray) -> np.ndarray:
    """x >= 0 with erfc(x) = q, for q in (0, 1/2]: Halley steps on erfc, relative in q."""
    x = _winitzki_guess(q)
    for _ in range(4):
        decay = np.exp(-(x * x))
        u = (decay * _erfcx_nonnegative(x) - q) / (TWO_OVER_SQRT_PI * decay)  # f / -f'
        x = x + u / (1.0 - x * u)
    return x


def _inverse_erf_core(y: np.ndarray) -> np.ndarray:
    """x with erf(x) = y for |y| <= 1/2: Halley steps on erf."""
    q = 1.0 - np.abs(y)
    x = np.copysign(_winitzki_guess(q), y)
    for _ in range(4):
        u = (erf_array(x) - y) / (TWO_OVER_SQRT_PI * np.exp(-(x * x)))  # f / f'
        x = x - u / (1.0 + x * u)
    return x


def erfinv_float64(w: np.ndarray) -> np.ndarray:
    """erfinv on a float64 array: +-inf at +-1, nan outside [-1, 1]."""
    out = np.full_like(w, math.nan)
    with np.errstate(all="ignore"):
        core = np.abs(w) <= 0.5
        out[core] = _inverse_erf_core(w[core])
        tail = (np.abs(w) > 0.5) & (np.abs(w) < 1.0)
        yt = w[tail]
        out[tail] = np.copysign(_inverse_erfc_tail(1.0 - np.abs(yt)), yt)  # 1 - |y| is exact here
        edge = np.abs(w) == 1.0
        out[edge] = np.copysign(math.inf, w[edge])
    return out


def erfinv_array(x: Any) -> np.ndarray:
    w, dtype = _float64(x)
    return _back(erfinv_float64(w), dtype)


def ndtri_array(p: Any) -> np.ndarray:
    """The standard normal quantile: -sqrt(2) erfcinv(2p) below 1/2 (exact in the lower
    tail), sqrt(2) erfinv(2p - 1) above (2p - 1 is exact there)."""
    w, dtype = _float64(p)
    out = np.full_like(w, math.nan)
    with np.errstate(all="ignore"):
        lower = (w > 0) & (w < 0.25)
        out[lower] = -math.sqrt(2.0) * _inverse_erfc_tail(2.0 * w[lower])
        upper = (w >= 0.25) & (w <= 1.0)
        out[upper] = math.sqrt(2.0) * erfinv_float64(2.0 * w[upper] - 1.0)
        out[w == 0] = -math.inf
    return _back(out, dtype)


def log_ndtr_array(x: Any) -> np.ndarray:
    """log of the standard normal CDF: log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 below -1 (no
    underflow), log1p(-erfc(x / sqrt 2) / 2) above."""
    w, dtype = _float64(x)
    with np.errstate(all="ignore"):
        t = w * (1.0 / math.sqrt(2.0))
        lower = w < -1.0
        out = np.log1p(-0.5 * erfc_float64(np.where(lower, 0.0, t)))
        tl = t[lower]
        out[lower] = np.log(0.5 * erfcx_float64(-tl)) - tl * tl  # tl^2 rounds like torch's (relative)
    return _back(out, dtype)


# -- modified Bessel functions I0, I1 (and scaled by exp(-|x|)) --------------------------------

_BESSEL_SERIES_LIMIT = 30.0


def _bessel_scaled(order: int, ax: np.ndarray) -> np.ndarray:
    """exp(-x) I_order(x) for x >= 0 (float64)."""
    out = np.empty_like(ax)
    small = ax <= _BESSEL_SERIES_LIMIT
    xs = ax[small]
    quarter_square = 0.25 * xs * xs
    term = np.ones_like(xs) if order == 0 else 0.5 * xs
    total = term.copy()
    for k in range(1, 90):  # sum (x/2)^(2k + order) / (k! (k + order)!)
        term = term * quarter_square / (k * (k + order))
        total += term
    out[small] = total * np.exp(-xs)
    xl = ax[~small]
    mu = 4.0 * order * order
    term = np.ones_like(xl)
    total = term.copy()
    for k in range(1, 30):  # e^x / sqrt(2 pi x) sum (-1)^k prod (mu - (2j - 1)^2) / (k! (8x)^k)
        term = term * -(mu - (2 * k - 1) ** 2) / (8.0 * k * xl)
        total += term
    out[~small] = total / np.sqrt(2.0 * math.pi * xl)
    return out


def bessel_array(order: int, x: Any, scaled: bool) -> np.ndarray:
    """I0 or I1 of ``x`` (I1 odd), or with ``scaled`` exp(-|x|) times it."""
    w, dtype = _float64(x)
    with np.errstate(all="ignore"):
        ax = np.abs(w)
        finite = np.isfinite(ax)
        r = np.full_like(w, math.nan)
        r[finite] = _bessel_scaled(order, ax[finite])
        r[np.isposinf(ax)] = 0.0 if scaled else math.inf
        if not scaled:
            r[finite] *= np.exp(ax[finite])
        if order == 1:
            r = np.copysign(r, w)
    return _back(r, dtype)
