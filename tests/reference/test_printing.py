"""reference.printing against torch 2.13's own ``repr`` of CPU tensors."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import reference.printing as printing
from reference.printing import get_printoptions, printoptions, set_printoptions, tensor_repr

NAN, INF = math.nan, math.inf


@pytest.fixture(autouse=True)
def _default_printoptions():
    """Both printers start and end every test at their defaults."""
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")
    yield
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")


def _name(a: np.ndarray) -> str:
    return "bool" if a.dtype == np.bool_ else str(a.dtype)


def _check(a: np.ndarray, **opts) -> str:
    """Assert ours == torch's repr under ``opts`` (applied to both); return the text."""
    with torch._tensor_str.printoptions(**opts), printoptions(**opts):
        expected = repr(torch.from_numpy(a.copy()))
        got = tensor_repr(a, dtype=_name(a))
    assert got == expected, f"\n--- ours ---\n{got}\n--- torch ---\n{expected}"
    return got


f32 = np.float32
f64 = np.float64
i64 = np.int64

CASES = {
    # 0-d
    "0d-int-mode": np.array(27.0, f32),
    "0d-frac": np.array(1.5, f32),
    "0d-neg-zero": np.array(-0.0, f32),
    "0d-nan": np.array(NAN, f32),
    "0d-neg-inf": np.array(-INF, f64),
    "0d-sci-small": np.array(1e-5, f32),
    "0d-sci-big": np.array(123456789.0, f64),
    "0d-int64": np.array(-7, i64),
    "0d-bool": np.array(False),
    # 1-d: modes and widths
    "1d-int-mode": np.array([1.0, -2.0, 300.0], f32),
    "1d-frac": np.array([1.5, -2.25, 0.1], f32),
    "1d-ratio-sci": np.array([102.4, 1024.0, 0.1024], f32),
    "1d-ratio-1000-not-sci": np.array([1.0, 1000.0], f64),
    "1d-ratio-just-over": np.array([1.0, 1000.5], f64),
    "1d-max-1e8-not-sci": np.array([1e8, 2e7], f64),
    "1d-max-over-1e8": np.array([100000001.0, 2e7], f64),
    "1d-min-1e-4-not-sci": np.array([1e-4, 2e-4], f64),
    "1d-min-under-1e-4": np.array([9.9e-5, 2e-4], f64),
    "1d-sci-3digit-exp": np.array([1e-300, 1e300, -5e-324], f64),
    "1d-sci-round-up": np.array([9.99996e99, 1.0], f64),
    "1d-fixed-round-up": np.array([9.99996, 0.5], f64),
    "1d-float32-exact": np.array([0.1, 16777217.0], f32),
    "1d-nan-inf-int": np.array([1.0, NAN, -INF, INF], f32),
    "1d-nan-inf-frac": np.array([1.5, NAN, -INF], f32),
    "1d-nan-inf-sci": np.array([1e-7, NAN, -INF, 0.0], f32),
    "1d-only-nonfinite": np.array([NAN, INF, -INF], f32),
    "1d-neg-zero-int": np.array([-0.0, 0.0, 1.0], f32),
    "1d-neg-zero-frac": np.array([-0.0, 0.5], f32),
    "1d-neg-zero-sci": np.array([-0.0, 1e-9], f64),
    "1d-all-zero": np.zeros(4, f32),
    "1d-all-neg-zero": np.full(3, -0.0, f64),
    "1d-int64": np.array([1, -20, 300], i64),
    "1d-int64-extremes": np.array([np.iinfo(i64).min, 0, np.iinfo(i64).max], i64),
    "1d-bool-mixed": np.array([True, False, True]),
    "1d-bool-true": np.array([True, True]),
    "1d-float64": np.array([1.5, 2.0], f64),
    "1d-wrap-float": np.arange(30, dtype=f32) / 7,
    "1d-wrap-int": np.arange(100, dtype=i64) * 37,
    "1d-wrap-sci": np.geomspace(1e-6, 1e6, 25),
    "1d-noncontig": (np.arange(20, dtype=f32) / 3)[::3],
    # n-d
    "2d": np.arange(6, dtype=f32).reshape(2, 3) / 4,
    "2d-wrap": np.arange(40, dtype=f64).reshape(2, 20) * 1.5,
    "2d-transposed": (np.arange(12, dtype=f32).reshape(3, 4) - 5).T,
    "3d": np.arange(24, dtype=f32).reshape(2, 3, 4),
    "3d-int64": np.arange(24, dtype=i64).reshape(2, 3, 4) - 12,
    "4d": np.arange(48, dtype=f64).reshape(2, 2, 3, 4) / 10,
    "4d-bool": np.arange(16).reshape(2, 2, 2, 2) % 3 == 0,
    # empty
    "empty-1d": np.zeros(0, f32),
    "empty-2d": np.zeros((0, 3), f32),
    "empty-3d": np.zeros((2, 0, 4), f32),
    "empty-int64": np.zeros(0, i64),
    "empty-bool-2d": np.zeros((2, 0), bool),
    "empty-float64": np.zeros(0, f64),
    # summarisation (> threshold elements)
    "sum-1d": np.arange(2000, dtype=f32),
    "sum-1d-int64": np.arange(1001, dtype=i64),
    "sum-1d-edges-only-analysed": np.r_[np.ones(3), np.full(1000, 1e-9), np.ones(3)].astype(f32),
    "sum-2d": np.arange(1600, dtype=f32).reshape(40, 40) / 3,
    "sum-2d-short-rows": np.arange(1200, dtype=f64).reshape(3, 400),
    "sum-3d": np.arange(1331, dtype=f32).reshape(11, 11, 11),
    "sum-3d-mixed": np.arange(1200, dtype=i64).reshape(10, 2, 60),
    "sum-4d": np.arange(1296, dtype=f32).reshape(6, 6, 6, 6) - 600,
}


