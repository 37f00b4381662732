"""``gradcheck-suite fuzz``: a campaign over the catalogue with a time or example budget,
worker processes, live progress, and a folder that survives interruption (--resume).

Failing cases from earlier runs (the project cache, see cache.py) are checked again first,
then the streams start; every failing case gets a replay id (`gradcheck-suite replay ID`).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import signal
import sys
import time
from pathlib import Path

from gradcheck_suite.campaign.journal import CampaignError, Journal
from gradcheck_suite.campaign.plan import Config, Task, chunk_tasks, parse_duration, planned_cases
from gradcheck_suite.options import (
    UsageError,
    add_output,
    add_selection,
    prepare_output,
    resolve_selection,
    whole_number,
)

RETRY_LIMIT = 200  # stored failing cases re-checked at the start of a campaign, newest first
DEFAULT_TIME = "10m"


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive duration, got {text!r}")
    return seconds


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection(p, several_engines=False)
    p.add_argument(
        "--time", type=_duration, default=None,
        help=f"wall-time budget, e.g. 90s, 30m, 1h30m (default: {DEFAULT_TIME} unless --examples is given)",
    )  # fmt: skip
    p.add_argument(
        "--examples", type=whole_number(1, 10**9, "a positive whole number of examples"), default=None,
        help="cases per op and dtype (with --time: whichever ends first)",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=whole_number(1, 512, "a number of workers from 1 to 512"), default=os.cpu_count() or 1,
        help="worker processes (default: all cores)",
    )  # fmt: skip
    p.add_argument(
        "--chunk", type=whole_number(1, 10**6, "a positive chunk size"), default=25,
        help="cases per task: one seeded stream of one op and dtype (default: 25)",
    )  # fmt: skip
    p.add_argument(
        "--case-timeout", type=_duration, default=120.0,
        help="a case running longer is recorded as a timeout and its worker replaced (default: 120s)",
    )  # fmt: skip
    p.add_argument("--no-retry", action="store_true", help="do not re-check stored failing cases first")
    p.add_argument(
        "--resume", type=Path, default=None, metavar="DIR",
        help="continue an interrupted campaign from its folder (its settings are reused)",
    )  # fmt: skip
    add_output(p)


def main(args: argparse.Namespace) -> int:
    from gradcheck_suite.finish import load_known

    known = load_known(args.known)
    if args.resume is not None:
        journal = Journal(args.resume)
        try:
            config, elapsed = journal.load_config()
        except CampaignError as exc:
            raise UsageError(str(exc)) from None
        args.engine, args.ops = [config.engine], config.ops
        chosen = resolve_selection(args)
        print(f"resuming campaign {config.campaign_id} ({elapsed:.0f} s already spent)", file=sys.stderr)
    else:
        if len(args.engine) > 1:
            raise UsageError("fuzz checks one engine at a time; run one campaign per engine")
        chosen = resolve_selection(args)
        config, elapsed = _new_config(args, chosen), 0.0
        journal = Journal(prepare_output(args.out, args.name or config.campaign_id))
        journal.start(config)
    return _campaign(args, config, elapsed, journal, chosen, known)


def _new_config(args: argparse.Namespace, chosen) -> Config:
    started = _dt.datetime.now(_dt.UTC)
    seconds = args.time if args.time is not None else (None if args.examples else parse_duration(DEFAULT_TIME))
    return Config(
        campaign_id=started.strftime("fuzz-%Y%m%d-%H%M%S") + f"-s{args.seed}",
        ops=[op.name for op in chosen.ops], dtypes=list(args.dtypes), checks=chosen.checks,
        engine=args.engine[0], seed=args.seed,
        examples=args.examples, seconds=seconds, workers=args.workers, chunk=args.chunk,
        case_timeout=args.case_timeout,
    )  # fmt: skip


def _campaign(args, config: Config, elapsed: float, journal: Journal, chosen, known) -> int:
    from gradcheck_suite.cache import case_store
    from gradcheck_suite.campaign.progress import Progress
    from gradcheck_suite.campaign.scheduler import CampaignAbortedError, Scheduler
    from gradcheck_suite.campaign.worker import CAMPAIGN_SETTINGS
    from gradcheck_suite.cases_io import decode_case
    from gradcheck_suite.finish import base_meta, finish
    from gradcheck_suite.oracles.torch_oracle import torch_settings

    engine = chosen.engines[0]
    pairs = [(op.name, d) for op in chosen.ops for d in config.dtypes if d in op.dtypes and engine.supports(op)]
    unsupported = [op.name for op in chosen.ops if not engine.supports(op)]
    if unsupported and not args.quiet:
        print(f"engine {engine.name!r} does not support {len(unsupported)} selected ops; skipped", file=sys.stderr)
    if not pairs:
        raise UsageError(f"engine {engine.name!r} supports none of the selected ops in {', '.join(config.dtypes)}")
    done = journal.done_tasks()
    retries = [] if args.no_retry else _retries(case_store(), config, {p for p in pairs}, done)
    seconds_left = None if config.seconds is None else max(0.0, config.seconds - elapsed)
    deadline = time.time() + seconds_left if seconds_left is not None else float("inf")
    tasks = _all_tasks(retries, config, pairs, done)
    planned = planned_cases(config, len(pairs))
    planned = None if planned is None else planned + len(retries)
    progress = Progress(planned=planned, seconds_left=seconds_left, quiet=args.quiet)
    progress.cases = sum(n for n in _done_counts(journal))

    cache = case_store()

    def keep(case_text: str, engine_name: str) -> None:
        try:
            cache.add(decode_case(json.loads(case_text)), engine=engine_name, run_id=config.campaign_id)
        except OSError as exc:
            print(f"\nwarning: cannot store the case in {cache.path}: {exc}", file=sys.stderr)

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # workers: one core each
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    scheduler = Scheduler(config, journal, progress, run_id=config.campaign_id, engine_name=engine.name, keep_case=keep)
    started_at, started = time.monotonic(), _dt.datetime.now(_dt.UTC)
    interrupted = False
    previous = signal.signal(signal.SIGTERM, _terminate)
    journal.open()
    try:
        if not args.quiet:
            budget = _budget_text(config, seconds_left)
            print(
                f"fuzz: {engine.name} on {len(pairs)} op/dtype streams, {config.workers} workers, {budget}; "
                f"{len(retries)} stored failures first; folder {journal.folder}",
                file=sys.stderr,
            )
        scheduler.run(tasks, deadline)
    except KeyboardInterrupt:
        interrupted = True
    except CampaignAbortedError as exc:
        raise UsageError(str(exc)) from None
    finally:
        scheduler.stop()
        journal.close()
        progress.close()
        signal.signal(signal.SIGTERM, previous)
        journal.save_config(config, elapsed + time.monotonic() - started_at)
    if interrupted:
        print(
            f"interrupted: reports written from what ran; continue: gradcheck-suite fuzz --resume {journal.folder}",
            file=sys.stderr,
        )
    records = journal.records()
    meta = base_meta(
        config.campaign_id, [engine], [config.engine], chosen.ops, started, torch_settings(), CAMPAIGN_SETTINGS
    )
    meta |= {
        "mode": "fuzz", "seed": config.seed, "dtypes": config.dtypes, "checks": config.checks or "all",
        "examples": config.examples, "time_budget_s": config.seconds, "workers": config.workers,
        "chunk": config.chunk, "case_timeout_s": config.case_timeout, "resumed": args.resume is not None,
        "elapsed_s": round(elapsed + time.monotonic() - started_at, 1), "cases": progress.cases,
    }  # fmt: skip
    if args.known is not None:
        meta["known_file"] = str(args.known)
    return finish(records, meta, journal.folder, known=known, junit=args.junit, interrupted=interrupted)


def _retries(store, config: Config, pairs: set, done: set[str]) -> list[tuple[Task, dict]]:
    """Stored failing cases of this engine and selection, newest first, each once."""
    chosen: dict[str, dict] = {}
    for entry in store.entries():
        case = entry.get("case", {})
        mine = entry.get("run_id") == config.campaign_id  # found by this campaign before a --resume
        if not mine and entry.get("engine") == config.engine and (case.get("op"), case.get("dtype")) in pairs:
            chosen.pop(entry["replay_id"], None)
            chosen[entry["replay_id"]] = case
    newest = list(chosen.items())[::-1][:RETRY_LIMIT]
    out = []
    for rid, case in newest:
        task = Task(case["op"], case["dtype"], -1, 1, retry=rid)
        if task.key not in done:
            out.append((task, case))
    return out


def _all_tasks(retries, config: Config, pairs, done):
    yield from retries
    for task in chunk_tasks(config, pairs, done):
        yield task, None


def _done_counts(journal: Journal):
    from gradcheck_suite.campaign.journal import _lines

    for entry in _lines(journal.tasks_path):
        yield int(entry.get("cases", 0))


def _budget_text(config: Config, seconds_left: float | None) -> str:
    parts = []
    if config.examples is not None:
        parts.append(f"{config.examples} cases per stream")
    if seconds_left is not None:
        parts.append(f"{seconds_left:.0f} s")
    return " or ".join(parts)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
