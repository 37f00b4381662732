"""Scatter/index ops and more shape ops of the reference engine against torch: values, node
names, output numbers, views, vjp, jvp and the backward of the backward (create_graph), with
repeated indices, scatter_reduce's ties (amax/amin) and zeros (prod), and a few error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import reference

RNG = np.random.default_rng(11)
X = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 4))
SRC = RNG.standard_normal((2, 4))
V = RNG.standard_normal(5)


def _long(ns, values):
    return ns.from_numpy(np.asarray(values, dtype=np.int64))


def _bool(ns, values):
    return ns.from_numpy(np.asarray(values, dtype=np.bool_))


def _as_numpy(t, like) -> np.ndarray:
    if t is None:
        return np.zeros(tuple(like.shape))
    return t.detach().numpy().astype(np.float64)


def derivatives(ns, fn, arrays, seed=0):
    """Values, node names, output numbers, views of the first input, vjp, jvp and the derivative
    of <vjp, w> with respect to the inputs and the cotangent (the backward of the backward)."""
    rng = np.random.default_rng(seed)
    xs = [ns.tensor(a, requires_grad=True) for a in arrays]
    out = fn(ns, *xs)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    vs = [ns.tensor(rng.standard_normal(tuple(o.shape)), requires_grad=True) for o in outs]
    grads = ns.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
    terms = [(g * ns.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads if g is not None]
    wrt = [*vs, *xs]
    second = ns.autograd.grad(sum(terms[1:], terms[0]), wrt, allow_unused=True)
    fwad = ns.autograd.forward_ad
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    with fwad.dual_level():
        duals = [fwad.make_dual(ns.tensor(a), ns.tensor(t)) for a, t in zip(arrays, tangents)]
        dual_out = fn(ns, *duals)
        dual_outs = tuple(dual_out) if isinstance(dual_out, (tuple, list)) else (dual_out,)
        jvp = [_as_numpy(fwad.unpack_dual(o).tangent, o) for o in dual_outs]
    return {
        "values": [o.detach().numpy().astype(np.float64) for o in outs],
        "grad_fn": [o.grad_fn.name() for o in outs],
        "output_nr": [o.output_nr if ns is torch else o._output_nr for o in outs],
        "is_view": [o._is_view() if ns is torch else o._view_base is not None for o in outs],
        "vjp": [_as_numpy(g, x) for g, x in zip(grads, xs)],
        "jvp": jvp,
        "second": [_as_numpy(s, w) for s, w in zip(second, wrt)],
    }


def assert_derivatives_match(fn, arrays, rtol=1e-12, jvp=True):
    want = derivatives(torch, fn, arrays)
    got = derivatives(reference, fn, arrays)
    for key in ("grad_fn", "output_nr", "is_view"):
        assert got[key] == want[key], f"{key}: reference {got[key]}, torch {want[key]}"
    for key in ("values", "vjp", "jvp", "second") if jvp else ("values", "vjp", "second"):
        assert len(got[key]) == len(want[key]), key
        for i, (g, w) in enumerate(zip(got[key], want[key])):
            assert g.shape == w.shape, f"{key}[{i}]: shape {g.shape} != torch's {w.shape}"
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, err_msg=f"{key}[{i}]")


# amax/amin ties (within src, and self equal to the result) and prod zeros (one per position)
TIES_SELF = np.array([[1.0, 3.0, 0.5, 2.0], [5.0, 0.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
TIES_SRC = np.array([[1.0, 2.0, 0.5, 2.0], [1.0, 3.0, 0.5, -1.0]])
ZEROS_SELF = np.array([[0.0, 3.0, 1.5, 2.0], [5.0, 0.0, -1.0, 1.0], [2.0, 0.5, 0.0, 2.0]])
ZEROS_SRC = np.array([[0.0, 2.0, 0.5, 0.0], [1.0, 3.0, 0.5, -1.0]])
DUPS = [[0, 1, 0, 2], [0, 1, 2, 2]]


def _reduce(reduce, include_self, index=DUPS):
    return lambda ns, a, s: a.scatter_reduce(0, _long(ns, index), s, reduce, include_self=include_self)


INDEX_OPS = {
    "index_add": (lambda ns, a, s: a.index_add(0, _long(ns, [2, 0]), s), X, SRC),
    "index_add alpha, repeats": (lambda ns, a, s: a.index_add(0, _long(ns, [1, 1]), s, alpha=-2.5), X, SRC),
    "index_add dim 1": (lambda ns, a, s: ns.index_add(a, -1, _long(ns, [3, 0, 3]), s), X, X[:, :3]),
    "index_copy": (lambda ns, a, s: a.index_copy(0, _long(ns, [2, 0]), s), X, SRC),
    "index_fill": (lambda ns, a: a.index_fill(1, _long(ns, [0, -1, 0]), 2.5), X),
    "index_fill tensor": (lambda ns, a, v: a.index_fill(1, _long(ns, [2, 0, 2]), v), X, np.array(1.5)),
    "scatter src": (lambda ns, a, s: a.scatter(0, _long(ns, [[2, 0, 1, 1], [0, 1, 2, 0]]), s), X, SRC),
    "scatter value": (lambda ns, a: a.scatter(1, _long(ns, [[3, 3], [0, 1]]), -1.0), X),
    "take_along_dim": (lambda ns, a: ns.take_along_dim(a, _long(ns, [[0], [2], [1]]), 1), X),
    "take_along_dim broadcast": (lambda ns, a: ns.take_along_dim(a, _long(ns, [[[0, 2, 2]]]), -1), X3),
    "take_along_dim flat": (lambda ns, a: ns.take_along_dim(a, _long(ns, [0, 5, 5, 11])), X),
    "take": (lambda ns, a: a.take(_long(ns, [[0, -1], [5, 5]])), X),
    "put": (lambda ns, a, s: a.put(_long(ns, [0, -1, 4]), s), X, V[:3]),
    "put accumulate": (lambda ns, a, s: a.put(_long(ns, [0, 0, 4, 4, 4]), s, accumulate=True), X, V),
    "masked_select": (lambda ns, a: a.masked_select(_bool(ns, [True, False, True, True])), X),
    "masked_select mask grows": (lambda ns, a: ns.masked_select(a, _bool(ns, [[[True], [False], [True]]] * 2)), X),
    "masked_scatter": (lambda ns, a, s: a.masked_scatter(_bool(ns, [[True], [False], [True]]), s), X, V.repeat(2)),
    "masked_scatter mask grows": (
        lambda ns, a, s: a.masked_scatter(_bool(ns, [[[True, False, True, True]], [[False] * 4]]), s),
        X,
        V.repeat(6),
    ),
    "index_put": (lambda ns, a, v: a.index_put((_long(ns, [2, 0]),), v), X, SRC),
    "index_put broadcast": (lambda ns, a, v: a.index_put((_long(ns, [1, 2]), _long(ns, [3, 0])), v), X, V[:1]),
    "index_put accumulate": (lambda ns, a, v: a.index_put((_long(ns, [1, 1, 0]),), v, accumulate=True), X, X[0]),
}
for _reduce_name in ("sum", "mean", "prod", "amax", "amin"):
    for _include in (True, False):
        INDEX_OPS[f"scatter_reduce {_reduce_name} {_include}"] = (_reduce(_reduce_name, _include), X, SRC)
        INDEX_OPS[f"scatter_reduce {_reduce_name} {_include} ties"] = (
            _reduce(_reduce_name, _include, [[0, 0, 2, 1], [0, 0, 2, 1]]),
            TIES_SELF,
            TIES_SRC,
        )
for _include in (True, False):  # one zero per position: the product of the others
    INDEX_OPS[f"scatter_reduce prod {_include} zeros"] = (
        _reduce("prod", _include, [[0, 1, 0, 2], [1, 0, 0, 2]]),
        ZEROS_SELF,
        ZEROS_SRC,
    )


@pytest.mark.parametrize("name", INDEX_OPS)
def test_index_ops_match_torch(name):
    fn, *arrays = INDEX_OPS[name]
    assert_derivatives_match(fn, arrays, jvp="prod" not in name)  # torch: no tangent for prod (below)


@pytest.mark.parametrize("name", [n for n in INDEX_OPS if "prod" in n])
def test_prod_jvp_is_the_transpose_of_the_vjp(name):
    """torch 2.13's forward mode gives scatter_reduce(prod) no tangent at all (a torch bug, listed in
    torch_findings.toml); the engine's tangent must satisfy <J t, v> = <t, J^T v>."""
    fn, *arrays = INDEX_OPS[name]
    rng = np.random.default_rng(3)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    fwad = reference.autograd.forward_ad
    with fwad.dual_level():
        duals = [fwad.make_dual(reference.tensor(a), reference.tensor(t)) for a, t in zip(arrays, tangents)]
        out = fn(reference, *duals)
        jvp = fwad.unpack_dual(out).tangent.numpy()
    xs = [reference.tensor(a, requires_grad=True) for a in arrays]
    v = rng.standard_normal(jvp.shape)
    vjp = reference.autograd.grad(fn(reference, *xs), xs, reference.tensor(v))
    np.testing.assert_allclose((jvp * v).sum(), sum((g.numpy() * t).sum() for g, t in zip(vjp, tangents)), rtol=1e-12)
    torch_fwad = torch.autograd.forward_ad
    with torch_fwad.dual_level():  # and torch still gives none
        a, s = (torch_fwad.make_dual(torch.tensor(a), torch.tensor(t)) for a, t in zip(arrays, tangents))
        assert torch_fwad.unpack_dual(fn(torch, a, s)).tangent is None


