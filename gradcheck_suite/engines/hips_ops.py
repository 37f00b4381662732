"""The catalogue's ops written with ``autograd.numpy``, as an autograd user would write them.

``TABLE`` maps a catalogue op name to ``impl(*arrays, **kwargs)``, which takes exactly the
kwargs the catalogue draws, with torch's meaning (negative dims, tuples of dims, keepdim, 0-d
tensors, index arrays, reduction modes). The derivatives are autograd's own: relu is
``np.maximum(x, 0.0)``, clamp is ``np.clip``, max is ``np.max``, so where autograd's rules
differ from torch's at kinks (ties split evenly, zero gradient at clip's bounds) the checker
sees the difference; nothing here is bent to match torch. Where autograd.numpy's obvious
spelling has no VJP at all (``np.flip``, ``np.take``) the op uses the indexing a user falls
back to. Values keep NumPy's dtype rules: bool masks times Python floats are float64 in NumPy
(float32 in torch), so ``comparisons`` computes float32 cases in float64.

``UNSUPPORTED`` lists the catalogue ops left out, and why: each is an ``unsupported`` row.
"""

from __future__ import annotations

import math

import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval

try:  # erf and logsumexp live in autograd.scipy, which needs SciPy
    from autograd.scipy import special
except ImportError:  # pragma: no cover - SciPy is optional
    special = None


# -- torch's dims in NumPy terms -------------------------------------------------------------------


def _axis(dim, ndim: int):
    """A torch dim (None, int or tuple; a 0-d tensor accepts 0 and -1) as a NumPy axis."""
    if dim is None or ndim == 0:
        return None
    if isinstance(dim, int):
        return dim % ndim
    return tuple(sorted(d % ndim for d in dim))


def _axes(axis, ndim: int) -> tuple:
    return tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis


def _along(axis: int, index) -> tuple:
    """An index tuple that applies ``index`` along ``axis``."""
    return (slice(None),) * axis + (index,)


def _like(array, a):
    """A constant kwarg array in ``a``'s dtype (as the catalogue casts it for torch)."""
    return onp.asarray(array, dtype=onp.result_type(getval(a)))


def _spread(a, ladder):
    return a + _like(ladder, a)


def _transposed(a):
    """torch's ``a.transpose(0, -1)`` (a no-op on a 0-d tensor)."""
    return np.swapaxes(a, 0, -1) if np.ndim(a) else a


# -- reductions ------------------------------------------------------------------------------------


def _reducer(reduce):
    """torch's ``a.op()`` (all dims, keepdim ignored) or ``a.op(dim, keepdim=...)``."""
    return lambda a, dim, keepdim: reduce(a) if dim is None else reduce(a, _axis(dim, np.ndim(a)), keepdims=keepdim)


def _selection(reduce):
    """max/min/amax/amin over ``dim`` of ``a + ladder`` (None: every dim, as torch's ``amax(x, ())``)."""
    return lambda a, ladder, dim, keepdim: reduce(_spread(a, ladder), axis=_axis(dim, np.ndim(a)), keepdims=keepdim)


def _vector_norm(a, ord, dim, keepdim):
    """torch's vector norm over ``dim``: those dims moved last and flattened, then np.linalg.norm."""
    if ord == "fro" and isinstance(dim, tuple) and len(dim) > 2:
        raise ValueError(f"norm: 'fro' takes at most 2 dims, got {dim} (as torch)")
    shape, n = np.shape(a), np.ndim(a)
    axes = _axes(_axis(dim, n), n)
    rest = [i for i in range(n) if i not in axes]
    moved = np.reshape(np.transpose(a, rest + list(axes)) if n else a,
                       (*(shape[i] for i in rest), math.prod(shape[i] for i in axes)))  # fmt: skip
    value = np.linalg.norm(moved, ord=None if ord == "fro" else ord, axis=-1)
    return np.reshape(value, tuple(1 if i in axes else s for i, s in enumerate(shape))) if keepdim else value


def _softmax(a, dim):
    axis = _axis(dim, np.ndim(a))
    if not np.size(a):  # np.max has no identity (torch's softmax of nothing is empty)
        return a
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _logsumexp(a, dim, keepdim):
    """scipy's logsumexp keeps a dim for a 0-d input with keepdims; torch's result stays 0-d."""
    return special.logsumexp(a, axis=_axis(dim, np.ndim(a)), keepdims=keepdim and np.ndim(a) > 0)


