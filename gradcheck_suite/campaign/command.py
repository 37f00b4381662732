"""``gradcheck-suite fuzz``: a campaign over the catalogue with a time or example budget,
worker processes (or a Dask cluster: --scheduler), live progress, and a folder that survives
interruption (--resume).

Failing cases from earlier runs (the project cache, see cache.py) are checked again first,
then the streams start; every failing case gets a replay id (`gradcheck-suite replay ID`).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from gradcheck_suite.campaign.folding import SAMPLE, PassFolder
from gradcheck_suite.campaign.journal import CampaignError, Journal
from gradcheck_suite.campaign.plan import Config, all_tasks, parse_duration, planned_cases, stored_retries
from gradcheck_suite.catalogue.complex_view import as_checked
from gradcheck_suite.engines.protocol import can_check, unsupported_reason
from gradcheck_suite.options import (
    DTYPES,
    UsageError,
    add_output,
    add_selection,
    prepare_output,
    resolve_selection,
    whole_number,
)

DEFAULT_TIME = "10m"
DEFAULT_CASE_TIMEOUT = 120.0
DEFAULTS = {"dtypes": list(DTYPES), "seed": 0, "chunk": 25}  # the parser's, for --resume's check


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
        "--workers", type=whole_number(1, 512, "a number of workers from 1 to 512"), default=None,
        help="worker processes (default: the cores this process may use)",
    )  # fmt: skip
    p.add_argument(
        "--chunk", type=whole_number(1, 10**6, "a positive chunk size"), default=25,
        help="cases per task: one seeded stream of one op and dtype (default: 25)",
    )  # fmt: skip
    p.add_argument(
        "--case-timeout", type=_duration, default=None,
        help="a case running longer is recorded as a timeout and its worker replaced (default: 120s)",
    )  # fmt: skip
    p.add_argument("--no-retry", action="store_true", help="do not re-check stored failing cases first")
    p.add_argument(
        "--keep-passing", action="store_true",
        help="keep every passing row (default: a sample of each op, dtype and check; the rest are counted in one "
        "folded row each)",
    )  # fmt: skip
    p.add_argument(
        "--resume", type=Path, default=None, metavar="DIR",
        help="continue an interrupted campaign from its folder (its settings are reused; --workers, "
        "--case-timeout and --scheduler may change)",
    )  # fmt: skip
    p.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="run the tasks on a Dask cluster: a scheduler's address (tcp://host:8786), or local for a LocalCluster "
        "of --workers processes (needs pip install 'gradcheck-suite[cluster]'; default: the built-in process pool)",
    )  # fmt: skip
    p.add_argument(
        "--upload", type=Path, action="append", default=[], metavar="FILE",
        help="with --scheduler: a .py/.zip/.egg file the workers import (a module:attr engine's module); repeatable",
    )  # fmt: skip
    add_output(p)


# Options that define a campaign: --resume reuses the stored ones, so giving them is an error.
DEFINING = ("ops", "dtypes", "checks", "seed", "time", "examples", "chunk", "name")


def main(args: argparse.Namespace) -> int:
    from gradcheck_suite.finish import load_known

    known = load_known(args.known, not args.no_torch_findings)
    if args.scheduler or args.upload:
        from gradcheck_suite.campaign.cluster import check_options

        check_options(args)  # before a folder is made for nothing
    if args.resume is not None:
        config, elapsed, journal, chosen = _resumed(args)
    else:
        if len(args.engine) > 1:
            raise UsageError("fuzz checks one engine at a time; run one campaign per engine")
        chosen = resolve_selection(args)
        _pairs(chosen.engines[0], chosen.ops, args.dtypes)  # before a folder is made for nothing
        config, elapsed = _new_config(args, chosen), 0.0
        folder = args.out / (args.name or config.campaign_id)
        if (folder / "campaign.json").exists():
            raise UsageError(f"{folder} already holds a campaign: continue it with --resume {folder}, or choose --name")
        journal = Journal(prepare_output(args.out, folder.name))
        journal.start(config)
    return _campaign(args, config, elapsed, journal, chosen, known)


def _resumed(args: argparse.Namespace):
    given = [f"--{o.replace('_', '-')}" for o in DEFINING if getattr(args, o) not in (None, False, [], DEFAULTS.get(o))]
    if args.engine != ["reference"]:
        given.append("--engine")
    if given:
        raise UsageError(f"--resume reuses the campaign's settings; drop {', '.join(given)}")
    folder = args.resume.parent if args.resume.name == "campaign.json" else args.resume
    journal = Journal(folder)
    try:
        config, elapsed = journal.load_config()
    except CampaignError as exc:
        raise UsageError(str(exc)) from None
    if args.workers is not None:
        config.workers = args.workers
    if args.case_timeout is not None:
        config.case_timeout = args.case_timeout
    args.engine, args.ops, args.dtypes, args.checks = [config.engine], config.ops, config.dtypes, config.checks
    chosen = resolve_selection(args)
    print(f"resuming campaign {config.campaign_id} ({elapsed:.0f} s already spent)", file=sys.stderr)
    return config, elapsed, journal, chosen


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # affinity and container CPU sets, where the OS has them
    except AttributeError:
        return os.cpu_count() or 1


def _new_config(args: argparse.Namespace, chosen) -> Config:
    started = _dt.datetime.now(_dt.UTC)
    seconds = args.time if args.time is not None else (None if args.examples else parse_duration(DEFAULT_TIME))
    return Config(
        campaign_id=started.strftime("fuzz-%Y%m%d-%H%M%S") + f"-s{args.seed}-{secrets.token_hex(2)}",
        ops=[op.name for op in chosen.ops], dtypes=list(args.dtypes), checks=chosen.checks,
        engine=args.engine[0], seed=args.seed, examples=args.examples, seconds=seconds,
        workers=args.workers or _usable_cores(), chunk=args.chunk,
        case_timeout=args.case_timeout or DEFAULT_CASE_TIMEOUT, keep_passing=args.keep_passing,
    )  # fmt: skip


def _pairs(engine, ops, dtypes) -> list[tuple[str, str]]:
    pairs = [(op.name, d) for op in ops for d in dtypes if d in op.dtypes and can_check(engine, as_checked(op, d))]
    if not pairs:
        raise UsageError(
            f"nothing to check: engine {engine.name!r} supports none of the selected ops in {', '.join(dtypes)}"
        )
    return pairs


def _campaign(args, config: Config, elapsed: float, journal: Journal, chosen, known) -> int:
    from gradcheck_suite.cache import case_store
    from gradcheck_suite.campaign.progress import Progress
    from gradcheck_suite.campaign.recorder import Recorder
    from gradcheck_suite.campaign.scheduler import CampaignAbortedError, Scheduler
    from gradcheck_suite.campaign.worker import CAMPAIGN_SETTINGS
    from gradcheck_suite.cases_io import decode_case, replay_id
    from gradcheck_suite.finish import base_meta, finish, known_meta
    from gradcheck_suite.oracles.torch_oracle import torch_settings

    engine = chosen.engines[0]
    pairs = _pairs(engine, chosen.ops, config.dtypes)
    done = journal.done_tasks()
    cache = case_store()
    retries = [] if args.no_retry else stored_retries(cache, config, set(pairs), done)
    seconds_left = None if config.seconds is None else max(0.0, config.seconds - elapsed)
    tasks = all_tasks(retries, config, pairs, done, journal.pending_tasks())
    first = next(tasks, None)
    complete = first is None or seconds_left == 0
    planned = planned_cases(config, len(pairs))
    planned = None if planned is None else planned + len(retries)
    progress = Progress(planned=planned, seconds_left=seconds_left, quiet=args.quiet or complete)
    progress.cases = progress.base = journal.cases_done()
    progress.failing.update(journal.failing_done())
    stored = set(cache.ids()) if not complete else set()

    def keep(case_text: str, engine_name: str, **extra: str) -> None:
        case = decode_case(json.loads(case_text))
        if replay_id(case) in stored:  # a stored failure re-checked: the cache has it already
            return
        try:
            stored.add(cache.add(case, engine=engine_name, run_id=config.campaign_id, **extra))
        except OSError as exc:
            print(f"\nwarning: cannot store the case in {cache.path}: {exc}", file=sys.stderr)

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # workers: one core each
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started_at, started = time.monotonic(), _dt.datetime.now(_dt.UTC)
    meta = base_meta(  # before the work: a Ctrl-C after it must not wait for torch's import
        config.campaign_id, [engine], [config.engine], chosen.ops, started, torch_settings(), CAMPAIGN_SETTINGS
    )

    def spent() -> float:
        return elapsed + time.monotonic() - started_at

    recorder = Recorder(
        config, journal, progress, run_id=config.campaign_id, engine_name=engine.name, keep_case=keep,
        folder=PassFolder(None if config.keep_passing else SAMPLE),
    )  # fmt: skip
    save = lambda: journal.save_config(config, spent())  # noqa: E731
    if args.scheduler:
        from gradcheck_suite.campaign.cluster import ClusterScheduler

        scheduler = ClusterScheduler(
            config, recorder, run_id=config.campaign_id, address=args.scheduler, uploads=args.upload, every_10s=save
        )
    else:
        scheduler = Scheduler(config, recorder, run_id=config.campaign_id, every_10s=save)
        progress.workers = config.workers
    interrupted = False
    previous = signal.signal(signal.SIGTERM, _terminate)
    journal.open()
    try:
        _record_unsupported(journal, chosen, engine, config, done)
        if complete:
            print(f"campaign {config.campaign_id} is already complete; reports rewritten", file=sys.stderr)
        else:
            if not args.quiet:
                print(
                    f"fuzz: {engine.name} on {len(pairs)} op/dtype streams, {scheduler.describe()}, "
                    f"{_budget_text(config, seconds_left)}; {len(retries)} stored failures first; "
                    f"folder {journal.folder}",
                    file=sys.stderr,
                )
            scheduler.run(itertools.chain([first], tasks), seconds_left)
    except KeyboardInterrupt:
        interrupted = True
    except CampaignAbortedError as exc:
        interrupted = True  # the reports are still written from what ran, and --resume continues
        print(f"\ngradcheck-suite: error: {exc}", file=sys.stderr)
    finally:
        scheduler.stop()
        recorder.flush()
        journal.close()
        progress.close()
        signal.signal(signal.SIGTERM, previous)
        journal.save_config(config, spent() if not complete else elapsed)
    if interrupted:
        print(
            f"interrupted: reports written from what ran; continue: gradcheck-suite fuzz --resume {journal.folder}",
            file=sys.stderr,
        )
    meta |= recorder.process_settings  # the workers' torch and process settings, where one started
    meta |= {
        "mode": "fuzz", "seed": config.seed, "dtypes": config.dtypes, "checks": config.checks or "all",
        "examples": config.examples, "time_budget_s": config.seconds, "scheduler": args.scheduler or "pool",
        "workers": (scheduler.threads or config.workers) if args.scheduler else config.workers,
        "chunk": config.chunk, "case_timeout_s": config.case_timeout, "resumed": args.resume is not None,
        "passing_rows": "all" if config.keep_passing else f"first {SAMPLE} per op, dtype and check; the rest folded",
        "elapsed_s": round(spent() if not complete else elapsed, 1), "cases": progress.cases,
    }  # fmt: skip
    meta.update(known_meta(args))
    return finish(journal.records(), meta, journal.folder, known=known, junit=args.junit, interrupted=interrupted)


def _record_unsupported(journal: Journal, chosen, engine, config: Config, done: set[str]) -> None:
    """One ``unsupported`` row per (op, dtype) the engine lacks, as `run` writes (once per campaign)."""
    from gradcheck_suite.records import Record

    if "unsupported" in done:
        return
    rows = [
        Record(
            run_id=config.campaign_id, engine=engine.name, op=op.name, check="forward", dtype=dtype, shapes="[]",
            kwargs="{}", seed=config.seed, example=0, verdict="unsupported",
            rule=f"engine {engine.name!r} does not support {op.name}: "
            + unsupported_reason(engine, as_checked(op, dtype)),
        ).row()
        for op in chosen.ops for dtype in config.dtypes
        if dtype in op.dtypes and not can_check(engine, as_checked(op, dtype))
    ]  # fmt: skip
    if rows:
        journal.add_records("unsupported", rows)
        journal.task_done("unsupported", 0, f"{len(rows)} op/dtype streams the engine does not support")


def _budget_text(config: Config, seconds_left: float | None) -> str:
    parts = []
    if config.examples is not None:
        parts.append(f"{config.examples} cases per stream")
    if seconds_left is not None:
        parts.append(f"{seconds_left:.0f} s")
    return " or ".join(parts)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
