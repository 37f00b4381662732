"""``Function``: an operation's forward and backward, side by side, and ``apply``,
which runs the forward and records a graph node when a gradient will be needed.

An op is written like a torch custom Function, on NumPy arrays: ``forward(ctx, *arrays)``
saves what it needs with ``ctx.save_for_backward`` and returns the result;
``backward(ctx, grad)`` reads ``ctx.saved_tensors`` and returns one gradient per input
(``reference/ops/pointwise/arithmetic.py``'s ``Mul`` is the model to copy).

Backward returns one gradient per input, in the *output's* broadcast shape and
dtype: the engine reduces it to each input's shape and dtype in one place
(broadcast.to_input), so no op undoes broadcasting by itself.

Forward mode: ``jvp(ctx, *tangents)`` runs right after ``forward`` (so ``ctx`` still holds
what forward saved) when an input is a dual tensor. It gets one tangent array per input
(``None`` where an input has none: a zero tangent) and returns the output's tangent, or
one per output; a result that broadcasts to the output's shape is expanded here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd import forward_ad, quiet
from reference.autograd.graph import Node, clock, node_type
from reference.grad_mode import is_grad_enabled

# Promotion policies an op may declare.
SAME = "same"  # inputs must already agree (no promotion); result has the input dtype
COMMON = "common"  # torch's result_type over tensors and scalars
FLOAT = "float"  # like COMMON, then integers and bools become the default float dtype


class Function:
    """Base class of every op. Subclasses define ``forward`` and ``backward``."""

    promotion: str = SAME

    @staticmethod
    def forward(ctx: Node, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Node, *grads: Any) -> Any:
        raise NotImplementedError

    jvp: Any = None  # staticmethod jvp(ctx, *tangents) -> tangent(s); None: no forward mode
    # ctx attributes that hold saved data (index, mask, condition arrays): freed with the
    # saved tensors after a backward without retain_graph, as torch frees its saved tensors
    saved_attributes: tuple[str, ...] = ()
    # False for ops whose output torch does not treat as a view even where NumPy shares memory
    # (an in-place op on a fresh intermediate, like matmul's squeeze_)
    may_view: bool = True
    # Per saved value, the input whose gradient alone needs it (None: always needed). torch saves
    # such a value only when that input requires grad, so changing it in place is no error then
    # (checked in Node._check_versions, which runs only after some in-place change).
    saved_for: tuple | None = None


def _result_dtype(policy: str, inputs: tuple) -> dtypes.dtype | None:
    from reference.tensor import Tensor

    tensors = []
    scalars = []
    for x in inputs:
        if isinstance(x, Tensor):
            tensors.append((x.dtype, x._data.ndim == 0))
        elif x is not None:
            scalars.append(x)
    result = dtypes.result_type(tensors, tuple(scalars))
    if policy == FLOAT and result.category < dtypes.FLOAT:
        result = dtypes.get_default_dtype()
    return result


# reference.tensor.Tensor, bound on the first apply: tensor.py imports the ops, which import this
# module (an import inside apply and its helpers cost ~0.4 us per call each, a fifth of an op)
Tensor: Any = None


def _bind_tensor() -> None:
    global Tensor
    from reference.tensor import Tensor


def apply(fn: type[Function], name: str, inputs: tuple, **kwargs: Any) -> Any:
    """Run ``fn.forward`` on the inputs' arrays; record node ``name`` if a gradient is needed.

    ``inputs`` are the op's differentiable operands in torch's order: Tensors, or
    Python scalars (recorded as ``(None, 0)`` edges, like torch's wrapped numbers).
    ``kwargs`` are non-differentiable parameters passed to forward unchanged.
    """
    if Tensor is None:
        _bind_tensor()
    needs_grad = False
    same_dtype = True
    first_dtype = None
    for x in inputs:
        if isinstance(x, Tensor):
            if x.requires_grad:
                needs_grad = True
            if first_dtype is None:
                first_dtype = x._data.dtype
            elif x._data.dtype != first_dtype:
                same_dtype = False
    needs_grad = needs_grad and is_grad_enabled()

    # Fast path: tensors that already share a float dtype need no cast, whatever the
    # Python scalars beside them (a scalar never widens a float tensor in torch).
    if fn.promotion == SAME or (same_dtype and first_dtype is not None and first_dtype.kind in "fc"):
        arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    else:
        target = _result_dtype(fn.promotion, inputs).np
        arrays = [
            (x._data if x._data.dtype == target else x._data.astype(target)) if isinstance(x, Tensor) else x
            for x in inputs
        ]

    node = node_type(fn, name)()
    token = quiet.enter()  # inf/nan without NumPy's warnings, as in torch
    try:
        out = fn.forward(node, *arrays, **kwargs)
    except ValueError as exc:  # NumPy's broadcasting error, in torch's words
        raise _broadcast_error(exc, arrays, fn) from None
    finally:
        quiet.leave(token)
    if type(out) is tuple:
        result = _wrap_outputs(node, out, inputs, arrays, needs_grad)
    else:
        if type(out) is not np.ndarray:  # NumPy returns scalars for 0-d results
            out = _as_array(node, out)
        if not needs_grad or out.dtype.kind not in "fc":
            result = Tensor._make(out)
        else:
            _connect(node, inputs, arrays, (out,))
            result = Tensor._make(out, node, 0)
            if node._saved:
                node._out_vcs = (result._vc,)
        if out.base is not None and fn.may_view:  # maybe a view of an input: shares its memory and version
            _mark_view(result, out, inputs, arrays, False)
    if forward_ad._levels:
        _forward_mode(fn, node, inputs, arrays, result)
    return result


def _broadcast_error(exc: ValueError, arrays: list, fn: type[Function]) -> Exception:
    order = getattr(fn, "broadcast_order", None)  # torch's operand order, where it differs from the inputs'
    shapes = [a.shape for a in (arrays if order is None else [arrays[i] for i in order]) if isinstance(a, np.ndarray)]
    if "could not be broadcast" not in str(exc) or len(shapes) < 2:
        return exc
    a, b = shapes[0], shapes[1]
    ndim = max(len(a), len(b))
    for dim in range(ndim - 1, -1, -1):  # torch reports the last mismatching dimension
        i, j = dim - (ndim - len(a)), dim - (ndim - len(b))
        sa, sb = (a[i] if i >= 0 else 1), (b[j] if j >= 0 else 1)
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {dim}"
            )
    return exc


def sum_tangents(*tangents: Any) -> Any:
    """The sum of the tangent terms that are not None (None: all were zero)."""
    total = None
    for t in tangents:
        if t is not None:
            total = t if total is None else total + t
    return total


def _forward_mode(fn: type[Function], node: Node, inputs: tuple, arrays: list, result: Any) -> None:
    """Give the outputs tangents when an input is a dual tensor at the open level."""
    from reference.tensor import Tensor

    level = forward_ad.current_level()
    tangents = []
    for x, a in zip(inputs, arrays):
        t = forward_ad.get_tangent(x) if isinstance(x, Tensor) and x._fw is not None else None
        tangents.append(None if t is None else t._data.astype(a.dtype, copy=False))
    if all(t is None for t in tangents):
        return
    if fn.jvp is None:
        raise NotImplementedError(
            f"Trying to use forward AD with {type(node).__name__.removesuffix('Backward0')} that does not "
            "support it because it has not been implemented yet."
        )
    with np.errstate(all="ignore"):
        out_tangents = fn.jvp(node, *tangents)
    outs = result if type(result) is tuple else (result,)
    if type(out_tangents) is not tuple:
        out_tangents = (out_tangents,)
    for out, tan in zip(outs, out_tangents):
        if tan is None or out._data.dtype.kind not in "fc":
            continue
        tan = np.broadcast_to(np.asarray(tan), out._data.shape).astype(out._data.dtype)  # copies: own memory
        out._fw = (level, Tensor._make(tan))


def _wrap_outputs(node: Node, outs: tuple, inputs: tuple, arrays: list, needs_grad: bool) -> tuple:
    from reference.tensor import Tensor

    outs = tuple(o if type(o) is np.ndarray else _as_array(node, o) for o in outs)
    if needs_grad:
        _connect(node, inputs, arrays, outs)
        node.output_meta = tuple((o.shape, o.dtype) for o in outs)
        result = tuple(
            Tensor._make(o, node, i) if o.dtype.kind in "fc" else Tensor._make(o) for i, o in enumerate(outs)
        )
        if node._saved:
            node._out_vcs = tuple(r._vc for r in result)
    else:
        result = tuple(Tensor._make(o) for o in outs)
    for r, o in zip(result, outs):
        if o.base is not None:
            _mark_view(r, o, inputs, arrays, True)
    return result


# View kinds that forbid in-place changes (torch's CreationMeta; None is DEFAULT), checked by
# in-place ops and when a view's grad_fn is regenerated.
NO_GRAD_VIEW = "no_grad"
MULTI_OUTPUT_VIEW = "multi-output"


def _mark_view(view: Any, out: np.ndarray, inputs: tuple, arrays: list, multi: bool) -> None:
    """Make ``view`` a view of the input whose memory it shares: same version counter and root
    base, and the kind torch would record. ``multi``: an output of a multi-output view op."""
    if Tensor is None:
        _bind_tensor()
    for x, a in zip(inputs, arrays):
        if isinstance(x, Tensor) and _shares_memory(out, a):
            base = x._view_base
            kind = None if base is None else x._view_kind  # a view of a view inherits the kind
            view._vc = x._vc
            view._view_base = x if base is None else base
            view._attr_version = len(x._vc)
            if not is_grad_enabled():
                kind = NO_GRAD_VIEW
            elif multi:
                kind = MULTI_OUTPUT_VIEW
            view._view_kind = kind
            return


def _shares_memory(out: np.ndarray, a: np.ndarray) -> bool:
    if out.size and a.size:
        return np.may_share_memory(out, a)
    return _memory_owner(out) is _memory_owner(a)  # no element to overlap: same buffer, then


def _memory_owner(a: Any) -> Any:
    """The object at the end of the ``base`` chain (as_strided's wrapper has a base too)."""
    while (base := getattr(a, "base", None)) is not None:
        a = base
    return a


def _connect(node: Node, inputs: tuple, arrays: list, outs: tuple) -> None:
    """Fill in where each input's gradient goes, the shape/dtype it must arrive in, and
    where each saved array came from (so create_graph can differentiate through it)."""
    if node._saved:
        node._sources = tuple(_source(v, inputs, arrays, outs) for v in node._saved)
        node._epoch = clock.now

    edges = []
    meta = []
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            edges.append(x._edge())
            meta.append((x._data.shape, x._data.dtype))
        else:
            edges.append((None, 0))
            meta.append(None)
    node.next_functions = tuple(edges)
    node._input_meta = tuple(meta)


def _as_array(node: Node, value: Any) -> np.ndarray:
    """Turn a NumPy scalar result into a 0-d array, also where forward saved it."""
    arr = np.asarray(value)
    if node._saved:
        node._saved = tuple(arr if v is value else v for v in node._saved)
    return arr


def _source(value: Any, inputs: tuple, arrays: list, outs: tuple) -> Any:
    """The input Tensor or output index a saved array is, else None (a constant)."""
    for x, a in zip(inputs, arrays):
        if value is a:
            return x if isinstance(x, Tensor) else None
    for i, o in enumerate(outs):
        if value is o:
            return i
    return None
