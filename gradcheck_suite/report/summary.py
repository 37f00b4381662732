"""The summary of a run: op x check matrix (one row per engine when several ran), engine totals.

Cells are built from verdict counts (one groupby over the whole frame), so a 50k-row
frame costs one pass, not one filter per cell. Every count is of checks: a row counts
``count`` times (a fuzz campaign folds its passing checks into rows of many).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from gradcheck_suite.records import CHECKS, FAILING
from gradcheck_suite.report.formatting import rank, tone

EMPTY_CELL = {
    "tone": "empty", "verdict": "", "text": "—", "title": "not run", "counts": [], "known": 0, "result": "",
    "lacks": False,
}  # fmt: skip
# Cells whose verdicts are all of these say nothing about agreement: the engine lacks the feature.
NO_RESULT = frozenset({"unsupported"})


def cell(counts: dict[str, int], known: int = 0) -> dict[str, Any]:
    """One matrix cell from verdict -> count: coloured by the worst verdict in it; a cell whose
    failing checks are all `known` (listed in the known-discrepancies file) gets the known tone."""
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
    title = ", ".join(f"{v}: {counts[v]}" for v in verdicts)
    all_known = bool(failing) and known >= failing
    results = [v for v in verdicts if v not in NO_RESULT]
    return {
        "tone": "known" if all_known else tone(worst),
        "verdict": worst,
        "text": text,
        "title": title + (f" (known: {known})" if known else ""),
        "counts": [(v, counts[v]) for v in verdicts if v != "pass"],
        "known": known,
        "result": tone(results[0]) if results else "",  # the tone of what was compared
        "lacks": len(results) < len(verdicts),  # some checks had no result (unsupported)
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
            "fails": frame["verdict"].isin(FAILING) * frame["count"],
            "other": (frame["verdict"] != "pass") * frame["count"],
        }
    )
    order = stats.groupby("op").agg(tier=("tier", "min"), fails=("fails", "sum"), other=("other", "sum"))
    order = order.reset_index().sort_values(
        ["tier", "fails", "other", "op"], ascending=[True, False, False, True], kind="stable"
    )
    return list(order["op"])


def verdict_counts(frame: pd.DataFrame) -> dict[str, int]:
    """verdict -> checks (rows weighted by `count`)."""
    return {v: int(n) for v, n in frame.groupby("verdict", sort=False)["count"].sum().items()}


def _counts(frame: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, int]]:
    """(op, engine, check) -> {verdict: checks}."""
    sizes = frame.groupby(["op", "engine", "check", "verdict"], sort=False)["count"].sum()
    out: dict[tuple[str, str, str], dict[str, int]] = {}
    for (op, engine, check, verdict), n in sizes.items():
        out.setdefault((op, engine, check), {})[verdict] = int(n)
    return out


def matrix(
    frame: pd.DataFrame,
    ops: list[str],
    engines: list[str],
    checks: list[str],
    anchors: dict[str, str],
    known: pd.Index | None = None,
) -> list[dict[str, Any]]:
    """One group per op, one row per engine that ran it; `differs` marks ops where engines get
    different results, `support_differs` ops where one engine lacks a check another has. `known`:
    the labels of the failing rows a known-discrepancies entry covers."""
    counts = _counts(frame)
    known_counts: dict[tuple, int] = {}
    if known is not None and len(known):
        sums = frame.loc[known].groupby(["op", "engine", "check"], sort=False)["count"].sum()
        known_counts = {key: int(n) for key, n in sums.items()}
    groups = []
    for op in ops:
        rows = []
        for engine in engines:
            per_check = [counts.get((op, engine, check), {}) for check in checks]
            if not any(per_check):
                continue
            cells = [cell(c, known_counts.get((op, engine, check), 0)) for c, check in zip(per_check, checks)]
            rows.append({"engine": engine, "cells": cells, "total": sum(sum(c.values()) for c in per_check)})
        differs, support = _engines_differ(rows)
        groups.append(
            {"op": op, "anchor": anchors.get(op, ""), "rows": rows, "differs": differs, "support_differs": support}
        )
    return groups


def _engines_differ(rows: list[dict[str, Any]]) -> tuple[bool, bool]:
    """(results differ, support differs): whether two engines got a different kind of verdict
    (tone) on a check of an op both could run, and whether one ran a check another lacks.
    A cell with only `unsupported` rows has no result to compare: an engine without forward
    mode does not "differ" from one with it; it differs in support."""
    if len(rows) < 2:
        return False, False
    results = support = False
    for column in zip(*(r["cells"] for r in rows)):
        results |= len({c["result"] for c in column if c["result"]}) > 1
        support |= len({c["lacks"] or c["tone"] == "empty" for c in column}) > 1
    return results, support


def engine_totals(frame: pd.DataFrame, engines: list[str], known: pd.Index | None = None) -> list[dict[str, Any]]:
    """Per engine: checks, failing checks (and how many of them are known), ops with a failing
    check, and the verdict counts."""
    out = []
    known_by_engine = frame.loc[known if known is not None else []].groupby("engine")["count"].sum()
    for engine, rows in frame.groupby("engine", sort=False):
        failing = rows["verdict"].isin(FAILING)
        counts = verdict_counts(rows)
        out.append(
            {
                "engine": engine,
                "checks": int(rows["count"].sum()),
                "failing": int(rows.loc[failing, "count"].sum()),
                "known": int(known_by_engine.get(engine, 0)),
                "failing_ops": int(rows.loc[failing, "op"].nunique()),
                "ops": int(rows["op"].nunique()),
                "verdicts": [(v, counts[v], tone(v)) for v in sorted(counts, key=rank)],
            }
        )
    return sorted(out, key=lambda e: engines.index(e["engine"]))
