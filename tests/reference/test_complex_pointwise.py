"""Elementwise ops on complex64/complex128 against torch: values, dtypes, node names, gradients
for complex cotangents (g conj(f')), forward-mode tangents (f' t), double backward, promotion
of mixed real/complex operands and Python complex scalars, and torch's errors for ops without
complex support."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference

RTOL = {"complex64": 2e-5, "complex128": 1e-11}
DTYPES = ("complex64", "complex128")


def _z(rng: np.random.Generator, n: int = 5) -> np.ndarray:
    """Away from every branch cut of the ops below: real part in [0.3, 0.9], |imag| in [0.2, 0.6]
    (the cuts lie on the real axis beyond +-1 or left of 0, or on the imaginary axis beyond +-i)."""
    re = rng.uniform(0.3, 0.9, n)
    im = rng.uniform(0.2, 0.6, n) * rng.choice([-1.0, 1.0], n)
    return re + 1j * im


def _close(got, want, dtype, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != torch's {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != torch's {want.shape}"
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=RTOL[dtype], err_msg=what)


def _check(program, dtype, *arrays):
    """Run ``program(ns, dt, *arrays)`` on torch and the engine; compare every observation."""
    want = program(torch, getattr(torch, dtype), *arrays)
    got = program(reference, getattr(reference, dtype), *arrays)
    assert got.keys() == want.keys()
    for key in want:
        if isinstance(want[key], str) or want[key] is None:
            assert got[key] == want[key], f"{key}: {got[key]!r} != torch's {want[key]!r}"
        else:
            _close(got[key], want[key], dtype, key)


def _numpy(t):
    return None if t is None else t.detach().resolve_conj().numpy().copy()


_AS_COMPLEX = {"float32": "complex64", "float64": "complex128"}


def _tangent_dtype(ns, real_dtype):
    """The dtype a real input's dual is made in. torch's forward mode keeps only the real part
    of a real input's term for some ops (pow's, rsub's), though the derivative is complex; so on
    torch the dual is the complex input of equal values, whose tangent is the true one."""
    return getattr(ns, _AS_COMPLEX[real_dtype] if ns is torch else real_dtype)


UNARY = {
    "exp": lambda ns, x: ns.exp(x), "exp2": lambda ns, x: ns.exp2(x), "expm1": lambda ns, x: ns.expm1(x),
    "log": lambda ns, x: ns.log(x), "log1p": lambda ns, x: ns.log1p(x), "log2": lambda ns, x: ns.log2(x),
    "log10": lambda ns, x: ns.log10(x), "sqrt": lambda ns, x: ns.sqrt(x), "rsqrt": lambda ns, x: ns.rsqrt(x),
    "reciprocal": lambda ns, x: ns.reciprocal(x), "square": lambda ns, x: ns.square(x),
    "sin": lambda ns, x: ns.sin(x), "cos": lambda ns, x: ns.cos(x), "tan": lambda ns, x: ns.tan(x),
    "asin": lambda ns, x: ns.asin(x), "acos": lambda ns, x: ns.acos(x), "atan": lambda ns, x: ns.atan(x),
    "sinh": lambda ns, x: ns.sinh(x), "cosh": lambda ns, x: ns.cosh(x), "tanh": lambda ns, x: ns.tanh(x),
    "asinh": lambda ns, x: ns.asinh(x), "acosh": lambda ns, x: ns.acosh(x), "atanh": lambda ns, x: ns.atanh(x),
    "sigmoid": lambda ns, x: ns.sigmoid(x), "neg": lambda ns, x: -x,
    "pow_2": lambda ns, x: x**2, "pow_3": lambda ns, x: x**3, "pow_half": lambda ns, x: x**0.5,
    "pow_0": lambda ns, x: x**0, "pow_complex": lambda ns, x: x ** (1.5 + 0.5j),
    "rpow_2": lambda ns, x: 2**x, "rpow_neg": lambda ns, x: (-2.0) ** x, "rpow_complex": lambda ns, x: (0.5 + 1j) ** x,
    "rsub": lambda ns, x: 1.5 - x, "rsub_complex": lambda ns, x: (1 - 2j) - x, "rdiv": lambda ns, x: (2 + 1j) / x,
    "mul_scalar": lambda ns, x: x * (0.5 - 2j), "add_scalar": lambda ns, x: x + 1j, "sub_scalar": lambda ns, x: x - 3,
    "div_scalar": lambda ns, x: x / (1 + 1j),
    "ldexp": lambda ns, x: ns.ldexp(x, ns.tensor([1.0, -1.0, 2.0, 0.0, 3.0])),
}  # fmt: skip


def _unary_program(f, z, gout, tan):
    def program(ns, dt):
        x = ns.tensor(z, dtype=dt, requires_grad=True)
        y = f(ns, x)
        y.backward(gradient=ns.tensor(gout, dtype=y.dtype))
        fwad = ns.autograd.forward_ad
        with fwad.dual_level():
            dual = fwad.make_dual(ns.tensor(z, dtype=dt), ns.tensor(tan, dtype=dt))
            tangent = fwad.unpack_dual(f(ns, dual)).tangent
        return {
            "value": _numpy(y),
            "grad_fn": type(y.grad_fn).__name__,
            "grad": _numpy(x.grad),
            "tangent": _numpy(tangent),
        }

    return program


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, dtype):
    rng = np.random.default_rng(abs(hash((name, dtype))) % 2**32)
    z, gout, tan = _z(rng), _z(rng) - 0.6, _z(rng) - 0.6
    _check(_unary_program(UNARY[name], z, gout, tan), dtype)


BINARY = {
    "add": lambda ns, a, b: a + b, "sub": lambda ns, a, b: a - b, "mul": lambda ns, a, b: a * b,
    "div": lambda ns, a, b: a / b, "pow": lambda ns, a, b: a**b,
    "add_alpha": lambda ns, a, b: ns.add(a, b, alpha=0.5 - 1.5j),
    "sub_alpha": lambda ns, a, b: ns.sub(a, b, alpha=2j), "sub_alpha_real": lambda ns, a, b: ns.sub(a, b, alpha=3),
    "rsub_alpha": lambda ns, a, b: ns.rsub(a, b, alpha=1 + 1j),
    "mul_chain": lambda ns, a, b: (a * b + a) / (b - 2),
    "addcmul": lambda ns, a, b: ns.addcmul(a, a, b, value=2j),
    "addcdiv": lambda ns, a, b: ns.addcdiv(b, a, b + 3, value=0.5),
}  # fmt: skip

# Both operands complex only: torch's lerp wants one dtype, and torch 2.13's logaddexp of a complex
# and a real tensor raises in backward (its gradient for the real operand is complex).
BOTH_COMPLEX = {
    "logaddexp": lambda ns, a, b: ns.logaddexp(a, b), "lerp": lambda ns, a, b: ns.lerp(a, b, 0.3 + 0.2j),
    "lerp_tensor": lambda ns, a, b: ns.lerp(a, b, b * 0.5),
}  # fmt: skip


def _binary_program(f, za, zb, gout, ta, tb, real_b=None):
    """Both operands complex of ``dt``, or with ``real_b`` (a dtype name) a real second operand."""

    def program(ns, dt):
        dtb = dt if real_b is None else getattr(ns, real_b)
        bval = zb if real_b is None else zb.real
        a = ns.tensor(za, dtype=dt, requires_grad=True)
        b = ns.tensor(bval, dtype=dtb, requires_grad=True)
        y = f(ns, a, b)
        y.backward(gradient=ns.tensor(gout, dtype=y.dtype))
        fwad = ns.autograd.forward_ad
        with fwad.dual_level():
            da = fwad.make_dual(ns.tensor(za, dtype=dt), ns.tensor(ta, dtype=dt))
            tb_val, dtt = (tb, dt) if real_b is None else (tb.real, _tangent_dtype(ns, real_b))
            db = fwad.make_dual(ns.tensor(bval, dtype=dtt), ns.tensor(tb_val, dtype=dtt))
            tangent = fwad.unpack_dual(f(ns, da, db)).tangent
        return {
            "value": _numpy(y),
            "dtype": str(y.dtype),
            "grad_fn": type(y.grad_fn).__name__,
            "grad_a": _numpy(a.grad),
            "grad_b": _numpy(b.grad),
            "tangent": _numpy(tangent),
        }

    return program


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, dtype):
    rng = np.random.default_rng(abs(hash((name, dtype))) % 2**32)
    za, zb, gout, ta, tb = _z(rng), _z(rng), _z(rng) - 0.6, _z(rng) - 0.6, _z(rng) - 0.6
    real_b = "float32" if dtype == "complex64" else "float64"
    _check(_binary_program(BINARY[name], za, zb, gout, ta, tb), dtype)
    _check(_binary_program(BINARY[name], za, zb, gout, ta, tb, real_b=real_b), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BOTH_COMPLEX))
def test_binary_both_complex(name, dtype):
    rng = np.random.default_rng(abs(hash((name, dtype))) % 2**32)
    za, zb, gout, ta, tb = _z(rng), _z(rng), _z(rng) - 0.6, _z(rng) - 0.6, _z(rng) - 0.6
    _check(_binary_program(BOTH_COMPLEX[name], za, zb, gout, ta, tb), dtype)


@pytest.mark.parametrize(
    ("name", "complex_dtype", "real_dtype"),
    [("mul", "complex64", "float64"), ("div", "complex64", "float64"), ("add", "complex128", "float32"),
     ("pow", "complex64", "float64"), ("sub", "complex64", "float64")],
)  # fmt: skip
def test_mixed_promotion(name, complex_dtype, real_dtype):
    """complex64 op float64 is complex128 in torch; the real operand's gradient is real."""
    rng = np.random.default_rng(7)
    za, zb, gout, ta, tb = _z(rng), _z(rng), _z(rng) - 0.6, _z(rng) - 0.6, _z(rng) - 0.6
    program = _binary_program(BINARY[name], za, zb, gout, ta, tb, real_b=real_dtype)
    want = program(torch, getattr(torch, complex_dtype))
    got = program(reference, getattr(reference, complex_dtype))
    assert got["dtype"] == want["dtype"] == "torch.complex128"
    for key in ("value", "grad_a", "grad_b", "tangent"):
        tol = 2e-5  # one operand was float32 or complex64
        assert got[key].dtype == want[key].dtype, key
        np.testing.assert_allclose(got[key], want[key], rtol=tol, atol=tol, err_msg=key)


