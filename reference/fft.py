"""The ``torch.fft`` namespace: discrete Fourier transforms with torch's arguments and graphs.

Each function records what torch records: a signal size ``n``/``s`` that trims the input is a
``SliceBackward0`` per dim and one that pads it a ``ConstantPadNdBackward0``; a real input that
a complex transform needs is cast first (``ToCopyBackward0``); the transform itself is
``FftC2CBackward0``, ``FftR2CBackward0`` (real in) or ``FftC2RBackward0`` (real out), and an
inverse transform of a real input is the conjugate of a forward one (``ConjBackward0``).
"""

from __future__ import annotations

from typing import Any

from reference import dtypes
from reference.ops.complex_ops import conj
from reference.ops.fft_ops import apply_plan
from reference.ops.operands import normalize_dim

__all__ = [
    "fft", "fft2", "fftn", "hfft", "ifft", "ifft2", "ifftn", "ihfft", "irfft", "irfft2", "irfftn", "rfft", "rfft2",
    "rfftn",
]  # fmt: skip

_NORMS = (None, "backward", "forward", "ortho")


def _scale(norm: str | None, points: int, inverse: bool) -> tuple:
    """The scaling step: ``norm`` names the direction that carries 1/n (ortho: 1/sqrt(n) both)."""
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    if norm == "ortho":
        return ("scale", 1.0 / points**0.5)
    scaled = inverse if norm in (None, "backward") else not inverse
    return ("scale", 1.0 / points if scaled else 1.0)


def _prepare(input: Any) -> Any:
    """Integers and bools compute in the default float dtype, as in torch."""
    if input.dtype.category < dtypes.FLOAT:
        from reference.ops.shape_copies import to

        return to(input, dtypes.get_default_dtype())
    return input


def _as_complex(x: Any) -> Any:
    if x.is_complex():
        return x
    from reference.ops.shape_copies import to

    return to(x, dtypes.complex_of(x.dtype))


def _require_real(x: Any, name: str) -> None:
    if x.is_complex():
        raise RuntimeError(f"{name} expects a real input tensor, but got {_torch_name(x.dtype)}")


def _require_real_n(x: Any, name: str) -> None:
    if x.is_complex():
        raise RuntimeError(f"{name} expects a real-valued input tensor, but got {_torch_name(x.dtype)}")


def _torch_name(dtype: dtypes.dtype) -> str:
    return {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}.get(dtype.name, dtype.name)


def _check_points(n: int) -> int:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _axes(x: Any, s: Any, dim: Any) -> tuple[tuple[int, ...], list[int | None]]:
    """The transformed axes (in the caller's order) and the requested size of each (None: as is)."""
    ndim = x._data.ndim
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = tuple(normalize_dim(int(d), ndim) for d in dims)
        if s is not None and len(s) != len(axes):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
        axes = tuple(range(ndim - len(s), ndim))
    else:
        axes = tuple(range(ndim))
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    sizes = [None if s is None or int(s[i]) == -1 else _check_points(int(s[i])) for i in range(len(axes))]
    return axes, sizes


def _resize(x: Any, axes: tuple, sizes: list) -> Any:
    """Trim (one slice per axis) then zero-pad (one pad) the input to the signal sizes."""
    from reference.ops.shape_more import narrow
    from reference.ops.shape_pad import pad

    shape = x._data.shape
    for axis, n in zip(axes, sizes):
        if n < shape[axis]:
            x = narrow(x, axis, 0, n)
    grow = {axis: n - shape[axis] for axis, n in zip(axes, sizes) if n > shape[axis]}
    if grow:
        widths: list[int] = []
        for axis in range(x._data.ndim - 1, min(grow) - 1, -1):  # pad's pairs run from the last dim back
            widths += [0, grow.get(axis, 0)]
        x = pad(x, widths)
    return x


def _prod(sizes: list) -> int:
    total = 1
    for n in sizes:
        total *= n
    return total


# -- complex-to-complex (and real-input forward) transforms ---------------------------------------


