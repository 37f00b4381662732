"""The throughput benchmark (benchmarks/throughput.py) runs and reports well-formed figures:
a couple of streams, no timing thresholds (the machine's load decides those)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import throughput

from gradcheck_suite.engines.protocol import Engine


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("throughput") / "figures.json"
    figures = throughput.main(["--quick", "--profile", "--json", str(out)])
    return figures, json.loads(out.read_text())


def test_quick_run_reports_rates_and_an_overhead_share(quick):
    figures, written = quick
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
    assert written["total"] == pytest.approx(total)


def test_figures_per_family_and_per_stream_add_up(quick):
    figures, _ = quick
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
    figures, _ = quick
    profile = figures["profile"]
    sites = profile["bare_by_site"]
    assert {s["side"] for s in sites} == {"engine", "torch"}
    assert all(s["calls"] > 0 and s["pct_of_total"] > 0 and s["site"] != "?" for s in sites)
    modules = {m["module"]: m["pct_of_total"] for m in profile["by_module"]}
    assert "hypothesis" in modules and "gradcheck_suite/checking/case.py" in modules
    assert sum(modules.values()) == pytest.approx(figures["total"]["overhead_pct"], abs=2)  # scaled to the timed run
    assert any(f["function"].startswith("gradcheck_suite/checking/") for f in profile["by_function"])


def test_the_summary_line_quotes_the_figures(quick, capsys):
    figures, _ = quick
    throughput.print_report(figures)
    printed = capsys.readouterr().out
    assert f"{figures['total']['cases_per_s']:.1f} cases/s" in printed
    assert f"framework overhead {figures['total']['overhead_pct']:.1f}%" in printed


def test_a_call_made_inside_another_is_counted_once():
    watch = throughput.Stopwatch()
    timed = throughput.TimedEngine(Engine(), "engine", watch)
    # vjp_at calling forward through a proxy (either side's) is one outermost call
    outer = watch.timed("engine", "vjp_at", lambda: [timed.to_numpy(np.ones(2)), watch.timed("torch", "vjp", len, [])])
    assert outer[0].tolist() == [1.0, 1.0] and outer[1] == 0
    assert watch.calls == {"engine": 1} and watch.by_side["torch"] == 0 and watch.bare == watch.by_side["engine"] > 0
    timed.to_numpy(np.ones(2))
    assert watch.calls == {"engine": 2} and watch.depth == 0


def test_the_framework_clock_stands_still_inside_engine_calls():
    watch = throughput.Stopwatch()
    seen = []
    watch.timed("torch", "forward", lambda: seen.extend([watch.framework_clock(), watch.framework_clock()]))
    assert seen[0] == seen[1]
    assert watch.framework_clock() >= seen[0]


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        throughput.main(["--examples", "0"])
