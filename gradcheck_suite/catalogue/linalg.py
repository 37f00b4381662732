"""Matrix products: matmul on every path (dot, mv, mm, folded, batched), and the primitives."""

from __future__ import annotations

from hypothesis import strategies as st

from gradcheck_suite.catalogue.spec import SMALL, op
from gradcheck_suite.strategies import matmul_shapes

_side = st.integers(1, 4)
_mm = st.tuples(_side, _side, _side).map(lambda t: ((t[0], t[1]), (t[1], t[2])))
_mv = st.tuples(_side, _side).map(lambda t: ((t[0], t[1]), (t[1],)))
_dot = _side.map(lambda k: ((k,), (k,)))
_bmm = st.tuples(_side, _side, _side, _side).map(lambda t: ((t[0], t[1], t[2]), (t[0], t[2], t[3])))

OPS = [
    op("matmul", "linalg", lambda ns, a, b: a @ b, matmul_shapes(), (SMALL, SMALL)),
    op("mm", "linalg", lambda ns, a, b: ns.mm(a, b), _mm, (SMALL, SMALL)),
    op("mv", "linalg", lambda ns, a, b: ns.mv(a, b), _mv, (SMALL, SMALL)),
    op("dot", "linalg", lambda ns, a, b: ns.dot(a, b), _dot, (SMALL, SMALL)),
    op("bmm", "linalg", lambda ns, a, b: ns.bmm(a, b), _bmm, (SMALL, SMALL)),
]
