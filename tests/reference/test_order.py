"""Order statistics, scans and paired reductions of the reference engine against torch 2.13:
node names, values, indices, gradients (also at ties, where torch routes the gradient to the
index it returns), forward-mode tangents and double backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from gradcheck_suite.catalogue import CATALOGUE
from reference.ops.reduce import selection

TIED = np.array([[3.0, 1.0, 3.0, 2.0], [1.0, 3.0, 2.0, 2.0], [0.5, 0.5, 0.5, 0.5]])
DISTINCT = np.array([[0.3, -1.2, 2.5, 0.7], [1.1, -0.4, 0.9, -2.0], [0.2, 1.7, -0.6, 0.05]])


def _first(out):
    return out if not isinstance(out, tuple) else out[0]


def _outputs(out):
    return list(out) if isinstance(out, tuple) else [out]


def _run(lib, fn, x: np.ndarray, cotangent_seed: int = 0):
    """Outputs, the float outputs' node names, and the gradient for fixed cotangents."""
    leaf = lib.tensor(x.tolist(), dtype=lib.float64, requires_grad=True)
    outs = _outputs(fn(lib, leaf))
    floats = [o for o in outs if o.dtype == lib.float64]
    rng = np.random.default_rng(cotangent_seed)
    cots = [lib.tensor(rng.standard_normal(tuple(o.shape)).tolist(), dtype=lib.float64) for o in floats]
    total = sum((o * c).sum() for o, c in zip(floats, cots))
    (grad,) = lib.autograd.grad(total, leaf)
    names = [o.grad_fn.name() for o in floats]
    return [np.array(o.tolist()) for o in outs], names, np.array(grad.tolist())


CASES = {
    "sort": lambda ns, x: ns.sort(x, 1),
    "sort_desc_dim0": lambda ns, x: ns.sort(x, 0, descending=True),
    "sort_stable": lambda ns, x: x.sort(dim=-1, stable=True),
    "msort": lambda ns, x: ns.msort(x),
    "topk": lambda ns, x: ns.topk(x, 2),
    "topk_smallest_dim0": lambda ns, x: x.topk(2, 0, largest=False),
    "topk_unsorted": lambda ns, x: ns.topk(x, 3, sorted=False),
    "kthvalue": lambda ns, x: ns.kthvalue(x, 2, 1),
    "kthvalue_keepdim": lambda ns, x: x.kthvalue(3, 0, keepdim=True),
    "median_all": lambda ns, x: ns.median(x),
    "median_dim": lambda ns, x: ns.median(x, 1),
    "median_keepdim": lambda ns, x: x.median(0, keepdim=True),
    "cummax": lambda ns, x: ns.cummax(x, 1),
    "cummin": lambda ns, x: x.cummin(0),
    "argmax_gather": lambda ns, x: x.gather(1, ns.argmax(x, 1, keepdim=True)),
    "argmin_gather": lambda ns, x: x.gather(0, x.argmin(0, keepdim=True)),
    "logcumsumexp": lambda ns, x: ns.logcumsumexp(x, 1),
    "logcumsumexp_dim0": lambda ns, x: x.logcumsumexp(0),
    "diff": lambda ns, x: ns.diff(x),
    "diff_n2_dim0": lambda ns, x: x.diff(n=2, dim=0),
    "diff_prepend": lambda ns, x: ns.diff(x, dim=1, prepend=x[:, :1] * 2, append=x[:, 2:]),
    "trapezoid": lambda ns, x: ns.trapezoid(x, dx=0.5),
    "cumulative_trapezoid": lambda ns, x: ns.cumulative_trapezoid(x, dim=0),
    "nansum": lambda ns, x: ns.nansum(x, 1),
    "nanmean": lambda ns, x: x.nanmean(),
    "aminmax": lambda ns, x: ns.aminmax(x),
    "aminmax_dim": lambda ns, x: ns.aminmax(x, dim=1, keepdim=True),
    "var_mean": lambda ns, x: ns.var_mean(x, 1),
    "std_mean": lambda ns, x: ns.std_mean(x, (0, 1), correction=0, keepdim=True),
}


