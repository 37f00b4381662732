"""A campaign's folder: everything is appended as it happens, so a Ctrl-C, a killed worker
or a killed campaign loses nothing already computed.

    campaign.json   Config, plus the wall time spent so far (for --resume of a time budget)
    records.jsonl   one line per record, with the task it came from, flushed as written
    tasks.jsonl     one line per finished task (what --resume skips), and tasks made on the way
    cases.jsonl     every failing case, for `gradcheck-suite replay ID`
    results.csv, meta.json, report.html   written from the records at the end (and on interrupt)

A record line of an unfinished task is kept (nothing is lost); when --resume runs that task
again, its new records replace the old ones (same seed, same cases, same rows). Passing rows
beyond a sample are folded per task and check (folding.py) and merged when read back.
"""

from __future__ import annotations

import dataclasses
import json
import math
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from gradcheck_suite.campaign.folding import FOLDED, fold, public, restore
from gradcheck_suite.campaign.plan import Config, Task
from gradcheck_suite.cases_io import CaseStore
from gradcheck_suite.records import Record


class CampaignError(ValueError):
    """A campaign folder that cannot be resumed (missing, foreign or corrupt)."""


def _nan_safe(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.config_path = self.folder / "campaign.json"
        self.records_path = self.folder / "records.jsonl"
        self.tasks_path = self.folder / "tasks.jsonl"
        self.cases = CaseStore(self.folder / "cases.jsonl")
        self._records = None
        self._tasks = None

    # -- config -------------------------------------------------------------------------

    def start(self, config: Config) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.save_config(config, elapsed=0.0)

    def save_config(self, config: Config, elapsed: float) -> None:
        text = json.dumps({"config": config.to_json(), "elapsed": elapsed}, indent=2)
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.config_path)

    def load_config(self) -> tuple[Config, float]:
        if not self.config_path.is_file():
            raise CampaignError(f"{self.folder} is not a campaign folder (no campaign.json); nothing to resume")
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
            return Config.from_json(data["config"]), float(data.get("elapsed", 0.0))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CampaignError(f"cannot read {self.config_path}: {exc}") from None

    # -- appending ----------------------------------------------------------------------

    def open(self) -> None:
        self.attempt = uuid.uuid4().hex[:12]  # this session's runs of tasks (see records())
        self._records = self.records_path.open("a", encoding="utf-8")
        self._tasks = self.tasks_path.open("a", encoding="utf-8")

    def close(self) -> None:
        for f in (self._records, self._tasks):
            if f is not None:
                f.close()
        self._records = self._tasks = None

    def add_records(self, task: str, rows: list[dict]) -> None:
        for row in rows:
            line = {"task": task, "attempt": self.attempt, "row": {k: _nan_safe(v) for k, v in row.items()}}
            self._records.write(json.dumps(line) + "\n")
        self._records.flush()

    def task_done(self, task: str, cases: int, note: str = "", failing: dict | None = None) -> None:
        """``failing``: verdict -> count of the task's failing rows (for a resumed status line)."""
        line = {"task": task, "attempt": self.attempt, "cases": cases, "note": note, "failing": failing or {}}
        self._tasks.write(json.dumps(line) + "\n")
        self._tasks.flush()

    def task_pending(self, task: Task) -> None:
        """A task made during the campaign (the rest of a chunk after a hang or crash), so that
        --resume knows it exists."""
        self._tasks.write(json.dumps({"pending": dataclasses.asdict(task)}) + "\n")
        self._tasks.flush()

    # -- reading back -------------------------------------------------------------------

    def done_tasks(self) -> set[str]:
        return {entry["task"] for entry in _lines(self.tasks_path) if "task" in entry}

    def cases_done(self) -> int:
        """Cases checked by the finished tasks (where a resumed campaign's count starts)."""
        return sum(int(entry.get("cases", 0)) for entry in _lines(self.tasks_path) if "task" in entry)

    def failing_done(self) -> Counter:
        """Failing rows by verdict of the finished tasks (where a resumed status line starts)."""
        total: Counter = Counter()
        for entry in _lines(self.tasks_path):
            if "task" in entry and isinstance(entry.get("failing"), dict):
                total.update({str(k): int(v) for k, v in entry["failing"].items()})
        return total

    def pending_tasks(self) -> list[Task]:
        """Tasks made during the campaign that have not finished."""
        done, pending = self.done_tasks(), {}
        for entry in _lines(self.tasks_path):
            try:
                task = Task(**entry["pending"]) if "pending" in entry else None
            except TypeError:
                continue
            if task is not None and task.key not in done:
                pending[task.key] = task
        return list(pending.values())

    def records(self) -> list[Record]:
        """Every record. A task run more than once (interrupted, then resumed) contributes the
        rows of one run only: the one that finished, else the one that got furthest. Runs of
        a task check the same cases, but which rows a run folds differs between runs."""
        finished = {entry["task"]: entry.get("attempt") for entry in _lines(self.tasks_path) if "task" in entry}
        runs: dict[str, dict[str, list[dict]]] = {}
        for entry in _lines(self.records_path):
            row = entry.get("row")
            if isinstance(row, dict):
                task = str(entry.get("task"))
                runs.setdefault(task, {}).setdefault(str(entry.get("attempt")), []).append(row)
        rows = [row for task, by_run in runs.items() for row in _dedupe(_chosen(by_run, finished.get(task)))]
        whole = [row for row in rows if row.get("example") != FOLDED]
        return [_record(row) for row in whole + _merged_folds(rows)]


def _chosen(by_run: dict[str, list[dict]], finished: str | None) -> list[dict]:
    if finished is not None and str(finished) in by_run:
        return by_run[str(finished)]
    furthest = max(by_run.values(), key=lambda rows: sum(int(r.get("count") or 1) for r in rows))
    return furthest


def _dedupe(rows: list[dict]) -> list[dict]:
    """One row per (engine, example, check): a task re-run after an interruption regenerates
    the same cases, so its later rows replace the earlier ones."""
    latest: dict[tuple, dict] = {}
    for row in rows:
        latest[(row.get("engine"), row.get("op"), row.get("dtype"), row.get("example"), row.get("check"))] = row
    return list(latest.values())


def _merged_folds(rows: list[dict]) -> list[dict]:
    """The folded rows of all tasks, one per (engine, op, dtype, check)."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        if row.get("example") == FOLDED:
            key = (row.get("engine"), row.get("op"), row.get("dtype"), row.get("check"))
            merged[key] = fold(merged.get(key), restore(row))
    return [public(row) for row in merged.values()]


def _record(row: dict) -> Record:
    fields = {k: (math.nan if v is None and k in _FLOATS else v) for k, v in row.items() if k in _FIELDS}
    return Record(**fields)


_FIELDS = set(Record.__dataclass_fields__)
_FLOATS = {"max_abs_err", "max_rel_err", "tolerance", "score", "duration_ms"}


def _lines(path: Path):
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a kill
                continue
            if isinstance(entry, dict):
                yield entry
