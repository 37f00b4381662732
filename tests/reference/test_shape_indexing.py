"""Shape and indexing ops of the reference engine against torch: values, node names, output
numbers, which results are views, gradients (vjp, with repeated indices accumulating), tangents
(jvp), the backward of the backward (create_graph), ``normalize_index``, and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import reference
from reference.ops.indexing import normalize_index

RNG = np.random.default_rng(7)
X = RNG.standard_normal((2, 3, 4))
Y = RNG.standard_normal((2, 3, 4))
S = np.array(0.75)


def _long(ns, values):
    return ns.tensor(np.asarray(values, dtype=np.int64))


def _as_numpy(t, like) -> np.ndarray:
    if t is None:
        return np.zeros(tuple(like.shape))
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True).astype(np.float64)
    return t.detach().numpy().astype(np.float64)


def _shares_memory(ns, out, x) -> bool | None:
    if out.numel() == 0:  # NumPy sees no shared memory in an empty view
        return None
    if ns is torch:
        return out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    return np.shares_memory(out._data, x._data)


def derivatives(ns, fn, arrays, seed=0):
    """What a user sees of ``fn(ns, *inputs)`` (one output or several): values, node names,
    output numbers, memory sharing with the first input, vjp, jvp, and the derivative of
    <vjp, w> with respect to the cotangent (which runs the backward of every backward)."""
    rng = np.random.default_rng(seed)
    xs = [ns.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation notes on x.T and list indices
        out = fn(ns, *xs)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    vs = [ns.tensor(rng.standard_normal(tuple(o.shape)), requires_grad=True) for o in outs]
    grads = ns.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
    terms = [(g * ns.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads if g is not None]
    second = ns.autograd.grad(sum(terms[1:], terms[0]), vs, allow_unused=True) if terms else [None] * len(vs)
    fwad = ns.autograd.forward_ad
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    with fwad.dual_level(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        duals = [fwad.make_dual(ns.tensor(a), ns.tensor(t)) for a, t in zip(arrays, tangents)]
        dual_out = fn(ns, *duals)
        dual_outs = tuple(dual_out) if isinstance(dual_out, (tuple, list)) else (dual_out,)
        jvp = [_as_numpy(fwad.unpack_dual(o).tangent, o) for o in dual_outs]
    return {
        "values": [o.detach().numpy().astype(np.float64) for o in outs],
        "grad_fn": [type(o.grad_fn).__name__ for o in outs],
        "output_nr": [o.output_nr if ns is torch else o._output_nr for o in outs],
        "shares_memory": [_shares_memory(ns, o, xs[0]) for o in outs],
        "vjp": [_as_numpy(g, x) for g, x in zip(grads, xs)],
        "jvp": jvp,
        "second": [_as_numpy(s, v) for s, v in zip(second, vs)],
    }


def assert_derivatives_match(fn, arrays, rtol=1e-12):
    want = derivatives(torch, fn, arrays)
    got = derivatives(reference, fn, arrays)
    for key in ("grad_fn", "output_nr", "shares_memory"):
        assert got[key] == want[key], f"{key}: reference {got[key]}, torch {want[key]}"
    for key in ("values", "vjp", "jvp", "second"):
        assert len(got[key]) == len(want[key]), key
        for i, (g, w) in enumerate(zip(got[key], want[key])):
            assert g.shape == w.shape, f"{key}[{i}]: shape {g.shape} != torch's {w.shape}"
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, err_msg=f"{key}[{i}]")


SHAPE_OPS = {
    "reshape": (lambda ns, x: x.reshape(6, -1), X),
    "reshape of a transpose (copy)": (lambda ns, x: x.transpose(0, 2).reshape(-1), X),
    "reshape of a slice (alias)": (lambda ns, x: x[:, :, ::2].reshape(6, 2), X),
    "view": (lambda ns, x: x.view(3, 8), X),
    "view of 0-d": (lambda ns, s: s.view(1, 1), S),
    "flatten": (lambda ns, x: x.flatten(), X),
    "flatten 1..2": (lambda ns, x: ns.flatten(x, 1), X),
    "flatten of a transpose": (lambda ns, x: x.mT.flatten(0, 1), X),
    "flatten of 0-d": (lambda ns, s: s.flatten(), S),
    "transpose": (lambda ns, x: x.transpose(0, 2), X),
    "swapaxes": (lambda ns, x: ns.swapaxes(x, -1, 1), X),
    "permute": (lambda ns, x: x.permute(2, 0, 1), X),
    "T": (lambda ns, x: x.T, X),
    "mT": (lambda ns, x: x.mT, X),
    "t": (lambda ns, x: x[0].t(), X),
    "unsqueeze": (lambda ns, x: x.unsqueeze(-2), X),
    "squeeze": (lambda ns, x: x[:, :1].squeeze(), X),
    "squeeze dims": (lambda ns, x: x[:, :1].squeeze((0, 1)), X),
    "expand": (lambda ns, x: x[:, :1].expand(5, 2, 3, 4), X),
    "broadcast_to": (lambda ns, x: ns.broadcast_to(x[0], (2, 3, 4)), X),
    "clone": (lambda ns, x: x.clone(), X),
    "contiguous": (lambda ns, x: x.mT.contiguous(), X),
    "double": (lambda ns, x: x.float().double(), X),
    "to": (lambda ns, x: x.to(ns.float32), X),
    "repeat": (lambda ns, x: x.repeat(2, 1, 3, 1), X),
    "repeat 0-d": (lambda ns, s: s.repeat(2, 3), S),
    "cat": (lambda ns, x, y: ns.cat([x, y[:, :2], x * 2], 1), X, Y),
    "cat negative dim": (lambda ns, x, y: ns.cat((x, y), dim=-1), X, Y),
    "stack": (lambda ns, x, y: ns.stack([x, y], 2), X, Y),
    "stack 0-d": (lambda ns, s: ns.stack([s, s * 3]), S),
    "split": (lambda ns, x: x.split(2, 1), X),
    "split one piece used": (lambda ns, x: x.split(2, 1)[1], X),
    "split sizes": (lambda ns, x: ns.split(x, [1, 0, 3], dim=2), X),
    "chunk": (lambda ns, x: x.chunk(3, -1), X),
    "chunk of an empty dim": (lambda ns, x: ns.chunk(x[:, :0], 2, 1), X),
    "flip": (lambda ns, x: x.flip(0, 2), X),
    "flip list": (lambda ns, x: ns.flip(x, [-1]), X),
    "pad": (lambda ns, x: ns.nn.functional.pad(x, (1, 2)), X),
    "pad value and crop": (lambda ns, x: ns.nn.functional.pad(x, (-1, 2, 1, 0), value=1.5), X),
    "pad three dims": (lambda ns, x: ns.nn.functional.pad(x, [0, 1, 2, 0, 1, 1], "constant", -1.0), X),
    "pad reflect": (lambda ns, x: ns.nn.functional.pad(x, (3, 1), mode="reflect"), X),
    "pad reflect 2-d": (lambda ns, x: ns.nn.functional.pad(x, (1, 2, 2, 1), mode="reflect"), X),
    "pad replicate": (lambda ns, x: ns.nn.functional.pad(x, (2, 3), mode="replicate"), X),
    "pad replicate 2-d": (lambda ns, x: ns.nn.functional.pad(x, (0, 2, 3, 1), mode="replicate"), X),
    "pad replicate 3-d": (lambda ns, x: ns.nn.functional.pad(x[None], (1, 0, 0, 2, 1, 1), mode="replicate"), X),
}

INDEXING_OPS = {
    "int": (lambda ns, x: x[1], X),
    "negative int": (lambda ns, x: x[-1, -3], X),
    "ints to 0-d": (lambda ns, x: x[1, 2, 3], X),
    "0-d int tensor": (lambda ns, x: x[_long(ns, 1)], X),
    "slice": (lambda ns, x: x[:1], X),
    "full slice": (lambda ns, x: x[:], X),
    "full slices (alias)": (lambda ns, x: x[:, 0:3], X),
    "ellipsis": (lambda ns, x: x[...], X),
    "empty tuple": (lambda ns, x: x[()], X),
    "slice with step": (lambda ns, x: x[..., 1::2], X),
    "negative slice bounds": (lambda ns, x: x[-2:, -5:-1], X),
    "empty slice": (lambda ns, x: x[1:0], X),
    "None": (lambda ns, x: x[None], X),
    "mixed basic": (lambda ns, x: x[0, 1:, None, ::3], X),
    "ellipsis in the middle": (lambda ns, x: x[None, ..., None, 0], X),
    "list with duplicates": (lambda ns, x: x[[0, 1, 0, 0]], X),
    "negative list": (lambda ns, x: x[[-1, -2, -1]], X),
    "long tensor": (lambda ns, x: x[:, _long(ns, [[2, 0], [2, 2]])], X),
    "numpy array": (lambda ns, x: x[np.array([1, 1])], X),
    "two arrays": (lambda ns, x: x[[0, 1, 1], [2, 2, 0]], X),
    "arrays around a slice": (lambda ns, x: x[[0, 1], :, [3, 3]], X),
    "broadcast arrays": (lambda ns, x: x[_long(ns, [[0], [1]]), :, _long(ns, [1, 1, 3])], X),
    "int and array apart": (lambda ns, x: x[0, :, [0, 1, 1]], X),
    "slice then array": (lambda ns, x: x[1:, [2, 2]], X),
    "None and arrays": (lambda ns, x: x[[0, 1], None, [1, 2]], X),
    "array then None": (lambda ns, x: x[[1, 0], None], X),
    "ellipsis and array": (lambda ns, x: x[..., [3, 0, 3]], X),
    "mask": (lambda ns, x: x[x > 0], X),
    "mask of leading dims": (lambda ns, x: x[ns.tensor(X[:, :, 0] > 0)], X),
    "mask and int": (lambda ns, x: x[1, ns.tensor([True, False, True])], X),
    "bool list": (lambda ns, x: x[:, [True, False, True]], X),
    "True": (lambda ns, x: x[True], X),
    "False": (lambda ns, x: x[False], X),
    "True with an array": (lambda ns, x: x[0, :, True, [1, 2]], X),
    "0-d True": (lambda ns, s: s[True], S),
    "0-d None": (lambda ns, s: s[None, ...], S),
    "0-d mask": (lambda ns, s: s[s > 0], S),
    "empty list": (lambda ns, x: x[[]], X),
    "index_select": (lambda ns, x: x.index_select(1, _long(ns, [2, 0, 2, 2])), X),
    "index_select 0-d index": (lambda ns, x: ns.index_select(x, -1, _long(ns, 3)), X),
    "index_select of 0-d": (lambda ns, s: s.index_select(0, _long(ns, [0])), S),
    "gather": (lambda ns, x: x.gather(1, _long(ns, [[[0, 2, 2, 1]] * 2] * 2)), X),
    "gather smaller index": (lambda ns, x: ns.gather(x, -1, _long(ns, [[[3, 3]], [[0, 3]]])), X),
    "gather of 0-d": (lambda ns, s: s.gather(0, _long(ns, [0, 0])), S),
    "scatter_add": (lambda ns, x, y: x.scatter_add(1, _long(ns, [[[0, 2, 2, 0]] * 3] * 2), y), X, Y),
    "scatter_add smaller index": (
        lambda ns, x, y: ns.scatter_add(x, 2, _long(ns, [[[1, 1]] * 3] * 2), y[:, :, :2]), X, Y,
    ),
    "masked_fill": (lambda ns, x: x.masked_fill(x > 0.3, -2.0), X),
    "masked_fill broadcast mask": (lambda ns, x: x.masked_fill(ns.tensor([True, False, False, True]), 0.5), X),
    "masked_fill broadcast self": (lambda ns, x: x[0, 0].masked_fill(ns.tensor(X[0] > 0), 0.5), X),
    "masked_fill tensor value": (lambda ns, x, s: ns.masked_fill(x, x < 0, s), X, S),
}  # fmt: skip


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_ops_match_torch(name):
    fn, *arrays = SHAPE_OPS[name]
    assert_derivatives_match(fn, arrays)


@pytest.mark.parametrize("name", INDEXING_OPS)
def test_indexing_ops_match_torch(name):
    fn, *arrays = INDEXING_OPS[name]
    assert_derivatives_match(fn, arrays)


def test_repeated_indices_accumulate_in_the_gradient():
    for ns in (torch, reference):
        x = ns.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x[[0, 2, 0, 0]] * ns.tensor([1.0, 10.0, 100.0, 1000.0])).sum().backward()
        assert x.grad.tolist() == [1101.0, 0.0, 10.0]
        x.grad = None
        x.index_select(0, ns.tensor([1, 1])).sum().backward()
        assert x.grad.tolist() == [0.0, 2.0, 0.0]
        x.grad = None
        x.gather(0, ns.tensor([2, 2, 2])).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 3.0]


def _names(y, depth=4):
    names, node = [], y.grad_fn
    while node is not None and len(names) < depth and type(node).__name__ != "AccumulateGrad":
        names.append(type(node).__name__)
        node = node.next_functions[0][0] if node.next_functions else None
    return names


GRAPHS = {
    "int then slice then None": lambda ns, x: x[0, 1:, None],
    "int and array": lambda ns, x: x[0, :, [0, 1]],
    "True": lambda ns, x: x[True],
    "slice then array": lambda ns, x: x[1:2, [0, 1]],
    "flatten of a transpose": lambda ns, x: x.transpose(0, 2).flatten(),
    "contiguous": lambda ns, x: x.mT.contiguous(),
}


@pytest.mark.parametrize("name", GRAPHS)
def test_node_chains_match_torch(name):
    chains = [_names(GRAPHS[name](ns, ns.tensor(X, requires_grad=True))) for ns in (torch, reference)]
    assert chains[1] == chains[0]


DOUBLE_BACKWARD_NODES = {
    "select": lambda ns, x: x[0],
    "slice": lambda ns, x: x[:, 1:],
    "index": lambda ns, x: x[[0, 0]],
    "index_select": lambda ns, x: x.index_select(1, ns.tensor([0, 0])),
    "gather": lambda ns, x: x.gather(1, ns.zeros(2, 2, 4, dtype=ns.int64)),
    "flip": lambda ns, x: x.flip(0),
    "split": lambda ns, x: x.split(1, 1)[1],
    "pad": lambda ns, x: ns.nn.functional.pad(x, (1, 1)),
    "unsqueeze": lambda ns, x: x.unsqueeze(1),
}


@pytest.mark.parametrize("name", DOUBLE_BACKWARD_NODES)
def test_backward_graph_nodes_match_torch(name):
    names = []
    for ns in (torch, reference):
        x = ns.tensor(X, requires_grad=True)
        y = DOUBLE_BACKWARD_NODES[name](ns, x)
        (g,) = ns.autograd.grad(y, x, ns.ones_like(y, requires_grad=True), create_graph=True)
        names.append(type(g.grad_fn).__name__)
    assert names[1] == names[0]


def test_views_share_memory_and_copies_do_not():
    x = reference.tensor(X)
    for view in (x[0], x[:, ::2], x[None], x[...], x.transpose(0, 1), x.reshape(6, 4), x.flatten(), *x.split(1, 1)):
        assert np.shares_memory(view._data, x._data)
    for copy in (x[[0]], x[x > 0], x.flip(0), x.repeat(1, 1, 1), x.index_select(0, reference.tensor([0]))):
        assert not np.shares_memory(copy._data, x._data)
    assert x.split(1, 1)[2]._output_nr == 0  # no graph: every output is a plain tensor


NORMALIZE_CASES = [
    0, -1, slice(1, None), (slice(None), 2), (None, 1, ..., None), (..., slice(None, None, 2)), (),
    [0, 0, 1], (slice(None), [2, 0]), ([0, 1], slice(None), [3, 3]), (0, slice(None), [0, 1, 1]),
    (slice(1, None), [2, 2], 1), ([[0], [1]], None, [1, 2]), (True,), (0, slice(None), True, [1, 2]),
    (False, slice(None)), ([1, 0], None), (np.array([[True, False, True], [False, False, True]]),),
    (1, None, np.array([True, False, True])), (None, [0, 1], ..., 2), (slice(None), None, [1, 2], 0),
]  # fmt: skip


@pytest.mark.parametrize("index", NORMALIZE_CASES, ids=repr)
def test_normalize_index_reads_and_writes_like_torch(index):
    a = np.arange(24.0).reshape(2, 3, 4)
    t = torch.tensor(a)
    idx = normalize_index(index, a.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = t[index].numpy()
        np.testing.assert_array_equal(a[idx], want)
        values = np.arange(want.size, dtype=np.float64).reshape(want.shape) + 100
        t[index] = torch.tensor(values)
    written = a.copy()
    written[idx] = values
    np.testing.assert_array_equal(written, t.numpy())


def test_normalize_index_on_drawn_indices_reads_and_writes_like_torch():
    """Indices drawn by the catalogue's strategies (ints, slices, None, Ellipsis, index arrays)."""
    from helpers import draws
    from hypothesis import strategies as st

    from gradcheck_suite.catalogue import CATALOGUE

    for name in ("getitem", "getitem_advanced", "getitem_mask"):
        spec = CATALOGUE[name]
        for shapes_, kwargs in draws(
            spec.shapes.flatmap(lambda s, spec=spec: st.tuples(st.just(s), spec.kwargs(s))), 150
        ):
            index, shape = kwargs["index"], shapes_[0]
            a = np.arange(float(np.prod(shape))).reshape(shape)
            t = torch.tensor(a)
            torch_index = _torch_index(index)
            want = t[torch_index].numpy()
            idx = normalize_index(index, shape)
            np.testing.assert_array_equal(a[idx], want, err_msg=f"{index!r} on {shape}")
            t[torch_index] = torch.tensor(np.arange(want.size, dtype=np.float64).reshape(want.shape) + 100)
            a[idx] = np.arange(want.size, dtype=np.float64).reshape(want.shape) + 100
            np.testing.assert_array_equal(a, t.numpy(), err_msg=f"{index!r} on {shape}")