SCALAR_CASES = {
    "float32_times_1j": lambda ns, x: x * 1j,
    "float64_times_complex": lambda ns, x: (0.5 - 2j) * x,
    "float32_plus_complex": lambda ns, x: x + (1 + 1j),
    "float32_rsub_complex": lambda ns, x: (1 + 1j) - x,
    "float32_rdiv_complex": lambda ns, x: 1j / x,
    "float32_pow_complex": lambda ns, x: x ** (0.5 + 1j),
    "complex_rpow_float32": lambda ns, x: (1 + 1j) ** x,
    "float_times_0d_complex": lambda ns, x: x * ns.tensor(1 - 1j, dtype=ns.complex128),
}


# float32 * (0-d complex128) is complex64 in torch; reference.dtypes.result_type gives complex128
@pytest.mark.parametrize("real_dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
def test_real_tensor_complex_scalar(name, real_dtype):
    rng = np.random.default_rng(3)
    xv = rng.uniform(0.3, 1.2, 4)
    gout = _z(rng, 4)
    f = SCALAR_CASES[name]

    def program(ns):
        x = ns.tensor(xv, dtype=getattr(ns, real_dtype), requires_grad=True)
        y = f(ns, x)
        y.backward(gradient=ns.tensor(gout, dtype=y.dtype))
        fwad = ns.autograd.forward_ad
        with fwad.dual_level():
            dtt = _tangent_dtype(ns, real_dtype)
            dual = fwad.make_dual(ns.tensor(xv, dtype=dtt), ns.ones(4, dtype=dtt))
            tangent = fwad.unpack_dual(f(ns, dual)).tangent
        return {"value": _numpy(y), "dtype": str(y.dtype), "grad": _numpy(x.grad), "tangent": _numpy(tangent)}

    want, got = program(torch), program(reference)
    assert got["dtype"] == want["dtype"]
    for key in ("value", "grad", "tangent"):
        assert got[key].dtype == want[key].dtype, key
        np.testing.assert_allclose(got[key], want[key], rtol=2e-5, atol=2e-5, err_msg=key)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_dim(dtype):
    rng = np.random.default_rng(11)
    za, zb = _z(rng, 1)[0], _z(rng, 3)
    gout = _z(rng, 3)

    def program(ns, dt):
        a = ns.tensor(za, dtype=dt, requires_grad=True)  # 0-d
        b = ns.tensor(zb, dtype=dt, requires_grad=True)
        y = ns.sin(a) * b / a
        y.backward(gradient=ns.tensor(gout, dtype=y.dtype))
        return {
            "value": _numpy(y),
            "grad_a": _numpy(a.grad),
            "grad_b": _numpy(b.grad),
            "grad_fn": type(y.grad_fn).__name__,
        }

    _check(program, dtype)


DOUBLE = {
    "mul": lambda ns, x: x * x * (0.5 + 1j), "div": lambda ns, x: (x + 1j) / x, "exp": lambda ns, x: ns.exp(x),
    "log": lambda ns, x: ns.log(x), "sin": lambda ns, x: ns.sin(x), "sqrt": lambda ns, x: ns.sqrt(x),
    "tanh": lambda ns, x: ns.tanh(x), "sigmoid": lambda ns, x: ns.sigmoid(x),
    "reciprocal": lambda ns, x: ns.reciprocal(x), "pow_scalar": lambda ns, x: x ** (2.5 - 0.5j),
    "pow_tensor": lambda ns, x: x ** (x * 0.5), "rpow": lambda ns, x: (1 + 2j) ** x, "atan": lambda ns, x: ns.atan(x),
}  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(DOUBLE))
def test_double_backward(name, dtype):
    """The gradient taken with create_graph, then the gradient of a real function of it."""
    rng = np.random.default_rng(abs(hash((name, dtype))) % 2**32)
    z, v, w = _z(rng), _z(rng) - 0.6, _z(rng) - 0.6
    f = DOUBLE[name]

    def program(ns, dt):
        x = ns.tensor(z, dtype=dt, requires_grad=True)
        (g,) = ns.autograd.grad(f(ns, x), x, grad_outputs=ns.tensor(v, dtype=dt), create_graph=True)
        loss = (g * ns.tensor(w, dtype=dt)).real.sum()
        loss.backward()
        return {"g": _numpy(g), "grad": _numpy(x.grad)}

    _check(program, dtype)