SHAPE_OPS = {
    "roll": (lambda ns, a: a.roll(1, 0), X),
    "roll dims": (lambda ns, a: ns.roll(a, (2, -1), (-1, 0)), X3),
    "roll flat": (lambda ns, a: a.roll(5), X),
    "rot90": (lambda ns, a: a.rot90(), X),
    "rot90 -1 dims": (lambda ns, a: ns.rot90(a, -1, (2, 0)), X3),
    "rot90 2": (lambda ns, a: a.rot90(2, (1, 2)), X3),
    "movedim": (lambda ns, a: a.movedim(0, -1), X3),
    "moveaxis pairs": (lambda ns, a: ns.moveaxis(a, (0, 1), (2, 0)), X3),
    "movedim 0-d": (lambda ns, a: a.movedim((), ()), np.array(0.5)),
    "narrow": (lambda ns, a: a.narrow(1, 1, 2), X),
    "narrow negative start": (lambda ns, a: ns.narrow(a, -1, -3, 3), X3),
    "select": (lambda ns, a: a.select(1, -1), X3),
    "unbind": (lambda ns, a: a.unbind(1), X3),
    "unbind one used": (lambda ns, a: a.unbind()[1] * 2, X3),
    "tril": (lambda ns, a: a.tril(), X),
    "triu -1": (lambda ns, a: ns.triu(a, -1), X3),
    "tril 2": (lambda ns, a: a.tril(diagonal=2), X3),
    "diag 2-d": (lambda ns, a: a.diag(1), X),
    "diag 2-d negative": (lambda ns, a: ns.diag(a, -1), X),
    "diag 1-d": (lambda ns, v: v.diag(), V),
    "diag 1-d offset": (lambda ns, v: ns.diag(v, -2), V),
    "diag_embed": (lambda ns, a: a.diag_embed(), X),
    "diag_embed dims": (lambda ns, a: ns.diag_embed(a, 1, 0, 2), X3),
    "repeat_interleave": (lambda ns, a: a.repeat_interleave(2, dim=1), X3),
    "repeat_interleave flat": (lambda ns, a: ns.repeat_interleave(a, 3), X),
    "repeat_interleave 1-d": (lambda ns, v: v.repeat_interleave(2), V),
    "repeat_interleave tensor": (lambda ns, a: a.repeat_interleave(_long(ns, [1, 0, 2]), dim=0), X),
    "tile": (lambda ns, a: a.tile((2,)), X),
    "tile more dims": (lambda ns, a: ns.tile(a, (2, 1, 3)), X),
    "unflatten": (lambda ns, a: a.unflatten(-1, (2, -1)), X3),
    "hstack": (lambda ns, a, b: ns.hstack([a, b]), X, X),
    "hstack 1-d": (lambda ns, v, w: ns.hstack((v, w[:2])), V, V),
    "vstack 1-d": (lambda ns, v, w: ns.vstack([v, w * 2]), V, V),
    "vstack": (lambda ns, a, b: ns.vstack([a, b[:1]]), X, X),
    "dstack": (lambda ns, a, b: ns.dstack([a, b]), X, X),
    "dstack 1-d": (lambda ns, v, w: ns.dstack([v, w]), V, V),
    "pad circular": (lambda ns, a: ns.nn.functional.pad(a, (1, 2), mode="circular"), X3),
    "pad circular 2 dims": (lambda ns, a: ns.nn.functional.pad(a, (1, 0, 2, 3), mode="circular"), X3),
    "pad circular crop": (lambda ns, a: ns.nn.functional.pad(a, (-1, 2), mode="circular"), X3),
    "pad circular 2-d input": (lambda ns, a: ns.nn.functional.pad(a, (4, 4), mode="circular"), X),
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_ops_match_torch(name):
    fn, *arrays = SHAPE_OPS[name]
    assert_derivatives_match(fn, arrays)


def test_prod_double_backward_refuses_two_zeros_at_one_position():
    index = [[0, 1, 0, 0], [0, 1, 2, 2]]
    src = np.array([[0.0, 1.0, 2.0, 0.0], [0.0, 2.0, 3.0, 0.0]])
    for ns in (torch, reference):
        a, s = ns.tensor(X, requires_grad=True), ns.tensor(src, requires_grad=True)
        out = a.scatter_reduce(0, _long(ns, index), s, "prod")
        _, g_src = ns.autograd.grad(out.sum(), (a, s), retain_graph=True)  # first order is fine
        assert g_src[0, 0].item() == 0.0
        _, g_src = ns.autograd.grad(out.sum(), (a, s), create_graph=True)
        with pytest.raises(RuntimeError, match="Double backward is unsupported for src when >1 zeros"):
            ns.autograd.grad(g_src.sum(), (a, s))


def test_amax_tie_counts_self_even_when_excluded():
    """torch 2.13 counts self in the tie when it equals the result, though without include_self
    self gets no gradient: src's two tied elements get a third each."""
    grads = []
    for ns in (torch, reference):
        a = ns.tensor([[1.0, 0.0]], requires_grad=True)
        s = ns.tensor([[1.0, 0.0], [1.0, 0.0]], requires_grad=True)
        out = a.scatter_reduce(0, _long(ns, [[0, 0], [0, 0]]), s, "amax", include_self=False)
        grads.append([g.numpy() for g in ns.autograd.grad(out.sum(), (a, s))])
    for got, want in zip(grads[1], grads[0]):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(grads[0][1][:, 0], [1 / 3, 1 / 3])


def test_index_fill_tensor_value_with_negative_index():
    """torch 2.13's IndexFillBackward1 raises for the value's gradient when an index is negative
    (its forward takes it); the engine gives the gradient: one per filled element."""
    index = [-1, 0]
    for ns in (torch, reference):
        a, v = ns.tensor(X, requires_grad=True), ns.tensor(1.5, requires_grad=True)
        out = a.index_fill(1, _long(ns, index), v)
        np.testing.assert_array_equal(out.detach().numpy()[:, [3, 0]], 1.5)
        if ns is torch:
            with pytest.raises((IndexError, RuntimeError)):
                ns.autograd.grad(out.sum(), v)
        else:
            assert ns.autograd.grad(out.sum(), v)[0].item() == 6.0


def test_inplace_variants_and_views():
    a = reference.tensor(X, requires_grad=True).clone()
    a.index_add_(0, _long(reference, [0, 0]), reference.tensor(SRC))
    assert a.grad_fn.name() == "IndexAddBackward0"
    b = reference.tensor(X3)
    assert np.shares_memory(b.select(0, 1)._data, b._data)
    assert np.shares_memory(b.narrow(2, 1, 2)._data, b._data)
    assert all(np.shares_memory(p._data, b._data) for p in b.unbind(2))


@pytest.mark.parametrize(
    "call",
    [
        lambda ns: ns.tensor(X).index_add(0, _long(ns, [5]), ns.tensor(SRC[:1])),
        lambda ns: ns.tensor(X).take(_long(ns, [12])),
        lambda ns: ns.tensor(X).masked_scatter(_bool(ns, [True] * 4), ns.tensor(V[:3])),
        lambda ns: ns.tensor(X).masked_scatter(_bool(ns, [[True] * 2] * 2), ns.tensor(V)),
        lambda ns: ns.masked_select(ns.tensor(X[0]), _bool(ns, [[True] * 3] * 2)),
        lambda ns: ns.tensor(X).index_copy(0, _long(ns, [0]), ns.tensor(X[:1, :3])),
        lambda ns: ns.tensor(X).index_add(0, _long(ns, [0]), ns.tensor(SRC[:1]).float()),
        lambda ns: ns.tensor(X).roll((1, 2), 0),
        lambda ns: ns.tensor(X).rot90(1, (0, 0)),
        lambda ns: ns.tensor(V).tril(),
        lambda ns: ns.tensor(X3).diag(),
        lambda ns: ns.take_along_dim(ns.tensor(X), _long(ns, [0, 1]), 0),
        lambda ns: ns.tensor(X).narrow(1, 3, 2),
        lambda ns: ns.nn.functional.pad(ns.tensor(X3), (5, 0), mode="circular"),
        lambda ns: ns.tensor(X).scatter_reduce(0, _long(ns, [[0]]), ns.tensor(SRC), "maximum"),
        lambda ns: ns.tensor(X).index_copy(0, _long(ns, [-1]), ns.tensor(SRC[:1])),
        lambda ns: ns.tensor(X).index_fill(0, _long(ns, [3]), 1.0),
    ],
)
def test_errors_like_torch(call):
    with pytest.raises(Exception) as want, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(reference)
    assert str(got.value).splitlines()[0] == str(want.value).splitlines()[0]
