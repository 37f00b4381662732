"""Scatter and index ops: index_add (alpha), index_copy, index_fill, scatter (src, value),
scatter_reduce (sum, prod, mean, amax, amin; include_self or not), take_along_dim, masked_scatter,
masked_select, take, put and index_put (with and without accumulate).

Index arrays are NumPy arrays in the kwargs, made tensors inside ``fn``. Where the op adds
(index_add, scatter_reduce, put/index_put with accumulate, take) indices repeat often; where it
writes (index_copy, scatter with src, put/index_put without accumulate) they are unique, because
torch leaves the winner of duplicate writes unspecified (nondeterministic). scatter_reduce's
amax/amin have kinks at ties (torch shares the gradient evenly among the elements equal to the
result, self included whenever it equals it) and prod at zeros (the product of the other factors
where one factor is zero).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import REAL, Kinks, op
from gradcheck_suite.strategies import MAX_SIDE, shapes


def _t(ns, index):
    return ns.from_numpy(np.array(index, copy=True))


def _unique_along(draw, shape: tuple, n: int, axis: int) -> np.ndarray:
    """Indices of ``shape`` in [0, n), unique along ``axis`` (shape[axis] <= n): the first rows of
    a random permutation of range(n) for every position of the other dims."""
    keys_shape = (*shape[:axis], n, *shape[axis + 1 :])
    keys = draw(hnp.arrays(np.float64, keys_shape, elements=st.floats(0, 1)), label="permutation keys")
    order = np.argsort(keys, axis=axis, kind="stable")
    return np.take(order, np.arange(shape[axis]), axis=axis).astype(np.int64)


# -- index_add, index_copy, index_fill: (self, source) equal but along dim --------------------------


@st.composite
def _dim_shapes(draw, unique: bool = False):
    base = draw(shapes(min_dims=1), label="self shape")[0]
    axis = draw(st.integers(0, len(base) - 1), label="dim")
    length = draw(st.integers(0, min(4, base[axis]) if unique else 4), label="index length") if base[axis] else 0
    return (base, (*base[:axis], length, *base[axis + 1 :]))


def _index_kwargs(unique: bool, with_alpha: bool = False):
    @st.composite
    def kwargs(draw, shapes_):
        shape, src = shapes_
        valid = [d for d in range(len(shape)) if shape[:d] + shape[d + 1 :] == src[:d] + src[d + 1 :]
                 and (shape[d] or not src[d]) and (not unique or src[d] <= shape[d])]  # fmt: skip
        dim = draw(st.sampled_from(valid), label="dim")
        n, k = shape[dim], src[dim]
        if unique:
            index = draw(st.permutations(list(range(n))), label="index")[:k]
            index = np.array(index, np.int64)
        else:
            index = draw(hnp.arrays(np.int64, (k,), elements=st.integers(0, max(n - 1, 0))), label="index")
        out = {"dim": dim - len(shape) if draw(st.booleans(), label="negative dim") else dim, "index": index}
        if with_alpha:
            out["alpha"] = draw(st.sampled_from([1, 2.5, -0.5]), label="alpha")
        return out

    return kwargs


@st.composite
def _index_fill(draw, shapes_):
    shape = shapes_[0]
    dim = draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    n = shape[dim]
    length = draw(st.integers(0, 4), label="index length") if n else 0
    index = draw(hnp.arrays(np.int64, (length,), elements=st.integers(-n, max(n - 1, 0))), label="index")
    return {"dim": dim, "index": index, "value": draw(st.sampled_from([0.0, -1.5, 2.0]), label="value")}


def _index_fill_tensor(shapes_):
    def without_value(kw):  # indices wrapped to non-negative ones
        return {"dim": kw["dim"], "index": kw["index"] % max(shapes_[0][kw["dim"]], 1)}

    return _index_fill(shapes_).map(without_value)


# -- scatter and scatter_reduce: (self, src) with src (= index) no larger than self but along dim ------


@st.composite
def _scatter_shapes(draw, unique: bool = False, broadcastable: bool = False):
    """``broadcastable``: src's sizes are self's or 1, so that ties across the inputs can be placed."""
    shape = draw(shapes(min_dims=1), label="self shape")[0]
    axis = draw(st.integers(0, len(shape) - 1), label="scatter dim")
    if broadcastable:
        src = [draw(st.sampled_from([n, min(n, 1)]), label="src size") for n in shape]
        return (shape, tuple(src))
    src = [draw(st.integers(0, n), label="src size") for n in shape]
    most = shape[axis] if unique else MAX_SIDE
    src[axis] = draw(st.integers(0, most), label="src size along dim") if shape[axis] else 0
    return (shape, tuple(src))


def _scatter_kwargs(unique: bool, reduce: str | None = None):
    @st.composite
    def kwargs(draw, shapes_):
        shape, src = shapes_[0], shapes_[-1]
        empty = math.prod(src) == 0
        valid = [d for d in range(len(shape)) if (shape[d] or empty)
                 and all(s <= n for k, (s, n) in enumerate(zip(src, shape)) if k != d)
                 and (not unique or src[d] <= shape[d])]  # fmt: skip
        dim = draw(st.sampled_from(valid), label="dim")
        if unique:
            index = _unique_along(draw, src, shape[dim], dim) if not empty else np.zeros(src, np.int64)
        else:
            index = draw(hnp.arrays(np.int64, src, elements=st.integers(0, max(shape[dim] - 1, 0))), label="index")
        out = {"dim": dim - len(shape) if draw(st.booleans(), label="negative dim") else dim, "index": index}
        if reduce is not None:
            out["include_self"] = draw(st.booleans(), label="include_self")
        return out

    return kwargs


@st.composite
def _scatter_value(draw, shapes_):
    shape = shapes_[0]
    src_shape = draw(_scatter_like(shape), label="index shape")
    out = draw(_scatter_kwargs(False)((shape, src_shape)))
    return {**out, "value": draw(st.sampled_from([0.0, 1.5, -2.0]), label="value")}


@st.composite
def _scatter_like(draw, shape):
    axis = draw(st.integers(0, len(shape) - 1))
    src = [draw(st.integers(0, n)) for n in shape]
    src[axis] = draw(st.integers(0, MAX_SIDE)) if shape[axis] else 0
    return tuple(src)


def _scatter_reduce(reduce: str):
    def fn(ns, a, src, dim, index, include_self):
        return a.scatter_reduce(dim, _t(ns, index), src, reduce, include_self=include_self)

    return fn


# -- take_along_dim, take, put, masked_select, masked_scatter, index_put ----------------------------


@st.composite
def _take_along_dim(draw, shapes_):
    shape = shapes_[0]
    if draw(st.booleans(), label="no dim") or not shape:
        size = math.prod(shape)
        count = draw(st.integers(0, 5), label="index length") if size else 0
        return {"indices": draw(hnp.arrays(np.int64, (count,), elements=st.integers(0, max(size - 1, 0)))),
                "dim": None}  # fmt: skip
    axis = draw(st.integers(0, len(shape) - 1), label="dim")
    ishape = [draw(st.sampled_from([1, n]), label="broadcast or not") for n in shape]
    ishape[axis] = draw(st.integers(0, 4), label="index size along dim") if shape[axis] else 0
    indices = draw(hnp.arrays(np.int64, tuple(ishape), elements=st.integers(0, max(shape[axis] - 1, 0))))
    return {"indices": indices, "dim": axis - len(shape) if draw(st.booleans(), label="negative dim") else axis}


@st.composite
def _take(draw, shapes_):
    size = math.prod(shapes_[0])
    ishape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4), label="index shape")
    if not size:
        ishape = (0,)
    return {"index": draw(hnp.arrays(np.int64, ishape, elements=st.integers(-size, max(size - 1, 0))))}


@st.composite
def _put_shapes(draw, unique: bool):
    shape = draw(shapes(), label="self shape")[0]
    size = math.prod(shape)
    count = draw(st.integers(0, min(size, 5) if unique else 5), label="source size") if size else 0
    return (shape, (count,))


def _put_kwargs(unique: bool):
    @st.composite
    def kwargs(draw, shapes_):
        size, (count,) = math.prod(shapes_[0]), shapes_[1]
        if unique:
            index = np.array(draw(st.permutations(list(range(size))))[:count], np.int64) - (
                size if draw(st.booleans(), label="negative indices") else 0
            )
        else:
            index = draw(hnp.arrays(np.int64, (count,), elements=st.integers(-size, max(size - 1, 0))))
        return {"index": index.reshape((count,))}

    return kwargs


@st.composite
def _mask_broadcast(draw, shape: tuple, grow: bool) -> np.ndarray:
    """A boolean mask that broadcasts to ``shape`` (size-1 dims, fewer dims; more dims with grow)."""
    own = tuple(1 if draw(st.booleans(), label="broadcast dim") else n for n in shape)
    own = own[draw(st.integers(0, len(own)), label="dropped leading dims") :]
    if grow and len(own) == len(shape) and draw(st.booleans(), label="extra leading dim"):
        own = (draw(st.integers(1, 2)), *own)
    return draw(hnp.arrays(np.bool_, own), label="mask")


@st.composite
def _masked_scatter_shapes(draw):
    shape = draw(shapes(), label="self shape")[0]
    extra = draw(st.integers(0, 2), label="spare source elements")
    return (shape, (math.prod(shape) + extra,))


@st.composite
def _index_put_shapes(draw, unique: bool):
    """(self, values): the index tuple (drawn later) covers k = 1 or 2 leading dims of self, and
    values has the indexed shape (count, *self.shape[k:]), so k is len(self) - len(values) + 1."""
    shape = draw(shapes(min_dims=1, min_side=1), label="self shape")[0]
    k = draw(st.integers(1, min(2, len(shape))), label="indexed dims")
    most = math.prod(shape[:k]) if unique else 4
    count = draw(st.integers(0, min(most, 4)), label="index length")
    return (shape, (count, *shape[k:]))


def _index_put_kwargs(unique: bool):
    @st.composite
    def kwargs(draw, shapes_):
        shape, values = shapes_
        k, count = len(shape) - len(values) + 1, values[0]
        size = math.prod(shape[:k])
        if unique:
            flat = np.array(draw(st.permutations(list(range(size))), label="positions")[:count], np.int64)
        else:
            flat = draw(hnp.arrays(np.int64, (count,), elements=st.integers(0, size - 1)), label="positions")
        return {"indices": tuple(np.asarray(i, np.int64).reshape(count) for i in np.unravel_index(flat, shape[:k]))}

    return kwargs


def _index_put(accumulate: bool):
    def fn(ns, a, values, indices):
        return a.index_put(tuple(_t(ns, i) for i in indices), values, accumulate=accumulate)

    return fn


_AMAX_TIES = Kinks(ties=True)
_PROD_ZEROS = Kinks(points=(0.0,))

OPS = [
    op("index_add", "indexing",
       lambda ns, a, src, dim, index, alpha: a.index_add(dim, _t(ns, index), src, alpha=alpha),
       _dim_shapes(), (REAL, REAL), kwargs=_index_kwargs(False, with_alpha=True), analytic=True,
       doc="IndexAddBackward0; repeated indices add up; alpha scales the source"),
    op("index_copy", "indexing", lambda ns, a, src, dim, index: a.index_copy(dim, _t(ns, index), src),
       _dim_shapes(unique=True), (REAL, REAL), kwargs=_index_kwargs(True), analytic=True,
       doc="IndexCopyBackward0; unique indices (torch's duplicate writes are nondeterministic)"),
    op("index_fill", "indexing", lambda ns, a, dim, index, value: a.index_fill(dim, _t(ns, index), value),
       shapes(min_dims=1), (REAL,), kwargs=_index_fill, analytic=True,
       doc="IndexFillBackward0: a scalar value, negative and repeated indices"),
    op("index_fill_tensor", "indexing", lambda ns, a, v, dim, index: a.index_fill(dim, _t(ns, index), v),
       shapes(min_dims=1).map(lambda s: (*s, ())), (REAL, REAL),
       kwargs=_index_fill_tensor, analytic=True,
       doc="IndexFillBackward1: a 0-d tensor value, which gets the gradient of every filled element once; indices "
           "not negative (torch's backward raises on negative ones)"),
    op("scatter", "indexing", lambda ns, a, src, dim, index: a.scatter(dim, _t(ns, index), src),
       _scatter_shapes(unique=True), (REAL, REAL), kwargs=_scatter_kwargs(True), analytic=True,
       doc="ScatterBackward0 (src of the index's shape); indices unique along dim (duplicate writes are "
           "nondeterministic in torch)"),
    op("scatter_value", "indexing", lambda ns, a, dim, index, value: a.scatter(dim, _t(ns, index), value),
       shapes(min_dims=1), (REAL,), kwargs=_scatter_value, analytic=True,
       doc="ScatterBackward1: a scalar value, repeated indices"),
    op("scatter_reduce_sum", "indexing", _scatter_reduce("sum"), _scatter_shapes(), (REAL, REAL),
       kwargs=_scatter_kwargs(False, "sum"), analytic=True, doc="ScatterReduceBackward0, reduce='sum', include_self"),
    op("scatter_reduce_mean", "indexing", _scatter_reduce("mean"), _scatter_shapes(), (REAL, REAL),
       kwargs=_scatter_kwargs(False, "mean"), analytic=True, doc="ScatterReduceBackward0, reduce='mean', include_self"),
    op("scatter_reduce_prod", "indexing", _scatter_reduce("prod"), _scatter_shapes(), (REAL, REAL),
       kwargs=_scatter_kwargs(False, "prod"), analytic=True, kinks=_PROD_ZEROS,
       doc="ScatterReduceBackward0, reduce='prod': zeros aimed at (torch has no double backward for two zeros "
           "reaching one position)"),
    op("scatter_reduce_amax", "indexing", _scatter_reduce("amax"), _scatter_shapes(broadcastable=True), (REAL, REAL),
       kwargs=_scatter_kwargs(False, "amax"), kinks=_AMAX_TIES,
       doc="ScatterReduceBackward0, reduce='amax': ties share the gradient evenly"),
    op("scatter_reduce_amin", "indexing", _scatter_reduce("amin"), _scatter_shapes(broadcastable=True), (REAL, REAL),
       kwargs=_scatter_kwargs(False, "amin"), kinks=_AMAX_TIES,
       doc="ScatterReduceBackward0, reduce='amin': ties share the gradient evenly"),
    op("take_along_dim", "indexing",
       lambda ns, a, indices, dim: ns.take_along_dim(a, _t(ns, indices), dim),
       shapes(), (REAL,), kwargs=_take_along_dim, analytic=True,
       doc="GatherBackward0 after ExpandBackward0 (broadcast indices) or ViewBackward0 (no dim)"),
    op("take", "indexing", lambda ns, a, index: a.take(_t(ns, index)), shapes(), (REAL,), kwargs=_take,
       analytic=True, doc="TakeBackward0: flat indices, negative and repeated"),
    op("put", "indexing", lambda ns, a, src, index: a.put(_t(ns, index), src), _put_shapes(True), (REAL, REAL),
       kwargs=_put_kwargs(True), analytic=True, doc="PutBackward0; unique flat indices"),
    op("put_accumulate", "indexing", lambda ns, a, src, index: a.put(_t(ns, index), src, accumulate=True),
       _put_shapes(False), (REAL, REAL), kwargs=_put_kwargs(False), analytic=True,
       doc="PutBackward0 with accumulate; repeated flat indices add up"),
    op("masked_select", "indexing", lambda ns, a, mask: ns.masked_select(a, _t(ns, mask)), shapes(), (REAL,),
       kwargs=lambda s: _mask_broadcast(s[0], True).map(lambda m: {"mask": m}), analytic=True,
       doc="MaskedSelectBackward0; the mask broadcasts with the input (either may grow)"),
    op("masked_scatter", "indexing", lambda ns, a, src, mask: a.masked_scatter(_t(ns, mask), src),
       _masked_scatter_shapes(), (REAL, REAL),
       kwargs=lambda s: _mask_broadcast(s[0], False).map(lambda m: {"mask": m}), analytic=True,
       doc="MaskedScatterBackward0; source has spare elements (they get zero gradient)"),
    op("index_put", "indexing", _index_put(False), _index_put_shapes(True), (REAL, REAL),
       kwargs=_index_put_kwargs(True), analytic=True,
       doc="IndexPutBackward0: x.index_put((i,) or (i, j), v); unique positions (duplicate writes are "
           "nondeterministic in torch)"),
    op("index_put_accumulate", "indexing", _index_put(True), _index_put_shapes(False), (REAL, REAL),
       kwargs=_index_put_kwargs(False), analytic=True,
       doc="IndexPutBackward0 with accumulate=True; repeated positions add up"),
]  # fmt: skip

# torch's scatter_reduce refuses to differentiate complex outputs
OPS = also_complex(OPS, but=tuple(o.name for o in OPS if o.name.startswith("scatter_reduce")))
