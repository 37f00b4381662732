"""Folding a campaign's passing checks, so an hour of fuzzing does not write gigabytes.

A campaign checks hundreds of cases a second, seven checks each; almost all pass. Every
non-passing row is kept whole. Of the passing rows, the first ``sample`` per (engine, op,
dtype, check) are kept whole too (for the report's plots and to show what passed); the rest
of a task's passing rows of one check are folded into one row with ``count`` = how many,
``example`` = FOLDED and the largest errors and score among them. Reading the journal back
merges the folds of all tasks into one row per (engine, op, dtype, check).
"""

from __future__ import annotations

import math
from collections import Counter

FOLDED = -2  # the example number of a folded row (-1 is a re-checked stored failure)
SAMPLE = 10


def _num(value) -> float:
    return math.nan if value is None else float(value)


def _max(a, b) -> float:
    a, b = _num(a), _num(b)
    return b if math.isnan(a) else a if math.isnan(b) else max(a, b)


def fold(into: dict | None, row: dict) -> dict:
    """``row`` (a passing row or an earlier fold) added to the fold ``into``."""
    n = int(row.get("count") or 1)
    lo = hi = row["example"]
    if row["example"] == FOLDED:
        lo, hi = row["_examples"]
    if into is None:
        folded = {**row, "count": n, "example": FOLDED, "shapes": "[]", "kwargs": "{}", "location": "",
                  "inputs": "", "replay_id": "", "_examples": (lo, hi)}  # fmt: skip
        folded["_ms"] = _num(row.get("duration_ms")) * n
        return _described(folded)
    worse = _num(row.get("score")) > _num(into.get("score"))
    into["count"] += n
    into["_examples"] = (min(into["_examples"][0], lo), max(into["_examples"][1], hi))
    into["max_abs_err"] = _max(into.get("max_abs_err"), row.get("max_abs_err"))
    into["max_rel_err"] = _max(into.get("max_rel_err"), row.get("max_rel_err"))
    if worse:
        into["score"], into["tolerance"] = row.get("score"), row.get("tolerance")
    into["_ms"] += _num(row.get("duration_ms")) * n if row["example"] != FOLDED else row["_ms"]
    return _described(into)


def _described(row: dict) -> dict:
    lo, hi = row["_examples"]
    row["rule"] = "passing checks folded into one row (fuzz campaign); the error columns are their largest"
    row["detail"] = f"{row['count']} passing checks of examples {lo}..{hi}"
    row["duration_ms"] = row["_ms"] / row["count"] if not math.isnan(row["_ms"]) else None
    return row


def public(row: dict) -> dict:
    """The row without the fold's bookkeeping (for the journal and the CSV)."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


def restore(row: dict) -> dict:
    """A folded row read back from the journal, with its bookkeeping rebuilt from its text."""
    if row.get("example") != FOLDED:
        return row
    try:
        lo, hi = (int(x) for x in row["detail"].rsplit(" ", 1)[1].split(".."))
    except (KeyError, ValueError, IndexError):
        lo = hi = FOLDED
    n = int(row.get("count") or 1)
    return {**row, "_examples": (lo, hi), "_ms": _num(row.get("duration_ms")) * n}


class PassFolder:
    """Decides, row by row, what a campaign writes now and what it folds until its task ends.
    ``sample`` None keeps every row (``fuzz --keep-passing``)."""

    def __init__(self, sample: int | None = SAMPLE) -> None:
        self.sample = sample
        self.sampled: Counter[tuple] = Counter()
        self.open: dict[str, dict[str, dict]] = {}  # task -> check -> fold

    def split(self, task: str, rows: list[dict]) -> list[dict]:
        """The rows to write now; the others are folded into the task's open folds."""
        if self.sample is None:
            return rows
        keep = []
        for row in rows:
            ident = (row["engine"], row["op"], row["dtype"], row["check"])
            if row["verdict"] != "pass" or self.sampled[ident] < self.sample:
                self.sampled[ident] += row["verdict"] == "pass"
                keep.append(row)
                continue
            folds = self.open.setdefault(task, {})
            folds[row["check"]] = fold(folds.get(row["check"]), row)
        return keep

    def close(self, task: str) -> list[dict]:
        """The task's folded rows (written when the task ends, or when the campaign stops)."""
        return [public(r) for r in self.open.pop(task, {}).values()]

    def tasks(self) -> list[str]:
        return list(self.open)
