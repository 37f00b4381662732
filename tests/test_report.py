"""The report package: records -> frame -> results.csv / meta.json / report.html."""

from __future__ import annotations

import json
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from gradcheck_suite.records import CASE_CHECKS, CHECKS, COLUMNS, VERDICTS, Record, replay_command
from gradcheck_suite.report import (
    ReportError,
    read_csv,
    read_meta,
    records_to_frame,
    render_html,
    write_csv,
    write_html,
    write_meta,
    write_reports,
)
from gradcheck_suite.report.html import fmt_num

EVIL = "<script>alert(1)</script>"
META = {"run_id": "r1", "engine": "reference", "examples": 5, "seed": 0, "dtypes": ["float32", "float64"]}


def rec(op: str, check: str, verdict: str = "pass", example: int = 0, **kw) -> Record:
    base = dict(
        run_id="r1",
        engine="reference",
        op=op,
        check=check,
        dtype="float32",
        shapes="[[2, 3]]",
        kwargs="{}",
        seed=123,
        example=example,
        max_abs_err=1e-9,
        max_rel_err=2e-9,
        tolerance=1e-5,
        score=1e-4,
        verdict=verdict,
    )
    return Record(**{**base, **kw})


@pytest.fixture
def records() -> list[Record]:
    out = []
    for example in range(3):
        for check in CASE_CHECKS:
            out.append(rec("add", check, example=example))
            out.append(
                rec(
                    "relu",
                    check,
                    "convention" if check == "vjp-torch" and example == 0 else "pass",
                    example=example,
                    rule="kink at 0",
                    detail="x[0]=0.0",
                )
            )
            bad = check == "vjp-fd" and example < 2
            out.append(
                rec(
                    "matmul",
                    check,
                    "engine-bug" if bad else "pass",
                    example=example,
                    score=12.5 if bad else 0.1,
                    rule="torch and fd agree; engine differs",
                    detail="worst at [0, 1] </td><b>bold</b>",
                    inputs='{"x": [' + "0.5, " * 80 + "1]}",
                )
            )
    return out


