"""The gradcheck-suite adapter for tiny_engine (docs/check-your-own-engine.md).

    PYTHONPATH=docs/examples gradcheck-suite run --engine tiny_adapter:ENGINE --ops add,div --programs 0

The checker hands the adapter a catalogue op (an ``OpSpec``: ``op.name`` says which op),
NumPy input arrays and the op's keyword arguments, written in torch's terms; the adapter
runs the op on tiny_engine and answers in NumPy arrays. Ops missing from ``OPS`` are
reported as ``unsupported``, not as failures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np
import tiny_engine

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.engines import Engine


def op_table(tiny: ModuleType) -> dict[str, Callable]:
    """Catalogue op name -> a function of tiny Vars and the catalogue's keyword arguments."""

    def sum_(x, dim, keepdim):
        # torch's sum(dim, keepdim) is NumPy's sum(axis, keepdims). torch also accepts dim 0
        # or -1 on a 0-d tensor (summing nothing), where NumPy has no axis to sum.
        if dim is None:
            return tiny.sum(x)  # the catalogue then calls a.sum(): keepdim does not apply
        return x if x.value.ndim == 0 else tiny.sum(x, axis=dim, keepdims=keepdim)

    return {
        "add": tiny.add,
        "sub": tiny.sub,
        "mul": tiny.mul,
        "div": tiny.div,
        "neg": tiny.neg,
        "exp": tiny.exp,
        "log": tiny.log,
        "sin": tiny.sin,
        "tanh": tiny.tanh,
        "relu": tiny.relu,
        "sum": sum_,
        "matmul": tiny.matmul,  # raises NotImplementedError for vectors: those cases are unsupported
    }


class TinyEngine(Engine):
    """tiny_engine behind the ``Engine`` protocol. ``tiny``: the engine module (another copy
    of it, e.g. one with a fix, can be checked the same way)."""

    name = "tiny"

    def __init__(self, tiny: ModuleType = tiny_engine) -> None:
        self.tiny = tiny
        self.version = tiny.__version__
        self.ops = op_table(tiny)

    def supports(self, op: OpSpec) -> bool:
        return op.name in self.ops

    def forward(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> tuple[list, object]:
        """Fresh leaf Vars (copies: the checker reuses its arrays) and the op's output Var."""
        inputs = [self.tiny.Var(np.array(a, copy=True)) for a in arrays]
        with np.errstate(all="ignore"):  # inf and nan (log(0), x/0) are values to compare, not warnings
            return inputs, self.ops[op.name](*inputs, **kwargs)

    def vjp(self, inputs: list, output, cotangent: np.ndarray) -> list[np.ndarray]:
        """v^T J: backward from the output seeded with the cotangent, read off the leaves."""
        for x in inputs:
            x.grad = None  # vjp may be called again on the same graph
        with np.errstate(all="ignore"):
            output.backward(np.asarray(cotangent, dtype=output.value.dtype))
        return [_shaped_like(x.grad, x.value) for x in inputs]

    def to_numpy(self, value) -> np.ndarray:
        return value.value


def _shaped_like(grad, value: np.ndarray) -> np.ndarray:
    """An input's gradient (zeros if it got none); a gradient of another shape is the engine's
    error, raised here with both shapes (the checker reports it as ``error-mismatch``)."""
    if grad is None:
        return np.zeros_like(value)
    if np.shape(grad) != value.shape:
        raise ValueError(f"tiny_engine gave a gradient of shape {np.shape(grad)} for an input of shape {value.shape}")
    return grad


ENGINE = TinyEngine()
