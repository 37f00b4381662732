"""The backward engine: iterative, dependency-counted, like torch's.

1. Walk the graph from the roots and count, for every node, how many edges lead
   into it (no recursion, so a 100,000-op chain is fine).
2. Run nodes from a ready queue ordered by creation (newest first, as torch does);
   a node runs once every consumer has delivered its gradient, summed in a buffer.
3. Each gradient is brought to its input's shape and dtype (broadcast.to_input),
   then either buffered for the next node or accumulated into a leaf's ``.grad``.
4. Without ``retain_graph``, each node frees its saved values after it runs, so a
   second backward fails exactly where a node needs a freed value.
"""

from __future__ import annotations

import heapq
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from reference.autograd.broadcast import to_input
from reference.autograd.graph import AccumulateGrad, Node, recording
from reference.autograd.hooks import grad_inputs, undefined_run
from reference.grad_mode import enable_grad, no_grad

NOT_SCALAR_MESSAGE = "grad can be implicitly created only for scalar outputs"
CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
    "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid "
    "this. If you have to use this function, make sure to reset the .grad fields of your parameters to None "
    "after use to break the cycle and avoid the leak."
)
_warned = set()  # warnings torch gives once per process


def _tensor_cls() -> type:
    from reference.tensor import Tensor

    return Tensor


def _initial_grads(outputs: tuple, grads: tuple, create_graph: bool) -> list:
    """Root gradients: the given ones (shape-checked, cast), or ones for scalar outputs."""
    tensor_cls = _tensor_cls()
    if len(grads) != len(outputs):
        grads = tuple(grads) + (None,) * (len(outputs) - len(grads))
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if out.requires_grad and out._data.size != 1:
                raise RuntimeError(NOT_SCALAR_MESSAGE)
            arr = np.ones_like(out._data)
            result.append(tensor_cls._make(arr) if create_graph else arr)
            continue
        if not isinstance(g, tensor_cls):
            raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        if g.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                f"output[{i}] has a shape of {out.shape}."
            )
        if create_graph:
            result.append(g if g.dtype is out.dtype else g.to(out.dtype))
        else:
            result.append(g._data if g._data.dtype == out._data.dtype else g._data.astype(out._data.dtype))
    return result


def _roots(outputs: tuple) -> list[tuple[Node, int]]:
    roots = []
    for i, out in enumerate(outputs):
        edge = out._edge() if out.requires_grad else (None, 0)
        if edge[0] is None:  # also a no_grad view of a tensor that requires grad: no path back
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append(edge)
    return roots


def _tensors(value: Any) -> tuple:
    """torch's reading of ``outputs``/``inputs``/``tensors``: one Tensor or an iterable of them."""
    return (value,) if isinstance(value, _tensor_cls()) else tuple(value)


def _grad_tensors(grads: Any, count: int) -> tuple:
    if grads is None:
        return (None,) * count
    grads = _tensors(grads)
    if len(grads) < count:
        raise RuntimeError(f"got {count} tensors and {len(grads)} gradients")
    return grads[:count]


