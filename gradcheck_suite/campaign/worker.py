"""A campaign worker process: takes tasks, runs their hypothesis streams, and sends every
case's records back as soon as they exist.

Before each case it announces the case (exactly, as cases_io JSON), so if the case hangs or
kills the process the parent can still record it and store it for replay. Streams aim at large
discrepancies: each check's score (error / budget) is a hypothesis ``target``, so the target
phase climbs toward the cases where the engine is furthest off.
"""

from __future__ import annotations

import os
import signal
import time
import traceback

from hypothesis import given, settings
from hypothesis import seed as hypothesis_seed

from gradcheck_suite.campaign.plan import Task
from gradcheck_suite.cases_io import case_json, decode_case
from gradcheck_suite.checking.case import CaseChecker, CaseIds
from gradcheck_suite.profiles import PROFILES
from gradcheck_suite.runner import aim_at_large_errors, check_case, without_local_constants
from gradcheck_suite.strategies import cases

CAMPAIGN_SETTINGS = PROFILES["campaign"]  # targeting on; chunks set max_examples


class _OutOfTime(BaseException):
    """Ends a stream at the campaign's deadline (BaseException: hypothesis lets it through)."""


def main(wid: int, engine_name: str, checks: list[str] | None, run_id: str, seed: int, conn) -> None:
    """Process entry point (spawned): build the engine and torch once, then serve tasks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        checker, process_settings = _checker(engine_name, checks)
    except Exception:  # noqa: BLE001 - reported to the parent, which stops the campaign
        conn.send(("failed", wid, traceback.format_exc(limit=8)))
        return
    outbox = _Outbox(conn)
    outbox.put(("ready", wid, (os.getpid(), process_settings)))
    while (message := _next_task(conn)) is not None:
        task, case_data, deadline = message
        try:
            n, note = _run(task, case_data, deadline, checker, run_id, seed, wid, outbox)
        except Exception:  # noqa: BLE001 - a stream that breaks is a finding, not the end
            n, note = 0, "task raised: " + traceback.format_exc(limit=6)[-1500:]
        outbox.put(("done", wid, (task.key, n, note)))


class _Outbox:
    """Messages to the parent, written to the pipe before put() returns."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def put(self, message: tuple) -> None:
        self.conn.send(message)


def _next_task(conn):
    try:
        return conn.recv()
    except EOFError:  # the parent is gone
        return None


def _checker(engine_name: str, checks: list[str] | None) -> tuple[CaseChecker, dict]:
    """The worker's checker, and the process settings it opted into (for meta.json)."""
    from gradcheck_suite import process
    from gradcheck_suite.engines import get_engine
    from gradcheck_suite.oracles.torch_oracle import torch_oracle

    oracle = torch_oracle()
    checker = CaseChecker(get_engine(engine_name), oracle, checks=checks)
    return checker, process.for_command(oracle.module)  # after the engine's import: frozen with the rest


def _run(task: Task, case_data, deadline: float, checker: CaseChecker, run_id, seed, wid, outbox) -> tuple[int, str]:
    if task.retry:
        case = decode_case(case_data)
        _check(case, CaseIds(run_id, seed, -1), task, checker, wid, outbox)
        return 1, "retried a stored failing case"
    return _stream(task, deadline, checker, run_id, seed, wid, outbox)


def _stream(task: Task, deadline, checker, run_id, seed, wid, outbox) -> tuple[int, str]:
    from gradcheck_suite import catalogue

    done = 0

    @settings(CAMPAIGN_SETTINGS, max_examples=task.size)
    @hypothesis_seed(task.stream_seed(seed))
    @given(case=cases(catalogue.get(task.op), task.dtype))
    def check(case) -> None:
        nonlocal done
        if time.time() > deadline:
            raise _OutOfTime
        records = _check(case, CaseIds(run_id, seed, task.base + done), task, checker, wid, outbox)
        done += 1
        aim_at_large_errors(records)

    try:
        with without_local_constants():
            check()
    except _OutOfTime:
        return done, "stopped at the time budget"
    return done, ""


def _check(case, ids: CaseIds, task: Task, checker: CaseChecker, wid: int, outbox) -> list:
    outbox.put(("start", wid, (task.key, ids.example, case_json(case))))
    records = check_case(checker, case, ids)
    failed = any(r.failed for r in records)
    outbox.put(("records", wid, (task.key, [r.row() for r in records], case_json(case) if failed else None)))
    return records
