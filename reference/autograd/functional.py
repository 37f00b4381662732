"""``reference.autograd.functional``: jacobian, hessian, vjp, jvp, vhp and hvp of a Python
function, with torch's signatures, return structures and messages.

A single Tensor argument gives Tensor results, a tuple gives tuples (per output, then per
input for jacobian/hessian). Results are detached unless ``create_graph=True``; an input
the function does not use gets zeros (or, with ``strict=True``, an error). ``vectorize``
is accepted and ignored (the loop gives the same values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reference.autograd.engine import grad as autograd_grad
from reference.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _tensor_cls() -> type:
    from reference.tensor import Tensor

    return Tensor


# -- argument handling ---------------------------------------------------------------------


def _as_tuple(value: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(whether the user passed a tuple, the Tensors as a tuple), with torch's TypeError."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, el in enumerate(values):
        if not isinstance(el, _tensor_cls()):
            where = f"the value at index {i} has type" if is_tuple else f"the given {arg_name} has type"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                f"{where} {type(el)}."
            )
    return is_tuple, values


def _unpack(result: tuple, is_tuple: bool) -> Any:
    return result if is_tuple else result[0]


def _unpack2(result: tuple, outputs_tuple: bool, inputs_tuple: bool) -> Any:
    """A nested result (per output, per input) unpacked where the user passed no tuple."""
    if not inputs_tuple:
        result = tuple(row[0] for row in result)
    return result if outputs_tuple else result[0]


def _prepare(tensors: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Inputs for differentiation: fresh leaves, or (with create_graph) views that keep the
    caller's graph so higher derivatives reach the caller's tensors."""
    from reference.ops.shape import alias

    result = []
    for t in tensors:
        if create_graph and t.requires_grad:
            result.append(alias(t))
        else:
            result.append(t.detach().requires_grad_(need_graph))
    return tuple(result)


def _finish(values: Any, create_graph: bool) -> Any:
    """Results leave detached unless the caller builds on them (create_graph)."""
    if create_graph:
        return values
    if isinstance(values, tuple):
        return tuple(_finish(v, create_graph) for v in values)
    return None if values is None else values.detach()


def _check_v(v: tuple, other: tuple, other_is_tuple: bool) -> None:
    if len(v) != len(other):
        if other_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prefix = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {el_other.shape} but got {el_v.shape}.")


def _check_outputs_require_grad(outputs: tuple, strict: bool) -> None:
    if not strict:
        return
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The outputs must be "
                "computed in a differentiable manner from the input when running in strict mode."
            )


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None, create_graph: bool = False) -> tuple:
    """d(outputs)/d(inputs) . grad_outputs, None for unused inputs; outputs that do not
    require grad are left out (all of them: all None)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return autograd_grad(outs, inputs, gouts, retain_graph=True, create_graph=create_graph, allow_unused=True)


def _zeros_for_missing(grads: tuple, refs: tuple, strict: bool, message: str) -> tuple:
    from reference.creation import zeros_like

    result = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(message.format(i=i))
            g = zeros_like(ref)
        result.append(g)
    return tuple(result)


_INDEPENDENT = (
    "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode."
)
_JAC_INDEPENDENT = (
    "The jacobian of the user-provided function is independent of input {i}. This is not allowed in strict mode."
)


# -- vjp, jvp --------------------------------------------------------------------------------


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), v^T J)``."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        _check_outputs_require_grad(outputs, strict)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", "vjp")[1], create_graph, need_graph=False)
            _check_v(v, outputs, outputs_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single Tensor with a "
                "single element."
            )
        with set_grad_enabled(create_graph or is_grad_enabled()):
            result = _zeros_for_missing(_grads(outputs, inputs, v, create_graph), inputs, strict, _INDEPENDENT)
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(result, create_graph), inputs_tuple)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), J v)``, by the double-backward trick (as torch's)."""
    from reference.creation import zeros_like

    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", "jvp")[1], create_graph, need_graph=False)
            _check_v(v, inputs, inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a single Tensor "
                "with a single element."
            )
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        _check_outputs_require_grad(outputs, strict)
        dummies = tuple(zeros_like(out).requires_grad_(True) for out in outputs)
        grad_inputs = _grads(outputs, inputs, dummies, create_graph=True)
        with set_grad_enabled(create_graph or is_grad_enabled()):
            message = (
                "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                "using the double backward trick to compute forward mode gradients. This is not allowed in "
                "strict mode."
            )
            result = _zeros_for_missing(_grads(grad_inputs, dummies, v, create_graph), outputs, strict, message)
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(result, create_graph), outputs_tuple)


