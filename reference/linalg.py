"""``reference.linalg``: torch.linalg's functions (their ops live in reference/ops/)."""

from __future__ import annotations

from reference.ops.linalg import diagonal as _diagonal
from reference.ops.linalg import matmul
from reference.ops.reduction import vector_norm
from reference.ops.solvers import _LinAlgError, det, inv, solve

LinAlgError = _LinAlgError  # torch.linalg.LinAlgError is torch._C._LinAlgError


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):  # noqa: N803 - torch's argument name
    """``torch.linalg.diagonal``: the diagonal of the last two dims by default (a view)."""
    return _diagonal(A, offset, dim1, dim2)


__all__: list[str] = ["LinAlgError", "det", "diagonal", "inv", "matmul", "solve", "vector_norm"]
