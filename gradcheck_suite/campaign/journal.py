"""A campaign's folder: everything is appended as it happens, so a Ctrl-C, a killed worker
or a killed campaign loses nothing already computed.

    campaign.json   Config, plus the wall time spent so far (for --resume of a time budget)
    records.jsonl   one line per record, with the task it came from, flushed as written
    tasks.jsonl     one line per finished task (what --resume skips)
    cases.jsonl     every failing case, for `gradcheck-suite replay ID`
    results.csv, meta.json, report.html   written from the records at the end (and on interrupt)

A record line of an unfinished task is kept (nothing is lost); when --resume runs that task
again, its new records replace the old ones (same seed, same cases, same rows).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gradcheck_suite.campaign.plan import Config
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
        self._records = self.records_path.open("a", encoding="utf-8")
        self._tasks = self.tasks_path.open("a", encoding="utf-8")

    def close(self) -> None:
        for f in (self._records, self._tasks):
            if f is not None:
                f.close()
        self._records = self._tasks = None

    def add_records(self, task: str, rows: list[dict]) -> None:
        for row in rows:
            self._records.write(json.dumps({"task": task, "row": {k: _nan_safe(v) for k, v in row.items()}}) + "\n")
        self._records.flush()

    def task_done(self, task: str, cases: int, note: str = "") -> None:
        self._tasks.write(json.dumps({"task": task, "cases": cases, "note": note}) + "\n")
        self._tasks.flush()

    # -- reading back -------------------------------------------------------------------

    def done_tasks(self) -> set[str]:
        return {entry["task"] for entry in _lines(self.tasks_path)}

    def records(self) -> list[Record]:
        """Every record, the latest run of each task winning (a re-run task replaces its lines)."""
        by_task: dict[str, list[dict]] = {}
        for entry in _lines(self.records_path):
            row = entry.get("row")
            if isinstance(row, dict):
                by_task.setdefault(str(entry.get("task")), []).append(row)
        return [_record(row) for rows in by_task.values() for row in _dedupe(rows)]


def _dedupe(rows: list[dict]) -> list[dict]:
    """One row per (engine, example, check): a task re-run after an interruption regenerates
    the same cases, so its later rows replace the earlier ones."""
    latest: dict[tuple, dict] = {}
    for row in rows:
        latest[(row.get("engine"), row.get("op"), row.get("dtype"), row.get("example"), row.get("check"))] = row
    return list(latest.values())


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
