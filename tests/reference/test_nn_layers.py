"""reference.nn.functional's layers against torch 2.13: conv1d/conv3d, transposed convolutions,
group/batch/instance norm, interpolate, scaled_dot_product_attention, grid_sample. Values,
gradients, node names, forward-mode tangents, second derivatives, values at kinks, running
statistics and error messages."""

from __future__ import annotations

import numpy as np
import pytest

RNG = np.random.default_rng(2026)


def _arr(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape)


def _mask(ns, array, like):
    return ns.from_numpy(array if array.dtype == np.bool_ else array.astype(like.detach().numpy().dtype))


BOOL_MASK = np.array([[True, False, True], [False, False, False], [True, True, False], [False, True, True]])
FLOAT_MASK = _arr(4, 3)
RUNNING = (_arr(3), _arr(3, low=0.5, high=2.0))


def _batch_norm(training, **kw):
    def call(ns, nnf, x, *params):
        mean, var = (ns.from_numpy(a.astype(x.detach().numpy().dtype)) for a in RUNNING)
        return nnf.batch_norm(x, mean, var, *params, training=training, **kw)

    return call


def _grid(ns, nnf, x, g, **kw):
    return nnf.grid_sample(x, g, **kw)


# (id, op(ns, nnf, *tensors), float inputs). Every input requires grad.
CASES = [
    ("conv1d", lambda ns, nnf, x, w, b: nnf.conv1d(x, w, b), [_arr(2, 3, 6), _arr(4, 3, 2), _arr(4)]),
    (
        "conv1d_strided_dilated_grouped",
        lambda ns, nnf, x, w, b: nnf.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
        [_arr(2, 4, 7), _arr(4, 2, 2), _arr(4)],
    ),
    ("conv1d_same_even_unbatched", lambda ns, nnf, x, w: nnf.conv1d(x, w, padding="same"), [_arr(3, 6), _arr(2, 3, 2)]),
    (
        "conv3d",
        lambda ns, nnf, x, w, b: nnf.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1), dilation=(1, 1, 2), groups=2),
        [_arr(1, 4, 3, 4, 5), _arr(2, 2, 2, 2, 2), _arr(2)],
    ),
    (
        "conv3d_same_unbatched",
        lambda ns, nnf, x, w: nnf.conv3d(x, w, padding="same"),
        [_arr(2, 3, 3, 3), _arr(2, 2, 2, 3, 2)],
    ),
    (
        "conv_transpose2d",
        lambda ns, nnf, x, w, b: nnf.conv_transpose2d(x, w, b),
        [_arr(2, 3, 3, 4), _arr(3, 2, 2, 2), _arr(2)],
    ),
    (
        "conv_transpose2d_output_padding",
        lambda ns, nnf, x, w, b: nnf.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        [_arr(2, 3, 3, 4), _arr(3, 2, 3, 3), _arr(2)],
    ),
    (
        "conv_transpose2d_grouped_dilated",
        lambda ns, nnf, x, w, b: nnf.conv_transpose2d(x, w, b, (2, 1), (0, 1), (1, 0), 3, (1, 2)),
        [_arr(1, 3, 3, 4), _arr(3, 2, 2, 3), _arr(6)],
    ),
    (
        "conv_transpose2d_unbatched",
        lambda ns, nnf, x, w: nnf.conv_transpose2d(x, w, dilation=2, output_padding=1),
        [_arr(2, 3, 3), _arr(2, 2, 2, 2)],
    ),
    (
        "conv_transpose1d",
        lambda ns, nnf, x, w, b: nnf.conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=2, groups=2),
        [_arr(2, 4, 3), _arr(4, 1, 3), _arr(2)],
    ),
    (
        "conv_transpose3d",
        lambda ns, nnf, x, w, b: nnf.conv_transpose3d(
            x, w, b, stride=(2, 1, 2), padding=(0, 1, 0), output_padding=(1, 0, 0)
        ),
        [_arr(1, 2, 2, 3, 2), _arr(2, 1, 2, 2, 2), _arr(1)],
    ),
    ("group_norm", lambda ns, nnf, x, w, b: nnf.group_norm(x, 2, w, b), [_arr(2, 4, 3), _arr(4), _arr(4)]),
    ("group_norm_2d_input", lambda ns, nnf, x: nnf.group_norm(x, 3, eps=0.1), [_arr(2, 6)]),
    ("batch_norm_training", _batch_norm(True), [_arr(2, 3, 4), _arr(3), _arr(3)]),
    ("batch_norm_training_2d", _batch_norm(True, momentum=0.3, eps=0.1), [_arr(4, 3)]),
    ("batch_norm_eval", _batch_norm(False), [_arr(2, 3, 2, 2), _arr(3), _arr(3)]),
    (
        "instance_norm",
        lambda ns, nnf, x, w, b: nnf.instance_norm(x, weight=w, bias=b),
        [_arr(2, 3, 4), _arr(3), _arr(3)],
    ),
    ("instance_norm_plain", lambda ns, nnf, x: nnf.instance_norm(x), [_arr(1, 2, 3, 3)]),
    ("nearest_1d_size", lambda ns, nnf, x: nnf.interpolate(x, size=7), [_arr(2, 3, 4)]),
    ("nearest_2d_scale", lambda ns, nnf, x: nnf.interpolate(x, scale_factor=(1.7, 0.6)), [_arr(1, 2, 3, 5)]),
    ("nearest_2d_double", lambda ns, nnf, x: nnf.interpolate(x, scale_factor=2), [_arr(1, 2, 3, 2)]),
    (
        "bilinear_align_corners",
        lambda ns, nnf, x: nnf.interpolate(x, size=(5, 3), mode="bilinear", align_corners=True),
        [_arr(1, 2, 3, 4)],
    ),
    ("bilinear_scale", lambda ns, nnf, x: nnf.interpolate(x, scale_factor=1.5, mode="bilinear"), [_arr(2, 1, 3, 4)]),
    (
        "bilinear_recomputed_scale",
        lambda ns, nnf, x: nnf.interpolate(x, scale_factor=1.3, mode="bilinear", recompute_scale_factor=True),
        [_arr(1, 2, 3, 4)],
    ),
    ("linear_1d", lambda ns, nnf, x: nnf.interpolate(x, size=6, mode="linear"), [_arr(2, 3, 4)]),
    (
        "sdpa_3d",
        lambda ns, nnf, q, k, v: nnf.scaled_dot_product_attention(q, k, v),
        [_arr(2, 4, 5), _arr(2, 3, 5), _arr(2, 3, 2)],
    ),
    (
        "sdpa_2d_causal",
        lambda ns, nnf, q, k, v: nnf.scaled_dot_product_attention(q, k, v, is_causal=True),
        [_arr(4, 5), _arr(3, 5), _arr(3, 2)],
    ),
    (
        "sdpa_bool_mask_empty_row",
        lambda ns, nnf, q, k, v: nnf.scaled_dot_product_attention(q, k, v, attn_mask=_mask(ns, BOOL_MASK, q)),
        [_arr(2, 4, 5), _arr(2, 3, 5), _arr(2, 3, 2)],
    ),
    (
        "sdpa_float_mask_scale",
        lambda ns, nnf, q, k, v: nnf.scaled_dot_product_attention(
            q, k, v, attn_mask=_mask(ns, FLOAT_MASK, q), scale=0.3
        ),
        [_arr(1, 2, 4, 5), _arr(1, 2, 3, 5), _arr(1, 2, 3, 3)],
    ),
    (
        "grid_sample",
        lambda ns, nnf, x, g: _grid(ns, nnf, x, g),
        [_arr(1, 2, 3, 4), _arr(1, 2, 3, 2, low=-1.2, high=1.2)],
    ),
    (
        "avg_pool1d",
        lambda ns, nnf, x: nnf.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        [_arr(2, 3, 6)],
    ),
    ("max_pool1d_dilated_unbatched", lambda ns, nnf, x: nnf.max_pool1d(x, 2, 1, 1, dilation=2), [_arr(3, 6)]),
    ("adaptive_avg_pool2d", lambda ns, nnf, x: nnf.adaptive_avg_pool2d(x, (2, 3)), [_arr(1, 2, 5, 4)]),
    ("adaptive_avg_pool2d_larger", lambda ns, nnf, x: nnf.adaptive_avg_pool2d(x, (None, 6)), [_arr(2, 3, 4)]),
    ("pixel_shuffle", lambda ns, nnf, x: nnf.pixel_shuffle(x, 2), [_arr(2, 8, 2, 3)]),
    ("pixel_unshuffle", lambda ns, nnf, x: nnf.pixel_unshuffle(x, 3), [_arr(1, 3, 6)]),
    ("unfold", lambda ns, nnf, x: nnf.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [_arr(2, 3, 4, 5)]),
    ("unfold_unbatched", lambda ns, nnf, x: nnf.unfold(x, 2), [_arr(3, 4, 5)]),
    ("fold", lambda ns, nnf, x: nnf.fold(x, (4, 5), 2), [_arr(2, 12, 12)]),
    ("fold_unbatched", lambda ns, nnf, x: nnf.fold(x, (4, 5), (2, 3), (1, 2), 1, (2, 1)), [_arr(6, 9)]),
    (
        "grid_sample_border_corners",
        lambda ns, nnf, x, g: _grid(ns, nnf, x, g, padding_mode="border", align_corners=True),
        [_arr(2, 1, 3, 3), _arr(2, 3, 2, 2, low=-1.3, high=1.3)],
    ),
]
IDS = [c[0] for c in CASES]
RTOL = {"float32": 2e-5, "float64": 1e-10}
NO_FORWARD_MODE = {"grid_sample", "grid_sample_border_corners"}  # torch has no forward-mode rule


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
        return {"output": y, "grads": list(ns.autograd.grad(y, xs, v))}

    both(program, rtol=RTOL[dtype])


