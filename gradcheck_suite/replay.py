"""``gradcheck-suite replay ID``: re-run one stored failing case and print a standalone script.

The case is looked up by its replay id (``--from`` a run or campaign folder or a cases.jsonl
file; otherwise the project cache, then ``reports/*/cases.jsonl``, newest first), checked again
exactly as the run checked it, and written out as a script that reproduces it on the engine
and on torch without the suite. Exit code 1 while it still fails, 0 once it no longer does.
"""

from __future__ import annotations

import argparse
import difflib
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradcheck_suite.cache import CASES_FILE, case_store
from gradcheck_suite.cases_io import CaseFormatError, CaseStore, decode_case, replay_id
from gradcheck_suite.options import EXIT_FAILURES, EXIT_OK, UsageError
from gradcheck_suite.records import Record
from gradcheck_suite.strategies import Case

REPORTS_DIR = Path("reports")
DEFAULT_ENGINE = "reference"


INCIDENTS = ("timeout", "worker-crash")  # stored verdicts of cases that hung or killed a worker
REPLAY_TIMEOUT = 120  # seconds a re-run may take before it counts as still hanging


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("replay_id", metavar="ID", help="the replay id of a failing row (results.csv, report.html)")
    parser.add_argument(
        "--from", dest="source", type=Path, default=None, metavar="PATH",
        help=f"a run or campaign folder, or a {CASES_FILE} file (default: the project cache, "
        f"then {REPORTS_DIR}/*/{CASES_FILE}, newest first)",
    )  # fmt: skip
    parser.add_argument(
        "--engine",
        default=None,
        help=f"engine to re-run on (default: the one stored with the case, else {DEFAULT_ENGINE})",
    )
    parser.add_argument(
        "--script-only", action="store_true", help="print only the standalone script, without re-running the checks"
    )
    parser.add_argument(
        "--write", type=Path, default=None, metavar="FILE", help="write the script to FILE instead of printing it"
    )
    parser.add_argument(
        "--timeout", type=int, default=REPLAY_TIMEOUT, metavar="SECONDS",
        help=f"a re-run taking longer still hangs (default: {REPLAY_TIMEOUT})",
    )  # fmt: skip


@dataclass
class Found:
    """A stored entry and the store it came from."""

    entry: dict
    store: CaseStore


def main(args: argparse.Namespace) -> int:
    found = find(args.replay_id, args.source)
    case = _decode(found, args.replay_id)
    spec = args.engine or found.entry.get("engine") or DEFAULT_ENGINE
    engine, oracle = _engine(spec, from_store=args.engine is None), _oracle()
    failing = None
    incident = found.entry.get("verdict") in INCIDENTS
    if incident and not args.script_only:  # it may hang or kill this process: the script comes first
        print(f"{args.replay_id} was recorded as {found.entry['verdict']}: the script first, then the re-run")
        _emit_script(case, spec, engine, oracle, args, None)
        sys.stdout.flush()
    if not args.script_only:
        records = _rerun_within(case, engine, oracle, found.entry, args.replay_id, args.timeout)
        if records is None:
            return EXIT_FAILURES
        failing = [f"{r.check} ({r.verdict})" for r in records if r.failed]
        _print_records(args.replay_id, found, spec, records, failing)
    if not incident or args.script_only:
        _emit_script(case, spec, engine, oracle, args, failing)
    return EXIT_FAILURES if failing else EXIT_OK


class _Expired(BaseException):
    """The re-run's time is up."""


def _rerun_within(case: Case, engine, oracle, entry: dict, rid: str, seconds: int) -> list[Record] | None:
    """rerun(), stopped after ``seconds`` where the platform has SIGALRM (None then)."""
    if not hasattr(signal, "SIGALRM"):
        return rerun(case, engine, oracle, entry)

    def expire(signum, frame):
        raise _Expired  # a BaseException: the checker records every Exception as a finding

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(max(1, seconds))
    try:
        return rerun(case, engine, oracle, entry)
    except _Expired:
        print(f"STILL HANGS: {rid} gave no result within {seconds} s")
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- finding the case ----------------------------------------------------------------------


