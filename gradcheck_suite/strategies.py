"""Hypothesis strategies: shapes, broadcasting, values from an op's domains, op
arguments, and cotangent vectors. Every draw is labelled, so a shrunk or replayed
case reads as a list of named choices.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_suite.catalogue.complex_view import as_checked, numeric_dtype
from gradcheck_suite.catalogue.spec import Domain, Kinks, OpSpec, Shape

MAX_DIMS = 4
MAX_SIDE = 4
# One case in KINK_ODDS of an op with Kinks metadata is aimed at its kinks: half, so that a
# stream of 25 cases finds a wrong value at a tie with probability >= 99% (in about one case
# in four the tie reaches the output with a nonzero cotangent: tests/test_tie_power.py).
KINK_ODDS = 2
ROOMY_TRIES = 8  # shapes drawn for an aimed case until a kink fits (two elements to tie, none empty)


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 0, max_side: int = MAX_SIDE):
    """One input shape, 0-d to 4-d, size-0 and size-1 dims included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side).map(
        lambda s: (s,)
    )


def broadcast_shapes(num_shapes: int = 2, max_dims: int = MAX_DIMS, max_side: int = MAX_SIDE):
    """``num_shapes`` mutually broadcastable shapes (different ranks, size-1 dims, size 0)."""
    return _broadcast_shapes(num_shapes, max_dims, max_side)


@functools.cache
def _full_shapes(max_dims: int, max_side: int):
    return shapes(max_dims=max_dims, max_side=max_side)


@st.composite
def _broadcast_shapes(draw: st.DrawFn, num_shapes: int, max_dims: int, max_side: int) -> tuple[Shape, ...]:
    """A full shape, then for each input two choices: how many leading dims it lacks (none for
    about half of them) and which of the rest are 1 (a bit mask). Two draws per input where
    hypothesis's own mutually_broadcastable_shapes makes two per input and dimension (a third
    of the time it took to generate a pointwise case); both shrink to equal shapes."""
    (full,) = draw(_full_shapes(max_dims, max_side), label="broadcast shape")
    out = []
    for i in range(num_shapes):
        # about half the inputs keep every dim: dropping some on every input made most cases tiny
        lacks = max(0, draw(_integers(0, 2 * len(full)), label=f"leading dims input {i} lacks") - len(full))
        rank = len(full) - lacks
        ones = draw(_integers(0, 2**rank - 1), label=f"size-1 dims of input {i} (bit mask)") if rank else 0
        own = full[len(full) - rank :]
        out.append(tuple(1 if ones >> d & 1 else n for d, n in enumerate(own)))
    return tuple(out)


@st.composite
def matmul_shapes(draw: st.DrawFn, max_side: int = MAX_SIDE) -> tuple[Shape, Shape]:
    """Shape pairs for every matmul path: dot, mv, vector-matrix, mm, folded and batched
    products, with broadcasting batch dimensions."""
    side = st.integers(1, max_side)
    n, k, m = draw(side, label="n"), draw(side, label="k"), draw(side, label="m")
    kind = draw(st.sampled_from(["dot", "mv", "vm", "mm", "batched"]), label="matmul kind")
    if kind == "dot":
        return (k,), (k,)
    if kind == "mv":
        return (n, k), (k,)
    if kind == "vm":
        return (k,), (k, m)
    if kind == "mm":
        return (n, k), (k, m)
    b1, b2 = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3),
        label="batch dims",
    ).input_shapes
    left_vector = not b1 and draw(st.booleans(), label="left is a vector")
    right_vector = not b2 and not left_vector and draw(st.booleans(), label="right is a vector")
    left = (k,) if left_vector else (*b1, n, k)
    right = (k,) if right_vector else (*b2, k, m)
    if max(len(left), len(right)) < 3:  # make sure this really is a batched product
        if left_vector:
            right = (2, *right)
        else:
            left = (2, *left)
    return left, right


# How an array's values are laid out (values()): mostly spread over the domain; some arrays
# repeat a few values (ties: max, sort, maximum), sit on a grid of quarters (exact arithmetic,
# integers, zero where the domain has it) or crowd the domain's bounds.
LAYOUTS = ("spread", "repeated", "quarters", "bounds")


# Strategies made once and drawn from many times: hypothesis validates a strategy on its first
# draw, which for a small one costs as much as the draw itself.
_integers = functools.lru_cache(maxsize=1024)(st.integers)


