"""The campaign's parent process: hands tasks to worker processes, writes every record to
the journal the moment it arrives, and watches the workers.

A case that runs past the per-case timeout gets its worker killed; a worker that dies takes
its current case with it, and a busy worker silent for as long (a hang between cases) is
treated the same way. The case (announced by the worker before it started) becomes a
``timeout`` or ``worker-crash`` record and is stored for replay; with no case in flight the
record names the task's op and dtype. The rest of the chunk becomes a task of its own (another
stream, so the bad case is not met again), and a fresh worker takes over. Ctrl-C stops the
workers; unfinished tasks run again on --resume.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import signal
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from gradcheck_suite.campaign import worker
from gradcheck_suite.campaign.folding import PassFolder
from gradcheck_suite.campaign.journal import Journal
from gradcheck_suite.campaign.plan import Config, Task
from gradcheck_suite.campaign.progress import Progress
from gradcheck_suite.cases_io import decode_case, replay_id
from gradcheck_suite.checking.case import as_json
from gradcheck_suite.records import FAILING, VERDICTS, Record

POLL = 0.2  # seconds between looks at the workers when no message arrives
START_TIMEOUT = 300.0  # a worker that cannot import torch and the engine in this time is broken


class CampaignAbortedError(RuntimeError):
    """The campaign cannot go on (e.g. no worker can start: the engine fails to load)."""


@dataclass
class _Worker:
    process: Any
    conn: Any  # the parent's end of a duplex pipe: tasks out, messages in (sent synchronously,
    # so what a worker said before dying has all arrived)
    ready: bool = False
    spawned: float = field(default_factory=time.monotonic)
    task: Task | None = None
    case: tuple[int, str] | None = None  # (example, case json) of the case in flight
    case_started: float = 0.0
    heard: float = field(default_factory=time.monotonic)  # the last message
    checked: int = 0  # cases of the current task checked so far


class Scheduler:
    def __init__(
        self, config: Config, journal: Journal, progress: Progress, *, run_id: str, engine_name: str,
        keep_case: Callable[[str, str], None], folder: PassFolder, every_10s: Callable[[], None] = lambda: None,
    ) -> None:  # fmt: skip
        self.config = config
        self.folder = folder
        self.engine_name = engine_name  # as records name it (config.engine is how to load it)
        self.journal = journal
        self.progress = progress
        self.run_id = run_id
        self.keep_case = keep_case  # (case json, engine) -> stored in the project cache
        self.ctx = mp.get_context("spawn")  # fork would copy torch's thread pools mid-state
        self.workers: dict[int, _Worker] = {}
        self._next_id = 0
        self._requeued: deque[tuple[Task, dict | None]] = deque()  # given back by a worker that died
        self.every_10s = every_10s  # e.g. saving the time spent, in case the parent is killed
        self.deadline = math.inf
        self._failing: dict[str, Counter] = {}  # failing rows by verdict of each running task
        self.process_settings: dict = {}  # what the workers set for their processes (process.py), for meta.json

    # -- workers ------------------------------------------------------------------------

    def _spawn(self) -> None:
        wid, self._next_id = self._next_id, self._next_id + 1
        mine, theirs = self.ctx.Pipe(duplex=True)
        c = self.config
        process = self.ctx.Process(
            target=worker.main, args=(wid, c.engine, c.checks, self.run_id, c.seed, theirs),
            name=f"gradcheck-fuzz-{wid}", daemon=True,
        )  # fmt: skip
        # Ctrl-C belongs to the parent: the child starts with SIGINT ignored (kept across exec),
        # so a Ctrl-C during its start-up does not print a traceback from every worker.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            process.start()
        finally:
            signal.signal(signal.SIGINT, previous)
        theirs.close()  # the parent keeps only its end, so a dead worker reads as EOF
        self.workers[wid] = _Worker(process, mine)

    def _replace(self, wid: int) -> None:
        w = self.workers.pop(wid)
        if w.process.is_alive():
            w.process.kill()
        w.process.join(timeout=5)
        w.conn.close()
        self._spawn()

    def stop(self) -> None:
        for w in self.workers.values():
            if w.process.is_alive():
                w.process.kill()
        for w in self.workers.values():
            w.process.join(timeout=5)
        self.workers.clear()

    # -- the loop -----------------------------------------------------------------------

    def run(self, tasks: Iterator[tuple[Task, dict | None]], seconds: float | None) -> None:
        """Until the tasks run out (or ``seconds`` have passed since the first worker was ready)
        and every task given out is done."""
        for _ in range(self.config.workers):
            self._spawn()
        self.progress.workers = self.config.workers
        self._seconds = seconds
        pending = iter(tasks)
        exhausted = False
        last_tick = time.monotonic()
        while True:
            self._watch()
            if not exhausted or self._requeued:  # the rest of a chunk may come back after the last task
                exhausted = self._assign(pending) or exhausted
            idle = all(w.task is None for w in self.workers.values())
            if exhausted and idle and (not self._requeued or time.time() >= self.deadline):
                return
            for conn in wait([w.conn for w in self.workers.values()], timeout=POLL):
                self._receive(conn)
            self.progress.tick()
            if time.monotonic() - last_tick > 10:
                self.every_10s()
                last_tick = time.monotonic()

    def _next(self, pending: Iterator):
        return self._requeued.popleft() if self._requeued else next(pending)

    def _assign(self, pending: Iterator) -> bool:
        """Give every idle worker a task; True once there are no more to give."""
        for w in self.workers.values():
            if not w.ready or w.task is not None:
                continue
            if time.time() >= self.deadline:
                return True
            try:
                task, case_data = self._next(pending)
            except StopIteration:
                return True
            try:
                w.conn.send((task, case_data, self.deadline))
            except OSError:  # it died since its last message: _watch replaces it
                self._requeued.appendleft((task, case_data))
                continue
            w.task, w.checked, w.heard = task, 0, time.monotonic()
        return False

    def _handle(self, kind: str, wid: int, payload: Any) -> None:
        w = self.workers.get(wid)
        if w is None:  # a message from a worker already replaced
            return
        if kind == "failed":
            raise CampaignAbortedError(f"a worker could not start the engine {self.config.engine!r}:\n{payload}")
        w.heard = time.monotonic()
        if kind == "ready":
            w.ready = True
            self.process_settings = self.process_settings or payload[1]
            if self.deadline == math.inf and self._seconds is not None:  # the budget starts with the first worker
                self.deadline = time.time() + self._seconds
                self.progress.restart(self._seconds)
        elif kind == "start":
            _key, example, case = payload
            w.case, w.case_started = (example, case), time.monotonic()
        elif kind == "records":
            key, rows, failed_case = payload
            self.journal.add_records(key, self.folder.split(key, rows))
            if failed_case is not None:
                self._store(failed_case)
            failing = [r["verdict"] for r in rows if r["verdict"] in FAILING]
            self._failing.setdefault(key, Counter()).update(failing)
            self.progress.case(failing)
            w.case, w.checked = None, w.checked + 1
        elif kind == "done":
            key, n, note = payload
            if note.startswith("task raised"):  # the stream itself broke: a finding, not a note
                self._task_record(w.task, "harness-error", note)
            self._close(key, n, note)
            w.task = None

    def _watch(self) -> None:
        """Replace workers whose case timed out, that went silent in a task, or that died."""
        now = time.monotonic()
        for wid, w in list(self.workers.items()):
            if not w.ready and now - w.spawned > START_TIMEOUT:
                raise CampaignAbortedError(f"a worker did not start within {START_TIMEOUT:.0f} s")
            while w.conn.poll() and self._receive(w.conn):  # what it said (before dying) counts first
                pass
            limit = self.config.case_timeout
            timed_out = w.case is not None and now - w.case_started > limit
            silent = w.task is not None and w.case is None and now - w.heard > limit
            died = not w.process.is_alive()
            if not (timed_out or silent or died):
                continue
            if w.task is not None:
                if died:
                    verdict, detail = "worker-crash", f"worker exited with code {w.process.exitcode}"
                else:
                    what = "no result" if timed_out else "no message between cases"
                    verdict, detail = "timeout", f"{what} for {limit:g} s; worker killed"
                self._incident(w, verdict, detail)
            elif died and not w.ready:
                raise CampaignAbortedError(f"a worker died while starting (exit code {w.process.exitcode})")
            self._replace(wid)

    def _receive(self, conn) -> bool:
        """Handle one message from a worker's pipe; False at EOF (the worker is gone)."""
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return False
        self._handle(*message)
        return True

    def _incident(self, w: _Worker, verdict: str, detail: str) -> None:
        """The record of a case that hung or killed its worker; the rest of its chunk becomes
        a task of its own."""
        task = w.task
        if w.case is not None:
            example, case_text = w.case
            case = decode_case(json.loads(case_text))
            record = Record(
                run_id=self.run_id, engine=self.engine_name, op=case.op.name, check="forward", dtype=case.dtype,
                shapes=json.dumps([list(s) for s in case.shapes]), kwargs=as_json(case.kwargs),
                seed=self.config.seed, example=example, verdict=verdict, rule=VERDICTS[verdict][1], detail=detail,
                inputs=as_json({f"x{i}": x for i, x in enumerate(case.inputs)} | {"dtype": case.dtype}),
                replay_id=replay_id(case),
            )  # fmt: skip
            self.journal.add_records(task.key, [record.row()])
            self._store(case_text, verdict)
            self._failing.setdefault(task.key, Counter())[verdict] += 1
            self.progress.case([verdict])
        else:  # between cases: no case to blame, the task's op and dtype are
            self._task_record(task, verdict, detail + " (no case in flight)")
        done = w.checked + (w.case is not None)
        self._close(task.key, w.checked, f"{verdict}: {detail}")
        rest = task.rest(done)
        if rest is not None:
            self.journal.task_pending(rest)
            self._requeued.append((rest, None))
        w.task, w.case = None, None

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

    def flush(self) -> None:
        """The folded rows of tasks still running (a stop): the report counts them; --resume
        runs those tasks again and their new rows replace these."""
        for key in self.folder.tasks():
            self.journal.add_records(key, self.folder.close(key))

    def _store(self, case_text: str, verdict: str = "") -> None:
        """Keep a failing case for replay (``verdict``: a hang or crash, which replay treats with care)."""
        extra = {"verdict": verdict} if verdict else {}
        self.journal.cases.add(decode_case(json.loads(case_text)), engine=self.config.engine, **extra)
        self.keep_case(case_text, self.config.engine, **extra)
