"""`gradcheck-suite report RUN_DIR`, and the history of earlier runs beside a run folder."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from test_report import META, Page, rec

from gradcheck_suite import cli
from gradcheck_suite.records import CASE_CHECKS
from gradcheck_suite.report import read_csv, read_meta, records_to_frame, render_html, write_reports
from gradcheck_suite.report.history import earlier_runs, history
from gradcheck_suite.report.schema import META_KEYS


def run_folder(parent, name: str, failing: int, started: str, engine: str = "reference", **meta):
    rows = [rec("add", check, example=e, engine=engine) for e in range(2) for check in CASE_CHECKS]
    rows += [rec("mul", "vjp-fd", "engine-bug", example=e, engine=engine, replay_id=f"id{e}") for e in range(failing)]
    return write_reports(rows, {**META, "run_id": name, "engine": engine, "started": started, **meta}, parent / name)


# --- history ---------------------------------------------------------------------------------------


def test_earlier_runs_are_listed_newest_first_and_junk_is_skipped(tmp_path):
    run_folder(tmp_path, "a", 1, "2026-01-01T00:00:00")
    run_folder(tmp_path, "b", 3, "2026-01-02T00:00:00")
    run_folder(tmp_path, "c", 0, "2026-01-03T00:00:00", engine="torch")
    run_folder(tmp_path, "later", 9, "2027-01-01T00:00:00")  # started after this run: not history
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "meta.json").write_text("{not json")
    (tmp_path / "junk" / "results.csv").write_text("verdict\npass\n")
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "meta.json").write_text("[1, 2]")
    (tmp_path / "list" / "results.csv").write_text("verdict\npass\n")
    (tmp_path / "nocsv").mkdir()
    (tmp_path / "nocsv" / "meta.json").write_text("{}")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "meta.json").write_text("{}")
    (tmp_path / "foreign" / "results.csv").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "old").mkdir()  # an older format: only the columns history needs
    (tmp_path / "old" / "meta.json").write_text(json.dumps({"run_id": "old", "started": "2025-06-01T00:00:00"}))
    (tmp_path / "old" / "results.csv").write_text("verdict,op\npass,add\nengine-bug,mul\n")
    (tmp_path / "a-file.txt").write_text("not a folder")
    runs = earlier_runs(tmp_path / "now", "2026-06-01T00:00:00")
    assert [(r["run_id"], r["failing"], r["status"]) for r in runs] == [
        ("c", 0, "pass"),
        ("b", 3, "fail"),
        ("a", 1, "fail"),
        ("old", 1, "fail"),
    ]
    assert runs[1]["checks"] == 2 * len(CASE_CHECKS) + 3 and runs[0]["engine"] == "torch"
    assert len(earlier_runs(tmp_path / "now", "2026-06-01T00:00:00", limit=2)) == 2


def test_trend_compares_with_the_last_run_of_the_same_engine(tmp_path):
    run_folder(tmp_path, "a", 1, "2026-01-01T00:00:00")
    run_folder(tmp_path, "b", 4, "2026-01-02T00:00:00")
    run_folder(tmp_path, "c", 0, "2026-01-03T00:00:00", engine="torch")
    paths = run_folder(tmp_path, "now", 2, "2026-01-04T00:00:00")
    html = paths["html"].read_text()
    page = Page(html)
    assert page.find("p", id="trend", data_trend="down")
    text = " ".join(html.split())
    assert 'went <span class="trend-down">down by 2</span> (4 → 2) since run <span class="mono">b</span>' in text
    rows = [a["data-run"] for a in page.find("tr") if "data-run" in a]
    assert rows == ["now", "c", "b", "a"]
    frame = records_to_frame([rec("mul", "vjp-fd", "engine-bug", example=e) for e in range(6)])
    up = history(tmp_path / "next", frame, {"engine": "reference", "started": "2026-01-05"})
    assert (up["trend"], up["delta"], up["previous"]["run_id"]) == ("up", 4, "now")


def test_no_history_without_earlier_runs(tmp_path):
    paths = run_folder(tmp_path, "only", 1, "2026-01-01T00:00:00")
    assert 'id="history"' not in paths["html"].read_text()
    assert history(None, records_to_frame([]), {}) is None
    assert earlier_runs(tmp_path / "missing-parent" / "run") == []


# --- the command ---------------------------------------------------------------------------------


def test_report_rerenders_html_from_the_csv(tmp_path, capsys):
    run_folder(tmp_path, "before", 0, "2026-01-01T00:00:00")
    paths = run_folder(tmp_path, "run", 2, "2026-01-02T00:00:00")
    written = paths["html"].read_text()
    paths["html"].unlink()
    assert cli.main(["report", str(tmp_path / "run")]) == 0
    assert paths["html"].read_text() == written  # the same page as the run wrote, history included
    assert capsys.readouterr().out.strip() == f"html: {paths['html']}"
    assert cli.main(["report", str(paths["csv"]), "--out", str(tmp_path / "copy.html")]) == 0  # a CSV path works too
    assert (tmp_path / "copy.html").read_text() == written


def test_report_writes_junit_and_all(tmp_path):
    paths = run_folder(tmp_path, "run", 2, "2026-01-02T00:00:00")
    assert cli.main(["report", str(tmp_path / "run"), "--format", "junit"]) == 0
    root = ET.parse(tmp_path / "run" / "junit.xml").getroot()
    assert root.get("failures") == "1" and "gradcheck-suite replay id0" in root.find(".//failure").text
    out = tmp_path / "ci"
    assert cli.main(["report", str(tmp_path / "run"), "--format", "all", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html"]
    assert read_meta(paths["meta"])["run_id"] == "run"  # the run's own files are untouched
    assert cli.main(["report", str(tmp_path / "run"), "--format", "junit", "--out", str(tmp_path)]) == 0
    assert ET.parse(tmp_path / "junit.xml").getroot().get("tests") == root.get("tests")  # an existing folder


def test_missing_meta_still_renders_and_says_so(tmp_path, capsys):
    paths = run_folder(tmp_path, "run", 1, "2026-01-02T00:00:00")
    paths["meta"].unlink()
    assert cli.main(["report", str(tmp_path / "run")]) == 0
    html = paths["html"].read_text()
    assert Page(html).find("div", id="notes") and "meta.json was not found" in html
    assert "No run metadata was recorded." in html
    paths["meta"].write_text("{broken")
    assert cli.main(["report", str(tmp_path / "run")]) == 0
    assert "meta.json is not readable as JSON" in capsys.readouterr().err
    assert "is not readable as JSON" in paths["html"].read_text()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "does not exist"),
        (lambda d: d.mkdir(), "results.csv does not exist"),
        (lambda d: (d.mkdir(), (d / "results.csv").write_text("run_id,op\nr,add\n")), "missing columns: engine"),
        (lambda d: (d.mkdir(), (d / "results.csv").write_bytes(bytes(range(256)) * 4)), "not readable as CSV"),
    ],
)
def test_bad_run_folders_are_usage_errors(tmp_path, capsys, setup, message):
    folder = tmp_path / "run"
    setup(folder)
    assert cli.main(["report", str(folder)]) == cli.EXIT_USAGE == 2
    err = capsys.readouterr().err
    assert err.startswith("gradcheck-suite: error: ") and message in err and "Traceback" not in err


def test_unwritable_output_is_a_usage_error(tmp_path, capsys):
    run_folder(tmp_path, "run", 0, "2026-01-02T00:00:00")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["report", str(tmp_path / "run"), "--out", str(blocker / "x.html")]) == 2
    assert "cannot write the report" in capsys.readouterr().err


def test_a_real_run_renders_and_its_meta_keys_are_documented(tmp_path, capsys):
    args = ["run", "--ops", "relu,add", "--dtypes", "float64", "--examples", "2", "--programs", "0", "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path), "--name", "real"]) == 0
    folder = tmp_path / "real"
    meta = read_meta(folder / "meta.json")
    undocumented = sorted(set(meta) - set(META_KEYS))
    assert not undocumented, f"document these meta.json keys in report/schema.py META_KEYS: {undocumented}"
    before = (folder / "report.html").read_text()
    assert cli.main(["report", str(folder), "--format", "all"]) == 0
    assert (folder / "report.html").read_text() == before
    assert ET.parse(folder / "junit.xml").getroot().get("failures") == "0"
    assert render_html(records_to_frame([]), meta)  # the run's meta renders on its own


# --- known discrepancies on re-render ------------------------------------------------------------------

KNOWN_MUL = '[[known]]\nop = "mul"\ncheck = "vjp-fd"\ndtype = "float32"\nverdict = "engine-bug"\nreason = "accepted"\n'


def test_report_applies_a_known_file_given_or_named_by_meta(tmp_path, capsys):
    known = tmp_path / "known.toml"
    known.write_text(KNOWN_MUL)
    paths = run_folder(tmp_path, "run", 2, "2026-01-02T00:00:00")
    assert Page(paths["html"].read_text()).find("div", id="status", data_status="fail")
    assert cli.main(["report", str(tmp_path / "run"), "--format", "all", "--known", str(known)]) == 0
    page = Page(paths["html"].read_text())
    assert page.find("div", id="status", data_status="pass") and len(page.find("span", "known-mark")) == 2
    assert ET.parse(tmp_path / "run" / "junit.xml").getroot().get("failures") == "0"
    # a run that recorded its file: the re-render applies it without being told
    named = run_folder(tmp_path, "named", 2, "2026-01-03T00:00:00", known_file=str(known))
    assert Page(named["html"].read_text()).find("div", id="status", data_status="pass")
    assert cli.main(["report", str(tmp_path / "named")]) == 0
    assert Page(named["html"].read_text()).find("div", id="status", data_status="pass")
    capsys.readouterr()
    known.unlink()  # gone by the time of the re-render: a warning and a note, not a failure
    assert cli.main(["report", str(tmp_path / "named")]) == 0
    assert "warning: " in capsys.readouterr().err and "known.toml" in named["html"].read_text()
    assert Page(named["html"].read_text()).find("div", id="status", data_status="fail")


def test_an_unreadable_explicit_known_file_is_a_usage_error(tmp_path, capsys):
    run_folder(tmp_path, "run", 1, "2026-01-02T00:00:00")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[known]]\nop = 'mul'\n")
    for path in (bad, tmp_path / "missing.toml"):
        assert cli.main(["report", str(tmp_path / "run"), "--known", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("gradcheck-suite: error: ") and path.name in err and "warning" not in err


# --- a campaign rebuilt from its journal ---------------------------------------------------------------


@pytest.fixture
def killed_campaign(tmp_path, monkeypatch):
    """A campaign folder with a journal but no results.csv; the journal's format is the campaign's
    business, so its records are given directly."""
    from gradcheck_suite.campaign.journal import Journal

    folder = tmp_path / "campaign"
    folder.mkdir()
    (folder / "records.jsonl").write_text("")
    rows = [rec("add", "forward", example=e) for e in range(3)] + [rec("mul", "vjp-fd", "engine-bug")]
    monkeypatch.setattr(Journal, "records", lambda self: list(rows))
    return folder


def test_a_rebuilt_campaign_writes_its_csv_beside_the_chosen_output(killed_campaign, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["report", str(killed_campaign), "--out", str(out / "page.html")]) == 0
    assert sorted(p.name for p in killed_campaign.iterdir()) == ["records.jsonl"]  # the run folder untouched
    assert sorted(p.name for p in out.iterdir()) == ["page.html"]  # --out names a file: no CSV beside it
    assert "not written" in capsys.readouterr().err
    assert cli.main(["report", str(killed_campaign), "--format", "all", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "page.html", "report.html", "results.csv"]
    assert len(read_csv(out / "results.csv")) == 4
    assert sorted(p.name for p in killed_campaign.iterdir()) == ["records.jsonl"]
    assert cli.main(["report", str(killed_campaign)]) == 0  # no --out: into the run folder, as before
    assert (killed_campaign / "results.csv").exists()


def test_a_rebuilt_csv_that_cannot_be_written_is_a_usage_error(killed_campaign, monkeypatch, capsys):
    from gradcheck_suite import report

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "write_csv", full)
    assert cli.main(["report", str(killed_campaign)]) == 2
    err = capsys.readouterr().err
    assert "cannot write the rebuilt" in err and "No space left" in err and "Traceback" not in err


# --- history of deterministic and differing runs ---------------------------------------------------


def test_history_names_runs_by_folder_and_flags_runs_that_checked_different_things(tmp_path):
    same = {"run_id": "deterministic-s0", "ops": ["add", "mul"], "examples": 5}
    run_folder(tmp_path, "monday", 1, "2026-01-01T00:00:00", **same)
    paths = run_folder(tmp_path, "tuesday", 1, "2026-01-02T00:00:00", **same)
    html = paths["html"].read_text()
    page = Page(html)
    assert [a["data-run"] for a in page.find("tr") if "data-run" in a] == ["tuesday", "monday"]
    assert "run id deterministic-s0" in html and not page.find("span", id="not-comparable")
    paths = run_folder(tmp_path, "wednesday", 3, "2026-01-03T00:00:00", **{**same, "examples": 50})
    html = " ".join(paths["html"].read_text().split())
    assert Page(html).find("p", id="trend", data_comparable="false")
    assert "Not comparable:</b> the runs checked different things (examples 5 → 50)" in html
    assert 'since run <span class="mono">tuesday</span>' in html


def test_history_counts_checks_weighted_by_count(tmp_path):
    folded = rec("add", "forward", example=-2, count=500)
    write_reports([folded, rec("mul", "vjp-fd", "engine-bug")], {**META, "started": "2026-01-01"}, tmp_path / "a")
    (run,) = earlier_runs(tmp_path / "b", "2026-06-01")
    assert (run["checks"], run["failing"]) == (501, 1)
