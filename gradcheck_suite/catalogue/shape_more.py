"""More shape ops: roll, rot90, movedim, narrow, select, unbind (every output), tril, triu, diag
(matrix -> diagonal and vector -> matrix), diag_embed, repeat_interleave, tile, unflatten,
hstack/vstack/dstack, and circular padding (``pad_circular``, beside pad_reflect and pad_replicate).

All are linear, hence smooth and analytic. select, narrow, movedim, unbind and unflatten are
views in torch and in the reference engine; pad_circular records torch's CopySlices nodes.
"""

from __future__ import annotations

from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import REAL, op
from gradcheck_suite.strategies import shapes


def _dim(shape: tuple):
    return st.integers(-len(shape), len(shape) - 1)


@st.composite
def _roll(draw, shapes_):
    shape = shapes_[0]
    if not shape or draw(st.booleans(), label="flattened"):
        return {"shifts": draw(st.integers(-7, 7), label="shift"), "dims": None}
    dims = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    shifts = draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)), label="shifts")
    return {"shifts": tuple(shifts), "dims": tuple(d - len(shape) if d % 2 else d for d in dims)}


@st.composite
def _rot90(draw, shapes_):
    shape = shapes_[0]
    dims = draw(st.lists(st.integers(0, len(shape) - 1), min_size=2, max_size=2, unique=True), label="dims")
    return {"k": draw(st.integers(-5, 5), label="k"), "dims": tuple(dims)}


@st.composite
def _movedim(draw, shapes_):
    n = len(shapes_[0])
    if not n:
        return {"source": (), "destination": ()}
    count = draw(st.integers(0, n), label="moved dims")
    source = draw(st.lists(st.integers(0, n - 1), min_size=count, max_size=count, unique=True), label="source")
    destination = draw(st.lists(st.integers(0, n - 1), min_size=count, max_size=count, unique=True))
    if count == 1 and draw(st.booleans(), label="ints"):
        return {"source": source[0], "destination": destination[0] - n}
    return {"source": tuple(source), "destination": tuple(destination)}


@st.composite
def _narrow(draw, shapes_):
    shape = shapes_[0]
    dim = draw(_dim(shape), label="dim")
    size = shape[dim]
    start = draw(st.integers(0, size), label="start")
    length = draw(st.integers(0, size - start), label="length")
    negative = start < size and draw(st.booleans(), label="negative start")
    return {"dim": dim, "start": start - size if negative else start, "length": length}


@st.composite
def _select(draw, shapes_):
    shape = shapes_[0]
    dims = [d for d, n in enumerate(shape) if n]
    dim = draw(st.sampled_from(dims), label="dim")
    return {"dim": dim, "index": draw(st.integers(-shape[dim], shape[dim] - 1), label="index")}


def _unbind(ns, a, dim):
    """Every output, weighted by its position (so each one's gradient is told apart)."""
    parts = a.unbind(dim)
    if not parts:
        return a.sum() * 0
    return ns.stack([p * (i + 1) for i, p in enumerate(parts)])


def _diagonal_kwargs(shapes_):
    return st.fixed_dictionaries({"diagonal": st.integers(-4, 4)})


@st.composite
def _diag_embed(draw, shapes_):
    n = len(shapes_[0]) + 1
    dims = draw(st.lists(st.integers(-n, n - 1), min_size=2, max_size=2, unique_by=lambda d: d % n), label="dims")
    return {"offset": draw(st.integers(-2, 2), label="offset"), "dim1": dims[0], "dim2": dims[1]}


@st.composite
def _repeat_interleave(draw, shapes_):
    shape = shapes_[0]
    dim = None if not shape or draw(st.booleans(), label="flattened") else draw(_dim(shape), label="dim")
    return {"repeats": draw(st.integers(0, 3), label="repeats"), "dim": dim}


@st.composite
def _tile(draw, shapes_):
    n = len(shapes_[0]) + draw(st.integers(-1, 1), label="more or fewer dims")
    return {"dims": tuple(draw(st.lists(st.sampled_from([1, 1, 2, 3, 0]), min_size=max(n, 0), max_size=max(n, 0))))}


