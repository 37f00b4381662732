"""``autograd.grad(..., is_grads_batched=True)``: the first dimension of every grad_output is a
batch of cotangents, and each input's gradient comes back with that dimension in front.

torch maps one backward over the batch with vmap; here each cotangent gets its own backward
through the same graph (kept until the last, which then honours ``retain_graph``), and the
results are stacked. Values and errors are torch's; what differs is that a tensor hook runs
once per cotangent with its unbatched gradient (torch runs it once with a batched tensor), and
with ``create_graph`` the result's ``grad_fn`` is the stack's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference.size import Size

MISMATCH_MESSAGE = (
    "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch dimension. "
    "The sizes of the remaining dimensions are expected to match the shape of corresponding output, but a "
    "mismatch was detected: grad_output[{i}] has a shape of {grad} and output[{i}] has a shape of {out}. "
    "If you only want some tensors in `grad_output` to be considered batched, consider using vmap."
)


def batch_size(outputs: tuple, grad_outputs: tuple) -> int:
    """The common batch size of the grad_outputs, checked against the outputs as torch checks it."""
    from reference.autograd.engine import NOT_SCALAR_MESSAGE

    sizes = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out.requires_grad and out._data.size != 1:
                raise RuntimeError(NOT_SCALAR_MESSAGE)
            raise RuntimeError("reference.autograd.grad needs a batched grad_output for every output")
        if g.dim() == 0 or tuple(g.shape[1:]) != tuple(out.shape):
            # torch reports the shape of the first cotangent with its first dimension dropped again
            first = tuple(g.shape[1:])[1:]
            raise RuntimeError(MISMATCH_MESSAGE.format(i=i, grad=Size(first), out=out.shape))
        sizes.append(g.shape[0])
    if len(set(sizes)) > 1:
        raise ValueError(
            f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sizes} "
            "for the mapped dimension"
        )
    return sizes[0]


def grad(grad_fn: Any, outputs: tuple, inputs: tuple, grad_outputs: tuple, *, retain_graph: bool,
         create_graph: bool, allow_unused: bool, materialize_grads: bool) -> tuple:  # fmt: skip
    """``grad_fn`` is the unbatched ``autograd.grad``; one call per cotangent, results stacked."""
    from reference.ops.shape import stack
    from reference.tensor import Tensor

    n = batch_size(outputs, grad_outputs)
    per_example = []
    for b in range(n):
        keep = retain_graph or b < n - 1  # the graph serves every cotangent
        cotangents = tuple(g[b] for g in grad_outputs)
        per_example.append(grad_fn(outputs, inputs, cotangents, retain_graph=keep, create_graph=create_graph,
                                   allow_unused=allow_unused))  # fmt: skip
    results = []
    for i, t in enumerate(inputs):
        column = [r[i] for r in per_example]
        if n == 0:
            results.append(Tensor._make(np.zeros((0, *t._data.shape), t._data.dtype)))
        elif column[0] is None:  # unused: torch materializes unbatched zeros
            results.append(Tensor._make(np.zeros_like(t._data)) if materialize_grads else None)
        else:
            results.append(stack(column))
    return tuple(results)