# -- jacobian, hessian -------------------------------------------------------------------------


def jacobian(
    func: Callable,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """d func(inputs) / d inputs: for output i and input j, a Tensor of shape
    ``outputs[i].shape + inputs[j].shape``."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has more '
            'outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to use '
            '"reverse-mode".'
        )
    if strict and vectorize:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported together. "
            "Please either set `strict=False` or `vectorize=False`."
        )
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        _check_outputs_require_grad(outputs, strict)
        rows = tuple(_jacobian_of(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
    return _unpack2(_finish(rows, create_graph), outputs_tuple, inputs_tuple)


def _jacobian_of(index: int, out: Any, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """One output's Jacobian blocks, one reverse pass per output element. Each block is built
    as a sum of (one-hot row x gradient) products so that create_graph can differentiate it."""
    tensor_cls = _tensor_cls()
    out_shape = tuple(out.shape)
    blocks: list = [None] * len(inputs)
    for k in range(out.numel()):
        basis = np.zeros(out.numel(), out._data.dtype)
        basis[k] = 1
        onehot = tensor_cls._make(basis.reshape(out_shape))
        row = _grads((out,), inputs, (onehot,), create_graph)
        for j, (g, inp) in enumerate(zip(row, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(
                        f"Output {index} of the user-provided function is independent of input {j}. This is not "
                        "allowed in strict mode."
                    )
                continue
            term = onehot.reshape(out_shape + (1,) * inp.dim()) * g.reshape((1,) * len(out_shape) + tuple(inp.shape))
            blocks[j] = term if blocks[j] is None else blocks[j] + term
    return tuple(
        _zeros(out_shape + tuple(inp.shape), inp) if block is None else block for block, inp in zip(blocks, inputs)
    )


def _zeros(shape: tuple, like: Any) -> Any:
    return _tensor_cls()._make(np.zeros(shape, like._data.dtype))


def hessian(
    func: Callable,
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """Second derivatives of a scalar function: block (i, j) has shape
    ``inputs[i].shape + inputs[j].shape``."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*inp: Any) -> Any:
        out = func(*inp)
        out_tuple, _ = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def gradient(*inp: Any) -> Any:
        return jacobian(scalar_func, inp, create_graph=True)

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize)
    return _unpack2(result, inputs_tuple, inputs_tuple)


# -- vhp, hvp ----------------------------------------------------------------------------------


def _hessian_product(name: str, func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool) -> tuple:
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
        inputs = _prepare(inputs, create_graph, need_graph=True)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", name)[1], create_graph, need_graph=False)
            _check_v(v, inputs, inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a single Tensor "
                "with a single element."
            )
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", name)
        _check_outputs_require_grad(outputs, strict)
        if outputs_tuple:
            raise RuntimeError(f"The function given to {name} should return a single Tensor")
        if outputs[0].numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
        jac = _grads(outputs, inputs, create_graph=True)
        if strict:
            _zeros_for_missing(jac, inputs, strict, _INDEPENDENT)
        with set_grad_enabled(create_graph or is_grad_enabled()):
            result = _zeros_for_missing(_grads(jac, inputs, v, create_graph), inputs, strict, _JAC_INDEPENDENT)
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(result, create_graph), inputs_tuple)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), v^T H)`` for a scalar function."""
    return _hessian_product("vhp", func, inputs, v, create_graph, strict)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), H v)`` for a scalar function (equal to vhp: the Hessian is symmetric)."""
    return _hessian_product("hvp", func, inputs, v, create_graph, strict)
