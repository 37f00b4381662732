"""Complex numbers: conj, real, imag, abs and sgn of complex tensors, angle, view_as_real,
view_as_complex, complex and polar.

torch's convention (its autograd notes): for a real loss L of z = x + iy the gradient is
dL/dx + i dL/dy, so a holomorphic f has backward ``g * conj(f'(z))`` and forward mode
``f'(z) * t``; a real input of a complex-valued op receives the real part (broadcast.to_input).
abs, angle and sgn are not holomorphic: their rules are written on the real and imaginary parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd import arrayops as xp
from reference.autograd.function import SAME, Function, apply
from reference.ops.pointwise._common import operand


def _array(x: Any) -> bool:
    return not xp.is_tensor(x)


def _complex_of(re: Any, im: Any) -> Any:
    """``re + i im`` on arrays or Tensors (recorded under create_graph)."""
    if _array(re) and _array(im):
        out = np.empty(np.broadcast_shapes(np.shape(re), np.shape(im)), dtype=np.result_type(re, im, np.complex64))
        out.real, out.imag = re, im
        return out
    import reference

    re = re if xp.is_tensor(re) else reference.from_numpy(np.asarray(re))
    im = im if xp.is_tensor(im) else reference.from_numpy(np.asarray(im))
    return complex(re, im)


def _real(x: Any) -> Any:
    return x.real if _array(x) else real(x)


def _imag(x: Any) -> Any:
    return x.imag if _array(x) else imag(x)


def _conj(x: Any) -> Any:
    return np.conj(x) if _array(x) else conj(x)


def _complex_unit(z: Any) -> Any:
    """z / |z|, 0 at 0 (torch's sgn), on arrays or Tensors (recorded under create_graph)."""
    r = xp.abs(z)
    zero = np.asarray(xp.data(r)) == 0
    return xp.where(zero, 0, z / xp.where(zero, 1, r))


def _inverse(r: Any) -> Any:
    """1 / r, 0 where r is 0."""
    zero = np.asarray(xp.data(r)) == 0
    return xp.where(zero, 0, 1 / xp.where(zero, 1, r))


def _require_complex(a: np.ndarray, what: str) -> None:
    if a.dtype.kind != "c":
        raise RuntimeError(f"{what} is not implemented for tensors with non-complex dtypes.")


# -- conj, real, imag -------------------------------------------------------------------------


class Conj(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, a):
        return np.conj(a)

    @staticmethod
    def backward(ctx, g):
        return _conj(g)

    jvp = backward


class Real(Function):  # torch records real/imag as a select of view_as_real
    promotion = SAME

    @staticmethod
    def forward(ctx, a):
        return a.real

    @staticmethod
    def backward(ctx, g):
        return _complex_of(g, xp.zeros_like(g))

    @staticmethod
    def jvp(ctx, t):
        return t.real


class Imag(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, a):
        return a.imag

    @staticmethod
    def backward(ctx, g):
        return _complex_of(xp.zeros_like(g), g)

    @staticmethod
    def jvp(ctx, t):
        return t.imag


def conj(input):
    if not input.is_complex():
        return input  # torch: conj of a real tensor is the tensor itself
    return apply(Conj, "ConjBackward0", (input,))


# -- conjugate transposes: .mH, .H, .adjoint() (a transpose on real tensors, as in torch) ---------


def _conj_transpose(input, name: str, message: str):
    from reference.ops.shape_views import _warn_once, transpose

    n = input._data.ndim
    if n == 0:
        _warn_once(f"{name} 0-d", f"{name} is deprecated on 0-D tensors. Consider using x.conj().")
        return conj(input)
    if n < 2:
        raise RuntimeError(message.format(n=n))
    return conj(transpose(input, -2, -1))


def mH(input):  # noqa: N802 - the .mH property
    return _conj_transpose(
        input, "Tensor.mH", "tensor.mH is only supported on matrices or batches of matrices. Got {n}-D tensor."
    )


def adjoint(input):
    return _conj_transpose(
        input, "adjoint()", "tensor.adjoint() is only supported on matrices or batches of matrices. Got {n}-D tensor."
    )


def H(input):  # noqa: N802 - the .H property
    n = input._data.ndim
    if n > 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {n}-D tensor. For batches of "
                           "matrices, consider using tensor.mH")  # fmt: skip
    return _conj_transpose(input, "Tensor.H", "tensor.H is only supported on matrices (2-D tensors). Got {n}-D tensor.")


