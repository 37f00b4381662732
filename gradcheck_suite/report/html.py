"""The self-contained HTML report: pandas does the grouping, a jinja2 template the markup."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from gradcheck_suite.records import CHECKS, COLUMNS, FAILING, VERDICTS, replay_command
from gradcheck_suite.report.tables import atomic_write_text, ensure_frame

# Informational verdicts get a colour of their own; failing ones are red, pass green.
TONES = {
    "torch-differs": "amber",
    "convention": "amber",
    "not-differentiable": "blue",
    "numerical-noise": "blue",
}
MAX_ROWS_PER_OP = 200  # beyond this the CSV is the place to look; keeps the page light
INPUTS_PREVIEW = 200
# Meta keys shown first, in this order; any others follow alphabetically.
META_ORDER = (
    "run_id",
    "engine",
    "command",
    "tool_version",
    "torch_version",
    "numpy_version",
    "python",
    "platform",
    "torch_threads",
    "seed",
    "examples",
    "dtypes",
    "ops",
    "started",
    "finished",
)

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # every data string is escaped, whatever the template author forgets
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Verdicts from a foreign CSV end up in class names; keep those to safe characters.
_ENV.filters["css"] = lambda name: re.sub(r"[^A-Za-z0-9_-]+", "_", str(name))


def tone(verdict: str) -> str:
    if verdict in FAILING:
        return "fail"
    return "pass" if verdict == "pass" else TONES.get(verdict, "amber")


def rank(verdict: str) -> int:
    """Lower is worse: failing, then informational, then pass; ties in VERDICTS order."""
    tier = 0 if verdict in FAILING else 2 if verdict == "pass" else 1
    order = list(VERDICTS).index(verdict) if verdict in VERDICTS else len(VERDICTS)
    return tier * 100 + order


def fmt_num(value: Any) -> str:
    """3 significant digits; scientific when tiny or huge; blank-ish dash for NaN."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.3g}" if abs(x) < 1e3 else f"{x:.0f}"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _anchor(index: int, op: str) -> str:
    # ids come from data, so keep only safe characters; the index keeps them unique.
    return f"op-{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", op).strip("-")[:40]


def _cell(group: pd.DataFrame | None) -> dict[str, Any]:
    if group is None or group.empty:
        return {"tone": "empty", "verdict": "", "text": "—", "title": "not run", "counts": []}
    counts = group["verdict"].value_counts()
    verdicts = sorted(counts.index, key=rank)
    worst, total = verdicts[0], int(counts.sum())
    failing = int(counts[[v for v in verdicts if v in FAILING]].sum())
    other = total - int(counts.get("pass", 0))
    if failing:
        text = f"{failing} ✗ / {total}"
    elif other:
        text = f"{other} ~ / {total}"
    else:
        text = f"{total} ✓"
    pairs = [(v, int(counts[v])) for v in verdicts if v != "pass"]
    title = ", ".join(f"{v}: {int(counts[v])}" for v in verdicts)
    return {"tone": tone(worst), "verdict": worst, "text": text, "title": title, "counts": pairs}


def _row(row: dict[str, Any]) -> dict[str, Any]:
    inputs = str(row["inputs"])
    return {
        **{k: row[k] for k in ("dtype", "shapes", "kwargs", "check", "verdict", "rule", "detail")},
        "example": row["example"],
        "tone": tone(row["verdict"]),
        "numbers": [fmt_num(row[k]) for k in ("max_abs_err", "max_rel_err", "tolerance", "score")],
        "over": bool(row["score"] > 1),
        "inputs": inputs,
        "inputs_preview": inputs[:INPUTS_PREVIEW] + ("…" if len(inputs) > INPUTS_PREVIEW else ""),
        "inputs_long": len(inputs) > INPUTS_PREVIEW,
    }