@pytest.mark.parametrize("values", [TIED, DISTINCT], ids=["ties", "distinct"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_indices_nodes_and_gradients_match_torch(name, values):
    fn = CASES[name]
    outs, names, grad = _run(reference, fn, values)
    t_outs, t_names, t_grad = _run(torch, fn, values)
    assert names == t_names
    assert len(outs) == len(t_outs)
    for o, t in zip(outs, t_outs):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-12)  # indices exactly, ties included
    np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-12)


def test_gradient_at_ties_goes_where_torch_sends_it():
    """Concrete tie values observed on torch 2.13 CPU, asserted on both libraries."""
    x = [3.0, 1.0, 3.0, 2.0, 1.0, 3.0]
    for lib in (torch, reference):
        a = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        assert lib.topk(a, 4).indices.tolist() == [2, 0, 5, 3]  # not the stable order [0, 2, 5, 3]
        assert lib.kthvalue(a, 2).indices.item() == 4  # quickselect picks the second 1
        assert lib.cummax(a, 0).indices.tolist() == [0, 0, 2, 2, 2, 5]  # ties move to the latest index
        assert lib.cummin(a, 0).indices.tolist() == [0, 1, 1, 1, 4, 4]
        (g,) = lib.autograd.grad(lib.median(a.reshape(2, 3)[:, :2].reshape(-1)), a)
        assert g.tolist() == [0.0, 0.5, 0.0, 0.0, 0.5, 0.0]  # median() of [3, 1, 2, 1] = 1: split evenly
        (g,) = lib.autograd.grad(lib.aminmax(a).max, a)
        assert g.tolist() == pytest.approx([1 / 3, 0, 1 / 3, 0, 0, 1 / 3])


@pytest.mark.parametrize("n", [5, 17, 40])
def test_tie_orders_match_torch_on_random_tied_slices(n):
    rng = np.random.default_rng(n)
    for _ in range(60):
        x = rng.integers(0, 3, n).astype(float)
        if rng.random() < 0.3:
            x[rng.random(n) < 0.2] = np.nan
        t = torch.tensor(x)
        k = int(rng.integers(1, n + 1))
        for descending in (False, True):
            sorted_ = torch.sort(t, descending=descending).indices.tolist()
            assert selection.sort_order(x, descending).tolist() == sorted_
            top = torch.topk(t, k, largest=descending).indices.tolist()
            assert selection.topk_order(x, k, descending, True).tolist() == top
        assert selection.kth_index(x, k) == torch.kthvalue(t, k).indices.item()
        assert selection.median_index(x) == torch.median(t, 0).indices.item()


@pytest.mark.parametrize("name", ["sort", "topk", "kthvalue", "median_dim", "cummax", "logcumsumexp", "var_mean",
                                  "std_mean", "aminmax_dim", "nansum", "trapezoid"])  # fmt: skip
