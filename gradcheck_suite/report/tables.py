"""Records <-> pandas frames <-> results.csv / meta.json, with atomic writes and validation."""

from __future__ import annotations

import dataclasses
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
INT_COLUMNS = ("seed", "example", "count")
FLOAT_COLUMNS = ("max_abs_err", "max_rel_err", "tolerance", "score", "duration_ms")
DTYPES: dict[str, str] = {
    name: "int64" if name in INT_COLUMNS else "float64" if name in FLOAT_COLUMNS else "str" for name in COLUMNS
}
# The first release wrote the columns up to `reference`; a results file needs those. Columns
# added since are filled with the Record's default when an older file lacks them.
REQUIRED_COLUMNS = tuple(list(COLUMNS)[: list(COLUMNS).index("reference") + 1])
LATER_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Record) if f.name not in REQUIRED_COLUMNS}
# The frame.attrs key listing the columns an older results file lacked (the HTML says so).
FILLED = "filled_columns"
# How other tools write a missing float (pandas' to_numeric parses "inf" but not these).
NAN_TEXT = frozenset({"", "nan", "-nan", "+nan", "na", "n/a", "null", "none"})


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
            elif dtype == "float64":
                frame[name] = _floats(column, name)
            else:
                # Blank CSV cells are an error in integer columns.
                frame[name] = pd.to_numeric(column.replace("", float("nan")), errors="raise").astype(dtype)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ReportError(f"{source}: column {name!r} is not {dtype}: {exc}") from exc
    return frame


def _floats(column: pd.Series, name: str) -> pd.Series:
    """A float column; blank cells and NaN as other tools spell it ("nan", "NaN", "NA") are NaN."""
    numeric = pd.to_numeric(column, errors="coerce").astype("float64")
    unparsed = numeric.isna() & column.notna()
    if unparsed.any():  # only the cells that did not parse are looked at as text
        text = column[unparsed].astype(str).str.strip().str.lower()
        bad = ~text.isin(NAN_TEXT)
        if bad.any():
            first = int(unparsed.to_numpy().nonzero()[0][bad.to_numpy()][0])
            raise ValueError(f"{column.iloc[first]!r} in data row {first + 1} is not a number")
    return numeric


def check_columns(frame: pd.DataFrame, source: str) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ReportError(f"{source} is not a gradcheck-suite results table: missing columns: {', '.join(missing)}")


def ensure_frame(frame: pd.DataFrame, source: str = "frame") -> pd.DataFrame:
    """Validate a frame from elsewhere (e.g. a caller) and normalise its dtypes. Columns added
    after the first release are filled with their defaults when missing (an older results file);
    ``frame.attrs[FILLED]`` lists them."""
    check_columns(frame, source)
    filled = [name for name in LATER_DEFAULTS if name not in frame.columns]
    if filled:
        frame = frame.assign(**{name: LATER_DEFAULTS[name] for name in filled})
    known = _coerce(frame, source)
    extra = [name for name in frame.columns if name not in COLUMNS]
    out = known[list(COLUMNS) + extra]
    if not out.index.is_unique:  # rows are told apart by label (e.g. the ones a known entry covers)
        out = out.reset_index(drop=True)
    # A frame checked before (the reports re-check theirs) keeps the columns it lacked at first.
    out.attrs = {**out.attrs, FILLED: list(dict.fromkeys([*frame.attrs.get(FILLED, []), *filled]))}
    return out


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temp file beside `path`, then os.replace, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    # os.open with 0o666 (unlike mkstemp's 0o600) gives the file the usual umask permissions.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        # newline="" keeps the CSV's own line endings on every platform.
        # backslashreplace: a lone surrogate in a string from data (undecodable input, a foreign
        # CSV) is written as \udcxx rather than stop the whole report.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
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