def _section(op: str, anchor: str, op_rows: pd.DataFrame, examples: Any) -> dict[str, Any]:
    rows = op_rows[op_rows["verdict"] != "pass"]
    rows = rows.assign(_rank=rows["verdict"].map(rank), _score=rows["score"].fillna(math.inf))
    rows = rows.sort_values(["_rank", "_score"], ascending=[True, False], kind="stable")
    # One replay command per op/dtype stream, failing streams first.
    replays = []
    for _, group in rows.groupby(["dtype", "seed"], sort=False):
        first = group.iloc[0].to_dict()
        budget = examples if examples is not None else "N"
        replays.append(
            {
                "command": replay_command(first, budget),
                "examples": ", ".join(str(e) for e in sorted(group["example"].unique())),
                "tone": tone(first["verdict"]),
            }
        )
    shown = rows.head(MAX_ROWS_PER_OP)
    return {
        "op": op,
        "anchor": anchor,
        "cell": _cell(op_rows),
        "total": len(op_rows),
        "rows": [_row(r) for r in shown.to_dict("records")],
        "hidden": len(rows) - len(shown),
        "replays": replays,
        "budget_known": examples is not None,
    }


def _meta_rows(meta: dict) -> list[tuple[str, str]]:
    keys = [k for k in META_ORDER if k in meta] + sorted(k for k in meta if k not in META_ORDER)
    out = []
    for key in keys:
        value = meta[key]
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = json.dumps(value, sort_keys=True, default=str)
        out.append((str(key), str(value)))
    return out


def build_context(frame: pd.DataFrame, meta: dict) -> dict[str, Any]:
    frame = ensure_frame(frame)
    failing = frame["verdict"].isin(FAILING)
    # Ops with failures first (most failing rows first), then ops with informational rows.
    tier = frame["verdict"].map(rank) // 100
    per_op = frame.assign(_fail=failing, _other=frame["verdict"] != "pass", _tier=tier).groupby("op")
    order = per_op.agg(tier=("_tier", "min"), fails=("_fail", "sum"), other=("_other", "sum"))
    order = order.reset_index().sort_values(
        ["tier", "fails", "other", "op"], ascending=[True, False, False, True], kind="stable"
    )
    present = set(frame["check"])  # a column per check that ran (a run without programs has no semantics column)
    checks = [c for c in CHECKS if c in present] + sorted(present - set(CHECKS))
    cells = dict(iter(frame.groupby(["op", "check"])))
    matrix, sections = [], []
    for index, op in enumerate(order["op"]):
        op_rows = frame[frame["op"] == op]
        anchor = _anchor(index, op) if (op_rows["verdict"] != "pass").any() else ""
        row_cells = [_cell(cells.get((op, check))) for check in checks]
        matrix.append({"op": op, "anchor": anchor, "cells": row_cells, "total": len(op_rows)})
        if anchor:
            sections.append(_section(op, anchor, op_rows, meta.get("examples")))
    by_verdict = frame["verdict"].value_counts()
    engines = sorted(set(frame["engine"]))
    return {
        "title": f"gradcheck-suite report — {meta.get('engine') or ', '.join(engines) or 'unknown engine'}",
        "engine": meta.get("engine") or ", ".join(engines) or "unknown",
        "run_id": meta.get("run_id") or ", ".join(sorted(set(frame["run_id"]))),
        "status": "empty" if frame.empty else "fail" if failing.any() else "pass",
        "failing": int(failing.sum()),
        "interrupted": bool(meta.get("interrupted")),
        "counts": {
            "cases": len(frame[["op", "dtype", "seed", "example"]].drop_duplicates()),
            "checks": len(frame),
            "ops": int(frame["op"].nunique()),
            "dtypes": ", ".join(sorted(set(frame["dtype"]))) or "—",
        },
        "by_verdict": [(v, int(by_verdict[v]), tone(v)) for v in sorted(by_verdict.index, key=rank)],
        "checks": [(c, CHECKS.get(c, "")) for c in checks],
        "matrix": matrix,
        "sections": sections,
        "max_rows": MAX_ROWS_PER_OP,
        "legend": [(v, fails, meaning, tone(v)) for v, (fails, meaning) in VERDICTS.items()],
        "columns": list(COLUMNS.items()),
        "meta": _meta_rows(meta),
    }


def render_html(frame: pd.DataFrame, meta: dict) -> str:
    return _ENV.get_template("report.html").render(**build_context(frame, meta))


def write_html(frame: pd.DataFrame, meta: dict, path: Path) -> None:
    atomic_write_text(path, render_html(frame, meta))
