"""reference: a NumPy-only reverse-mode autograd engine that behaves like torch.autograd.

``import reference as torch`` runs the PyTorch autograd tutorial unchanged and prints
what torch prints. This module never imports torch.
"""

from reference import autograd, fft, linalg, nn, ops, special
from reference.creation import (
    Generator,
    eye,
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
from reference.dtypes import (
    complex64,
    complex128,
    dtype,
    float32,
    float64,
    get_default_dtype,
    int64,
    set_default_dtype,
)  # fmt: skip
from reference.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from reference.ops import *  # noqa: F403 - every family lists its public functions
from reference.printing import get_printoptions, printoptions, set_printoptions
from reference.size import Size
from reference.tensor import Tensor

__version__ = "0.1.0"

float = float32
double = float64
long = int64
cfloat = complex64
cdouble = complex128

__all__ = [
    "Generator", "Size", "Tensor", "autograd", "bool", "cdouble", "cfloat", "complex64", "complex128", "double",
    "dtype", "enable_grad", "eye", "float",
    "float32", "float64", "from_numpy", "full", "get_default_dtype", "get_printoptions", "int64",
    "is_grad_enabled", "linalg", "long", "manual_seed", "nn", "no_grad", "ones", "ones_like", "printoptions", "randn",
    "fft", "special",
    "set_default_dtype", "set_grad_enabled", "set_printoptions", "tensor", "zeros", "zeros_like",
    *ops.__all__,
]  # fmt: skip