@pytest.mark.parametrize("key", list(CASES))
def test_matches_torch(key: str) -> None:
    _check(CASES[key])


OPTION_CASES = [
    ("precision-2", np.array([1.23456, 2.5], f32), {"precision": 2}),
    ("precision-8", np.array([0.1, 1 / 3], f32), {"precision": 8}),
    ("precision-0-frac", np.array([0.5, 1.5, 2.5], f64), {"precision": 0}),
    ("precision-0-sci", np.array([1e-5, 1.5], f64), {"precision": 0}),
    ("sci-forced", np.array([1.0, 2.5], f32), {"sci_mode": True}),
    ("sci-forced-int", np.array([1.0, 2.0], f32), {"sci_mode": True}),
    ("sci-forced-all-zero", np.array([0.0, -0.0], f32), {"sci_mode": True}),
    ("sci-off-big", np.array([1e20, 1.0], f64), {"sci_mode": False}),
    ("sci-off-small", np.array([1e-7, 1.5], f64), {"sci_mode": False}),
    ("linewidth-40", np.arange(20, dtype=f32) / 3, {"linewidth": 40}),
    ("linewidth-tiny", np.arange(5, dtype=f32) / 3, {"linewidth": 5}),
    ("linewidth-200", np.arange(60, dtype=i64), {"linewidth": 200}),
    ("edgeitems-1", np.arange(2000, dtype=f32).reshape(20, 100), {"edgeitems": 1}),
    ("edgeitems-0-1d", np.arange(2000, dtype=f32), {"edgeitems": 0}),
    ("edgeitems-0-2d", np.arange(2000, dtype=f32).reshape(2, 1000), {"edgeitems": 0}),
    ("edgeitems-0-small", np.arange(5, dtype=f32), {"edgeitems": 0}),
    ("edgeitems-0-0d", np.array(3.0, f64), {"edgeitems": 0}),
    ("threshold-5", np.arange(10, dtype=i64), {"threshold": 5}),
    ("threshold-5-3d", np.arange(64, dtype=f32).reshape(4, 4, 4) / 7, {"threshold": 5}),
    ("threshold-0-0d", np.array(2.5, f32), {"threshold": 0}),
    ("profile-short", np.arange(2000, dtype=f32) / 3, {"profile": "short"}),
    ("profile-full", np.arange(1500, dtype=i64), {"profile": "full"}),
    ("profile-short-override", np.arange(10, dtype=f32) / 3, {"profile": "short", "precision": 5}),
]