@pytest.mark.parametrize(
    ("name", "fn", "arrays"),
    [c for c in CASES if c[0] not in NO_FORWARD_MODE],
    ids=lambda v: v if isinstance(v, str) else "",
)
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
    """grad of <w, grad> (w random): values (an input the gradient does not reach counts as zeros:
    torch returns None where the reference's recorded gradient gives zeros, in eval-mode batch_norm),
    and which first-order gradients require grad."""

    def program(ns):
        xs = _inputs(ns, arrays, "float64")
        y = fn(ns, ns.nn.functional, *xs)
        v = ns.from_numpy(_cotangent(tuple(y.shape), "float64"))
        grads = ns.autograd.grad(y, xs, v, create_graph=True)
        flags = [g.requires_grad for g in grads]
        terms = [(g * ns.from_numpy(_cotangent(tuple(g.shape), "float64"))).sum() for g, f in zip(grads, flags) if f]
        if not terms:
            return {"requires_grad": flags}
        second = ns.autograd.grad(sum(terms[1:], terms[0]), xs, allow_unused=True)
        values = [np.zeros(x.shape) if s is None else s.numpy().copy() for s, x in zip(second, xs)]
        return {"requires_grad": flags, "second": values}

    both(program, rtol=1e-9)


# -- the flash kernel: 4-d inputs with one batch shape and E == Ev ------------------------------------------


