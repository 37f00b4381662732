"""The campaign's parent process: hands tasks to worker processes, writes every record to
the journal the moment it arrives, and watches the workers.

A case that runs past the per-case timeout gets its worker killed; a worker that dies takes
only its current case with it. Either way the case (announced by the worker before it
started) becomes a ``timeout`` or ``worker-crash`` record, is stored for replay, its task is
closed, and a fresh worker takes over. Ctrl-C stops the workers; unfinished tasks run again
on --resume.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from gradcheck_suite.campaign import worker
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


class Scheduler:
    def __init__(
        self, config: Config, journal: Journal, progress: Progress, *, run_id: str, engine_name: str,
        keep_case: Callable[[str, str], None],
    ) -> None:  # fmt: skip
        self.config = config
        self.engine_name = engine_name  # as records name it (config.engine is how to load it)
        self.journal = journal
        self.progress = progress
        self.run_id = run_id
        self.keep_case = keep_case  # (case json, engine) -> stored in the project cache
        self.ctx = mp.get_context("spawn")  # fork would copy torch's thread pools mid-state
        self.workers: dict[int, _Worker] = {}
        self._next_id = 0

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

    def run(self, tasks: Iterator[tuple[Task, dict | None]], deadline: float) -> None:
        """Until the tasks run out (or the deadline, a time.time() value, passes) and all are done."""
        for _ in range(self.config.workers):
            self._spawn()
        self.progress.workers = self.config.workers
        pending = iter(tasks)
        exhausted = False
        while True:
            if not exhausted:
                exhausted = self._assign(pending, deadline)
            if exhausted and all(w.task is None for w in self.workers.values()):
                return
            for conn in wait([w.conn for w in self.workers.values()], timeout=POLL):
                self._receive(conn)
            self._watch()
            self.progress.tick()

    def _assign(self, pending: Iterator, deadline: float) -> bool:
        """Give every idle worker a task; True once there are no more to give."""
        for w in self.workers.values():
            if not w.ready or w.task is not None:
                continue
            if time.time() >= deadline:
                return True
            try:
                task, case_data = next(pending)
            except StopIteration:
                return True
            w.task = task
            w.conn.send((task, case_data, deadline))
        return False

    def _handle(self, kind: str, wid: int, payload: Any) -> None:
        w = self.workers.get(wid)
        if w is None:  # a message from a worker already replaced
            return
        if kind == "failed":
            raise CampaignAbortedError(f"a worker could not start the engine {self.config.engine!r}:\n{payload}")
        if kind == "ready":
            w.ready = True
        elif kind == "start":
            _key, example, case = payload
            w.case, w.case_started = (example, case), time.monotonic()
        elif kind == "records":
            key, rows, failed_case = payload
            self.journal.add_records(key, rows)
            if failed_case is not None:
                self._store(failed_case)
            self.progress.case([r["verdict"] for r in rows if r["verdict"] in FAILING])
            w.case = None
        elif kind == "done":
            key, n, note = payload
            self.journal.task_done(key, n, note)
            w.task = None

    def _watch(self) -> None:
        """Replace workers whose case timed out or whose process died."""
        now = time.monotonic()
        for wid, w in list(self.workers.items()):
            if not w.ready and now - w.spawned > START_TIMEOUT:
                raise CampaignAbortedError(f"a worker did not start within {START_TIMEOUT:.0f} s")
            timed_out = w.case is not None and now - w.case_started > self.config.case_timeout
            died = not w.process.is_alive()
            if not (timed_out or died):
                continue
            if died:
                while w.conn.poll() and self._receive(w.conn):  # what it said before dying still counts
                    pass
            if w.task is not None:
                if timed_out:
                    verdict, detail = "timeout", f"no result after {self.config.case_timeout:g} s; worker killed"
                else:
                    verdict, detail = "worker-crash", f"worker exited with code {w.process.exitcode}"
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
        """The record of a case that hung or killed its worker; the task ends with it."""
        task = w.task
        if w.case is not None:
            example, case_text = w.case
            case = decode_case(json.loads(case_text))
            rid = replay_id(case)
            record = Record(
                run_id=self.run_id, engine=self.engine_name, op=case.op.name, check="forward", dtype=case.dtype,
                shapes=json.dumps([list(s) for s in case.shapes]), kwargs=as_json(case.kwargs),
                seed=self.config.seed, example=example, verdict=verdict, rule=VERDICTS[verdict][1], detail=detail,
                inputs=as_json({f"x{i}": x for i, x in enumerate(case.inputs)} | {"dtype": case.dtype}), replay_id=rid,
            )  # fmt: skip
            self.journal.add_records(task.key, [record.row()])
            self._store(case_text)
            self.progress.case([verdict])
        self.journal.task_done(task.key, 0, f"{verdict}: {detail}")
        w.task, w.case = None, None

    def _store(self, case_text: str) -> None:
        self.journal.cases.add(decode_case(json.loads(case_text)), engine=self.config.engine)
        self.keep_case(case_text, self.config.engine)