@functools.lru_cache(maxsize=4096)
@functools.lru_cache(maxsize=4096)  # built once per shape: see kwargs_for
def values(shape: Shape, domain: Domain, dtype: str) -> st.SearchStrategy[np.ndarray]:
    """An array of ``shape`` with elements in ``domain`` (made in float64, then cast). Two
    choices per array, whatever its size: a layout and one byte string with 8 bytes per element
    (hypothesis draws an element at a time at about the cost of a whole case's checks in
    NumPy). The bytes map to values monotonically, so shrinking a byte string shrinks values
    toward the domain's lower end, and a stored case replays from its exact arrays."""
    n = math.prod(shape)
    if n == 0:
        return st.just(np.zeros(shape, dtype=dtype))
    return st.tuples(st.sampled_from(LAYOUTS), st.binary(min_size=8 * n, max_size=8 * n)).map(
        lambda drawn: _laid_out(drawn[0], drawn[1], shape, domain).astype(dtype)
    )


@functools.lru_cache(maxsize=1024)
def complex_values(shape: Shape, domain: Domain, dtype: str) -> st.SearchStrategy[np.ndarray]:
    """Complex numbers as ``view_as_real`` pairs in ``dtype`` (shape + (2,)): the real part from
    ``domain``, which keeps a positive domain's branch cuts (log, sqrt: the negative real axis)
    and a nonzero domain's pole away, and the imaginary part from a symmetric interval."""
    return st.tuples(values(shape, domain, dtype), values(shape, imaginary_part(domain), dtype)).map(
        lambda parts: np.stack(parts, axis=-1)
    )


@functools.lru_cache(maxsize=64)
def imaginary_part(domain: Domain) -> Domain:
    """The imaginary parts drawn beside real parts from ``domain``: ±min(2, its widest bound)."""
    m = min(2.0, max(abs(domain.low), abs(domain.high)))
    return Domain(-m, m)


def _laid_out(layout: str, raw: bytes, shape: Shape, domain: Domain) -> np.ndarray:
    """The values of one array from its layout and 8 bytes per element (see LAYOUTS). All-zero
    bytes give the domain's simplest value (0, or the bound nearest to it), and values move
    away from it as the bytes grow, so shrinking simplifies values as hypothesis's floats do."""
    bits = np.frombuffer(raw, dtype=">u8")  # big-endian: the first bytes weigh most, as hypothesis shrinks
    unit = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53  # [0, 1), 53 bits
    if layout == "repeated":  # one to three distinct values, each element one of them
        pool = np.arange(min(bits.size, 1 + int(bits[0] % np.uint64(3))))
        pick = pool[(bits % np.uint64(pool.size)).astype(np.intp)]
        unit, bits = unit[pick], bits[pick]
    low, high = domain.low, domain.high
    simplest = min(max(0.0, low), high)
    down = ((bits >> np.uint64(1)) & np.uint64(1)).astype(bool) & (simplest > low)  # below the simplest value
    x = np.where(down, simplest - unit * (simplest - low), simplest + unit * (high - simplest))
    if layout == "bounds":  # each element at the lower or the upper bound, or spread
        side = (bits >> np.uint64(2)) % np.uint64(3)
        x = np.where(side == 1, low, np.where(side == 2, high, x))
    cells = _cells(domain)
    if cells is not None:
        x = _into_windows(x, low, high, *cells)
    if layout == "quarters":
        snapped = np.clip(np.round(x * 4) / 4, np.ceil(low * 4) / 4, np.floor(high * 4) / 4)
        x = snapped if cells is None else np.where(_in_windows(snapped, *cells), snapped, x)
    if domain.symmetric:
        x = np.where((bits & np.uint64(1)).astype(bool), -x, x)
    return x.reshape(shape)


def _cells(domain: Domain) -> tuple[float, float, float, int, int] | None:
    """(period, start, stop, first cell, last cell) of a domain confined to the window
    [start, stop] of every cell (catalogue.pointwise.Cells: away from floor's integers, from
    another input's window), or None for a plain interval."""
    period = getattr(domain, "period", None)
    if period is None:
        return None
    start, stop = domain.start, domain.stop
    first = math.ceil((domain.low - start) / period)
    last = math.floor((domain.high - stop) / period)
    return period, start, stop, first, last


