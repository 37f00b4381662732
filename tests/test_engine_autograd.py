"""The built-in ``autograd`` adapter (HIPS autograd): the op table against the catalogue, its
derivatives on smooth ops against torch, unsupported ops as records, and a few of HIPS's real
differences from torch pinned with the verdicts the checker gives them."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np
import pytest

pytest.importorskip("autograd")

from gradcheck_suite import catalogue
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.engines import get_engine
from gradcheck_suite.engines.hips_ops import TABLE, UNSUPPORTED
from gradcheck_suite.oracles.torch_oracle import torch_oracle
from gradcheck_suite.records import FAILING
from gradcheck_suite.runner import run
from gradcheck_suite.strategies import Case


@pytest.fixture(scope="module")
def engine():
    return get_engine("autograd")


@pytest.fixture(scope="module")
def checker(engine) -> CaseChecker:
    return CaseChecker(engine, torch_oracle())


def check(checker: CaseChecker, name: str, *inputs, dtype: str = "float64", **kwargs) -> dict:
    """The records of one hand-built case, by check."""
    case = Case(catalogue.get(name), dtype, tuple(np.asarray(x, dtype=dtype) for x in inputs), kwargs, 0)
    return {r.check: r for r in checker.check(case, CaseIds("test", 0, 0))}


# -- the adapter ---------------------------------------------------------------------------------------


def test_names_autograd_and_its_installed_version(engine):
    assert engine.name == "autograd"
    assert engine.version == version("autograd")


def test_every_catalogue_op_is_in_the_table_or_left_out_with_a_reason(engine):
    names = set(catalogue.CATALOGUE)
    assert set(TABLE) <= names
    assert set(UNSUPPORTED) == names - set(TABLE)
    assert all(UNSUPPORTED.values())
    assert len(TABLE) >= 60
    assert engine.supports(catalogue.get("relu"))
    assert not engine.supports(catalogue.get("nn.conv2d"))


def test_an_unsupported_op_is_one_unsupported_record_not_a_crash(checker):
    records = []
    run([catalogue.get("cumprod")], ["float64"], checker, seed=0, examples=3, run_id="t", sink=records.extend)
    assert [(r.op, r.verdict) for r in records] == [("cumprod", "unsupported")]


def test_a_case_the_table_refuses_is_unsupported(checker):
    records = check(checker, "nn.embedding", [[1.0, 2.0], [3.0, 4.0]], index=np.array([0, 1]), padding_idx=0)
    assert records["forward"].verdict == "unsupported"
    assert "padding_idx" in records["forward"].detail


def test_smooth_op_derivatives_agree_with_torch(engine):
    """mul with broadcasting, in float32: value, VJP (per input, in its dtype and shape), JVP, HVP."""
    torch_engine = torch_oracle()
    op = catalogue.get("mul")
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    v = rng.standard_normal((2, 3))
    ws = [rng.standard_normal(x.shape) for x in xs]
    value = engine.to_numpy(engine.forward(op, xs, {})[1])
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, xs[0] * xs[1], rtol=1e-6)
    for got, want, x in zip(engine.vjp_at(op, xs, {}, v), torch_engine.vjp_at(op, xs, {}, v), xs):
        assert got.dtype == x.dtype and got.shape == x.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(engine.jvp(op, xs, ws, {}), torch_engine.jvp(op, xs, ws, {}), rtol=1e-5, atol=1e-6)
    for got, want in zip(engine.hvp(op, xs, {}, v, ws), torch_engine.hvp(op, xs, {}, v, ws)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_smooth_ops_pass_every_check(checker):
    records = check(checker, "tanh", [[-0.7, 0.3, 1.9]])
    records |= {f"sum {k}": r for k, r in check(checker, "sum", np.ones((2, 3)), dim=(0, -1), keepdim=True).items()}
    assert {r.verdict for r in records.values()} == {"pass"}, {k: r.rule for k, r in records.items()}
    assert len(records) == 14


# -- HIPS's real differences from torch ------------------------------------------------------------


def test_relu_written_as_maximum_splits_the_gradient_at_zero(checker, engine):
    """np.maximum(x, 0.0) gives 1/2 at x == 0 (autograd splits ties); torch's relu gives 0: both valid."""
    records = check(checker, "relu", [0.0, 1.0])
    assert records["vjp-torch"].verdict == "convention"
    assert records["jvp-torch"].verdict == "convention"
    assert records["vjp-fd"].verdict == "pass"  # the central difference at 0 is 1/2 too
    grad = engine.vjp_at(catalogue.get("relu"), [np.array([0.0, 1.0])], {}, np.array([2.0, 2.0]))[0]
    np.testing.assert_array_equal(grad, [1.0, 2.0])


def test_maximum_at_a_tie_splits_like_torch(checker):
    """autograd and torch both split the gradient of maximum evenly at a tie: no difference."""
    records = check(checker, "maximum", [0.5, 1.25], [0.5, 0.4])
    assert records["vjp-torch"].verdict == "pass"
    assert records["jvp-torch"].verdict == "pass"


def test_clamp_min_tensor_at_a_tie_is_a_convention(checker):
    """torch's clamp_min(a, b) sends a tie's gradient to a; np.maximum splits it."""
    records = check(checker, "clamp_min_tensor", [0.5, 1.25], [0.5, 0.4])
    assert records["vjp-torch"].verdict == "convention"


def test_clip_has_zero_gradient_at_its_bound(checker):
    records = check(checker, "clamp_min", [0.5, 1.2], min=0.5)
    assert records["vjp-torch"].verdict == "convention"
    assert "engine=0" in records["vjp-torch"].detail


def test_prod_with_a_zero_gives_nan_gradient(checker):
    """autograd's prod VJP is g * prod / x: 0/0 at a zero, where the derivative exists."""
    records = check(checker, "prod", [0.0, 2.0, 3.0], dim=None, keepdim=False)
    assert records["vjp-torch"].verdict == "non-finite"
    assert records["vjp-torch"].verdict in FAILING


def test_where_does_not_unbroadcast_its_gradient(checker):
    records = check(checker, "where", [[1.0], [2.0]], [[3.0, 4.0, 5.0]], condition=np.array([True, False, True]))
    assert records["forward"].verdict == "pass"
    assert records["vjp-torch"].verdict == "error-mismatch"
    assert records["vjp-torch"].detail.startswith("engine: ValueError")


def test_missing_forward_mode_rules_are_unsupported(checker):
    records = check(checker, "linalg.inv", np.zeros((2, 2)))
    assert records["vjp-torch"].verdict == "pass"
    assert records["jvp-torch"].verdict == "unsupported"
    assert "JVP of inv" in records["jvp-torch"].detail


@pytest.mark.parametrize(
    "index",
    [
        (slice(None), np.array(-3), None, np.array([0])),  # a 0-d index array selects, as an int does
        (None, np.array([[0], [1]]), Ellipsis, 0, np.array([[0, 1]]), slice(None)),  # an Ellipsis of no dims
    ],
)
def test_advanced_indexing_follows_torch_where_numpy_moves_dims(checker, index):
    """NumPy counts integers as advanced indices and moves the result dims of separated index
    arrays first; torch selects with integers first. The adapter reproduces torch's layout."""
    records = check(checker, "getitem_advanced", np.arange(72.0).reshape(3, 3, 2, 4), index=index)
    assert "vjp-fd" in records, records["forward"].detail  # both sides ran (neither raised)
    assert {r.verdict for r in records.values()} == {"pass"}, records["forward"].detail