def _torch_index(index):
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index.copy())
    return tuple(_torch_index(e) for e in index) if isinstance(index, tuple) else index


def test_normalize_index_of_a_0d_shape():
    for index in (True, False, None, (None, True), (True, None), ...):
        np.testing.assert_array_equal(np.array(2.0)[normalize_index(index, ())], torch.tensor(2.0)[index].numpy())


def test_normalize_index_is_a_view_for_basic_indices():
    a = np.arange(24.0).reshape(2, 3, 4)
    assert np.shares_memory(a[normalize_index((1, slice(None, None, 2), None), a.shape)], a)


def _error(program, ns):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program(ns, ns.tensor(X, requires_grad=True))
    except Exception as exc:  # noqa: BLE001 - the error is what is compared
        return type(exc).__name__, str(exc)
    return None


ERRORS = {
    "int out of range": lambda ns, x: x[2],
    "negative int out of range": lambda ns, x: x[0, -4],
    "int out of range after None": lambda ns, x: x[:, None, 5],
    "int after ellipsis": lambda ns, x: x[..., 9],
    "list out of range": lambda ns, x: x[[0, 5]],
    "array out of range in dim 2": lambda ns, x: x[:, :, [0, 7]],
    "second array out of range": lambda ns, x: x[[0, 1], :, [0, -9]],
    "too many indices": lambda ns, x: x[0, 0, 0, 0],
    "0-d int": lambda ns, x: x.sum()[0],
    "0-d slice": lambda ns, x: x.sum()[:],
    "0-d tuple": lambda ns, x: x.sum()[(0,)],
    "float index": lambda ns, x: x[1.0],
    "float tensor index": lambda ns, x: x[ns.tensor([0.0])],
    "zero step": lambda ns, x: x[::0],
    "negative step": lambda ns, x: x[::-1],
    "mask shape": lambda ns, x: x[ns.ones(2, 4, dtype=ns.bool)],
    "mask shape after a slice": lambda ns, x: x[:, ns.ones(3, 3, dtype=ns.bool)],
    "arrays do not broadcast": lambda ns, x: x[[0, 1], [0, 1, 2]],
    "index_select out of range": lambda ns, x: x.index_select(0, ns.tensor([2])),
    "index_select out of range dim 1": lambda ns, x: x.index_select(1, ns.tensor([0, -1])),
    "index_select 2-d index": lambda ns, x: x.index_select(1, ns.tensor([[0]])),
    "index_select float index": lambda ns, x: x.index_select(1, ns.tensor([0.0])),
    "index_select of 0-d": lambda ns, x: x.sum().index_select(0, ns.tensor([0, 0])),
    "gather out of range": lambda ns, x: x.gather(1, ns.tensor([[[3]]])),
    "gather rank": lambda ns, x: x.gather(1, ns.tensor([[0]])),
    "gather size": lambda ns, x: x.gather(1, ns.zeros(1, 1, 5, dtype=ns.int64)),
    "gather float index": lambda ns, x: x.gather(1, ns.zeros(1, 1, 1)),
    "scatter_add size": lambda ns, x: x.scatter_add(1, ns.zeros(2, 3, 4, dtype=ns.int64), x[:, :1] * 1),
    "scatter_add dtype": lambda ns, x: x.scatter_add(1, ns.zeros(2, 1, 4, dtype=ns.int64), x.float()[:, :1]),
    "scatter_add out of range": lambda ns, x: x.scatter_add(0, ns.full((1, 1, 1), 2, dtype=ns.int64), x),
    "scatter_add src gradient": lambda ns, x: ns.autograd.grad(
        x.scatter_add(1, ns.zeros(2, 1, 4, dtype=ns.int64), x).sum(), x
    ),
    "masked_fill float mask": lambda ns, x: x.masked_fill((x > 0).double(), 1.0),
    "masked_fill value dims": lambda ns, x: x.masked_fill(x > 0, ns.ones(2)),
    "masked_fill mask shape": lambda ns, x: x.masked_fill(ns.ones(3, dtype=ns.bool), 2.0),
    "cat empty": lambda ns, x: ns.cat([]),
    "cat 0-d": lambda ns, x: ns.cat([x, x.sum()]),
    "cat sizes": lambda ns, x: ns.cat([x, x[:, :2]]),
    "cat ranks": lambda ns, x: ns.cat([x[0], x]),
    "cat dim": lambda ns, x: ns.cat([x], 3),
    "stack empty": lambda ns, x: ns.stack([]),
    "stack sizes": lambda ns, x: ns.stack([x, x[:, :2]]),
    "repeat too few": lambda ns, x: x.repeat(2),
    "repeat negative": lambda ns, x: x.repeat(-1, 1, 1),
    "split negative": lambda ns, x: x.split(-1),
    "split zero": lambda ns, x: x.split(0),
    "split sizes sum": lambda ns, x: x.split([1, 1], 1),
    "split of 0-d": lambda ns, x: x.sum().split(1),
    "chunk zero": lambda ns, x: x.chunk(0),
    "flip twice": lambda ns, x: x.flip(0, 0),
    "flatten order": lambda ns, x: x.flatten(2, 1),
    "pad odd": lambda ns, x: ns.nn.functional.pad(x, (1,)),
    "pad too long": lambda ns, x: ns.nn.functional.pad(x, (1,) * 8),
    "pad crop too much": lambda ns, x: ns.nn.functional.pad(x, (-5, 0)),
    "pad reflect too wide": lambda ns, x: ns.nn.functional.pad(x, (1, 4), mode="reflect"),
    "pad reflect 2-d too wide": lambda ns, x: ns.nn.functional.pad(x, (1, 1, 3, 0), mode="reflect"),
    "pad reflect 1-d input": lambda ns, x: ns.nn.functional.pad(x[0, 0], (1, 1), mode="reflect"),
    "pad replicate with value": lambda ns, x: ns.nn.functional.pad(x, (1, 1), mode="replicate", value=1.0),
    "pad unknown mode": lambda ns, x: ns.nn.functional.pad(x, (1, 1), mode="bogus"),
    "pad replicate too small": lambda ns, x: ns.nn.functional.pad(x, (-5, 1), mode="replicate"),
    "pad reflect empty dim": lambda ns, x: ns.nn.functional.pad(x[:, :0], (1, 1), mode="reflect"),
    "mT of 1-d": lambda ns, x: x[0, 0].mT,
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_messages_match_torch(name):
    want = _error(ERRORS[name], torch)
    assert want is not None, "torch accepted the program"
    assert _error(ERRORS[name], reference) == want
