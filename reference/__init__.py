"""reference: a NumPy-only reverse-mode autograd engine that behaves like torch.autograd.

``import reference as torch`` runs the PyTorch autograd tutorial unchanged and prints
what torch prints. This module never imports torch.
"""

from reference import autograd
from reference.creation import (
    Generator,
    from_numpy,
    full,
    manual_seed,
    ones,
    ones_like,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from reference.dtypes import bool_ as bool
from reference.dtypes import dtype, float32, float64, get_default_dtype, int64, set_default_dtype
from reference.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from reference.ops import (
    add,
    all,
    any,
    bmm,
    broadcast_to,
    clone,
    div,
    dot,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
    lt,
    matmul,
    mean,
    mm,
    mul,
    mv,
    ne,
    neg,
    norm,
    permute,
    pow,
    reciprocal,
    reshape,
    squeeze,
    sub,
    sum,
    t,
    tanh,
    transpose,
    unsqueeze,
    where,
)
from reference.printing import get_printoptions, printoptions, set_printoptions
from reference.size import Size
from reference.tensor import Tensor

__version__ = "0.1.0"

float = float32
double = float64
long = int64
swapaxes = transpose
multiply = mul
subtract = sub
divide = div
negative = neg

__all__ = [
    "Generator", "Size", "Tensor", "add", "all", "any", "autograd", "bmm", "bool", "broadcast_to",
    "clone", "div", "divide", "dot", "double", "dtype", "enable_grad", "eq", "exp", "float",
    "float32", "float64", "from_numpy", "full", "ge", "get_default_dtype", "get_printoptions", "gt",
    "int64", "is_grad_enabled", "le", "log", "long", "lt", "manual_seed", "matmul", "mean", "mm",
    "mul", "multiply", "mv", "ne", "neg", "negative", "no_grad", "norm", "ones", "ones_like",
    "permute", "pow", "printoptions", "randn", "reciprocal", "reshape", "set_default_dtype",
    "set_grad_enabled", "set_printoptions", "squeeze", "sub", "subtract", "sum", "swapaxes", "t",
    "tanh", "tensor", "transpose", "unsqueeze", "where", "zeros", "zeros_like",
]  # fmt: skip