def _check_inputs(inputs: tuple) -> None:
    tensor_cls = _tensor_cls()
    for t in inputs:
        if not isinstance(t, tensor_cls):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}")


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate gradients of ``tensors`` into leaves' ``.grad`` (torch.autograd.backward).

    With ``inputs``, only those tensors receive gradients (a non-leaf one is made to retain
    its gradient, as torch does) and only the part of the graph leading to them runs."""
    outputs = _tensors(tensors)
    targets = None
    if inputs is not None:
        inputs = _tensors(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        _check_inputs(inputs)
        for t in inputs:
            t.retain_grad()
        targets = {t._edge()[0] for t in inputs}
    grads = _initial_grads(outputs, _grad_tensors(grad_tensors, len(outputs)), create_graph)
    roots = _roots(outputs)
    keep = create_graph if retain_graph is None else retain_graph
    if create_graph and "create_graph" not in _warned:
        _warned.add("create_graph")
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    execute(roots, grads, keep_graph=keep, create_graph=create_graph, targets=targets)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    Only the part of the graph between them runs (hooks elsewhere do not fire)."""
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    outs = _tensors(outputs)
    ins = _tensors(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    _check_inputs(ins)
    if is_grads_batched:
        from reference.autograd import batched

        keep = create_graph if retain_graph is None else retain_graph
        return batched.grad(grad, outs, ins, _grad_tensors(grad_outputs, len(outs)), retain_graph=keep,
                            create_graph=create_graph, allow_unused=allow_unused,
                            materialize_grads=materialize_grads)  # fmt: skip
    grads = _initial_grads(outs, _grad_tensors(grad_outputs, len(outs)), create_graph)
    roots = _roots(outs)
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    capture: dict = {}
    for i, t in enumerate(ins):
        capture.setdefault(t._edge(), []).append(i)
    keep = create_graph if retain_graph is None else retain_graph
    captured = execute(roots, grads, keep_graph=keep, create_graph=create_graph, capture=capture)
    return tuple(_captured_grad(captured.get(i), i, t, allow_unused, materialize_grads) for i, t in enumerate(ins))


def _captured_grad(g: Any, index: int, input: Any, allow_unused: bool, materialize: bool) -> Any:
    tensor_cls = _tensor_cls()
    if g is None:
        if not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {index} appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
        return tensor_cls._make(np.zeros_like(input._data)) if materialize else None
    if isinstance(g, tensor_cls):
        return g
    if not g.flags.writeable:  # a broadcast gradient, as sum's backward expands it in torch
        return _expanded_view(g)
    return tensor_cls._make(np.array(g, copy=True))


def _expanded_view(g: np.ndarray) -> Any:
    """torch returns sum's expanded gradient as it is: a view made in no_grad mode (detach_()
    refuses it), writable only where no two elements share memory."""
    from reference.autograd.function import NO_GRAD_VIEW

    tensor_cls = _tensor_cls()
    overlapping = any(s == 0 and n > 1 for s, n in zip(g.strides, g.shape))
    view = tensor_cls._make(g if overlapping else g.copy())
    base = g
    while isinstance(base.base, np.ndarray):
        base = base.base
    view._view_base = tensor_cls._make(base)
    view._vc = view._view_base._vc
    view._view_kind, view._attr_version = NO_GRAD_VIEW, 0
    return view


def _dependencies(roots: Sequence[tuple[Node, int]]) -> dict[Node, int]:
    deps: dict[Node, int] = {}
    stack = [node for node, _ in roots]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is not None:
                deps[nxt] = deps.get(nxt, 0) + 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return deps


def _leading_to(roots: Sequence[tuple[Node, int]], targets: set) -> set:
    """The nodes from which some target can be reached through at least one edge (post-order,
    iterative). Only these run when ``grad()`` or ``backward(inputs=...)`` prunes the graph."""
    leads: set = set()
    seen: set = set()
    for root, _ in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, children = stack[-1]
            for child, _ in children:
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                stack.pop()
                if any(c is not None and (c in targets or c in leads) for c, _ in node.next_functions):
                    leads.add(node)
    return leads


def _pruned_dependencies(runs: set, wanted: set) -> dict[Node, int]:
    """Dependency counts along the edges from the nodes that will run to the nodes wanted."""
    deps: dict[Node, int] = {}
    for node in runs:
        for nxt, _ in node.next_functions:
            if nxt in wanted:
                deps[nxt] = deps.get(nxt, 0) + 1
    return deps


def execute(
    roots: Sequence[tuple[Node, int]],
    root_grads: Sequence[Any],
    *,
    keep_graph: bool,
    create_graph: bool,
    capture: dict | None = None,
    targets: set | None = None,
) -> dict[int, Any]:
    """Run backward from ``roots``. With ``capture`` ({edge: [input indices]}), return the
    gradients arriving at those edges instead of accumulating into leaves; with ``targets``
    (nodes), run only what leads to them (their own AccumulateGrad nodes included)."""
    task = _GraphTask(roots, root_grads, keep_graph, create_graph, capture, targets)
    was_recording = recording.active
    recording.active = create_graph
    try:
        with enable_grad() if create_graph else no_grad(), np.errstate(all="ignore"):
            task.run()
    finally:
        recording.active = was_recording
    return task.captured


class _GraphTask:
    """The state of one backward pass: dependency counts, gradient buffers, ready queue."""

    def __init__(self, roots, root_grads, keep_graph, create_graph, capture, targets) -> None:
        self.keep_graph = keep_graph
        self.create_graph = create_graph
        self.capture = capture
        self.captured: dict[int, Any] = {}
        self.runs = self.wanted = None  # None: every node runs
        if capture is not None:
            targets = {edge[0] for edge in capture}
        if targets is not None:
            self.runs = _leading_to(roots, targets)
            if capture is None:  # backward(inputs=...): the leaves named accumulate
                self.runs |= {t for t in targets if type(t) is AccumulateGrad}
            self.wanted = self.runs | targets  # nodes that receive gradients
            self.deps = _pruned_dependencies(self.runs, self.wanted)
        else:
            self.deps = _dependencies(roots)
        self.capture_nodes = {edge[0] for edge in capture} if capture else ()
        self.buffers: dict[Node, list] = {}
        for (node, nr), g in zip(roots, root_grads):
            _add(self.buffers, node, nr, g)
        self.ready: list = []
        for node in self.buffers:
            if self.deps.get(node, 0) == 0:
                self._push(node)

    def _push(self, node: Node) -> None:
        heapq.heappush(self.ready, (-node._seq, id(node), node))  # newest node first

    def run(self) -> None:
        buffers = self.buffers
        runs, wanted = self.runs, self.wanted
        while self.ready:
            node = heapq.heappop(self.ready)[2]
            grads = buffers.pop(node)
            if node._hooks is not None:
                grads = node._hooks.run(grads, self.create_graph)
            if node in self.capture_nodes:
                self._capture(node, grads)
            if runs is not None and node not in runs:
                continue
            hooks = node._hooks
            dropped = False  # a pre-hook dropped every gradient: nothing flows on
            if hooks is not None and hooks.pre:
                grads = hooks.run_pre(grads, self.create_graph)
                dropped = all(g is None for g in grads)
            if type(node) is AccumulateGrad:
                if not dropped:
                    _accumulate(node.variable, grads[0])
                if hooks is not None and hooks.post:
                    hooks.run_post((), grads, self.create_graph)
                continue
            outs = (None,) * len(node.next_functions) if dropped else _run_node(node, grads)
            if hooks is not None and hooks.post:
                outs = hooks.run_post(grad_inputs(node, outs), grads, self.create_graph)
            fresh = self.capture is not None  # what torch computes afresh is no view (see _expanded_view)
            if fresh and type(node).__name__ in _EXPANDING:
                outs, fresh = _as_expanded(outs), False
            deps = self.deps
            for (nxt, nr), g, meta in zip(node.next_functions, outs, node._input_meta):
                if nxt is None or (wanted is not None and nxt not in wanted):
                    continue
                if g is None:
                    self._release_edge(nxt)
                    continue
                if type(g) is not np.ndarray or g.shape != meta[0] or g.dtype != meta[1]:
                    g = to_input(g, meta[0], meta[1])
                    if fresh and type(g) is np.ndarray and not g.flags.writeable:
                        g = g.copy()  # broadcast by the engine, where torch's formula makes it whole (mean's)
                _add(buffers, nxt, nr, g)
                deps[nxt] -= 1  # _release_edge's common case: nxt holds a gradient, it runs when all are in
                if not deps[nxt]:
                    self._push(nxt)
            if not self.keep_graph:
                node._release()

    def _capture(self, node: Node, grads: list) -> None:
        for nr, g in enumerate(grads):
            for i in self.capture.get((node, nr), ()):
                self.captured[i] = g

    def _release_edge(self, node: Node) -> None:
        """One consumer of ``node`` is done; run it when all are. A node that received no
        gradient at all is skipped, releasing its own inputs in turn."""
        stack = [node]
        runs, wanted = self.runs, self.wanted
        while stack:
            n = stack.pop()
            self.deps[n] -= 1
            if self.deps[n]:
                continue
            if n in self.buffers:
                self._push(n)
                continue
            if n._hooks is not None and (n._hooks.pre or n._hooks.post) and (runs is None or n in runs):
                undefined_run(n, _num_outputs(n), self.create_graph)
            if runs is None:
                stack.extend(nxt for nxt, _ in n.next_functions if nxt is not None)
            elif n in runs:
                stack.extend(nxt for nxt, _ in n.next_functions if nxt in wanted)


# Nodes whose backward is an expand in torch (sum's): autograd.grad returns that view as it is.
_EXPANDING = frozenset({"SumBackward0", "SumBackward1"})


def _as_expanded(outs: tuple) -> tuple:
    """Mark gradients as torch's expanded views (read-only aliases), so that autograd.grad hands
    them back the way torch does (see _expanded_view)."""
    return tuple(np.broadcast_to(g, g.shape) if type(g) is np.ndarray else g for g in outs)


def _run_node(node: Node, grads: list) -> tuple:
    if len(grads) > 1 and node._engine_fills_missing and any(g is None for g in grads):
        grads = _materialize(node, grads)
    outs = node._backward(grads)
    if len(outs) != len(node.next_functions):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(node.next_functions)}, got {len(outs)})"
        )
    return outs


