"""The self-contained HTML report: pandas does the grouping, a jinja2 template the markup.

Every string from data reaches the page through jinja2's autoescaping or, inside the SVG
plots, through xml.etree; nothing loads from the network (no scripts, fonts or images).
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from gradcheck_suite.records import CHECKS, COLUMNS, FAILING, VERDICTS
from gradcheck_suite.report import findings, plots, summary
from gradcheck_suite.report.formatting import anchor, css_name, element_text, fmt_num, rank, tone
from gradcheck_suite.report.history import history as run_history
from gradcheck_suite.report.schema import META_GROUPS, META_KEYS, REQUIRED_META
from gradcheck_suite.report.tables import atomic_write_text, ensure_frame

__all__ = ["build_context", "fmt_num", "render_html", "write_html"]

MAX_ROWS_PER_OP = findings.MAX_ROWS_PER_OP

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # every data string is escaped, whatever the template author forgets
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["css"] = css_name
_ENV.filters["text"] = element_text


def _meta_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def meta_groups(meta: dict) -> list[tuple[str, list[tuple[str, str, str, bool]]]]:
    """(group, [(key, value, meaning, missing)]) in META_KEYS order, unknown keys under "other";
    a key the issue requires but the run did not record shows as missing."""
    grouped: dict[str, list[tuple[str, str, str, bool]]] = {g: [] for g in META_GROUPS}
    for key, (group, meaning) in META_KEYS.items():
        if key in meta:
            grouped[group].append((key, _meta_value(meta[key]), meaning, False))
        elif key in REQUIRED_META and meta:
            grouped[group].append((key, "not recorded", meaning, True))
    for key in sorted(k for k in meta if k not in META_KEYS):
        grouped["other"].append((str(key), _meta_value(meta[key]), "", False))
    return [(group, rows) for group, rows in grouped.items() if rows]


def _duration(meta: dict) -> str:
    try:
        seconds = (_dt.datetime.fromisoformat(meta["finished"]) - _dt.datetime.fromisoformat(meta["started"])).seconds
    except (KeyError, TypeError, ValueError):
        return ""
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def build_context(
    frame: pd.DataFrame, meta: dict, history: dict | None = None, notes: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    return _context(ensure_frame(frame), meta, history, notes)


def _context(frame: pd.DataFrame, meta: dict, history: dict | None, notes: list[str] | tuple[str, ...]) -> dict:
    failing = frame["verdict"].isin(FAILING)
    ops = summary.op_order(frame)
    engines = summary.engines_present(frame)
    checks = summary.checks_present(frame)
    non_pass_ops = set(frame.loc[frame["verdict"] != "pass", "op"])
    anchors = {op: anchor(i, op) for i, op in enumerate(ops) if op in non_pass_ops}
    matrix = summary.matrix(frame, ops, engines, checks, anchors)
    by_verdict = frame["verdict"].value_counts()
    engine_text = str(meta.get("engine") or ", ".join(engines) or "unknown engine")
    return {
        "title": f"gradcheck-suite report — {engine_text}",
        "engine": engine_text,
        "engines": engines,
        "several_engines": len(engines) > 1,
        "engine_totals": summary.engine_totals(frame, engines),
        "differing_ops": [g["op"] for g in matrix if g["differs"]],
        "run_id": str(meta.get("run_id") or ", ".join(sorted(set(frame["run_id"])))),
        "status": "empty" if frame.empty else "fail" if failing.any() else "pass",
        "failing": int(failing.sum()),
        "interrupted": bool(meta.get("interrupted")),
        "known": {"new": meta["new_failures"], "known": meta["known_failures"]}
        if "new_failures" in meta and "known_failures" in meta
        else None,
        "notes": list(notes),
        "counts": {
            "cases": len(frame[["engine", "op", "dtype", "seed", "example"]].drop_duplicates()),
            "checks": len(frame),
            "ops": int(frame["op"].nunique()),
            "dtypes": ", ".join(sorted(set(frame["dtype"]))) or "—",
            "duration": _duration(meta),
        },
        "by_verdict": [(v, int(by_verdict[v]), tone(v)) for v in sorted(by_verdict.index, key=rank)],
        "checks": [(c, CHECKS.get(c, "")) for c in checks],
        "matrix": matrix,
        "sections": findings.sections(frame, ops, anchors, meta.get("examples"), meta.get("engine_specs") or {}),
        "max_rows": findings.MAX_ROWS_PER_OP,
        "max_other_rows": findings.MAX_OTHER_ROWS_PER_OP,
        "plots": {
            "budget": plots.error_vs_budget(frame),
            "relative": plots.relative_errors(frame, ops, engines),
            "max_points": plots.MAX_POINTS,
        },
        "history": history,
        "legend": [(v, fails, meaning, tone(v)) for v, (fails, meaning) in VERDICTS.items()],
        "columns": list(COLUMNS.items()),
        "meta": meta_groups(meta),
    }


def render_html(
    frame: pd.DataFrame,
    meta: dict,
    *,
    run_dir: Path | None = None,
    history: dict | None = None,
    notes: list[str] | tuple[str, ...] = (),
) -> str:
    """The report page. With `run_dir`, earlier runs in its parent folder make a history section
    (an explicit `history` wins); `notes` are shown under the header (e.g. "meta.json missing")."""
    frame = ensure_frame(frame)
    if history is None and run_dir is not None:
        history = run_history(run_dir, frame, meta)
    return _ENV.get_template("report.html").render(**_context(frame, meta, history, notes))


def write_html(frame: pd.DataFrame, meta: dict, path: Path, **options: Any) -> None:
    atomic_write_text(path, render_html(frame, meta, **options))
