"""Elementwise ops, unary and binary (with broadcasting).

Default draws stay away from kinks, poles and jumps, so finite differences never straddle
one: piecewise ops draw from ``Cells`` (values confined to a window of every unit cell,
e.g. away from the integers for floor), and inputs compared with each other (maximum, clamp
with tensor bounds) draw from disjoint windows, so they never tie. ``kinks`` records where
the non-differentiable points are, for strategies that aim at them on purpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import NONZERO, POSITIVE, REAL, SMALL, Domain, Kinks, op
from gradcheck_suite.strategies import broadcast_shapes, shapes

EXPONENTS = (-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3)
SCALARS = (-2.5, -1, 0.5, 2, 3)


@dataclass(frozen=True)
class Cells(Domain):
    """Values ``k * period + f`` in [low, high] with ``start <= f <= stop``: the window
    [start, stop] of every cell, so draws keep clear of the points between windows
    (floor's integers, round's half-integers, another input's window)."""

    period: float = 1.0
    start: float = 0.1
    stop: float = 0.9

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.start < self.stop and self.stop - self.start < self.period):
            raise ValueError(f"Cells needs start < stop within one period, got [{self.start}, {self.stop}]")
        if self._first_cell() > self._last_cell():
            raise ValueError(f"no cell window fits in [{self.low}, {self.high}]")

    def _first_cell(self) -> int:
        return math.ceil((self.low - self.start) / self.period)

    def _last_cell(self) -> int:
        return math.floor((self.high - self.stop) / self.period)

    def elements(self) -> st.SearchStrategy[float]:
        cell = st.integers(self._first_cell(), self._last_cell())
        offset = st.floats(self.start, self.stop, allow_nan=False, allow_infinity=False)
        return st.builds(lambda k, f: k * self.period + f, cell, offset)

    def __str__(self) -> str:
        return self.name or f"[{self.low:g}, {self.high:g}] at k*{self.period:g} + [{self.start:g}, {self.stop:g}]"


# Values for ops with a kink at 0: magnitudes in [0.1, 3], either sign.
AWAY_FROM_ZERO = Domain(0.1, 3.0, symmetric=True, name="±[0.1, 3]")
UNIT_OPEN = Domain(-0.95, 0.95, name="(-1, 1)")
TAN = Domain(-1.3, 1.3, name="(-pi/2, pi/2)")
LOG1P = Domain(-0.75, 3.0, name="(-1, 3]")
SIGMOID = Domain(-6.0, 6.0, name="[-6, 6]")
NOT_INTEGER = Cells(-3.0, 3.0, start=0.1, stop=0.9, name="away from integers")
NOT_HALF_INTEGER = Cells(-3.0, 3.0, start=-0.4, stop=0.4, name="away from half-integers")
NOT_TENTH_HALF = Cells(-3.0, 3.0, period=0.1, start=-0.04, stop=0.04, name="away from (k + 1/2) / 10")
# three mutually disjoint windows of each unit cell: inputs drawn from different ones never tie
LOW_WINDOW = Cells(-3.0, 3.0, start=0.05, stop=0.3, name="k + [0.05, 0.3]")
MID_WINDOW = Cells(-3.0, 3.0, start=0.4, stop=0.6, name="k + [0.4, 0.6]")
HIGH_WINDOW = Cells(-3.0, 3.0, start=0.7, stop=0.95, name="k + [0.7, 0.95]")
# scalar clamp bounds are half-integers; NEAR_INTEGER values stay 0.15 away from them
HALF_INTEGER_BOUNDS = (-1.5, -0.5, 0.5, 1.5, None)
NEAR_INTEGER = Cells(-3.0, 3.0, start=-0.35, stop=0.35, name="k + [-0.35, 0.35]")

AT_ZERO = Kinks(points=(0.0,))
INTEGERS = tuple(float(k) for k in range(-3, 4))
HALF_INTEGERS = tuple(k + 0.5 for k in range(-4, 4))
# fmod / remainder by a Python number from DIVISORS (all multiples of 1/2) jump only at
# multiples of 1/2; NOT_HALF_MULTIPLE keeps 0.1 away from them
DIVISORS = (0.5, 1.0, -1.5, 2.5)
NOT_HALF_MULTIPLE = Cells(-3.0, 3.0, period=0.5, start=0.1, stop=0.4, name="away from multiples of 1/2")
HALF_MULTIPLES = tuple(k / 2 for k in range(-6, 7))
# a tensor divisor y in ±[1.9, 2.1]: x / y is an integer near 0, ±y, ±2y; these x stay clear
DIVIDEND = Cells(-3.75, 3.75, period=2.0, start=0.25, stop=1.65, name="clear of 0, ±[1.9, 2.1], ±[3.8, 4.2]")
DIVISOR = Domain(1.9, 2.1, symmetric=True, name="±[1.9, 2.1]")
ACOSH = Domain(1.1, 4.0, name="(1, 4]")


