"""A slice of the evidence benchmarks: no false alarm on demanding correct functions, and
planted wrong gradients caught (benchmarks/false_alarms.py and benchmarks/mutations.py)."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import corpus  # noqa: E402
import false_alarms  # noqa: E402
import mutants  # noqa: E402
import mutations  # noqa: E402

import reference  # noqa: E402
from reference.ops import pointwise  # noqa: E402

CORPUS_SLICE = [
    "issue_example", "scaled_tanh_1e30", "log_of_difference", "long_tanh_chain", "inverse_2x2",
    "variance_naive", "quadratic_form_difference", "solve_near_singular", "layer_norm_tiny_variance",
]  # fmt: skip
MUTANT_SLICE = [
    "add_other_sign", "mul_missing_other_term", "mm_left_transpose_dropped", "broadcast_mean_not_sum",
    "sum_wrong_axis", "reuse_keeps_first_gradient", "exp_factor_two", "exp_rel_1e-5", "mm_rel_1e-5",
    "amax_ties_not_shared", "maximum_ties_both_full",
]  # fmt: skip


def _entry(name: str) -> corpus.Entry:
    return next(e for e in corpus.ENTRIES if e.name == name)


def _mutant(name: str) -> mutants.Mutant:
    return next(m for m in mutants.MUTANTS if m.name == name)


def test_the_corpus_and_the_mutants_are_as_large_as_promised():
    assert len(corpus.ENTRIES) >= 30 and len({e.name for e in corpus.ENTRIES}) == len(corpus.ENTRIES)
    assert len(mutants.MUTANTS) >= 40 and len({m.name for m in mutants.MUTANTS}) == len(mutants.MUTANTS)
    assert {m.kind for m in mutants.MUTANTS} >= {"sign", "missing-term", "transpose", "reduction", "axis",
                                                  "accumulation", "factor", "tiny"}  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", CORPUS_SLICE)
def test_no_false_alarm_on_demanding_correct_functions(name, dtype):
    entry = _entry(name)
    if not entry.available():
        pytest.skip(f"the engine lacks {entry.requires}")
    for seed in range(2):
        result = false_alarms.ours(entry, corpus.inputs(entry, seed, dtype), seed)
        assert not result["rejected"], result["why"]


@pytest.fixture
def one_torch_thread():
    """As the benchmarks run it: 8,192 tiny forward passes are slow with many threads."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_torch_gradcheck_rejects_the_issue_example_in_float64(one_torch_thread):
    entry = _entry("issue_example")
    assert false_alarms.torch_gradcheck(entry, corpus.inputs(entry, 0, "float64"))["rejected"]


def test_corpus_inputs_are_seeded_and_typed():
    entry = _entry("newton_schulz")
    a, b = corpus.inputs(entry, 1, "float32"), corpus.inputs(entry, 1, "float32")
    assert all(x.dtype == np.float32 and np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], corpus.inputs(entry, 2, "float32")[0])


@pytest.mark.parametrize("name", MUTANT_SLICE)
def test_planted_wrong_gradients_are_caught(name):
    m = _mutant(name)
    if not m.available():
        pytest.skip(f"the engine lacks {m.target}")
    arrays = mutations.inputs(m, 0)
    assert mutations.effective(m, arrays)
    assert not mutations.ours_rejects(m, arrays, 0)[0], "the clean function must pass"
    with m.planted():
        caught, _, why = mutations.ours_rejects(m, arrays, 0)
    assert caught, f"{name} escaped"
    assert "engine-bug" in why or "error-mismatch" in why


def test_tiny_relative_error_escapes_torch_gradcheck_but_not_ours():
    m = _mutant("exp_rel_1e-5")
    arrays = mutations.inputs(m, 0)
    with m.planted():
        assert mutations.ours_rejects(m, arrays, 0)[0]
        assert not mutations.torch_rejects(m, arrays)[0]


def test_torch_gradcheck_sees_the_mutated_engine_through_the_wrapper():
    m = _mutant("exp_factor_two")
    arrays = mutations.inputs(m, 0)
    assert not mutations.torch_rejects(m, arrays)[0]
    with m.planted():
        assert mutations.torch_rejects(m, arrays)[0]


def test_a_planted_bug_is_removed_even_when_the_block_raises():
    m = _mutant("exp_factor_two")
    original = inspect.getattr_static(pointwise.Exp, "backward")  # the rule Exp has, its own or inherited
    with pytest.raises(ZeroDivisionError), m.planted():
        assert inspect.getattr_static(pointwise.Exp, "backward") is not original
        _ = 1 / 0
    assert inspect.getattr_static(pointwise.Exp, "backward") is original
    x = reference.from_numpy(np.array([0.5])).requires_grad_(True)
    x.exp().sum().backward()
    assert np.allclose(x.grad.numpy(), np.exp(0.5))


def test_benchmark_commands_print_figures_and_write_results(tmp_path, capsys):
    fa_out, mu_out = tmp_path / "fa.json", tmp_path / "mu.csv"
    assert false_alarms.main(["--seeds", "1", "--only", "inverse_2x2,tiny_log", "--out", str(fa_out)]) == 0
    assert mutations.main(["--seeds", "1", "--only", "add_other_sign,exp_rel_1e-3", "--out", str(mu_out)]) == 0
    printed = capsys.readouterr().out
    assert "float64: 2 functions x 1 seeds = 2 runs; ours rejects 0 (0.0%)" in printed
    assert "mutants caught (at one seed or more): ours 2/2 (100.0%)" in printed
    rows = json.loads(fa_out.read_text())["rows"]
    assert {r["function"] for r in rows} == {"inverse_2x2", "tiny_log"} and len(rows) == 4
    assert mu_out.read_text().startswith("mutant,kind,seed,effective,ours_catches")
