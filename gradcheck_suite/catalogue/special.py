"""Catalogue family 'special': torch.special's functions and pointwise special functions
(lgamma, digamma, polygamma, erfinv, erfc, xlogy, i0, sinc, logit, ...).

Domains keep clear of poles (the gamma family on positive values), of the ends of erfinv's
and ndtri's intervals, and of the points where torch's value is a convention rather than a
derivative (sinc at 0: torch's double backward is nan there, though sinc'' (0) = -pi^2/3).
torch 2.13's float64 trigamma (polygamma n = 1, also digamma's gradient and lgamma's second
derivative) is off by up to ~5e-10 relative (against mpmath); the reference engine mirrors it.
"""

from __future__ import annotations

from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.pointwise import AWAY_FROM_ZERO, Cells
from gradcheck_suite.catalogue.spec import POSITIVE, REAL, Domain, Kinks, op
from gradcheck_suite.strategies import broadcast_shapes, shapes

GAMMA = Domain(0.2, 8.0, name="(0, 8]")
ERFINV = Domain(-0.95, 0.95, name="(-1, 1)")
PROBABILITY = Domain(0.02, 0.98, name="(0, 1)")
LOG1P_ARGUMENT = Domain(-0.75, 3.0, name="(-1, 3]")
# logit's eps is None, 0 or 1/4: values k/4 + [0.05, 0.2] stay 0.05 away from 1/4 and 3/4
LOGIT = Cells(0.05, 0.95, period=0.25, start=0.05, stop=0.2, name="(0, 1) away from 1/4, 3/4")
AT_ZERO = Kinks(points=(0.0,))


def _unary(name: str, fn, domain: Domain = REAL, **rest):
    return op(name, "special", fn, shapes(), (domain,), **rest)


def _binary(name: str, fn, domains: tuple, **rest):
    return op(name, "special", fn, broadcast_shapes(2), domains, **rest)


def _logit_eps(shapes_):
    """eps and its upper kink 1 - eps (``eps_upper``, only for Kinks; the op ignores it)."""
    return st.sampled_from((None, 0.0, 0.25)).map(lambda e: {"eps": e, "eps_upper": None if e is None else 1 - e})


OPS = [
    # -- gamma family
    _unary("lgamma", lambda ns, a: ns.lgamma(a), GAMMA, doc="LgammaBackward0; gradient digamma"),
    _unary("digamma", lambda ns, a: a.digamma(), GAMMA, doc="DigammaBackward0; gradient polygamma(1, x)"),
    _unary(
        "polygamma", lambda ns, a, n: ns.polygamma(n, a), GAMMA, kwargs=lambda s: st.fixed_dictionaries(
            {"n": st.sampled_from((1, 2, 3))}), doc="PolygammaBackward0; n = 1, 2, 3",
    ),
    _unary(
        "special.multigammaln", lambda ns, a, p: ns.special.multigammaln(a, p), Domain(1.2, 8.0, name="(1, 8]"),
        kwargs=lambda s: st.fixed_dictionaries({"p": st.sampled_from((1, 2, 3))}),
        doc="MvlgammaBackward0 (torch.mvlgamma); x > (p - 1) / 2",
    ),
    # -- error functions and the normal distribution
    _unary("erfc", lambda ns, a: ns.erfc(a), doc="ErfcBackward0"),
    _unary("erfinv", lambda ns, a: a.erfinv(), ERFINV, doc="ErfinvBackward0; inf at +-1"),
    _unary("special.erfcx", lambda ns, a: ns.special.erfcx(a), doc="SpecialErfcxBackward0"),
    _unary(
        "special.ndtr", lambda ns, a: ns.special.ndtr(a),
        doc="(1 + erf(x * sqrt(1/2))) * 0.5: MulBackward1 <- AddBackward1 <- ErfBackward0 <- MulBackward1",
    ),
    _unary("special.ndtri", lambda ns, a: ns.special.ndtri(a), PROBABILITY, doc="SpecialNdtriBackward0"),
    _unary("special.log_ndtr", lambda ns, a: ns.special.log_ndtr(a), doc="SpecialLogNdtrBackward0"),
    # -- modified Bessel functions
    _unary("i0", lambda ns, a: ns.i0(a), doc="I0Backward0; gradient i1"),
    _unary(
        "special.i0e", lambda ns, a: ns.special.i0e(a), AWAY_FROM_ZERO, kinks=AT_ZERO,
        doc="SpecialI0EBackward0; exp(-|x|) makes a kink at 0 (torch gives 0 there)",
    ),
    _unary("special.i1", lambda ns, a: ns.special.i1(a), doc="SpecialI1Backward0; gradient 1/2 at 0"),
    _unary(
        "special.i1e", lambda ns, a: ns.special.i1e(a), AWAY_FROM_ZERO, kinks=AT_ZERO,
        doc="SpecialI1EBackward0; the second derivative has a kink at 0",
    ),
    # -- elementary special functions
    _unary("sinc", lambda ns, a: ns.sinc(a), AWAY_FROM_ZERO, doc="SincBackward0; kept off 0 (nan double backward)"),
    # the kinks at eps and at 1 - eps are aimed at by two entries: one case holding both would
    # move them together in the joint kink rule, where torch's (valid) choice, the inner one-sided
    # derivative at each bound, sums to a value outside [L, R] along that direction
    _unary(
        "logit", lambda ns, a, eps, eps_upper: ns.logit(a, eps=eps), LOGIT, kwargs=_logit_eps,
        kinks=Kinks(kwarg_points=("eps",)),
        doc="LogitBackward0; eps None, 0 or 1/4: gradient 0 outside [eps, 1 - eps], kept at the bounds",
    ),
    _unary(
        "logit_eps_upper", lambda ns, a, eps, eps_upper: a.logit(eps), LOGIT, kwargs=_logit_eps,
        kinks=Kinks(kwarg_points=("eps_upper",)), doc="logit, with draws aimed at the upper bound 1 - eps",
    ),
    _unary("special.entr", lambda ns, a: ns.special.entr(a), POSITIVE, doc="SpecialEntrBackward0"),
    _binary(
        "xlogy", lambda ns, a, b: ns.xlogy(a, b), (REAL, POSITIVE), kinks=Kinks(points=(0.0,), inputs=(0,)),
        doc="XlogyBackward0; draws aim at x == 0 (value 0, gradients log(y) and 0)",
    ),
    _unary(
        "xlogy_number", lambda ns, a, number, side: ns.xlogy(number, a) if side == "y" else ns.xlogy(a, number),
        POSITIVE, kwargs=lambda s: st.fixed_dictionaries({"number": st.sampled_from((0.5, 2.0, 3.0)),
                                                         "side": st.sampled_from(("x", "y"))}),
        doc="one side a Python number: XlogyBackward1 (xlogy(number, y)) and XlogyBackward2 (xlogy(x, number))",
    ),
    _binary(
        "special.xlog1py", lambda ns, a, b: ns.special.xlog1py(a, b), (REAL, LOG1P_ARGUMENT),
        kinks=Kinks(points=(0.0,), inputs=(0,)), doc="SpecialXlog1PyBackward0",
    ),
]  # fmt: skip

# torch's special functions are real-only, but for sinc
OPS = also_complex(OPS, ("sinc",))
