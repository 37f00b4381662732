"""Known discrepancies: failing checks a project has looked at and accepted for now, so CI
fails only on new ones and says when a listed one no longer occurs.

The file is TOML, one ``[[known]]`` table per entry::

    [[known]]
    op = "relu"              # a catalogue op, or "program" for the semantics row
    check = "vjp-torch"      # one of records.CHECKS
    dtype = "float64"        # or "*" for any dtype
    verdict = "engine-bug"   # a failing verdict (records.FAILING)
    reason = "relu's backward doubles the gradient; fix tracked in #12"
    engine = "myengine"      # optional: the records' engine column; default any engine
    intermittent = true      # optional: occurs only at particular points, so never reported stale

A failing record is *known* when an entry matches its op, check, dtype, verdict and engine;
otherwise it is *new*. Entries may overlap (``dtype = "*"`` and ``dtype = "float32"``, or one
without ``engine`` and one with it): a record counts as matched by every entry that covers it,
so a narrower entry shadowed by a broader one is never called stale while its discrepancy
occurs (the record's ``Finding.entry`` is the first covering entry, in file order).

An entry is *stale* when the run exercised its op, check, dtype (and engine) but no record
matched it: the discrepancy went away (or changed verdict). An entry for an op the run did not
check is not stale. Staleness is not judged on an interrupted run (``split(..., interrupted=
True)``): its last streams are partial, so a discrepancy could simply not have been reached.
An entry whose ``engine`` is none of the run's engines (the ``engine`` column) is reported as a
note: it cannot match anything, which is usually a misspelt engine name.

The package ships one such file, ``torch_findings.toml``: torch's own derivatives that the
numerical reference rejects (torch_findings()). They are findings about torch, not about the
engine under test: ``run`` and ``fuzz`` apply them besides ``--known`` unless asked not to.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradcheck_suite.records import CHECKS, FAILING, VERDICTS, Record

ANY = "*"
FIELDS = ("op", "check", "dtype", "verdict", "reason", "engine", "intermittent")
REQUIRED = ("op", "check", "dtype", "verdict", "reason")
SEMANTICS_OP = "program"  # the op column of the semantics row (semantics.run.OP)


class KnownFileError(ValueError):
    """A known-discrepancies file that cannot be read or has an invalid entry."""


@dataclass(frozen=True)
class KnownEntry:
    """One ``[[known]]`` table; ``number`` is its 1-based position in the file."""

    number: int
    op: str
    check: str
    dtype: str
    verdict: str
    reason: str
    engine: str | None = None
    line: int = 0  # line of its [[known]] header in the file (0: not from a file)
    intermittent: bool = False  # occurs only at particular points: never stale
    origin: str = "entry"  # how the label names it: "entry" (a user's file) or "torch finding"

    def covers(self, row: Mapping[str, Any]) -> bool:
        """Whether this entry accepts the (failing) record ``row``."""
        return self.exercised_by(row) and row["verdict"] == self.verdict

    def exercised_by(self, row: Mapping[str, Any]) -> bool:
        """Whether ``row`` is a check this entry is about, whatever its verdict."""
        return (
            row["op"] == self.op
            and row["check"] == self.check
            and self.dtype in (ANY, row["dtype"])
            and self.engine in (None, row.get("engine"))
        )

    def describe(self) -> str:
        engine = f" engine {self.engine}" if self.engine else ""
        what = f"{self.op} {self.check} {self.dtype} {self.verdict}{engine}"
        return f"{self.origin} {self.number} ({what}: {self.reason})"

    def label(self) -> str:
        """Short: ``entry 2 (line 9): relu vjp-torch float32 engine-bug`` (for meta.json and the HTML)."""
        line = f" (line {self.line})" if self.line else ""
        engine = f" engine {self.engine}" if self.engine else ""
        return f"{self.origin} {self.number}{line}: {self.op} {self.check} {self.dtype} {self.verdict}{engine}"


@dataclass(frozen=True)
class Finding:
    """A failing record: ``index`` is its position in the records given (or its label in a
    DataFrame), ``row`` its columns, ``entry`` the known entry covering it (None: new)."""

    index: Hashable
    row: Mapping[str, Any]
    entry: KnownEntry | None = None


@dataclass
class Triage:
    """Failing records split into new and known, and the stale entries of the run.

    ``stale`` stays empty when the run was ``interrupted`` (not judged); ``unseen_engine``
    lists the entries whose ``engine`` none of the run's records had."""

    new: list[Finding] = field(default_factory=list)
    known: list[Finding] = field(default_factory=list)
    stale: list[KnownEntry] = field(default_factory=list)
    exercised: set[KnownEntry] = field(default_factory=set)  # entries whose op/check/dtype ran
    matched: set[KnownEntry] = field(default_factory=set)  # entries that covered a record
    engines: set[str] = field(default_factory=set)  # the run's engine column values
    unseen_engine: list[KnownEntry] = field(default_factory=list)
    interrupted: bool = False
    entry_count: int = 0  # entries in the file (the interrupted note is for a file that has some)
    source: str = "the known-discrepancies file"

    @property
    def failed(self) -> bool:
        """Whether the run has a failing record no entry covers (the CI verdict)."""
        return bool(self.new)

    @property
    def covered(self) -> set[Hashable]:
        """Indices of the failing records a known entry covers (for the report's "known" mark)."""
        return {f.index for f in self.known}

    def stale_descriptions(self) -> list[str]:
        """One short line per stale entry, e.g. ``entry 2 (line 9): relu vjp-torch float32
        engine-bug — matched nothing`` (meta.json's ``stale_known``, the HTML report)."""
        return [f"{entry.label()} — matched nothing" for entry in self.stale]

    def summary_lines(self) -> list[str]:
        """Lines for the command line's summary: new findings, known ones, stale entries, and
        notes (entries for engines the run did not check; staleness not judged when interrupted)."""
        lines = []
        if self.new:
            lines.append(f"NEW: {len(self.new)} failing checks not in {self.source}:")
            lines += _grouped(self.new)
        if self.known:
            entries = len({f.entry for f in self.known})
            lines.append(f"known: {len(self.known)} failing checks covered by {entries} entries of {self.source}")
        for entry in self.stale:
            lines.append(f"stale: {entry.describe()} matched nothing, although the run checked it; remove it?")
        if self.interrupted and self.entry_count:
            lines.append(f"note: interrupted: stale entries of {self.source} not judged (the last streams are partial)")
        ran = ", ".join(sorted(self.engines)) or "none"
        for entry in self.unseen_engine:
            lines.append(f"note: {entry.label()} is for engine {entry.engine!r}, which this run did not check ({ran})")
        return lines


