"""``gradcheck-suite report RUN_DIR``: re-render a run's HTML, or write JUnit XML, from its results.csv.

RUN_DIR is a run folder (results.csv, and meta.json when the run recorded one); a path to a
results.csv is accepted too. Without --out the files are written into RUN_DIR. The
known-discrepancies file meta.json names is applied again (--known FILE applies another).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gradcheck_suite.report import FILES, ReportError, read_csv, read_meta, write_html, write_junit
from gradcheck_suite.report.history import history
from gradcheck_suite.report.known_marks import KnownFile, load

FORMATS = ("html", "junit", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="a run folder holding results.csv (and meta.json)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="html",
        help="html: report.html (default); junit: junit.xml for CI dashboards; all: both",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, default=None,
        help="where to write: a file (or an existing directory) for html or junit, a directory for all "
        "(default: RUN_DIR)",
    )  # fmt: skip
    parser.add_argument(
        "--known", type=Path, default=None, metavar="FILE",
        help="a known-discrepancies file to apply instead of the one meta.json names: failing checks it lists "
        "are marked known and do not fail the report",
    )  # fmt: skip


def _locate(run_dir: Path) -> tuple[Path, Path]:
    """(results.csv, meta.json) of a run folder, or of the folder of a results.csv given directly."""
    from gradcheck_suite.cli import UsageError

    if run_dir.is_file():
        return run_dir, run_dir.parent / FILES["meta"]
    if not run_dir.is_dir():
        raise UsageError(f"run folder {run_dir} does not exist; give the folder a `gradcheck-suite run` wrote")
    return run_dir / FILES["csv"], run_dir / FILES["meta"]


def _load_meta(path: Path) -> tuple[dict, list[str]]:
    """The run's meta.json, or {} and a note saying why it is missing: the report renders either way."""
    if not path.exists():
        return {}, [f"{path.name} was not found beside the results: the report shows no run metadata."]
    try:
        return read_meta(path), []
    except ReportError as exc:
        print(f"gradcheck-suite: warning: {exc}; rendering without run metadata", file=sys.stderr)
        return {}, [f"{exc}: the report shows no run metadata."]


def _targets(args: argparse.Namespace, folder: Path) -> dict[str, Path]:
    kinds = ["html", "junit"] if args.format == "all" else [args.format]
    if args.out is None or args.format == "all" or args.out.is_dir():
        base = args.out if args.out is not None else folder
        return {kind: base / FILES[kind] for kind in kinds}
    return {args.format: args.out}


def _csv_beside(args: argparse.Namespace, folder: Path) -> Path | None:
    """Where a results.csv rebuilt from a journal goes: into the output folder (RUN_DIR, or --out
    when it is a folder); nowhere when --out names a file (beside it could overwrite another run's)."""
    if args.out is None:
        return folder / FILES["csv"]
    if args.format == "all" or args.out.is_dir():
        return args.out / FILES["csv"]
    return None


def _from_journal(folder: Path, csv_path: Path | None):
    """A fuzz campaign's records, as appended while it ran (also written to csv_path, if any)."""
    from gradcheck_suite.campaign.journal import Journal
    from gradcheck_suite.cli import UsageError
    from gradcheck_suite.report import records_to_frame, write_csv

    try:
        frame = records_to_frame(Journal(folder).records())
    except OSError as exc:
        raise UsageError(f"cannot read the campaign journal in {folder}: {exc}") from None
    if csv_path is not None:
        try:
            write_csv(frame, csv_path)
        except OSError as exc:
            raise UsageError(f"cannot write the rebuilt {csv_path}: {exc}. Choose another --out.") from None
    where = f"; written to {csv_path}" if csv_path is not None else " (not written: --out names a file)"
    print(f"results.csv missing: rebuilt from {folder / 'records.jsonl'}{where}", file=sys.stderr)
    return frame


def _known(args: argparse.Namespace, meta: dict) -> KnownFile | None:
    """--known FILE (an error when it cannot be read: the user asked for it), else meta.json's file
    (a warning and a note when it cannot be read: the report renders without it)."""
    from gradcheck_suite.cli import UsageError

    if args.known is None:
        return load(meta)
    known = load(meta, args.known, warn=False)
    if known is not None and known.error:
        raise UsageError(known.error)
    return known


def main(args: argparse.Namespace) -> int:
    from gradcheck_suite.cli import UsageError

    csv_path, meta_path = _locate(args.run_dir)
    journal = csv_path.parent / "records.jsonl"
    try:
        if not csv_path.exists() and journal.exists():  # a campaign killed before it wrote its reports
            frame = _from_journal(csv_path.parent, _csv_beside(args, csv_path.parent))
        else:
            frame = read_csv(csv_path)
    except ReportError as exc:
        raise UsageError(f"{exc}. Expected a run folder written by `gradcheck-suite run`.") from None
    meta, notes = _load_meta(meta_path)
    known = _known(args, meta)
    targets = _targets(args, csv_path.parent)
    try:
        if "html" in targets:
            past = history(csv_path.parent, frame, meta)
            write_html(frame, meta, targets["html"], history=past, notes=notes, known=known)
        if "junit" in targets:
            write_junit(frame, meta, targets["junit"], known=known)
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc}. Choose another --out.") from None
    for kind, path in targets.items():
        print(f"{kind}: {path}")
    return 0
