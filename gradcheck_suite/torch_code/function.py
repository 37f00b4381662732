"""A user's own torch code as the engine under test: ``fn`` and its inputs, as
``torch.autograd.gradcheck`` takes them.

Tensors that require grad are differentiated (on their own device, in their own dtype);
every other argument is a constant. ``fn`` returns a tensor or a tuple of them; its floating
outputs are laid end to end into one flat output, so one cotangent covers them all (outputs
that do not require grad get zero gradients, and finite differences then say whether that
is right). The checker hands in NumPy arrays (the inputs, in the case's dtype or another
precision, or complex128 for the complex step): each becomes a tensor on its input's device.

Torch computes both "engine" and "torch" here: ``independent_of_torch`` is False, so the
checker compares two runs of the code for determinism and lets the numerical reference alone
judge its derivatives (checking/verdicts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradcheck_suite.catalogue.spec import OpSpec
from gradcheck_suite.engines.protocol import Engine

DTYPES = {"float32": "float32", "float64": "float64"}  # torch dtype name -> case dtype


@dataclass(frozen=True)
class Output:
    """One floating output of ``fn``: its position in fn's result, shape, dtype and device."""

    index: int
    shape: tuple[int, ...]
    dtype: Any  # torch.dtype
    device: Any  # torch.device
    count: int  # how many results fn returned in all (a later call must return as many)


