"""gradcheck on torch code with complex inputs and outputs, checked as torch's gradcheck checks
them: through the real and imaginary parts (view_as_real pairs), against float64 finite
differences, with a custom Function that forgets a conjugate caught where torch's catches it."""

from __future__ import annotations

import pytest
import torch

import gradcheck_suite as gs


class SquareNoConj(torch.autograd.Function):
    """z ** 2 with backward 2 g z: torch's convention wants 2 g conj(z)."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return z * z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return 2 * g * z


class Square(SquareNoConj):
    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return 2 * g * z.conj()


def _z(dtype=torch.complex128, n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, dtype=dtype, generator=g).requires_grad_()


@pytest.mark.parametrize(
    "fn",
    [lambda z: (z * z).sin(), lambda z: z.abs(), lambda z: torch.fft.fft(z), lambda z: z.real * z.imag, Square.apply],
    ids=["holomorphic", "abs", "fft", "real-output", "custom"],
)
def test_right_complex_code_passes_as_it_does_in_torch(fn):
    z = _z()
    assert torch.autograd.gradcheck(fn, (z,))
    result = gs.gradcheck(fn, (z,), raise_exception=False, full_result=True)
    assert result.ok, result.message()
    assert result.dtype == "complex128" and result.shapes == ((4, 2),)


def test_a_forgotten_conjugate_fails_in_both():
    z = _z()
    with pytest.raises(Exception, match="Jacobian mismatch"):
        torch.autograd.gradcheck(SquareNoConj.apply, (z,))
    result = gs.gradcheck(SquareNoConj.apply, (z,), raise_exception=False, full_result=True)
    assert not result.ok
    failure = result.failures[0]
    assert failure.verdict == "engine-bug" and failure.check == "vjp-fd"
    assert "input 0 (real, imaginary pairs)" in result.message()
    assert "no replay script for complex inputs" in result.settings["replay_script_error"]


def test_mixed_real_and_complex_inputs_in_complex64():
    z = _z(torch.complex64)
    x = torch.randn(4, dtype=torch.float32, requires_grad=True)
    result = gs.gradcheck(lambda z, x: torch.polar(x.exp(), x) * z, (z, x), raise_exception=False, full_result=True)
    assert result.ok, result.message()
    assert result.dtype == "complex64" and result.shapes == ((4, 2), (4,))


def test_forward_mode_on_complex_code():
    z = _z()
    result = gs.gradcheck(
        lambda z: z.exp() * z.conj(), (z,), check_forward_ad=True, raise_exception=False, full_result=True
    )
    assert result.ok, result.message()
    assert {r.check for r in result.records} >= {"jvp-torch", "jvp-fd"}
