"""torch's rules for writing into memory that tensors share: internal overlap (an expanded
tensor's elements share memory: only fills may write there), partial overlap between a copy's
source and destination, and writing through NumPy's read-only broadcast views.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd import views

OVERLAP_MESSAGE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory location. "
    "Please clone() the tensor before performing the operation."
)
PARTIAL_OVERLAP_MESSAGE = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single memory "
    "location. Please clone() the tensor before performing the operation."
)


def check_writable(self: Any, fill: bool) -> None:
    """A broadcast view is read-only in NumPy; torch writes into it unless its elements share
    memory (then only a fill)."""
    data = self._data
    if data.flags.writeable:
        return
    if not fill and any(s == 0 and n > 1 for s, n in zip(data.strides, data.shape)):
        raise RuntimeError(OVERLAP_MESSAGE)
    base = self._view_base
    if base is None or not base._data.flags.writeable:
        raise RuntimeError("this tensor's memory is read-only and cannot be modified in place")


def write(self: Any, values: np.ndarray) -> None:
    data = self._data
    if data.flags.writeable:
        np.copyto(data, values, casting="unsafe")
    else:  # a read-only broadcast view: write through its base, at the view's positions
        base = self._view_base._data
        np.put(base, views.view_positions(base, data), values.astype(base.dtype, copy=False))


def partial_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """torch's partial-overlap test: two dense layouts whose memory ranges meet without being
    the same elements in the same order (anything not dense is "too hard" and allowed)."""
    if not a.size or not b.size or not (_dense(a) and _dense(b)) or not np.may_share_memory(a, b):
        return False
    a0, b0 = a.__array_interface__["data"][0], b.__array_interface__["data"][0]
    a1, b1 = a0 + a.nbytes, b0 + b.nbytes
    if (a0, a1) == (b0, b1):
        return a.strides != b.strides
    return a0 < b1 and b0 < a1


def _dense(a: np.ndarray) -> bool:
    """Non-overlapping and dense: a permutation of a C-contiguous layout."""
    dims = sorted((s, n) for s, n in zip(a.strides, a.shape) if n != 1)
    expected = a.itemsize
    for stride, n in dims:
        if stride != expected:
            return False
        expected *= n
    return True
