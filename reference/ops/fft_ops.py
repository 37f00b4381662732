"""Discrete Fourier transforms as Functions (``reference.fft`` builds on them).

Every transform is linear over the reals, so one Function, ``FftPlan``, runs a short list of
linear steps; its backward runs the adjoint list (the steps' adjoints in reverse order) and its
jvp runs the same list on the tangent. A plan's adjoint is again a plan, so with
``create_graph=True`` backward applies ``FftPlan`` to the gradient Tensor and is recorded.

Steps (tuples; ``axes`` in the caller's order, the last one is the halved axis of a real FFT):

- ``("fft", axes, sign)``: unnormalised complex DFT, kernel ``exp(sign * 2j*pi*k*t/n)``;
  its adjoint flips the sign.
- ``("resize", axis, new, old)``: keep the first ``new`` entries or append zeros; adjoint swaps.
- ``("weight", axis, w)``: multiply by a real vector along ``axis``; self-adjoint.
- ``("scale", c)``: multiply by a real constant; self-adjoint.
- ``("c2r", axes, n)``: unnormalised inverse transform of a one-sided Hermitian spectrum
  (last axis ``n // 2 + 1`` long) to ``n`` real points; it ignores the imaginary parts that
  Hermitian symmetry forbids (zero frequency, Nyquist). Writing it as ``Re(F_inv(pad(w * X)))``
  with ``w`` = 2 for bins whose mirror image is not stored, else 1, its adjoint is
  ``w * trim(F(g))``; the real part is taken by the engine where the input is real.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.autograd.arrayops import is_tensor
from reference.autograd.function import Function, apply


def hermitian_weights(n: int) -> np.ndarray:
    """Weights of the ``n // 2 + 1`` stored bins of an ``n``-point real signal's spectrum:
    2 where the bin also stands for its (unstored) mirror image, else 1."""
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0  # the Nyquist bin is its own mirror
    return w


def _resize(a: np.ndarray, axis: int, new: int) -> np.ndarray:
    old = a.shape[axis]
    if new <= old:
        index = [slice(None)] * a.ndim
        index[axis] = slice(0, new)
        return a[tuple(index)]
    widths = [(0, 0)] * a.ndim
    widths[axis] = (0, new - old)
    return np.pad(a, widths)


def _run_step(a: np.ndarray, step: tuple) -> np.ndarray:
    kind = step[0]
    if kind == "fft":
        _, axes, sign = step
        if sign < 0:
            return np.fft.fftn(a, axes=axes)  # norm="backward": the forward transform is unscaled
        return np.fft.ifftn(a, axes=axes, norm="forward")  # unscaled inverse
    if kind == "resize":
        return _resize(a, step[1], step[2])
    if kind == "weight":
        _, axis, w = step
        shape = [1] * a.ndim
        shape[axis] = w.size
        return a * w.reshape(shape).astype(a.real.dtype)
    if kind == "scale":
        return a * a.real.dtype.type(step[1]) if step[1] != 1 else a
    if kind == "c2r":
        _, axes, n = step
        sizes = [a.shape[ax] for ax in axes[:-1]] + [n]
        return np.fft.irfftn(a, s=sizes, axes=axes, norm="forward")
    raise ValueError(f"unknown FFT step {kind!r}")


def run_plan(a: np.ndarray, steps: tuple) -> np.ndarray:
    """Apply ``steps`` to an array, keeping its precision (complex64 stays single)."""
    single = a.dtype in (np.float32, np.complex64)
    for step in steps:
        a = _run_step(a, step)
    if a.dtype.kind == "c":
        return a.astype(np.complex64 if single else np.complex128, copy=False)
    return a.astype(np.float32 if single else np.float64, copy=False)


def _adjoint_step(step: tuple) -> tuple:
    kind = step[0]
    if kind == "fft":
        return (("fft", step[1], -step[2]),)
    if kind == "resize":
        _, axis, new, old = step
        return (("resize", axis, old, new),)
    if kind in ("weight", "scale"):
        return (step,)
    _, axes, n = step  # c2r
    return (("fft", axes, -1), ("resize", axes[-1], n // 2 + 1, n), ("weight", axes[-1], hermitian_weights(n)))


def adjoint(steps: tuple) -> tuple:
    return tuple(s for step in reversed(steps) for s in _adjoint_step(step))


def plan_name(steps: tuple, real_input: bool) -> str:
    """The node torch records for such a transform."""
    if any(step[0] == "c2r" for step in steps):
        return "FftC2RBackward0"
    return "FftR2CBackward0" if real_input else "FftC2CBackward0"


class FftPlan(Function):
    @staticmethod
    def forward(ctx, a, steps):
        ctx.steps = steps
        return run_plan(a, steps)

    @staticmethod
    def backward(ctx, g):
        steps = adjoint(ctx.steps)
        if is_tensor(g):  # create_graph: the adjoint transform is recorded too
            return apply_plan(g, steps)
        return run_plan(g, steps)

    @staticmethod
    def jvp(ctx, t):
        return run_plan(t, ctx.steps)


def apply_plan(x: Any, steps: tuple, name: str | None = None) -> Any:
    """Run a plan on a Tensor, recording node ``name`` (by default, what torch would call it)."""
    if name is None:
        name = plan_name(steps, not x.is_complex())
    return apply(FftPlan, name, (x,), steps=steps)