def _scalar(name: str, values: tuple):
    return lambda s: st.fixed_dictionaries({name: st.sampled_from(values)})


def _clamp_bounds(shapes_):
    """min and max from the half-integers (either may be None, not both; min > max too)."""
    bound = st.sampled_from(HALF_INTEGER_BOUNDS)
    pairs = st.tuples(bound, bound).filter(lambda b: b != (None, None))
    return pairs.map(lambda b: {"min": b[0], "max": b[1]})


@st.composite
def _condition(draw, shapes_):
    """A boolean condition that broadcasts with the inputs (some dims 1 or dropped)."""
    full = np.broadcast_shapes(*shapes_)
    dropped = draw(st.integers(0, len(full)), label="leading dims dropped")
    shape = tuple(n if draw(st.booleans(), label=f"keep dim {i}") else 1 for i, n in enumerate(full[dropped:]))
    size = math.prod(shape)
    bits = draw(st.lists(st.booleans(), min_size=size, max_size=size), label="condition")
    return {"condition": np.array(bits, dtype=bool).reshape(shape)}


# x takes the full broadcast shape: torch 2.13's clamp backward raises ("output with shape [1, 1]
# doesn't match the broadcast shape [3, 1]") when x broadcasts against both tensor bounds, since
# it combines the two masks in place; the reference engine returns the gradient there.
CLAMP_TENSOR_SHAPES = broadcast_shapes(3).map(lambda s: (np.broadcast_shapes(*s), s[1], s[2]))


def _clamp_tensor(ns, a, lo, hi, bounds):
    if bounds == "min":
        return a.clamp(min=lo)
    if bounds == "max":
        return ns.clamp(a, max=hi)
    return a.clamp(lo, hi)


def _comparisons(ns, a, b):
    """Every comparison, as masks multiplied into floats (bool * float promotes)."""
    return a * (a > b) + b * (a <= b) + (a < b) * 0.5 - (a >= b) * 0.25 + a * (a != b) - (a == b) * 1.0


def _off_the_cuts(a, scale: float):
    """A complex input scaled toward 0 (imaginary parts are drawn in [-2, 2]), where the
    function's branch cuts or poles on the imaginary axis begin beyond ``2 * scale``; a real
    input as it is."""
    return a * scale if a.is_complex() else a


def _unary(name: str, fn, domain: Domain = REAL, **rest):
    return op(name, "pointwise", fn, shapes(), (domain,), **rest)


def _binary(name: str, fn, domains: tuple = (REAL, REAL), **rest):
    return op(name, "pointwise", fn, broadcast_shapes(2), domains, **rest)