def _flash_inputs(ns):
    return _inputs(ns, [_FLASH_Q, _FLASH_K, _FLASH_V], "float64")


_FLASH_Q, _FLASH_K, _FLASH_V = _arr(2, 2, 4, 3), _arr(2, 2, 5, 3), _arr(2, 2, 5, 3)


@pytest.mark.parametrize("mask", [None, "bool", "causal"])
def test_flash_attention_node_values_and_gradients(both, mask):
    def program(ns):
        q, k, v = _flash_inputs(ns)
        kw = {"is_causal": True} if mask == "causal" else {}
        if mask == "bool":
            kw["attn_mask"] = ns.from_numpy(np.tril(np.ones((4, 5), bool), -1))  # row 0 masked out: zeros
        y = ns.nn.functional.scaled_dot_product_attention(q, k, v, **kw)
        return {
            "output": y,
            "grads": list(ns.autograd.grad(y, (q, k, v), ns.from_numpy(_cotangent((2, 2, 4, 3), "float64")))),
        }

    observed = both(program, rtol=1e-10)
    assert observed["output"]["grad_fn"] == "ScaledDotProductFlashAttentionForCpuBackward0"


def test_flash_attention_has_no_double_backward_and_no_forward_mode(both):
    def second(ns):
        q, k, v = _flash_inputs(ns)
        y = ns.nn.functional.scaled_dot_product_attention(q, k, v)
        grads = ns.autograd.grad(y.sum(), (q, k, v), create_graph=True)
        assert all(g.requires_grad for g in grads)
        return ns.autograd.grad(grads[0].sum(), (q, k, v))

    def forward_mode(ns):
        fwd = ns.autograd.forward_ad
        with fwd.dual_level():
            q = fwd.make_dual(ns.from_numpy(_FLASH_Q), ns.from_numpy(np.ones_like(_FLASH_Q)))
            return ns.nn.functional.scaled_dot_product_attention(q, ns.from_numpy(_FLASH_K), ns.from_numpy(_FLASH_V))

    assert both(second)["message"] == (
        "derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward is not implemented"
    )
    assert both(forward_mode)["raised"] == "NotImplementedError"


