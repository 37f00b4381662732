"""The engine's fast paths give torch's answers: bitwise gradient masks (nan, inf and -0.0 in the
incoming gradient), max_pool2d's one pass per kernel position (ties, nans, -inf windows), the
weight gradient of linear laid out like the weight, conv2d's kept columns, the quiet error state,
the operand short-cut and the allocator thresholds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import reference
from reference.autograd import allocator
from reference.ops.pointwise._common import _zero_where, keep_where, operand, quietly

SPECIALS = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5, -2.5, 3e38], dtype=np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masks_are_bitwise_where(dtype):
    g = np.tile(SPECIALS.astype(dtype), 3)
    keep = np.arange(g.size) % 3 == 0
    want = np.where(keep, g, dtype(0))
    for got in (keep_where(keep, g), _zero_where(~keep, g)):
        assert got.dtype == dtype and got.shape == g.shape
        assert np.array_equal(got.view(f"u{g.itemsize}"), want.view(f"u{g.itemsize}"))  # +0.0, not -0.0
    assert np.array_equal(g, np.tile(SPECIALS.astype(dtype), 3), equal_nan=True)  # the input is untouched


def test_masks_on_strided_and_broadcast_operands():
    g = np.arange(24.0).reshape(4, 6)[:, ::2]  # not contiguous
    keep = g > 6
    np.testing.assert_array_equal(keep_where(keep, g), np.where(keep, g, 0.0))
    row = np.array([True, False, True])  # broadcasts: the masked-copy path
    np.testing.assert_array_equal(_zero_where(row, g), np.where(row, 0.0, g))


def test_relu_gradient_stops_nan_and_inf_like_torch():
    x = np.array([-1.0, 0.0, -0.0, 2.0, -3.0, 4.0], dtype=np.float32)
    g = np.array([np.nan, np.inf, -np.inf, 5.0, np.nan, -0.0], dtype=np.float32)
    grads = []
    for ns in (torch, reference):
        t = ns.tensor(x, requires_grad=True)
        for relu in (ns.relu, ns.nn.functional.relu):
            t.grad = None
            relu(t).backward(ns.tensor(g))
            grads.append(t.grad.numpy().copy())
    for got in grads[2:]:
        assert np.array_equal(got.view(np.uint32), grads[0].view(np.uint32))


def _pool_cases():
    rng = np.random.default_rng(7)
    yield np.array([[[[np.nan, 1.0], [np.nan, 2.0]]]]), {"kernel_size": 2}  # torch: the last nan
    yield np.full((1, 1, 2, 2), -np.inf), {"kernel_size": 2, "padding": 1}  # never a padding position
    yield np.array([[[[1.0, 3.0], [3.0, 2.0]]]]), {"kernel_size": 2}  # ties: the first maximum
    for i in range(40):
        x = rng.integers(-2, 3, (2, 3, 9, 8)).astype(np.float64)
        x[rng.random(x.shape) < 0.05] = np.nan
        x[rng.random(x.shape) < 0.05] = -np.inf
        k = int(rng.integers(1, 4))
        args = {
            "kernel_size": k,
            "stride": int(rng.integers(1, 4)),
            "padding": int(rng.integers(0, k // 2 + 1)),
            "dilation": int(rng.integers(1, 3)),
            "ceil_mode": bool(i % 2),
        }
        yield (x if i % 3 else x[0]), args


@pytest.mark.parametrize(("x", "args"), list(_pool_cases()))
def test_max_pool2d_picks_torchs_input(x, args):
    seen = []
    for ns in (torch, reference):
        t = ns.tensor(x, requires_grad=True)
        y, index = ns.nn.functional.max_pool2d(t, return_indices=True, **args)
        y.backward(ns.tensor(np.arange(1.0, 1.0 + y.numel()).reshape(tuple(y.shape))))
        seen.append((y.detach().numpy(), index.numpy(), t.grad.numpy()))
    (ty, ti, tg), (ry, ri, rg) = seen
    np.testing.assert_array_equal(ry, ty)
    np.testing.assert_array_equal(ri, ti)
    np.testing.assert_array_equal(rg, tg)  # overlapping windows add; disjoint ones store


def test_linear_weight_gradient_is_contiguous():
    """torch lays the weight's gradient out like the weight; a transposed one would make every
    optimizer step mix C and Fortran order."""
    w = reference.ones(4, 5, requires_grad=True)
    reference.nn.functional.linear(reference.ones(3, 5), w, reference.zeros(4)).sum().backward()
    assert w.grad.numpy().flags.c_contiguous
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 5), 3.0))


CONV_ARGS = [
    {"stride": (2, 1), "padding": 1},
    {"stride": 1, "padding": (1, 2), "dilation": (2, 1)},  # unit stride: col2im on widened rows
    {"stride": 1, "groups": 3},
]


@pytest.mark.parametrize("args", CONV_ARGS)
def test_conv2d_fast_paths_match_torch_to_second_order(args):
    rng = np.random.default_rng(3)
    x, b = rng.standard_normal((2, 6, 7, 6)), rng.standard_normal(9)
    w = rng.standard_normal((9, 6 // args.get("groups", 1), 3, 2))
    seen = []
    for ns in (torch, reference):
        xt, wt, bt = (ns.tensor(a, requires_grad=True) for a in (x, w, b))
        y = ns.nn.functional.conv2d(xt, wt, bt, **args)
        gx, gw = ns.autograd.grad((y * y).sum(), (xt, wt), create_graph=True)
        (ggx,) = ns.autograd.grad(gw.sum() + (gx * gx).sum(), xt)
        seen.append((y.detach().numpy(), gx.detach().numpy(), gw.detach().numpy(), ggx.numpy()))
    for got, want in zip(seen[1], seen[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_conv2d_unit_stride_input_gradient_in_float32():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((4, 8, 13, 13)).astype(np.float32), rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    grads = []
    for ns in (torch, reference):
        xt = ns.tensor(x, requires_grad=True)
        ns.nn.functional.conv2d(xt, ns.tensor(w)).square().sum().backward()
        grads.append(xt.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-4, atol=1e-3)


def test_quietly_silences_and_restores_the_error_state():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert np.isinf(quietly(np.true_divide, np.float64(1.0), np.float64(0.0)))
        x = reference.tensor([0.0, -1.0, 100.0], requires_grad=True)
        ((x / 0.0).sum() + x.log().sum() + x.exp().sum() + x.sqrt().sum()).backward()
    assert [str(w.message) for w in caught] == []
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        np.true_divide(np.float64(1.0), np.float64(0.0))


def test_operand_short_cut_keeps_torchs_promotion():
    x = reference.tensor([1, 2])
    assert operand(1.5) == 1.5 and operand(x) is x
    assert type(operand(np.float64(2.0))) is float  # NumPy scalars are still unwrapped
    assert (x * True).dtype == reference.int64 and (x * 1.5).dtype == reference.float32
    assert (reference.tensor([True]) + True).dtype == reference.bool


def test_allocator_thresholds_are_set_on_glibc_only():
    assert allocator.tune_malloc() is allocator._glibc()
    assert allocator.TRIM_THRESHOLD == 2 * allocator.MMAP_THRESHOLD == 64 * 2**20
