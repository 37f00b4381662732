"""Reports of a run: results.csv (the data), meta.json (how it was produced), report.html (for
people) and, on request, junit.xml (for CI dashboards)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from gradcheck_suite.records import Record
from gradcheck_suite.report.history import history as run_history
from gradcheck_suite.report.html import render_html, write_html
from gradcheck_suite.report.junit import render_junit, write_junit
from gradcheck_suite.report.known_marks import KnownArg
from gradcheck_suite.report.tables import (
    ReportError,
    atomic_write_text,
    ensure_frame,
    read_csv,
    read_meta,
    records_to_frame,
    write_csv,
    write_meta,
)

__all__ = [
    "FILES",
    "ReportError",
    "read_csv",
    "read_meta",
    "records_to_frame",
    "render_html",
    "render_junit",
    "write_csv",
    "write_html",
    "write_junit",
    "write_meta",
    "write_reports",
]

FILES = {"csv": "results.csv", "meta": "meta.json", "html": "report.html", "junit": "junit.xml"}


def write_reports(
    records_or_frame: Iterable[Record] | pd.DataFrame, meta: dict, out_dir: Path, known: KnownArg = None
) -> dict[str, Path]:
    """Write results.csv, meta.json and report.html into out_dir (created if needed).

    The HTML's history section lists earlier runs found beside out_dir. JUnit XML is
    written separately, by write_junit (``gradcheck-suite report DIR --format junit``).
    ``known``: the known-discrepancies file to apply (a loaded ``known.Known`` or a path);
    by default the one meta.json's ``known_file`` names.
    """
    if isinstance(records_or_frame, pd.DataFrame):
        frame = ensure_frame(records_or_frame)
    else:
        frame = records_to_frame(records_or_frame)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / FILES[key] for key in ("csv", "meta", "html")}
    # The HTML is rendered before anything is written, so a template error leaves no partial set.
    html = render_html(frame, meta, history=run_history(out_dir, frame, meta), known=known)
    write_csv(frame, paths["csv"])
    write_meta(meta, paths["meta"])
    atomic_write_text(paths["html"], html)
    return paths
