"""Complex cases: drawn as view_as_real pairs, checked as real functions of the real and
imaginary parts (torch's gradcheck does the same), and a dropped conjugate is caught.

torch's convention, the example in the README: for z = x + iy and the real loss L = |z|^2,
z.grad is dL/dx + i dL/dy = 2x + 2iy = 2z. So mul's backward multiplies by conj(other);
an engine that forgets the conjugate gives another number, which the real check rejects.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import reference
from gradcheck_suite import runner
from gradcheck_suite.cases_io import decode_case, encode_case
from gradcheck_suite.catalogue import CATALOGUE
from gradcheck_suite.catalogue.complex_view import as_checked, numeric_dtype
from gradcheck_suite.checking.case import CaseChecker
from gradcheck_suite.engines import get_engine
from gradcheck_suite.engines.protocol import can_check
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.strategies import cases
from reference.ops import complex_ops, decompositions
from reference.ops.pointwise import arithmetic


@pytest.fixture(scope="module")
def oracle():
    return torch_oracle()


def _stream(op: str, dtype: str, engine, oracle, examples: int = 8) -> list:
    records: list = []
    checker = CaseChecker(engine, oracle)
    runner.run_stream(CATALOGUE[op], dtype, checker, seed=0, examples=examples, run_id="cx", sink=records.extend)
    return records


def test_the_convention_on_the_readme_example():
    """|z|^2's gradient is 2z in torch and in the engine (not 2 conj(z), not 2 Re z)."""
    for ns in (torch, reference):
        z = ns.tensor([3.0 + 4.0j], requires_grad=True)
        (z * z.conj()).real.sum().backward()
        assert complex(z.grad[0].item() if ns is torch else z.grad._data[0]) == pytest.approx(6.0 + 8.0j)


def test_a_complex_case_is_drawn_as_real_pairs():
    op = CATALOGUE["mul"]
    for dtype in ("complex64", "complex128"):
        case = cases(op, dtype).example()
        assert case.op.complex_inputs == (0, 1) and not case.op.analytic and case.op.kinks is None
        assert all(x.dtype == np.dtype(numeric_dtype(dtype)) and x.shape[-1] == 2 for x in case.inputs)
        again = decode_case(encode_case(case))  # replay rebuilds the same checked op
        assert again.op.complex_inputs == (0, 1) and again.dtype == dtype
    assert as_checked(op, "float32") is op  # real dtypes are untouched
    assert as_checked(CATALOGUE["polar"], "float64").complex_output  # a complex output in a real dtype


@pytest.mark.parametrize(
    "op,dtype",
    [("mul", "complex128"), ("conj", "complex64"), ("angle", "complex128"), ("polar", "float64"),
     ("fft.fft", "complex64"), ("fft.rfft", "float32"), ("view_as_complex", "float64"),
     ("linalg.eigh", "complex128"), ("linalg.svd", "complex64")],
)  # fmt: skip
def test_the_reference_engine_passes(op, dtype, oracle):
    records = _stream(op, dtype, get_engine("reference"), oracle)
    assert records and all(r.dtype == dtype for r in records)
    failed = [(r.check, r.verdict, r.rule) for r in records if r.failed]
    assert not failed, failed


@pytest.mark.parametrize("op,target", [("mul", (arithmetic.Mul, "backward")), ("conj", (complex_ops.Conj, "backward"))])
def test_a_dropped_conjugate_is_an_engine_bug(op, target, oracle, monkeypatch):
    cls, name = target
    if op == "mul":
        no_conj = staticmethod(lambda ctx, g: (g * ctx.saved_tensors[1], g * ctx.saved_tensors[0]))
        monkeypatch.setattr(cls, name, no_conj)
    else:
        monkeypatch.setattr(cls, name, staticmethod(lambda ctx, g: g))
    records = _stream(op, "complex128", get_engine("reference"), oracle)
    verdicts = {(r.check, r.verdict) for r in records if r.failed}
    assert ("vjp-fd", "engine-bug") in verdicts and ("vjp-torch", "engine-bug") in verdicts, verdicts
    assert not any(r.failed for r in records if r.check.startswith("jvp")), "forward mode was left alone"


def test_a_dropped_phase_term_in_svd_is_an_engine_bug(oracle, monkeypatch):
    """svd's backward without the phase term i Im(diag(U^H gU) - diag(V^H gV)) / 2S (exact for
    real matrices, wrong for complex ones): caught in complex, silent in real."""
    real_backward = decompositions._svd_backward

    def without_phase(u, s, vh, gu, gs, gvh):
        if type(u) is not np.ndarray or u.dtype.kind != "c" or gu is None:  # first-order, complex only
            return real_backward(u, s, vh, gu, gs, gvh)
        uhgu = u.conj().swapaxes(-1, -2) @ gu
        phase = 0.5j * np.diagonal(uhgu, axis1=-2, axis2=-1).imag / s  # torch's half, on the U side
        return real_backward(u, s, vh, gu, gs, gvh) - (u * phase[..., None, :]) @ vh * 2

    monkeypatch.setattr(decompositions, "_svd_backward", without_phase)
    complex_records = _stream("linalg.svd", "complex128", get_engine("reference"), oracle)
    verdicts = {(r.check, r.verdict) for r in complex_records if r.failed}
    assert ("vjp-fd", "engine-bug") in verdicts and ("vjp-torch", "engine-bug") in verdicts, verdicts
    real_records = _stream("linalg.svd", "float64", get_engine("reference"), oracle)
    assert not any(r.failed for r in real_records)


def test_an_engine_without_complex_support_is_unsupported(oracle):
    pytest.importorskip("autograd")
    hips = get_engine("autograd")
    assert can_check(hips, CATALOGUE["mul"]) and not can_check(hips, as_checked(CATALOGUE["mul"], "complex64"))
    records: list = []
    runner.run([CATALOGUE["mul"]], ["float64", "complex64"], CaseChecker(hips, oracle), seed=0, examples=2,
               run_id="cx", sink=records.extend)  # fmt: skip
    assert {r.dtype for r in records if r.verdict == "unsupported"} == {"complex64"}
    assert all("complex_numbers = True" in r.rule for r in records if r.verdict == "unsupported")
