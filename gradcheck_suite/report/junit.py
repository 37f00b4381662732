"""JUnit XML for CI dashboards: one <testsuite> per engine, one <testcase> per (op, dtype, check).

A testcase fails when one of its rows has a failing verdict; the <failure> text lists those
rows (verdict, rule, detail, error against budget, replay command). Informational verdicts
do not fail: they are listed in <system-out>. A group whose every row is `unsupported` is
<skipped>.

With a known-discrepancies file (meta.json's ``known_file``, or one given), failing rows an
entry covers are not failures: a testcase whose failing rows are all known is <skipped
type="known" message="known: entry N: reason">, the way pytest writes an xfail, so dashboards
show it apart from both passes and failures; the known rows are listed in <system-out>. A
testcase with new failing rows fails on those alone.

Counts and times are of checks: a fuzz campaign's folded row counts ``count`` times (its
``duration_ms`` is their mean). xml.etree escapes markup; characters XML 1.0 cannot hold at
all (most control characters) are written as visible escapes first.
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
from gradcheck_suite.report import known_marks
from gradcheck_suite.report.findings import Options, case_command
from gradcheck_suite.report.formatting import case_label, fmt_num, rank
from gradcheck_suite.report.known_marks import KnownArg
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


def _seconds(rows: pd.DataFrame) -> str:
    """Total time of the rows' checks: duration_ms times count (a folded row holds the mean)."""
    total = float((rows["duration_ms"] * rows["count"]).sum(min_count=1)) / 1000
    return f"{total:.3f}" if math.isfinite(total) else "0"


def describe(row: dict[str, Any], examples: Any, options: Options | None = None) -> str:
    """One row as a few lines of plain text."""
    options = options or Options(examples)
    label = case_label(row)
    case = f"example {row['example']}" if label.startswith("#") else label
    replay = case_command(row, options.examples, options.specs, options.fuzz) or "no stored case"
    lines = [
        f"{case} ({row['dtype']}, shapes {row['shapes']}, kwargs {row['kwargs']}): {row['verdict']} — {row['rule']}",
        f"  detail: {row['detail']}",
        f"  error {fmt_num(row['max_abs_err'])} against budget {fmt_num(row['tolerance'])} "
        f"(score {fmt_num(row['score'])}, relative error {fmt_num(row['max_rel_err'])})",
        f"  replay: {replay}",
    ]
    if row.get("_known"):
        lines.append(f"  known: {row['_known']}")
    return "\n".join(lines)


def _worst_first(rows: list[dict]) -> list[dict]:
    """Failing before informational verdicts, then by score, highest (or unknown) first."""

    def key(row: dict) -> tuple[int, float]:
        score = row["score"]
        return rank(row["verdict"]), -(math.inf if math.isnan(score) else score)

    return sorted(rows, key=key)


def _listing(rows: list[dict], options: Options) -> str:
    text = "\n".join(describe(r, options.examples, options) for r in _worst_first(rows)[:MAX_LISTED])
    if len(rows) > MAX_LISTED:
        text += f"\n... and {len(rows) - MAX_LISTED} more in results.csv"
    return text


def _testcase(suite: ET.Element, key: tuple, stats: dict, non_pass: list[dict], options: Options) -> str:
    """Add one testcase; return its outcome: failure, skipped or pass."""
    engine, op, dtype, check = key
    case = _el(suite, "testcase", classname=f"{engine}.{op}", name=f"{check}[{dtype}]", time=stats["time"])
    failing = [r for r in non_pass if r["verdict"] in FAILING and not r["_known"]]
    known = [r for r in non_pass if r["verdict"] in FAILING and r["_known"]]
    other = [r for r in non_pass if r["verdict"] not in FAILING]
    outcome = "pass"
    if failing:
        counts = Counter(r["verdict"] for r in failing)
        summary = ", ".join(f"{v} {n}" for v, n in counts.most_common())
        also = f" ({len(known)} more known)" if known else ""
        message = f"{len(failing)} of {stats['rows']} {check} checks of {op} ({dtype}) failed: {summary}{also}"
        _el(case, "failure", _listing(failing, options), message=message, type=counts.most_common(1)[0][0])
        outcome = "failure"
    elif known:
        reasons = "; ".join(dict.fromkeys(r["_known"] for r in known))
        _el(case, "skipped", message=f"known: {reasons}", type="known")
        outcome = "skipped"
    elif _skip(case, stats, op, check):
        outcome = "skipped"
    out = []
    if known:
        out.append(f"known discrepancies ({len(known)} failing checks):\n" + _listing(known, options))
    if other:
        out.append("not failures:\n" + _listing(other, options))
    if out:
        _el(case, "system-out", "\n\n".join(out))
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
    """(engine, op, dtype, check) -> checks, unsupported checks, time: one groupby for the whole frame."""
    keys = ["engine", "op", "dtype", "check"]
    weights = frame["count"]
    table = frame.assign(
        _unsupported=(frame["verdict"] == "unsupported") * weights, _ms=frame["duration_ms"] * weights
    ).groupby(keys, sort=True)
    agg = table.agg(
        rows=("count", "sum"),
        unsupported=("_unsupported", "sum"),
        ms=("_ms", "sum"),
        timed=("duration_ms", "count"),
    )
    return {
        key: {"rows": int(r.rows), "unsupported": int(r.unsupported), "time": f"{r.ms / 1000:.3f}" if r.timed else "0"}
        for key, r in zip(agg.index, agg.itertuples(), strict=True)
    }


def build(frame: pd.DataFrame, meta: dict, known: KnownArg = None) -> ET.Element:
    """The XML tree; `known` as for html.render_html (default: the file meta.json names)."""
    frame = ensure_frame(frame)
    view = known_marks.apply(frame, meta, known_marks.resolve(meta, known))
    marks = {label: view.mark(label) for label in view.entries} if view is not None else {}
    options = Options.from_meta(meta, marks)
    stats = _group_stats(frame)
    keys = ["engine", "op", "dtype", "check"]
    non_pass: dict[tuple, list[dict]] = defaultdict(list)
    # One to_dict for all non-pass rows: per-group frames would cost milliseconds each.
    rows = frame[frame["verdict"] != "pass"]
    for label, row in zip(rows.index, rows.to_dict("records")):
        row["_known"] = marks.get(label, "")
        non_pass[tuple(row[k] for k in keys)].append(row)
    if view is not None and view.applied:  # the file applied here, which may not be the one meta names
        meta = {**meta, "known_file": view.path, "stale_known": view.stale}
    interrupted = bool(meta.get("interrupted"))
    root = ET.Element("testsuites", {"name": "gradcheck-suite"})
    engines = list(dict.fromkeys(frame["engine"])) or [str(meta.get("engine") or "unknown")]
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for engine in engines:
        suite = _el(root, "testsuite", name=f"gradcheck-suite.{engine}", timestamp=meta.get("started", ""),
                    time=_seconds(frame[frame["engine"] == engine]))  # fmt: skip
        _properties(suite, meta)
        outcomes = [
            _testcase(suite, key, group, non_pass.get(key, []), options)
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
    root.set("time", _seconds(frame))
    return root


def render_junit(frame: pd.DataFrame, meta: dict, known: KnownArg = None) -> str:
    root = build(frame, meta, known)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(frame: pd.DataFrame, meta: dict, path: Path, known: KnownArg = None) -> None:
    """Write JUnit XML of a results frame (e.g. read_csv of a results.csv) to path, atomically."""
    atomic_write_text(Path(path), render_junit(frame, meta, known))
