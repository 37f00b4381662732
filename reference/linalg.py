"""``reference.linalg``: torch.linalg's functions (their ops live in reference/ops/)."""

from __future__ import annotations

from reference.ops.decompositions import cholesky, eigh, eigvalsh, qr, svd, svdvals
from reference.ops.diagonals import diagonal as _diagonal
from reference.ops.least_squares import lstsq, pinv
from reference.ops.linalg import matmul
from reference.ops.matrix_functions import cross, matrix_exp, matrix_power, multi_dot, slogdet, vecdot
from reference.ops.norms_linalg import matrix_norm, norm
from reference.ops.reduction import vector_norm
from reference.ops.solvers import _LinAlgError, det, inv, solve
from reference.ops.triangular import solve_triangular

LinAlgError = _LinAlgError  # torch.linalg.LinAlgError is torch._C._LinAlgError


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):  # noqa: N803 - torch's argument name
    """``torch.linalg.diagonal``: the diagonal of the last two dims by default (a view)."""
    return _diagonal(A, offset, dim1, dim2)


__all__: list[str] = [
    "LinAlgError", "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "lstsq", "matmul",
    "matrix_exp", "matrix_norm", "matrix_power", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
    "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm",
]  # fmt: skip
