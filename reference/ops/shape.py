"""Shape ops, the family: views (reshape/view, flatten, transpose, permute, t, unsqueeze, squeeze,
expand, and split/chunk with several outputs) share memory with their input as torch's do;
copies (clone, contiguous, dtype conversion, repeat, cat, stack, flip, pad) own their memory.

The ops live in ``shape_views``, ``shape_copies``, ``shape_join`` and ``shape_pad``; this module
re-exports what other modules use (``from reference.ops.shape import pad``) and lists the
family's functions, Tensor methods and properties.
"""

from __future__ import annotations

from reference.ops.shape_copies import double, flip, float, repeat, to
from reference.ops.shape_join import cat, chunk, split, stack
from reference.ops.shape_pad import pad as pad
from reference.ops.shape_views import Alias as Alias
from reference.ops.shape_views import Squeeze as Squeeze
from reference.ops.shape_views import (
    T,
    broadcast_to,
    clone,
    contiguous,
    expand,
    flatten,
    mT,
    permute,
    reshape,
    squeeze,
    t,
    transpose,
    unsqueeze,
    view,
)
from reference.ops.shape_views import View as View
from reference.ops.shape_views import _torch_type as _torch_type
from reference.ops.shape_views import _unsafe_view as _unsafe_view
from reference.ops.shape_views import alias as alias

# Top-level functions (``reference.reshape``), Tensor methods and properties.
__all__ = [
    "broadcast_to", "cat", "chunk", "clone", "concat", "concatenate", "flatten", "flip", "permute", "reshape",
    "split", "squeeze", "stack", "swapaxes", "swapdims", "t", "transpose", "unsqueeze",
]  # fmt: skip
swapaxes = swapdims = transpose
concat = concatenate = cat
METHODS = {
    "reshape": reshape, "view": view, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose,
    "t": t, "permute": permute, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "expand": expand, "broadcast_to": broadcast_to, "contiguous": contiguous,
    "to": to, "double": double, "float": float, "clone": clone, "flatten": flatten,
    "repeat": repeat, "flip": flip, "split": split, "chunk": chunk,
}  # fmt: skip
PROPERTIES = {"T": T, "mT": mT}