def _materialize(node: Node, grads: list) -> list:
    """Multi-output nodes receive zeros for outputs that got no gradient."""
    shapes = node.__dict__.get("output_meta")
    if shapes is None:
        raise RuntimeError(f"{node.name()} received no gradient for one of its outputs")
    return [np.zeros(s, d) if g is None else g for g, (s, d) in zip(grads, shapes)]


def _add(buffers: dict, node: Node, nr: int, g: Any) -> None:
    buf = buffers.get(node)
    if buf is None:
        buf = [None] * _num_outputs(node)
        buffers[node] = buf
    if buf[nr] is None:
        buf[nr] = g
    else:
        total = buf[nr] + g
        buf[nr] = np.asarray(total) if isinstance(total, np.generic) else total  # 0-d sums come back as scalars


def _num_outputs(node: Node) -> int:
    meta = node.__dict__.get("output_meta") if type(node) is not AccumulateGrad else None
    return len(meta) if meta else 1


def _accumulate(leaf: Any, g: Any) -> None:
    """Add ``g`` into ``leaf.grad``: in place when possible, as torch does."""
    if not leaf._requires_grad:  # detach_() or requires_grad_(False) since the graph was built
        return
    tensor_cls = _tensor_cls()
    if isinstance(g, tensor_cls):  # create_graph: .grad itself becomes differentiable
        leaf._grad = g if leaf._grad is None else leaf._grad + g
        return
    if leaf._grad is None:
        leaf._grad = tensor_cls._make(np.array(g, dtype=leaf._data.dtype, copy=True))
    elif leaf._grad.requires_grad or not leaf._grad._data.flags.writeable:
        leaf._grad = tensor_cls._make(leaf._grad._data + g)
    else:
        leaf._grad._data += g