def stores(source: Path | None) -> list[CaseStore]:
    """Where to look: ``source`` alone, or the cache then the run folders (newest first)."""
    if source is not None:
        path = source / CASES_FILE if source.is_dir() else source
        if not path.is_file():
            what = f"folder {source} has no {CASES_FILE}" if source.is_dir() else f"no such file or folder: {source}"
            raise UsageError(f"--from: {what} (a run or campaign folder, or a {CASES_FILE} file)")
        return [CaseStore(path)]
    runs = sorted(REPORTS_DIR.glob(f"*/{CASES_FILE}"), key=_mtime, reverse=True)
    return [case_store(), *(CaseStore(p) for p in runs)]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def find(rid: str, source: Path | None) -> Found:
    """The stored entry of ``rid``; a UsageError naming where it looked (and close ids) if none."""
    searched, known = stores(source), []
    for store in searched:
        try:
            entry = store.find(rid)
            if entry is None:
                known += [i for i in store.ids() if isinstance(i, str)]
        except (OSError, UnicodeDecodeError) as exc:  # unreadable as a whole: note it, try the next
            print(f"gradcheck-suite: warning: cannot read {store.path}: {exc}", file=sys.stderr)
            continue
        if entry is not None:
            return Found(entry, store)
    places = ", ".join(f"{s.path}{'' if s.path.exists() else ' (absent)'}" for s in searched)
    if source is None:
        places += f", {REPORTS_DIR}/*/{CASES_FILE}" if len(searched) == 1 else ""
    message = f"no stored case with replay id {rid!r}; looked in {places}"
    close = _close_ids(rid, known)
    if close:
        message += f". Did you mean {' or '.join(close)}?"
    elif not known:
        message += ". Failing cases are stored by `gradcheck-suite run` and `fuzz`; use --from PATH for another place"
    raise UsageError(message)


def _close_ids(rid: str, known: list[str]) -> list[str]:
    unique = list(dict.fromkeys(known))
    prefixed = [k for k in unique if k.startswith(rid)][:3]
    return prefixed or difflib.get_close_matches(rid, unique, n=3, cutoff=0.6)


def _decode(found: Found, rid: str) -> Case:
    data = found.entry.get("case")
    try:
        if not isinstance(data, dict):
            raise CaseFormatError(f"the entry has no case object (got {type(data).__name__})")
        case = decode_case(data)
    except CaseFormatError as exc:
        raise UsageError(f"stored case {rid!r} in {found.store.path} cannot be read: {exc}") from None
    if replay_id(case) != rid:
        print(
            f"gradcheck-suite: warning: the case stored as {rid!r} now hashes to {replay_id(case)!r} "
            "(edited store, or a change of the encoding); replaying it as stored",
            file=sys.stderr,
        )
    return case


# -- re-running ----------------------------------------------------------------------------


def _engine(spec: str, from_store: bool):
    from gradcheck_suite.engines import UnknownEngineError, get_engine

    try:
        return get_engine(spec)
    except UnknownEngineError as exc:
        hint = " (the engine stored with the case; choose another with --engine NAME)" if from_store else ""
        raise UsageError(f"{exc}{hint}") from None


def _oracle():
    from gradcheck_suite.oracles.torch_oracle import settle, torch_oracle

    oracle = torch_oracle()
    settle(oracle.module)  # as `run` does: the same torch numbers
    return oracle


def _stored_int(entry: dict, key: str) -> int:
    value = entry.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def rerun(case: Case, engine, oracle, entry: dict) -> list[Record]:
    """The case's records, checked exactly as a run checks it."""
    from gradcheck_suite.checking.case import CaseChecker, CaseIds

    ids = CaseIds(run_id="replay", seed=_stored_int(entry, "seed"), example=_stored_int(entry, "example"))
    return CaseChecker(engine, oracle).check(case, ids)


def _print_records(rid: str, found: Found, spec: str, records: list[Record], failing: list[str]) -> None:
    print(f"replay {rid} from {found.store.path} on engine {spec!r}: {len(records)} checks")
    for r in records:
        score = "" if np.isnan(r.score) else f"score {r.score:.3g}"
        print(f"  {r.check:<10} {r.verdict:<18} {score}".rstrip())
        if r.verdict == "pass":
            continue
        for label, text in (("rule", r.rule), ("detail", r.detail), ("location", r.location)):
            if text:
                print(f"    {label}: " + text.strip().replace("\n", "\n      "))
    if failing:
        print(f"STILL FAILS: {', '.join(failing)}")
    else:
        print(f"no longer fails: no failing verdict on engine {spec!r}")


# -- the script ----------------------------------------------------------------------------


def cotangent_for(case: Case, engine, oracle) -> np.ndarray | None:
    """``case.cotangent`` for torch's output shape, as the checker draws it (the engine's when
    torch raises; None when both do)."""
    for side in (oracle, engine):
        try:
            _, out = side.forward(case.op, case.inputs, case.kwargs)
            return case.cotangent(side.to_numpy(out).shape)
        except Exception:  # noqa: BLE001 - a side that raises is what the script will show
            continue
    return None


def _emit_script(case: Case, spec: str, engine, oracle, args: argparse.Namespace, failing: list[str] | None) -> None:
    from gradcheck_suite.scripts import replay_script, script_engine

    text = replay_script(
        case, script_engine(spec, engine), cotangent_for(case, engine, oracle), title=args.replay_id, failing=failing
    )
    if args.write is not None:
        try:
            args.write.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--write: cannot write {args.write}: {exc.strerror or exc}") from None
        print(f"script written to {args.write} (run it with: python3 {args.write})")
    elif args.script_only:
        print(text, end="")
    else:
        print("\nstandalone script (save it as a .py file and run it with python3; or use --write FILE):\n")
        print(text, end="")
