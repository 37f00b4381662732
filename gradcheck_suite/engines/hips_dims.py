"""torch's dims, shapes and helpers in autograd.numpy terms, shared by the HIPS op tables."""

import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

try:  # erf and logsumexp live in autograd.scipy, which needs SciPy
    from autograd.scipy import special
except ImportError:  # pragma: no cover - SciPy is optional
    special = None


# -- torch's dims in NumPy terms -------------------------------------------------------------------


def _axis(dim, ndim: int):
    """A torch dim (None, int or tuple; a 0-d tensor accepts 0 and -1) as a NumPy axis."""
    if dim is None or ndim == 0:
        return None
    if isinstance(dim, int):
        return dim % ndim
    return tuple(sorted(d % ndim for d in dim))


def _axes(axis, ndim: int) -> tuple:
    return tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis


def _along(axis: int, index) -> tuple:
    """An index tuple that applies ``index`` along ``axis``."""
    return (slice(None),) * axis + (index,)


def _like(array, a):
    """A constant kwarg array in ``a``'s dtype (as the catalogue casts it for torch)."""
    return onp.asarray(array, dtype=onp.result_type(getval(a)))


def _spread(a, ladder):
    return a + _like(ladder, a)


def _transposed(a):
    """torch's ``a.transpose(0, -1)`` (a no-op on a 0-d tensor)."""
    return np.swapaxes(a, 0, -1) if np.ndim(a) else a


def _sigmoid(a):
    return 0.5 * (np.tanh(a / 2.0) + 1.0)  # the autograd tutorial's sigmoid (no overflow)
