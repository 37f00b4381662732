"""reference.fft against torch.fft 2.13 for float32/float64/complex64/complex128 inputs: values,
dtypes, the recorded graph (node names down to the leaf), gradients for complex cotangents,
forward-mode tangents, and second derivatives through the recorded backward (create_graph)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference

RNG = np.random.default_rng(11)
DTYPES = ("float32", "float64", "complex64", "complex128")
REAL_ONLY = ("rfft", "rfft2", "rfftn", "ihfft")

# name: fn(ns, x); the input is 4x6 (a 5 in the middle for 3-d cases)
CASES = {
    "fft": lambda ns, x: ns.fft.fft(x),
    "fft_dim0": lambda ns, x: ns.fft.fft(x, dim=0),
    "fft_pad": lambda ns, x: ns.fft.fft(x, n=9),
    "fft_trim_dim0": lambda ns, x: ns.fft.fft(x, n=3, dim=0),
    "fft_forward": lambda ns, x: ns.fft.fft(x, norm="forward"),
    "fft_ortho": lambda ns, x: ns.fft.fft(x, n=5, norm="ortho"),
    "fft_backward": lambda ns, x: ns.fft.fft(x, norm="backward"),
    "ifft": lambda ns, x: ns.fft.ifft(x),
    "ifft_pad_dim0": lambda ns, x: ns.fft.ifft(x, n=7, dim=0),
    "ifft_forward": lambda ns, x: ns.fft.ifft(x, n=4, norm="forward"),
    "ifft_ortho": lambda ns, x: ns.fft.ifft(x, norm="ortho"),
    "rfft": lambda ns, x: ns.fft.rfft(x),
    "rfft_odd": lambda ns, x: ns.fft.rfft(x, n=5),
    "rfft_pad_dim0": lambda ns, x: ns.fft.rfft(x, n=8, dim=0, norm="ortho"),
    "rfft_forward": lambda ns, x: ns.fft.rfft(x, norm="forward"),
    "irfft": lambda ns, x: ns.fft.irfft(x),
    "irfft_odd": lambda ns, x: ns.fft.irfft(x, n=9),
    "irfft_trim": lambda ns, x: ns.fft.irfft(x, n=4),
    "irfft_dim0": lambda ns, x: ns.fft.irfft(x, dim=0, norm="forward"),
    "irfft_ortho_pad": lambda ns, x: ns.fft.irfft(x, n=15, norm="ortho"),
    "fft2": lambda ns, x: ns.fft.fft2(x),
    "fft2_s": lambda ns, x: ns.fft.fft2(x, s=(3, 8), norm="ortho"),
    "ifft2": lambda ns, x: ns.fft.ifft2(x, norm="forward"),
    "fftn": lambda ns, x: ns.fft.fftn(x),
    "fftn_dim": lambda ns, x: ns.fft.fftn(x, s=(5,), dim=(0,)),
    "fftn_s_last": lambda ns, x: ns.fft.fftn(x, s=(-1, 4)),
    "ifftn": lambda ns, x: ns.fft.ifftn(x, dim=(1, 0), norm="ortho"),
    "rfft2": lambda ns, x: ns.fft.rfft2(x),
    "rfftn_dims": lambda ns, x: ns.fft.rfftn(x, s=(7, 3), dim=(1, 0), norm="forward"),
    "irfft2": lambda ns, x: ns.fft.irfft2(x),
    "irfftn_s": lambda ns, x: ns.fft.irfftn(x, s=(3, 7), norm="ortho"),
    "irfftn_dims": lambda ns, x: ns.fft.irfftn(x, dim=(1, 0)),
    "hfft": lambda ns, x: ns.fft.hfft(x, n=7),
    "hfft_ortho": lambda ns, x: ns.fft.hfft(x, norm="ortho"),
    "ihfft": lambda ns, x: ns.fft.ihfft(x, norm="forward"),
    "fftn_3d": lambda ns, x: ns.fft.fftn(x.reshape(2, 2, 6), s=(3, -1, 4)),
    "irfftn_3d": lambda ns, x: ns.fft.irfftn(x.reshape(2, 2, 6)),
}


def _array(dtype: str, shape: tuple) -> np.ndarray:
    a = RNG.standard_normal(shape)
    return a + 1j * RNG.standard_normal(shape) if dtype.startswith("complex") else a


def _tol(dtype: str) -> dict:
    single = dtype in ("float32", "complex64")
    return {"rtol": 2e-4, "atol": 2e-4} if single else {"rtol": 1e-10, "atol": 1e-10}


def _chain(y) -> list:
    """Node names along the first edges, down to the leaf's AccumulateGrad."""
    names, node = [], y.grad_fn
    while node is not None:
        names.append(type(node).__name__.removeprefix("torch::autograd::"))
        node = node.next_functions[0][0] if node.next_functions else None
    return names


