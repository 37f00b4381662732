"""Complex cases as the checker sees them: functions of real arrays.

torch's gradcheck checks a complex function through the real and imaginary parts of its
inputs and outputs; so does this suite. In a complex dtype an op's complex inputs are drawn
and stored as ``view_as_real`` arrays (a trailing dimension of 2: real, imaginary) in the
matching real dtype, and ``as_checked`` wraps its ``fn`` so that each engine turns them into
complex tensors with its own ``view_as_complex`` and hands complex outputs back through its
own ``view_as_real``. The numerical reference, tolerances and the judge then see an ordinary
real function, and torch's convention follows: for a real loss L of z = x + iy the gradient
is dL/dx + i dL/dy, which ``view_as_complex``'s backward turns into exactly the gradient of
the real pair (x, y). An engine whose complex backward drops a conjugate fails the real check.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any

from gradcheck_suite.catalogue.spec import OpSpec

REAL_DTYPES = ("float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
DTYPES = REAL_DTYPES + COMPLEX_DTYPES
FLOAT_AND_COMPLEX = DTYPES
_PARTS = {"complex64": "float32", "complex128": "float64"}

_CHECKED: dict[tuple[int, str], tuple[OpSpec, OpSpec]] = {}


def also_complex(ops: list[OpSpec], names: tuple[str, ...] | None = None, but: tuple[str, ...] = ()) -> list[OpSpec]:
    """``ops`` with ``names`` (None: all but ``but``) checked in the complex dtypes too."""
    unknown = set(names or ()) | set(but)
    unknown -= {o.name for o in ops}
    if unknown:
        raise RuntimeError(f"also_complex names ops not in this list: {sorted(unknown)}")
    chosen = (lambda o: o.name in names) if names is not None else (lambda o: o.name not in but)
    return [dataclasses.replace(o, dtypes=o.dtypes + COMPLEX_DTYPES) if chosen(o) else o for o in ops]


def numeric_dtype(dtype: str) -> str:
    """The real dtype a case computes its numerics in: a complex dtype's parts."""
    return _PARTS.get(dtype, dtype)


def is_complex(dtype: str) -> bool:
    return dtype in _PARTS


def as_checked(op: OpSpec, dtype: str) -> OpSpec:
    """``op`` as checked in ``dtype``: itself for a real dtype and real outputs, else the
    wrapped op whose inputs and outputs are real arrays (``complex_inputs`` names the inputs
    that are complex numbers laid out as pairs). Kinks are not aimed at in complex dtypes
    (the points are real numbers) and complex step is off (the function is not analytic in
    the pairs)."""
    if dtype not in _PARTS and not op.complex_output:
        return op
    key = (id(op), dtype)
    hit = _CHECKED.get(key)
    if hit is not None and hit[0] is op:
        return hit[1]
    pairs = tuple(i for i in range(op.arity) if i not in op.real_inputs) if dtype in _PARTS else ()
    checked = dataclasses.replace(
        op, fn=_realified(op.fn, pairs), torch_fn=_bound(op.torch_fn, pairs, "torch"),
        engine_fn=_bound(op.engine_fn, pairs, None), complex_inputs=pairs, analytic=False,
        kinks=op.kinks if not pairs else None, conventions=op.conventions if not pairs else (),
    )  # fmt: skip
    _CHECKED[key] = (op, checked)
    return checked


def _realified(fn: Callable[..., Any], pairs: tuple[int, ...]) -> Callable[..., Any]:
    def run(ns: Any, *xs: Any, **kwargs: Any) -> Any:
        zs = [ns.view_as_complex(x) if i in pairs else x for i, x in enumerate(xs)]
        return _as_real(ns, fn(ns, *zs, **kwargs))

    return run


def _bound(fn: Callable[..., Any] | None, pairs: tuple[int, ...], module: str | None) -> Callable[..., Any] | None:
    """A ``torch_fn`` / ``engine_fn`` (no namespace argument) wrapped the same way; the
    namespace is the module of the tensors' type (``torch``, ``reference``, ...)."""
    if fn is None:
        return None

    def run(*xs: Any, **kwargs: Any) -> Any:
        ns = importlib.import_module(module or type(xs[0]).__module__.split(".")[0])
        zs = [ns.view_as_complex(x) if i in pairs else x for i, x in enumerate(xs)]
        return _as_real(ns, fn(*zs, **kwargs))

    return run


def _as_real(ns: Any, out: Any) -> Any:
    if isinstance(out, (tuple, list)):
        return type(out)(_as_real(ns, o) for o in out)
    if getattr(out, "is_complex", None) is not None and out.is_complex():
        resolve = getattr(out, "resolve_conj", None)  # torch's view_as_real refuses a lazy conjugate
        return ns.view_as_real(resolve() if resolve is not None else out)
    return out
