"""Shape ops: views and layout (reshape, view, flatten, transpose, permute, t, T, mT, unsqueeze,
squeeze, expand, broadcast_to), copies (clone, contiguous, dtype round trips, repeat, flip),
joins and splits (cat, stack, split, chunk) and padding (constant, reflect, replicate).

All are linear, hence smooth and (except the dtype conversions) analytic. Strided inputs
(``transpose(0, -1)`` first) exercise the alias and copy paths of reshape and flatten.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import also_complex
from gradcheck_suite.catalogue.spec import REAL, op
from gradcheck_suite.strategies import MAX_SIDE, dims, reshape_kwargs, shapes, transpose_kwargs


def _permutation(shapes_):
    n = len(shapes_[0])
    return st.permutations(list(range(n))).map(lambda p: {"dims": tuple(p)})


def _unsqueeze_dim(shapes_):
    n = len(shapes_[0]) + 1
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


def _squeeze_dim(shapes_):
    return st.fixed_dictionaries({"dim": dims(len(shapes_[0]))})


@st.composite
def _expand_sizes(draw, shapes_):
    shape = shapes_[0]
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2), label="new leading dims"))
    grown = tuple(
        draw(st.sampled_from([1, 2, 3, -1]), label="expanded size") if n == 1 else draw(st.sampled_from([n, -1]))
        for n in shape
    )
    return {"sizes": lead + grown}


@st.composite
def _broadcast_size(draw, shapes_):
    sizes = draw(_expand_sizes(shapes_))["sizes"]
    lead = len(sizes) - len(shapes_[0])
    return {"size": tuple(shapes_[0][i - lead] if n == -1 else n for i, n in enumerate(sizes))}


@st.composite
def _flatten_dims(draw, shapes_):
    size = max(len(shapes_[0]), 1)
    start = draw(st.integers(0, size - 1), label="start_dim")
    end = draw(st.integers(start, size - 1), label="end_dim")
    negative = draw(st.booleans(), label="negative dims")
    return {"start_dim": start - size if negative else start, "end_dim": end - size if negative else end}


@st.composite
def _repeats(draw, shapes_):
    n = len(shapes_[0]) + draw(st.integers(0, 2), label="new leading dims")
    return {"repeats": tuple(draw(st.lists(st.sampled_from([1, 1, 2, 3, 0]), min_size=n, max_size=n), label="repeats"))}


def _flip_dims(shapes_):
    n = len(shapes_[0])
    chosen = st.lists(st.integers(0, max(n, 1) - 1), max_size=max(n, 1), unique=True) if n else st.just([])
    return st.fixed_dictionaries({"dims": chosen.map(tuple)})


# -- cat and stack: three inputs ---------------------------------------------------------------


@st.composite
def _cat_shapes(draw):
    """Three shapes (1-d to 4-d) equal but along one dim, where sizes (0 included) differ."""
    base = draw(shapes(min_dims=1), label="base shape")[0]
    axis = draw(st.integers(0, len(base) - 1), label="cat dim")
    sizes = draw(st.lists(st.integers(0, 3), min_size=3, max_size=3), label="sizes along the cat dim")
    return tuple((*base[:axis], n, *base[axis + 1 :]) for n in sizes)


def _cat_dim(shapes_):
    n = len(shapes_[0])
    valid = [d for d in range(n) if all(s[:d] + s[d + 1 :] == shapes_[0][:d] + shapes_[0][d + 1 :] for s in shapes_)]
    return st.fixed_dictionaries({"dim": st.sampled_from(valid + [d - n for d in valid])})


def _stack_shapes():
    return shapes().map(lambda s: s * 3)


def _stack_dim(shapes_):
    n = len(shapes_[0]) + 1
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


# -- split and chunk -------------------------------------------------------------------------------


@st.composite
def _split_kwargs(draw, shapes_):
    """A dim, a split size (or a list of sizes summing to the dim's size), and the piece to return."""
    shape = shapes_[0]
    dim = draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    length = shape[dim]
    if draw(st.booleans(), label="list of sizes"):
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3), label="cuts"))
        sections = [b - a for a, b in zip([0, *cuts], [*cuts, length])]
        count = len(sections)
    else:
        sections = draw(st.integers(1 if length else 0, length + 1), label="split size")
        count = max(1, math.ceil(length / sections)) if sections else 1
    return {"sections": sections, "dim": dim, "piece": draw(st.integers(0, count - 1), label="piece")}


