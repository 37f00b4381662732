"""The end of a run or campaign, shared by both: reports written from whatever ran,
failures triaged against the known-discrepancies file, a summary, the exit code."""

from __future__ import annotations

import os
import platform
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from gradcheck_suite.options import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_OK, UsageError


def load_known(path: Path | None, torch_findings: bool = True) -> Any:
    """The known-discrepancies file, read before any work so a bad file fails fast, joined with
    torch's known findings (known.torch_findings) unless ``torch_findings`` is off."""
    from gradcheck_suite.known import KnownFileError
    from gradcheck_suite.known import load_known as load
    from gradcheck_suite.known import torch_findings as shipped

    known = shipped() if torch_findings else None
    if path is None:
        return known
    try:
        own = load(path)
    except (KnownFileError, OSError) as exc:
        raise UsageError(str(exc) if isinstance(exc, KnownFileError) else f"cannot read {path}: {exc}") from None
    return own if known is None else own + known


def known_meta(args: Any) -> dict:
    """What meta.json records of the known files a run applied (``report`` re-applies them)."""
    from gradcheck_suite.known import TORCH_FINDINGS

    meta = {"torch_findings": str(TORCH_FINDINGS) if not args.no_torch_findings else None}
    if args.known is not None:
        meta["known_file"] = str(args.known.resolve())  # the report re-applies it from any folder
    return meta


def hypothesis_settings(s: Any) -> dict:
    """The hypothesis settings that decide which cases a stream generates, for meta.json."""
    return {
        "max_examples": s.max_examples,
        "derandomize": s.derandomize,
        "database": None if s.database is None else type(s.database).__name__,
        "phases": [p.name for p in s.phases],
        "deadline": None if s.deadline is None else str(s.deadline),
    }


def base_meta(
    run_id: str, engines: list, specs: list[str], ops: list, started: Any, torch_info: dict, stream_settings: Any
) -> dict:
    """What every run's meta.json records: tool, engines, torch and its settings, versions,
    platform, hypothesis settings, ops, start time (callers add their budget and the end)."""
    import hypothesis
    import numpy

    from gradcheck_suite import __version__

    return {
        "run_id": run_id,
        "tool_version": __version__,
        "engine": ",".join(e.name for e in engines),
        "engine_version": ",".join(str(getattr(e, "version", "")) for e in engines),
        "engine_specs": {e.name: spec for e, spec in zip(engines, specs)},
        **torch_info,
        "hypothesis_version": hypothesis.__version__,
        "hypothesis_settings": hypothesis_settings(stream_settings),
        "numpy_version": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "ops": [op.name for op in ops],
        "started": started.isoformat(timespec="seconds"),
        "command": "gradcheck-suite " + " ".join(sys.argv[1:])
        if sys.argv and "gradcheck" in os.path.basename(sys.argv[0])
        else "",
    }


def finish(records: list, meta: dict, out_dir: Path, *, known: Any, junit: Path | None, interrupted: bool) -> int:
    """Write results.csv, meta.json, report.html (and JUnit), print the summary, return the exit code."""
    import datetime as _dt

    from gradcheck_suite.report import write_reports

    meta["finished"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    meta["interrupted"] = interrupted
    failing = [r for r in records if r.failed]
    triage = known.split(records, interrupted=interrupted) if known is not None else None
    new = [records[f.index] for f in triage.new] if triage is not None else failing
    if triage is not None:
        meta["stale_known"] = triage.stale_descriptions()
        meta["known_failures"] = len(triage.known)
        meta["new_failures"] = len(new)
    try:
        paths = write_reports(records, meta, out_dir, known=known)
        if junit is not None:
            from gradcheck_suite.report.junit import write_junit
            from gradcheck_suite.report.tables import records_to_frame

            write_junit(records_to_frame(records), meta, junit, known=known)
            paths["junit"] = junit
    except OSError as exc:
        raise UsageError(f"cannot write reports to {out_dir}: {exc}") from None
    _summary(records, new, paths, interrupted)
    if triage is not None:
        for line in triage.summary_lines():
            print(line, file=sys.stderr if triage.stale else sys.stdout)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILURES if new else EXIT_OK


def _summary(records: list, new: list, paths: dict, interrupted: bool) -> None:
    verdicts: Counter[str] = Counter()
    for r in records:  # a fuzz campaign's folded row stands for `count` passing checks
        verdicts[r.verdict] += r.count
    failing = Counter((r.engine, r.op) for r in new)
    ops = {r.op for r in records}
    engines = sorted({r.engine for r in records})
    status = "FAIL" if failing else "PASS"
    if interrupted:
        status = f"INTERRUPTED ({status.lower()} so far)"
    counts = ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items()))
    on = f" on {', '.join(engines)}" if engines else ""
    print(f"{status}: {sum(verdicts.values())} checks of {len(ops)} ops{on} ({counts or 'nothing ran'})")
    several = len(engines) > 1
    for (engine, op), n in failing.most_common():
        print(f"  {engine + ': ' if several else ''}{op}: {n} failing checks")
    shown = "  ".join(str(paths[k]) for k in ("html", "csv", "junit") if k in paths)
    print(f"reports: {shown}")