OPS = [
    # -- arithmetic
    _binary("add", lambda ns, a, b: a + b, analytic=True),
    _binary("sub", lambda ns, a, b: a - b, analytic=True),
    _binary("mul", lambda ns, a, b: a * b, analytic=True),
    _binary("div", lambda ns, a, b: a / b, (REAL, NONZERO), analytic=True, kinks=Kinks(points=(0.0,), inputs=(1,))),
    _binary("rsub_tensor", lambda ns, a, b: ns.rsub(a, b), analytic=True, doc="torch.rsub(a, b) = b - a"),
    _unary("neg", lambda ns, a: -a, analytic=True),
    _unary(
        "rsub", lambda ns, a, other: other - a, kwargs=_scalar("other", SCALARS), analytic=True,
        doc="Python scalar - tensor",
    ),
    _unary(
        "rdiv", lambda ns, a, other: other / a, NONZERO, kwargs=_scalar("other", SCALARS), analytic=True,
        kinks=AT_ZERO, doc="Python scalar / tensor (torch records reciprocal, then mul)",
    ),
    _unary("reciprocal", lambda ns, a: a.reciprocal(), NONZERO, analytic=True, kinks=AT_ZERO),
    # -- powers
    _unary(
        "pow", lambda ns, a, exponent: a**exponent, POSITIVE, kwargs=_scalar("exponent", EXPONENTS),
        analytic=True, kinks=AT_ZERO, doc="tensor ** Python scalar",
    ),
    _binary("pow_tensor", lambda ns, a, b: a**b, (POSITIVE, SMALL), analytic=True, doc="tensor ** tensor"),
    _unary(
        "rpow", lambda ns, a, base: base**a, SMALL, kwargs=_scalar("base", (0.5, 2.0, 3.5)), analytic=True,
        doc="Python scalar ** tensor",
    ),
    _unary("square", lambda ns, a: ns.square(a), analytic=True, doc="torch records PowBackward0"),
    _unary("sqrt", lambda ns, a: a.sqrt(), POSITIVE, analytic=True, kinks=AT_ZERO),
    _unary("rsqrt", lambda ns, a: ns.rsqrt(a), POSITIVE, analytic=True, kinks=AT_ZERO),
    # -- exp and log
    _unary("exp", lambda ns, a: ns.exp(a), analytic=True),
    _unary("expm1", lambda ns, a: a.expm1(), analytic=True),
    _unary("log", lambda ns, a: ns.log(a), POSITIVE, analytic=True, kinks=AT_ZERO),
    _unary("log1p", lambda ns, a: ns.log1p(a), LOG1P, analytic=True, kinks=Kinks(points=(-1.0,))),
    _unary("log2", lambda ns, a: a.log2(), POSITIVE, analytic=True, kinks=AT_ZERO),
    _unary("log10", lambda ns, a: ns.log10(a), POSITIVE, kinks=AT_ZERO, doc="Log10Backward0"),
    _unary("exp2", lambda ns, a: a.exp2(), doc="Exp2Backward0"),
    _binary("ldexp", lambda ns, a, b: ns.ldexp(a, b), (REAL, SMALL), doc="LdexpBackward0: x * 2**e"),
    _binary("logaddexp", lambda ns, a, b: ns.logaddexp(a, b), doc="LogaddexpBackward0"),
    _binary("logaddexp2", lambda ns, a, b: a.logaddexp2(b), doc="Logaddexp2Backward0"),
    # -- trigonometric and hyperbolic
    _unary("sin", lambda ns, a: ns.sin(a), analytic=True),
    _unary("cos", lambda ns, a: a.cos(), analytic=True),
    _unary("tan", lambda ns, a: ns.tan(a), TAN, analytic=True),
    _unary("asin", lambda ns, a: a.asin(), UNIT_OPEN, analytic=True, kinks=Kinks(points=(-1.0, 1.0))),
    _unary("acos", lambda ns, a: ns.acos(a), UNIT_OPEN, analytic=True, kinks=Kinks(points=(-1.0, 1.0))),
    _unary("atan", lambda ns, a: _off_the_cuts(a, 0.45).atan(), analytic=True,
           doc="AtanBackward0; complex z is scaled by 0.45 first: |Im| < 1 keeps off the cuts from ±i"),
    _unary("sinh", lambda ns, a: ns.sinh(a), analytic=True),
    _unary("cosh", lambda ns, a: a.cosh(), analytic=True),
    _unary("tanh", lambda ns, a: ns.tanh(_off_the_cuts(a, 0.7)), analytic=True,
           doc="TanhBackward0; complex z is scaled by 0.7 first: |Im| < 1.4 keeps off the poles at ±iπ/2"),
    _unary("asinh", lambda ns, a: ns.asinh(_off_the_cuts(a, 0.45)),
           doc="AsinhBackward0; complex z is scaled by 0.45 first: |Im| < 1 keeps off the cuts from ±i"),
    _unary("acosh", lambda ns, a: a.acosh(), ACOSH, kinks=Kinks(points=(1.0,)), doc="AcoshBackward0; inf at 1"),
    _unary("atanh", lambda ns, a: ns.atanh(a), UNIT_OPEN, kinks=Kinks(points=(-1.0, 1.0)), doc="AtanhBackward0"),
    _unary("deg2rad", lambda ns, a: ns.deg2rad(a), doc="Deg2RadBackward0"),
    _unary("rad2deg", lambda ns, a: a.rad2deg(), doc="Rad2DegBackward0"),
    _binary(
        "hypot", lambda ns, a, b: ns.hypot(a, b), (AWAY_FROM_ZERO, REAL), kinks=Kinks(points=(0.0,), inputs=(0,)),
        doc="HypotBackward0; x kept off 0 (the gradient is nan at the origin)",
    ),
    # -- activations and special functions
    _unary("sigmoid", lambda ns, a: ns.sigmoid(a), SIGMOID, analytic=True),
    _unary("relu", lambda ns, a: ns.relu(a), AWAY_FROM_ZERO, kinks=AT_ZERO, doc="gradient 0 at 0"),
    _unary("erf", lambda ns, a: a.erf(), doc="torch has no complex erf, so not marked analytic"),
    # -- piecewise: kinks and jumps
    _unary("abs", lambda ns, a: a.abs(), AWAY_FROM_ZERO, kinks=AT_ZERO, doc="gradient 0 at 0"),
    _unary("sign", lambda ns, a: ns.sign(a), AWAY_FROM_ZERO, kinks=AT_ZERO, doc="zero gradient"),
    _unary("floor", lambda ns, a: ns.floor(a), NOT_INTEGER, kinks=Kinks(points=INTEGERS), doc="zero gradient"),
    _unary(
        "round", lambda ns, a: a.round(), NOT_HALF_INTEGER, kinks=Kinks(points=HALF_INTEGERS),
        doc="half to even; zero gradient",
    ),
    _unary(
        "round_decimals", lambda ns, a: ns.round(a, decimals=1), NOT_TENTH_HALF,
        kinks=Kinks(points=tuple(k / 10 + 0.05 for k in range(-31, 31))), doc="RoundBackward1; zero gradient",
    ),
    _unary("trunc", lambda ns, a: ns.trunc(a), NOT_INTEGER, kinks=Kinks(points=INTEGERS), doc="zero gradient"),
    _unary("ceil", lambda ns, a: a.ceil(), NOT_INTEGER, kinks=Kinks(points=INTEGERS), doc="zero gradient"),
    _unary(
        "frac", lambda ns, a: ns.frac(a), NOT_INTEGER, kinks=Kinks(points=INTEGERS),
        doc="x - trunc(x): FracBackward0 passes the gradient",
    ),
    _unary(
        "fmod", lambda ns, a, other: ns.fmod(a, other), NOT_HALF_MULTIPLE, kwargs=_scalar("other", DIVISORS),
        kinks=Kinks(points=HALF_MULTIPLES), doc="by a Python number (FmodBackward0); jumps at multiples of it",
    ),
    _unary(
        "remainder", lambda ns, a, other: a % other, NOT_HALF_MULTIPLE, kwargs=_scalar("other", DIVISORS),
        kinks=Kinks(points=HALF_MULTIPLES), doc="tensor % Python number (RemainderBackward0)",
    ),
    _binary(
        "fmod_tensor", lambda ns, a, b: a.fmod(b), (DIVIDEND, DIVISOR),
        doc="FmodBackward1: the divisor's gradient is -trunc(x / y)",
    ),
    _binary(
        "remainder_tensor", lambda ns, a, b: ns.remainder(a, b), (DIVIDEND, DIVISOR),
        doc="RemainderBackward1: the divisor's gradient is -floor(x / y)",
    ),
    _binary(
        "copysign", lambda ns, a, b: ns.copysign(a, b), (AWAY_FROM_ZERO, AWAY_FROM_ZERO),
        kinks=Kinks(points=(0.0,), inputs=(0,)),
        doc="CopysignBackward0: gradient sign(x) sign(y) (0 at x == 0), none for y; y kept off its jump at 0",
    ),
    _unary(
        "clamp", lambda ns, a, min, max: a.clamp(min, max), NEAR_INTEGER, kwargs=_clamp_bounds,
        kinks=Kinks(kwarg_points=("min", "max")), doc="Python-number bounds (ClampBackward1); min > max too",
    ),
    _unary(
        "clamp_min", lambda ns, a, min: a.clamp_min(min), NEAR_INTEGER, kwargs=_scalar("min", (-0.5, 0.5)),
        kinks=Kinks(kwarg_points=("min",)), doc="ClampMinBackward0",
    ),
    _unary(
        "clamp_max", lambda ns, a, max: ns.clamp_max(a, max), NEAR_INTEGER, kwargs=_scalar("max", (-0.5, 1.5)),
        kinks=Kinks(kwarg_points=("max",)), doc="ClampMaxBackward0",
    ),
    op(
        "clamp_tensor", "pointwise", _clamp_tensor, CLAMP_TENSOR_SHAPES, (LOW_WINDOW, MID_WINDOW, HIGH_WINDOW),
        kwargs=_scalar("bounds", ("both", "min", "max")), kinks=Kinks(ties=True),
        doc="tensor bounds (ClampBackward0): both, min only, max only; min > max too",
    ),
    _binary(
        "clamp_min_tensor", lambda ns, a, b: a.clamp_min(b), (LOW_WINDOW, MID_WINDOW), kinks=Kinks(ties=True),
        doc="ClampMinBackward1",
    ),
    _binary(
        "clamp_max_tensor", lambda ns, a, b: ns.clamp_max(a, b), (LOW_WINDOW, MID_WINDOW), kinks=Kinks(ties=True),
        doc="ClampMaxBackward1",
    ),
    # -- combinations
    op(
        "lerp", "pointwise", lambda ns, a, b, weight: ns.lerp(a, b, weight), broadcast_shapes(2), (REAL, REAL),
        kwargs=_scalar("weight", (-0.5, 0.25, 0.5, 0.75, 1.5)), doc="Python-number weight (LerpBackward0)",
    ),
    op(
        "lerp_tensor", "pointwise", lambda ns, a, b, w: a.lerp(b, w), broadcast_shapes(3), (REAL, REAL, SMALL),
        doc="tensor weight (LerpBackward1); the formula switches ends at |w| = 1/2",
    ),
    op(
        "addcmul", "pointwise", lambda ns, a, b, c, value: ns.addcmul(a, b, c, value=value), broadcast_shapes(3),
        (REAL, REAL, REAL), kwargs=_scalar("value", (1, -0.5, 2.0)), doc="AddcmulBackward0",
    ),
    op(
        "addcdiv", "pointwise", lambda ns, a, b, c, value: a.addcdiv(b, c, value=value), broadcast_shapes(3),
        (REAL, REAL, NONZERO), kwargs=_scalar("value", (1, -0.5, 2.0)), kinks=Kinks(points=(0.0,), inputs=(2,)),
        doc="AddcdivBackward0",
    ),
    _unary("nan_to_num", lambda ns, a: ns.nan_to_num(a), doc="NanToNumBackward0: identity on finite values"),
    # -- binary selections
    _binary("maximum", lambda ns, a, b: ns.maximum(a, b), (LOW_WINDOW, MID_WINDOW), kinks=Kinks(ties=True)),
    _binary("minimum", lambda ns, a, b: a.minimum(b), (LOW_WINDOW, MID_WINDOW), kinks=Kinks(ties=True)),
    _binary(
        "fmax", lambda ns, a, b: ns.fmax(a, b), (LOW_WINDOW, MID_WINDOW), kinks=Kinks(ties=True),
        doc="FmaxBackward0: a tie's gradient goes to input (maximum splits it)",
    ),
    _binary(
        "fmin", lambda ns, a, b: a.fmin(b), (LOW_WINDOW, MID_WINDOW), kinks=Kinks(ties=True),
        doc="FminBackward0: a tie's gradient goes to input",
    ),
    _binary(
        "atan2", lambda ns, a, b: ns.atan2(a, b), (AWAY_FROM_ZERO, REAL), kinks=Kinks(points=(0.0,), inputs=(0,)),
        doc="y kept off 0: the branch cut (x < 0) and the origin",
    ),
    _binary(
        "where", lambda ns, a, b, condition: ns.where(ns.from_numpy(condition), a, b), kwargs=_condition,
        analytic=True, doc="condition broadcast against both inputs",
    ),
    _binary(
        "comparisons", _comparisons, (LOW_WINDOW, MID_WINDOW), kinks=Kinks(ties=True),
        doc="eq, ne, lt, le, gt, ge as masks times floats",
    ),
]  # fmt: skip

# Checked in complex64/complex128 too: torch differentiates them there, and their domains keep
# the drawn real parts off the branch cuts (log, sqrt, pow: Re > 0; asin, acos, atanh:
# |Re| < 1; acosh: Re > 1) and the poles (div, reciprocal: |Re| >= 0.25; tan: |Re| < pi/2).
COMPLEX_TOO = (
    "add", "sub", "mul", "div", "rsub_tensor", "neg", "rsub", "rdiv", "reciprocal", "pow", "pow_tensor", "rpow",
    "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "asin", "acos",
    "sinh", "cosh", "acosh", "atanh", "sigmoid", "abs", "atan", "asinh", "tanh", "exp2", "ldexp", "addcmul",
    "addcdiv", "where", "lerp", "lerp_tensor", "logaddexp",
)  # fmt: skip
OPS = also_complex(OPS, COMPLEX_TOO)
