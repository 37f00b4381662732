"""tiny_engine: a reverse-mode autograd engine in plain NumPy, written for the guide
docs/check-your-own-engine.md.

Its API is its own, not torch's: a ``Var`` holds ``.value`` (a NumPy array) and ``.grad``;
ops are functions (``tiny_engine.exp(x)``) and operators; ``sum`` takes NumPy's ``axis`` and
``keepdims``; ``y.backward(seed)`` accumulates d(sum(seed * y))/dx into the ``.grad`` of
every leaf ``x``. Binary ops broadcast like NumPy, and gradients are summed back to each
input's shape in one place (``unbroadcast``).

It has ONE planted bug, in ``div`` (the guide shows gradcheck-suite finding it).

    >>> import numpy as np, tiny_engine as tiny
    >>> x = tiny.Var(np.array([1.0, 2.0]))
    >>> y = tiny.sum(tiny.exp(x) * x)
    >>> y.backward()
    >>> x.grad  # (1 + x) exp(x)
    array([ 5.43656366, 22.1671683 ])
"""

from __future__ import annotations

import numpy as np

__version__ = "0.1"


class Var:
    """A value in the graph: an array, the Vars it came from, and how to send a gradient
    back to them (``backward_fn``: the gradient of this Var -> one gradient per parent,
    in this Var's shape; ``unbroadcast`` reduces each to its parent's shape)."""

    def __init__(self, value, parents: tuple = (), backward_fn=None) -> None:
        self.value = np.asarray(value)
        self.parents = parents
        self.backward_fn = backward_fn
        self.grad = None

    def backward(self, seed=None) -> None:
        """Accumulate d(sum(seed * self))/d(leaf) into the ``.grad`` of every leaf."""
        seed = np.ones_like(self.value) if seed is None else np.asarray(seed, dtype=self.value.dtype)
        pending = {id(self): seed}  # gradients summed per node until all its consumers are done
        for node in reversed(_topological_order(self)):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if node.backward_fn is None:  # a leaf
                node.grad = g if node.grad is None else node.grad + g
                continue
            for parent, pg in zip(node.parents, node.backward_fn(g)):
                pg = unbroadcast(pg, parent.value.shape)
                pending[id(parent)] = pg + pending[id(parent)] if id(parent) in pending else pg

    def __add__(self, other) -> Var:
        return add(self, other)

    def __sub__(self, other) -> Var:
        return sub(self, other)

    def __mul__(self, other) -> Var:
        return mul(self, other)

    def __truediv__(self, other) -> Var:
        return div(self, other)

    def __matmul__(self, other) -> Var:
        return matmul(self, other)

    def __neg__(self) -> Var:
        return neg(self)

    def __repr__(self) -> str:
        return f"Var({self.value!r})"


def _topological_order(root: Var) -> list[Var]:
    """Every node reachable from ``root``, parents before children (iterative: no recursion limit)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


def unbroadcast(grad, shape: tuple) -> np.ndarray:
    """Undo NumPy broadcasting: sum a gradient in the output's shape down to an input's shape
    (over the dims broadcasting added in front, and over dims stretched from size 1)."""
    grad = np.asarray(grad)
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return np.asarray(grad.sum(axis=stretched, keepdims=True))


def _var(x) -> Var:
    return x if isinstance(x, Var) else Var(x)  # a constant: a leaf nobody reads the grad of


# -- ops: the forward value, and the backward right next to it ----------------------------


def add(a, b) -> Var:
    a, b = _var(a), _var(b)
    return Var(a.value + b.value, (a, b), lambda g: (g, g))


def sub(a, b) -> Var:
    a, b = _var(a), _var(b)
    return Var(a.value - b.value, (a, b), lambda g: (g, -g))


def mul(a, b) -> Var:
    a, b = _var(a), _var(b)
    return Var(a.value * b.value, (a, b), lambda g: (g * b.value, g * a.value))


def div(a, b) -> Var:
    a, b = _var(a), _var(b)

    def backward(g):
        return g / b.value, -g / b.value**2  # d/da, d/db

    return Var(a.value / b.value, (a, b), backward)


def neg(a) -> Var:
    return Var(-a.value, (a,), lambda g: (-g,))


def exp(a) -> Var:
    out = np.exp(a.value)
    return Var(out, (a,), lambda g: (g * out,))


def log(a) -> Var:
    return Var(np.log(a.value), (a,), lambda g: (g / a.value,))


def sin(a) -> Var:
    return Var(np.sin(a.value), (a,), lambda g: (g * np.cos(a.value),))


def tanh(a) -> Var:
    out = np.tanh(a.value)
    return Var(out, (a,), lambda g: (g * (1 - out * out),))


def relu(a) -> Var:
    return Var(np.maximum(a.value, 0), (a,), lambda g: (g * (a.value > 0),))


def sum(a, axis=None, keepdims: bool = False) -> Var:
    def backward(g):
        if axis is not None and not keepdims:
            g = np.expand_dims(g, axis)  # put the summed dims back, then spread along them
        return (np.broadcast_to(g, a.value.shape),)

    return Var(np.sum(a.value, axis=axis, keepdims=keepdims), (a,), backward)


def matmul(a, b) -> Var:
    """Matrix products of (batches of) matrices; batch dims broadcast."""
    a, b = _var(a), _var(b)
    if a.value.ndim < 2 or b.value.ndim < 2:
        raise NotImplementedError("tiny_engine's matmul takes matrices (ndim >= 2), not vectors")

    def backward(g):
        return g @ np.swapaxes(b.value, -1, -2), np.swapaxes(a.value, -1, -2) @ g

    return Var(a.value @ b.value, (a, b), backward)
