"""The Dask worker's side of ``fuzz --scheduler``: one Dask task runs one campaign Task.

The cases do not run in the Dask worker itself. A case that hangs cannot be stopped inside a
Python thread, and one that kills its process would take the Dask worker with it: the cluster
would run the task again elsewhere, where the same case kills again. So each Dask worker
thread keeps one campaign worker process (worker.main, as in the built-in pool), started with
subprocess (Dask's worker processes are daemonic: multiprocessing may not start children
there), and watches it with the pool's own Scheduler: a hang or a crash becomes a ``timeout``
or ``worker-crash`` record, the child is replaced, the rest of the chunk goes on, and the Dask
worker stays up. What that Scheduler reports goes to the client in batches: through a
distributed.Queue every FLUSH seconds and at once after a hang or crash, the last one as the
task's result (so the child's next task need not wait for it); the client writes the journal.
The child is kept between tasks of the same campaign (torch is imported once).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing as mp
import os
import pickle
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection

from gradcheck_suite.campaign.plan import Config, Task
from gradcheck_suite.campaign.scheduler import Scheduler

FLUSH = 0.25  # seconds between batches sent to the client (and its journal)
_CHILD = "import sys; from gradcheck_suite.campaign.dask_task import child_main; child_main(*sys.argv[1:])"


class ReleasedError(Exception):
    """The client ended the campaign (Ctrl-C, its end): this task stops."""


class Forwarder:
    """A Recorder's methods (recorder.py) as events for the client, pickled in batches. Each
    batch carries the Dask task's ``ticket``, so the client knows which submission it is from."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.ticket = ""
        self.events: list[tuple] = []
        self.sent = time.monotonic()
        self.released = False
        self.settings: dict = {}
        self.queue = None  # the distributed.Queue of ``channel`` (each one made is a call to the scheduler)

    def ready(self, settings: dict, seconds: float | None = None) -> None:
        self.settings = settings  # the client has them from the warm-up (warm_up returns them)

    def records(self, key: str, rows: list[dict], failed_case: str | None) -> None:
        self.events.append(("records", key, rows, failed_case))

    def done(self, task: Task, cases: int, note: str) -> None:
        self.events.append(("done", task, cases, note))

    def incident(self, task, case, checked, verdict, detail, rest) -> None:
        self.events.append(("incident", task, case, checked, verdict, detail, rest))
        self.flush()  # now: the worker may be lost before the next batch

    def tick(self) -> None:
        if self.released:
            raise ReleasedError
        if time.monotonic() - self.sent > FLUSH:
            self.flush()

    def flush(self) -> None:
        from distributed import Queue

        if self.events and not self.released:
            if self.queue is None or self.queue.name != self.channel:
                self.close()
                self.queue = Queue(self.channel)
            self.queue.put(self.take())  # returns once the scheduler has it
        self.sent = time.monotonic()

    def take(self) -> bytes:
        """The events not sent yet, as one batch (and none left)."""
        batch, self.events = pickle.dumps((self.ticket, self.events)), []
        return batch

    def close(self) -> None:
        if self.queue is not None:
            self.queue.close()
            self.queue = None


class _Child:
    """A subprocess.Popen with the part of multiprocessing.Process's interface Scheduler uses."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self.popen = popen

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        self.popen.kill()

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)

    @property
    def exitcode(self) -> int | None:
        return self.popen.returncode


def launch_child(wid: int, args: tuple) -> tuple[_Child, Connection]:
    """scheduler.spawn_worker for a daemonic process: the child gets its end of the pipe as a
    file descriptor, and this process's import path (with the files of client.upload_file)."""
    from distributed import get_worker

    mine, theirs = mp.Pipe(duplex=True)
    path = [get_worker().local_directory, *(p or os.getcwd() for p in sys.path)]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(path)}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core each, as the pool's workers
    env.setdefault("OMP_NUM_THREADS", "1")
    fd = theirs.fileno()
    popen = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(fd), json.dumps([wid, *args])], pass_fds=[fd], env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    theirs.close()
    return _Child(popen), mine


def child_main(fd: str, args: str) -> None:
    from gradcheck_suite.campaign import worker

    parent = os.getppid()
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    try:
        worker.main(*json.loads(args), Connection(int(fd)))
    except OSError:  # the relay is gone (its Dask worker was killed): nothing to report to
        os._exit(0)


def _exit_when_orphaned(parent: int) -> None:
    """A Dask worker killed outright leaves its child behind; a hung one would never notice."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


@dataclasses.dataclass
class _Relay:
    scheduler: Scheduler
    forwarder: Forwarder
    ident: tuple  # the campaign and what its child was started with
    busy: bool = False


_relays: dict[int, _Relay] = {}  # by thread: a Dask worker thread runs one task at a time
_lock = threading.Lock()


def _relay(config: Config, run_id: str, channel: str) -> _Relay:
    ident = (run_id, config.engine, tuple(config.checks or ()), config.seed)
    with _lock:
        relay = _relays.get(threading.get_ident())
        if relay is None or relay.ident != ident or relay.forwarder.released:
            if relay is not None:
                _drop(relay)
            one = dataclasses.replace(config, workers=1)
            forwarder = Forwarder(channel)
            relay = _Relay(Scheduler(one, forwarder, run_id=run_id, launch=launch_child), forwarder, ident)
            _relays[threading.get_ident()] = relay
        relay.scheduler.config.case_timeout = config.case_timeout  # --resume may change it
        relay.forwarder.channel = channel
        relay.busy = True
    return relay


def _finished(relay: _Relay, failed: bool) -> None:
    with _lock:
        relay.busy = False
        if failed:  # released, or the child could not start: start afresh next time
            _drop(relay)
            _relays.pop(threading.get_ident(), None)


def _drop(relay: _Relay) -> None:
    relay.scheduler.stop()
    relay.forwarder.close()


def warm_up(config: Config, run_id: str, channel: str) -> dict:
    """Start this thread's child; its process settings (for meta.json) once it is ready."""
    relay = _relay(config, run_id, channel)
    failed = True
    try:
        relay.scheduler.wait_ready()
        failed = False
    finally:
        _finished(relay, failed)
    return relay.forwarder.settings


def run_task(config: Config, run_id: str, channel: str, ticket: str, task: Task, case_data, deadline: float) -> bytes:
    """Run ``task`` (and the rest of its chunk after a hang or crash) until ``deadline``; the last
    batch of events is the result (not sent through the queue: the child gets its next task
    sooner, while the client fetches it)."""
    relay = _relay(config, run_id, channel)
    relay.forwarder.ticket = ticket
    failed = True
    try:
        relay.scheduler.run(iter([(task, case_data)]), None, deadline=deadline)
        failed = False
    except ReleasedError:  # the campaign ended: nobody waits for the rest
        pass
    except BaseException:
        relay.forwarder.flush()  # what it found before it failed
        raise
    finally:
        _finished(relay, failed)
    return relay.forwarder.take()


def release(run_id: str) -> int:
    """Run on every worker (client.run) when a campaign ends: idle children of ``run_id`` end
    now, busy ones at their relay's next look (within a POLL)."""
    ended = 0
    with _lock:
        for thread, relay in list(_relays.items()):
            if relay.ident[0] != run_id:
                continue
            relay.forwarder.released = True
            if not relay.busy:
                _drop(relay)
                del _relays[thread]
                ended += 1
    return ended
