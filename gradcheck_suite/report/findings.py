"""The findings of a run: one section per op with non-pass rows, worst first, each with its replay command."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from gradcheck_suite.records import FAILING, replay_command
from gradcheck_suite.report.formatting import fmt_num, rank, tone
from gradcheck_suite.report.summary import cell

# Rows shown per op: beyond these the CSV is the place to look; keeps the page light.
MAX_ROWS_PER_OP = 100  # failing rows
MAX_OTHER_ROWS_PER_OP = 20  # informational rows
INPUTS_PREVIEW = 120
INPUTS_SHOWN = 4000  # longer input JSON is cut in the page (results.csv and the replay id hold it whole)
DETAIL_PREVIEW = 240
# The three witnesses as the checker writes them into `detail`: "... e=1.5 torch=1.5 fd=1.49".
_WITNESS = re.compile(r"\b(e|torch|fd)=(\S+)")
WITNESS_NAMES = {"e": "engine", "torch": "torch", "fd": "reference"}
DEFAULT_ENGINE = "reference"  # the CLI's default --engine, left out of the stream command


def stream_command(row: dict[str, Any], examples: Any, specs: dict | None = None) -> str:
    """The command that regenerates the row's op/dtype stream, naming a non-default engine
    as it was given on --engine (``specs``: engine name -> that text, from meta.json)."""
    command = replay_command(row, examples if examples is not None else "N")
    engine = str(row.get("engine", ""))
    engine = str((specs or {}).get(engine, engine))
    if engine and engine != DEFAULT_ENGINE and "--engine" not in command:
        command += f" --engine {engine}"
    return command


def case_command(row: dict[str, Any], examples: Any, specs: dict | None = None) -> str:
    """The replay command of one row: by its stored case when it has one, else by its stream."""
    replay_id = str(row.get("replay_id") or "")
    return f"gradcheck-suite replay {replay_id}" if replay_id else stream_command(row, examples, specs)


def witnesses(detail: str) -> list[tuple[str, str]]:
    """(side, value) of engine, torch and the numerical reference when the detail names at least two."""
    # Only the first clause: later ones (e.g. a kink's one-sided values) reuse the names.
    found = [(WITNESS_NAMES[k], v) for k, v in _WITNESS.findall(detail.split(";")[0])]
    return found if len(found) >= 2 else []


def without_witnesses(detail: str) -> str:
    """The detail with the witness values of its first clause taken out (the page shows them apart)."""
    first, sep, rest = detail.partition(";")
    where = _WITNESS.sub("", first).strip().rstrip(":").strip()
    return where + sep + rest


def _fold(text: str, preview: int, shown: int | None = None) -> dict[str, Any]:
    """A long text as a preview plus the whole (or its first `shown` characters) behind a <details>;
    also split as head + tail, for a <details> that continues its summary instead of repeating it."""
    long = len(text) > preview or "\n" in text
    full = text if shown is None or len(text) <= shown else text[:shown]
    return {
        "text": text,
        "long": long,
        "preview": text[:preview].split("\n")[0] + ("…" if long else ""),
        "full": full,
        "head": full[:preview],
        "tail": full[preview:],
        "cut": len(text) - len(full),
    }


def _row(row: dict[str, Any], examples: Any, specs: dict | None = None) -> dict[str, Any]:
    detail = str(row["detail"])
    values = witnesses(detail)
    return {
        **{k: row[k] for k in ("engine", "dtype", "shapes", "kwargs", "check", "verdict", "rule", "example")},
        "tone": tone(row["verdict"]),
        "numbers": [fmt_num(row[k]) for k in ("max_abs_err", "max_rel_err", "tolerance", "score")],
        "over": bool(row["score"] > 1),
        "detail": _fold(without_witnesses(detail) if values else detail, DETAIL_PREVIEW),
        "witnesses": values,
        "location": str(row.get("location", "")),
        "reference": str(row.get("reference", "")),
        "inputs": _fold(str(row["inputs"]), INPUTS_PREVIEW, INPUTS_SHOWN),
        "replay": case_command(row, examples, specs),
    }


def _streams(rows: pd.DataFrame, examples: Any, specs: dict | None = None) -> list[dict[str, Any]]:
    """One command per engine/dtype stream, failing streams first, with the examples it holds."""
    streams = []
    for _, group in rows.groupby(["engine", "dtype", "seed"], sort=False):
        first = group.iloc[0].to_dict()
        streams.append(
            {
                "command": stream_command(first, examples, specs),
                "engine": first["engine"],
                "examples": ", ".join(str(e) for e in sorted(group["example"].unique())),
                "tone": tone(first["verdict"]),
            }
        )
    return streams


def section(op: str, anchor: str, op_rows: pd.DataFrame, examples: Any, specs: dict | None = None) -> dict[str, Any]:
    rows = op_rows[op_rows["verdict"] != "pass"]
    rows = rows.assign(_rank=rows["verdict"].map(rank), _score=rows["score"].fillna(math.inf))
    rows = rows.sort_values(["_rank", "_score"], ascending=[True, False], kind="stable")
    failing = rows["verdict"].isin(FAILING)
    shown = pd.concat([rows[failing].head(MAX_ROWS_PER_OP), rows[~failing].head(MAX_OTHER_ROWS_PER_OP)])
    by_engine = []
    for engine, group in op_rows.groupby("engine", sort=False):
        counts = {v: int(n) for v, n in group["verdict"].value_counts().items()}
        n_failing = sum(n for v, n in counts.items() if v in FAILING)
        by_engine.append({"engine": engine, "cell": cell(counts), "failing": n_failing})
    return {
        "op": op,
        "anchor": anchor,
        "cell": cell({v: int(n) for v, n in op_rows["verdict"].value_counts().items()}),
        "by_engine": by_engine,
        "total": len(op_rows),
        "non_pass": len(rows),
        "rows": [_row(r, examples, specs) for r in shown.to_dict("records")],
        "hidden": len(rows) - len(shown),
        "streams": _streams(rows, examples, specs),
        "budget_known": examples is not None,
    }


def sections(
    frame: pd.DataFrame, ops: list[str], anchors: dict[str, str], examples: Any, specs: dict | None = None
) -> list[dict[str, Any]]:
    """Sections for the ops that have an anchor (those with non-pass rows), in `ops` order."""
    by_op = dict(iter(frame[frame["op"].isin(list(anchors))].groupby("op", sort=False)))
    return [section(op, anchors[op], by_op[op], examples, specs) for op in ops if op in anchors]
