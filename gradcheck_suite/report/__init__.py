"""Reports of a run: results.csv (the data), meta.json (how it was produced), report.html (for people)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from gradcheck_suite.records import Record
from gradcheck_suite.report.html import render_html, write_html
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
    "ReportError",
    "read_csv",
    "read_meta",
    "records_to_frame",
    "render_html",
    "write_csv",
    "write_html",
    "write_meta",
    "write_reports",
]

FILES = {"csv": "results.csv", "meta": "meta.json", "html": "report.html"}


def write_reports(records_or_frame: Iterable[Record] | pd.DataFrame, meta: dict, out_dir: Path) -> dict[str, Path]:
    """Write results.csv, meta.json and report.html into out_dir (created if needed)."""
    if isinstance(records_or_frame, pd.DataFrame):
        frame = ensure_frame(records_or_frame)
    else:
        frame = records_to_frame(records_or_frame)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in FILES.items()}
    # The HTML is rendered before anything is written, so a template error leaves no partial set.
    html = render_html(frame, meta)
    write_csv(frame, paths["csv"])
    write_meta(meta, paths["meta"])
    atomic_write_text(paths["html"], html)
    return paths
