"""What a campaign does with its workers' results, wherever the workers run (the built-in pool
or a Dask cluster): every record goes to the journal at once (passing rows beyond a sample
folded), failing cases are stored for replay, and the status line counts them.

The schedulers report events to a sink with these methods; on a Dask worker a forwarder with
the same methods (dask_task.py) sends them to the client, whose Recorder writes them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from gradcheck_suite.campaign.folding import PassFolder
from gradcheck_suite.campaign.journal import Journal
from gradcheck_suite.campaign.plan import Config, Task
from gradcheck_suite.campaign.progress import Progress
from gradcheck_suite.cases_io import decode_case, replay_id
from gradcheck_suite.checking.case import as_json
from gradcheck_suite.records import FAILING, VERDICTS, Record


class Recorder:
    def __init__(
        self, config: Config, journal: Journal, progress: Progress, *, run_id: str, engine_name: str,
        keep_case: Callable[..., None], folder: PassFolder,
    ) -> None:  # fmt: skip
        self.config = config
        self.journal = journal
        self.progress = progress
        self.run_id = run_id
        self.engine_name = engine_name  # as records name it (config.engine is how to load it)
        self.keep_case = keep_case  # (case json, engine, **extra) -> stored in the project cache
        self.folder = folder
        self._failing: dict[str, Counter] = {}  # failing rows by verdict of each running task
        self.process_settings: dict = {}  # what the workers set for their processes (process.py), for meta.json

    def ready(self, settings: dict, seconds: float | None = None) -> None:
        """A worker started (``seconds``: the budget, whose clock starts now)."""
        self.process_settings = self.process_settings or settings
        if seconds is not None:
            self.progress.restart(seconds)

    def records(self, key: str, rows: list[dict], failed_case: str | None) -> None:
        """One case's rows (``failed_case``: its JSON, when a row failed)."""
        self.journal.add_records(key, self.folder.split(key, rows))
        if failed_case is not None:
            self._store(failed_case)
        failing = [r["verdict"] for r in rows if r["verdict"] in FAILING]
        self._failing.setdefault(key, Counter()).update(failing)
        self.progress.case(failing)

    def done(self, task: Task, cases: int, note: str) -> None:
        if note.startswith("task raised"):  # the stream itself broke: a finding, not a note
            self._task_record(task, "harness-error", note)
        self._close(task.key, cases, note)

    def incident(
        self, task: Task, case: tuple[int, str] | None, checked: int, verdict: str, detail: str, rest: Task | None
    ) -> None:
        """A case (example, case json) that hung or killed its worker, or a worker lost between
        cases (``case`` None: the task's op and dtype are blamed); ``rest``: the chunk's cases
        after it, a task of its own that the scheduler runs next."""
        if case is not None:
            example, case_text = case
            c = decode_case(json.loads(case_text))
            record = Record(
                run_id=self.run_id, engine=self.engine_name, op=c.op.name, check="forward", dtype=c.dtype,
                shapes=json.dumps([list(s) for s in c.shapes]), kwargs=as_json(c.kwargs),
                seed=self.config.seed, example=example, verdict=verdict, rule=VERDICTS[verdict][1], detail=detail,
                inputs=as_json({f"x{i}": x for i, x in enumerate(c.inputs)} | {"dtype": c.dtype}),
                replay_id=replay_id(c),
            )  # fmt: skip
            self.journal.add_records(task.key, [record.row()])
            self._store(case_text, verdict)
            self._failing.setdefault(task.key, Counter())[verdict] += 1
            self.progress.case([verdict])
        else:
            self._task_record(task, verdict, detail + " (no case in flight)")
        self._close(task.key, checked, f"{verdict}: {detail}")
        if rest is not None:
            self.journal.task_pending(rest)

    def tick(self) -> None:
        self.progress.tick()

    def flush(self) -> None:
        """The folded rows of tasks still running (a stop): the report counts them; --resume
        runs those tasks again and their new rows replace these."""
        for key in self.folder.tasks():
            self.journal.add_records(key, self.folder.close(key))

    def _task_record(self, task: Task, verdict: str, detail: str) -> None:
        record = Record(
            run_id=self.run_id, engine=self.engine_name, op=task.op, check="forward", dtype=task.dtype, shapes="[]",
            kwargs="{}", seed=self.config.seed, example=task.base, verdict=verdict, rule=VERDICTS[verdict][1],
            detail=f"task {task.key}: {detail}"[-1500:],
        )  # fmt: skip
        self.journal.add_records(task.key, [record.row()])
        self._failing.setdefault(task.key, Counter())[verdict] += 1
        self.progress.case([verdict])

    def _close(self, key: str, cases: int, note: str) -> None:
        self.journal.add_records(key, self.folder.close(key))
        self.journal.task_done(key, cases, note, dict(self._failing.pop(key, {})))

    def _store(self, case_text: str, verdict: str = "") -> None:
        """Keep a failing case for replay (``verdict``: a hang or crash, which replay treats with care)."""
        extra = {"verdict": verdict} if verdict else {}
        self.journal.cases.add(decode_case(json.loads(case_text)), engine=self.config.engine, **extra)
        self.keep_case(case_text, self.config.engine, **extra)