def _log_softmax(a, dim):
    return a - _logsumexp(a, dim, keepdim=True)


REDUCTIONS = {
    "sum": _reducer(np.sum),
    "mean": _reducer(np.mean),
    "prod": _reducer(np.prod),
    "max": lambda a, ladder: np.max(_spread(a, ladder)),
    "min": lambda a, ladder: np.min(_spread(a, ladder)),
    "max_dim": _selection(np.max),
    "min_dim": _selection(np.min),
    "amax": _selection(np.amax),
    "amin": _selection(np.amin),
    "var": lambda a, dim, keepdim, correction: np.var(a, axis=_axis(dim, np.ndim(a)), ddof=correction,
                                                      keepdims=keepdim),
    "std": lambda a, ladder, dim, keepdim, correction: np.std(_spread(a, ladder), axis=_axis(dim, np.ndim(a)),
                                                              ddof=correction, keepdims=keepdim),
    "norm": lambda a, p, dim, keepdim: _vector_norm(a, p, dim, keepdim),
    "vector_norm_inf": lambda a, ladder, signs, ord, dim, keepdim: _vector_norm(
        (_spread(a, ladder) + 4.0) * _like(signs, a), ord, dim, keepdim),
    "softmax": _softmax,
    "cumsum": lambda a, dim: np.cumsum(a, axis=dim) if np.ndim(a) else a,
}  # fmt: skip
if special is not None:
    REDUCTIONS |= {
        "logsumexp": _logsumexp,
        "log_softmax": _log_softmax,
    }


# -- pointwise -------------------------------------------------------------------------------------


def _sigmoid(a):
    return 0.5 * (np.tanh(a / 2.0) + 1.0)  # the autograd tutorial's sigmoid (no overflow)


def _comparisons(a, b):
    return a * (a > b) + b * (a <= b) + (a < b) * 0.5 - (a >= b) * 0.25 + a * (a != b) - (a == b) * 1.0


def _clamp_tensor(a, lo, hi, bounds):
    if bounds == "min":
        return np.maximum(a, lo)
    return np.minimum(a, hi) if bounds == "max" else np.minimum(np.maximum(a, lo), hi)


POINTWISE = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "rsub_tensor": lambda a, b: b - a,
    "neg": lambda a: -a,
    "rsub": lambda a, other: other - a,
    "rdiv": lambda a, other: other / a,
    "reciprocal": np.reciprocal,
    "pow": lambda a, exponent: a**exponent,
    "pow_tensor": lambda a, b: a**b,
    "rpow": lambda a, base: base**a,
    "square": np.square,
    "sqrt": np.sqrt,
    "rsqrt": lambda a: 1.0 / np.sqrt(a),
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda a: np.maximum(a, 0.0),
    "abs": np.abs,
    "sign": np.sign,
    "floor": np.floor,
    "round": np.round,
    "round_decimals": lambda a: np.round(a, 1),
    "clamp": lambda a, min, max: np.clip(a, min, max),
    "clamp_min": lambda a, min: np.clip(a, min, None),
    "clamp_max": lambda a, max: np.clip(a, None, max),
    "clamp_tensor": _clamp_tensor,
    "clamp_min_tensor": np.maximum,
    "clamp_max_tensor": np.minimum,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "atan2": np.arctan2,
    "where": lambda a, b, condition: np.where(condition, a, b),
    "comparisons": _comparisons,
}
if special is not None:
    POINTWISE["erf"] = special.erf


# -- shape -----------------------------------------------------------------------------------------


def _flatten(a, start_dim, end_dim):
    shape = np.shape(a)
    if not shape:
        return np.reshape(a, (1,))
    s, e = start_dim % len(shape), end_dim % len(shape)
    return np.reshape(a, (*shape[:s], math.prod(shape[s : e + 1]), *shape[e + 1 :]))


def _squeeze(a, dim):
    """torch's squeeze(dim): dims (int or tuple) that are not of size 1 stay."""
    if dim is None:
        return np.squeeze(a)
    shape = np.shape(a)
    axes = _axes(_axis(dim, len(shape)), len(shape)) if shape else ()
    return np.squeeze(a, axis=tuple(i for i in axes if shape[i] == 1))


