"""More of reference.nn.functional against torch.nn.functional: activations (mish ... prelu) and
elementwise losses (huber ... poisson_nll): values, node names, gradients, forward-mode
tangents and second derivatives, including the switch points where torch picks a value."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import reference

RNG = np.random.default_rng(2026)
X = RNG.uniform(-4.0, 4.0, (3, 4))
A, B = RNG.uniform(-2.0, 2.0, (3, 4)), RNG.uniform(-2.0, 2.0, (3, 4))
P, Q = RNG.uniform(0.05, 0.95, (3, 4)), RNG.uniform(0.05, 0.95, (3, 4))
W4 = np.array([0.2, -0.5, 1.5, 0.3])
SIGNS = np.sign(RNG.uniform(-1.0, 1.0, (3, 4)))

# (id, op(ns, nnf, *tensors), float inputs); every input requires grad
CASES = [
    ("mish", lambda ns, f, a: f.mish(a), [X]),
    ("selu", lambda ns, f, a: f.selu(a), [X]),
    ("celu", lambda ns, f, a: f.celu(a, 0.5), [X]),
    ("logsigmoid", lambda ns, f, a: f.logsigmoid(a), [X]),
    ("hardswish", lambda ns, f, a: f.hardswish(a), [X]),
    ("softshrink", lambda ns, f, a: f.softshrink(a, 0.7), [X]),
    ("hardshrink", lambda ns, f, a: f.hardshrink(a, 0.7), [X]),
    ("softsign", lambda ns, f, a: f.softsign(a), [X]),
    ("tanhshrink", lambda ns, f, a: f.tanhshrink(a), [X]),
    ("softmin", lambda ns, f, a: f.softmin(a, 0), [X]),
    ("glu", lambda ns, f, a: f.glu(a, -1), [X]),
    ("glu_dim0", lambda ns, f, a: f.glu(a[:2], 0), [X]),
    ("prelu_channels", lambda ns, f, x, w: f.prelu(x.reshape(3, 4, 1), w), [X, W4]),
    ("prelu_one", lambda ns, f, x, w: f.prelu(x, w), [X, W4[:1]]),
    ("prelu_0d_weight", lambda ns, f, x, w: f.prelu(x, w[0]), [X, W4]),
    ("prelu_1d_input", lambda ns, f, x, w: f.prelu(x[0], w), [X, W4[:1]]),
    ("huber_mean", lambda ns, f, a, b: f.huber_loss(a, b, delta=0.5), [A, B]),
    ("huber_none", lambda ns, f, a, b: f.huber_loss(a, b, reduction="none", delta=2.0), [A, B]),
    ("smooth_l1_sum", lambda ns, f, a, b: f.smooth_l1_loss(a, b, reduction="sum", beta=0.5), [A, B]),
    ("smooth_l1_beta0", lambda ns, f, a, b: f.smooth_l1_loss(a, b, beta=0.0), [A, B]),
    ("l1_mean", lambda ns, f, a, b: f.l1_loss(a, b), [A, B]),
    ("l1_none", lambda ns, f, a, b: f.l1_loss(a, b, reduction="none"), [A, B]),
    ("kl_batchmean", lambda ns, f, a, t: f.kl_div(a, t, reduction="batchmean"), [A, P]),
    ("kl_sum_log_target", lambda ns, f, a, t: f.kl_div(a, t, reduction="sum", log_target=True), [A, B]),
    ("kl_none", lambda ns, f, a, t: f.kl_div(a, t, reduction="none"), [A, P]),
    ("bce_mean", lambda ns, f, x, y: f.binary_cross_entropy(x, y), [P, Q]),
    (
        "bce_weight_none",
        lambda ns, f, x, y: f.binary_cross_entropy(x, y, ns.from_numpy(W4 + 1).to(x.dtype), reduction="none"),
        [P, Q],
    ),
    ("soft_margin", lambda ns, f, x: f.soft_margin_loss(x, ns.from_numpy(SIGNS).to(x.dtype)), [A]),
    (
        "margin_ranking_sum",
        lambda ns, f, a, b: f.margin_ranking_loss(a, b, ns.from_numpy(SIGNS), 0.5, reduction="sum"),
        [A, B],
    ),
    ("poisson_log_input", lambda ns, f, x, t: f.poisson_nll_loss(x, t), [A, P]),
    (
        "poisson_full",
        lambda ns, f, x, t: f.poisson_nll_loss(x, t * 3, log_input=False, full=True, reduction="sum"),
        [P, Q],
    ),
]
# second derivatives torch does not have
NO_DOUBLE = {"bce_mean", "bce_weight_none"}  # torch's double backward adds eps terms (~1e-12 relative)


def _run(ns, fn, arrays, dtype, create_graph=False):
    tensors = [ns.from_numpy(a.astype(dtype)).requires_grad_() for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(ns, ns.nn.functional, *tensors)
    v = ns.from_numpy(np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(dtype))
    grads = ns.autograd.grad(out, tensors, v, create_graph=create_graph)
    return tensors, out, grads


def _close(a, b, dtype):
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("name", "fn", "arrays"), CASES, ids=[c[0] for c in CASES])
def test_values_gradients_and_node_names(name, fn, arrays, dtype):
    _, t_out, t_grads = _run(torch, fn, arrays, dtype)
    _, r_out, r_grads = _run(reference, fn, arrays, dtype)
    assert type(r_out.grad_fn).__name__ == type(t_out.grad_fn).__name__
    assert r_out.dtype.itemsize == t_out.dtype.itemsize
    _close(r_out.detach().numpy(), t_out.detach().numpy(), dtype)
    for r, t in zip(r_grads, t_grads):
        _close(r.numpy(), t.numpy(), dtype)


@pytest.mark.parametrize(("name", "fn", "arrays"), CASES, ids=[c[0] for c in CASES])
def test_forward_mode_tangents(name, fn, arrays):
    tangents = [np.random.default_rng(9).standard_normal(a.shape) for a in arrays]
    results = []
    for ns in (torch, reference):
        with ns.autograd.forward_ad.dual_level():
            duals = [
                ns.autograd.forward_ad.make_dual(ns.from_numpy(a.copy()), ns.from_numpy(t))
                for a, t in zip(arrays, tangents)
            ]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn(ns, ns.nn.functional, *duals)
            results.append(np.asarray(ns.autograd.forward_ad.unpack_dual(out).tangent.numpy()))
    _close(results[1], results[0], np.float64)


def _numpy(t):
    return t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else t.numpy()


DOUBLE = [c for c in CASES if c[0] not in NO_DOUBLE]


@pytest.mark.parametrize(("name", "fn", "arrays"), DOUBLE, ids=[c[0] for c in DOUBLE])
def test_second_derivatives(name, fn, arrays):
    results = []
    for ns in (torch, reference):
        tensors, _, grads = _run(ns, fn, arrays, np.float64, create_graph=True)
        total = sum((g * g).sum() for g in grads)
        if not total.requires_grad:  # the engine's abs backward is not recorded (torch: a zero-derivative sgn)
            results.append([None] * len(tensors))
            continue
        hessian_vector = ns.autograd.grad(total, tensors, allow_unused=True)
        results.append([None if h is None else _numpy(h) for h in hessian_vector])
    for r, t in zip(*reversed(results)):
        if t is None or r is None:
            assert not np.any(t if r is None else r)
        else:
            _close(r, t, np.float64)


# values exactly at switch points: torch's value and one-sided choice
KINKS = [
    ("hardswish", lambda ns, f, a: f.hardswish(a), [-3.0, 3.0, 0.0]),  # slope 0 at -3, 1 at 3
    ("hardsigmoid", lambda ns, f, a: f.hardsigmoid(a), [-3.0, 3.0, 0.5]),  # slope 0 at both
    ("softshrink", lambda ns, f, a: f.softshrink(a, 0.5), [-0.5, 0.5, 0.0]),  # -0.0 at -lambd
    ("hardshrink", lambda ns, f, a: f.hardshrink(a, 0.5), [-0.5, 0.5, 0.0]),
    ("selu", lambda ns, f, a: f.selu(a), [0.0]),  # the negative side's slope, second derivative 0
    ("celu", lambda ns, f, a: f.celu(a, 2.0), [0.0]),
    ("softsign", lambda ns, f, a: f.softsign(a), [0.0, -0.0]),
    ("prelu", lambda ns, f, a: f.prelu(a, ns.tensor([0.25], dtype=ns.float64)), [0.0, -1.0, 2.0]),
    ("huber_at_delta", lambda ns, f, a: f.huber_loss(a, ns.zeros(3, dtype=ns.float64), delta=0.5), [0.5, -0.5, 0.2]),
    (
        "smooth_l1_at_beta",
        lambda ns, f, a: f.smooth_l1_loss(a, ns.zeros(3, dtype=ns.float64), beta=0.5),
        [0.5, -0.5, 0.2],
    ),
    (
        "margin_ranking_at_the_hinge",  # clamp_min passes the gradient where the loss is exactly 0
        lambda ns, f, a: f.margin_ranking_loss(a, ns.zeros(3, dtype=ns.float64), ns.ones(3, dtype=ns.float64), 0.0),
        [0.0, 1.0, -1.0],
    ),
    ("l1_at_zero", lambda ns, f, a: f.l1_loss(a, ns.zeros(3, dtype=ns.float64)), [0.0, 1.0, -1.0]),
]


@pytest.mark.parametrize(("name", "fn", "values"), KINKS, ids=[k[0] for k in KINKS])
def test_values_at_switch_points_follow_torch(name, fn, values):
    observed = []
    for ns in (torch, reference):
        x = ns.tensor(values, dtype=ns.float64, requires_grad=True)
        out = fn(ns, ns.nn.functional, x)
        (g,) = ns.autograd.grad(out.sum(), x, create_graph=True)
        second = None
        if name != "hardsigmoid" and g.requires_grad:
            (second,) = ns.autograd.grad(g.sum(), x, allow_unused=True)
        observed.append((out.detach().numpy(), g.detach().numpy(), None if second is None else _numpy(second)))
    (t_out, t_g, t_h), (r_out, r_g, r_h) = observed
    np.testing.assert_array_equal(r_out, t_out)
    np.testing.assert_array_equal(np.signbit(r_out), np.signbit(t_out))  # -0.0 where torch gives it
    np.testing.assert_array_equal(r_g, t_g)
    if t_h is not None and r_h is not None:
        np.testing.assert_allclose(r_h, t_h, rtol=1e-14, atol=0)
    elif name != "hardsigmoid":
        assert not np.any(t_h if r_h is None else r_h)


def test_hardsigmoid_has_no_double_backward_and_a_float32_sixth():
    x = reference.tensor([0.3, -1.0], dtype=reference.float64, requires_grad=True)
    (g,) = reference.autograd.grad(reference.nn.functional.hardsigmoid(x).sum(), x, create_graph=True)
    # torch multiplies by 1/6 rounded to float32, for float64 too
    np.testing.assert_array_equal(g.detach().numpy(), [float(np.float32(1 / 6))] * 2)
    tx = torch.tensor([0.3, -1.0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.hardsigmoid(tx).sum(), tx, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), tg.detach().numpy())
    with pytest.raises(RuntimeError, match="derivative for aten::hardsigmoid_backward is not implemented"):
        reference.autograd.grad(g.sum(), x)


def test_prelu_views_the_weight_only_where_ranks_differ():
    for ns in (torch, reference):
        w = ns.tensor([0.25], dtype=ns.float64, requires_grad=True)
        nodes = [
            type(ns.nn.functional.prelu(ns.ones(*shape, dtype=ns.float64), w).grad_fn.next_functions[1][0]).__name__
            for shape in ((2, 3), (3,))
        ]
        assert nodes == ["ViewBackward0", "AccumulateGrad"]


@pytest.mark.parametrize("ns", [torch, reference], ids=["torch", "reference"])
def test_errors(ns):
    f = ns.nn.functional
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        f.glu(ns.ones(3, dtype=ns.float64), 0)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        f.prelu(ns.ones(2, 3, dtype=ns.float64), ns.ones(2, dtype=ns.float64))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        f.binary_cross_entropy(ns.tensor([1.5], dtype=ns.float64), ns.tensor([0.5], dtype=ns.float64))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
        f.soft_margin_loss(ns.ones(2, dtype=ns.float64), ns.ones(2, dtype=ns.float64, requires_grad=True))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        f.kl_div(ns.zeros(2, dtype=ns.float64), ns.ones(2, dtype=ns.float64))


def test_kl_div_batchmean_divides_by_the_batch_and_xlogy_target_gradient():
    for ns in (torch, reference):
        x = ns.from_numpy(A.copy()).requires_grad_()
        t = ns.from_numpy(P.copy()).requires_grad_()
        out = ns.nn.functional.kl_div(x, t, reduction="batchmean")
        expected = (P * np.log(P) - P * A).sum() / 3
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-13)
        (gt,) = ns.autograd.grad(out, t)
        np.testing.assert_allclose(gt.numpy(), (np.log(P) + 1 - A) / 3, rtol=1e-12)


# -- cross_entropy: class probabilities, label smoothing -------------------------------------------

TARGETS = np.array([0, 3, 1])
CLASS_W = np.array([0.5, 1.5, 1.0, 2.0])


def _graph_names(out):
    """Every node of the graph, breadth first (names only)."""
    names, queue = [], [out.grad_fn]
    while queue:
        node = queue.pop(0)
        names.append(type(node).__name__)
        queue += [n for n, _ in node.next_functions if n is not None]
    return names


CE_CASES = [
    ("probs_mean", lambda ns, f, x, p: f.cross_entropy(x, p), [A, P]),
    ("probs_sum_smoothed", lambda ns, f, x, p: f.cross_entropy(x, p, reduction="sum", label_smoothing=0.2), [A, P]),
    (
        "probs_none_weight",
        lambda ns, f, x, p: f.cross_entropy(x, p, ns.from_numpy(CLASS_W), reduction="none", label_smoothing=0.1),
        [A, P],
    ),
    ("probs_1d", lambda ns, f, x, p: f.cross_entropy(x[0], p[0], label_smoothing=0.3), [A, P]),
    ("smoothed_mean", lambda ns, f, x: f.cross_entropy(x, ns.from_numpy(TARGETS), label_smoothing=0.2), [A]),
    (
        "smoothed_mean_weight_ignore",
        lambda ns, f, x: f.cross_entropy(
            x, ns.from_numpy(TARGETS), ns.from_numpy(CLASS_W), ignore_index=3, label_smoothing=0.25
        ),
        [A],
    ),
    (
        "smoothed_none_ignore",
        lambda ns, f, x: f.cross_entropy(
            x, ns.from_numpy(TARGETS), ignore_index=0, reduction="none", label_smoothing=1.0
        ),
        [A],
    ),
    (
        "smoothed_spatial_sum",
        lambda ns, f, x: f.cross_entropy(
            x.reshape(3, 2, 2), ns.from_numpy(np.array([[0, 1], [1, 1], [0, 0]])), reduction="sum", label_smoothing=0.4
        ),
        [A],
    ),
]


@pytest.mark.parametrize(("name", "fn", "arrays"), CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_composites_record_torchs_graph(name, fn, arrays):
    outs = []
    for ns in (torch, reference):
        tensors, out, grads = _run(ns, fn, arrays, np.float64, create_graph=True)
        total = sum((g * g).sum() for g in grads)
        hvp = ns.autograd.grad(total, tensors)
        outs.append(
            (_graph_names(out), out.detach().numpy(), [g.detach().numpy() for g in grads], [_numpy(h) for h in hvp])
        )
    (t_names, t_out, t_g, t_h), (r_names, r_out, r_g, r_h) = outs
    assert r_names == t_names
    _close(r_out, t_out, np.float64)
    for r, t in zip(r_g + r_h, t_g + t_h):
        _close(r, t, np.float64)


def test_cross_entropy_probability_targets_formula():
    x = reference.from_numpy(A.copy()).requires_grad_()
    p = reference.from_numpy(P.copy())
    out = reference.nn.functional.cross_entropy(x, p, label_smoothing=0.2)
    logp = A - np.log(np.exp(A).sum(1, keepdims=True))
    smoothed = P * 0.8 + 0.2 / 4
    np.testing.assert_allclose(out.detach().numpy(), -(logp * smoothed).sum() / 3, rtol=1e-13)


# -- embedding with max_norm -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("max_norm", "norm_type"), [(1.0, 2.0), (2.0, 1.0), (1.5, 3.0), (1.0, float("inf"))])
def test_embedding_max_norm_renormalises_rows_in_place_like_torch(max_norm, norm_type, dtype):
    weight = np.array([[3.0, 4.0], [0.3, 0.4], [1.0, 1.0], [6.0, 8.0], [-2.0, 0.5]])
    index = np.array([[0, 1], [4, 2]])
    seen = []
    for ns in (torch, reference):
        w = ns.from_numpy(weight.astype(dtype)).requires_grad_()
        version = w._version
        out = ns.nn.functional.embedding(ns.from_numpy(index), w, max_norm=max_norm, norm_type=norm_type)
        (g,) = ns.autograd.grad(out, w, ns.from_numpy(np.arange(8.0, dtype=dtype).reshape(2, 2, 2)))
        seen.append((w.detach().numpy().copy(), out.detach().numpy(), g.numpy(), w._version - version))
        assert type(out.grad_fn).__name__ == "EmbeddingBackward0"
    (tw, to, tg, tv), (rw, ro, rg, rv) = seen
    np.testing.assert_array_equal(rw, tw)  # the same rows scaled, bit for bit
    np.testing.assert_array_equal(ro, to)
    np.testing.assert_array_equal(rg, tg)  # the plain scatter: renormalisation is outside autograd
    assert rv == tv == 1
    np.testing.assert_array_equal(rw[3], weight[3].astype(dtype))  # a row not read is left alone


def test_embedding_max_norm_bumps_the_version_for_an_empty_index():
    for ns in (torch, reference):
        w = ns.ones(3, 2, requires_grad=True)
        version = w._version
        ns.nn.functional.embedding(ns.from_numpy(np.zeros(0, dtype=np.int64)), w, max_norm=0.5)
        assert w._version - version == 1


# -- softplus at its threshold --------------------------------------------------------------------


@pytest.mark.parametrize(("beta", "threshold"), [(2.0, 5.0), (1.0, -1.0), (0.5, 1.125)])
def test_softplus_at_and_around_the_threshold(beta, threshold):
    switch = threshold / beta
    values = [switch, np.nextafter(switch, np.inf), np.nextafter(switch, -np.inf), switch + 0.5]
    observed = []
    for ns in (torch, reference):
        x = ns.tensor(values, dtype=ns.float64, requires_grad=True)
        out = ns.nn.functional.softplus(x, beta, threshold)
        (g,) = ns.autograd.grad(out.sum(), x, create_graph=True)
        (h,) = ns.autograd.grad(g.sum(), x)
        observed.append((out.detach().numpy(), g.detach().numpy(), h.numpy()))
    for r, t in zip(observed[1], observed[0]):
        np.testing.assert_allclose(r, t, rtol=1e-15, atol=0)
    assert observed[0][0][0] != values[0]  # at the switch itself torch takes the log1p branch


# -- distances ---------------------------------------------------------------------------------------

DISTANCE_CASES = [
    ("normalize_p2", lambda ns, f, a: f.normalize(a, 2.0, 1), [A]),
    ("normalize_p1_dim0", lambda ns, f, a: f.normalize(a, 1.0, 0), [A]),
    ("normalize_clamped", lambda ns, f, a: f.normalize(a * 0.1, 3.0, -1, eps=0.25), [A]),
    ("cosine", lambda ns, f, a, b: f.cosine_similarity(a, b), [A, B]),
    ("cosine_broadcast_dim0", lambda ns, f, a, b: f.cosine_similarity(a[:1], b, 0), [A, B]),
    ("pairwise_p2", lambda ns, f, a, b: f.pairwise_distance(a, b), [A, B]),
    ("pairwise_p3_keepdim", lambda ns, f, a, b: f.pairwise_distance(a, b, 3.0, keepdim=True), [A, B]),
    ("pairwise_1d", lambda ns, f, a, b: f.pairwise_distance(a[0], b[0], 2.0, eps=0.1), [A, B]),
]


@pytest.mark.parametrize(("name", "fn", "arrays"), DISTANCE_CASES, ids=[c[0] for c in DISTANCE_CASES])
def test_distances_record_torchs_graph(name, fn, arrays):
    outs = []
    for ns in (torch, reference):
        tensors, out, grads = _run(ns, fn, arrays, np.float64, create_graph=True)
        total = sum((g * g).sum() for g in grads)
        hvp = ns.autograd.grad(total, tensors)
        outs.append(
            (_graph_names(out), out.detach().numpy(), [g.detach().numpy() for g in grads], [_numpy(h) for h in hvp])
        )
    (t_names, t_out, t_g, t_h), (r_names, r_out, r_g, r_h) = outs
    assert r_names == t_names
    _close(r_out, t_out, np.float64)
    for r, t in zip(r_g + r_h, t_g + t_h):
        _close(r, t, np.float64)


def test_cosine_similarity_gradient_follows_the_unclamped_norm_below_eps():
    # torch clamps the norms in place under no_grad: below eps the value uses eps but the
    # gradient still goes through the norm (not the derivative of the clamped formula)
    tiny = np.array([[1e-3, 2e-3]])
    other = np.array([[0.5, -1.0]])
    grads = []
    for ns in (torch, reference):
        x = ns.from_numpy(tiny.copy()).requires_grad_()
        out = ns.nn.functional.cosine_similarity(x, ns.from_numpy(other), eps=0.1)
        (g,) = ns.autograd.grad(out.sum(), x)
        grads.append(g.numpy())
        np.testing.assert_allclose(out.detach().numpy(), (tiny / 0.1 * other / np.linalg.norm(other)).sum(1))
    _close(grads[1], grads[0], np.float64)
    clamped_formula = other / np.linalg.norm(other) / 0.1
    assert not np.allclose(grads[1], clamped_formula)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "soft_margin_loss", "kl_div"])
@pytest.mark.parametrize("legacy", [("mean",), (False,), (None, False)], ids=["positional", "size_average", "reduce"])
def test_legacy_reduction_arguments_warn_as_torch_does(loss, legacy):
    """A reduction passed in size_average's place (a semantics program found it) warns in torch."""
    import warnings

    import torch

    import reference

    def warned(ns):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(ns.nn.functional, loss)(ns.tensor([0.5, -1.0]), ns.tensor([1.0, 0.5]), *legacy)
        return [str(w.message) for w in caught], float(out.sum())

    assert warned(reference) == warned(torch)