class TorchCode(Engine):
    """``fn(*args)`` on torch; the arguments at ``positions`` are the differentiated inputs."""

    name = "torch"
    independent_of_torch = False
    retains_graph = True  # vjp may run twice on one forward's graph (the reentrancy check)

    def __init__(self, fn: Callable[..., Any], args: Sequence[Any], labels: Sequence[str] | None = None) -> None:
        import torch

        if not callable(fn):
            raise TypeError(f"gradcheck: fn must be callable, got {type(fn).__name__}")
        self.torch = torch
        self.fn = fn
        self.args = tuple(args)
        self.version = torch.__version__
        self.positions = [i for i, a in enumerate(self.args) if isinstance(a, torch.Tensor) and a.requires_grad]
        if not self.positions:
            raise ValueError(
                "gradcheck expects at least one input tensor to require gradient, but none of them have "
                "requires_grad=True"
            )
        self.labels = list(labels) if labels is not None else [f"input {i}" for i in self.positions]
        for i, label in zip(self.positions, self.labels):
            _validate(self.args[i], label)
        self.devices = [self.args[i].device for i in self.positions]
        # Complex inputs are checked as torch's gradcheck checks them: as functions of their real
        # and imaginary parts (view_as_real pairs in, complex outputs as pairs out: complex_view.py)
        self.pairs = {i for i in self.positions if self.args[i].is_complex()}
        narrow = any(self.args[i].dtype in (torch.float32, torch.complex64) for i in self.positions)
        self.numeric_dtype = "float32" if narrow else "float64"
        self.dtype = ({"float32": "complex64", "float64": "complex128"}[self.numeric_dtype] if self.pairs
                      else self.numeric_dtype)  # fmt: skip
        self.arrays = [self._parts(self.args[i]).detach().cpu().numpy().copy() for i in self.positions]
        self.labels = [f"{label} (real, imaginary pairs)" if i in self.pairs else label
                       for i, label in zip(self.positions, self.labels)]  # fmt: skip
        self._own = np.dtype(self.numeric_dtype)
        self._on_cpu = all(d.type == "cpu" for d in self.devices)
        self.outputs: list[Output] | None = None  # fixed by the first call
        self._complex_out: list[bool] = []  # per result of fn: complex (checked as real pairs)
        self.graph: tuple | None = None  # (inputs, outputs) of the first forward at the inputs as given

    def _parts(self, t: Any) -> Any:
        return self.torch.view_as_real(t.resolve_conj()) if t.is_complex() else t

    # -- calling fn --------------------------------------------------------------------------

    def call(self, tensors: Sequence[Any], cast: Any = None) -> tuple:
        """fn's floating outputs with ``tensors`` at the differentiated positions; floating
        constant tensors cast to ``cast`` (a torch dtype) when given (another precision)."""
        args = list(self.args)
        for i, t in zip(self.positions, tensors):
            args[i] = self.torch.view_as_complex(t) if i in self.pairs else t
        if cast is not None:
            args = [
                a.to(cast) if i not in self.positions and isinstance(a, self.torch.Tensor) and a.is_floating_point()
                else a
                for i, a in enumerate(args)
            ]  # fmt: skip
        result = self.fn(*args)
        outs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if self.outputs is None:  # the first call, at the inputs as given: which outputs are complex
            self._complex_out = [isinstance(o, self.torch.Tensor) and o.is_complex() for o in outs]
        elif len(outs) != self.outputs[0].count:
            raise RuntimeError(f"fn returned {len(outs)} results, {self.outputs[0].count} on its first call")
        # complex outputs as real pairs; a real output stays, even when the complex step makes it complex
        outs = tuple(self._parts(o) if c else o for o, c in zip(outs, self._complex_out))
        if self.outputs is None:
            self.outputs = _floating(self.torch, outs)
        return tuple(outs[o.index] for o in self.outputs)

    def tensors(self, arrays: Sequence[np.ndarray], requires_grad: bool, copy: bool = True) -> list:
        """Each array as a tensor on its input's device (a copy: the code may write to it)."""
        out = []
        for a, device in zip(arrays, self.devices):
            t = self.torch.from_numpy(np.array(a, copy=True) if copy else np.asarray(a))
            t = t if self._on_cpu else t.to(device)
            out.append(t.requires_grad_() if requires_grad else t)
        return out

    def _cast(self, arrays: Sequence[np.ndarray]) -> Any:
        """The dtype floating constants take for arrays in another precision (None: as given)."""
        kind = arrays[0].dtype if len(arrays) == 1 else np.result_type(*arrays) if arrays else np.dtype(self.dtype)
        if kind == self._own:
            return None
        return self.torch.float64 if kind.kind == "c" else getattr(self.torch, kind.name)

    # -- the Engine protocol ---------------------------------------------------------------

    def forward(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> tuple[list, tuple]:
        inputs = self.tensors(arrays, requires_grad=True)
        graph = inputs, self.call(inputs, self._cast(arrays))
        if self.graph is None and all(a is b for a, b in zip(arrays, self.arrays)):
            self.graph = graph  # at the inputs as given: the contract checks run their backwards on it
        return graph

    def vjp(self, inputs: list, outputs: tuple, cotangent: np.ndarray) -> list[np.ndarray]:
        """v^T J over all floating outputs (the cotangent split by output); zeros for an input
        no differentiable output depends on."""
        pairs = [(o, g) for o, g in zip(outputs, self.split(cotangent)) if o.requires_grad]
        zeros = [np.zeros(tuple(x.shape), self._numpy_dtype(x)) for x in inputs]
        if not pairs:
            return zeros
        grads = self.torch.autograd.grad(
            [o for o, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True, retain_graph=True
        )
        return [z if g is None else g.detach().cpu().numpy() for g, z in zip(grads, zeros)]

    def to_numpy(self, outputs: tuple) -> np.ndarray:
        parts = [o.detach().cpu().reshape(-1).numpy() for o in outputs]
        return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0)

    def evaluate(self, op: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        """The flat output without a graph (finite differences: float64 or complex128 arrays,
        fresh for each call, so they are not copied)."""
        with self.torch.no_grad():
            return self.to_numpy(self.call(self.tensors(arrays, requires_grad=False, copy=False), self._cast(arrays)))

    def jvp(self, op: OpSpec, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray], kwargs: dict) -> np.ndarray:
        """J u by forward-mode AD (dual tensors), over all floating outputs."""
        fwad = self.torch.autograd.forward_ad
        with fwad.dual_level():
            primals = self.tensors(arrays, requires_grad=False)
            duals = [
                fwad.make_dual(p, self.torch.from_numpy(np.asarray(t, dtype=a.dtype)).to(p.device))
                for p, t, a in zip(primals, tangents, arrays)
            ]  # fmt: skip
            outs = self.call(duals, self._cast(arrays))
            parts = []
            for o in outs:
                primal, tangent = fwad.unpack_dual(o)
                parts.append(self.torch.zeros_like(primal) if tangent is None else tangent)
            return self.to_numpy(tuple(parts))

    # -- outputs -----------------------------------------------------------------------------

    def split(self, flat: np.ndarray) -> list:
        """A flat cotangent as one tensor per output (its shape, dtype and device)."""
        out, start = [], 0
        for o in self.outputs or ():
            n = int(np.prod(o.shape))
            piece = self.torch.from_numpy(np.array(flat[start : start + n], copy=True)).reshape(o.shape)
            out.append(piece.to(dtype=o.dtype, device=o.device))
            start += n
        return out

    def describe_output(self, flat_index: int) -> str:
        """``output 1 at [2, 0]`` for a flat output index (``output at [..]`` when fn has one)."""
        start = 0
        for o in self.outputs or ():
            size = int(np.prod(o.shape))
            if flat_index < start + size:
                element = [int(i) for i in np.unravel_index(flat_index - start, o.shape)] if o.shape else []
                name = "output" if len(self.outputs) == 1 else f"output {o.index}"
                return f"{name} at {element}"
            start += size
        return f"output element {flat_index}"

    @staticmethod
    def _numpy_dtype(t: Any) -> np.dtype:
        return np.dtype(str(t.dtype).removeprefix("torch."))


def _floating(torch: Any, outs: tuple) -> list[Output]:
    found = [Output(k, tuple(o.shape), o.dtype, o.device, len(outs)) for k, o in enumerate(outs)
             if isinstance(o, torch.Tensor) and (o.is_floating_point() or o.is_complex())]  # fmt: skip
    if not found:
        raise TypeError(
            "gradcheck: fn must return a floating-point tensor or a tuple with at least one, "
            f"got {', '.join(type(o).__name__ for o in outs) or 'nothing'}"
        )
    return found


def _validate(t: Any, label: str) -> None:
    """What the checker cannot look at, said before any work: dtype, layout, non-finite values."""
    import torch

    if t.dtype not in (torch.float32, torch.float64, torch.complex64, torch.complex128):
        raise TypeError(
            f"gradcheck: {label} has dtype {t.dtype}; differentiated inputs must be float32, float64, complex64 "
            "or complex128 (finite differences run in float64; cast half precision to float32)"
        )
    if t.layout != torch.strided:
        raise NotImplementedError(
            f"gradcheck: {label} has layout {t.layout}; sparse and other non-strided inputs are not supported "
            "(pass x.to_dense() and rebuild the sparse tensor inside fn)"
        )
    if any(stride == 0 and size > 1 for stride, size in zip(t.stride(), t.shape)):
        raise RuntimeError(
            f"gradcheck: {label} has a dimension with stride 0 (an expanded tensor): its elements share memory, "
            "so they cannot be varied one at a time; pass x.contiguous()"
        )
    bad = ~torch.isfinite(t.detach())
    if bool(bad.any()):
        where = [int(i) for i in torch.nonzero(bad)[0].tolist()]
        value = t.detach()[tuple(where)].item() if where else t.detach().item()
        raise ValueError(
            f"gradcheck: {label} has a non-finite value ({value}) at {where}: no derivative can be checked "
            "there (finite differences need finite inputs); pass finite values"
        )