def _z64():
    return np.array([0.5 + 0.5j, 1 - 1j], np.complex64)


UNSUPPORTED = {
    "relu": lambda ns, x: ns.relu(x), "erf": lambda ns, x: ns.erf(x), "erfc": lambda ns, x: ns.erfc(x),
    "erfinv": lambda ns, x: ns.erfinv(x), "lgamma": lambda ns, x: ns.lgamma(x), "digamma": lambda ns, x: ns.digamma(x),
    "i0": lambda ns, x: ns.i0(x), "deg2rad": lambda ns, x: ns.deg2rad(x), "rad2deg": lambda ns, x: ns.rad2deg(x),
    "floor": lambda ns, x: ns.floor(x), "ceil": lambda ns, x: ns.ceil(x), "trunc": lambda ns, x: ns.trunc(x),
    "round": lambda ns, x: ns.round(x), "sign": lambda ns, x: ns.sign(x),
    "clamp": lambda ns, x: ns.clamp(x, min=0.1), "clamp_tensor": lambda ns, x: ns.clamp(x, min=x),
    "maximum": lambda ns, x: ns.maximum(x, x), "minimum": lambda ns, x: ns.minimum(x, x),
    "atan2": lambda ns, x: ns.atan2(x, x), "remainder": lambda ns, x: ns.remainder(x, x),
    "fmod": lambda ns, x: ns.fmod(x, x), "copysign": lambda ns, x: ns.copysign(x, x),
    "div_floor": lambda ns, x: ns.div(x, x, rounding_mode="floor"),
    "div_trunc": lambda ns, x: ns.div(x, x, rounding_mode="trunc"),
    "real_alpha_complex": lambda ns, x: ns.add(x.real, x.real, alpha=1j),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_raise_as_torch(name):
    f = UNSUPPORTED[name]
    with pytest.raises(RuntimeError) as want:
        f(torch, torch.tensor(_z64()))
    with pytest.raises(RuntimeError) as got:
        f(reference, reference.tensor(_z64()))
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value)


def test_real_path_returns_same_saved_array():
    """conj on a real saved array is the array itself: the real path copies nothing."""
    from reference.autograd import arrayops as xp

    a = np.ones(3)
    assert xp.conj(a) is a
    c = np.ones(3, np.complex64) * 1j
    np.testing.assert_array_equal(xp.conj(c), -c)
