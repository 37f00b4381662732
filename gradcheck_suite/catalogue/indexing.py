"""Indexing ops: ``x[index]`` (basic; advanced with integer arrays; boolean masks), index_select,
gather, scatter_add and masked_fill (scalar and 0-d tensor value).

Index arrays are drawn from small ranges on purpose, so repeated indices are common: their
gradients must accumulate. Indices are NumPy arrays in the kwargs, made tensors inside ``fn``.
All these ops are linear in their float inputs, hence smooth and analytic.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import REAL, op
from gradcheck_suite.strategies import MAX_SIDE, shapes


def _tensors(ns, index):
    """The drawn index with its NumPy arrays as tensors of ``ns``."""
    if isinstance(index, np.ndarray):
        return ns.from_numpy(index.copy())
    if isinstance(index, tuple):
        return tuple(_tensors(ns, e) for e in index)
    return index


def _getitem(ns, a, index):
    return a[_tensors(ns, index)]


def _positions(size: int, shape: tuple) -> st.SearchStrategy[np.ndarray]:
    """Integer arrays of ``shape`` with values in [-size, size): repeats are likely."""
    return hnp.arrays(np.int64, shape, elements=st.integers(-size, size - 1))


# -- getitem -----------------------------------------------------------------------------------


@st.composite
def _slice(draw, size: int):
    bound = st.one_of(st.none(), st.integers(-size - 1, size + 1))
    return slice(draw(bound, label="start"), draw(bound, label="stop"), draw(st.sampled_from([None, 1, 2, 3])))


@st.composite
def _with_extras(draw, entries: list, every_dim: bool):
    """Insert None entries, maybe an Ellipsis (for the dims not indexed: anywhere when every dim
    is, else after the entries), maybe unwrap a single entry."""
    for _ in range(draw(st.integers(0, 2), label="None entries")):
        entries.insert(draw(st.integers(0, len(entries)), label="None at"), None)
    if draw(st.booleans(), label="ellipsis"):
        at = draw(st.integers(0, len(entries)), label="ellipsis at") if every_dim else len(entries)
        entries = [*entries[:at], Ellipsis, *entries[at:]]
    if len(entries) == 1 and draw(st.booleans(), label="not a tuple"):
        return entries[0]
    return tuple(entries)


@st.composite
def _basic_index(draw, shapes_):
    """Ints (negative too), slices (steps, bounds past the ends), None and Ellipsis."""
    shape = shapes_[0]
    used = draw(st.integers(0, len(shape)), label="indexed dims")
    entries = []
    for n in shape[:used]:
        kinds = ["slice", "full"] + (["int"] if n else [])
        kind = draw(st.sampled_from(kinds), label="entry kind")
        if kind == "int":
            entries.append(draw(st.integers(-n, n - 1), label="int"))
        else:
            entries.append(draw(_slice(n)) if kind == "slice" else slice(None))
    return {"index": draw(_with_extras(entries, used == len(shape)))}


@st.composite
def _advanced_index(draw, shapes_):
    """Integer arrays (broadcasting together, with repeats) mixed with ints, slices and None."""
    shape = shapes_[0]
    nonempty = [d for d, n in enumerate(shape) if n]
    if not nonempty:  # every dim is empty: only an empty index array fits
        return {"index": (np.zeros((0,), np.int64),)}
    used = draw(st.integers(nonempty[0] + 1, len(shape)), label="indexed dims")
    candidates = [d for d in nonempty if d < used]
    arrays_at = set(
        draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True), label="array dims")
    )
    common = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3), label="broadcast shape")
    entries = []
    for d, n in enumerate(shape[:used]):
        if d in arrays_at:
            own = tuple(1 if draw(st.booleans(), label="broadcast dim") else s for s in common)
            own = own[draw(st.integers(0, len(own)), label="dropped leading dims") :]
            entries.append(draw(_positions(n, own), label="index array"))
        elif n and draw(st.booleans(), label="int"):
            entries.append(draw(st.integers(-n, n - 1), label="int"))
        else:
            entries.append(draw(_slice(n)) if draw(st.booleans(), label="slice") else slice(None))
    return {"index": draw(_with_extras(entries, used == len(shape)))}


@st.composite
def _mask_index(draw, shapes_):
    """Full slices, then a boolean mask over the next dims, then maybe an int."""
    shape = shapes_[0]
    lead = draw(st.integers(0, len(shape) - 1), label="dims before the mask")
    k = draw(st.integers(1, len(shape) - lead), label="masked dims")
    mask = draw(hnp.arrays(np.bool_, shape[lead : lead + k]), label="mask")
    rest = shape[lead + k :]
    tail = (draw(st.integers(-rest[0], rest[0] - 1)),) if rest and rest[0] and draw(st.booleans()) else ()
    return {"index": (slice(None),) * lead + (mask,) + tail}


# -- index_select, gather, scatter_add -----------------------------------------------------------


@st.composite
def _index_select(draw, shapes_):
    shape = shapes_[0]
    size = max(len(shape), 1)
    dim = draw(st.integers(-size, size - 1), label="dim")
    n = shape[dim] if shape else 1
    if not shape:
        index = np.zeros(draw(st.sampled_from([(), (1,)])), np.int64)
    elif draw(st.booleans(), label="0-d index") and n:
        index = np.array(draw(st.integers(0, n - 1)), np.int64)
    else:
        length = draw(st.integers(0, 5), label="index length") if n else 0
        index = draw(hnp.arrays(np.int64, (length,), elements=st.integers(0, max(n - 1, 0))), label="index")
    return {"dim": dim, "index": index}


@st.composite
def _gather(draw, shapes_):
    """An index no larger than the input apart from ``dim``, with values in range (repeats likely)."""
    shape = shapes_[0]
    size = max(len(shape), 1)
    dim = draw(st.integers(-size, size - 1), label="dim")
    if not shape:
        return {"dim": dim, "index": np.zeros(draw(st.sampled_from([(), (1,), (3,)])), np.int64)}
    axis = dim % len(shape)
    ishape = [draw(st.integers(0, n), label="index size") for n in shape]
    ishape[axis] = draw(st.integers(0, MAX_SIDE), label="index size along dim")
    if shape[axis] == 0:
        ishape[axis] = 0  # nothing to point at
    index = draw(hnp.arrays(np.int64, tuple(ishape), elements=st.integers(0, max(shape[axis] - 1, 0))))
    return {"dim": dim, "index": index}


@st.composite
def _scatter_shapes(draw):
    """(self, src) with src no larger than self apart from one dim; the index takes src's shape."""
    shape = draw(shapes(), label="self shape")[0]
    if not shape:
        return ((), ())
    axis = draw(st.integers(0, len(shape) - 1), label="scatter dim")
    src = [draw(st.integers(0, n), label="src size") for n in shape]
    src[axis] = draw(st.integers(0, MAX_SIDE), label="src size along dim") if shape[axis] else 0
    return (shape, tuple(src))


