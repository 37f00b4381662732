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

from gradcheck_suite.catalogue.spec import Domain, Kinks, OpSpec, Shape

MAX_DIMS = 4
MAX_SIDE = 4
DTYPES = ("float32", "float64")
KINK_ODDS = 4  # about one case in KINK_ODDS of an op with Kinks metadata is aimed at its kinks


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 0, max_side: int = MAX_SIDE):
    """One input shape, 0-d to 4-d, size-0 and size-1 dims included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side).map(
        lambda s: (s,)
    )


def broadcast_shapes(num_shapes: int = 2, max_dims: int = MAX_DIMS, max_side: int = MAX_SIDE):
    """``num_shapes`` mutually broadcastable shapes (different ranks, size-1 dims, size 0)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side
    ).map(lambda b: tuple(b.input_shapes))


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


@functools.lru_cache(maxsize=4096)  # building and validating the strategy costs as much as a draw
def values(shape: Shape, domain: Domain, dtype: str) -> st.SearchStrategy[np.ndarray]:
    """An array of ``shape`` with elements in ``domain`` (drawn in float64, then cast)."""
    return hnp.arrays(np.float64, shape, elements=domain.elements()).map(lambda a: a.astype(dtype))


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


@st.composite
def cases(draw: st.DrawFn, op: OpSpec, dtype: str) -> Case:
    shapes_ = draw(op.shapes, label="shapes")
    kwargs = draw(op.kwargs(shapes_), label="kwargs")
    inputs = tuple(
        draw(values(shape, domain, dtype), label=f"input {i}")
        for i, (shape, domain) in enumerate(zip(shapes_, op.domains))
    )
    if op.kinks is not None and draw(st.integers(0, KINK_ODDS - 1), label="aim at a kink") == 0:
        inputs = draw(at_kinks(op.kinks, inputs, kwargs), label="kink placement")
    seed = draw(st.integers(0, 2**32 - 1), label="cotangent seed")
    return Case(op=op, dtype=dtype, inputs=inputs, kwargs=kwargs, cotangent_seed=seed)


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
def at_kinks(draw: st.DrawFn, kinks: Kinks, inputs: tuple[np.ndarray, ...], kwargs: dict) -> tuple[np.ndarray, ...]:
    """The inputs with some elements moved exactly onto kinks: kink points (relu's 0, clamp's
    bounds), ties within an input at its max, min or first value (max, amax, norm of
    equal magnitudes), or elements copied across inputs (maximum(a, b) with a == b).
    ``how many`` is one element (two for a tie), about half, or all of them (all zeros:
    the norm at the zero vector)."""
    kinds = kink_kinds(kinks, kwargs, len(inputs))
    targets = [i for i in (kinks.inputs if kinks.inputs is not None else range(len(inputs))) if i < len(inputs)]
    if not kinds or not targets:
        return inputs
    kind = draw(st.sampled_from(kinds), label="kink kind")
    how_many = draw(st.sampled_from(["one", "half", "all"]), label="how many")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="kink seed"))
    out = [np.array(x, copy=True) for x in inputs]
    if kind == "ties across inputs":
        source = next(i for i in range(len(inputs)) if i != targets[-1]) if len(targets) < 2 else targets[0]
        for i in (t for t in targets if t != source and out[t].size and out[source].size):
            mask = _kink_mask(rng, out[i].shape, how_many, pair=False)
            out[i][mask] = _aligned(out[source], out[i].shape)[mask]
        return tuple(out)
    for i in targets:
        x = out[i]
        if x.size == 0:
            continue
        if kind == "points":
            points = np.array(kinks.values(kwargs), dtype=x.dtype)
            mask = _kink_mask(rng, x.shape, how_many, pair=False)
            x[mask] = rng.choice(points, size=int(mask.sum()))
        else:
            tie = draw(st.sampled_from(["max", "min", "first"]), label=f"tie value of input {i}")
            value = {"max": x.max(), "min": x.min(), "first": x.flat[0]}[tie]
            x[_kink_mask(rng, x.shape, how_many, pair=True)] = value
    return tuple(out)


def _kink_mask(rng: np.random.Generator, shape: Shape, how_many: str, *, pair: bool) -> np.ndarray:
    """Which elements to move: one (or a pair, for a tie), about half, or all."""
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
        flat[rng.choice(n, size=min(n, 2 if pair else 1), replace=False)] = True
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