# -- running statistics, kinks, exact scatters ------------------------------------------------------------


@pytest.mark.parametrize("fn", ["batch_norm", "instance_norm"])
def test_training_updates_running_statistics_in_place(both, fn):
    x = _arr(3, 3, 4)

    def program(ns):
        mean, var = (ns.from_numpy(a.copy()) for a in RUNNING)
        getattr(ns.nn.functional, fn)(
            ns.from_numpy(x), mean, var, momentum=0.3, **({"training": True} if fn == "batch_norm" else {})
        )
        return {"mean": mean.numpy().copy(), "var": var.numpy().copy(), "versions": [mean._version, var._version]}

    observed = both(program, rtol=1e-12)
    assert not np.allclose(observed["mean"], RUNNING[0])  # the update happened
    # batch_norm's kernel writes the buffers directly; instance_norm copy_()s the batch average back
    assert observed["versions"] == ([0, 0] if fn == "batch_norm" else [1, 1])


def test_nearest_gradient_adds_up_every_output_that_read_a_pixel(both):
    def program(ns):
        x = ns.from_numpy(np.arange(4.0).reshape(1, 1, 4)).requires_grad_(True)
        y = ns.nn.functional.interpolate(x, size=7)  # reads pixels floor(i * 4/7): 0 0 1 1 2 2 3
        (g,) = ns.autograd.grad(y.sum(), x)
        return {"y": y, "grad": g}

    observed = both(program)
    np.testing.assert_array_equal(observed["grad"]["values"], [[[2.0, 2.0, 2.0, 1.0]]])


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
def test_grid_sample_at_integer_pixels_takes_the_cell_to_the_right(both, align_corners, padding_mode):
    image = np.arange(12.0).reshape(1, 1, 3, 4) ** 2  # not linear, so the two cells' slopes differ
    # pixel x = 1 exactly (inside), x = 0 and x = W-1 (the border's clip bounds), a point outside
    if align_corners:
        points = [[-1 / 3, 0.1], [-1.0, 1.0], [1.0, -1.0], [-1.2, 0.3]]
    else:
        points = [[0.0, 0.1], [-0.75, 1 / 3], [0.75, -1 / 3], [-1.3, 0.2]]

    def program(ns):
        x = ns.from_numpy(image.copy()).requires_grad_(True)
        g = ns.tensor([[points]], dtype=ns.float64, requires_grad=True)
        y = ns.nn.functional.grid_sample(x, g, padding_mode=padding_mode, align_corners=align_corners)
        grads = ns.autograd.grad(y.sum(), (x, g))
        return {"y": y, "grads": list(grads)}

    both(program, rtol=1e-12)