@st.composite
def _scatter_add(draw, shapes_):
    shape, src = shapes_
    if not shape:
        return {"dim": draw(st.sampled_from([0, -1])), "index": np.zeros((), np.int64)}
    empty = math.prod(src) == 0
    valid = [d for d in range(len(shape)) if (shape[d] or empty)
             and all(s <= n for k, (s, n) in enumerate(zip(src, shape)) if k != d)]  # fmt: skip
    dim = draw(st.sampled_from(valid), label="dim")
    index = draw(hnp.arrays(np.int64, src, elements=st.integers(0, max(shape[dim] - 1, 0))), label="index")
    return {"dim": dim - len(shape) if draw(st.booleans(), label="negative dim") else dim, "index": index}


# -- masked_fill -----------------------------------------------------------------------------------


@st.composite
def _mask_for(draw, shape: tuple) -> np.ndarray:
    """A boolean mask broadcasting with ``shape`` (size-1 dims, fewer dims)."""
    own = tuple(1 if draw(st.booleans(), label="broadcast dim") else n for n in shape)
    own = own[draw(st.integers(0, len(own)), label="dropped leading dims") :]
    return draw(hnp.arrays(np.bool_, own), label="mask")


@st.composite
def _masked_fill(draw, shapes_):
    return {"mask": draw(_mask_for(shapes_[0])), "value": draw(st.sampled_from([0.0, -1.5, 2.0, 7]))}


@st.composite
def _masked_fill_tensor(draw, shapes_):
    return {"mask": draw(_mask_for(shapes_[0]))}


OPS = [
    op("getitem", "indexing", _getitem, shapes(), (REAL,), kwargs=_basic_index, analytic=True,
       doc="basic indexing: ints, slices with steps, None, Ellipsis"),
    op("getitem_advanced", "indexing", _getitem, shapes(min_dims=1), (REAL,), kwargs=_advanced_index, analytic=True,
       doc="integer index arrays (with repeats) mixed with ints, slices, None and Ellipsis"),
    op("getitem_mask", "indexing", _getitem, shapes(min_dims=1), (REAL,), kwargs=_mask_index, analytic=True,
       doc="a boolean mask after full slices, maybe followed by an int"),
    op("index_select", "indexing", lambda ns, a, dim, index: a.index_select(dim, ns.from_numpy(index.copy())),
       shapes(), (REAL,), kwargs=_index_select, analytic=True),
    op("gather", "indexing", lambda ns, a, dim, index: ns.gather(a, dim, ns.from_numpy(index.copy())),
       shapes(), (REAL,), kwargs=_gather, analytic=True),
    op("scatter_add", "indexing",
       lambda ns, a, src, dim, index: a.scatter_add(dim, ns.from_numpy(index.copy()), src),
       _scatter_shapes(), (REAL, REAL), kwargs=_scatter_add, analytic=True),
    op("masked_fill", "indexing", lambda ns, a, mask, value: a.masked_fill(ns.from_numpy(mask.copy()), value),
       shapes(), (REAL,), kwargs=_masked_fill, analytic=True),
    op("masked_fill_tensor", "indexing", lambda ns, a, v, mask: ns.masked_fill(a, ns.from_numpy(mask.copy()), v),
       shapes().map(lambda s: (*s, ())), (REAL, REAL), kwargs=_masked_fill_tensor, analytic=True,
       doc="masked_fill with a 0-d tensor value, which gets a gradient too"),
]  # fmt: skip

# data movement is the same for complex numbers
OPS = also_complex(OPS)
