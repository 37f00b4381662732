"""The self-contained HTML report: pandas does the grouping, a jinja2 template the markup.

Every string from data reaches the page through jinja2's autoescaping or, inside the SVG
plots, through xml.etree; nothing loads from the network (no scripts, fonts or images).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from gradcheck_suite.records import CHECKS, COLUMNS, FAILING, VERDICTS
from gradcheck_suite.report import findings, known_marks, plots, summary
from gradcheck_suite.report.formatting import anchor, css_name, element_text, fmt_num, rank, tone
from gradcheck_suite.report.history import history as run_history
from gradcheck_suite.report.known_marks import KnownArg, KnownFile, KnownView
from gradcheck_suite.report.schema import META_GROUPS, META_KEYS, REQUIRED_META
from gradcheck_suite.report.tables import FILLED, LATER_DEFAULTS, atomic_write_text, ensure_frame

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


def elapsed_seconds(meta: dict) -> float | None:
    """How long the run took: meta's ``elapsed_s`` (a campaign's, over its resumptions) when
    present, else finished - started; None when neither is usable."""
    try:
        seconds = float(meta["elapsed_s"])
    except (KeyError, TypeError, ValueError):
        try:
            delta = _dt.datetime.fromisoformat(meta["finished"]) - _dt.datetime.fromisoformat(meta["started"])
        except (KeyError, TypeError, ValueError):  # missing, not ISO, or one aware and one naive
            return None
        seconds = delta.total_seconds()
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 7 s``, ``26 h 4 min``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _duration(meta: dict) -> str:
    seconds = elapsed_seconds(meta)
    return "" if seconds is None else format_duration(seconds)


def count_cases(frame: pd.DataFrame) -> int:
    """Cases checked. A case gives at most one row per check, so a stream (engine, op, dtype,
    seed) checked as many cases as its most frequent check has checks; this also counts a fuzz
    campaign's folded rows (``count`` checks each) and its re-checked stored failures (all
    example -1). `unsupported` rows are left out: an op the engine lacks has a placeholder row
    and no case ran."""
    rows = frame[frame["verdict"] != "unsupported"]
    if rows.empty:
        return 0
    per_check = rows.groupby(["engine", "op", "dtype", "seed", "check"], sort=False)["count"].sum()
    return int(per_check.groupby(level=[0, 1, 2, 3], sort=False).max().sum())


def _older_file_note(frame: pd.DataFrame) -> list[str]:
    filled = frame.attrs.get(FILLED) or []
    if not filled:
        return []
    defaults = ", ".join(f"{name} = {LATER_DEFAULTS[name]!r}" for name in filled if name in LATER_DEFAULTS)
    return [
        f"Older results file: it has no column {', '.join(filled)} (added in later versions); "
        f"the report takes {defaults} for every row."
    ]


def _known_context(view: KnownView | None, meta: dict) -> dict | None:
    """The known-discrepancies part of the page: the file, its counts and stale entries; or the
    counts the run recorded when the file could not be applied; None when the run had no file."""
    recorded = None
    if "new_failures" in meta and "known_failures" in meta:
        recorded = {"new": meta["new_failures"], "known": meta["known_failures"]}
    if view is None:
        return {"applied": False, "file": "", "stale": [], "recorded": recorded} if recorded else None
    return {
        "applied": view.applied,
        "file": view.path,
        "new": view.new,
        "known": view.known,
        "stale": view.stale,
        "recorded": recorded,
    }


def build_context(
    frame: pd.DataFrame,
    meta: dict,
    history: dict | None = None,
    notes: list[str] | tuple[str, ...] = (),
    known: KnownArg = None,
) -> dict[str, Any]:
    return _context(ensure_frame(frame), meta, history, notes, known_marks.resolve(meta, known))


def _context(
    frame: pd.DataFrame, meta: dict, history: dict | None, notes: list[str] | tuple[str, ...], known: KnownFile | None
) -> dict:
    view = known_marks.apply(frame, meta, known)
    covered = pd.Index(list(view.entries) if view is not None else [])
    weights = frame["count"]
    failing = int(weights[frame["verdict"].isin(FAILING)].sum())
    fuzz = meta.get("mode") == "fuzz"
    new = view.new if view is not None and view.applied else failing
    ops = summary.op_order(frame)
    engines = summary.engines_present(frame)
    checks = summary.checks_present(frame)
    non_pass_ops = set(frame.loc[frame["verdict"] != "pass", "op"])
    anchors = {op: anchor(i, op) for i, op in enumerate(ops) if op in non_pass_ops}
    matrix = summary.matrix(frame, ops, engines, checks, anchors, covered)
    by_verdict = summary.verdict_counts(frame)
    engine_text = str(meta.get("engine") or ", ".join(engines) or "unknown engine")
    marks = {label: view.mark(label) for label in covered} if view is not None else {}
    page_notes = [*notes, *_older_file_note(frame)]
    if view is not None and view.error:
        page_notes.append(f"Known discrepancies not applied: {view.error}. No failing row is marked known.")
    return {
        "title": f"gradcheck-suite report — {engine_text}",
        "engine": engine_text,
        "engines": engines,
        "several_engines": len(engines) > 1,
        "engine_totals": summary.engine_totals(frame, engines, covered),
        "differing_ops": [g["op"] for g in matrix if g["differs"]],
        "support_ops": [g["op"] for g in matrix if g["support_differs"]],
        "run_id": str(meta.get("run_id") or ", ".join(sorted(set(frame["run_id"])))),
        "status": "empty" if frame.empty else "fail" if new else "pass",
        "failing": new,
        "known_checks": failing - new,
        "interrupted": bool(meta.get("interrupted")),
        "known": _known_context(view, meta),
        "notes": page_notes,
        "counts": {
            # A campaign counts its cases as it runs (folded rows hide some of them from the frame).
            "cases": meta["cases"] if fuzz and isinstance(meta.get("cases"), int) else count_cases(frame),
            "checks": int(weights.sum()),
            "ops": int(frame["op"].nunique()),
            "dtypes": ", ".join(sorted(set(frame["dtype"]))) or "—",
            "duration": _duration(meta),
        },
        "by_verdict": [(v, by_verdict[v], tone(v)) for v in sorted(by_verdict, key=rank)],
        "checks": [(c, CHECKS.get(c, "")) for c in checks],
        "matrix": matrix,
        "sections": findings.sections(frame, ops, anchors, findings.Options.from_meta(meta, marks)),
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
    known: KnownArg = None,
) -> str:
    """The report page. With `run_dir`, earlier runs in its parent folder make a history section
    (an explicit `history` wins); `notes` are shown under the header (e.g. "meta.json missing").
    `known`: a known-discrepancies file (a path, a loaded known.Known, or known_marks.load's result)
    to apply instead of the one meta.json names (``known_file``); failing rows it covers do not
    fail the page."""
    frame = ensure_frame(frame)
    if history is None and run_dir is not None:
        history = run_history(run_dir, frame, meta)
    context = _context(frame, meta, history, notes, known_marks.resolve(meta, known))
    return _ENV.get_template("report.html").render(**context)


def write_html(frame: pd.DataFrame, meta: dict, path: Path, **options: Any) -> None:
    atomic_write_text(path, render_html(frame, meta, **options))
