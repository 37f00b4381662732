"""The throughput benchmark (benchmarks/throughput.py, its machinery in throughput_timing.py)
runs and reports well-formed figures: a couple of streams, no timing thresholds (the machine's
load decides those); ``--compare`` measures a git revision's code beside the working tree's."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import throughput
import throughput_timing

from gradcheck_suite.engines.protocol import Engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("throughput") / "figures.json"
    found = torch.get_num_threads(), gc.get_freeze_count()
    figures = throughput.main(["--quick", "--profile", "--json", str(out)])
    return figures, json.loads(out.read_text()), found


def test_quick_run_reports_rates_and_an_overhead_share(quick):
    figures, written, _ = quick
    total = figures["total"]
    assert total["cases"] == 2 * len(throughput.QUICK_OPS) * len(throughput.DTYPES)  # 2 examples per stream
    assert total["checks"] >= total["cases"]
    for key in ("cases_per_s", "cases_per_cpu_s", "checks_per_s", "ms_per_case", "wall_s", "cpu_s"):
        assert total[key] > 0, key
    assert 0 < total["overhead_pct"] < 100
    assert total["engine_pct"] > 0 and total["torch_pct"] > 0
    shares = total["engine_pct"] + total["torch_pct"] + total["checker_own_pct"] + total["generation_pct"]
    assert shares == pytest.approx(100)
    assert 0 <= total["failing"] <= total["checks"]  # counted, not judged: the checker's tests judge
    # the rate at zero overhead: the cases over the bare engine and torch time, above the measured rate
    bare_s = total["wall_s"] * (total["engine_pct"] + total["torch_pct"]) / 100
    assert total["bare_cases_per_s"] == pytest.approx(total["cases"] / bare_s)
    assert total["bare_cases_per_s"] > total["generated_cases_per_s"] > total["cases_per_s"]
    generated_s = bare_s + total["wall_s"] * total["generation_pct"] / 100
    assert total["generated_cases_per_s"] == pytest.approx(total["cases"] / generated_s)
    assert written["total"] == pytest.approx(total)


def test_figures_per_family_and_per_stream_add_up(quick):
    figures, _, _ = quick
    families = {throughput.catalogue.get(op).family for op in throughput.QUICK_OPS}
    assert set(figures["families"]) == families
    assert sum(f["cases"] for f in figures["families"].values()) == figures["total"]["cases"]
    streams = figures["streams"]
    assert {(s["op"], s["dtype"]) for s in streams} == {
        (op, d) for op in throughput.QUICK_OPS for d in throughput.DTYPES
    }
    for s in streams:
        assert s["engine"] + s["torch"] <= s["checking"] <= s["wall"]


def test_the_profile_splits_bare_calls_by_caller_and_own_time_by_module(quick):
    figures, _, _ = quick
    profile = figures["profile"]
    sites = profile["bare_by_site"]
    assert {s["side"] for s in sites} == {"engine", "torch"}
    assert all(s["calls"] > 0 and s["pct_of_total"] > 0 and s["site"] != "?" for s in sites)
    modules = {m["module"]: m["pct_of_total"] for m in profile["by_module"]}
    assert "hypothesis" in modules and "gradcheck_suite/checking/case.py" in modules
    assert sum(modules.values()) == pytest.approx(figures["total"]["overhead_pct"], abs=2)  # scaled to the timed run
    assert any(f["function"].startswith("gradcheck_suite/checking/") for f in profile["by_function"])


def test_the_summary_line_quotes_the_figures(quick, capsys):
    figures, _, _ = quick
    throughput.print_report(figures)
    printed = capsys.readouterr().out
    assert f"{figures['total']['cases_per_s']:.1f} cases/s" in printed
    assert f"framework overhead {figures['total']['overhead_pct']:.1f}%" in printed
    assert f"at zero overhead (the engine and torch calls alone): {figures['total']['bare_cases_per_s']:.1f}" in printed
    assert "process settings: torch threads 1, TF32 off" in printed and "gc.freeze() after start-up" in printed


def test_the_process_settings_are_recorded_and_torch_and_the_collector_put_back(quick):
    _, written, (threads, frozen) = quick
    settings = written["run"]["settings"]
    assert settings["torch_threads"] == 1 and settings["process_gc_frozen"] is True
    assert isinstance(settings["process_malloc_tuned"], bool)
    assert torch.get_num_threads() == threads
    if not frozen:  # nothing was frozen before the run: it unfroze what it froze
        assert gc.get_freeze_count() == 0


def test_a_call_made_inside_another_is_counted_once():
    watch = throughput_timing.Stopwatch()
    timed = throughput_timing.TimedEngine(Engine(), "engine", watch)
    # vjp_at calling forward through a proxy (either side's) is one outermost call
    outer = watch.timed("engine", "vjp_at", lambda: [timed.to_numpy(np.ones(2)), watch.timed("torch", "vjp", len, [])])
    assert outer[0].tolist() == [1.0, 1.0] and outer[1] == 0
    assert watch.calls == {"engine": 1} and watch.by_side["torch"] == 0 and watch.bare == watch.by_side["engine"] > 0
    timed.to_numpy(np.ones(2))
    assert watch.calls == {"engine": 2} and watch.depth == 0


def test_the_framework_clock_stands_still_inside_engine_calls():
    watch = throughput_timing.Stopwatch()
    seen = []
    watch.timed("torch", "forward", lambda: seen.extend([watch.framework_clock(), watch.framework_clock()]))
    assert seen[0] == seen[1]
    assert watch.framework_clock() >= seen[0]


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        throughput.main(["--examples", "0"])


def test_bad_arguments_for_compare_are_refused():
    with pytest.raises(SystemExit):
        throughput.main(["--compare", "HEAD", "--profile"])
    with pytest.raises(SystemExit, match="not a revision"):
        throughput.main(["--compare", "no-such-revision-0123", "--quick"])


def _head() -> str:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if done.returncode:
        pytest.skip("not a git checkout")
    return done.stdout.strip()


def test_compare_measures_a_revision_beside_the_working_tree(tmp_path, capsys):
    head = _head()
    out = tmp_path / "comparison.json"
    figures = throughput.main(["--compare", head, "--quick", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(figures))
    assert figures["run"]["commit"] == head
    baseline, current = figures["baseline"], figures["current"]
    for side, tree in ((baseline, Path(baseline["tree"])), (current, ROOT)):
        assert side["total"]["cases_per_s"] > 0 and side["runs_cases_per_s"] and side["total"]["checks"] > 0
        assert Path(side["code"]["gradcheck_suite"]).resolve().is_relative_to(tree.resolve())  # its own code
        assert Path(side["code"]["reference"]).resolve().is_relative_to(tree.resolve())
    assert not Path(baseline["tree"]).exists()  # the exported revision is removed
    quick_cases = 2 * len(throughput.QUICK_OPS) * len(throughput.DTYPES)  # 2 examples per stream
    assert baseline["total"]["cases"] == current["total"]["cases"] == quick_cases
    assert figures["same_case_counts"] is True
    b, c = baseline["total"]["cases_per_s"], current["total"]["cases_per_s"]
    assert figures["ratio"]["cases_per_s"] == pytest.approx(c / b)
    assert set(figures["targets"]) == {"overhead_below_30_pct", "cases_per_s_at_least_2x"}
    assert figures["bound_at_zero_overhead"] == pytest.approx(current["total"]["bare_cases_per_s"] / b)
    assert figures["bound_at_zero_overhead"] > figures["bound_with_generation"] > figures["ratio"]["cases_per_s"]
    printed = capsys.readouterr().out
    assert f"would give {figures['bound_at_zero_overhead']:.2f}x the baseline's cases/s" in printed
    assert f"{b:.1f}" in printed and f"{c:.1f}" in printed
    assert f"gradcheck_suite from {baseline['code']['gradcheck_suite']}" in printed
    assert "case counts per stream: the same on both sides" in printed and "targets: overhead < 30%" in printed
