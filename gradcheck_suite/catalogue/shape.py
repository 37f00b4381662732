"""View and layout ops: reshape, transpose, permute, t, unsqueeze, squeeze, expand."""

from __future__ import annotations

from hypothesis import strategies as st

from gradcheck_suite.catalogue.spec import REAL, op
from gradcheck_suite.strategies import dims, reshape_kwargs, shapes, transpose_kwargs


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


OPS = [
    op("reshape", "shape", lambda ns, a, shape: a.reshape(shape), shapes(), (REAL,), kwargs=reshape_kwargs),
    op(
        "transpose", "shape", lambda ns, a, dim0, dim1: a.transpose(dim0, dim1), shapes(), (REAL,),
        kwargs=transpose_kwargs,
    ),
    op("permute", "shape", lambda ns, a, dims: a.permute(dims), shapes(), (REAL,), kwargs=_permutation),
    op("t", "shape", lambda ns, a: a.t(), shapes(max_dims=2), (REAL,)),
    op("unsqueeze", "shape", lambda ns, a, dim: a.unsqueeze(dim), shapes(), (REAL,), kwargs=_unsqueeze_dim),
    op(
        "squeeze", "shape", lambda ns, a, dim: a.squeeze() if dim is None else a.squeeze(dim), shapes(), (REAL,),
        kwargs=_squeeze_dim,
    ),
    op("expand", "shape", lambda ns, a, sizes: a.expand(sizes), shapes(), (REAL,), kwargs=_expand_sizes),
]  # fmt: skip