def _grouped(findings: list[Finding]) -> list[str]:
    """One line per (op, dtype, check, verdict), with a replay id to start from."""
    counts = Counter(_key(f.row) for f in findings)
    first = {}
    for f in findings:
        first.setdefault(_key(f.row), f.row)
    lines = []
    for key, n in counts.items():
        op, dtype, check, verdict = key
        replay = first[key].get("replay_id")
        replay = replay if isinstance(replay, str) else ""  # a frame read without keep_default_na has NaN
        lines.append(f"  {op} {dtype} {check}: {verdict} x{n}" + (f" (e.g. replay {replay})" if replay else ""))
    return lines


def _key(row: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return row["op"], row["dtype"], row["check"], row["verdict"]


class Known:
    """The entries of a known-discrepancies file (``load_known``), or given directly."""

    def __init__(self, entries: Iterable[KnownEntry], source: str = "the known-discrepancies file") -> None:
        self.entries = tuple(entries)
        self.source = source

    def __len__(self) -> int:
        return len(self.entries)

    def covering(self, row: Mapping[str, Any]) -> KnownEntry | None:
        """The first entry that accepts the failing record ``row``, if any."""
        return next((e for e in self.entries if e.covers(row)), None)

    def split(self, records: Any, *, interrupted: bool = False) -> Triage:
        """Split ``records`` (Record objects, mappings with the CSV columns, or a pandas
        DataFrame of results.csv) into new and known failing records, and find stale entries
        (none when ``interrupted``: a partial run would report false alarms)."""
        triage = Triage(source=self.source, interrupted=interrupted, entry_count=len(self.entries))
        for index, row in _rows(records):
            if "engine" in row:
                triage.engines.add(str(row["engine"]))
            triage.exercised.update(e for e in self.entries if e.exercised_by(row))
            if row["verdict"] not in FAILING:
                continue
            covering = [e for e in self.entries if e.covers(row)]
            triage.matched.update(covering)  # every one: an overlapping entry is not stale while it matches
            if covering:
                triage.known.append(Finding(index, row, covering[0]))
            else:
                triage.new.append(Finding(index, row))
        if not interrupted:
            triage.stale = self.stale(triage.exercised, triage.matched)
            triage.unseen_engine = self.unseen_engine(triage.engines)
        return triage

    def covered(self, records: Any) -> set[Hashable]:
        """Indices (positions, or DataFrame labels) of the failing records an entry covers."""
        return self.split(records).covered

    def stale(self, exercised: set[KnownEntry], matched: set[KnownEntry]) -> list[KnownEntry]:
        """Entries the run exercised but that matched no record, in file order (for
        callers that split records in parts, e.g. one pytest item per stream)."""
        return [e for e in self.entries if e in exercised and e not in matched and not e.intermittent]

    def __add__(self, other: Known) -> Known:
        """Both files' entries (a user's --known file and torch's findings), each keeping its label."""
        sources = " and ".join(s for s in (self.source, other.source) if s)
        return Known((*self.entries, *other.entries), source=sources)

    def unseen_engine(self, engines: set[str]) -> list[KnownEntry]:
        """Entries for an engine that is not in ``engines`` (the run's engine column values):
        they can match nothing in this run, so they are neither known nor stale."""
        return [e for e in self.entries if e.engine is not None and e.engine not in engines and e.origin == "entry"]


def _rows(records: Any) -> Iterable[tuple[Hashable, Mapping[str, Any]]]:
    """(index, columns) for each record: Record objects, mappings, or a DataFrame's rows."""
    if hasattr(records, "to_dict") and hasattr(records, "columns"):  # a pandas DataFrame
        missing = [c for c in ("op", "check", "dtype", "verdict") if c not in records.columns]
        if missing:
            raise ValueError(f"records frame lacks the column(s) {', '.join(missing)} of results.csv")
        yield from zip(records.index, records.to_dict("records"))
        return
    for i, record in enumerate(records):
        yield i, (record.row() if isinstance(record, Record) else record)


def load_known(path: str | Path) -> Known:
    """Read and validate a known-discrepancies file; KnownFileError says what is wrong where."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise KnownFileError(f"cannot read known-discrepancies file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise KnownFileError(f"known-discrepancies file {path} is not UTF-8 text: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise KnownFileError(f"known-discrepancies file {path} is not valid TOML: {exc}") from None
    headers = [n for n, line in enumerate(text.splitlines(), start=1) if _HEADER.match(line)]
    entries = parse_entries(data, str(path))
    if len(headers) == len(entries):  # else written inline (known = [{...}]): no lines to point at
        entries = [dataclasses.replace(e, line=n) for e, n in zip(entries, headers)]
    return Known(entries, source=str(path))


_HEADER = re.compile(r"^\s*\[\[\s*known\s*\]\]")

TORCH_FINDINGS = Path(__file__).with_name("torch_findings.toml")
TORCH_SOURCE = "torch's known findings (gradcheck_suite/torch_findings.toml)"


def torch_findings() -> Known:
    """The shipped findings about torch itself: derivatives of torch's that the numerical
    reference rejects, which an engine mirroring torch shares (``shared-bug``) and torch checked
    as the engine has (``engine-bug``). Labelled "torch finding N"; never stale."""
    known = load_known(TORCH_FINDINGS)
    entries = [dataclasses.replace(e, origin="torch finding", intermittent=True) for e in known.entries]
    return Known(entries, source=TORCH_SOURCE)


def parse_entries(data: Mapping[str, Any], source: str) -> list[KnownEntry]:
    """Validate the parsed TOML of a known-discrepancies file (``source`` names it)."""
    extra = sorted(set(data) - {"known"})
    if extra:
        raise KnownFileError(
            f"{source}: unexpected top-level key(s) {', '.join(map(repr, extra))}; entries are [[known]] tables"
        )
    tables = data.get("known", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise KnownFileError(f"{source}: 'known' must be an array of tables, written [[known]]")
    entries = [_entry(table, number, source) for number, table in enumerate(tables, start=1)]
    seen: dict[tuple, int] = {}
    for e in entries:
        key = (e.op, e.check, e.dtype, e.verdict, e.engine)
        if key in seen:
            raise KnownFileError(
                f"{source}: entry {e.number} repeats entry {seen[key]} (same op, check, dtype, verdict, engine)"
            )
        seen[key] = e.number
    return entries


def _entry(table: Mapping[str, Any], number: int, source: str) -> KnownEntry:
    where = f"{source}: entry {number}"
    unknown = sorted(set(table) - set(FIELDS))
    if unknown:
        raise KnownFileError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; expected {', '.join(FIELDS)}")
    missing = [k for k in REQUIRED if k not in table]
    if missing:
        raise KnownFileError(
            f"{where}: missing {', '.join(map(repr, missing))} (every entry needs {', '.join(REQUIRED)})"
        )
    intermittent = table.get("intermittent", False)
    if not isinstance(intermittent, bool):
        raise KnownFileError(f"{where}: 'intermittent' must be true or false, got {intermittent!r}")
    strings = {k: v for k, v in table.items() if k != "intermittent"}
    for key, value in strings.items():
        if not isinstance(value, str) or not value.strip():
            raise KnownFileError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    values = {k: v.strip() for k, v in strings.items()}
    _validate(values, where)
    return KnownEntry(number=number, intermittent=intermittent, **values)


def _validate(entry: dict[str, str], where: str) -> None:
    import difflib

    from gradcheck_suite.catalogue import CATALOGUE

    op, check, verdict, dtype = entry["op"], entry["check"], entry["verdict"], entry["dtype"]
    if op not in CATALOGUE and op != SEMANTICS_OP:
        close = difflib.get_close_matches(op, [*CATALOGUE, SEMANTICS_OP], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KnownFileError(
            f"{where}: unknown op {op!r}{hint}; expected a catalogue op (gradcheck-suite list) "
            f"or {SEMANTICS_OP!r} for the semantics row"
        )
    if check not in CHECKS:
        raise KnownFileError(f"{where}: unknown check {check!r}; expected one of {', '.join(CHECKS)}")
    if verdict not in VERDICTS:
        raise KnownFileError(f"{where}: unknown verdict {verdict!r}; expected one of {', '.join(VERDICTS)}")
    if verdict not in FAILING:
        raise KnownFileError(
            f"{where}: verdict {verdict!r} does not fail a run, so it needs no entry; "
            f"failing verdicts are {', '.join(sorted(FAILING))}"
        )
    if (op == SEMANTICS_OP) != (check == "semantics"):
        raise KnownFileError(f"{where}: the 'semantics' check belongs to op {SEMANTICS_OP!r} and only to it")
    dtypes = ("mixed",) if op == SEMANTICS_OP else CATALOGUE[op].dtypes
    if dtype != ANY and dtype not in dtypes:
        raise KnownFileError(
            f"{where}: {op} is not checked in dtype {dtype!r}; expected one of {', '.join(dtypes)} or '*'"
        )


__all__ = [
    "ANY", "TORCH_FINDINGS", "Finding", "Known", "KnownEntry", "KnownFileError", "Triage", "load_known",
    "parse_entries", "torch_findings",
]  # fmt: skip
