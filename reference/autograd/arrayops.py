"""Functions for backward formulas that work on NumPy arrays *and* on Tensors.

A backward rule runs on plain arrays (the fast, usual case) or, with
``create_graph=True``, on Tensors so that the backward itself is recorded.
Operators and methods shared by both (``+ * / **``, ``@``, ``.reshape``,
``.swapaxes``, ``.mT``, ``.sum(axis=, keepdims=)``) can be used directly; anything
else goes through this module, which picks NumPy or the engine by argument type.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def is_tensor(x: Any) -> bool:
    """An engine Tensor (not an array): in a backward formula, true while create_graph records it."""
    return type(x) is not np.ndarray and hasattr(x, "_grad_fn")


def _tensor_mode(*values: Any) -> bool:
    return any(is_tensor(v) for v in values)


def where(cond: Any, a: Any, b: Any) -> Any:
    """``cond`` is a mask (array, NumPy bool or Tensor); it is never differentiated."""
    cond = data(cond)
    if _tensor_mode(a, b):
        import reference

        return reference.where(reference.from_numpy(np.asarray(cond)), a, b)
    return np.where(cond, a, b)


def log(x: Any) -> Any:
    if _tensor_mode(x):
        return x.log()
    return np.log(x)


def conj(x: Any) -> Any:
    """The complex conjugate; a real value itself, uncopied (backward rules of holomorphic ops
    multiply by conj(f'), which costs nothing on real tensors)."""
    if type(x) is np.ndarray:
        return x.conj() if x.dtype.kind == "c" else x
    if _tensor_mode(x):
        return x.conj()
    return np.conj(x) if isinstance(x, complex) or np.iscomplexobj(x) else x


def permute(x: Any, dims: tuple) -> Any:
    if _tensor_mode(x):
        return x.permute(tuple(dims))
    return x.transpose(dims)


def data(x: Any) -> Any:
    """The raw array of a value (for masks and metadata, which are never differentiated)."""
    return x._data if hasattr(x, "_grad_fn") else x


# NumPy's names for torch functions that differ.
_NUMPY_NAMES = {
    "clamp": "clip", "pow": "power", "atan2": "arctan2", "asin": "arcsin", "acos": "arccos",
    "atan": "arctan", "sinh": "sinh", "maximum": "maximum", "minimum": "minimum",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    """``xp.cos(x)``: any torch function, on Tensors through the engine (recorded for
    create_graph) and on arrays through NumPy's function of the same (or mapped) name.
    Positional arguments only, since torch and NumPy spell keywords differently."""
    if name.startswith("__"):
        raise AttributeError(name)
    np_fn = getattr(np, _NUMPY_NAMES.get(name, name), None)

    def dispatch(*args: Any) -> Any:
        if _tensor_mode(*args):
            import reference

            return getattr(reference, name)(*args)
        if np_fn is None:
            raise AttributeError(f"NumPy has no {name!r}; write a Tensor-aware helper in arrayops.py")
        return np_fn(*args)

    dispatch.__name__ = name
    globals()[name] = dispatch  # built once: later lookups find it without __getattr__
    return dispatch
