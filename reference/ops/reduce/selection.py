"""Which index each tied value gets: the orders torch's CPU kernels produce, reproduced.

Values that tie send their gradient to the index the op returns, so an engine that wants
torch's gradients at ties must return torch's indices. Observed on torch 2.13 (CPU) against
these functions on thousands of tie-rich slices (tests/reference/test_order.py):

- ``sort`` and ``topk`` order by the C++ standard library's introsort / introselect
  (GNU libstdc++): median-of-three partitions, then insertion sort below 17 elements. Up to
  16 elements that is a stable sort; beyond, ties come out in the partitions' order.
- ``kthvalue`` uses a Hoare-style quickselect with a median-of-three pivot (the textbook
  "select" algorithm), whose tie order is its own.
- ``median(dim)`` returns the middle of a *stable* ascending order.

NaN counts as larger than every number everywhere, as in torch. Where the library sorts
would fall back to heap sort (recursion deeper than 2 log2 n, which median-of-three makes
rare), ``FallbackError`` is raised and callers use the stable order: ties may then differ from
torch's (values never do).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Less = Callable[[int, int], bool]  # compares two positions of the slice being ordered


class FallbackError(Exception):
    """The library algorithm would switch to heap sort here (not reproduced)."""


def _less(values: np.ndarray, descending: bool) -> Less:
    """Strict order on positions: NaN above every number (first when descending)."""
    isnan = np.isnan(values)
    v = values.tolist()
    n = isnan.tolist()
    if descending:
        return lambda a, b: v[a] > v[b] or (n[a] and not n[b])
    return lambda a, b: v[a] < v[b] or (not n[a] and n[b])


def stable_order(values: np.ndarray, descending: bool = False) -> np.ndarray:
    """Positions of a 1-d slice in stable order (NaN largest)."""
    isnan = np.isnan(values)
    key = np.where(isnan, 0.0, -values if descending else values)
    return np.lexsort((key, ~isnan if descending else isnan))


# -- GNU libstdc++'s introsort and introselect, on a list of positions -----------------------------


def _pivot_to_first(p: list, less: Less, first: int, a: int, b: int, c: int) -> None:
    """Move the median of p[a], p[b], p[c] to p[first]."""
    if less(p[a], p[b]):
        pick = b if less(p[b], p[c]) else c if less(p[a], p[c]) else a
    else:
        pick = a if less(p[a], p[c]) else c if less(p[b], p[c]) else b
    p[first], p[pick] = p[pick], p[first]


def _partition(p: list, less: Less, first: int, last: int) -> int:
    """Partition [first, last) around its median-of-three; the cut's position."""
    _pivot_to_first(p, less, first, first + 1, first + (last - first) // 2, last - 1)
    lo, hi, pivot = first + 1, last, p[first]
    while True:
        while less(p[lo], pivot):
            lo += 1
        hi -= 1
        while less(pivot, p[hi]):
            hi -= 1
        if lo >= hi:
            return lo
        p[lo], p[hi] = p[hi], p[lo]
        lo += 1


def _insertion_sort(p: list, less: Less, first: int, last: int) -> None:
    for i in range(first + 1, last):
        item, j = p[i], i
        while j > first and less(item, p[j - 1]):
            p[j] = p[j - 1]
            j -= 1
        p[j] = item


def _depth_limit(n: int) -> int:
    return 2 * int(math.log2(n)) if n > 0 else 0


def library_sort(p: list, less: Less, first: int = 0, last: int | None = None) -> None:
    """Sort p[first:last] in place as std::sort does (introsort, then insertion sort)."""
    last = len(p) if last is None else last

    def loop(lo: int, hi: int, depth: int) -> None:
        while hi - lo > 16:
            if depth == 0:
                raise FallbackError
            depth -= 1
            cut = _partition(p, less, lo, hi)
            loop(cut, hi, depth)
            hi = cut

    loop(first, last, _depth_limit(last - first))
    _insertion_sort(p, less, first, last)  # the partitions only ever move items within them


def library_nth_element(p: list, less: Less, nth: int) -> None:
    """Put p's nth item in sorted place as std::nth_element does (introselect)."""
    first, last = 0, len(p)
    depth = _depth_limit(last)
    while last - first > 3:
        if depth == 0:
            raise FallbackError
        depth -= 1
        cut = _partition(p, less, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(p, less, first, last)


# -- the orders of the ops --------------------------------------------------------------------------


def sort_order(values: np.ndarray, descending: bool) -> np.ndarray:
    """torch.sort's indices for a 1-d slice."""
    if values.size <= 16:
        return stable_order(values, descending)
    p = list(range(values.size))
    try:
        library_sort(p, _less(values, descending))
    except FallbackError:
        return stable_order(values, descending)
    return np.array(p, dtype=np.int64)


def topk_order(values: np.ndarray, k: int, largest: bool, sorted_: bool) -> np.ndarray:
    """torch.topk's k indices for a 1-d slice: the k-th item put in place, then the ones
    before it sorted (when ``sorted_``). torch uses a partial heap sort where k * 64 <= n:
    there (not reproduced) the stable order is used."""
    n = values.size
    if k == 0:
        return np.zeros(0, np.int64)
    if k * 64 <= n:
        return stable_order(values, largest)[:k]
    p = list(range(n))
    less = _less(values, largest)
    try:
        library_nth_element(p, less, k - 1)
        if sorted_:
            library_sort(p, less, 0, k - 1)
    except FallbackError:
        return stable_order(values, largest)[:k]
    return np.array(p[:k], dtype=np.int64)


def kth_index(values: np.ndarray, k: int) -> int:
    """torch.kthvalue's index (k counts from 1): quickselect, median-of-three pivot."""
    p = list(range(values.size))
    less = _less(values, False)
    target, lo, hi = k - 1, 0, values.size - 1
    while hi > lo:
        if hi == lo + 1:
            if less(p[hi], p[lo]):
                p[lo], p[hi] = p[hi], p[lo]
            break
        mid = lo + (hi - lo) // 2
        p[mid], p[lo + 1] = p[lo + 1], p[mid]
        for a, b in ((lo + 1, hi), (lo, hi), (lo + 1, lo)):  # order p[lo + 1] <= p[lo] <= p[hi]
            if less(p[b], p[a]):
                p[a], p[b] = p[b], p[a]
        i, j, pivot = lo + 1, hi, p[lo]
        while True:
            i += 1
            while less(p[i], pivot):
                i += 1
            j -= 1
            while less(pivot, p[j]):
                j -= 1
            if j < i:
                break
            p[i], p[j] = p[j], p[i]
        p[lo], p[j] = p[j], p[lo]
        if j <= target:
            lo = i
        if j >= target:
            hi = j - 1
    return p[target]


def median_index(values: np.ndarray) -> int:
    """torch.median(dim)'s index: the first NaN if any, else the middle of the stable order."""
    nans = np.flatnonzero(np.isnan(values))
    if nans.size:
        return int(nans[0])
    return int(stable_order(values)[(values.size - 1) // 2])


def along(fn: Callable[[np.ndarray], np.ndarray], a: np.ndarray, axis: int, out_len: int) -> np.ndarray:
    """``fn`` (a 1-d slice -> ``out_len`` indices) applied to every slice of ``a`` along ``axis``."""
    moved = np.moveaxis(a, axis, -1)
    rows = moved.reshape(math.prod(moved.shape[:-1]), moved.shape[-1])  # -1 is ambiguous when empty
    out = np.empty((rows.shape[0], out_len), np.int64)
    for r, row in enumerate(rows):
        out[r] = fn(row)
    return np.moveaxis(out.reshape((*moved.shape[:-1], out_len)), -1, axis)


__all__ = ["along", "kth_index", "median_index", "sort_order", "stable_order", "topk_order"]
