"""``fuzz --scheduler ADDRESS|local``: the campaign's tasks on a Dask cluster.

The client keeps the journal: each Dask task runs one campaign Task on a worker
(dask_task.run_task) and sends what a Recorder would write back in batches, through a
distributed.Queue while it runs and the last one as its result; here a Recorder writes them as
they arrive. A worker the cluster loses has its task run again by
Dask from the task's seed (the same cases): rows of cases already written and tasks already
closed are dropped, so nothing is lost or doubled. A task that kills workers Dask's
``allowed-failures`` times (KilledWorker) becomes a ``worker-crash`` row, and the rest of its
chunk a task of its own, as in the built-in pool. Dask is imported only here, on demand.
"""

from __future__ import annotations

import contextlib
import logging
import math
import pickle
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from gradcheck_suite.campaign import dask_task
from gradcheck_suite.campaign.plan import Config, Task
from gradcheck_suite.campaign.recorder import Recorder
from gradcheck_suite.campaign.scheduler import POLL, CampaignAbortedError
from gradcheck_suite.options import UsageError

INSTALL = "pip install 'gradcheck-suite[cluster]'"
CONNECT_TIMEOUT = 30.0  # seconds to reach a scheduler, and for a cluster to have a worker
AHEAD = 2  # tasks submitted per worker thread: the next one is queued while one runs


def require_distributed(address: str = "local"):
    """Dask's distributed package (a usage error where it is missing), and ``address`` checked."""
    try:
        import distributed
        from distributed.comm import get_address_host_port
    except ImportError as exc:
        raise UsageError(f"--scheduler needs Dask's distributed package ({exc}): {INSTALL}") from None
    if address != "local":
        try:
            get_address_host_port(address)
        except ValueError as exc:
            raise UsageError(f"--scheduler takes local or a scheduler's address (tcp://host:8786): {exc}") from None
    return distributed


def check_options(args) -> None:
    """``fuzz --scheduler/--upload`` usage errors (before a campaign folder is made)."""
    if args.upload and not args.scheduler:
        raise UsageError("--upload sends files to a Dask cluster's workers: it needs --scheduler")
    for path in args.upload:
        if not path.is_file():
            raise UsageError(f"--upload: no such file: {path}")
    require_distributed(args.scheduler)