def test_max_pool1d_ties_go_to_the_first_maximum(both):
    def program(ns):
        x = ns.tensor([[1.0, 3.0, 3.0, 0.5, 2.0, 2.0, 0.0]], dtype=ns.float64, requires_grad=True)
        y, index = ns.nn.functional.max_pool1d(x, 3, stride=2, return_indices=True)
        (g,) = ns.autograd.grad(y.sum(), x)
        return {"y": y, "index": index, "grad": g}

    observed = both(program)
    # windows [1, 3, 3], [3, 0.5, 2], [2, 2, 0]: each tie goes to its first maximum
    np.testing.assert_array_equal(observed["grad"]["values"], [[0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]])


ERRORS = [
    ("conv1d_input_dims", lambda ns, nnf: nnf.conv1d(ns.ones(5), ns.ones(2, 1, 2))),
    ("conv3d_input_dims", lambda ns, nnf: nnf.conv3d(ns.ones(2, 3, 3), ns.ones(2, 2, 2, 2, 2))),
    ("conv1d_kernel_too_big", lambda ns, nnf: nnf.conv1d(ns.ones(1, 2, 2), ns.ones(2, 2, 3))),
    ("conv3d_kernel_too_big", lambda ns, nnf: nnf.conv3d(ns.ones(1, 2, 2, 3, 3), ns.ones(2, 2, 3, 2, 2))),
    ("conv1d_stride_length", lambda ns, nnf: nnf.conv1d(ns.ones(1, 2, 5), ns.ones(2, 2, 3), stride=(1, 2))),
    (
        "conv_transpose_output_padding",
        lambda ns, nnf: nnf.conv_transpose2d(ns.ones(1, 2, 3, 3), ns.ones(2, 2, 2, 2), output_padding=1),
    ),
    ("conv_transpose_channels", lambda ns, nnf: nnf.conv_transpose2d(ns.ones(1, 3, 3, 3), ns.ones(2, 2, 2, 2))),
    (
        "conv_transpose_too_small",
        lambda ns, nnf: nnf.conv_transpose2d(ns.ones(1, 2, 3, 3), ns.ones(2, 2, 2, 2), padding=3),
    ),
    ("group_norm_groups", lambda ns, nnf: nnf.group_norm(ns.ones(2, 4, 3), 3)),
    ("batch_norm_one_value", lambda ns, nnf: nnf.batch_norm(ns.ones(1, 2, 1), None, None, training=True)),
    ("nearest_align_corners", lambda ns, nnf: nnf.interpolate(ns.ones(1, 1, 3), size=4, align_corners=True)),
    ("pixel_shuffle_channels", lambda ns, nnf: nnf.pixel_shuffle(ns.ones(1, 3, 2, 2), 2)),
    ("pixel_unshuffle_width", lambda ns, nnf: nnf.pixel_unshuffle(ns.ones(1, 3, 4, 3), 2)),
    ("unfold_no_blocks", lambda ns, nnf: nnf.unfold(ns.ones(1, 1, 2, 2), 3)),
    ("fold_block_count", lambda ns, nnf: nnf.fold(ns.ones(1, 4, 5), (3, 3), 2)),
    (
        "sdpa_causal_and_mask",
        lambda ns, nnf: nnf.scaled_dot_product_attention(
            ns.ones(2, 3), ns.ones(2, 3), ns.ones(2, 3), attn_mask=ns.ones(2, 2, dtype=ns.bool), is_causal=True
        ),
    ),
]


@pytest.mark.parametrize(("name", "program"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error_messages_match_torch(both, name, program):
    observed = both(lambda ns: program(ns, ns.nn.functional))
    assert "raised" in observed
