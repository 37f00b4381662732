"""The reduction family: sum, mean, prod, max/min, amax/amin, var/std, norms, logsumexp,
softmax/log_softmax, cumsum/cumprod, all/any.

The ops live in ``reference/ops/reduce/`` by kind (each Function's forward, backward and
jvp side by side); this module lists the family's top-level functions (``reference.sum``)
and Tensor methods (``x.sum()``), and keeps the Function classes importable from here.
"""

from __future__ import annotations

from reference.ops.reduce.basic import Mean as Mean
from reference.ops.reduce.basic import Prod as Prod
from reference.ops.reduce.basic import Sum as Sum
from reference.ops.reduce.basic import all, any, mean, prod, sum
from reference.ops.reduce.extrema import Amax as Amax
from reference.ops.reduce.extrema import Extreme as Extreme
from reference.ops.reduce.extrema import ExtremeAlongDim as ExtremeAlongDim
from reference.ops.reduce.extrema import amax, amin, max, min
from reference.ops.reduce.extrema import return_types as return_types
from reference.ops.reduce.moments import Var as Var
from reference.ops.reduce.moments import std, var
from reference.ops.reduce.norms import VectorNorm as VectorNorm
from reference.ops.reduce.norms import norm, norm_method
from reference.ops.reduce.norms import vector_norm as vector_norm
from reference.ops.reduce.scans import Cumprod as Cumprod
from reference.ops.reduce.scans import Cumsum as Cumsum
from reference.ops.reduce.scans import cumprod, cumsum
from reference.ops.reduce.softmax import LogSoftmax as LogSoftmax
from reference.ops.reduce.softmax import Logsumexp as Logsumexp
from reference.ops.reduce.softmax import Softmax as Softmax
from reference.ops.reduce.softmax import log_softmax, logsumexp, softmax

FUNCTIONS = {
    "sum": sum, "mean": mean, "prod": prod, "max": max, "min": min, "amax": amax, "amin": amin,
    "var": var, "std": std, "norm": norm, "logsumexp": logsumexp, "softmax": softmax,
    "log_softmax": log_softmax, "cumsum": cumsum, "cumprod": cumprod, "all": all, "any": any,
}  # fmt: skip

# Top-level functions (``reference.sum``) and Tensor methods (``x.sum()``): the same names in
# torch. ``vector_norm`` is only ``reference.linalg.vector_norm``.
__all__ = sorted(FUNCTIONS)
METHODS = FUNCTIONS | {"norm": norm_method}
