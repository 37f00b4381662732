"""``linalg.matrix_norm`` and ``linalg.norm``, composed as torch composes them (so the grad_fn
chains carry torch's nodes): 'fro' is a vector norm over the two dims; 1 / inf (-1 / -inf) the
amax (amin) of column / row absolute sums; 2 / -2 the amax / amin of the singular values and
'nuc' their sum (LinalgSvdBackward0 on A with the two dims moved last). The vector norms
themselves are reduce/norms.py's."""

from __future__ import annotations

import math

import numpy as np

from reference.ops import shape as shapes
from reference.ops.decompositions import svdvals
from reference.ops.operands import normalize_dim
from reference.ops.reduce.norms import vector_norm

_MATRIX_ORDERS = ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)


def _two_dims(dim, ndim: int) -> tuple[int, int]:
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    d0, d1 = (normalize_dim(d, ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):  # noqa: N803
    data = A._data
    if data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if data.dtype.kind not in "fc" and dtype is None:
        from reference import dtypes

        raise RuntimeError(
            "linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
            f"{dtypes.scalar_type_name(data.dtype)}"
        )
    if (isinstance(ord, str) and ord not in ("fro", "nuc")) or (not isinstance(ord, str) and ord not in _MATRIX_ORDERS):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    d0, d1 = _two_dims(dim, data.ndim)
    x = A if dtype is None else A.to(dtype)
    maxed = {2: (d0, d1), 1: (d1,), math.inf: (d0,)}.get(ord, ()) if not isinstance(ord, str) else ()
    if any(data.shape[d] == 0 for d in maxed):
        return _zeros_of_max(x, d0, d1, keepdim)  # torch: the max over nothing is 0, with no graph
    if ord == "fro":
        return vector_norm(x, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        return _spectral(x, ord, d0, d1, keepdim)
    if abs(ord) == math.inf:  # the largest (smallest) row sum: sum across the columns
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:
        d1 -= 1
    sums = vector_norm(x, 1, d0, keepdim)
    return sums.amax(d1, keepdim) if ord > 0 else sums.amin(d1, keepdim)


def _zeros_of_max(x, d0: int, d1: int, keepdim: bool):
    from reference.tensor import Tensor

    shape = list(x._data.shape)
    for d in sorted((d0, d1), reverse=True):
        if keepdim:
            shape[d] = 1
        else:
            del shape[d]
    return Tensor._make(np.zeros(shape, x._data.real.dtype))  # a norm is real, also of complex input


def _spectral(A, ord, d0: int, d1: int, keepdim: bool):  # noqa: N803
    ndim = A._data.ndim
    rest = [d for d in range(ndim) if d not in (d0, d1)]
    perm = (*rest, d0, d1)
    values = svdvals(shapes.permute(A, perm))
    reduce = {"nuc": values.sum, 2: values.amax, -2: values.amin}[ord]
    r = reduce(-1, keepdim)
    if not keepdim:
        return r
    inverse = [perm.index(d) for d in range(ndim)]
    return shapes.permute(r.unsqueeze(-1), inverse)


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):  # noqa: N803
    """``torch.linalg.norm``: a vector norm, or a matrix norm when ``dim`` is a 2-tuple or
    (with ``dim=None``) when ``ord`` is given and A is 2-D."""
    data = A._data
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
    elif ord is not None:
        if data.ndim not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {data.ndim}D."
            )
        dims = tuple(range(data.ndim))
    else:
        dims = None
    if dims is not None and len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Order {ord} not supported.")  # torch: matrix orders need 2 dims
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


__all__: list[str] = []
