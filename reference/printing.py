"""``repr`` of a tensor, byte-for-byte as torch 2.13 prints a dense CPU tensor.

Only the rules are taken from torch (``torch/_tensor_str.py``); the implementation is
NumPy-only. The formatter's analysis (int mode, sci mode, column width) is vectorised and
only the elements that actually get printed are formatted one by one in Python.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

_NP_DTYPES = {
    "bool": np.bool_,
    "int64": np.int64,
    "float32": np.float32,
    "float64": np.float64,
    "complex64": np.complex64,
    "complex128": np.complex128,
}
# The complex dtype torch leaves unannotated follows the default float type.
_DEFAULT_COMPLEX = {"float32": "complex64", "float64": "complex128"}
_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_OPTS: dict[str, Any] = {**_PROFILES["default"], "sci_mode": None}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    sci_mode: bool | None = None,
    profile: str | None = None,
) -> None:
    """Like ``torch.set_printoptions``: a profile first, then explicit overrides.

    As in torch, ``sci_mode`` is always assigned, so any call that omits it resets it to
    automatic; an unknown profile name is silently ignored.
    """
    if profile is not None:
        _OPTS.update(_PROFILES.get(profile, {}))
    for key, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            _OPTS[key] = value
    _OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, usable as ``**kwargs`` for :func:`set_printoptions`."""
    return {k: _OPTS[k] for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options; restores all of them on exit."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


def _summarized(a: np.ndarray, edge: int) -> np.ndarray:
    """The elements a summarised print shows, which are all the formatter analyses."""
    if a.ndim >= 2 and edge == 0:
        return a[(slice(0, 0),) * a.ndim]  # torch analyses nothing: width 1, int mode
    for axis, n in enumerate(a.shape):
        # edge == 0 is only reachable for 1-d, where torch's a[:0] ++ a[-0:] is everything.
        if edge and n > 2 * edge:
            a = np.take(a, np.r_[0:edge, n - edge : n], axis=axis)
    return a


class _Formatter:
    """Decides mode and column width from the shown elements, then pads each to it."""

    def __init__(self, a: np.ndarray, precision: int, sci_opt: bool | None) -> None:
        self.floating = a.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        self.precision = precision
        if a.size == 0:
            return
        if not self.floating:
            if a.dtype == np.bool_:  # "True" / "False"
                self.width = 5 if not a.all() else 4
            else:
                self.width = max(len(str(int(a.min()))), len(str(int(a.max()))))
            return
        flat = a.reshape(-1)
        nz = flat[np.isfinite(flat) & (flat != 0)]
        if nz.size == 0:
            return  # torch returns before consulting sci_mode: all-zero/non-finite stays int mode
        # Integrality is tested in the tensor's own dtype (ceil is exact either way).
        self.int_mode = bool(np.all(nz == np.ceil(nz)))
        # torch converts |values| to double before the ratio/threshold tests.
        absd = np.abs(nz).astype(np.float64)
        lo, hi = float(absd.min()), float(absd.max())
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if sci_opt is None else sci_opt
        # Formatted length is monotone in |x| for fixed notation, and for sci notation the
        # exponent's digit count peaks at the extremes, so the smallest and largest magnitude
        # of each sign are the only candidates for the widest string.
        pos, neg = nz[nz > 0], nz[nz < 0]
        cands = [float(f(s)) for s in (pos, neg) if s.size for f in (np.min, np.max)]
        if self.sci_mode:
            spec, extra = f".{precision}e", 0
        elif self.int_mode:
            spec, extra = ".0f", 1  # room for the trailing "."
        else:
            spec, extra = f".{precision}f", 0
        self.width = max(1, *(len(format(v, spec)) + extra for v in cands))

    def format_all(self, values: list[Any]) -> list[str]:
        """Pad formatted Python scalars to the common width (never truncates)."""
        w = self.width
        if not self.floating:
            return [str(v).rjust(w) for v in values]
        if self.sci_mode:
            spec = f"{w}.{self.precision}e"
            return [format(v, spec) for v in values]
        if self.int_mode:  # a "." marks floating type, but not on nan/inf
            return [(f"{v:.0f}." if math.isfinite(v) else f"{v:.0f}").rjust(w) for v in values]
        spec = f"{w}.{self.precision}f"
        return [format(v, spec) for v in values]


class _ComplexFormatter:
    """Real and imaginary parts each get their own mode and width, as torch analyses
    ``t.real`` and ``t.imag`` separately; an element reads ``<real><sign><imag>j``."""

    def __init__(self, a: np.ndarray, precision: int, sci_opt: bool | None) -> None:
        self.re = _Formatter(a.real, precision, sci_opt)
        self.im = _Formatter(a.imag, precision, sci_opt)
        # The "+"/"-" joining the parts is taken from the imag field and "j" adds one, so the
        # per-element line budget is both widths plus one.
        self.width = self.re.width + self.im.width + 1

    def format_all(self, values: list[Any]) -> list[str]:
        res = self.re.format_all([v.real for v in values])
        ims = self.im.format_all([v.imag for v in values])
        # A "-" already there (negatives, -0., -inf) joins the parts; otherwise "+" does.
        return [r + ("" if i.lstrip()[0] == "-" else "+") + i.lstrip() + "j" for r, i in zip(res, ims)]


_Fmt = _Formatter | _ComplexFormatter


def _vector(a: np.ndarray, indent: int, summarize: bool, fmt: _Fmt, o: dict[str, Any]) -> str:
    edge, n = o["edgeitems"], a.shape[0]
    if summarize and not edge:
        data = ["..."]
    elif summarize and n > 2 * edge:
        data = [*fmt.format_all(a[:edge].tolist()), " ...", *fmt.format_all(a[n - edge :].tolist())]
    else:
        data = fmt.format_all(a.tolist())
    # Each element costs its width plus ", "; the " ..." marker counts as one element.
    per_line = max(1, (o["linewidth"] - indent) // (fmt.width + 2))
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _body(a: np.ndarray, indent: int, summarize: bool, fmt: _Fmt, o: dict[str, Any]) -> str:
    if a.ndim == 0:
        return fmt.format_all([a.item()])[0]
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt, o)
    edge, n = o["edgeitems"], a.shape[0]
    cut = summarize and n > 2 * edge  # None marks the "..." row
    rows = [*range(edge), None, *range(n - edge, n)] if cut else list(range(n))
    parts = ["..." if i is None else _body(a[i], indent + 1, summarize, fmt, o) for i in rows]
    # Sub-blocks of a k-d tensor are separated by k-1 newlines (blank lines from 3-d on).
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _add_suffixes(text: str, suffixes: list[str], indent: int, linewidth: int) -> str:
    out = [text]
    # torch's measure of the last line is 2 too long when there is no newline (rfind == -1)
    # and 1 too long otherwise; reproduced because it decides where suffixes wrap.
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > linewidth:
            out.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last += len(suffix) + 2
    out.append(")")
    return "".join(out)


def tensor_repr(
    values: np.ndarray,
    *,
    dtype: str,
    default_dtype: str = "float32",
    grad_fn: str | None = None,
    requires_grad: bool = False,
    tangent: str | None = None,
) -> str:
    """``repr(t)`` for a CPU tensor ``t`` holding ``values`` with dtype name ``dtype``.

    ``grad_fn`` is the node's class name (``"AddBackward0"``); ``requires_grad`` only
    shows when there is no ``grad_fn``, as in torch.
    """
    a = np.asarray(values, dtype=_NP_DTYPES[dtype])
    o = dict(_OPTS)
    prefix = "tensor("
    indent = len(prefix)
    suffixes: list[str] = []
    if a.size == 0:
        # numpy-style: the shape is shown unless it is (0,); the dtype cannot be inferred
        # from "[]", so it is shown for anything but the default float type.
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype != default_dtype:  # even the default complex type is shown here
            suffixes.append(f"dtype=torch.{dtype}")
        body = "[]"
    else:
        if not o["edgeitems"]:  # every dimension collapses to "...", so say the shape
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype not in (default_dtype, _DEFAULT_COMPLEX.get(default_dtype), "int64", "bool"):
            suffixes.append(f"dtype=torch.{dtype}")
        summarize = a.size > o["threshold"]
        shown = _summarized(a, o["edgeitems"]) if summarize else a
        cls = _ComplexFormatter if a.dtype.kind == "c" else _Formatter
        fmt: _Fmt = cls(shown, o["precision"], o["sci_mode"])
        body = _body(a, indent, summarize, fmt, o)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:  # a dual tensor (forward AD): torch prints the tangent's repr
        suffixes.append(f"tangent={tangent}")
    return _add_suffixes(prefix + body, suffixes, indent, o["linewidth"])
