"""Shape ops, the family: views (reshape/view, flatten, transpose, permute, t, unsqueeze, squeeze,
expand, and split/chunk with several outputs) share memory with their input as torch's do;
copies (clone, contiguous, dtype conversion, repeat, cat, stack, flip, pad) own their memory.

The ops live in ``shape_views``, ``shape_copies``, ``shape_join``, ``shape_pad`` (constant, reflect,
replicate, circular) and ``shape_more`` (roll, rot90, tril/triu, diag, diag_embed; the views select,
narrow, movedim, unbind, unflatten; repeat_interleave, tile, atleast_nd, h/v/dstack); this module
re-exports what other modules use (``from reference.ops.shape import pad``) and lists the
family's functions, Tensor methods and properties.
"""

from __future__ import annotations

from reference.ops.shape_copies import double, flip, float, repeat, to
from reference.ops.shape_join import cat, chunk, split, stack
from reference.ops.shape_more import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    diag,
    diag_embed,
    dstack,
    hstack,
    movedim,
    narrow,
    repeat_interleave,
    roll,
    rot90,
    select,
    tile,
    tril,
    triu,
    unbind,
    unflatten,
    vstack,
)
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
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_to",
    "cat",
    "chunk",
    "clone",
    "concat",
    "concatenate",
    "diag",
    "diag_embed",
    "dstack",
    "flatten",
    "flip",
    "hstack",
    "moveaxis",
    "movedim",
    "narrow",
    "permute",
    "repeat_interleave",
    "reshape",
    "roll",
    "rot90",
    "select",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "swapdims",
    "t",
    "tile",
    "transpose",
    "tril",
    "triu",
    "unbind",
    "unflatten",
    "unsqueeze",
    "vstack",
]  # fmt: skip
moveaxis = movedim
swapaxes = swapdims = transpose
concat = concatenate = cat
METHODS = {
    "reshape": reshape, "view": view, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose,
    "t": t, "permute": permute, "unsqueeze": unsqueeze, "squeeze": squeeze,
    "expand": expand, "broadcast_to": broadcast_to, "contiguous": contiguous,
    "to": to, "double": double, "float": float, "clone": clone, "flatten": flatten,
    "repeat": repeat, "flip": flip, "split": split, "chunk": chunk,
    "diag": diag, "diag_embed": diag_embed, "movedim": movedim, "moveaxis": movedim, "narrow": narrow,
    "repeat_interleave": repeat_interleave, "roll": roll, "rot90": rot90, "select": select, "tile": tile,
    "tril": tril, "triu": triu, "unbind": unbind, "unflatten": unflatten,
}  # fmt: skip
PROPERTIES = {"T": T, "mT": mT}