@st.composite
def _chunk_kwargs(draw, shapes_):
    shape = shapes_[0]
    return {
        "chunks": draw(st.integers(1, MAX_SIDE + 1), label="chunks"),
        "dim": draw(st.integers(-len(shape), len(shape) - 1), label="dim"),
    }


def _chunk(ns, a, chunks, dim):
    """Every piece, weighted by its position (so each output's gradient is told apart)."""
    return ns.cat([(p * (i + 1)).flatten() for i, p in enumerate(a.chunk(chunks, dim))])


# -- pad -------------------------------------------------------------------------------------------


@st.composite
def _constant_pad(draw, shapes_):
    """(before, after) pairs for up to all dims from the last, cropping (negative) at most all."""
    shape = shapes_[0]
    pairs = draw(st.integers(0, len(shape)), label="padded dims")
    pad = []
    for k in range(pairs):
        length = shape[len(shape) - 1 - k]
        before = draw(st.integers(-length, 2), label="before")
        after = draw(st.integers(-(length + min(before, 0)), 2), label="after")
        pad += [before, after]
    value = draw(st.sampled_from([0.0, 1.5, -2.0]), label="value")
    return {"pad": tuple(pad), "value": value}


def _index_pad(mode: str):
    @st.composite
    def kwargs(draw, shapes_):
        shape = shapes_[0]
        pairs = draw(st.sampled_from([k for k in (1, 2, 3) if len(shape) in (k + 1, k + 2)]), label="padded dims")
        pad = []
        for k in range(pairs):
            length = shape[len(shape) - 1 - k]
            most = length - 1 if mode == "reflect" else 3
            pad += draw(st.lists(st.integers(0, most), min_size=2, max_size=2), label="before, after")
        return {"pad": tuple(pad)}

    return kwargs


# reflect and replicate need dims that are not empty
_NONEMPTY_2D_UP = shapes(min_dims=2, min_side=1, max_side=3)


def _to(ns, a):
    """Up to float64 and back (exact): ``double()`` then ``float()`` for float32 inputs, one forced
    copy for float64 ones (finite differences run in float64, where a lone ``float()`` would only
    measure rounding)."""
    up = a.double()
    return up.float() if a.dtype == ns.float32 else up.to(a.dtype, copy=True)


def _strided(a):
    return a.transpose(0, -1)


