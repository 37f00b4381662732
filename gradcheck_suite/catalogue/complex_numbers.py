"""Complex numbers: real, imag, conj, angle, sgn, view_as_real / view_as_complex, complex and
polar, and the FFT family (fft, ifft, rfft, irfft, fft2). How a complex case is checked (as a
function of real and imaginary parts, torch's convention): complex_view.py. Ops elsewhere in
the catalogue list ``dtypes=FLOAT_AND_COMPLEX`` where torch differentiates them in complex.
"""

from __future__ import annotations

from hypothesis import strategies as st

from gradcheck_suite.catalogue.complex_view import COMPLEX_DTYPES, FLOAT_AND_COMPLEX, REAL_DTYPES
from gradcheck_suite.catalogue.spec import NONZERO, POSITIVE, REAL, op
from gradcheck_suite.strategies import broadcast_shapes, shapes

NORMS = (None, "backward", "forward", "ortho")


def _pairs_shape():
    """One shape ending in 2 (view_as_complex's real and imaginary parts)."""
    return shapes(max_dims=3).map(lambda s: (s[0] + (2,),))


def _fft_kwargs(two_d: bool):
    """n (or s) shorter, equal or longer than the transformed dims (None: their length), dim, norm."""

    def build(shapes_):
        (shape,) = shapes_
        nd = len(shape)
        norm = st.sampled_from(NORMS)
        if two_d:
            if nd < 2:
                return st.fixed_dictionaries({"norm": norm, "dim": st.just(None)})
            sides = st.one_of(st.none(), st.tuples(st.integers(1, 5), st.integers(1, 5)))
            return st.fixed_dictionaries({"s": sides, "dim": st.just((-2, -1)), "norm": norm})
        if nd == 0:
            return st.fixed_dictionaries({"norm": norm, "dim": st.just(None)})
        return st.fixed_dictionaries(
            {"n": st.one_of(st.none(), st.integers(1, 6)), "dim": st.integers(-nd, nd - 1), "norm": norm}
        )

    return build


def _transform(name: str):
    def run(ns, a, norm=None, dim=None, **size):
        kwargs = {"norm": norm, **size}
        if dim is not None:
            kwargs["dim"] = dim
        return getattr(ns.fft, name)(a, **kwargs)

    return run


def _fft_shapes(min_dims: int, min_side: int = 1):
    # no empty dims: torch's FFTs refuse a transform of length 0 (irfft's default length is
    # 2 (m - 1): m = 1 would be one)
    return shapes(min_dims=min_dims, max_dims=3, min_side=min_side)


OPS = [
    op(
        "real",
        "complex_numbers",
        lambda ns, a: a.real,
        shapes(),
        (REAL,),
        dtypes=COMPLEX_DTYPES,
        doc="SelectBackward0: the real part, a view",
    ),
    op(
        "imag",
        "complex_numbers",
        lambda ns, a: a.imag,
        shapes(),
        (REAL,),
        dtypes=COMPLEX_DTYPES,
        doc="SelectBackward0: the imaginary part, a view",
    ),
    op(
        "conj",
        "complex_numbers",
        lambda ns, a: ns.conj(a),
        shapes(),
        (REAL,),
        dtypes=COMPLEX_DTYPES,
        doc="ConjBackward0 (torch: a lazy conjugate view)",
    ),
    op(
        "conj_physical",
        "complex_numbers",
        lambda ns, a: ns.conj_physical(a),
        shapes(),
        (REAL,),
        dtypes=COMPLEX_DTYPES,
        doc="ConjPhysicalBackward0",
    ),
    op(
        "angle",
        "complex_numbers",
        lambda ns, a: ns.angle(a),
        shapes(),
        (NONZERO,),
        dtypes=FLOAT_AND_COMPLEX,
        doc="AngleBackward0: atan2(imag, real); piecewise constant (0 or pi) on real inputs",
    ),
    op(
        "sgn",
        "complex_numbers",
        lambda ns, a: ns.sgn(a),
        shapes(),
        (NONZERO,),
        dtypes=COMPLEX_DTYPES,
        doc="SgnBackward0: z / |z|",
    ),
    op(
        "view_as_real",
        "complex_numbers",
        lambda ns, a: ns.view_as_real(a),
        shapes(max_dims=3),
        (REAL,),
        dtypes=COMPLEX_DTYPES,
        doc="ViewAsRealBackward0",
    ),
    op(
        "view_as_complex",
        "complex_numbers",
        lambda ns, a: ns.view_as_complex(a),
        _pairs_shape(),
        (REAL,),
        dtypes=REAL_DTYPES,
        complex_output=True,
        doc="ViewAsComplexBackward0",
    ),
    op(
        "complex",
        "complex_numbers",
        lambda ns, a, b: ns.complex(a, b),
        broadcast_shapes(2),
        (REAL, REAL),
        dtypes=REAL_DTYPES,
        complex_output=True,
        doc="ComplexBackward0: real + i imag, broadcast",
    ),
    op(
        "polar",
        "complex_numbers",
        lambda ns, a, b: ns.polar(a, b),
        broadcast_shapes(2),
        (POSITIVE, REAL),
        dtypes=REAL_DTYPES,
        complex_output=True,
        doc="PolarBackward0: abs * exp(i angle)",
    ),
    # -- the FFT family: linear maps, so every derivative is the transform itself (or its adjoint)
    op(
        "fft.fft",
        "fft",
        _transform("fft"),
        _fft_shapes(1),
        (REAL,),
        kwargs=_fft_kwargs(False),
        dtypes=FLOAT_AND_COMPLEX,
        complex_output=True,
        doc="FftC2CBackward0 (real input: FftR2CBackward0 path)",
    ),
    op(
        "fft.ifft",
        "fft",
        _transform("ifft"),
        _fft_shapes(1),
        (REAL,),
        kwargs=_fft_kwargs(False),
        dtypes=FLOAT_AND_COMPLEX,
        complex_output=True,
        doc="FftC2CBackward0",
    ),
    op(
        "fft.rfft",
        "fft",
        _transform("rfft"),
        _fft_shapes(1),
        (REAL,),
        kwargs=_fft_kwargs(False),
        dtypes=REAL_DTYPES,
        complex_output=True,
        doc="FftR2CBackward0: the non-negative frequencies",
    ),
    op(
        "fft.irfft",
        "fft",
        _transform("irfft"),
        _fft_shapes(1, min_side=2),
        (REAL,),
        kwargs=_fft_kwargs(False),
        dtypes=COMPLEX_DTYPES,
        doc="FftC2RBackward0: Hermitian input, real output",
    ),
    op(
        "fft.fft2",
        "fft",
        _transform("fft2"),
        _fft_shapes(2),
        (REAL,),
        kwargs=_fft_kwargs(True),
        dtypes=FLOAT_AND_COMPLEX,
        complex_output=True,
        doc="FftC2CBackward0 over the last two dims",
    ),
]
