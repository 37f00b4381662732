"""Elementwise ops, unary and binary (with broadcasting)."""

from __future__ import annotations

from hypothesis import strategies as st

from gradcheck_suite.catalogue.spec import NONZERO, POSITIVE, REAL, SMALL, op
from gradcheck_suite.strategies import broadcast_shapes, shapes

EXPONENTS = (-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3)
SCALARS = (-2.5, -1, 0.5, 2, 3)

OPS = [
    op("add", "pointwise", lambda ns, a, b: a + b, broadcast_shapes(2), (REAL, REAL)),
    op("sub", "pointwise", lambda ns, a, b: a - b, broadcast_shapes(2), (REAL, REAL)),
    op("mul", "pointwise", lambda ns, a, b: a * b, broadcast_shapes(2), (REAL, REAL)),
    op("div", "pointwise", lambda ns, a, b: a / b, broadcast_shapes(2), (REAL, NONZERO)),
    op("neg", "pointwise", lambda ns, a: -a, shapes(), (REAL,)),
    op(
        "pow", "pointwise", lambda ns, a, exponent: a**exponent, shapes(), (POSITIVE,),
        kwargs=lambda s: st.fixed_dictionaries({"exponent": st.sampled_from(EXPONENTS)}),
        doc="tensor ** Python scalar",
    ),
    op(
        "pow_tensor", "pointwise", lambda ns, a, b: a**b, broadcast_shapes(2), (POSITIVE, SMALL),
        doc="tensor ** tensor",
    ),
    op(
        "rpow", "pointwise", lambda ns, a, base: base**a, shapes(), (SMALL,),
        kwargs=lambda s: st.fixed_dictionaries({"base": st.sampled_from((0.5, 2.0, 3.5))}),
        doc="Python scalar ** tensor",
    ),
    op(
        "rsub", "pointwise", lambda ns, a, other: other - a, shapes(), (REAL,),
        kwargs=lambda s: st.fixed_dictionaries({"other": st.sampled_from(SCALARS)}),
        doc="Python scalar - tensor",
    ),
    op(
        "rdiv", "pointwise", lambda ns, a, other: other / a, shapes(), (NONZERO,),
        kwargs=lambda s: st.fixed_dictionaries({"other": st.sampled_from(SCALARS)}),
        doc="Python scalar / tensor (torch records reciprocal, then mul)",
    ),
    op("exp", "pointwise", lambda ns, a: ns.exp(a), shapes(), (REAL,)),
    op("log", "pointwise", lambda ns, a: ns.log(a), shapes(), (POSITIVE,)),
    op("tanh", "pointwise", lambda ns, a: ns.tanh(a), shapes(), (REAL,)),
]  # fmt: skip