class ClusterScheduler:
    def __init__(
        self, config: Config, sink: Recorder, *, run_id: str, address: str, uploads: list[Path] = (),
        every_10s: Callable[[], None] = lambda: None,
    ) -> None:  # fmt: skip
        self.distributed = require_distributed()
        self.config, self.sink, self.run_id, self.address = config, sink, run_id, address
        self.uploads = list(uploads)
        self.every_10s = every_10s
        self.client = self.cluster = self.queue = None
        self.threads = 0  # the cluster's worker threads (campaign workers), as last seen
        self._staffed = time.monotonic()  # when it last had a worker
        self.channel = f"gradcheck-{run_id}-{secrets.token_hex(4)}"
        self.submitted: dict[str, tuple] = {}  # ticket -> (future, the task's open keys)
        self.closed: set[str] = set()  # tasks done or cut short in this session
        self.seen: dict[str, set[int]] = {}  # examples written, by open task
        self.repeated = 0  # cases delivered again by a task Dask ran again after a lost worker
        self.deadline = math.inf

    def describe(self) -> str:
        if self.address == "local":
            return f"a Dask LocalCluster of {self.config.workers} workers"
        return f"the Dask scheduler at {self.address}"

    # -- the cluster ----------------------------------------------------------------------

    def _connect(self) -> None:
        d = self.distributed
        if self.address == "local":
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the client's (as in the pool)
            try:
                self.cluster = d.LocalCluster(
                    n_workers=self.config.workers, threads_per_worker=1, processes=True, silence_logs=logging.ERROR
                )
            finally:
                signal.signal(signal.SIGINT, previous)
            self.client = d.Client(self.cluster)
        else:
            try:
                self.client = d.Client(self.address, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise CampaignAbortedError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
        for path in self.uploads:  # module:attr engines the workers cannot import otherwise
            self.client.upload_file(str(path), load=False)
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            raise CampaignAbortedError(f"no Dask worker joined {self.address} within {CONNECT_TIMEOUT:g} s") from None
        self.queue = d.Queue(self.channel, client=self.client)  # made before any worker puts to it
        self._count_threads()
        dashboard = self.client.dashboard_link if "dashboard" in self.client.scheduler_info()["services"] else "none"
        print(f"dask: {self.client.scheduler.address}, {self.threads} worker threads, dashboard {dashboard}",
              file=sys.stderr)  # fmt: skip

    def _count_threads(self) -> None:
        self.threads = sum(self.client.nthreads().values())
        self.sink.progress.workers = self.threads
        if self.threads:
            self._staffed = time.monotonic()
        elif time.monotonic() - self._staffed > CONNECT_TIMEOUT:  # else the tasks would wait for ever
            raise CampaignAbortedError(f"the Dask cluster has had no worker for {CONNECT_TIMEOUT:g} s")

    def stop(self) -> None:
        if self.repeated:
            print(f"\ndask: tasks run again after a lost worker delivered {self.repeated} cases already written "
                  "(kept once)", file=sys.stderr)  # fmt: skip
        if self.client is not None:
            self.client.cancel([future for future, _ in self.submitted.values()])
            with contextlib.suppress(OSError, TimeoutError):  # this campaign's children end (busy ones soon)
                self.client.run(dask_task.release, self.run_id, on_error="ignore")
                if self.queue is not None:
                    self.queue.close()
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    # -- the loop ---------------------------------------------------------------------------

    def run(self, tasks: Iterator[tuple[Task, dict | None]], seconds: float | None) -> None:
        self._connect()
        deadline = self._warm_up(seconds)
        pending, exhausted = iter(tasks), False
        last_tick = last_count = time.monotonic()
        while True:
            self._reap()
            arrived = self._drain()
            if exhausted and not self.submitted:
                return
            if time.monotonic() - last_count > 1:
                self._count_threads()
                last_count = time.monotonic()
            while not exhausted and len(self.submitted) < AHEAD * max(self.threads, 1):
                exhausted = time.time() >= deadline or not self._submit(pending, deadline)
            self.sink.tick()
            if time.monotonic() - last_tick > 10:
                self.every_10s()
                last_tick = time.monotonic()
            if not arrived:
                time.sleep(POLL / 2)

    def _warm_up(self, seconds: float | None) -> float:
        """Every worker thread starts its child; the budget's clock starts with the first ready."""
        c = self.config
        futures = [
            self.client.submit(dask_task.warm_up, c, self.run_id, self.channel, workers=[address],
                               allow_other_workers=True, pure=False)
            for address, n in self.client.nthreads().items() for _ in range(n)
        ]  # fmt: skip
        first = next(iter(self.distributed.as_completed(futures)))
        self._raise(first)
        self.sink.ready(first.result(), seconds)
        self.deadline = math.inf if seconds is None else time.time() + seconds
        return self.deadline

    def _submit(self, pending: Iterator, deadline: float, task_data=None) -> bool:
        if task_data is None:
            try:
                task_data = next(pending)
            except StopIteration:
                return False
        task, case_data = task_data
        ticket = f"gradcheck-{task.key}-{secrets.token_hex(4)}"
        future = self.client.submit(
            dask_task.run_task, self.config, self.run_id, self.channel, ticket, task, case_data, deadline,
            key=ticket, pure=False,
        )  # fmt: skip
        self.submitted[ticket] = (future, [task])
        self.seen.setdefault(task.key, set())
        return True

    def _reap(self) -> None:
        for ticket, (future, tasks) in list(self.submitted.items()):
            if not future.done():
                continue
            del self.submitted[ticket]
            if future.status == "finished":
                self._drain()  # its batches sent on the way (all in the queue by now), then the last one
                self._batch(future.result())
                continue
            if future.cancelled():
                raise CampaignAbortedError(f"the cluster cancelled task {ticket} (was the scheduler restarted?)")
            exc = future.exception()
            if not isinstance(exc, self.distributed.KilledWorker):
                self._raise(future)
            self._drain()  # what it said before it was lost, first
            task = next((t for t in reversed(tasks) if t.key not in self.closed), None)
            if task is not None:  # it killed one Dask worker after another: its op and dtype are blamed
                checked = len(self.seen.get(task.key, ()))
                rest = task.rest(checked)
                times = getattr(exc, "allowed_failures", 0) + 1
                detail = f"{times} Dask workers died running it; Dask gave up (KilledWorker)"
                self._event(ticket, ("incident", task, None, checked, "worker-crash", detail, rest))
                if rest is not None:
                    self._submit(iter(()), self.deadline, (rest, None))

    def _raise(self, future) -> None:
        exc = future.exception()
        if isinstance(exc, CampaignAbortedError):
            raise exc
        if exc is not None:
            raise CampaignAbortedError(f"a Dask task failed: {type(exc).__name__}: {exc}") from exc

    def _drain(self) -> int:
        batches = self.queue.get(batch=True)
        for batch in batches:
            self._batch(batch)
        return len(batches)

    def _batch(self, batch: bytes) -> None:
        ticket, events = pickle.loads(batch)
        for event in events:
            self._event(ticket, event)

    def _event(self, ticket: str, event: tuple) -> None:
        """One event of a Dask task, unless a run of the task lost earlier has delivered it."""
        kind, *args = event
        if kind == "records":
            key, rows, _failed = args
            if key in self.closed or not rows or rows[0]["example"] in self.seen.setdefault(key, set()):
                self.repeated += 1
                return
            self.seen[key].add(rows[0]["example"])
            self.sink.records(*args)
            return
        task = args[0]
        if task.key in self.closed:
            return
        self.closed.add(task.key)
        self.seen.pop(task.key, None)
        if kind == "done":
            self.sink.done(*args)
        else:
            self.sink.incident(*args)
            rest = args[-1]
            if rest is not None and ticket in self.submitted:  # the same Dask task runs it next
                self.submitted[ticket][1].append(rest)