def test_forward_mode_and_double_backward_match_torch(name):
    fn = CASES[name]

    def both(lib):
        x = lib.tensor(DISTINCT.tolist(), dtype=lib.float64, requires_grad=True)
        tangent = lib.tensor(np.cos(DISTINCT).tolist(), dtype=lib.float64)
        with lib.autograd.forward_ad.dual_level():
            out = _first(fn(lib, lib.autograd.forward_ad.make_dual(x.detach(), tangent)))
            jvp = np.array(lib.autograd.forward_ad.unpack_dual(out).tangent.tolist())
        out = _first(fn(lib, x))
        cot = np.sin(np.arange(out.numel()) + 0.5).reshape(tuple(out.shape))  # no zero: see logcumsumexp below
        cot = lib.tensor(cot.tolist(), dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad((out * cot).sum(), x, create_graph=True)
        weights = lib.tensor(np.tan(DISTINCT).tolist(), dtype=lib.float64)
        second = lib.autograd.grad((g * weights).sum(), (x, cot), allow_unused=True)
        return jvp, g, [None if s is None else np.array(s.tolist()) for s in second]

    (e_jvp, e_g, e_second), (t_jvp, t_g, t_second) = both(reference), both(torch)
    np.testing.assert_allclose(e_jvp, t_jvp, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.array(e_g.tolist()), np.array(t_g.tolist()), rtol=1e-10, atol=1e-12)
    assert e_g.grad_fn is not None and t_g.grad_fn is not None
    for e, t in zip(e_second, t_second):  # d/dx (the op's curvature) and d/dcot (the backward's backward)
        if t is None or e is None:
            assert (e is None or not np.any(e)) and (t is None or not np.any(t))
        else:
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


def test_argmax_argmin_are_integers_without_gradient():
    for lib in (torch, reference):
        x = lib.tensor([[1.0, 5.0, 5.0], [2.0, 0.0, 0.0]], requires_grad=True)
        assert lib.argmax(x).item() == 1 and lib.argmin(x).item() == 4  # first of the ties
        assert lib.argmax(x, 1).tolist() == [1, 0]
        assert list(x.argmin(0, keepdim=True).shape) == [1, 3]
        assert lib.argmax(x).dtype == lib.int64 and not lib.argmax(x).requires_grad


def test_median_and_sort_put_nan_where_torch_does():
    x = [1.0, float("nan"), 0.0, float("nan")]
    for lib in (torch, reference):
        t = lib.tensor(x)
        assert lib.median(t, 0).indices.item() == 1
        assert lib.sort(t).indices.tolist() == [2, 0, 1, 3]
        assert lib.sort(t, descending=True).indices.tolist() == [1, 3, 0, 2]


def test_logcumsumexp_forward_mode_mirrors_torchs_formula():
    """torch's tangent is cumsum(exp(a - m) t) / (cumsum(exp(a - m)) + 1e-13): biased where the
    prefix is small against the max (the true tangent of out_0 = a_0 is t_0 = 1, not 0.48), and
    it takes the max even of an empty slice, raising."""
    for lib in (torch, reference):
        fwad = lib.autograd.forward_ad
        with fwad.dual_level():
            x = fwad.make_dual(lib.tensor([-30.0, 0.0], dtype=lib.float64), lib.tensor([1.0, 0.0], dtype=lib.float64))
            tangent = fwad.unpack_dual(lib.logcumsumexp(x, 0)).tangent.tolist()
            assert tangent[0] == pytest.approx(1 / (1 + 1e-13 * np.exp(30)), rel=1e-12)
            empty = fwad.make_dual(lib.zeros((2, 0), dtype=lib.float64), lib.zeros((2, 0), dtype=lib.float64))
            with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
                lib.logcumsumexp(empty, 1)
        assert lib.logcumsumexp(lib.zeros((2, 0)), 1).shape == (2, 0)  # without forward mode: fine


@pytest.mark.parametrize("spec", [CATALOGUE[n] for n in ("kthvalue", "median_dim", "aminmax")], ids=lambda s: s.name)
def test_held_back_catalogue_entries_agree_with_torch_on_ties(spec):
    """kthvalue, median_dim, aminmax: values and gradients equal torch's on tie-rich draws
    (the engine gives torch's index at a tie)."""
    from hypothesis import HealthCheck, given, settings

    from gradcheck_suite.engines import get_engine
    from gradcheck_suite.oracles.torch_oracle import torch_oracle
    from gradcheck_suite.strategies import cases

    engine, oracle = get_engine("reference"), torch_oracle()

    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(cases(spec, "float64"))
    def check(case):
        e_in, e_out = engine.forward(spec, case.inputs, case.kwargs)
        t_in, t_out = oracle.forward(spec, case.inputs, case.kwargs)
        np.testing.assert_array_equal(engine.to_numpy(e_out), oracle.to_numpy(t_out))
        v = case.cotangent(oracle.to_numpy(t_out).shape)
        for eg, tg in zip(engine.vjp(e_in, e_out, v), oracle.vjp(t_in, t_out, v)):
            np.testing.assert_allclose(eg, tg, rtol=1e-12, atol=1e-12)

    check()


@pytest.mark.parametrize("name", ["sort", "topk", "cummax", "logcumsumexp", "nansum", "var_mean"])
def test_second_backward_without_retain_graph_fails_as_in_torch(name):
    for lib in (torch, reference):
        x = lib.tensor(DISTINCT.tolist(), dtype=lib.float64, requires_grad=True)
        out = _first(CASES[name](lib, x)).sum()
        out.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            out.backward()
