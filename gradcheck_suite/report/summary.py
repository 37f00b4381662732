"""The summary of a run: op x check matrix (one row per engine when several ran), engine totals.

Cells are built from verdict counts (one groupby over the whole frame), so a 50k-row
frame costs one pass, not one filter per cell.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gradcheck_suite.records import CHECKS, FAILING
from gradcheck_suite.report.formatting import rank, tone

EMPTY_CELL = {"tone": "empty", "verdict": "", "text": "—", "title": "not run", "counts": []}


def cell(counts: dict[str, int]) -> dict[str, Any]:
    """One matrix cell from verdict -> count: coloured by the worst verdict in it."""
    if not counts:
        return EMPTY_CELL
    verdicts = sorted(counts, key=rank)
    worst, total = verdicts[0], sum(counts.values())
    failing = sum(n for v, n in counts.items() if v in FAILING)
    other = total - counts.get("pass", 0)
    if failing:
        text = f"{failing} ✗ / {total}"
    elif other:
        text = f"{other} ~ / {total}"
    else:
        text = f"{total} ✓"
    return {
        "tone": tone(worst),
        "verdict": worst,
        "text": text,
        "title": ", ".join(f"{v}: {counts[v]}" for v in verdicts),
        "counts": [(v, counts[v]) for v in verdicts if v != "pass"],
    }


def checks_present(frame: pd.DataFrame) -> list[str]:
    """A column per check that ran, in CHECKS order (a run without programs has no semantics column)."""
    present = set(frame["check"])
    return [c for c in CHECKS if c in present] + sorted(present - set(CHECKS))


def engines_present(frame: pd.DataFrame) -> list[str]:
    """Engines in the order their rows first appear (the order the run checked them)."""
    return list(dict.fromkeys(frame["engine"]))


def op_order(frame: pd.DataFrame) -> list[str]:
    """Ops with failures first (most failing rows first), then ops with informational rows, then the rest."""
    if frame.empty:
        return []
    stats = pd.DataFrame(
        {
            "op": frame["op"],
            "tier": frame["verdict"].map(rank) // 100,
            "fails": frame["verdict"].isin(FAILING),
            "other": frame["verdict"] != "pass",
        }
    )
    order = stats.groupby("op").agg(tier=("tier", "min"), fails=("fails", "sum"), other=("other", "sum"))
    order = order.reset_index().sort_values(
        ["tier", "fails", "other", "op"], ascending=[True, False, False, True], kind="stable"
    )
    return list(order["op"])


def _counts(frame: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, int]]:
    """(op, engine, check) -> {verdict: count}."""
    sizes = frame.groupby(["op", "engine", "check", "verdict"], sort=False).size()
    out: dict[tuple[str, str, str], dict[str, int]] = {}
    for (op, engine, check, verdict), n in sizes.items():
        out.setdefault((op, engine, check), {})[verdict] = int(n)
    return out


def matrix(
    frame: pd.DataFrame, ops: list[str], engines: list[str], checks: list[str], anchors: dict[str, str]
) -> list[dict[str, Any]]:
    """One group per op, one row per engine that ran it; `differs` marks ops where engines disagree."""
    counts = _counts(frame)
    groups = []
    for op in ops:
        rows = []
        for engine in engines:
            per_check = [counts.get((op, engine, check), {}) for check in checks]
            if not any(per_check):
                continue
            rows.append(
                {
                    "engine": engine,
                    "cells": [cell(c) for c in per_check],
                    "total": sum(sum(c.values()) for c in per_check),
                }
            )
        groups.append({"op": op, "anchor": anchors.get(op, ""), "rows": rows, "differs": _engines_differ(rows)})
    return groups


def _engines_differ(rows: list[dict[str, Any]]) -> bool:
    """Whether two engines got a different kind of verdict (tone) on the same check of an op."""
    if len(rows) < 2:
        return False
    for column in zip(*(r["cells"] for r in rows)):
        tones = {c["tone"] for c in column if c["tone"] != "empty"}
        if len(tones) > 1:
            return True
    return False


def engine_totals(frame: pd.DataFrame, engines: list[str]) -> list[dict[str, Any]]:
    """Per engine: rows, failing rows, ops with a failing row, and the verdict counts."""
    out = []
    for engine, rows in frame.groupby("engine", sort=False):
        failing = rows["verdict"].isin(FAILING)
        counts = rows["verdict"].value_counts()
        out.append(
            {
                "engine": engine,
                "checks": len(rows),
                "failing": int(failing.sum()),
                "failing_ops": int(rows.loc[failing, "op"].nunique()),
                "ops": int(rows["op"].nunique()),
                "verdicts": [(v, int(counts[v]), tone(v)) for v in sorted(counts.index, key=rank)],
            }
        )
    return sorted(out, key=lambda e: engines.index(e["engine"]))