@st.composite
def _unflatten(draw, shapes_):
    shape = shapes_[0]
    dim = draw(_dim(shape), label="dim")
    size = shape[dim]
    divisors = [k for k in range(1, size + 1) if size % k == 0] or [1]
    first = draw(st.sampled_from(divisors), label="first size")
    sizes = [first, size // first if size else 0]
    if size and draw(st.booleans(), label="infer one"):
        sizes[draw(st.integers(0, 1))] = -1
    return {"dim": dim, "sizes": tuple(sizes)}


def _stack_shapes(min_dims: int):
    """Three shapes equal but along the joined dim (hstack: dim 1, or 0 for vectors; vstack: 0;
    dstack: 2), of rank min_dims..3 (lower ranks are lifted by atleast_nd)."""

    @st.composite
    def strategy(draw):
        base = draw(shapes(min_dims=0, max_dims=3), label="base shape")[0]
        if min_dims == 1:
            axis = 0 if len(base) <= 1 else 1
        else:
            axis = {2: 0, 3: 2}[min_dims] if len(base) >= min_dims else None
        if axis is None or (min_dims == 1 and len(base) == 0):
            return (base,) * 3
        sizes = draw(st.lists(st.integers(0, 3), min_size=3, max_size=3), label="sizes along the joined dim")
        return tuple((*base[:axis], n, *base[axis + 1 :]) for n in sizes)

    return strategy()


@st.composite
def _circular_pad(draw, shapes_):
    shape = shapes_[0]
    pairs = draw(st.sampled_from([k for k in (1, 2, 3) if len(shape) in (k + 1, k + 2)]), label="padded dims")
    pad = []
    for k in range(pairs):
        length = shape[len(shape) - 1 - k]
        # a pad wraps around what the crops leave, at most once (torch refuses more)
        before = draw(st.integers(-(length - 1), length), label="before")
        if before < 0:
            after = draw(st.integers(-(length + before - 1), length + before), label="after")
        else:
            after = draw(st.integers(-(length - max(before, 1)), length), label="after")
        pad += [before, after]
    return {"pad": tuple(pad)}


OPS = [
    op("roll", "shape", lambda ns, a, shifts, dims: a.roll(shifts, dims), shapes(), (REAL,), kwargs=_roll,
       analytic=True, doc="RollBackward0: shifts over several dims, or of the flattened tensor"),
    op("rot90", "shape", lambda ns, a, k, dims: ns.rot90(a, k, dims), shapes(min_dims=2), (REAL,), kwargs=_rot90,
       analytic=True, doc="Rot90Backward0 (a copy), k of any sign"),
    op("movedim", "shape", lambda ns, a, source, destination: a.movedim(source, destination), shapes(), (REAL,),
       kwargs=_movedim, analytic=True, doc="PermuteBackward0 (a view)"),
    op("narrow", "shape", lambda ns, a, dim, start, length: a.narrow(dim, start, length), shapes(min_dims=1),
       (REAL,), kwargs=_narrow, analytic=True, doc="SliceBackward0 (a view), negative start"),
    op("select", "shape", lambda ns, a, dim, index: a.select(dim, index), shapes(min_dims=1, min_side=1), (REAL,),
       kwargs=_select, analytic=True, doc="SelectBackward0 (a view)"),
    op("unbind", "shape", _unbind, shapes(min_dims=1), (REAL,),
       kwargs=lambda s: st.fixed_dictionaries({"dim": _dim(s[0])}), analytic=True,
       doc="UnbindBackward0: every output (views), weighted by position and stacked"),
    op("tril", "shape", lambda ns, a, diagonal: a.tril(diagonal), shapes(min_dims=2), (REAL,),
       kwargs=_diagonal_kwargs, analytic=True, doc="TrilBackward0, diagonal offsets past the corners"),
    op("triu", "shape", lambda ns, a, diagonal: ns.triu(a, diagonal), shapes(min_dims=2), (REAL,),
       kwargs=_diagonal_kwargs, analytic=True, doc="TriuBackward0, diagonal offsets past the corners"),
    op("diag", "shape", lambda ns, a, diagonal: a.diag(diagonal), shapes(min_dims=2, max_dims=2), (REAL,),
       kwargs=_diagonal_kwargs, analytic=True, doc="a matrix's diagonal: DiagonalBackward0_copy"),
    op("diag_vector", "shape", lambda ns, a, diagonal: ns.diag(a, diagonal), shapes(min_dims=1, max_dims=1),
       (REAL,), kwargs=_diagonal_kwargs, analytic=True, doc="diag of a vector: a matrix, DiagEmbedBackward0"),
    op("diag_embed", "shape", lambda ns, a, offset, dim1, dim2: a.diag_embed(offset, dim1, dim2),
       shapes(min_dims=1, max_dims=3), (REAL,), kwargs=_diag_embed, analytic=True, doc="DiagEmbedBackward0"),
    op("repeat_interleave", "shape", lambda ns, a, repeats, dim: a.repeat_interleave(repeats, dim=dim), shapes(),
       (REAL,), kwargs=_repeat_interleave, analytic=True,
       doc="int repeats: ViewBackward0 over CloneBackward0, ExpandBackward0, UnsqueezeBackward0"),
    op("tile", "shape", lambda ns, a, dims: a.tile(dims), shapes(max_side=3), (REAL,), kwargs=_tile, analytic=True,
       doc="RepeatBackward0; fewer dims than the input are padded with ones"),
    op("unflatten", "shape", lambda ns, a, dim, sizes: a.unflatten(dim, sizes), shapes(min_dims=1), (REAL,),
       kwargs=_unflatten, analytic=True, doc="ViewBackward0, one size inferred (-1)"),
    op("hstack", "shape", lambda ns, a, b, c: ns.hstack([a, b, c]), _stack_shapes(1), (REAL,) * 3, analytic=True,
       doc="CatBackward0 after atleast_1d"),
    op("vstack", "shape", lambda ns, a, b, c: ns.vstack([a, b, c]), _stack_shapes(2), (REAL,) * 3, analytic=True,
       doc="CatBackward0 after atleast_2d"),
    op("dstack", "shape", lambda ns, a, b, c: ns.dstack([a, b, c]), _stack_shapes(3), (REAL,) * 3, analytic=True,
       doc="CatBackward0 after atleast_3d"),
    op("pad_circular", "shape", lambda ns, a, pad: ns.nn.functional.pad(a, pad, mode="circular"),
       shapes(min_dims=2, min_side=1, max_side=3), (REAL,), kwargs=_circular_pad, analytic=True,
       doc="torch::autograd::CopySlices over SliceBackward0 (copies into a new tensor); negative pads crop"),
]  # fmt: skip

# data movement is the same for complex numbers
OPS = also_complex(OPS)