OPS = [
    op("reshape", "shape", lambda ns, a, shape: a.reshape(shape), shapes(), (REAL,), kwargs=reshape_kwargs,
       analytic=True),
    op("reshape_strided", "shape", lambda ns, a, shape: _strided(a).reshape(shape), shapes(), (REAL,),
       kwargs=reshape_kwargs, analytic=True, doc="reshape of a transposed input (alias or copy)"),
    op("view", "shape", lambda ns, a, shape: a.view(shape), shapes(), (REAL,), kwargs=reshape_kwargs, analytic=True),
    op("flatten", "shape", lambda ns, a, start_dim, end_dim: a.flatten(start_dim, end_dim), shapes(), (REAL,),
       kwargs=_flatten_dims, analytic=True),
    op("flatten_strided", "shape", lambda ns, a, start_dim, end_dim: ns.flatten(_strided(a), start_dim, end_dim),
       shapes(), (REAL,), kwargs=_flatten_dims, analytic=True),
    op("transpose", "shape", lambda ns, a, dim0, dim1: a.transpose(dim0, dim1), shapes(), (REAL,),
       kwargs=transpose_kwargs, analytic=True),
    op("permute", "shape", lambda ns, a, dims: a.permute(dims), shapes(), (REAL,), kwargs=_permutation,
       analytic=True),
    op("t", "shape", lambda ns, a: a.t(), shapes(max_dims=2), (REAL,), analytic=True),
    op("T", "shape", lambda ns, a: a.T, shapes(min_dims=2, max_dims=2), (REAL,), analytic=True),
    op("mT", "shape", lambda ns, a: a.mT, shapes(min_dims=2), (REAL,), analytic=True),
    op("unsqueeze", "shape", lambda ns, a, dim: a.unsqueeze(dim), shapes(), (REAL,), kwargs=_unsqueeze_dim,
       analytic=True),
    op("squeeze", "shape", lambda ns, a, dim: a.squeeze() if dim is None else a.squeeze(dim), shapes(), (REAL,),
       kwargs=_squeeze_dim, analytic=True),
    op("expand", "shape", lambda ns, a, sizes: a.expand(sizes), shapes(), (REAL,), kwargs=_expand_sizes,
       analytic=True),
    op("broadcast_to", "shape", lambda ns, a, size: ns.broadcast_to(a, size), shapes(), (REAL,),
       kwargs=_broadcast_size, analytic=True),
    op("clone", "shape", lambda ns, a: a.clone(), shapes(), (REAL,), analytic=True),
    op("contiguous", "shape", lambda ns, a: _strided(a).contiguous(), shapes(), (REAL,), analytic=True),
    op("to", "shape", _to, shapes(), (REAL,), doc="double() and back with float() or to(dtype, copy=True)"),
    op("repeat", "shape", lambda ns, a, repeats: a.repeat(repeats), shapes(max_side=3), (REAL,), kwargs=_repeats,
       analytic=True),
    op("flip", "shape", lambda ns, a, dims: a.flip(dims), shapes(), (REAL,), kwargs=_flip_dims, analytic=True),
    op("cat", "shape", lambda ns, a, b, c, dim: ns.cat([a, b, c], dim), _cat_shapes(), (REAL,) * 3,
       kwargs=_cat_dim, analytic=True),
    op("stack", "shape", lambda ns, a, b, c, dim: ns.stack([a, b, c], dim), _stack_shapes(), (REAL,) * 3,
       kwargs=_stack_dim, analytic=True),
    op("split", "shape", lambda ns, a, sections, dim, piece: ns.split(a, sections, dim)[piece],
       shapes(min_dims=1), (REAL,), kwargs=_split_kwargs, analytic=True,
       doc="one piece of split (int size or list of sizes); the others get no gradient"),
    op("chunk", "shape", _chunk, shapes(min_dims=1), (REAL,), kwargs=_chunk_kwargs, analytic=True,
       doc="every piece of chunk, weighted by position, flattened and concatenated"),
    op("pad", "shape", lambda ns, a, pad, value: ns.nn.functional.pad(a, pad, value=value), shapes(), (REAL,),
       kwargs=_constant_pad, analytic=True, doc="constant padding; negative pads crop"),
    op("pad_reflect", "shape", lambda ns, a, pad: ns.nn.functional.pad(a, pad, mode="reflect"),
       _NONEMPTY_2D_UP, (REAL,), kwargs=_index_pad("reflect"), analytic=True),
    op("pad_replicate", "shape", lambda ns, a, pad: ns.nn.functional.pad(a, pad, mode="replicate"),
       _NONEMPTY_2D_UP, (REAL,), kwargs=_index_pad("replicate"), analytic=True),
]  # fmt: skip

# data movement is the same for complex numbers; `to` casts to float64 (dropping the imaginary part)
OPS = also_complex(OPS, but=("to",))
