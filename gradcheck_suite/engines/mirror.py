"""An adapter for any engine whose API mirrors torch's: tensors from NumPy,
ops called as in the catalogue, and ``autograd.grad`` for vector-Jacobian products.

The reference engine and torch itself (the oracle) both go through this class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradcheck_suite.catalogue.spec import OpSpec


class MirrorEngine:
    """Runs catalogue ops on a torch-like module (``reference`` or ``torch``)."""

    def __init__(self, name: str, module: Any, call: Callable[..., Any], version: str) -> None:
        self.name = name
        self.module = module
        self.version = version
        self._call = call  # OpSpec.call_engine or OpSpec.call_torch

    def tensor(self, array: np.ndarray, requires_grad: bool) -> Any:
        t = self.module.from_numpy(np.array(array, copy=True))
        return t.requires_grad_(True) if requires_grad else t

    def forward(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> tuple[list, Any]:
        """Inputs (requiring grad) and the op's output."""
        inputs = [self.tensor(a, requires_grad=True) for a in arrays]
        return inputs, self._call(op, self.module, *inputs, **kwargs)

    def vjp(self, inputs: list, output: Any, cotangent: np.ndarray) -> list[np.ndarray]:
        """v^T J for every input; zeros where an input did not reach the output."""
        v = self.module.from_numpy(np.array(cotangent, dtype=self.to_numpy(output).dtype, order="C"))
        grads = self.module.autograd.grad(output, inputs, grad_outputs=v, allow_unused=True)
        return [
            np.zeros(x.shape, self.to_numpy(x).dtype) if g is None else self.to_numpy(g) for g, x in zip(grads, inputs)
        ]

    def evaluate(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        """The op's output without recording a graph (for finite differences)."""
        with self.module.no_grad():
            inputs = [self.tensor(a, requires_grad=False) for a in arrays]
            return self.to_numpy(self._call(op, self.module, *inputs, **kwargs))

    @staticmethod
    def to_numpy(t: Any) -> np.ndarray:
        return np.asarray(t.detach().numpy())
