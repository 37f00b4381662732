"""Elementwise ops: arithmetic, pow, exp/log, trigonometric and hyperbolic functions,
sigmoid/relu/erf, piecewise ops (abs, sign, floor, round, clamp, maximum, minimum), rounding
and remainders, special functions (lgamma, erfinv, Bessel, xlogy, logit, ...), where and
comparisons; one module per group.

Each op's forward, backward and jvp sit side by side. Gradients are returned in the
output's (broadcast) shape; the engine reduces them to each input's shape. For a
unary op the tangent goes through the same derivative as the cotangent, so its
``jvp`` is its ``backward``. Values at kinks follow torch (torch-conventions.md).

Every module lists its top-level functions in ``FUNCTIONS`` (``reference.add``), its Tensor
methods in ``METHODS``, and in ``__all__`` what this package re-exports: the functions and
the op classes (``from reference.ops.pointwise import Mul``). Functions torch keeps in
torch.special alone are listed in ``SPECIAL_ONLY`` (reference.special exposes them).
"""

from reference.ops.pointwise import (
    activation,
    arithmetic,
    combine,
    compare,
    exp_log,
    piecewise,
    power,
    rounding,
    special,
    special_elementary,
    trigonometric,
)
from reference.ops.pointwise.activation import *  # noqa: F403
from reference.ops.pointwise.arithmetic import *  # noqa: F403
from reference.ops.pointwise.combine import *  # noqa: F403
from reference.ops.pointwise.compare import *  # noqa: F403
from reference.ops.pointwise.exp_log import *  # noqa: F403
from reference.ops.pointwise.piecewise import *  # noqa: F403
from reference.ops.pointwise.power import *  # noqa: F403
from reference.ops.pointwise.rounding import *  # noqa: F403
from reference.ops.pointwise.special import *  # noqa: F403
from reference.ops.pointwise.special_elementary import *  # noqa: F403
from reference.ops.pointwise.trigonometric import *  # noqa: F403

_GROUPS = (arithmetic, power, exp_log, trigonometric, activation, piecewise, rounding, special, special_elementary,
           combine, compare)  # fmt: skip
__all__ = sorted(name for group in _GROUPS for name in group.FUNCTIONS)
METHODS = {name: fn for group in _GROUPS for name, fn in group.METHODS.items()}
