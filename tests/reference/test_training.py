"""Training loops run on reference and on torch from the same weights and data (float64):
every step's loss and every parameter's gradient must agree to float64 precision."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference

RTOL = 1e-12


def _mlp_init(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "w1": rng.normal(0, 0.3, (16, 20)),
        "b1": rng.normal(0, 0.1, 16),
        "w2": rng.normal(0, 0.3, (5, 16)),
        "b2": rng.normal(0, 0.1, 5),
    }


def _mlp_loss(ns, p, x, y):
    F = ns.nn.functional
    hidden = ns.tanh(F.linear(x, p["w1"], p["b1"]))
    hidden = F.relu(hidden + 0.1)
    return F.cross_entropy(F.linear(hidden, p["w2"], p["b2"]), y)


def _conv_init(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "k": rng.normal(0, 0.4, (4, 2, 3, 3)),
        "kb": rng.normal(0, 0.1, 4),
        "w": rng.normal(0, 0.3, (3, 4 * 3 * 3)),
        "b": rng.normal(0, 0.1, 3),
    }


def _conv_loss(ns, p, x, y):
    F = ns.nn.functional
    h = F.max_pool2d(F.relu(F.conv2d(x, p["k"], p["kb"], padding=1)), 2)
    return F.cross_entropy(F.linear(h.reshape(h.shape[0], -1), p["w"], p["b"]), y)


def _run(ns, init, data, loss_fn, steps: int, lr: float) -> list[dict]:
    """Plain SGD: backward, an in-place update under no_grad, then ``.grad`` zeroed. Returns each
    step's loss and gradients."""
    params = {k: ns.from_numpy(v.copy()).requires_grad_(True) for k, v in init.items()}
    x, y = ns.from_numpy(data[0].copy()), ns.from_numpy(data[1].copy())
    history = []
    for _ in range(steps):
        loss = loss_fn(ns, params, x, y)
        loss.backward()
        history.append({"loss": loss.item(), **{k: p.grad.numpy().copy() for k, p in params.items()}})
        with ns.no_grad():
            for p in params.values():
                p -= lr * p.grad
        for p in params.values():
            p.grad.zero_()
    return history


def _compare(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for step, (g, w) in enumerate(zip(got, want)):
        assert g.keys() == w.keys()
        np.testing.assert_allclose(g["loss"], w["loss"], rtol=RTOL, err_msg=f"loss at step {step}")
        for name in w:
            np.testing.assert_allclose(g[name], w[name], rtol=RTOL, atol=1e-14, err_msg=f"{name}.grad at step {step}")
    assert want[-1]["loss"] < want[0]["loss"]  # the loop really trains


def test_mlp_trains_identically_for_five_steps():
    rng = np.random.default_rng(0)
    init = _mlp_init(rng)
    data = (rng.normal(size=(32, 20)), rng.integers(0, 5, 32))
    want = _run(torch, init, data, _mlp_loss, steps=5, lr=0.5)
    got = _run(reference, init, data, _mlp_loss, steps=5, lr=0.5)
    _compare(got, want)


def test_conv_net_trains_identically_for_three_steps():
    rng = np.random.default_rng(1)
    init = _conv_init(rng)
    data = (rng.normal(size=(6, 2, 6, 6)), rng.integers(0, 3, 6))
    want = _run(torch, init, data, _conv_loss, steps=3, lr=0.3)
    got = _run(reference, init, data, _conv_loss, steps=3, lr=0.3)
    _compare(got, want)


@pytest.mark.parametrize("ns", [torch, reference], ids=["torch", "reference"])
def test_gradients_accumulate_until_zeroed(ns):
    """What a training loop relies on: .grad sums over backward calls until reset."""
    rng = np.random.default_rng(2)
    init = _mlp_init(rng)
    x, y = ns.from_numpy(rng.normal(size=(4, 20))), ns.from_numpy(rng.integers(0, 5, 4))
    params = {k: ns.from_numpy(v.copy()).requires_grad_(True) for k, v in init.items()}
    _mlp_loss(ns, params, x, y).backward()
    once = params["w1"].grad.numpy().copy()
    _mlp_loss(ns, params, x, y).backward()
    np.testing.assert_allclose(params["w1"].grad.numpy(), 2 * once, rtol=1e-14)
