"""Reductions over all or some dims, with and without keepdim."""

from __future__ import annotations

from gradcheck_suite.catalogue.spec import NONZERO, REAL, op
from gradcheck_suite.strategies import reduction_kwargs, shapes

OPS = [
    op(
        "sum", "reduction", lambda ns, a, dim, keepdim: a.sum() if dim is None else a.sum(dim, keepdim=keepdim),
        shapes(), (REAL,), kwargs=reduction_kwargs,
    ),
    op(
        "mean", "reduction", lambda ns, a, dim, keepdim: a.mean() if dim is None else a.mean(dim, keepdim=keepdim),
        shapes(), (REAL,), kwargs=reduction_kwargs,
    ),
    op(
        "norm", "reduction", lambda ns, a: a.norm(), shapes(), (NONZERO,),
        doc="2-norm of all elements; values kept away from the zero vector (a kink)",
    ),
]  # fmt: skip