def _into_windows(x: np.ndarray, low: float, high: float, period, start, stop, first, last) -> np.ndarray:
    """[low, high] onto the cells' windows laid end to end, monotonically (low to the first
    window's start, high to the last one's stop), so values never leave their windows."""
    t = (x - low) / (high - low) * (last - first + 1)
    cell = np.clip(np.floor(t), 0, last - first)
    within = np.clip(t - cell, 0.0, 1.0)
    return (first + cell) * period + start + within * (stop - start)


def _in_windows(x: np.ndarray, period, start, stop, first, last) -> np.ndarray:
    cell = np.floor((x - start) / period)
    return (cell >= first) & (cell <= last) & (x - cell * period <= stop)


def dims(ndim: int, *, allow_none: bool = True) -> st.SearchStrategy[Any]:
    """A reduction ``dim``: None, one dim (negative too), or a tuple of distinct dims."""
    size = max(ndim, 1)
    one = st.integers(-size, size - 1)
    several = st.lists(st.integers(0, size - 1), min_size=1, max_size=size, unique=True).map(tuple)
    options = [one, several]
    if allow_none:
        options.insert(0, st.none())
    return st.one_of(*options)


def reduction_kwargs(shapes: tuple[Shape, ...]) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"dim": dims(len(shapes[0])), "keepdim": st.booleans()})


@st.composite
def reshape_kwargs(draw: st.DrawFn, shapes: tuple[Shape, ...]) -> dict:
    """A target shape with the same number of elements, sometimes using -1."""
    numel = math.prod(shapes[0])
    factors: list[int] = []
    rest = numel
    for _ in range(draw(st.integers(0, 3), label="target dims")):
        divisors = [d for d in range(1, min(rest, MAX_SIDE * 2) + 1) if rest % d == 0] or [1]
        d = draw(st.sampled_from(divisors), label="factor")
        factors.append(d)
        rest //= d
    target = [*factors, rest] if (rest != 1 or not factors) else factors
    if numel != 0 and draw(st.booleans(), label="use -1"):
        target[draw(st.integers(0, len(target) - 1), label="inferred dim")] = -1
    if numel == 0 and not any(t == 0 for t in target):
        target.append(0)
    return {"shape": tuple(target)}


def transpose_kwargs(shapes: tuple[Shape, ...]) -> st.SearchStrategy[dict]:
    size = max(len(shapes[0]), 1)
    dim = st.integers(-size, size - 1)
    return st.fixed_dictionaries({"dim0": dim, "dim1": dim})


def cotangent(seed: int, shape: Shape) -> np.ndarray:
    """The cotangent of a case: standard normal from the case's drawn seed. Generic with
    probability one, so a wrong gradient cannot hide behind an all-equal or all-zero
    upstream gradient; drawn by seed because the output shape is only known after the
    forward pass."""
    return np.asarray(np.random.default_rng(seed).standard_normal(shape))


@dataclass
class Case:
    """One generated input set for an op, in the dtype under test."""

    op: OpSpec
    dtype: str
    inputs: tuple[np.ndarray, ...]
    kwargs: dict = field(default_factory=dict)
    cotangent_seed: int = 0
    labels: tuple[str, ...] | None = None  # names of the inputs in records (default "input i")

    def cotangent(self, shape: Shape) -> np.ndarray:
        # hypothesis favours small seeds (often 0); mixing in the inputs keeps cotangents
        # varied from case to case while staying a function of the case alone
        mixed = zlib.crc32(b"".join(np.ascontiguousarray(x).tobytes() for x in self.inputs))
        return cotangent((self.cotangent_seed << 32) | mixed, shape)

    @property
    def shapes(self) -> tuple[Shape, ...]:
        return tuple(x.shape for x in self.inputs)

    @property
    def numeric_dtype(self) -> str:
        """The real dtype the arrays are in (a complex dtype's parts: complex_view.py)."""
        return numeric_dtype(self.dtype)


_KWARGS: dict[tuple[int, tuple], tuple[OpSpec, st.SearchStrategy[dict]]] = {}


def kwargs_for(op: OpSpec, shapes_: tuple[Shape, ...]) -> st.SearchStrategy[dict]:
    """``op.kwargs(shapes)``, built once per op and shapes: hypothesis validates a strategy
    the first time it draws from it, which cost as much as the draw itself."""
    key = (id(op), shapes_)
    hit = _KWARGS.get(key)
    if hit is None or hit[0] is not op:
        if len(_KWARGS) > 16384:
            _KWARGS.clear()
        hit = _KWARGS[key] = (op, op.kwargs(shapes_))
    return hit[1]


