"""Every operation of the engine, grouped by family; each op's forward and backward are
defined side by side in its family module."""

from reference.ops.linalg import bmm, dot, matmul, mm, mv, rmatmul
from reference.ops.pointwise import (
    add,
    div,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
    lt,
    mul,
    ne,
    neg,
    pow,
    rdiv,
    reciprocal,
    rpow,
    rsub,
    sub,
    tanh,
    where,
)
from reference.ops.reduction import all, any, mean, norm, sum
from reference.ops.shape import (
    T,
    broadcast_to,
    clone,
    contiguous,
    double,
    expand,
    float,
    mT,
    permute,
    reshape,
    squeeze,
    t,
    to,
    transpose,
    unsqueeze,
    view,
)

__all__ = [
    "T", "add", "all", "any", "bmm", "broadcast_to", "clone", "contiguous", "div", "dot", "double",
    "eq", "exp", "expand", "float", "ge", "gt", "le", "log", "lt", "mT", "matmul", "mean", "mm",
    "mul", "mv", "ne", "neg", "norm", "permute", "pow", "rdiv", "reciprocal", "reshape", "rmatmul",
    "rpow", "rsub", "squeeze", "sub", "sum", "t", "tanh", "to", "transpose", "unsqueeze", "view",
    "where",
]  # fmt: skip
