"""The reduction family: sum, mean, prod, max/min, amax/amin, var/std, norms, logsumexp,
softmax/log_softmax, cumsum/cumprod, all/any; order statistics (sort, topk, kthvalue, median,
cummax/cummin, argmax/argmin), logcumsumexp, diff, trapezoid, nansum/nanmean, aminmax, var_mean.

The ops live in ``reference/ops/reduce/`` by kind (each Function's forward, backward and
jvp side by side); this module lists the family's top-level functions (``reference.sum``)
and Tensor methods (``x.sum()``), and keeps the Function classes importable from here.
"""

from __future__ import annotations

from reference.ops.reduce.basic import Mean as Mean
from reference.ops.reduce.basic import Prod as Prod
from reference.ops.reduce.basic import Sum as Sum
from reference.ops.reduce.basic import all, any, mean, prod, sum
from reference.ops.reduce.cumulative import Logcumsumexp as Logcumsumexp
from reference.ops.reduce.cumulative import cumulative_trapezoid, diff, logcumsumexp, trapezoid
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
from reference.ops.reduce.order import ValuesAt as ValuesAt
from reference.ops.reduce.order import argmax, argmin, cummax, cummin, kthvalue, median, msort, sort, topk
from reference.ops.reduce.paired import Aminmax as Aminmax
from reference.ops.reduce.paired import Nansum as Nansum
from reference.ops.reduce.paired import VarMean as VarMean
from reference.ops.reduce.paired import aminmax, nanmean, nansum, std_mean, var_mean
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
    "sort": sort, "msort": msort, "topk": topk, "kthvalue": kthvalue, "median": median, "cummax": cummax,
    "cummin": cummin, "argmax": argmax, "argmin": argmin, "logcumsumexp": logcumsumexp, "diff": diff,
    "nansum": nansum, "nanmean": nanmean, "aminmax": aminmax, "var_mean": var_mean, "std_mean": std_mean,
    "trapezoid": trapezoid, "cumulative_trapezoid": cumulative_trapezoid,
}  # fmt: skip

# Top-level functions (``reference.sum``) and Tensor methods (``x.sum()``): the same names in
# torch. ``vector_norm`` is only ``reference.linalg.vector_norm``; var_mean, std_mean, trapezoid,
# cumulative_trapezoid are functions only.
__all__ = sorted(FUNCTIONS)
_FUNCTIONS_ONLY = ("var_mean", "std_mean", "trapezoid", "cumulative_trapezoid")
METHODS = {k: v for k, v in FUNCTIONS.items() if k not in _FUNCTIONS_ONLY} | {"norm": norm_method}