@st.composite
def cases(draw: st.DrawFn, op: OpSpec, dtype: str) -> Case:
    op = as_checked(op, dtype)
    aim = op.kinks is not None and draw(_integers(0, KINK_ODDS - 1), label="aim at a kink") == 0
    for _ in range(ROOMY_TRIES if aim else 1):
        shapes_ = draw(op.shapes, label="shapes")
        kwargs = draw(kwargs_for(op, shapes_), label="kwargs")
        if not aim or _room_for_a_kink(op.kinks, shapes_, kwargs):
            break
    real = numeric_dtype(dtype)
    inputs = tuple(
        draw(complex_values(shape, domain, real) if i in op.complex_inputs else values(shape, domain, real),
             label=f"input {i}")
        for i, (shape, domain) in enumerate(zip(shapes_, op.domains))
    )  # fmt: skip
    if aim:
        inputs, kwargs = draw(at_kinks(op.kinks, inputs, kwargs), label="kink placement")
    seed = draw(_integers(0, 2**32 - 1), label="cotangent seed")
    return Case(op=op, dtype=dtype, inputs=inputs, kwargs=kwargs, cotangent_seed=seed)


def _room_for_a_kink(kinks: Kinks, shapes_: tuple[Shape, ...], kwargs: dict) -> bool:
    """Whether a kink placed in inputs of these shapes can reach the output: no input is empty
    (a pointwise op's output would be), and a tie within one input has two elements to tie
    in one slice over the reduced dims (max_dim of a 0-d tensor or along a dim of size 1
    has no tie). The smooth cases keep every shape, these edge shapes included."""
    if not all(math.prod(s) for s in shapes_):
        return False
    if kinks.ties and len(shapes_) == 1 and not kinks.values(kwargs):
        shape = shapes_[0]
        return math.prod(shape[axis] for axis in _reduced_axes(kwargs.get("dim"), len(shape))) >= 2
    return True


def kink_kinds(kinks: Kinks, kwargs: dict, arity: int) -> list[str]:
    """What can be placed for these Kinks: points (incl. kwarg points), ties within an
    input, ties across inputs (binary ops such as maximum)."""
    kinds = ["points"] if kinks.values(kwargs) else []
    if kinks.ties:
        kinds.append("ties")
        if arity >= 2:
            kinds.append("ties across inputs")
    return kinds