def _c2c(input: Any, axes: tuple, sizes: list, norm: str | None, inverse: bool, keep_real: bool) -> Any:
    x = _prepare(input)
    sizes = [x._data.shape[a] if n is None else n for a, n in zip(axes, sizes)]
    scale = _scale(norm, _prod(sizes), inverse)
    if not keep_real:
        x = _as_complex(x)
    x = _resize(x, axes, sizes)
    if x.is_complex():
        return apply_plan(x, (("fft", axes, 1 if inverse else -1), scale))
    # A real input: torch's one-sided=False real transform; the inverse is the conjugate of the forward.
    y = apply_plan(x, (("fft", axes, -1), scale))
    return conj(y) if inverse else y


def fft(input, n=None, dim=-1, norm=None):
    axis = normalize_dim(dim, input._data.ndim)
    return _c2c(input, (axis,), [None if n is None else _check_points(n)], norm, False, True)


def ifft(input, n=None, dim=-1, norm=None):
    axis = normalize_dim(dim, input._data.ndim)
    return _c2c(input, (axis,), [None if n is None else _check_points(n)], norm, True, True)


def fftn(input, s=None, dim=None, norm=None):
    axes, sizes = _axes(input, s, dim)
    return _c2c(input, axes, sizes, norm, False, False)


def ifftn(input, s=None, dim=None, norm=None):
    axes, sizes = _axes(input, s, dim)
    return _c2c(input, axes, sizes, norm, True, False)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    return fftn(input, s, dim, norm)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    return ifftn(input, s, dim, norm)


# -- real-to-complex (one-sided) and complex-to-real transforms ------------------------------------


def _r2c(x: Any, axes: tuple, sizes: list, norm: str | None, inverse: bool) -> Any:
    """The one-sided spectrum of a real signal; ``inverse``: ihfft's conjugate, inversely scaled."""
    x = _prepare(x)
    sizes = [x._data.shape[a] if n is None else n for a, n in zip(axes, sizes)]
    x = _resize(x, axes, sizes)
    last = sizes[-1]
    steps = (("fft", axes, -1), ("resize", axes[-1], last // 2 + 1, last), _scale(norm, _prod(sizes), inverse))
    y = apply_plan(x, steps)
    return conj(y) if inverse else y


def rfft(input, n=None, dim=-1, norm=None):
    _require_real(input, "rfft")
    axis = normalize_dim(dim, input._data.ndim)
    return _r2c(input, (axis,), [None if n is None else _check_points(n)], norm, False)


def rfftn(input, s=None, dim=None, norm=None):
    _require_real_n(input, "rfftn")
    axes, sizes = _axes(input, s, dim)
    return _r2c(input, axes, sizes, norm, False)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    return rfftn(input, s, dim, norm)


def ihfft(input, n=None, dim=-1, norm=None):
    _require_real(input, "ihfft")
    axis = normalize_dim(dim, input._data.ndim)
    return _r2c(input, (axis,), [None if n is None else _check_points(n)], norm, True)


def irfftn(input, s=None, dim=None, norm=None):
    axes, sizes = _axes(input, s, dim)
    return _irfft(input, axes, sizes, norm, False)


def irfft(input, n=None, dim=-1, norm=None):
    axis = normalize_dim(dim, input._data.ndim)
    return _irfft(input, (axis,), [None if n is None else _check_points(n)], norm, False)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    return irfftn(input, s, dim, norm)


def hfft(input, n=None, dim=-1, norm=None):
    axis = normalize_dim(dim, input._data.ndim)
    return _irfft(input, (axis,), [None if n is None else _check_points(n)], norm, True)


def _irfft(input: Any, axes: tuple, sizes: list, norm: str | None, hermitian: bool) -> Any:
    x = _as_complex(_prepare(input))
    shape = x._data.shape
    last = sizes[-1] if sizes[-1] is not None else _check_points(2 * (shape[axes[-1]] - 1))
    sizes = [*(shape[a] if n is None else n for a, n in zip(axes[:-1], sizes[:-1])), last]
    x = _resize(x, axes, [*sizes[:-1], last // 2 + 1])
    if hermitian:
        x = conj(x)
    steps = (("c2r", axes, last), _scale(norm, _prod(sizes), not hermitian))
    return apply_plan(x, steps)
