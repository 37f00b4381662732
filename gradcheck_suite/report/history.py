"""Earlier runs beside this one: the run folder's parent holds one folder per run.

A folder counts as a run when it holds a readable meta.json (a JSON object) and a
results.csv with a `verdict` column; anything else (foreign folders, half-written or
older-format runs) is skipped without a word, since a report must render regardless.
Runs are named by their folder: with --deterministic every run id is the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from gradcheck_suite.records import FAILING

MAX_RUNS = 10  # earlier runs shown
MAX_FOLDERS = 2000  # folders looked at in the parent, so a huge directory cannot stall a render
# What a run checked: when these differ, its failing count says little about the other's.
SCOPE_KEYS = ("mode", "ops", "dtypes", "checks", "examples", "programs", "time_budget_s")


def _meta(folder: Path) -> dict | None:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and (folder / "results.csv").is_file() else None


def _when(meta: dict, folder: Path) -> str:
    """Sort key: the run's start time (ISO text sorts in time order), else the CSV's mtime."""
    started = meta.get("started")
    if isinstance(started, str) and started:
        return started
    try:
        return pd.Timestamp((folder / "results.csv").stat().st_mtime, unit="s", tz="UTC").isoformat()
    except OSError:
        return ""


def _weights(frame: pd.DataFrame) -> pd.Series:
    """Checks per row: the `count` column (a campaign's folded rows), 1 where a file has none."""
    if "count" not in frame:
        return pd.Series(1, index=frame.index)
    return pd.to_numeric(frame["count"], errors="coerce").fillna(1).astype("int64")


def summarise(frame: pd.DataFrame, meta: dict, folder: Path | None, when: str = "") -> dict[str, Any]:
    """One history row: run id, folder, start, engines, checks, failing checks, status, and
    what the run checked (SCOPE_KEYS of its meta)."""
    weights = _weights(frame)
    failing = int(weights[frame["verdict"].isin(FAILING)].sum())
    engines = ", ".join(dict.fromkeys(frame["engine"])) if "engine" in frame else ""
    status = "empty" if frame.empty else "fail" if failing else "pass"
    return {
        "run_id": str(meta.get("run_id") or (folder.name if folder else "")),
        "folder": folder.name if folder else "",
        "started": str(meta.get("started") or when),
        "engine": str(meta.get("engine") or engines or "?"),
        "checks": int(weights.sum()),
        "failing": failing,
        "status": status,
        "interrupted": bool(meta.get("interrupted")),
        "scope": {key: meta.get(key, "run" if key == "mode" else None) for key in SCOPE_KEYS},
    }


def _shown(key: str, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) if len(value) <= 4 else f"{len(value)} {key}"
    return str(value)


def differences(current: dict, previous: dict) -> list[str]:
    """What the two runs checked differently, e.g. ``examples 5 → 50``; a key either run did not
    record is not compared."""
    out = []
    for key in SCOPE_KEYS:
        a, b = previous["scope"].get(key), current["scope"].get(key)
        if a is not None and b is not None and a != b:
            out.append(f"{key} {_shown(key, a)} → {_shown(key, b)}")
    return out


# (results.csv path, mtime, size) -> its verdict counts: a campaign re-renders its report many
# times in one process, and earlier runs do not change meanwhile.
_COUNTS: dict[tuple[str, int, int], pd.DataFrame] = {}


def _read(folder: Path, meta: dict, when: str) -> dict[str, Any] | None:
    path = folder / "results.csv"
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _COUNTS:
        frame = _columns(path)
        if frame is None:
            return None
        if len(_COUNTS) > 64:
            _COUNTS.clear()
        _COUNTS[key] = frame
    return summarise(_COUNTS[key], meta, folder, when)


def _columns(path: Path) -> pd.DataFrame | None:
    """The verdict (and engine, count) columns of a results.csv; None without a verdict column or when unreadable."""
    try:
        header = pd.read_csv(path, nrows=0).columns
        columns = [c for c in ("verdict", "engine", "count") if c in header]
        if "verdict" not in columns:
            return None
        return pd.read_csv(path, usecols=columns, dtype=str, keep_default_na=False)
    except (OSError, ValueError):  # pandas' parser and decoding errors are ValueErrors
        return None


def earlier_runs(run_dir: Path, started: str | None = None, limit: int = MAX_RUNS) -> list[dict[str, Any]]:
    """The latest `limit` runs beside run_dir that started before it (all of them when its start is unknown)."""
    run_dir = Path(run_dir)
    try:
        here = run_dir.resolve()
        folders = [p for p in run_dir.parent.iterdir() if p.is_dir() and p.resolve() != here][:MAX_FOLDERS]
    except OSError:
        return []
    found = []
    for folder in folders:
        meta = _meta(folder)
        if meta is not None:
            when = _when(meta, folder)
            if not started or when < started:
                found.append((when, folder.name, folder, meta))
    runs = []
    for when, _, folder, meta in sorted(found, key=lambda item: item[:2], reverse=True):
        row = _read(folder, meta, when)
        if row is not None:
            runs.append(row)
        if len(runs) == limit:
            break
    return runs


def history(run_dir: Path | None, frame: pd.DataFrame, meta: dict) -> dict[str, Any] | None:
    """This run and the earlier ones beside it, with the change in failing checks since the last
    run of the same engine (or the last run at all), and how the two runs' scope differs (then the
    change says little); None when there is no earlier run."""
    if run_dir is None:
        return None
    started = meta.get("started") if isinstance(meta.get("started"), str) else None
    runs = earlier_runs(Path(run_dir), started)
    if not runs:
        return None
    current = summarise(frame, meta, Path(run_dir))
    same_engine = [r for r in runs if r["engine"] == current["engine"]]
    previous = (same_engine or runs)[0]
    delta = current["failing"] - previous["failing"]
    trend = "up" if delta > 0 else "down" if delta < 0 else "same"
    return {
        "current": current,
        "runs": runs,
        "previous": previous,
        "delta": delta,
        "trend": trend,
        "differences": differences(current, previous),
    }