def _compare(ref, tor, dtype: str) -> None:
    assert str(ref.dtype).split(".")[-1] == str(tor.dtype).split(".")[-1], (ref.dtype, tor.dtype)
    assert tuple(ref.shape) == tuple(tor.shape)
    np.testing.assert_allclose(ref.detach().numpy(), tor.detach().resolve_conj().numpy(), **_tol(dtype))


def _cotangent(like) -> np.ndarray:
    shape = tuple(like.shape)
    return _array("complex128" if like.is_complex() else "float64", shape)


def _cases():
    for name in sorted(CASES):
        for dtype in DTYPES:
            if name.startswith(REAL_ONLY) and dtype.startswith("complex"):
                continue
            yield name, dtype


@pytest.mark.parametrize(("name", "dtype"), list(_cases()))
def test_fft(name, dtype):
    fn = CASES[name]
    x0 = _array(dtype, (4, 6))
    leaves = {ns: ns.tensor(x0, dtype=getattr(ns, dtype)).requires_grad_() for ns in (torch, reference)}
    outs = {ns: fn(ns, leaves[ns]) for ns in leaves}
    _compare(outs[reference], outs[torch], dtype)
    assert _chain(outs[reference]) == _chain(outs[torch])

    # reverse mode, a random (complex where the output is) cotangent, with the graph recorded
    cot = _cotangent(outs[torch])
    cots = {ns: ns.tensor(cot, dtype=outs[ns].dtype).requires_grad_() for ns in leaves}
    grads = {ns: ns.autograd.grad(outs[ns], leaves[ns], cots[ns], create_graph=True)[0] for ns in leaves}
    _compare(grads[reference], grads[torch], dtype)

    # second order: the VJP is linear in the cotangent; differentiate it with respect to that
    w = _cotangent(grads[torch])
    second = {ns: ns.autograd.grad(grads[ns], cots[ns], ns.tensor(w, dtype=grads[ns].dtype))[0] for ns in leaves}
    _compare(second[reference], second[torch], dtype)

    # y.backward(gradient=...) fills the leaf's .grad
    for ns in leaves:
        y = fn(ns, leaves[ns])
        y.backward(gradient=ns.tensor(cot, dtype=y.dtype))
    _compare(leaves[reference].grad, leaves[torch].grad, dtype)

    # forward mode
    tangent = _array(dtype, (4, 6))
    jvps = {}
    for ns in leaves:
        fwad = ns.autograd.forward_ad
        with fwad.dual_level():
            dual = fwad.make_dual(leaves[ns].detach(), ns.tensor(tangent, dtype=getattr(ns, dtype)))
            jvps[ns] = fwad.unpack_dual(fn(ns, dual)).tangent
    _compare(jvps[reference], jvps[torch], dtype)


@pytest.mark.parametrize("dtype", ("float32", "complex128"))
def test_double_backward_through_a_square(dtype):
    """A nonlinear loss of a transform: its Hessian-vector product involves the adjoint twice."""
    x0, v0 = _array(dtype, (3, 5)), _array(dtype, (3, 5))
    results = {}
    for ns in (torch, reference):
        x = ns.tensor(x0, dtype=getattr(ns, dtype)).requires_grad_()
        y = ns.fft.irfft(ns.fft.fft2(x, norm="ortho") * ns.fft.fft(x, dim=0), n=7)
        loss = (y * y).sum()
        (g,) = ns.autograd.grad(loss, x, create_graph=True)
        (h,) = ns.autograd.grad(g, x, ns.tensor(v0, dtype=g.dtype))
        results[ns] = (loss, g, h)
    for r, t in zip(results[reference], results[torch]):
        _compare(r, t, "float64" if dtype == "complex128" else "float32")


def test_errors_match_torch():
    real = np.ones((2, 4))
    programs = [
        lambda ns, x, z: ns.fft.fft(x, norm="bad"),
        lambda ns, x, z: ns.fft.fft(x, n=0),
        lambda ns, x, z: ns.fft.rfft(z),
        lambda ns, x, z: ns.fft.rfftn(z),
        lambda ns, x, z: ns.fft.irfft(z[:, :1]),
        lambda ns, x, z: ns.fft.fft2(x, dim=(0, 0)),
        lambda ns, x, z: ns.fft.fftn(x, s=(2,), dim=(0, 1)),
    ]
    for program in programs:
        messages = []
        for ns in (torch, reference):
            x, z = ns.tensor(real), ns.tensor(real + 1j, dtype=ns.complex64)
            with pytest.raises(RuntimeError) as info:
                program(ns, x, z)
            messages.append(str(info.value))
        assert messages[0] == messages[1]


def test_integer_input_and_namespace():
    for ns in (torch, reference):
        y = ns.fft.fft(ns.tensor([1, 2, 3, 4]))
        assert str(y.dtype).split(".")[-1] == "complex64"
        np.testing.assert_allclose(y.numpy(), np.fft.fft([1, 2, 3, 4]), rtol=1e-6)
    assert "fft" in reference.__all__
