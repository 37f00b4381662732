"""The campaign's parent process: hands tasks to worker processes, reports every record to
its sink (recorder.py: the journal) the moment it arrives, and watches the workers.

A case that runs past the per-case timeout gets its worker killed; a worker that dies takes
its current case with it, and a busy worker silent for as long (a hang between cases) is
treated the same way. The case (announced by the worker before it started) becomes a
``timeout`` or ``worker-crash`` record and is stored for replay; with no case in flight the
record names the task's op and dtype. The rest of the chunk becomes a task of its own (another
stream, so the bad case is not met again), and a fresh worker takes over. Ctrl-C stops the
workers; unfinished tasks run again on --resume.

On a Dask cluster each worker thread runs one of these with a single worker process (the
``launch`` and sink of dask_task.py), so a hang or crash is handled there exactly as here.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from gradcheck_suite.campaign.plan import Config, Task

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


def spawn_worker(wid: int, args: tuple) -> tuple[Any, Any]:
    """A worker process (worker.main) and the parent's end of its pipe."""
    from gradcheck_suite.campaign import worker  # not before: a Dask worker imports this module too

    ctx = mp.get_context("spawn")  # fork would copy torch's thread pools mid-state
    mine, theirs = ctx.Pipe(duplex=True)
    process = ctx.Process(target=worker.main, args=(wid, *args, theirs), name=f"gradcheck-fuzz-{wid}", daemon=True)
    # Ctrl-C belongs to the parent: the child starts with SIGINT ignored (kept across exec),
    # so a Ctrl-C during its start-up does not print a traceback from every worker.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    theirs.close()  # the parent keeps only its end, so a dead worker reads as EOF
    return process, mine


class Scheduler:
    """``sink``: a recorder.Recorder, or what stands for one (ready, records, done, incident,
    tick); ``launch``: how a worker process starts (spawn_worker's signature)."""

    def __init__(
        self, config: Config, sink: Any, *, run_id: str, every_10s: Callable[[], None] = lambda: None,
        launch: Callable[[int, tuple], tuple[Any, Any]] = spawn_worker,
    ) -> None:  # fmt: skip
        self.config = config
        self.sink = sink
        self.run_id = run_id
        self.launch = launch
        self.workers: dict[int, _Worker] = {}
        self._next_id = 0
        self._requeued: deque[tuple[Task, dict | None]] = deque()  # given back by a worker that died
        self.every_10s = every_10s  # e.g. saving the time spent, in case the parent is killed
        self.deadline = math.inf
        self._seconds: float | None = None  # the budget, whose clock starts with the first ready worker

    def describe(self) -> str:
        return f"{self.config.workers} workers"

    # -- workers ------------------------------------------------------------------------

    def _spawn(self) -> None:
        wid, self._next_id = self._next_id, self._next_id + 1
        c = self.config
        process, conn = self.launch(wid, (c.engine, c.checks, self.run_id, c.seed))
        self.workers[wid] = _Worker(process, conn)

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

    def run(
        self, tasks: Iterator[tuple[Task, dict | None]], seconds: float | None, deadline: float | None = None
    ) -> None:
        """Until the tasks run out (or ``seconds`` have passed since the first worker was ready,
        or the time is past ``deadline``) and every task given out is done. Workers are kept for
        the next call (stop() ends them)."""
        while len(self.workers) < self.config.workers:
            self._spawn()
        self._seconds = seconds
        if deadline is not None:
            self.deadline = deadline
        pending = iter(tasks)
        exhausted = False
        last_tick = time.monotonic()
        while True:
            self._watch()
            if not exhausted or self._requeued:  # the rest of a chunk may come back after the last task
                exhausted = self._assign(pending) or exhausted
            idle = all(w.task is None for w in self.workers.values())
            if exhausted and idle and (not self._requeued or time.time() >= self.deadline):
                self._requeued.clear()  # past the deadline: journalled as pending, for --resume
                return
            for conn in wait([w.conn for w in self.workers.values()], timeout=POLL):
                self._receive(conn)
            self.sink.tick()
            if time.monotonic() - last_tick > 10:
                self.every_10s()
                last_tick = time.monotonic()

    def wait_ready(self) -> None:
        """Start the workers; return once one is ready (a cluster's workers warm up first)."""
        while len(self.workers) < self.config.workers:
            self._spawn()
        while not any(w.ready for w in self.workers.values()):
            self._watch()
            for conn in wait([w.conn for w in self.workers.values()], timeout=POLL):
                self._receive(conn)

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
            clock = self.deadline == math.inf and self._seconds is not None  # the budget starts with the first worker
            if clock:
                self.deadline = time.time() + self._seconds
            self.sink.ready(payload[1], self._seconds if clock else None)
        elif kind == "start":
            _key, example, case = payload
            w.case, w.case_started = (example, case), time.monotonic()
        elif kind == "records":
            self.sink.records(*payload)
            w.case, w.checked = None, w.checked + 1
        elif kind == "done":
            _key, n, note = payload
            self.sink.done(w.task, n, note)
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
        rest = w.task.rest(w.checked + (w.case is not None))
        self.sink.incident(w.task, w.case, w.checked, verdict, detail, rest)
        if rest is not None:
            self._requeued.append((rest, None))
        w.task, w.case = None, None