class Page(HTMLParser):
    """Collects every start tag with its attributes, and the text of <script> elements."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)

    def find(self, tag: str, cls: str | None = None, **attrs) -> list[dict]:
        return [
            a
            for t, a in self.tags
            if t == tag
            and (cls is None or cls in (a.get("class") or "").split())
            and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


# --- frames and CSV ---------------------------------------------------------------------------


def test_frame_has_columns_in_order_and_stable_dtypes(records):
    frame = records_to_frame(records)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == len(records)
    assert frame["seed"].dtype == "int64" and frame["score"].dtype == "float64"
    empty = records_to_frame([])
    assert list(empty.columns) == list(COLUMNS) and empty.empty
    assert (empty.dtypes == frame.dtypes).all()


def test_csv_round_trips(records, tmp_path):
    tricky = rec(
        "odd,op",
        "forward",
        "numerical-noise",
        max_abs_err=1 / 3,
        max_rel_err=math.inf,
        score=math.nan,
        rule='quote " and, comma',
        detail="NA",
        inputs="line1\nline2 ✓",
    )
    frame = records_to_frame([*records, tricky])
    path = tmp_path / "results.csv"
    write_csv(frame, path)
    back = read_csv(path)
    assert list(back.columns) == list(COLUMNS)
    pd.testing.assert_frame_equal(back, frame)
    assert back.iloc[-1]["detail"] == "NA" and back.iloc[-1]["max_abs_err"] == 1 / 3


def test_read_csv_keeps_extra_columns(records, tmp_path):
    frame = records_to_frame(records).assign(future="x")
    write_csv(frame, tmp_path / "r.csv")
    back = read_csv(tmp_path / "r.csv")
    assert list(back.columns) == [*COLUMNS, "future"]


def test_read_csv_errors_name_the_file(tmp_path):
    with pytest.raises(ReportError, match=r"missing\.csv"):
        read_csv(tmp_path / "missing.csv")
    with pytest.raises(ReportError, match="not a file"):
        read_csv(tmp_path)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ReportError, match=r"garbage\.csv"):
        read_csv(garbage)
    partial = tmp_path / "partial.csv"
    partial.write_text("run_id,engine,op\nr,e,add\n")
    with pytest.raises(ReportError, match=r"partial\.csv") as info:
        read_csv(partial)
    assert "missing columns: check, dtype" in str(info.value)
    assert "engine," not in str(info.value).split("missing columns:")[1]


def test_read_csv_rejects_bad_numbers(records, tmp_path):
    path = tmp_path / "r.csv"
    write_csv(records_to_frame(records).assign(seed="abc"), path)
    with pytest.raises(ReportError, match="seed"):
        read_csv(path)


def test_meta_round_trip_sorted_and_indented(tmp_path):
    path = tmp_path / "meta.json"
    write_meta({"b": 1, "a": [1, 2], "when": Path("/x")}, path)
    text = path.read_text()
    assert text.index('"a"') < text.index('"b"') and '\n  "a"' in text
    assert read_meta(path) == {"a": [1, 2], "b": 1, "when": "/x"}
    with pytest.raises(ReportError, match=r"nope\.json"):
        read_meta(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ReportError, match=r"bad\.json"):
        read_meta(tmp_path / "bad.json")


def test_atomic_writes_leave_no_temp_files(records, tmp_path, monkeypatch):
    paths = write_reports(records, META, tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == ["meta.json", "report.html", "results.csv"]
    assert paths == {
        "csv": tmp_path / "out" / "results.csv",
        "meta": tmp_path / "out" / "meta.json",
        "html": tmp_path / "out" / "report.html",
    }
    before = paths["csv"].read_bytes()

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_csv(records_to_frame(records[:1]), paths["csv"])
    assert paths["csv"].read_bytes() == before  # the old file is untouched
    assert sorted(os.listdir(tmp_path / "out")) == ["meta.json", "report.html", "results.csv"]


def test_write_reports_accepts_a_frame(records, tmp_path):
    frame = records_to_frame(records)
    paths = write_reports(frame, META, tmp_path)
    pd.testing.assert_frame_equal(read_csv(paths["csv"]), frame)
    assert read_meta(paths["meta"]) == META
    assert paths["html"].read_text() == render_html(frame, META)


# --- HTML -------------------------------------------------------------------------------------


def test_banner_pass_and_fail(records):
    passing = [r for r in records if r.verdict == "pass"]
    page = Page(render_html(records_to_frame(passing), META))
    assert page.find("div", id="status", data_status="pass")
    failing_html = render_html(records_to_frame(records), META)
    assert Page(failing_html).find("div", id="status", data_status="fail")
    assert "FAIL" in failing_html and "2 failing checks of 63" in failing_html


def test_matrix_cells_carry_worst_verdict(records):
    page = Page(render_html(records_to_frame(records), META))
    rows = page.find("tr", "op-row")
    assert [r["data-op"] for r in rows] == ["matmul", "relu", "add"]  # failures first
    cells = page.find("td", "cell")
    width = len(CASE_CHECKS)  # one column per check that ran: no semantics column without programs
    assert len(cells) == 3 * width
    expected = {
        ("matmul", "vjp-fd"): ("engine-bug", "tone-fail"),
        ("relu", "vjp-torch"): ("convention", "tone-amber"),
    }
    for op_row, chunk in zip(rows, [cells[i : i + width] for i in range(0, len(cells), width)], strict=True):
        for cell, check in zip(chunk, CASE_CHECKS, strict=True):
            verdict, tone = expected.get((op_row["data-op"], check), ("pass", "tone-pass"))
            assert cell["data-check"] == check and cell["data-verdict"] == verdict
            assert {tone, f"v-{verdict}"} <= set(cell["class"].split())


def test_a_semantics_row_gets_its_own_column(records):
    program = rec("program", "semantics", "semantics-mismatch", dtype="mixed", kwargs='{"ops": "add", "programs": 2}')
    page = Page(render_html(records_to_frame([*records, program]), META))
    cells = page.find("td", "cell")
    width = len(CASE_CHECKS) + 1
    assert [c["data-check"] for c in cells[:width]] == [*CASE_CHECKS, "semantics"]
    torch_code = {"zero-grad", "grad-attributes", "undefined-grad", "batched-grad", "batched-jvp"}  # gradcheck only
    assert set(CHECKS) == {*CASE_CHECKS, "semantics", *torch_code}
    ops = [r["data-op"] for r in page.find("tr", "op-row")]
    semantics = {op: c["data-verdict"] for op, c in zip(ops, cells[width - 1 :: width], strict=True)}
    assert semantics == {"program": "semantics-mismatch", "matmul": "", "relu": "", "add": ""}


def test_sections_only_for_non_pass_ops_with_replay(records):
    html = render_html(records_to_frame(records), META)
    page = Page(html)
    sections = page.find("section", "op")
    assert [s["data-op"] for s in sections] == ["matmul", "relu"]
    anchors = {a["href"] for a in page.find("a") if a.get("href", "").startswith("#op-")}
    assert anchors == {"#" + s["id"] for s in sections}
    matmul_row = records_to_frame(records).query("op == 'matmul'").iloc[0].to_dict()
    assert replay_command(matmul_row, 5) in html
    assert "engine-bug" in html and "1.25e1" not in html and "12.5" in html
    assert page.find("details")  # long inputs are folded


def test_legend_and_meta(records):
    page = Page(render_html(records_to_frame(records), {**META, "command": "gradcheck-suite run"}))
    assert [r["data-verdict"] for r in page.find("tr") if "data-verdict" in r] == list(VERDICTS)
    html = render_html(records_to_frame(records), {**META, "command": "gradcheck-suite run"})
    assert "gradcheck-suite run" in html and "float32, float64" in html


def test_data_is_escaped(records):
    evil = [rec(EVIL, "forward", "forward-mismatch", detail="</td><b>x</b>", rule="<i>r</i>"), *records]
    html = render_html(records_to_frame(evil), {**META, "engine": "<img src=x onerror=alert(2)>"})
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "</td><b>" not in html and "<img" not in html and "<i>r" not in html
    page = Page(html)
    assert not any("alert" in text for text in page.scripts)
    assert not page.find("script") and not page.find("img") and not page.find("i")
    assert len(page.find("tr", "op-row")) == 4
    assert all(" " not in s["id"] and "<" not in s["id"] for s in page.find("section", "op"))


def test_empty_records_give_a_valid_report(tmp_path):
    paths = write_reports([], {}, tmp_path)
    html = paths["html"].read_text()
    page = Page(html)
    assert page.find("div", id="status", data_status="empty")
    assert not page.find("tr", "op-row") and not page.find("section", "op")
    assert len([r for r in page.find("tr") if "data-verdict" in r]) == len(VERDICTS)
    assert list(read_csv(paths["csv"]).columns) == list(COLUMNS)


def test_missing_meta_keys_are_tolerated(records):
    html = render_html(records_to_frame(records), {})
    assert "--examples N" in html and "reference" in html


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (0.5, "0.5"),
        (123.456, "123"),
        (1234.5, "1234"),
        (1.5e-7, "1.5e-7"),
        (2e6, "2e6"),
        (math.nan, "—"),
        (math.inf, "∞"),
        (-0.00123, "-0.00123"),
    ],
)
def test_fmt_num(value, text):
    assert fmt_num(value) == text


def test_write_html_is_atomic(records, tmp_path):
    write_html(records_to_frame(records), META, tmp_path / "r.html")
    assert os.listdir(tmp_path) == ["r.html"]
    assert json.dumps(META)  # meta untouched by rendering


# --- replay, engines, plots, structure ----------------------------------------------------------


def test_a_row_with_a_replay_id_offers_the_replay_subcommand(records):
    stored = rec("mul", "vjp-fd", "engine-bug", score=40.0, replay_id="mul-float32-0123456789ab")
    html = render_html(records_to_frame([*records, stored]), META)
    page = Page(html)
    assert "gradcheck-suite replay mul-float32-0123456789ab" in html
    commands = [t for t, a in page.tags if t == "code" and "case-replay" in a.get("class", "")]
    assert len(commands) == len([r for r in records if r.verdict != "pass"]) + 1
    matmul_row = records_to_frame(records).query("op == 'matmul'").iloc[0].to_dict()
    assert html.count(replay_command(matmul_row, 5)) >= 2  # no replay id: the stream command, per row too


def test_stream_command_names_a_non_default_engine():
    from gradcheck_suite.report.findings import stream_command

    row = records_to_frame([rec("add", "forward", engine="torch")]).iloc[0].to_dict()
    assert stream_command(row, 5).endswith(" --engine torch")
    assert "--engine" not in stream_command({**row, "engine": "reference"}, 5)


def test_the_three_values_are_taken_from_the_detail():
    from gradcheck_suite.report.findings import without_witnesses, witnesses

    detail = "worst at input 0 at [1]: e=0 torch=0 fd=-2.5; kink at input 0 at [1]: left=-3 right=3 engine=0 torch=0"
    # "finite diff.", not "reference": that is also the default engine's name
    assert witnesses(detail) == [("engine", "0"), ("torch", "0"), ("finite diff.", "-2.5")]
    assert (
        without_witnesses(detail) == "worst at input 0 at [1]; kink at input 0 at [1]: left=-3 right=3 engine=0 torch=0"
    )
    assert witnesses("no values here") == [] and witnesses("e=1 only") == []


def two_engines(records: list[Record], fixed: str = "matmul") -> list[Record]:
    """The rows for engine `reference`, and the same for `other` where op `fixed` passes."""
    other = [
        rec(r.op, r.check, "pass" if r.op == fixed else r.verdict, example=r.example, engine="other") for r in records
    ]
    return [*records, *other]


def test_one_engine_looks_as_before(records):
    page = Page(render_html(records_to_frame(records), META))
    assert not page.find("table", "engines")
    assert all("data-engine" not in row for row in page.find("tr", "op-row"))
    assert not page.find("td", "engine")


def test_several_engines_get_a_row_each_and_disagreement_is_marked(records):
    frame = records_to_frame(two_engines(records))
    page = Page(render_html(frame, {**META, "engine": "reference,other"}))
    rows = page.find("tr", "op-row")
    assert [(r["data-op"], r["data-engine"]) for r in rows] == [
        (op, engine) for op in ("matmul", "relu", "add") for engine in ("reference", "other")
    ]
    differs = {r["data-op"] for r in rows if r.get("data-differs") == "true"}
    assert differs == {"matmul"}  # relu's convention row is the same on both engines
    by_row = {(r["data-op"], r["data-engine"]) for r in rows}
    assert len(by_row) == 6 and len(page.find("td", "engine")) == 6
    matmul_cells = page.find("td", "cell", data_check="vjp-fd")[:2]
    assert [c["data-verdict"] for c in matmul_cells] == ["engine-bug", "pass"]
    assert [e["data-engine"] for e in page.find("tr") if "data-engine" in e and "op-row" not in e.get("class", "")][
        :2
    ] == ["reference", "other"]  # the engines table, in run order
    section = page.find("section", "op", data_op="matmul")
    assert section
    counts = {s["data-engine"] for s in page.find("span", "engine-count")}
    assert counts == {"reference", "other"}
    failing_rows = [a for t, a in page.tags if t == "tr" and a.get("class") == "tone-fail"]
    assert {a["data-engine"] for a in failing_rows} == {"reference"}


def svg_dots(html: str, plot_id: str) -> list[dict]:
    """The data dots (circles outside the legend) of one plot."""
    figure = re.search(rf'<figure[^>]*id="{plot_id}".*?</figure>', html, re.S).group(0)
    return [a for t, a in Page(figure).tags if t == "circle" and a.get("r") == "2.5"]


def test_plots_are_inline_svg_with_one_dot_per_check(records):
    frame = records_to_frame(records)
    html = render_html(frame, META)
    page = Page(html)
    assert len(page.find("svg", "plot")) == 2
    dots = svg_dots(html, "plot-budget")
    assert len(dots) == len(frame)  # small runs: every check
    red = [d for d in dots if d["fill"] == "#d92d20"]
    assert len(red) == int((frame["verdict"] == "engine-bug").sum()) == 2
    # failing rows are also dots in the relative-error boxes, one box per op
    assert len(svg_dots(html, "plot-relative")) == 2
    assert len(page.find("rect")) >= 3


def test_large_runs_are_sampled_keeping_every_non_pass_row():
    from gradcheck_suite.report import plots

    rows = [rec("add", "forward", example=i, max_abs_err=1e-9 * (i + 1)) for i in range(plots.MAX_POINTS + 500)]
    rows += [rec("mul", "vjp-fd", "engine-bug", example=i, max_abs_err=1.0, score=1e5) for i in range(30)]
    html = render_html(records_to_frame(rows), META)
    dots = svg_dots(html, "plot-budget")
    assert len(dots) == plots.MAX_POINTS
    assert len([d for d in dots if d["fill"] == "#d92d20"]) == 30
    assert html == render_html(records_to_frame(rows), META)  # the sample is the same on every render
    assert "Showing 2000 of 2530 checks" in " ".join(html.split())


def test_zero_and_tiny_errors_sit_on_the_bottom_edge(records):
    rows = [rec("add", "forward", example=0, max_abs_err=0.0), rec("add", "forward", example=1, max_abs_err=1e-300)]
    html = render_html(records_to_frame([*records, *rows]), META)
    assert "2 of the dots shown" in " ".join(html.split())
    ys = {d["cy"] for d in svg_dots(html, "plot-budget")}
    assert max(ys, key=float) == "474.0"  # the bottom of the 460-pixel square under a 14-pixel margin


def test_no_plots_without_numbers():
    program = rec("program", "semantics", max_abs_err=math.nan, max_rel_err=math.nan, tolerance=math.nan)
    page = Page(render_html(records_to_frame([program]), META))
    assert not page.find("svg") and not page.find("figure")


def test_the_page_loads_nothing_from_anywhere(records):
    html = render_html(records_to_frame(two_engines(records)), META)
    page = Page(html)
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        for name in ("src", "href", "xlink:href"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
            assert not value or value.startswith("#"), (tag, name, value)  # only links within the page
    assert "@import" not in html and "url(" not in html


def test_structure_of_a_failing_page(records):
    page = Page(render_html(records_to_frame(records), META))
    ids = {a["id"] for _, a in page.tags if "id" in a}
    assert {"status", "summary", "matrix", "plots", "plot-budget", "plot-relative", "findings", "legend", "meta"} <= ids
    assert "history" not in ids  # no earlier runs given
    for section in page.find("section", "op"):
        assert section["id"] in ids and section["data-op"] in {"matmul", "relu"}


# --- meta -----------------------------------------------------------------------------------------


def test_meta_is_grouped_and_missing_required_keys_are_said(records):
    meta = {**META, "hypothesis_settings": {"derandomize": False, "phases": ["generate"]}, "future_key": "x"}
    html = render_html(records_to_frame(records), meta)
    page = Page(html)
    keys = {a["data-key"]: a.get("class") for a in page.find("tr") if "data-key" in a}
    assert keys["hypothesis_settings"] is None and keys["future_key"] is None
    assert keys["torch_version"] == "missing" and keys["platform"] == "missing"
    assert "not recorded" in html and "{&#34;derandomize&#34;: false, &#34;phases&#34;: [&#34;generate&#34;]}" in html
    groups = re.findall(r'<tr class="group"><th colspan="2">(\w+)</th>', html)
    assert groups == ["run", "engine", "torch", "generation", "environment", "other"]  # no campaign keys


def test_known_counts_the_run_recorded_are_shown_without_a_file(records):
    html = render_html(records_to_frame(records), {**META, "new_failures": 0, "known_failures": 2})
    assert Page(html).find("div", id="known-counts")
    assert "the run recorded 0 new, 2 known" in html


def test_readme_tables_match_the_schema():
    from gradcheck_suite.report import readme
    from gradcheck_suite.report.schema import META_KEYS, REQUIRED_META

    text = readme.README.read_text(encoding="utf-8")
    assert readme.blocks(text) == ["columns", "meta"]
    assert readme.update(text) == text, "reports/README.md is stale: run python3 -m gradcheck_suite.report.readme"
    for name in COLUMNS:
        assert f"| `{name}` |" in text
    assert set(REQUIRED_META) <= set(META_KEYS)
    assert readme.update(text.replace("| `replay_id` |", "| `gone` |")) == text  # the check can fail


# --- escaping -------------------------------------------------------------------------------------

ATTRIBUTE_BREAK = '"><img src=x onerror=alert(3)>'
NASTY = f"{EVIL}{ATTRIBUTE_BREAK}'><svg onload=alert(4)>&amp;"


def nasty_frame() -> pd.DataFrame:
    """Every string column of a failing, an informational and a passing row holds markup."""
    rows = []
    for engine in (f"eng{NASTY}", f"other{NASTY}"):
        for verdict in ("engine-bug", "convention", "pass"):
            row = rec("add", "forward", verdict, engine=engine).row()
            for column in ("run_id", "op", "shapes", "kwargs", "rule", "detail", "inputs", "location", "reference"):
                row[column] = f"{column}{NASTY}"
            row["detail"] = f"worst at {NASTY}: e={NASTY} torch=1 fd=2"
            row["inputs"] = NASTY * 20  # long enough to be folded
            row["replay_id"] = f"id{NASTY}"
            row["dtype"] = f"float32{NASTY}"
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame.loc[0, "verdict"] = f"engine-bug{NASTY}"  # a foreign CSV's verdict
    frame.loc[1, "check"] = f"check{NASTY}"
    return frame


def assert_no_markup_from_data(html: str) -> None:
    page = Page(html)
    assert EVIL not in html and ATTRIBUTE_BREAK not in html and "<svg onload" not in html
    assert not page.find("script") and not page.find("img")
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert not any("alert" in text for text in page.scripts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_string_from_data_is_escaped(tmp_path):
    frame = nasty_frame()
    meta = {"run_id": NASTY, "engine": NASTY, "command": NASTY, NASTY: NASTY, "ops": [NASTY], "examples": NASTY}
    earlier = tmp_path / "earlier"
    write_reports(frame, {**meta, "started": "2000-01-01"}, earlier)  # a history row full of markup
    history = __import__("gradcheck_suite.report.history", fromlist=["history"]).history
    html = render_html(frame, meta, history=history(tmp_path / "now", frame, meta), notes=[NASTY])
    assert 'id="history"' in html and 'id="notes"' in html and html.count('class="op-row"') == 2
    assert_no_markup_from_data(html)


def test_escaping_test_would_catch_raw_markup():
    with pytest.raises(AssertionError):
        assert_no_markup_from_data(f"<p>{EVIL}</p>")
    with pytest.raises(AssertionError):
        assert_no_markup_from_data('<p title=""><img src=x onerror=alert(3)>"></p>')


def test_sections_show_the_worst_rows_and_count_the_rest():
    from gradcheck_suite.report import findings

    bad = [
        rec("mul", "vjp-fd", "engine-bug", example=i, score=float(i + 2)) for i in range(findings.MAX_ROWS_PER_OP + 30)
    ]
    odd = [rec("mul", "vjp-torch", "convention", example=i) for i in range(findings.MAX_OTHER_ROWS_PER_OP + 10)]
    html = render_html(records_to_frame([*bad, *odd]), META)
    page = Page(html)
    shown = [a for t, a in page.tags if t == "tr" and a.get("class") in ("tone-fail", "tone-amber")]
    assert len(shown) == findings.MAX_ROWS_PER_OP + findings.MAX_OTHER_ROWS_PER_OP
    assert "40 more rows not shown" in html
    scores = re.findall(r'<td class="num over">([0-9.]+)</td>', html)
    assert scores[0] == fmt_num(findings.MAX_ROWS_PER_OP + 31)  # the worst first


# --- known discrepancies --------------------------------------------------------------------------

KNOWN_MATMUL = """
[[known]]
op = "matmul"
check = "vjp-fd"
dtype = "float32"
verdict = "engine-bug"
reason = "matmul's backward is off; tracked in #7"
"""
KNOWN_STALE = """
[[known]]
op = "relu"
check = "vjp-torch"
dtype = "float32"
verdict = "engine-bug"
reason = "fixed long ago"
"""


def known_file(tmp_path, *tables: str):
    path = tmp_path / "known.toml"
    path.write_text("".join(tables))
    return path


def test_a_known_file_from_meta_turns_covered_failures_into_a_pass(records, tmp_path):
    path = known_file(tmp_path, KNOWN_MATMUL)
    html = render_html(records_to_frame(records), {**META, "known_file": str(path)})
    page = Page(html)
    assert page.find("div", id="status", data_status="pass")
    text = " ".join(html.split())
    assert 'PASS</div><div class="why">— 2 known discrepancies' in text
    marks = re.findall(r'<span class="pill tone-known known-mark">([^<]*)</span>', html)
    assert marks == ["known · entry 1: matmul&#39;s backward is off; tracked in #7"] * 2
    assert [c["data-verdict"] for c in page.find("td", "tone-known")] == ["engine-bug"]  # the matmul vjp-fd cell
    assert page.find("div", id="known") and not page.find("ul", id="stale")


def test_only_new_failures_fail_the_page_and_stale_entries_are_listed(records, tmp_path):
    path = known_file(tmp_path, KNOWN_MATMUL, KNOWN_STALE)
    extra = rec("add", "vjp-fd", "engine-bug", example=7)
    html = render_html(records_to_frame([*records, extra]), {**META, "known_file": str(path)})
    page = Page(html)
    assert page.find("div", id="status", data_status="fail")
    assert "1 new failing check of 64; 2 known" in " ".join(html.split())
    assert "2 new" not in html
    stale = re.search(r'<ul id="stale">(.*?)</ul>', html, re.S).group(1)
    assert "entry 2" in stale and "relu vjp-torch float32 engine-bug" in stale and "entry 1" not in stale
    # the run's own list wins when the file is the one meta.json names
    meta = {**META, "known_file": str(path), "stale_known": ["entry 9: as the run saw it"]}
    assert "entry 9: as the run saw it" in render_html(records_to_frame(records), meta)


def test_an_explicit_known_file_overrides_meta(records, tmp_path):
    path = known_file(tmp_path, KNOWN_MATMUL)
    meta = {**META, "known_file": str(tmp_path / "elsewhere.toml"), "stale_known": ["entry 3: of the other file"]}
    html = render_html(records_to_frame(records), meta, known=path)
    assert Page(html).find("div", id="status", data_status="pass")
    assert not Page(html).find("ul", id="stale")  # meta's list was about meta's file
    from gradcheck_suite.known import load_known

    paths = write_reports(records, META, tmp_path / "run", known=load_known(path))  # as a run triaged with it
    assert Page(paths["html"].read_text()).find("div", id="status", data_status="pass")
    assert "known.toml" in re.search(r'<div class="card known-file" id="known">(.*?)</div>', html, re.S).group(1)


def test_a_known_file_that_does_not_load_is_a_note_not_a_crash(records, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[known]]\nop = 'nope'\n")
    for path in (bad, tmp_path / "missing.toml"):
        html = render_html(records_to_frame(records), {**META, "known_file": str(path)})
        page = Page(html)
        assert page.find("div", id="status", data_status="fail")  # rendered without it
        notes = re.search(r'<div class="card notes" id="notes">(.*?)</div>', html, re.S).group(1)
        assert "Known discrepancies not applied" in notes and path.name in notes
        assert not page.find("span", "known-mark")
        assert "warning: " in capsys.readouterr().err


# --- older files, odd values ----------------------------------------------------------------------


def test_an_older_results_file_is_read_with_defaults_and_said(records, tmp_path):
    from gradcheck_suite.report.tables import REQUIRED_COLUMNS

    assert REQUIRED_COLUMNS[-1] == "reference" and "count" not in REQUIRED_COLUMNS
    path = tmp_path / "results.csv"
    records_to_frame(records).drop(columns=["replay_id", "count"]).to_csv(path, index=False)
    frame = read_csv(path)
    assert list(frame.columns) == list(COLUMNS)
    assert (frame["count"] == 1).all() and (frame["replay_id"] == "").all() and frame["count"].dtype == "int64"
    html = render_html(frame, META)
    assert "Older results file: it has no column replay_id, count" in html
    assert "Older results file" not in render_html(records_to_frame(records), META)
    records_to_frame(records).drop(columns=["reference"]).to_csv(path, index=False)
    with pytest.raises(ReportError, match="missing columns: reference"):
        read_csv(path)


def test_nan_as_other_tools_write_it_is_a_missing_float(records, tmp_path):
    path = tmp_path / "results.csv"
    frame = records_to_frame(records[:4]).astype({"max_abs_err": object, "score": object})
    frame.loc[0, "max_abs_err"], frame.loc[1, "max_abs_err"], frame.loc[2, "score"] = "nan", "NaN", " NA"
    frame.to_csv(path, index=False)
    back = read_csv(path)
    assert back["max_abs_err"].isna().tolist() == [True, True, False, False] and math.isnan(back.loc[2, "score"])
    frame.loc[3, "score"] = "abc"
    frame.to_csv(path, index=False)
    with pytest.raises(ReportError, match="'abc' in data row 4 is not a number"):
        read_csv(path)


def test_lone_surrogates_do_not_stop_the_reports(tmp_path):
    odd = rec("add", "forward", "forward-mismatch", detail="bad \ud800 byte", inputs="\udcff")
    paths = write_reports([odd], META, tmp_path)
    assert "bad \\ud800 byte" in paths["csv"].read_text(encoding="utf-8")
    assert "bad \\ud800 byte" in paths["html"].read_text(encoding="utf-8")


# --- folded rows (count), campaigns -----------------------------------------------------------------


def folded(op: str, check: str, n: int, **kw) -> Record:
    return rec(op, check, example=-2, count=n, max_abs_err=1e-3, tolerance=1e-5, detail=f"{n} passing checks", **kw)


def test_every_count_is_weighted_by_count(records):
    rows = [*records, *(folded("add", check, 1000) for check in CASE_CHECKS)]
    html = render_html(records_to_frame(rows), META)
    page = Page(html)
    add_forward = [c for c in page.find("td", "cell", data_check="forward")][2]
    assert add_forward["title"] == "pass: 1003"
    assert re.search(
        r'data-check="forward"[^>]*title="pass: 1003">\s*<span class="box"><span class="main">1003 ✓', html
    )
    stats = dict(re.findall(r'<div class="n">(\d+)</div><div class="k">(\w+)</div>', html)[i][::-1] for i in range(3))
    checks = len(records) + 1000 * len(CASE_CHECKS)
    assert stats == {"ops": "3", "cases": str(9 + 1000), "checks": str(checks)}
    assert f"pass {checks - 3}" in html  # the verdict chips
    assert f"2 failing checks of {checks}" in html  # the banner
    section = re.search(r'<section class="card op"[^>]*data-op="relu".*?</section>', html, re.S).group(0)
    assert "1 non-pass of 21 checks" in section


def test_folded_rows_are_not_drawn(records):
    rows = [*records, folded("add", "forward", 1000)]
    html = render_html(records_to_frame(rows), META)
    assert len(svg_dots(html, "plot-budget")) == len(records)  # the folded row's maxima are no dot
    assert "1 folded rows of the campaign" in " ".join(html.split())


def test_the_cases_stat_leaves_out_placeholders_of_unsupported_ops(records):
    placeholder = rec("exp", "forward", "unsupported", shapes="[]", rule="engine 'x' does not support exp")
    html = render_html(records_to_frame([*records, placeholder]), META)
    assert re.search(r'<div class="n">9</div><div class="k">cases</div>', html)
    assert re.search(r'<div class="n">4</div><div class="k">ops</div>', html)


def test_a_fuzz_campaign_has_no_stream_commands(records):
    rechecked = rec("mul", "vjp-fd", "engine-bug", example=-1, replay_id="mul-float32-00000000abcd")
    html = render_html(records_to_frame([*records, rechecked]), {**META, "mode": "fuzz"})
    page = Page(html)
    assert not page.find("code", "replay-command") and page.find("div", id="fuzz-replay")
    assert "stored failure, re-checked" in html and "gradcheck-suite replay mul-float32-00000000abcd" in html
    assert "gradcheck-suite run --ops" not in html  # campaign rows have no stream to re-run
    assert "no stored case" in html  # matmul's rows have no replay id
    not_fuzz = render_html(records_to_frame([*records, rechecked]), META)
    assert Page(not_fuzz).find("code", "replay-command")
    counted = render_html(records_to_frame(records), {**META, "mode": "fuzz", "cases": 12345})
    assert re.search(r'<div class="n">12345</div><div class="k">cases</div>', counted)  # the campaign's own count


def test_a_semantics_row_with_malformed_kwargs_renders(records):
    from gradcheck_suite.report.findings import stream_command

    for kwargs in ("not json", "{}", "[1]", '{"ops": "add"}'):
        row = rec("program", "semantics", "semantics-mismatch", dtype="mixed", kwargs=kwargs, engine="mine")
        html = render_html(records_to_frame([*records, row]), {**META, "engine_specs": {"mine": "pkg:Eng"}})
        assert "gradcheck-suite run --ops program --seed 123 --examples 0 --programs N --engine pkg:Eng" in html
    good = rec("program", "semantics", kwargs='{"ops": "add", "programs": 3}').row()
    assert stream_command(good, 5) == "gradcheck-suite run --ops add --examples 0 --programs 3 --seed 123"


# --- engines, duration ------------------------------------------------------------------------------


def test_an_engine_without_jvp_does_not_differ_it_differs_in_support(records):
    other = []
    for r in records:
        unsupported = r.check.startswith("jvp")
        other.append(rec(r.op, r.check, "unsupported" if unsupported else r.verdict, example=r.example, engine="nojvp"))
    page = Page(render_html(records_to_frame([*records, *other]), META))
    rows = page.find("tr", "op-row")
    assert not [r for r in rows if r.get("data-differs")]
    assert {r["data-op"] for r in rows if r.get("data-support-differs")} == {"matmul", "relu", "add"}
    assert page.find("span", "support")


@pytest.mark.parametrize(
    ("meta", "text"),
    [
        ({"started": "2026-01-01T00:00:00", "finished": "2026-01-02T02:03:04"}, "26 h 3 min"),
        ({"started": "2026-01-01T00:00:00", "finished": "2026-01-01T00:03:07"}, "3 min 7 s"),
        ({"started": "2026-01-01T00:00:00", "finished": "2026-01-01T00:00:42"}, "42 s"),
        ({"started": "2026-01-01T00:00:00", "finished": "2026-01-01T00:00:42", "elapsed_s": 7322.4}, "2 h 2 min"),
        ({"started": "2026-01-02T00:00:00", "finished": "2026-01-01T00:00:00"}, ""),  # backwards: not shown
        ({"started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:00:42"}, ""),  # aware and naive
    ],
)
def test_duration(meta, text):
    from gradcheck_suite.report.html import _duration

    assert _duration(meta) == text
