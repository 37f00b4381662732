"""JUnit XML of a results frame: suites per engine, testcases per (op, dtype, check), valid XML."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from test_report import EVIL, META, NASTY, nasty_frame, rec, two_engines

from gradcheck_suite.records import CASE_CHECKS
from gradcheck_suite.report import records_to_frame, render_junit, write_junit
from gradcheck_suite.report.junit import MAX_LISTED, xml_text


def parse(frame, meta=META) -> ET.Element:
    return ET.fromstring(render_junit(frame, meta).encode("utf-8"))


@pytest.fixture
def rows():
    out = []
    for example in range(3):
        for check in CASE_CHECKS:
            out.append(rec("add", check, example=example))
            bad = check == "vjp-fd" and example < 2
            out.append(
                rec("mul", check, "engine-bug" if bad else "pass", example=example, score=12.5 if bad else 0.1,
                    rule="torch and fd agree", detail=f"worst at [0] e=1 torch=2 fd=2 #{example}",
                    replay_id=f"mul-float32-00000000000{example}" if bad else "")
            )  # fmt: skip
            out.append(rec("relu", check, "convention" if check == "vjp-torch" else "pass", example=example))
    out += [rec("exp", "jvp-torch", "unsupported", example=e) for e in range(2)]
    return out


def test_one_testcase_per_op_dtype_and_check(rows):
    root = parse(records_to_frame(rows))
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "gradcheck-suite.reference"
    cases = suite.findall("testcase")
    assert len(cases) == 3 * len(CASE_CHECKS) + 1
    assert {(c.get("classname"), c.get("name")) for c in cases} >= {("reference.mul", "vjp-fd[float32]")}
    assert [suite.get(k) for k in ("tests", "failures", "skipped", "errors")] == ["22", "1", "1", "0"]
    assert root.get("tests") == "22" and root.get("failures") == "1"


def test_a_failure_lists_its_rows_with_rule_detail_and_replay(rows):
    root = parse(records_to_frame(rows))
    failing = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failing] == [("reference.mul", "vjp-fd[float32]")]
    failure = failing[0].find("failure")
    assert failure.get("type") == "engine-bug"
    assert failure.get("message") == "2 of 3 vjp-fd checks of mul (float32) failed: engine-bug 2"
    text = failure.text
    assert text.count("engine-bug — torch and fd agree") == 2
    assert "gradcheck-suite replay mul-float32-000000000000" in text and "#1" in text
    assert "error 1e-9 against budget 1e-5 (score 12.5" in text


def test_informational_rows_are_not_failures(rows):
    root = parse(records_to_frame(rows))
    relu = next(
        c for c in root.iter("testcase") if c.get("name") == "vjp-torch[float32]" and "relu" in c.get("classname")
    )
    assert relu.find("failure") is None
    assert relu.find("system-out").text.startswith("not failures:\nexample 0")
    assert "gradcheck-suite run --ops relu" in relu.find("system-out").text  # no replay id: the stream command
    skipped = [c for c in root.iter("testcase") if c.find("skipped") is not None]
    assert [c.get("classname") for c in skipped] == ["reference.exp"]


def test_long_listings_are_cut():
    many = [rec("mul", "vjp-fd", "engine-bug", example=i, score=float(i)) for i in range(MAX_LISTED + 5)]
    text = parse(records_to_frame(many)).find(".//failure").text
    assert text.count("engine-bug —") == MAX_LISTED and text.endswith("... and 5 more in results.csv")
    assert text.startswith(f"example {MAX_LISTED + 4} ")  # worst (highest score) first
    assert "example 0 " not in text


def test_one_suite_per_engine(rows):
    root = parse(records_to_frame(two_engines(rows, fixed="mul")))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["gradcheck-suite.reference", "gradcheck-suite.other"]
    assert [s.get("failures") for s in suites] == ["1", "0"]
    assert all(c.get("classname").startswith("other.") for c in suites[1].findall("testcase"))


def test_properties_time_and_interruption(rows):
    frame = records_to_frame(rows).assign(duration_ms=2.0)
    meta = {
        **META,
        "interrupted": True,
        "hypothesis_settings": {"derandomize": False},
        "started": "2026-01-01T00:00:00",
    }
    root = parse(frame, meta)
    suite = root.find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["dtypes"] == "float32, float64" and props["hypothesis_settings"] == '{"derandomize": false}'
    assert suite.get("timestamp") == "2026-01-01T00:00:00"
    assert math.isclose(float(suite.get("time")), len(frame) * 2.0 / 1000)
    error = suite.find("testcase/error")
    assert error is not None and error.get("type") == "interrupted" and suite.get("errors") == "1"
    assert root.get("errors") == "1"


def test_empty_and_untimed_frames_are_valid(tmp_path):
    root = parse(records_to_frame([]), {})
    assert root.get("tests") == "0" and [s.get("name") for s in root] == ["gradcheck-suite.unknown"]
    write_junit(records_to_frame([rec("add", "forward")]), {}, tmp_path / "j.xml")
    assert ET.parse(tmp_path / "j.xml").getroot().find("testsuite/testcase").get("time") == "0"


def test_markup_and_control_characters_stay_text():
    frame = nasty_frame()
    frame["detail"] = f"bad\x00char\x1b[31m {EVIL} \ud800 tab\tok"
    xml = render_junit(frame, {"engine": NASTY, "run_id": "\x07"})
    root = ET.fromstring(xml.encode("utf-8", "surrogatepass"))  # parses: nothing XML 1.0 forbids is left
    failure_text = "".join(f.text for f in root.iter("failure"))
    assert EVIL in failure_text  # markup is text, escaped in the file
    assert "bad\\x00char\\x1b[31m" in failure_text and "\\ud800" in failure_text and "tab\tok" in failure_text
    assert EVIL not in xml
    assert {p.get("value") for p in root.iter("property") if p.get("name") == "run_id"} == {"\\x07"}


def test_xml_text_keeps_allowed_characters():
    assert xml_text("a\tb\nc\rd ✓ 𝜕") == "a\tb\nc\rd ✓ 𝜕"
    assert xml_text("\x00\x0b\ufffe") == "\\x00\\x0b\\ufffe"


# --- known discrepancies, folded rows, engine specs ---------------------------------------------------

KNOWN_MUL = """
[[known]]
op = "mul"
check = "vjp-fd"
dtype = "float32"
verdict = "engine-bug"
reason = "mul's backward is off; tracked in #7"
"""


def test_a_group_whose_failures_are_all_known_is_skipped_as_known(rows, tmp_path):
    path = tmp_path / "known.toml"
    path.write_text(KNOWN_MUL)
    root = parse(records_to_frame(rows), {**META, "known_file": str(path)})
    assert root.get("failures") == "0" and root.get("skipped") == "2"
    mul = next(
        c for c in root.iter("testcase") if c.get("classname") == "reference.mul" and c.get("name") == "vjp-fd[float32]"
    )
    skipped = mul.find("skipped")
    assert (skipped.get("type"), skipped.get("message")) == (
        "known",
        "known: entry 1: mul's backward is off; tracked in #7",
    )
    assert mul.find("failure") is None
    out = mul.find("system-out").text
    assert out.startswith("known discrepancies (2 failing checks):") and "  known: entry 1: mul's" in out
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["known_file"] == str(path)


def test_new_failures_still_fail_beside_known_ones(rows, tmp_path):
    path = tmp_path / "known.toml"
    path.write_text(KNOWN_MUL.replace('verdict = "engine-bug"', 'verdict = "non-finite"'))
    extra = rec("mul", "vjp-fd", "non-finite", example=9, replay_id="mul-float32-000000000009")
    root = ET.fromstring(render_junit(records_to_frame([*rows, extra]), META, known=path).encode())
    failure = root.find(".//failure")
    assert failure.get("message") == "2 of 4 vjp-fd checks of mul (float32) failed: engine-bug 2 (1 more known)"
    assert "mul-float32-000000000009" not in failure.text  # the known row is listed apart
    assert root.get("failures") == "1"


def test_counts_and_times_are_weighted_by_count(rows):
    fold = rec("mul", "vjp-fd", example=-2, count=50, duration_ms=2.0)
    frame = records_to_frame([*rows, fold]).assign(duration_ms=lambda f: f["duration_ms"].fillna(1.0))
    root = parse(frame)
    failure = root.find(".//failure")
    assert failure.get("message") == "2 of 53 vjp-fd checks of mul (float32) failed: engine-bug 2"
    mul = next(
        c for c in root.iter("testcase") if c.get("classname") == "reference.mul" and c.get("name") == "vjp-fd[float32]"
    )
    assert math.isclose(float(mul.get("time")), (3 + 50 * 2.0) / 1000)
    assert math.isclose(float(root.get("time")), (len(rows) + 50 * 2.0) / 1000)


def test_stream_commands_name_the_engine_as_it_was_given(rows):
    other = [rec(r.op, r.check, r.verdict, example=r.example, engine="mine") for r in rows]
    meta = {**META, "engine_specs": {"mine": "my_pkg.adapter:Engine"}}
    root = parse(records_to_frame(other), meta)
    relu = next(
        c for c in root.iter("testcase") if c.get("name") == "vjp-torch[float32]" and "relu" in c.get("classname")
    )
    assert "gradcheck-suite run --ops relu --dtypes float32 --seed 123 --examples 5 --engine my_pkg.adapter:Engine" in (
        relu.find("system-out").text
    )


def test_a_semantics_row_with_malformed_kwargs_is_described():
    row = rec("program", "semantics", "semantics-mismatch", dtype="mixed", kwargs="{oops")
    failure = parse(records_to_frame([row])).find(".//failure")
    assert "replay: gradcheck-suite run --ops program --seed 123 --examples 0 --programs N" in failure.text


def test_campaign_rows_are_named_for_what_they_are(rows):
    rechecked = rec("mul", "vjp-fd", "engine-bug", example=-1, score=99.0)
    text = parse(records_to_frame([*rows, rechecked]), {**META, "mode": "fuzz"}).find(".//failure").text
    assert text.startswith("stored failure, re-checked (float32")
    assert "replay: no stored case" in text and "gradcheck-suite run" not in text
