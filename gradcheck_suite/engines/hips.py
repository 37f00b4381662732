"""The built-in ``autograd`` engine: HIPS autograd (https://github.com/HIPS/autograd), through
its functional API, on the op table of hips_ops.py (the optional ``autograd`` extra).

Each op is traced as one function of the tuple of all its inputs, so one ``make_vjp`` gives
every input's gradient; ``make_jvp`` gives forward mode, and the VJP of a function that
itself calls ``make_vjp`` gives Hessian-vector products (autograd nests its traces).

dtypes: inputs keep their dtype and values are whatever autograd.numpy computes (NumPy 2
keeps float32 with Python scalars, so float32 cases mostly stay float32; where NumPy widens
to float64 the value is returned as computed, as a user would get it). Cotangents and
tangents are given in the dtype of the value or input they pair with, and gradients are
returned in their input's dtype, as torch returns them.

Where autograd has no rule (``VJP of cumprod ... not defined``, a JVP rule missing for one
argument) it raises NotImplementedError, or a KeyError inside autograd's core that is turned
into one here: the checker records those as ``unsupported``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.core import make_jvp, make_vjp
from autograd.tracer import getval

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.engines import hips_ops
from gradcheck_suite.engines.protocol import Engine

_AUTOGRAD_DIR = os.path.dirname(autograd.__file__)


@dataclass
class Traced:
    """An op's value and autograd's VJP closure from the forward pass that produced it."""

    value: np.ndarray
    vjp: Callable[[Any], Any]


@contextmanager
def _quiet():
    """NumPy's warnings (mean of an empty slice, 0/0) are values here, as in torch; a constant output is fine."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", "Output seems independent of input", UserWarning)
        yield


def _raised_in_autograd(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.startswith(_AUTOGRAD_DIR)


def _call(fn: Callable, *args: Any) -> Any:
    """``fn(*args)``, with autograd's missing-rule KeyErrors (a primitive whose rule covers only
    some arguments) reported as NotImplementedError."""
    try:
        with _quiet():
            return fn(*args)
    except KeyError as exc:
        if not _raised_in_autograd(exc):
            raise
        raise NotImplementedError(f"autograd has no derivative rule for argument {exc} of a primitive here") from exc


def _shaped_like(array: Any, like: np.ndarray, what: str) -> np.ndarray:
    """``array`` in ``like``'s dtype; a shape that differs is an engine error, reported as such."""
    out = np.asarray(getval(array))
    if out.shape != like.shape:
        raise ValueError(f"autograd returned a {what} of shape {out.shape} for shape {like.shape}")
    return out.astype(like.dtype, copy=False)


class HipsAutogradEngine(Engine):
    """HIPS autograd on the catalogue ops it can express (``hips_ops.TABLE``)."""

    name = "autograd"

    def __init__(self) -> None:
        try:
            self.version = version("autograd")
        except PackageNotFoundError:  # pragma: no cover - imported from a source tree
            self.version = "unknown"
        self.table = hips_ops.TABLE

    def supports(self, op: OpSpec) -> bool:
        return op.name in self.table

    def unsupported_reason(self, op: OpSpec) -> str:
        return hips_ops.UNSUPPORTED.get(op.name, "not in the adapter's op table")

    def _function(self, op: OpSpec, kwargs: dict) -> Callable[[tuple], Any]:
        """The op as one function of the tuple of its inputs."""
        impl = self.table.get(op.name)
        if impl is None:
            why = hips_ops.UNSUPPORTED.get(op.name, "not in the adapter's op table")
            raise NotImplementedError(f"engine 'autograd' does not implement {op.name}: {why}")
        return lambda xs: impl(*xs, **kwargs)

    @staticmethod
    def _inputs(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
        return tuple(np.array(a, copy=True) for a in arrays)

    def forward(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> tuple[tuple, Traced]:
        inputs = self._inputs(arrays)
        vjp, value = _call(make_vjp, self._function(op, kwargs), inputs)
        return inputs, Traced(np.asarray(value), vjp)

    def vjp(self, inputs: tuple, output: Traced, cotangent: np.ndarray) -> list[np.ndarray]:
        v = np.asarray(cotangent, dtype=output.value.dtype).reshape(output.value.shape)
        grads = _call(output.vjp, v)
        return [_shaped_like(g, x, "gradient") for g, x in zip(grads, inputs)]

    def to_numpy(self, value: Any) -> np.ndarray:
        return value.value if isinstance(value, Traced) else np.asarray(value)

    def evaluate(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        """The value without tracing (finite differences call this many times)."""
        with _quiet():
            return np.asarray(self._function(op, kwargs)(tuple(arrays)))

    def jvp(self, op: OpSpec, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        inputs = self._inputs(arrays)
        u = tuple(np.asarray(t, dtype=x.dtype).reshape(x.shape) for t, x in zip(tangents, inputs))
        value, tangent = _call(make_jvp(self._function(op, kwargs), inputs), u)
        return _shaped_like(tangent, np.asarray(value), "tangent")

    def hvp(
        self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict, cotangent: np.ndarray, direction: Sequence
    ) -> list[np.ndarray]:
        """d/dx <v^T J(x), w>: the VJP of a function that takes autograd's VJP at x."""
        fn, inputs = self._function(op, kwargs), self._inputs(arrays)
        ws = [np.asarray(w, dtype=x.dtype) for w, x in zip(direction, inputs)]

        def vjp_dot_w(xs):
            vjp, value = make_vjp(fn, xs)
            value = np.asarray(getval(value))
            grads = vjp(np.asarray(cotangent, dtype=value.dtype).reshape(value.shape))
            return sum(anp.sum(g * w) for g, w in zip(grads, ws))

        second, total = _call(make_vjp, vjp_dot_w, inputs)
        grads = _call(second, np.ones((), np.asarray(getval(total)).dtype))
        return [_shaped_like(g, x, "second-order gradient") for g, x in zip(grads, inputs)]
