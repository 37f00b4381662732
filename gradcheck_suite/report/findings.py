"""The findings of a run: one section per op with non-pass rows, worst first, each with its replay command."""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gradcheck_suite.records import FAILING, replay_command
from gradcheck_suite.report.formatting import case_label, fmt_num, rank, tone
from gradcheck_suite.report.summary import cell

# Rows shown per op: beyond these the CSV is the place to look; keeps the page light.
MAX_ROWS_PER_OP = 100  # failing rows
MAX_OTHER_ROWS_PER_OP = 20  # informational rows
INPUTS_PREVIEW = 120
INPUTS_SHOWN = 4000  # longer input JSON is cut in the page (results.csv and the replay id hold it whole)
DETAIL_PREVIEW = 240
# The three witnesses as the checker writes them into `detail`: "... e=1.5 torch=1.5 fd=1.49".
_WITNESS = re.compile(r"\b(e|torch|fd)=(\S+)")
# "finite diff.", not "reference": an engine may be named `reference` (the default one is).
WITNESS_NAMES = {"e": "engine", "torch": "torch", "fd": "finite diff."}
DEFAULT_ENGINE = "reference"  # the CLI's default --engine, left out of the stream command


@dataclass(frozen=True)
class Options:
    """What the rows' commands and marks need from the run: the example budget (meta's
    ``examples``), engine name -> its --engine text, whether it was a fuzz campaign, and
    frame label -> "entry N: reason" for the rows a known-discrepancies entry covers."""

    examples: Any = None
    specs: dict = field(default_factory=dict)
    fuzz: bool = False
    marks: dict[Hashable, str] = field(default_factory=dict)

    @classmethod
    def from_meta(cls, meta: dict, marks: dict[Hashable, str] | None = None) -> Options:
        specs = meta.get("engine_specs")
        return cls(meta.get("examples"), specs if isinstance(specs, dict) else {}, meta.get("mode") == "fuzz",
                   marks or {})  # fmt: skip


def stream_command(row: dict[str, Any], examples: Any, specs: dict | None = None) -> str:
    """The command that regenerates the row's op/dtype stream, naming a non-default engine
    as it was given on --engine (``specs``: engine name -> that text, from meta.json)."""
    budget = examples if examples is not None else "N"
    try:
        command = replay_command(row, budget)
    except (ValueError, KeyError, TypeError):  # a semantics row whose kwargs are not its budget's JSON
        command = f"gradcheck-suite run --ops {row.get('op', '?')} --seed {row.get('seed', '?')}"
        command += " --examples 0 --programs N" if row.get("check") == "semantics" else f" --examples {budget}"
    engine = str(row.get("engine", ""))
    engine = str((specs or {}).get(engine, engine))
    if engine and engine != DEFAULT_ENGINE and "--engine" not in command:
        command += f" --engine {engine}"
    return command


def case_command(row: dict[str, Any], examples: Any, specs: dict | None = None, fuzz: bool = False) -> str:
    """The replay command of one row: by its stored case when it has one, else by its stream;
    "" for a fuzz campaign's row without a stored case (its task's seed is not in the row)."""
    replay_id = str(row.get("replay_id") or "")
    if replay_id:
        return f"gradcheck-suite replay {replay_id}"
    return "" if fuzz else stream_command(row, examples, specs)


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


def _row(row: dict[str, Any], options: Options, mark: str = "") -> dict[str, Any]:
    detail = str(row["detail"])
    values = witnesses(detail)
    return {
        **{k: row[k] for k in ("engine", "dtype", "shapes", "kwargs", "check", "verdict", "rule", "example")},
        "case": case_label(row),
        "known": mark,
        "tone": tone(row["verdict"]),
        "numbers": [fmt_num(row[k]) for k in ("max_abs_err", "max_rel_err", "tolerance", "score")],
        "over": bool(row["score"] > 1),
        "detail": _fold(without_witnesses(detail) if values else detail, DETAIL_PREVIEW),
        "witnesses": values,
        "location": str(row.get("location", "")),
        "reference": str(row.get("reference", "")),
        "inputs": _fold(str(row["inputs"]), INPUTS_PREVIEW, INPUTS_SHOWN),
        "replay": case_command(row, options.examples, options.specs, options.fuzz),
    }


def _streams(rows: pd.DataFrame, options: Options) -> list[dict[str, Any]]:
    """One command per engine/dtype stream, failing streams first, with the examples it holds.
    None for a fuzz campaign: its tasks use seeds of their own, so the rows' replay ids are the way back."""
    if options.fuzz:
        return []
    streams = []
    for _, group in rows.groupby(["engine", "dtype", "seed"], sort=False):
        first = group.iloc[0].to_dict()
        streams.append(
            {
                "command": stream_command(first, options.examples, options.specs),
                "engine": first["engine"],
                "examples": ", ".join(str(e) for e in sorted(group["example"].unique())),
                "tone": tone(first["verdict"]),
            }
        )
    return streams


def _verdict_counts(rows: pd.DataFrame) -> dict[str, int]:
    return {v: int(n) for v, n in rows.groupby("verdict", sort=False)["count"].sum().items()}


def section(op: str, anchor: str, op_rows: pd.DataFrame, options: Options) -> dict[str, Any]:
    rows = op_rows[op_rows["verdict"] != "pass"]
    rows = rows.assign(_rank=rows["verdict"].map(rank), _score=rows["score"].fillna(math.inf))
    rows = rows.sort_values(["_rank", "_score"], ascending=[True, False], kind="stable")
    failing = rows["verdict"].isin(FAILING)
    shown = pd.concat([rows[failing].head(MAX_ROWS_PER_OP), rows[~failing].head(MAX_OTHER_ROWS_PER_OP)])
    # Checks a known-discrepancies entry covers (only failing rows have marks).
    known = op_rows["count"].where(op_rows.index.isin(list(options.marks)), 0)
    by_engine = []
    for engine, group in op_rows.groupby("engine", sort=False):
        counts = _verdict_counts(group)
        n_known = int(known[group.index].sum())
        n_failing = sum(n for v, n in counts.items() if v in FAILING)
        by_engine.append({"engine": engine, "cell": cell(counts, n_known), "failing": n_failing, "known": n_known})
    return {
        "op": op,
        "anchor": anchor,
        "cell": cell(_verdict_counts(op_rows), int(known.sum())),
        "by_engine": by_engine,
        "total": int(op_rows["count"].sum()),
        "non_pass": int(rows["count"].sum()),
        "rows": [_row(r, options, options.marks.get(i, "")) for i, r in zip(shown.index, shown.to_dict("records"))],
        "hidden": len(rows) - len(shown),
        "streams": _streams(rows, options),
        "fuzz": options.fuzz,
        "budget_known": options.examples is not None,
    }


def sections(frame: pd.DataFrame, ops: list[str], anchors: dict[str, str], options: Options) -> list[dict[str, Any]]:
    """Sections for the ops that have an anchor (those with non-pass rows), in `ops` order."""
    by_op = dict(iter(frame[frame["op"].isin(list(anchors))].groupby("op", sort=False)))
    return [section(op, anchors[op], by_op[op], options) for op in ops if op in anchors]
