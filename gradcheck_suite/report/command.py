"""``gradcheck-suite report RUN_DIR``: re-render a run's HTML, or write JUnit XML, from its results.csv.

RUN_DIR is a run folder (results.csv, and meta.json when the run recorded one); a path to a
results.csv is accepted too. Without --out the files are written into RUN_DIR.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gradcheck_suite.report import FILES, ReportError, read_csv, read_meta, write_html, write_junit
from gradcheck_suite.report.history import history

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


def _from_journal(folder: Path):
    """A fuzz campaign's records, as appended while it ran (also written out as results.csv)."""
    from gradcheck_suite.campaign.journal import Journal
    from gradcheck_suite.report import records_to_frame, write_csv

    frame = records_to_frame(Journal(folder).records())
    write_csv(frame, folder / FILES["csv"])
    return frame


def main(args: argparse.Namespace) -> int:
    from gradcheck_suite.cli import UsageError

    csv_path, meta_path = _locate(args.run_dir)
    journal = csv_path.parent / "records.jsonl"
    try:
        if not csv_path.exists() and journal.exists():  # a campaign killed before it wrote its reports
            frame = _from_journal(csv_path.parent)
            print(f"results.csv missing: rebuilt from {journal}", file=sys.stderr)
        else:
            frame = read_csv(csv_path)
    except ReportError as exc:
        raise UsageError(f"{exc}. Expected a run folder written by `gradcheck-suite run`.") from None
    meta, notes = _load_meta(meta_path)
    targets = _targets(args, csv_path.parent)
    try:
        if "html" in targets:
            past = history(csv_path.parent, frame, meta)
            write_html(frame, meta, targets["html"], history=past, notes=notes)
        if "junit" in targets:
            write_junit(frame, meta, targets["junit"])
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc}. Choose another --out.") from None
    for kind, path in targets.items():
        print(f"{kind}: {path}")
    return 0
