"""where and the comparisons (bool results, no gradient)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd.function import COMMON, Function, apply
from reference.ops.pointwise._common import (
    _is_tensor,
    _or_zero,
    _zero_where,
    operand,
)

# -- where and comparisons -----------------------------------------------------------------


class Where(Function):
    saved_attributes = ("condition",)
    promotion = COMMON

    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        c = ctx.condition
        return _zero_where(~c, g), _zero_where(c, g)

    @staticmethod
    def jvp(ctx, ta, tb):
        return np.where(ctx.condition, _or_zero(ta), _or_zero(tb))


def where(condition, input, other):
    cond = condition._data if _is_tensor(condition) else np.asarray(condition)
    if cond.dtype != np.bool_:
        kind = dtypes.scalar_type_name(cond.dtype)
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {kind}")
    return apply(Where, "WhereBackward0", (operand(input), operand(other)), condition=cond)


def _where_method(self, condition, other):
    """``x.where(condition, y)`` is ``where(condition, x, y)``."""
    return where(condition, self, other)


def _comparison(ufunc: Any) -> type[Function]:
    class Compare(Function):
        promotion = COMMON

        @staticmethod
        def forward(ctx, a, b):
            return ufunc(a, b)  # bool result: apply records no node

        @staticmethod
        def jvp(ctx, ta, tb):  # bool outputs carry no tangent
            return None

    Compare.__name__ = ufunc.__name__.capitalize()
    Compare.node_name = Compare.__name__ + "Backward0"  # never shown: bool outputs get no node
    return Compare


Eq, Ne, Lt, Le, Gt, Ge = (
    _comparison(f) for f in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal)
)


def eq(input, other):
    if other is None:
        return False
    return apply(Eq, Eq.node_name, (input, operand(other)))


def ne(input, other):
    if other is None:
        return True
    return apply(Ne, Ne.node_name, (input, operand(other)))


def lt(input, other):
    return apply(Lt, Lt.node_name, (input, operand(other)))


def le(input, other):
    return apply(Le, Le.node_name, (input, operand(other)))


def gt(input, other):
    return apply(Gt, Gt.node_name, (input, operand(other)))


def ge(input, other):
    return apply(Ge, Ge.node_name, (input, operand(other)))


FUNCTIONS = ("where", "eq", "ne", "lt", "le", "gt", "ge")
__all__ = [*FUNCTIONS, "Where", "Eq", "Ne", "Lt", "Le", "Gt", "Ge"]
METHODS = {
    "where": _where_method,
    "eq": eq, "__eq__": eq, "ne": ne, "__ne__": ne,
    "lt": lt, "__lt__": lt, "le": le, "__le__": le,
    "gt": gt, "__gt__": gt, "ge": ge, "__ge__": ge,
}  # fmt: skip