@pytest.mark.parametrize(("key", "a", "opts"), OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_matches_torch_with_options(key: str, a: np.ndarray, opts: dict) -> None:
    _check(a, **opts)


def test_documented_examples() -> None:
    two = np.full((2, 2), 3.0, f32)
    assert tensor_repr(two, dtype="float32", grad_fn="AddBackward0") == (
        "tensor([[3., 3.],\n        [3., 3.]], grad_fn=<AddBackward0>)"
    )
    assert tensor_repr(np.array(27.0, f32), dtype="float32", grad_fn="MeanBackward0") == (
        "tensor(27., grad_fn=<MeanBackward0>)"
    )
    assert _check(CASES["1d-ratio-sci"]) == "tensor([1.0240e+02, 1.0240e+03, 1.0240e-01])"
    assert _check(CASES["empty-2d"]) == "tensor([], size=(0, 3))"
    assert tensor_repr(np.array(1.5), dtype="float64", requires_grad=True) == (
        "tensor(1.5000, dtype=torch.float64, requires_grad=True)"
    )


def _autograd_tensors() -> list[torch.Tensor]:
    """Tensors that genuinely carry grad_fn / requires_grad suffixes in torch."""
    x = torch.ones(2, 2, requires_grad=True)
    out = [x, x + x * 2, (x * 3).mean(), (x * 3).sum() * 1.5]
    d = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
    out += [torch.tensor(1.5, dtype=torch.float64, requires_grad=True), d, d.exp(), d * 1e-6]
    out += [torch.zeros(0, 3, requires_grad=True), torch.zeros(0, dtype=torch.float64) + d[:0]]
    # Vectors growing across the 80-column mark, with one or two suffixes that may wrap.
    for n in range(1, 14):
        v = torch.arange(n, dtype=torch.float64, requires_grad=True) / 3
        w = torch.arange(n, dtype=torch.float32, requires_grad=True) * 11
        out += [v, v.detach().requires_grad_(), w, w.detach().requires_grad_()]
    m = torch.arange(26, dtype=torch.float64).reshape(2, 13).requires_grad_()
    out += [m, m.tanh(), torch.arange(3000.0, requires_grad=True).reshape(3, 1000) * 2]
    return out


@pytest.mark.parametrize("idx", range(len(_autograd_tensors())))
def test_suffixes_match_torch(idx: int) -> None:
    t = _autograd_tensors()[idx]
    name = None if t.grad_fn is None else type(t.grad_fn).__name__
    got = tensor_repr(
        t.detach().numpy(),
        dtype=str(t.dtype).removeprefix("torch."),
        grad_fn=name,
        requires_grad=t.requires_grad,
    )
    assert got == repr(t)


def test_suffix_wraps_at_linewidth() -> None:
    a = np.arange(9, dtype=f64) / 3
    with torch._tensor_str.printoptions(linewidth=60), printoptions(linewidth=60):
        t = torch.from_numpy(a.copy()).requires_grad_()
        got = tensor_repr(a, dtype="float64", requires_grad=True)
        assert got == repr(t)
    assert got.endswith("dtype=torch.float64,\n       requires_grad=True)")  # indent 7, rows use 8


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize(
    "a",
    [
        np.array([1.5, 2.0], f32),
        np.array([1.5, 2.0], f64),
        np.zeros(0, f32),
        np.zeros((0, 2), f64),
        np.zeros(0, i64),
        np.array([1, 2], i64),
        np.array(True),
    ],
)
def test_default_dtype(default: str, a: np.ndarray) -> None:
    old = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default))
    try:
        expected = repr(torch.from_numpy(a.copy()))
    finally:
        torch.set_default_dtype(old)
    assert tensor_repr(a, dtype=_name(a), default_dtype=default) == expected