@st.composite
def at_kinks(
    draw: st.DrawFn, kinks: Kinks, inputs: tuple[np.ndarray, ...], kwargs: dict
) -> tuple[tuple[np.ndarray, ...], dict]:
    """The inputs (and kwargs) with some elements moved exactly onto kinks: kink points (relu's
    0, clamp's bounds), ties within an input at its max and at its min (max, amax, norm of
    equal magnitudes), or elements copied across inputs (maximum(a, b) with a == b).
    ``how many`` is one element (a pair within the reduced dims, for a tie), about half, or
    all of them (all zeros: the norm at the zero vector). Ops that reduce ``a + ladder`` (the
    distinct values of catalogue/reduction.py) tie where the sums tie: a tied element takes
    its partner's ladder rung too, so the kwargs come back with the ladder changed."""
    kinds = kink_kinds(kinks, kwargs, len(inputs))
    targets = [i for i in (kinks.inputs if kinks.inputs is not None else range(len(inputs))) if i < len(inputs)]
    if not kinds or not targets:
        return inputs, kwargs
    if "ties across inputs" in kinds:  # the ties of binary ops (maximum, clamp_tensor): 3 in 4 draws,
        kinds = ["ties across inputs"] * 2 + kinds[::-1]  # and first: hypothesis often draws the first
    kind = draw(st.sampled_from(kinds), label="kink kind")
    how_many = draw(st.sampled_from(["one", "half", "all"]), label="how many")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="kink seed"))
    out = [np.array(x, copy=True) for x in inputs]
    # Three ties in four are at zero (maximum(x, 0)), where they survive relative nudges: the
    # noise probe (checking/noise.py) breaks any other tie and reads the jump of torch's gradient
    # as rounding noise, which in float32 makes a budget larger than the gradient itself.
    at_zero = kind != "points" and draw(_integers(0, 3), label="tie at zero (unless 3)") != 3
    if kind == "ties across inputs":
        source = next(i for i in range(len(inputs)) if i != targets[-1]) if len(targets) < 2 else targets[0]
        for i in (t for t in targets if t != source and out[t].size and out[source].size):
            mask = _kink_mask(rng, out[i].shape, how_many)
            if at_zero:
                positions = np.arange(out[source].size).reshape(out[source].shape)
                out[source].flat[_aligned(positions, out[i].shape)[mask]] = 0.0
            out[i][mask] = _aligned(out[source], out[i].shape)[mask]
        return tuple(out), kwargs
    for i in targets:
        x = out[i]
        if x.size == 0:
            continue
        if kind == "points":
            points = np.array(kinks.values(kwargs), dtype=x.dtype)
            mask = _kink_mask(rng, x.shape, how_many)
            # one point per case: kinks of opposite sides (hardtanh's min_val and max_val) moved
            # together have no joint one-sided derivative that torch's values must lie between
            x[mask] = rng.choice(points)
            continue
        ladder = kwargs.get("ladder")
        spread = isinstance(ladder, np.ndarray) and ladder.shape == x.shape
        if spread:
            kwargs = {**kwargs, "ladder": ladder.copy()}
        axes = _reduced_axes(kwargs.get("dim"), x.ndim)
        taken = np.zeros(x.shape, bool)
        for extreme in (np.argmax, np.argmin):  # a tie at the max (max, sort) and one at the min (min)
            y = x + kwargs["ladder"].astype(x.dtype) if spread else x
            anchor = int(extreme(y))
            mask = _tie_mask(rng, x.shape, how_many, anchor, axes) & ~taken
            x[mask] = 0.0 if at_zero and spread else x.flat[anchor]  # the ladder keeps the order
            if spread:
                kwargs["ladder"][mask] = kwargs["ladder"].flat[anchor]
            taken |= mask
    return tuple(out), kwargs


def _reduced_axes(dim: Any, ndim: int) -> tuple[int, ...]:
    """The axes a ``dim`` kwarg reduces (None or no dim: all of them), where a tie counts."""
    if dim is None or ndim == 0:
        return tuple(range(ndim))
    return tuple(sorted({d % ndim for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}))


def _kink_mask(rng: np.random.Generator, shape: Shape, how_many: str) -> np.ndarray:
    """Which elements to move: one, about half, or all."""
    n = math.prod(shape)
    flat = np.zeros(n, bool)
    if n == 0:
        return flat.reshape(shape)
    if how_many == "all":
        flat[:] = True
    elif how_many == "half":
        flat[rng.random(n) < 0.5] = True
        flat[rng.integers(n)] = True
    else:
        flat[rng.integers(n)] = True
    return flat.reshape(shape)


def _tie_mask(rng: np.random.Generator, shape: Shape, how_many: str, anchor: int, axes: tuple[int, ...]) -> np.ndarray:
    """The elements that take the anchor's value: the anchor and one partner in its slice over
    the reduced ``axes`` (max(dim) ties only within a slice), about half of all elements with
    such a partner among them, or all of them."""
    if how_many == "all":
        return np.ones(shape, bool)
    flat = rng.random(math.prod(shape)) < 0.5 if how_many == "half" else np.zeros(math.prod(shape), bool)
    where = np.unravel_index(anchor, shape)
    same_slice = (
        np.arange(flat.size)
        .reshape(shape)[tuple(slice(None) if axis in axes else where[axis] for axis in range(len(shape)))]
        .ravel()
    )
    partners = same_slice[same_slice != anchor]
    if partners.size:
        flat[rng.choice(partners)] = True
    flat[anchor] = True
    return flat.reshape(shape)


def _aligned(source: np.ndarray, shape: Shape) -> np.ndarray:
    """Values of ``source`` at the positions of an array of ``shape`` it broadcasts with:
    where the two line up element for element, equal values there are ties of the op."""
    out = np.broadcast_shapes(source.shape, shape)
    full = np.broadcast_to(source, out)
    lead = len(out) - len(shape)
    index = tuple(0 for _ in range(lead)) + tuple(
        slice(0, 1) if n == 1 and m != 1 else slice(None) for n, m in zip(shape, out[lead:])
    )
    return np.broadcast_to(full[index], shape)
