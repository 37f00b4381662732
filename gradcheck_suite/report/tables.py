"""Records <-> pandas frames <-> results.csv / meta.json, with atomic writes and validation."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from gradcheck_suite.records import COLUMNS, Record

# Column dtypes, so a frame built from records and one read back from CSV compare equal.
# "str" is the default string dtype on pandas 3 and plain object on pandas 2, matching
# what read_csv(dtype=str) yields on each.
INT_COLUMNS = ("seed", "example")
FLOAT_COLUMNS = ("max_abs_err", "max_rel_err", "tolerance", "score", "duration_ms")
DTYPES: dict[str, str] = {
    name: "int64" if name in INT_COLUMNS else "float64" if name in FLOAT_COLUMNS else "str" for name in COLUMNS
}


class ReportError(Exception):
    """A results file or report could not be read or written; the message names the file."""


def records_to_frame(records: Iterable[Record]) -> pd.DataFrame:
    """One row per record, columns exactly COLUMNS in order, dtypes from DTYPES."""
    rows = [record.row() for record in records]
    return _coerce(pd.DataFrame(rows, columns=list(COLUMNS)), source="records")


def _coerce(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Cast the known columns to DTYPES; unknown (newer) columns are left as they are."""
    frame = frame.copy()
    for name, dtype in DTYPES.items():
        column = frame[name]
        try:
            if dtype == "str":
                frame[name] = column.astype(object).where(column.notna(), "").astype(str)
            else:
                # Blank CSV cells are missing floats; they are an error in integer columns.
                numeric = pd.to_numeric(column.replace("", float("nan")), errors="raise")
                frame[name] = numeric.astype(dtype)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ReportError(f"{source}: column {name!r} is not {dtype}: {exc}") from exc
    return frame


def check_columns(frame: pd.DataFrame, source: str) -> None:
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing:
        raise ReportError(f"{source} is not a gradcheck-suite results table: missing columns: {', '.join(missing)}")


def ensure_frame(frame: pd.DataFrame, source: str = "frame") -> pd.DataFrame:
    """Validate a frame from elsewhere (e.g. a caller) and normalise its dtypes."""
    check_columns(frame, source)
    known = _coerce(frame, source)
    extra = [name for name in frame.columns if name not in COLUMNS]
    return known[list(COLUMNS) + extra]


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temp file beside `path`, then os.replace, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    # os.open with 0o666 (unlike mkstemp's 0o600) gives the file the usual umask permissions.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        # newline="" keeps the CSV's own line endings on every platform.
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    # Python's float repr round-trips exactly; NaN is written as an empty cell.
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def read_csv(path: Path) -> pd.DataFrame:
    """Read a results.csv; ReportError when it is missing, unreadable or lacks columns."""
    path = Path(path)
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise ReportError(f"results file {path} {what}")
    try:
        # Everything as text first (no "NA"/"nan" guessing), so strings come back verbatim.
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReportError(f"results file {path} is not readable as CSV: {exc}") from exc
    return ensure_frame(frame, source=f"results file {path}")


def write_meta(meta: dict, path: Path) -> None:
    # default=str: paths, datetimes and numpy scalars become strings rather than crash the run.
    atomic_write_text(path, json.dumps(meta, sort_keys=True, indent=2, default=str) + "\n")


def read_meta(path: Path) -> dict:
    path = Path(path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(f"meta file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"meta file {path} is not readable as JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise ReportError(f"meta file {path} does not hold a JSON object")
    return meta