def test_printoptions_api_mirrors_torch() -> None:
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    for kwargs in (
        {"precision": 2},
        {"sci_mode": True},
        {"profile": "full"},
        {"linewidth": 100},
        {"profile": "short", "edgeitems": 5},
        {"profile": "nonsense"},
    ):
        set_printoptions(**kwargs)
        torch.set_printoptions(**kwargs)
        assert get_printoptions() == torch._tensor_str.get_printoptions(), kwargs
    # Like torch, any call without sci_mode resets it to automatic.
    set_printoptions(sci_mode=True)
    set_printoptions(precision=3)
    assert get_printoptions()["sci_mode"] is None


def test_printoptions_context_manager_restores() -> None:
    set_printoptions(precision=6, sci_mode=False)
    before = get_printoptions()
    with printoptions(precision=2, linewidth=30, sci_mode=True):
        assert get_printoptions()["precision"] == 2
        assert tensor_repr(np.array([1.0, 2.5], f32), dtype="float32") == "tensor([1.00e+00, 2.50e+00])"
    assert get_printoptions() == before
    with pytest.raises(RuntimeError), printoptions(profile="short"):
        raise RuntimeError("boom")
    assert get_printoptions() == before
    assert tensor_repr(np.array([1.0, 2.5], f32), dtype="float32") == "tensor([1.000000, 2.500000])"


def test_module_does_not_import_torch() -> None:
    tree = ast.parse(Path(printing.__file__).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not any(name.split(".")[0] == "torch" for name in names)


# ---- property tests -------------------------------------------------------------------------

_SPECIAL = [0.0, -0.0, NAN, INF, -INF, 1e-4, 1e8, 1000.0]


def _floats() -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-10_000, 10_000).map(float),
        st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-45, 45)),
        st.sampled_from(_SPECIAL),
    )


@st.composite
def _arrays(draw: st.DrawFn) -> np.ndarray:
    ndim = draw(st.integers(0, 4))
    max_side = (40, 40, 12, 8, 6)[ndim]
    shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=ndim, max_size=ndim)))
    size = math.prod(shape)
    kind = draw(st.sampled_from(["float32", "float64", "int64", "bool"]))
    # Draw a few distinct values and tile them, so big shapes stay cheap to generate.
    if kind == "bool":
        pool = draw(st.lists(st.booleans(), min_size=1, max_size=4))
    elif kind == "int64":
        pool = draw(
            st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-999, 999)), min_size=1, max_size=4)
        )
    else:
        pool = draw(st.lists(_floats(), min_size=1, max_size=6))
    idx = draw(st.lists(st.integers(0, len(pool) - 1), min_size=min(size, 64), max_size=min(size, 64)))
    with np.errstate(over="ignore"):
        flat = np.array([pool[i] for i in idx] or pool[:0], dtype=kind)
    a = np.resize(flat, size).reshape(shape) if size else np.zeros(shape, kind)
    if a.ndim >= 2 and draw(st.booleans()):
        a = a.T  # non-contiguous input
    return a


@settings(deadline=None, max_examples=200)
@given(_arrays())
def test_hypothesis_default_options(a: np.ndarray) -> None:
    _check(a)


@settings(deadline=None, max_examples=200)
@given(
    _arrays(),
    st.fixed_dictionaries(
        {},
        optional={
            "precision": st.integers(0, 8),
            "threshold": st.integers(0, 60),
            "edgeitems": st.integers(0, 4),
            "linewidth": st.integers(10, 140),
            "sci_mode": st.sampled_from([None, True, False]),
            "profile": st.sampled_from(["default", "short", "full"]),
        },
    ),
)
def test_hypothesis_with_options(a: np.ndarray, opts: dict) -> None:
    _check(a, **opts)
