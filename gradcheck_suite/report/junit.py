"""JUnit XML for CI dashboards: one <testsuite> per engine, one <testcase> per (op, dtype, check).

A testcase fails when one of its rows has a failing verdict; the <failure> text lists those
rows (verdict, rule, detail, error against budget, replay command). Informational verdicts
do not fail: they are listed in <system-out>. A group whose every row is `unsupported` is
<skipped>. xml.etree escapes markup; characters XML 1.0 cannot hold at all (most control
characters) are written as visible escapes first.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from gradcheck_suite.records import FAILING
from gradcheck_suite.report.findings import case_command
from gradcheck_suite.report.formatting import fmt_num, rank
from gradcheck_suite.report.tables import atomic_write_text, ensure_frame

MAX_LISTED = 20  # rows written out per testcase; the rest are counted
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: Any) -> str:
    """Text XML 1.0 can hold: disallowed characters (NUL, ESC, lone surrogates, ...) become \\xNN / \\uNNNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                        str(value))  # fmt: skip


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    child = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        child.text = xml_text(text)
    return child


def _seconds(durations: pd.Series) -> str:
    total = float(durations.sum(min_count=1)) / 1000
    return f"{total:.3f}" if math.isfinite(total) else "0"


def describe(row: dict[str, Any], examples: Any) -> str:
    """One row as a few lines of plain text."""
    lines = [
        f"example {row['example']} ({row['dtype']}, shapes {row['shapes']}, kwargs {row['kwargs']}): "
        f"{row['verdict']} — {row['rule']}",
        f"  detail: {row['detail']}",
        f"  error {fmt_num(row['max_abs_err'])} against budget {fmt_num(row['tolerance'])} "
        f"(score {fmt_num(row['score'])}, relative error {fmt_num(row['max_rel_err'])})",
        f"  replay: {case_command(row, examples)}",
    ]
    return "\n".join(lines)


def _worst_first(rows: list[dict]) -> list[dict]:
    """Failing before informational verdicts, then by score, highest (or unknown) first."""

    def key(row: dict) -> tuple[int, float]:
        score = row["score"]
        return rank(row["verdict"]), -(math.inf if math.isnan(score) else score)

    return sorted(rows, key=key)


def _listing(rows: list[dict], examples: Any) -> str:
    text = "\n".join(describe(r, examples) for r in _worst_first(rows)[:MAX_LISTED])
    if len(rows) > MAX_LISTED:
        text += f"\n... and {len(rows) - MAX_LISTED} more in results.csv"
    return text


def _testcase(suite: ET.Element, key: tuple, stats: dict, non_pass: list[dict], examples: Any) -> str:
    """Add one testcase; return its outcome: failure, skipped or pass."""
    engine, op, dtype, check = key
    case = _el(suite, "testcase", classname=f"{engine}.{op}", name=f"{check}[{dtype}]", time=stats["time"])
    failing = [r for r in non_pass if r["verdict"] in FAILING]
    other = [r for r in non_pass if r["verdict"] not in FAILING]
    outcome = "pass"
    if failing:
        counts = Counter(r["verdict"] for r in failing)
        summary = ", ".join(f"{v} {n}" for v, n in counts.most_common())
        message = f"{len(failing)} of {stats['rows']} {check} checks of {op} ({dtype}) failed: {summary}"
        _el(case, "failure", _listing(failing, examples), message=message, type=counts.most_common(1)[0][0])
        outcome = "failure"
    elif _skip(case, stats, op, check):
        outcome = "skipped"
    if other:
        _el(case, "system-out", "not failures:\n" + _listing(other, examples))
    return outcome


def _skip(case: ET.Element, stats: dict, op: str, check: str) -> bool:
    """Mark a group whose every row is `unsupported` as skipped."""
    if stats["unsupported"] < stats["rows"]:
        return False
    _el(case, "skipped", message=f"the engine does not support {check} of {op}")
    return True


def _properties(parent: ET.Element, meta: dict) -> None:
    if not meta:
        return
    properties = _el(parent, "properties")
    for key in sorted(meta):
        value = meta[key]
        if isinstance(value, (list, tuple)):
            text = ", ".join(map(str, value))
        else:
            text = json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict) else str(value)
        _el(properties, "property", name=key, value=text)


def _group_stats(frame: pd.DataFrame) -> dict[tuple, dict]:
    """(engine, op, dtype, check) -> rows, unsupported rows, time: one groupby for the whole frame."""
    keys = ["engine", "op", "dtype", "check"]
    table = frame.assign(_unsupported=frame["verdict"] == "unsupported").groupby(keys, sort=True)
    agg = table.agg(
        rows=("verdict", "size"),
        unsupported=("_unsupported", "sum"),
        ms=("duration_ms", "sum"),
        timed=("duration_ms", "count"),
    )
    return {
        key: {"rows": int(r.rows), "unsupported": int(r.unsupported), "time": f"{r.ms / 1000:.3f}" if r.timed else "0"}
        for key, r in zip(agg.index, agg.itertuples(), strict=True)
    }


def build(frame: pd.DataFrame, meta: dict) -> ET.Element:
    frame = ensure_frame(frame)
    examples = meta.get("examples")
    stats = _group_stats(frame)
    keys = ["engine", "op", "dtype", "check"]
    non_pass: dict[tuple, list[dict]] = defaultdict(list)
    # One to_dict for all non-pass rows: per-group frames would cost milliseconds each.
    for row in frame[frame["verdict"] != "pass"].to_dict("records"):
        non_pass[tuple(row[k] for k in keys)].append(row)
    interrupted = bool(meta.get("interrupted"))
    root = ET.Element("testsuites", {"name": "gradcheck-suite"})
    engines = list(dict.fromkeys(frame["engine"])) or [str(meta.get("engine") or "unknown")]
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for engine in engines:
        suite = _el(root, "testsuite", name=f"gradcheck-suite.{engine}", timestamp=meta.get("started", ""),
                    time=_seconds(frame.loc[frame["engine"] == engine, "duration_ms"]))  # fmt: skip
        _properties(suite, meta)
        outcomes = [
            _testcase(suite, key, group, non_pass.get(key, []), examples)
            for key, group in stats.items()
            if key[0] == engine
        ]
        if interrupted:
            run = _el(suite, "testcase", classname=f"{engine}.run", name="complete", time="0")
            _el(run, "error", "the run was interrupted; the suite holds the checks that completed",
                message="run interrupted", type="interrupted")  # fmt: skip
        counts = {
            "tests": len(outcomes) + interrupted,
            "failures": outcomes.count("failure"),
            "errors": int(interrupted),
            "skipped": outcomes.count("skipped"),
        }
        for name, n in counts.items():
            suite.set(name, str(n))
            totals[name] += n
    for name, n in totals.items():
        root.set(name, str(n))
    root.set("time", _seconds(frame["duration_ms"]))
    return root


def render_junit(frame: pd.DataFrame, meta: dict) -> str:
    root = build(frame, meta)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(frame: pd.DataFrame, meta: dict, path: Path) -> None:
    """Write JUnit XML of a results frame (e.g. read_csv of a results.csv) to path, atomically."""
    atomic_write_text(Path(path), render_junit(frame, meta))