def conj_physical(input):
    if not input.is_complex():
        return input.clone() if input.requires_grad else input
    return apply(Conj, "ConjPhysicalBackward0", (input,))


def resolve_conj(input):
    return input  # the engine conjugates eagerly: no lazy conjugate bit to resolve


def real(input):
    if not input.is_complex():
        return input
    return apply(Real, "SelectBackward0", (input,))


def imag(input):
    _require_complex(input._data, "imag")
    return apply(Imag, "SelectBackward0", (input,))


# -- abs, sgn and angle of complex numbers ---------------------------------------------------


class ComplexAbs(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):  # d|z| = Re(conj(sgn z) dz): the gradient is g * sgn(z), 0 at 0
        (a,) = ctx.saved_tensors
        return g * _complex_unit(a)

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved_tensors
        return (np.conj(_complex_unit(a)) * t).real


class Sgn(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _complex_unit(a)

    @staticmethod
    def backward(ctx, g):
        # s = z/|z| moves only with the angle: ds = i s dθ, dθ = Im(conj(z) dz)/|z|^2, so the
        # gradient is (g - s Re(conj(g) s)) / |z|  (0 at z = 0, as torch's sgn_backward)
        (a,) = ctx.saved_tensors
        s = _complex_unit(a)
        return (g - s * _real(_conj(g) * s)) * _inverse(xp.abs(a))

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved_tensors
        s = _complex_unit(a)
        return (t - s * (np.conj(s) * t).real) * _inverse(np.abs(a))


class Angle(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        if a.dtype.kind != "c":
            return np.where(a < 0, np.pi, np.where(np.isnan(a), a, 0)).astype(a.dtype)
        return np.angle(a).astype(a.real.dtype)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        if xp.data(a).dtype.kind != "c":
            return xp.zeros_like(g)  # piecewise constant on the reals
        # θ = atan2(y, x): the gradient g (dθ/dx + i dθ/dy) = g i z / |z|^2, 0 at z = 0
        return g * (a * 1j) * _inverse(_real(a * _conj(a)))

    @staticmethod
    def jvp(ctx, t):
        (a,) = ctx.saved_tensors
        if a.dtype.kind != "c":
            return np.zeros_like(t)
        return (np.conj(a) * t).imag * _inverse((a * np.conj(a)).real)


def complex_abs(input):
    return apply(ComplexAbs, "AbsBackward0", (input,))


def sgn(input):
    if not input.is_complex():
        from reference.ops.pointwise.piecewise import sign

        return sign(input)
    return apply(Sgn, "SgnBackward0", (input,))


def angle(input):
    data = input._data
    if data.dtype.kind not in "fc":
        input = input.to(dtypes.get_default_dtype())
    return apply(Angle, "AngleBackward0", (input,))


# -- view_as_real, view_as_complex, complex, polar -------------------------------------------


def _contiguous(a: np.ndarray) -> np.ndarray:
    """``a`` in C order, its dims kept (np.ascontiguousarray makes a 0-d array 1-d)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else a.copy(order="C")


def _as_real_view(z: np.ndarray) -> np.ndarray:
    return z[..., None].view(z.real.dtype)  # (..., 2): a view, as torch's


def _as_complex_view(x: np.ndarray) -> np.ndarray:
    if x.strides[-1] == x.itemsize:
        return x.view(np.complex64 if x.dtype == np.float32 else np.complex128)[..., 0]
    return x[..., 0] + 1j * x[..., 1]  # a gradient laid out otherwise: a copy will do


class ViewAsReal(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, a):
        return _as_real_view(a)

    @staticmethod
    def backward(ctx, g):
        return _as_complex_view(_contiguous(g)) if _array(g) else view_as_complex(g.contiguous())

    @staticmethod
    def jvp(ctx, t):
        return _as_real_view(_contiguous(t))


class ViewAsComplex(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, a):
        return _as_complex_view(a)

    @staticmethod
    def backward(ctx, g):
        return _as_real_view(_contiguous(g)) if _array(g) else view_as_real(g)

    @staticmethod
    def jvp(ctx, t):
        return _as_complex_view(_contiguous(t))


def view_as_real(input):
    _require_complex(input._data, "view_as_real")
    return apply(ViewAsReal, "ViewAsRealBackward0", (input,))


def view_as_complex(input):
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError(
            "view_as_complex is only supported for floating point tensors, but got a tensor of scalar type: "
            + dtypes.scalar_type_name(a.dtype)
        )
    if a.ndim == 0 or a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if a.size and a.strides[-1] != a.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    return apply(ViewAsComplex, "ViewAsComplexBackward0", (input,))


class Complex(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, re, im):
        return _complex_of(re, im)

    @staticmethod
    def backward(ctx, g):
        return _real(g), _imag(g)

    @staticmethod
    def jvp(ctx, tr, ti):
        return _complex_of(0 if tr is None else tr, 0 if ti is None else ti)


class Polar(Function):
    promotion = SAME

    @staticmethod
    def forward(ctx, r, theta):
        ctx.save_for_backward(r, theta)
        return r * _complex_of(np.cos(theta), np.sin(theta))

    @staticmethod
    def backward(ctx, g):
        # y = r e^{iθ}: dy/dr = e^{iθ}, dy/dθ = i y; a real input's gradient is Re(g conj(dy/dx))
        r, theta = ctx.saved_tensors
        unit = _complex_of(xp.cos(theta), xp.sin(theta))
        return _real(g * _conj(unit)), _imag(g * _conj(r * unit))

    @staticmethod
    def jvp(ctx, tr, ti):
        r, theta = ctx.saved_tensors
        unit = _complex_of(np.cos(theta), np.sin(theta))
        out = r * unit
        total = 0
        if tr is not None:
            total = total + tr * unit
        if ti is not None:
            total = total + ti * (out * 1j)
        return total


def _same_float(name: str, a: Any, b: Any) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {dtypes.scalar_type_name(a._data.dtype)} but got scalar type "
            f"{dtypes.scalar_type_name(b._data.dtype)} for second argument"
        )
    if a._data.dtype.kind != "f":
        raise RuntimeError(
            f"Expected both inputs to be Half, Float or Double tensors but got "
            f"{dtypes.scalar_type_name(a._data.dtype)} and {dtypes.scalar_type_name(b._data.dtype)}"
        )


def complex(real, imag):
    real, imag = operand(real), operand(imag)
    _same_float("complex", real, imag)
    return apply(Complex, "ComplexBackward0", (real, imag))


def polar(abs, angle):
    abs, angle = operand(abs), operand(angle)
    _same_float("polar", abs, angle)
    return apply(Polar, "PolarBackward0", (abs, angle))


FUNCTIONS = ("adjoint", "angle", "complex", "conj", "conj_physical", "imag", "polar", "real", "resolve_conj", "sgn",
             "view_as_complex", "view_as_real")  # fmt: skip
METHODS = {"conj": conj, "conj_physical": conj_physical, "resolve_conj": resolve_conj, "angle": angle, "sgn": sgn,
           "adjoint": adjoint}  # fmt: skip
PROPERTIES = {"real": real, "imag": imag, "mH": mH, "H": H}
__all__ = list(FUNCTIONS)
