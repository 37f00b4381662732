"""An adapter for any engine whose API mirrors torch's: tensors from NumPy,
ops called as in the catalogue, ``autograd.grad`` for vector-Jacobian products (and,
with ``create_graph``, Hessian-vector products), and ``autograd.forward_ad`` for
Jacobian-vector products. An engine without ``forward_ad`` raises NotImplementedError
from ``jvp``, which the checker reports as ``unsupported``.

The reference engine and torch itself (the oracle) both go through this class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.engines.protocol import Engine

# vmap's own cost is that of about a dozen single calls of a small op: fewer points go one by one
MIN_BATCH = 16


class MirrorEngine(Engine):
    """Runs catalogue ops on a torch-like module (``reference`` or ``torch``)."""

    def __init__(
        self, name: str, module: Any, call: Callable[..., Any], version: str, *, independent_of_torch: bool = True
    ) -> None:
        self.name = name
        self.module = module
        self.version = version
        self.independent_of_torch = independent_of_torch
        self._call = call  # OpSpec.call_engine or OpSpec.call_torch
        self.complex_numbers = hasattr(module, "view_as_complex")
        self._refused: set[tuple] = set()  # (op name, input dtypes and shapes, kwargs) that vmap refused

    def _from_numpy(self, array: np.ndarray) -> Any:
        t = self.module.from_numpy(array)
        if array.size == 0 and hasattr(t, "new_zeros"):
            # torch gives an empty array's tensor all-zero strides, which view_as_complex (complex
            # cases' last step) refuses; an empty tensor made by torch has the usual strides
            t = t.new_zeros(array.shape)
        return t

    def tensor(self, array: np.ndarray, requires_grad: bool) -> Any:
        t = self._from_numpy(np.array(array, copy=True))
        return t.requires_grad_(True) if requires_grad else t

    def forward(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> tuple[list, Any]:
        """Inputs (requiring grad) and the op's output."""
        inputs = [self.tensor(a, requires_grad=True) for a in arrays]
        return inputs, self._call(op, self.module, *inputs, **kwargs)

    def vjp(self, inputs: list, output: Any, cotangent: np.ndarray) -> list[np.ndarray]:
        """v^T J for every input; zeros where an input did not reach the output."""
        v = self._from_numpy(np.array(cotangent, dtype=self.to_numpy(output).dtype, order="C"))
        grads = self.module.autograd.grad(output, inputs, grad_outputs=v, allow_unused=True)
        return [
            np.zeros(x.shape, self.to_numpy(x).dtype) if g is None else self.to_numpy(g) for g, x in zip(grads, inputs)
        ]

    def jvp(self, op: OpSpec, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        """J u by forward-mode AD: dual tensors in, the output's tangent out (zeros if none)."""
        fwad = getattr(getattr(self.module, "autograd", None), "forward_ad", None)
        if fwad is None:
            raise NotImplementedError(f"engine {self.name!r} has no autograd.forward_ad (forward-mode AD)")
        with fwad.dual_level():
            duals = [
                fwad.make_dual(self.tensor(a, False), self.tensor(np.asarray(t, dtype=a.dtype), False))
                for a, t in zip(arrays, tangents)
            ]
            out = self._call(op, self.module, *duals, **kwargs)
            primal, tangent = fwad.unpack_dual(out)
            value = self.to_numpy(primal)
            return np.zeros(value.shape, value.dtype) if tangent is None else self.to_numpy(tangent).copy()

    def hvp(
        self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict, cotangent: np.ndarray, direction: Sequence
    ) -> list[np.ndarray]:
        """d/dx <v^T J(x), w>: the VJP of the VJP (create_graph=True), one array per input."""
        inputs, out = self.forward(op, arrays, kwargs)
        dtype = self.to_numpy(out).dtype
        v = self._from_numpy(np.array(cotangent, dtype=dtype, order="C"))
        grads = self.module.autograd.grad(out, inputs, grad_outputs=v, create_graph=True, allow_unused=True)
        terms = [
            (g * self.tensor(np.asarray(w, dtype=self.to_numpy(x).dtype), False)).sum()
            for g, w, x in zip(grads, direction, inputs)
            if g is not None and g.requires_grad
        ]
        zeros = [np.zeros(x.shape, self.to_numpy(x).dtype) for x in inputs]
        if not terms:  # the gradient does not depend on the inputs: a linear op
            return zeros
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        second = self.module.autograd.grad(total, inputs, allow_unused=True)
        return [z if g is None else self.to_numpy(g) for g, z in zip(second, zeros)]

    def evaluate(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        """The op's output without recording a graph (for finite differences)."""
        with self.module.no_grad():
            inputs = [self.tensor(a, requires_grad=False) for a in arrays]
            return self.to_numpy(self._call(op, self.module, *inputs, **kwargs))

    def evaluate_many(self, op: OpSpec, points: Sequence[Sequence[np.ndarray]], kwargs: dict) -> list[np.ndarray]:
        """``evaluate`` at many points (MIN_BATCH or more) in one call where the module vectorises
        the op (``torch.func.vmap`` over the stacked points: a call costs about as much as a
        dozen single ones); elsewhere point by point: for ops that vmap refuses (data-dependent
        shapes, NumPy inside the op), and for a batch whose two ends differ from single calls (a
        batched kernel that computes otherwise). Every batch is checked, so what a case gets
        depends on its own points alone, never on the cases before it: a replay computes the same."""
        vmap = getattr(getattr(self.module, "func", None), "vmap", None)
        if vmap is None or len(points) < MIN_BATCH or not points[0]:
            return [self.evaluate(op, arrays, kwargs) for arrays in points]
        key = (op.name, tuple((a.dtype.str, a.shape) for a in map(np.asarray, points[0])), _kwargs_key(kwargs))
        if key in self._refused:
            return [self.evaluate(op, arrays, kwargs) for arrays in points]
        try:
            with self.module.no_grad():
                stacked = [self.module.from_numpy(np.stack([p[i] for p in points])) for i in range(len(points[0]))]
                values = list(self.to_numpy(vmap(lambda *ts: self._call(op, self.module, *ts, **kwargs))(*stacked)))
        except Exception:  # noqa: BLE001 - not vectorisable: these inputs go one point at a time from now on
            self._refused.add(key)
            return [self.evaluate(op, arrays, kwargs) for arrays in points]
        ends = {0: self.evaluate(op, points[0], kwargs), len(points) - 1: self.evaluate(op, points[-1], kwargs)}
        if not all(_same(values[j], value) for j, value in ends.items()):
            return [ends.get(j) if j in ends else self.evaluate(op, arrays, kwargs) for j, arrays in enumerate(points)]
        return values

    @staticmethod
    def to_numpy(t: Any) -> np.ndarray:
        try:
            return np.asarray(t.detach().numpy())
        except RuntimeError:  # torch's efficient ZeroTensor (e.g. abs's second derivative) needs force
            return np.asarray(t.detach().numpy(force=True))


def _kwargs_key(kwargs: dict) -> tuple:
    """The kwargs as a hashable key: arrays by dtype, shape and bytes (their repr costs
    milliseconds, and this key is made for every batch), anything else by repr."""
    return tuple(
        (k, ("array", v.dtype.str, v.shape, v.tobytes()) if isinstance(v, np.ndarray) else repr(v))
        for k, v in sorted(kwargs.items())
    )


def _same(batched, single) -> bool:
    """One point's value from a vectorised call against a single call: equal up to rounding
    (a batched kernel may sum in another order), nan where nan."""
    if np.shape(batched) != np.shape(single):
        return False
    a, b = np.asarray(batched, dtype=np.complex128), np.asarray(single, dtype=np.complex128)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(a - b) <= 1e-12 * (np.abs(a) + np.abs(b)) + 1e-300
    both_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & (a == b)
    return bool(np.all(close | both_nan | same_inf))
