"""reference.nn.functional against torch.nn.functional: values, gradients, node names, forward-mode
tangents, second derivatives, values at kinks and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import reference
from reference.creation import default_generator

RNG = np.random.default_rng(1234)


def _arr(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape)


X35 = _arr(3, 5)
IMG = _arr(2, 4, 6, 5)
TARGET = np.array([1, 0, 4])
PW = RNG.uniform(0.5, 2.0, 5)
CLASS_W = RNG.uniform(0.5, 2.0, 5)

# (id, op(ns, nnf, *tensors), float inputs). Every input requires grad.
CASES = [
    ("relu", lambda ns, nnf, a: nnf.relu(a), [X35]),
    ("leaky_relu", lambda ns, nnf, a: nnf.leaky_relu(a, 0.2), [X35]),
    ("hardtanh", lambda ns, nnf, a: nnf.hardtanh(a, -0.5, 1.5), [X35]),
    ("relu6", lambda ns, nnf, a: nnf.relu6(a * 4), [X35]),
    ("elu", lambda ns, nnf, a: nnf.elu(a, 1.5), [X35]),
    ("gelu", lambda ns, nnf, a: nnf.gelu(a), [X35]),
    ("gelu_tanh", lambda ns, nnf, a: nnf.gelu(a, approximate="tanh"), [X35]),
    ("silu", lambda ns, nnf, a: nnf.silu(a), [X35]),
    ("softplus", lambda ns, nnf, a: nnf.softplus(a, beta=2.0, threshold=1.0), [X35]),
    ("linear_2d", lambda ns, nnf, x, w, b: nnf.linear(x, w, b), [X35, _arr(4, 5), _arr(4)]),
    ("linear_1d", lambda ns, nnf, x, w, b: nnf.linear(x, w, b), [_arr(5), _arr(4, 5), _arr(4)]),
    ("linear_3d", lambda ns, nnf, x, w, b: nnf.linear(x, w, b), [_arr(2, 3, 5), _arr(4, 5), _arr(4)]),
    ("linear_4d", lambda ns, nnf, x, w, b: nnf.linear(x, w, b), [_arr(2, 1, 3, 5), _arr(4, 5), _arr(4)]),
    ("linear_nobias", lambda ns, nnf, x, w: nnf.linear(x, w), [_arr(2, 3, 5), _arr(4, 5)]),
    ("linear_bias_2d", lambda ns, nnf, x, w, b: nnf.linear(x, w, b), [_arr(2, 3, 5), _arr(4, 5), _arr(3, 4)]),
    (
        "linear_transposed",
        lambda ns, nnf, x, w, b: nnf.linear(x.transpose(0, 1), w, b),
        [_arr(3, 2, 5), _arr(4, 5), _arr(4)],
    ),
    ("mse_mean", lambda ns, nnf, a, b: nnf.mse_loss(a, b), [X35, _arr(3, 5)]),
    ("mse_sum", lambda ns, nnf, a, b: nnf.mse_loss(a, b, reduction="sum"), [X35, _arr(3, 5)]),
    ("mse_none", lambda ns, nnf, a, b: nnf.mse_loss(a, b, reduction="none"), [X35, _arr(3, 5)]),
    ("nll_mean", lambda ns, nnf, a: nnf.nll_loss(a, ns.from_numpy(TARGET)), [X35]),
    (
        "nll_sum_ignore",
        lambda ns, nnf, a: nnf.nll_loss(a, ns.from_numpy(TARGET), ignore_index=0, reduction="sum"),
        [X35],
    ),
    ("nll_none", lambda ns, nnf, a: nnf.nll_loss(a, ns.from_numpy(TARGET), reduction="none"), [X35]),
    (
        "nll_weight",
        lambda ns, nnf, a: nnf.nll_loss(
            a, ns.from_numpy(TARGET), weight=ns.from_numpy(CLASS_W).to(a.dtype), ignore_index=4
        ),
        [X35],
    ),
    ("nll_1d", lambda ns, nnf, a: nnf.nll_loss(a, ns.tensor(3)), [_arr(5)]),
    (
        "nll_3d",
        lambda ns, nnf, a: nnf.nll_loss(a, ns.from_numpy(np.array([[0, 2], [1, 1]])), reduction="none"),
        [_arr(2, 3, 2)],
    ),
    ("nll_4d", lambda ns, nnf, a: nnf.nll_loss(a, ns.from_numpy(np.array([[[0, 2]], [[1, 1]]]))), [_arr(2, 3, 1, 2)]),
    ("cross_entropy", lambda ns, nnf, a: nnf.cross_entropy(a, ns.from_numpy(TARGET)), [X35]),
    ("cross_entropy_none", lambda ns, nnf, a: nnf.cross_entropy(a, ns.from_numpy(TARGET), reduction="none"), [X35]),
    ("cross_entropy_1d", lambda ns, nnf, a: nnf.cross_entropy(a, ns.tensor(2)), [_arr(5)]),
    (
        "cross_entropy_weight_ignore",
        lambda ns, nnf, a: nnf.cross_entropy(
            a, ns.from_numpy(TARGET), weight=ns.from_numpy(CLASS_W).to(a.dtype), ignore_index=1
        ),
        [X35],
    ),
    ("bce_logits", lambda ns, nnf, a, y: nnf.binary_cross_entropy_with_logits(a, y), [X35, _arr(3, 5, low=0, high=1)]),
    (
        "bce_logits_weights",
        lambda ns, nnf, a, y: nnf.binary_cross_entropy_with_logits(
            a, y, ns.from_numpy(CLASS_W).to(a.dtype), reduction="none", pos_weight=ns.from_numpy(PW).to(a.dtype)
        ),
        [X35, _arr(3, 5, low=0, high=1)],
    ),
    (
        "bce_logits_pos_weight_sum",
        lambda ns, nnf, a, y: nnf.binary_cross_entropy_with_logits(a, y, reduction="sum", pos_weight=ns.from_numpy(PW)),
        [X35, _arr(3, 5, low=0, high=1)],
    ),
    ("layer_norm", lambda ns, nnf, x, w, b: nnf.layer_norm(x, (5,), w, b), [X35, _arr(5), _arr(5)]),
    ("layer_norm_2dims", lambda ns, nnf, x: nnf.layer_norm(x, (3, 5), eps=0.1), [_arr(2, 3, 5)]),
    ("layer_norm_weight_only", lambda ns, nnf, x, w: nnf.layer_norm(x, (5,), w), [X35, _arr(5)]),
    ("conv2d", lambda ns, nnf, x, w, b: nnf.conv2d(x, w, b), [IMG, _arr(3, 4, 3, 3), _arr(3)]),
    (
        "conv2d_strided_grouped",
        lambda ns, nnf, x, w, b: nnf.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
        [IMG, _arr(6, 2, 3, 2), _arr(6)],
    ),
    ("conv2d_same_even_kernel", lambda ns, nnf, x, w: nnf.conv2d(x, w, padding="same"), [IMG, _arr(2, 4, 2, 3)]),
    ("conv2d_same_unbatched", lambda ns, nnf, x, w: nnf.conv2d(x, w, padding="same"), [IMG[0], _arr(2, 4, 3, 3)]),
    ("conv2d_valid_nobias", lambda ns, nnf, x, w: nnf.conv2d(x, w, padding="valid", stride=2), [IMG, _arr(2, 4, 2, 2)]),
    ("max_pool2d", lambda ns, nnf, x: nnf.max_pool2d(x, 2), [IMG]),
    ("max_pool2d_padded", lambda ns, nnf, x: nnf.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [IMG]),
    ("max_pool2d_dilated", lambda ns, nnf, x: nnf.max_pool2d(x, (2, 3), stride=1, dilation=2), [IMG[0]]),
    ("avg_pool2d", lambda ns, nnf, x: nnf.avg_pool2d(x, 2), [IMG]),
    ("avg_pool2d_padded", lambda ns, nnf, x: nnf.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [IMG]),
    (
        "avg_pool2d_exclude_pad",
        lambda ns, nnf, x: nnf.avg_pool2d(x, (2, 3), stride=(2, 1), padding=1, ceil_mode=True, count_include_pad=False),
        [IMG[0]],
    ),
    ("avg_pool2d_divisor", lambda ns, nnf, x: nnf.avg_pool2d(x, 2, stride=1, divisor_override=3), [IMG]),
    ("embedding", lambda ns, nnf, w: nnf.embedding(ns.from_numpy(np.array([[1, 2], [3, 3], [0, 1]])), w), [_arr(6, 3)]),
    (
        "embedding_padding",
        lambda ns, nnf, w: nnf.embedding(ns.from_numpy(np.array([[1, 2], [3, 3], [5, 1]])), w, padding_idx=-1),
        [_arr(6, 3)],
    ),
]
IDS = [c[0] for c in CASES]
RTOL = {"float32": 2e-5, "float64": 1e-10}


def _inputs(ns, arrays, dtype):
    return [ns.from_numpy(a.astype(dtype)).requires_grad_(True) for a in arrays]


def _cotangent(shape, dtype):
    return np.random.default_rng(len(shape) + 7 * int(np.prod(shape))).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "fn", "arrays"), CASES, ids=IDS)
def test_values_gradients_and_node_names(both, name, fn, arrays, dtype):
    def program(ns):
        xs = _inputs(ns, arrays, dtype)
        y = fn(ns, ns.nn.functional, *xs)
        v = ns.from_numpy(_cotangent(tuple(y.shape), dtype))
        grads = ns.autograd.grad(y, xs, v, allow_unused=True)
        return {"output": y, "grads": list(grads)}

    both(program, rtol=RTOL[dtype])


@pytest.mark.parametrize(("name", "fn", "arrays"), CASES, ids=IDS)
def test_forward_mode_tangents(both, name, fn, arrays):
    tangents = [np.random.default_rng(i).standard_normal(a.shape) for i, a in enumerate(arrays)]

    def program(ns):
        fwd = ns.autograd.forward_ad
        with fwd.dual_level():
            xs = [fwd.make_dual(ns.from_numpy(a.copy()), ns.from_numpy(t)) for a, t in zip(arrays, tangents)]
            y = fn(ns, ns.nn.functional, *xs)
            return fwd.unpack_dual(y).tangent.numpy().copy()

    both(program, rtol=1e-10)


@pytest.mark.parametrize(("name", "fn", "arrays"), CASES, ids=IDS)
def test_second_derivatives(both, name, fn, arrays):
    """grad of <w, grad> (w random): values, and which first-order gradients require grad."""

    def program(ns):
        xs = _inputs(ns, arrays, "float64")
        y = fn(ns, ns.nn.functional, *xs)
        v = ns.from_numpy(_cotangent(tuple(y.shape), "float64"))
        grads = ns.autograd.grad(y, xs, v, create_graph=True, allow_unused=True)
        flags = [g is not None and g.requires_grad for g in grads]
        terms = [(g * ns.from_numpy(_cotangent(tuple(g.shape), "float64"))).sum() for g, f in zip(grads, flags) if f]
        if not terms:
            return {"requires_grad": flags}
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        second = ns.autograd.grad(total, xs, allow_unused=True)
        return {"requires_grad": flags, "second": [None if s is None else s.numpy().copy() for s in second]}

    both(program, rtol=1e-9)


# -- values at kinks ------------------------------------------------------------------------------

KINKS = [
    ("relu_at_0", lambda nnf, x: nnf.relu(x), [-1.0, 0.0, -0.0, 2.0]),
    ("leaky_relu_at_0", lambda nnf, x: nnf.leaky_relu(x, 0.3), [-1.0, 0.0, 2.0]),
    ("leaky_relu_negative_slope", lambda nnf, x: nnf.leaky_relu(x, -0.5), [-1.0, 0.0, 2.0]),
    ("hardtanh_at_bounds", lambda nnf, x: nnf.hardtanh(x, -1.0, 0.5), [-1.0, 0.5, 0.0, 2.0]),
    ("elu_at_0", lambda nnf, x: nnf.elu(x, 2.0), [-1.0, 0.0, 1.0]),
    ("softplus_at_threshold", lambda nnf, x: nnf.softplus(x, beta=2.0, threshold=2.0), [0.5, 1.0, 1.5]),
    ("relu_nan", lambda nnf, x: nnf.relu(x), [float("nan"), 1.0]),
    ("hardtanh_nan", lambda nnf, x: nnf.hardtanh(x), [float("nan"), 1.0]),
]


@pytest.mark.parametrize(("name", "fn", "values"), KINKS, ids=[k[0] for k in KINKS])
def test_gradients_at_kinks_follow_torch(both, name, fn, values):
    def program(ns):
        x = ns.tensor(values, dtype=ns.float64, requires_grad=True)
        y = fn(ns.nn.functional, x)
        (g,) = ns.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = ns.autograd.grad(g.sum(), x)
        return {"y": y, "grad": g.detach().numpy().copy(), "second": gg}

    both(program)


def test_max_pool_ties_go_to_the_first_maximum(both):
    def program(ns):
        x = ns.zeros(1, 1, 3, 4, dtype=ns.float64, requires_grad=True)
        y, indices = ns.nn.functional.max_pool2d(x, 2, stride=1, return_indices=True)
        y.sum().backward()
        return {"y": y, "indices": indices, "grad": x.grad}

    both(program)


def test_max_pool_return_indices_with_padding(both):
    def program(ns):
        x = ns.from_numpy(np.arange(20.0).reshape(1, 4, 5)[:, ::-1].copy()).requires_grad_()
        return list(ns.nn.functional.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True))

    both(program)


def test_embedding_duplicates_accumulate_and_padding_row_gets_nothing(both):
    def program(ns):
        w = ns.from_numpy(np.arange(12.0).reshape(4, 3)).requires_grad_()
        idx = ns.from_numpy(np.array([[2, 2, 0], [2, 1, 1]]))
        (ns.nn.functional.embedding(idx, w, padding_idx=1) * 3).sum().backward()
        return w.grad

    both(program)


def test_cross_entropy_records_log_softmax_then_nll(both):
    def program(ns):
        x = ns.from_numpy(X35.copy()).requires_grad_()
        y = ns.nn.functional.cross_entropy(x, ns.from_numpy(TARGET))
        return [y.grad_fn, y.grad_fn.next_functions[0][0]]

    both(program)


def test_nll_loss_with_every_target_ignored(both):
    def program(ns):
        x = ns.from_numpy(X35.copy()).requires_grad_()
        y = ns.nn.functional.nll_loss(x, ns.from_numpy(np.array([-100, -100, -100])))
        y.backward()
        return {"y": y, "grad": x.grad}

    both(program)


def test_mse_loss_broadcasts_with_a_warning(both):
    def program(ns):
        a = ns.from_numpy(_arr(3, 1) * 0 + 1).requires_grad_()
        b = ns.from_numpy(np.arange(4.0)).requires_grad_()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = ns.nn.functional.mse_loss(a, b)
        y.backward()
        return {"y": y, "a": a.grad, "b": b.grad, "warned": [str(w.message) for w in caught]}

    both(program)


# -- dropout --------------------------------------------------------------------------------------


def test_dropout_identity_cases_return_the_input_itself(both):
    def program(ns):
        x = ns.ones(4, requires_grad=True)
        nnf = ns.nn.functional
        return [nnf.dropout(x, 0.0) is x, nnf.dropout(x, 0.5, training=False) is x, nnf.dropout(x, 1.0)]

    both(program)


def test_dropout_records_a_mul_and_scales_kept_elements():
    reference.manual_seed(7)
    x = reference.ones(2000, dtype=reference.float64, requires_grad=True)
    y = reference.nn.functional.dropout(x, 0.25)
    assert type(y.grad_fn).__name__ == "MulBackward0"  # torch's CPU dropout: input * noise
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75)
    assert 0.70 < kept.mean() < 0.80
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_dropout_mask_follows_the_documented_generator():
    reference.manual_seed(99)
    x = reference.from_numpy(np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4))
    y = reference.nn.functional.dropout(x, 0.4)
    keep = np.random.Generator(np.random.PCG64(99)).random((3, 4)) < 0.6
    expected = x.numpy() * (keep.astype(np.float32) / np.float32(0.6))
    np.testing.assert_array_equal(y.numpy(), expected)
    assert default_generator.initial_seed() == 99


def test_dropout_is_reproducible_under_manual_seed():
    x = reference.ones(50)
    reference.manual_seed(3)
    a = reference.nn.functional.dropout(x, 0.5).numpy().copy()
    reference.manual_seed(3)
    b = reference.nn.functional.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)


# -- error messages ----------------------------------------------------------------------------------


def _t(ns, *shape, dtype=None):
    return ns.zeros(shape, dtype=dtype or ns.float32)


def _long(ns, values):
    return ns.tensor(values)


ERRORS = [
    ("linear_mismatch", lambda ns, nnf: nnf.linear(_t(ns, 2, 4), _t(ns, 3, 5))),
    ("linear_bias_mismatch", lambda ns, nnf: nnf.linear(_t(ns, 2, 4), _t(ns, 3, 4), _t(ns, 4))),
    ("linear_0d", lambda ns, nnf: nnf.linear(_t(ns), _t(ns, 3, 5), _t(ns, 3))),
    (
        "linear_dtype",
        lambda ns, nnf: nnf.linear(_t(ns, 2, 4), _t(ns, 3, 4, dtype=ns.float64), _t(ns, 3, dtype=ns.float64)),
    ),
    ("linear_1d_weight_bias", lambda ns, nnf: nnf.linear(_t(ns, 2, 4), _t(ns, 4), _t(ns))),
    ("mse_shapes", lambda ns, nnf: nnf.mse_loss(_t(ns, 3), _t(ns, 4))),
    ("mse_reduction", lambda ns, nnf: nnf.mse_loss(_t(ns, 3), _t(ns, 3), reduction="avg")),
    ("nll_batch", lambda ns, nnf: nnf.nll_loss(_t(ns, 3, 5), _long(ns, [1, 2]))),
    ("nll_out_of_bounds", lambda ns, nnf: nnf.nll_loss(_t(ns, 3, 5), _long(ns, [1, 2, 7]))),
    ("nll_negative", lambda ns, nnf: nnf.nll_loss(_t(ns, 3, 5), _long(ns, [1, 2, -3]))),
    ("nll_float_target", lambda ns, nnf: nnf.nll_loss(_t(ns, 3, 5), _t(ns, 3))),
    ("nll_0d", lambda ns, nnf: nnf.nll_loss(_t(ns), _long(ns, 2))),
    ("nll_spatial_target", lambda ns, nnf: nnf.nll_loss(_t(ns, 3, 5, 2), _long(ns, [1, 2, 0]))),
    ("nll_weight_shape", lambda ns, nnf: nnf.nll_loss(_t(ns, 3, 5), _long(ns, [1, 2, 0]), weight=_t(ns, 4))),
    (
        "nll_weight_requires_grad",
        lambda ns, nnf: nnf.nll_loss(_t(ns, 3, 5), _long(ns, [1, 2, 0]), weight=ns.ones(5, requires_grad=True)),
    ),
    (
        "nll_weight_dtype",
        lambda ns, nnf: nnf.nll_loss(_t(ns, 3, 5), _long(ns, [1, 2, 0]), weight=_t(ns, 5, dtype=ns.float64)),
    ),
    ("layer_norm_mixed_dtype", lambda ns, nnf: nnf.layer_norm(_t(ns, 3, 5), (5,), _t(ns, 5, dtype=ns.float64))),
    ("cross_entropy_out_of_bounds", lambda ns, nnf: nnf.cross_entropy(_t(ns, 3, 5), _long(ns, [1, 2, 7]))),
    ("bce_shapes", lambda ns, nnf: nnf.binary_cross_entropy_with_logits(_t(ns, 3, 1), _t(ns, 3))),
    (
        "bce_pos_weight_requires_grad",
        lambda ns, nnf: nnf.binary_cross_entropy_with_logits(
            _t(ns, 3), _t(ns, 3), pos_weight=ns.ones(3, requires_grad=True)
        ),
    ),
    ("layer_norm_shape", lambda ns, nnf: nnf.layer_norm(_t(ns, 3, 5), (4,))),
    ("layer_norm_weight", lambda ns, nnf: nnf.layer_norm(_t(ns, 3, 5), (5,), _t(ns, 4))),
    ("layer_norm_int", lambda ns, nnf: nnf.layer_norm(_t(ns, 3, 5), 5)),
    ("layer_norm_empty", lambda ns, nnf: nnf.layer_norm(_t(ns, 3, 5), ())),
    ("embedding_float_indices", lambda ns, nnf: nnf.embedding(_t(ns, 2), _t(ns, 5, 3))),
    ("embedding_out_of_range", lambda ns, nnf: nnf.embedding(_long(ns, [1, 7]), _t(ns, 5, 3))),
    ("embedding_weight_1d", lambda ns, nnf: nnf.embedding(_long(ns, [1]), _t(ns, 5))),
    ("embedding_padding_idx", lambda ns, nnf: nnf.embedding(_long(ns, [1]), _t(ns, 5, 3), padding_idx=5)),
    ("conv_input_2d", lambda ns, nnf: nnf.conv2d(_t(ns, 6, 6), _t(ns, 4, 3, 3, 3))),
    ("conv_channels", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 2, 6, 6), _t(ns, 4, 3, 3, 3))),
    ("conv_groups_channels", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 4, 6, 6), _t(ns, 4, 3, 3, 3), groups=2)),
    ("conv_groups_out", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 4, 6, 6), _t(ns, 3, 2, 3, 3), groups=2)),
    ("conv_kernel_too_big", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 2, 2), _t(ns, 4, 3, 3, 3))),
    ("conv_bias", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 6, 6), _t(ns, 4, 3, 3, 3), _t(ns, 3))),
    ("conv_stride_0", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 6, 6), _t(ns, 4, 3, 3, 3), stride=0)),
    ("conv_negative_padding", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 6, 6), _t(ns, 4, 3, 3, 3), padding=-1)),
    ("conv_same_strided", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 6, 6), _t(ns, 4, 3, 3, 3), padding="same", stride=2)),
    ("conv_padding_string", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 6, 6), _t(ns, 4, 3, 3, 3), padding="foo")),
    ("conv_dtype", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 6, 6), _t(ns, 4, 3, 3, 3, dtype=ns.float64))),
    (
        "conv_bias_dtype",
        lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 6, 6), _t(ns, 4, 3, 3, 3), _t(ns, 4, dtype=ns.float64)),
    ),
    ("conv_stride_3", lambda ns, nnf: nnf.conv2d(_t(ns, 1, 3, 6, 6), _t(ns, 4, 3, 3, 3), stride=(1, 1, 1))),
    ("max_pool_too_small", lambda ns, nnf: nnf.max_pool2d(_t(ns, 1, 3, 2, 2), 3)),
    ("max_pool_padding", lambda ns, nnf: nnf.max_pool2d(_t(ns, 1, 3, 6, 6), 2, padding=2)),
    ("max_pool_2d_input", lambda ns, nnf: nnf.max_pool2d(_t(ns, 6, 6), 2)),
    # found by a fuzz campaign: dilation widens the window, but max_pool2d also bounds the pad by the kernel
    (
        "max_pool_padding_dilated",
        lambda ns, nnf: nnf.max_pool2d(_t(ns, 1, 2, 5, 5), (1, 3), padding=(0, 2), dilation=(1, 2)),
    ),
    (
        "max_pool_padding_dilated_tiny",
        lambda ns, nnf: nnf.max_pool2d(_t(ns, 1, 1, 1, 1), (1, 3), padding=(0, 2), dilation=2),
    ),
    ("max_pool_stride_0", lambda ns, nnf: nnf.max_pool2d(_t(ns, 1, 3, 6, 6), 2, stride=0)),
    ("max_pool_empty_channels", lambda ns, nnf: nnf.max_pool2d(_t(ns, 1, 0, 6, 6), 2)),
    ("max_pool_dilation_0", lambda ns, nnf: nnf.max_pool2d(_t(ns, 1, 3, 6, 6), 2, dilation=0)),
    ("avg_pool_too_small", lambda ns, nnf: nnf.avg_pool2d(_t(ns, 1, 3, 2, 2), 3)),
    ("avg_pool_2d_input", lambda ns, nnf: nnf.avg_pool2d(_t(ns, 6, 6), 2)),
    ("avg_pool_empty_height", lambda ns, nnf: nnf.avg_pool2d(_t(ns, 1, 3, 0, 6), 2)),
    ("dropout_p", lambda ns, nnf: nnf.dropout(_t(ns, 3), 1.5)),
    ("leaky_relu_long", lambda ns, nnf: nnf.leaky_relu(_long(ns, [1, 2]))),
    ("gelu_approximate", lambda ns, nnf: nnf.gelu(_t(ns, 2), approximate="foo")),
    ("gelu_long", lambda ns, nnf: nnf.gelu(_long(ns, [1, 2]))),
    ("hardtanh_bounds", lambda ns, nnf: nnf.hardtanh(_t(ns, 2), 1.0, -1.0)),
    ("softplus_long", lambda ns, nnf: nnf.softplus(_long(ns, [1, 2]))),
]


@pytest.mark.filterwarnings("ignore:Using a target size")  # mse_shapes warns before it raises, on both sides
@pytest.mark.parametrize(("name", "program"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error_messages_match_torch(both, name, program):
    observed = both(lambda ns: program(ns, ns.nn.functional))
    assert "raised" in observed, f"{name}: torch did not raise, so this case tests nothing"
