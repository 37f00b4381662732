"""``str`` of complex reference tensors against torch 2.13's own printing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import reference

NAN, INF = math.nan, math.inf
_rng = np.random.default_rng(0)

# Each case is the values (nested lists or an array) and the print options for both printers.
CASES = {
    "0d-int": (1 + 2j, {}),
    "0d-frac": (1.5 - 0.25j, {}),
    "0d-neg-zero-imag": (complex(3.0, -0.0), {}),
    "0d-zero": (0j, {}),
    "0d-nan-imag": (complex(1.0, NAN), {}),
    "0d-sci": (complex(1e-5, 2e9), {}),
    "1d-int": ([1 + 2j, -3 - 4j, 10 + 0j], {}),
    "1d-mixed-modes": ([1.5 - 2j, complex(NAN, 1), complex(0, -0.0)], {}),
    "1d-inf": ([complex(INF, -INF), 1 + 1j, complex(-INF, 2.5)], {}),
    "1d-all-nan": ([complex(NAN, NAN)] * 2, {}),
    "1d-neg-zero-both": ([complex(-0.0, -0.0), complex(0.0, 0.0)], {}),
    "1d-sci-real-only": ([1e-5 + 1j, 3 + 2j], {}),
    "1d-sci-imag-only": ([1 + 1e10j, 2 - 3j], {}),
    "1d-sci-both": ([1e-5 + 1e9j, 3 + 0j], {}),
    "1d-big-ratio": ([0.5 + 1j, 1000.5 - 2j], {}),
    "1d-wide-int": ([123456 + 1j, -7 - 7654321j], {}),
    "1d-wrap": (_rng.standard_normal(30) + 1j * _rng.standard_normal(30), {}),
    "2d": ([[1 + 1j, 2.5 - 3j], [-4 + 0.125j, 5 - 6j]], {}),
    "3d": (np.arange(12).reshape(2, 3, 2) * (0.5 - 1.25j), {}),
    "summarized": (np.arange(2000) * (1 + 0.5j), {}),
    "summarized-2d": ((_rng.standard_normal((40, 40)) + 1j) * 3, {}),
    "precision-2": ([1.23456 + 6.54321j, -0.5 - 0.1j], {"precision": 2}),
    "precision-8": ([1.23456789 + 6.54321j, -0.5 - 0.1j], {"precision": 8}),
    "sci-forced": ([1.5 + 2j, 3 - 4.25j], {"sci_mode": True}),
    "sci-off": ([1e-8 + 1e10j, 3 - 4j], {"sci_mode": False}),
    "linewidth-40": (np.arange(10) * (1.5 + 2j), {"linewidth": 40}),
    "edgeitems-1": (np.arange(30) * (1 - 1j), {"threshold": 5, "edgeitems": 1}),
    "profile-short": (np.arange(2000) * (0.333 + 1j), {"profile": "short"}),
    "empty-1d": (np.zeros(0, np.complex128), {}),
    "empty-2d": (np.zeros((2, 0), np.complex128), {}),
}


@pytest.fixture(autouse=True)
def _defaults():
    """Print options and the default dtype start and end every test at their defaults."""
    torch.set_printoptions(profile="default")
    reference.set_printoptions(profile="default")
    yield
    torch.set_printoptions(profile="default")
    reference.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    reference.set_default_dtype(reference.float32)


def _pair(values, dtype: str, requires_grad: bool = False):
    a = np.asarray(values, dtype=np.complex128)
    t = torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    r = reference.tensor(a, dtype=getattr(reference, dtype), requires_grad=requires_grad)
    return t, r


def _check(t: torch.Tensor, r: reference.Tensor, opts: dict) -> str:
    with torch._tensor_str.printoptions(**opts), reference.printoptions(**opts):
        expected, got = str(t), str(r)
    assert got == expected, f"\n--- ours ---\n{got}\n--- torch ---\n{expected}"
    return got


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name: str, dtype: str) -> None:
    values, opts = CASES[name]
    t, r = _pair(values, dtype)
    _check(t, r, opts)
    if t.numel():  # the autograd suffixes sit after the dtype one and may wrap
        t, r = _pair(values, dtype, requires_grad=True)
        _check(t, r, opts)
        _check(t * 2, r * 2, opts)


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", ["0d-frac", "1d-mixed-modes", "2d", "empty-1d", "empty-2d"])
def test_dtype_suffix_follows_default_dtype(name: str, dtype: str, default: str) -> None:
    torch.set_default_dtype(getattr(torch, default))
    reference.set_default_dtype(getattr(reference, default))
    values, opts = CASES[name]
    got = _check(*_pair(values, dtype), opts)
    # Only the default-matching complex type of a non-empty tensor goes unannotated.
    hidden = dtype == {"float32": "complex64", "float64": "complex128"}[default] and "[]" not in got
    assert ("dtype=torch." + dtype in got) != hidden


def test_python_complex_literal_is_default_complex() -> None:
    got = _check(torch.tensor([1 + 2j]), reference.tensor([1 + 2j]), {})
    assert got == "tensor([1.+2.j])"


def test_dual_tensor_prints_complex_tangent() -> None:
    import torch.autograd.forward_ad as tfwd

    import reference.autograd.forward_ad as rfwd

    p, d = [1 + 2j, 3j], [0.5 - 1j, complex(2, -0.0)]
    with tfwd.dual_level():
        expected = str(tfwd.make_dual(torch.tensor(p), torch.tensor(d)))
    with rfwd.dual_level():
        got = str(rfwd.make_dual(reference.tensor(p), reference.tensor(d)))
    assert got == expected
