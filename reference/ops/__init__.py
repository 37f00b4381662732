"""Every operation of the engine, one module per family; each op's forward, backward and
forward-mode (jvp) rules are defined side by side in its family module.

A family module lists its top-level functions in ``__all__`` (``reference.add``), its Tensor
methods in ``METHODS`` and its Tensor properties in ``PROPERTIES``; this package gathers them.
"""

from reference.ops import complex_ops, indexing, inplace, linalg, pointwise, reduction, shape
from reference.ops.complex_ops import *  # noqa: F403
from reference.ops.indexing import *  # noqa: F403
from reference.ops.inplace import *  # noqa: F403
from reference.ops.linalg import *  # noqa: F403
from reference.ops.pointwise import *  # noqa: F403
from reference.ops.reduction import *  # noqa: F403
from reference.ops.shape import *  # noqa: F403

FAMILIES = (pointwise, complex_ops, reduction, shape, indexing, linalg, inplace)
METHODS = {name: fn for family in FAMILIES for name, fn in family.METHODS.items()}
PROPERTIES = {name: fn for family in FAMILIES for name, fn in getattr(family, "PROPERTIES", {}).items()}
__all__ = sorted({name for family in FAMILIES for name in family.__all__})