def _expand(a, sizes):
    shape = np.shape(a)
    lead = len(sizes) - len(shape)
    return np.broadcast_to(a, tuple(shape[i - lead] if n == -1 else n for i, n in enumerate(sizes)))


def _flip(a, dims):
    """Reversed slices (np.flip has no VJP in autograd)."""
    n = np.ndim(a)
    flipped = {d % n for d in dims} if n else set()
    return a[tuple(slice(None, None, -1) if i in flipped else slice(None) for i in range(n))]


def _split(a, sections, dim, piece):
    axis = dim % np.ndim(a)
    if isinstance(sections, int):
        start = piece * sections
        stop = min(start + sections, np.shape(a)[axis])
    else:
        start = sum(sections[:piece])
        stop = start + sections[piece]
    return a[_along(axis, slice(start, stop))]


def _chunk(a, chunks, dim):
    """torch's chunk (pieces of ceil(n / chunks)), each weighted by position, flattened and joined."""
    axis = dim % np.ndim(a)
    n = np.shape(a)[axis]
    if not n or not np.size(a):
        return np.reshape(a, (0,))
    size = -(-n // chunks)
    pieces = [a[_along(axis, slice(i * size, (i + 1) * size))] for i in range(-(-n // size))]
    return np.concatenate([np.reshape(p * (i + 1), (-1,)) for i, p in enumerate(pieces)])


def _pad(a, pad, value):
    """F.pad with a constant: pairs from the last dim backwards; negative widths crop."""
    n = np.ndim(a)
    if not pad:
        return a
    widths, crop = [(0, 0)] * n, [slice(None)] * n
    for k in range(len(pad) // 2):
        axis, (before, after) = n - 1 - k, pad[2 * k : 2 * k + 2]
        crop[axis] = slice(max(-before, 0), np.shape(a)[axis] - max(-after, 0))
        widths[axis] = (max(before, 0), max(after, 0))
    return np.pad(a[tuple(crop)], widths, mode="constant", constant_values=value)


SHAPE = {
    "reshape": lambda a, shape: np.reshape(a, shape),
    "reshape_strided": lambda a, shape: np.reshape(_transposed(a), shape),
    "view": lambda a, shape: np.reshape(a, shape),
    "flatten": _flatten,
    "flatten_strided": lambda a, start_dim, end_dim: _flatten(_transposed(a), start_dim, end_dim),
    "transpose": lambda a, dim0, dim1: np.swapaxes(a, dim0, dim1) if np.ndim(a) else a,
    "permute": lambda a, dims: np.transpose(a, dims),
    "t": lambda a: np.transpose(a) if np.ndim(a) == 2 else a,
    "T": np.transpose,
    "mT": lambda a: np.swapaxes(a, -1, -2),
    "unsqueeze": lambda a, dim: np.expand_dims(a, dim),
    "squeeze": _squeeze,
    "expand": _expand,
    "broadcast_to": lambda a, size: np.broadcast_to(a, size),
    "clone": lambda a: np.array(a, copy=True),
    "contiguous": _transposed,  # NumPy users never ask for contiguity (np.ascontiguousarray has no VJP)
    "to": lambda a: a.astype(np.float64).astype(a.dtype),
    "repeat": lambda a, repeats: np.tile(a, repeats),
    "flip": _flip,
    "cat": lambda a, b, c, dim: np.concatenate([a, b, c], axis=dim),
    "stack": lambda a, b, c, dim: np.stack([a, b, c], axis=dim),
    "split": _split,
    "chunk": _chunk,
    "pad": _pad,
}


# -- indexing --------------------------------------------------------------------------------------


def _index_select(a, dim, index):
    flat = onp.reshape(index, (-1,))  # torch reads a 0-d index as one element
    if not np.ndim(a):
        return np.reshape(np.reshape(a, (1,))[flat], ())
    return a[_along(dim % np.ndim(a), flat)]


def _gather(a, dim, index):
    """out[i][j][k] = a[i][index[i][j][k]][k] (dim 1), by advanced indexing with a grid."""
    if not np.ndim(a):
        return np.reshape(a, (1,))[index]
    grid = list(onp.indices(index.shape, sparse=True))
    grid[dim % np.ndim(a)] = index
    return a[tuple(grid)]


def _integer(entry) -> bool:
    """A Python int or a 0-d integer array: torch selects with both."""
    return type(entry) is int or (isinstance(entry, onp.ndarray) and entry.ndim == 0 and entry.dtype.kind in "iu")


def _without_ellipsis(entries: tuple, ndim: int) -> tuple:
    """The Ellipsis spelled out as full slices: an Ellipsis of no dims separates index arrays for
    NumPy (which then moves their result dims first) but not for torch."""
    if not any(e is Ellipsis for e in entries):
        return entries
    used = sum(e.ndim if isinstance(e, onp.ndarray) and e.dtype == bool else 1
               for e in entries if e is not None and e is not Ellipsis)  # fmt: skip
    at = next(i for i, e in enumerate(entries) if e is Ellipsis)
    return (*entries[:at], *(slice(None),) * (ndim - used), *entries[at + 1 :])


def _getitem(a, index):
    """``a[index]`` as torch reads it: integers select before index arrays apply, so only arrays
    count as advanced (NumPy counts integers too, and moves the result dims first when they are
    not adjacent to the arrays)."""
    entries = _without_ellipsis(index if isinstance(index, tuple) else (index,), np.ndim(a))
    integers = [_integer(e) for e in entries]
    if not any(integers) or all(i or not isinstance(e, onp.ndarray) for e, i in zip(entries, integers)):
        return a[entries]
    selected = a[tuple(int(e) if i else slice(None) for e, i in zip(entries, integers) if e is not None)]
    return selected[tuple(e for e, i in zip(entries, integers) if not i)]


INDEXING = {
    "getitem": lambda a, index: a[index],
    "getitem_advanced": _getitem,
    "getitem_mask": lambda a, index: a[index],
    "index_select": _index_select,
    "gather": _gather,
    "masked_fill": lambda a, mask, value: np.where(mask, value, a),
    "masked_fill_tensor": lambda a, v, mask: np.where(mask, v, a),
}


# -- linear algebra --------------------------------------------------------------------------------


def _shifted(a):
    n = np.shape(a)[-1]
    return a + onp.asarray(2.0 * n * onp.eye(n), dtype=onp.result_type(getval(a)))


def _solve(a, b, left):
    """torch.linalg.solve: B is a vector (or batch of vectors) when it is 1-d or A's shape less one dim."""
    a = _shifted(a)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    if np.ndim(b) == 1 or np.shape(b) == np.shape(a)[:-1]:
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


LINALG = {
    "matmul": np.matmul,
    "mm": np.matmul,
    "mv": np.matmul,
    "dot": np.dot,
    "bmm": np.matmul,
    "outer": np.outer,
    "einsum": lambda a, b, equation: np.einsum(equation, a, b),
    "einsum_unary": lambda a, equation: np.einsum(equation, a),
    "trace": np.trace,
    "diagonal": lambda a, offset, dims: np.diagonal(a, offset, dims[0], dims[1]),
    "linalg.inv": lambda a: np.linalg.inv(_shifted(a)),
    "linalg.det": lambda a: np.linalg.det(_shifted(a)),
    "linalg.solve": _solve,
}


# -- nn --------------------------------------------------------------------------------------------


def _reduced(loss, reduction: str):
    return loss if reduction == "none" else np.sum(loss) if reduction == "sum" else np.mean(loss)


def _gelu(a, approximate):
    if approximate == "tanh":
        return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a**3)))
    if special is None:
        raise NotImplementedError("exact gelu needs erf from autograd.scipy (install SciPy)")
    return 0.5 * a * (1.0 + special.erf(a / math.sqrt(2.0)))


def _dropout(a, p, seed):
    """The catalogue's documented mask: keep where PCG64(seed).random(shape) < 1 - p, scaled by 1/(1-p)."""
    dtype = onp.result_type(getval(a))
    keep = onp.random.Generator(onp.random.PCG64(seed)).random(np.shape(a)) < 1.0 - p
    return a * (keep.astype(dtype) / dtype.type(1.0 - p))


def _embedding(w, index, padding_idx):
    if padding_idx is not None:  # torch's padding row gets no gradient, which is no derivative at all
        raise NotImplementedError("embedding with padding_idx: autograd.numpy has no row exempt from differentiation")
    return w[index]


def _layer_norm(x, w, b, eps, spread):
    x = x + _like(spread, x)
    axes = tuple(range(-np.ndim(w), 0))
    centred = x - np.mean(x, axis=axes, keepdims=True)
    return centred / np.sqrt(np.var(x, axis=axes, keepdims=True) + eps) * w + b


def _nll(logp, target, weight, ignore_index, reduction):
    """-weight[t] * logp[..., t, ...] over targets; 'mean' divides by the weights of the targets kept."""
    classes = np.shape(logp)[1 if np.ndim(logp) > 1 else 0]
    rows = np.reshape(np.moveaxis(logp, 1, -1) if np.ndim(logp) > 1 else logp, (-1, classes))
    t = onp.reshape(target, (-1,))
    w = (onp.ones(classes) if weight is None else onp.asarray(weight))[t] * (t != ignore_index)
    w = w.astype(onp.result_type(getval(logp)))
    losses = -w * rows[onp.arange(t.size), t]
    if reduction == "none":
        return np.reshape(losses, target.shape)
    return np.sum(losses) if reduction == "sum" else np.sum(losses) / onp.sum(w)


def _bce_with_logits(x, y, reduction, weight, pos_weight):
    log_weight = 1.0 if pos_weight is None else 1.0 + (_like(pos_weight, x) - 1.0) * y
    loss = (1.0 - y) * x + log_weight * np.logaddexp(0.0, -x)
    return _reduced(loss if weight is None else loss * _like(weight, x), reduction)


NN = {
    "nn.relu": lambda a: np.maximum(a, 0.0),
    "nn.leaky_relu": lambda a, negative_slope: np.where(a > 0, a, negative_slope * a),
    "nn.hardtanh": lambda a, min_val, max_val: np.clip(a, min_val, max_val),
    "nn.elu": lambda a, alpha: np.where(a > 0, a, alpha * np.expm1(a)),
    "nn.gelu": _gelu,
    "nn.silu": lambda a: a * _sigmoid(a),
    "nn.softplus": lambda a, beta, threshold: np.where(a * beta > threshold, a, np.log1p(np.exp(beta * a)) / beta),
    "nn.dropout": _dropout,
    "nn.linear": lambda x, w, b: np.matmul(x, np.transpose(w)) + b,
    "nn.embedding": _embedding,
    "nn.layer_norm": _layer_norm,
    "nn.mse_loss": lambda a, b, reduction: _reduced(np.square(a - b), reduction),
    "nn.nll_loss": _nll,
    "nn.binary_cross_entropy_with_logits": _bce_with_logits,
}
if special is not None:
    NN["nn.cross_entropy"] = lambda x, target, weight, ignore_index, reduction: _nll(
        _log_softmax(x, 1 if np.ndim(x) > 1 else 0), target, weight, ignore_index, reduction
    )

TABLE = {**POINTWISE, **REDUCTIONS, **SHAPE, **INDEXING, **LINALG, **NN}

# Catalogue ops without an entry, and why (each is an `unsupported` row).
UNSUPPORTED = {
    "cumprod": "autograd defines no VJP for np.cumprod",
    "pad_reflect": "autograd's np.pad VJP supports mode='constant' only",
    "pad_replicate": "autograd's np.pad VJP supports mode='constant' only",
    "scatter_add": "autograd.numpy has no differentiable scatter (np.add.at is not traced)",
    "nn.conv2d": "no conv2d in autograd.numpy (stride, padding, dilation, groups would be hand-written)",
    "nn.max_pool2d": "no pooling in autograd.numpy (ceil_mode, dilation would be hand-written)",
    "nn.avg_pool2d": "no pooling in autograd.numpy (ceil_mode, count_include_pad would be hand-written)",
}
if special is None:  # pragma: no cover - SciPy is optional
    UNSUPPORTED |= {name: "needs autograd.scipy (install SciPy)" for name in
                    ("erf", "logsumexp", "log_softmax", "nn.cross_entropy")}  # fmt: skip
