"""The report package: records -> frame -> results.csv / meta.json / report.html."""

from __future__ import annotations

import json
import math
import os
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
    assert "FAIL" in failing_html and "2 failing rows" in failing_html


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
    assert set(CHECKS) == {*CASE_CHECKS, "semantics"}
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
