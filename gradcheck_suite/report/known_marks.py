"""The known-discrepancies file (``--known``) applied to a results frame, for the HTML and JUnit
reports: which failing rows an entry covers, how many failing checks are new, which entries are stale.

The report applies the file itself, so a re-render (``gradcheck-suite report DIR [--known FILE]``)
marks the same rows the run did. The file is the one meta.json names (``known_file``) unless
the caller gives another. One that cannot be read at render time is not fatal: the report
renders without it and says why.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import pandas as pd

from gradcheck_suite.records import FAILING

if TYPE_CHECKING:
    from gradcheck_suite.known import Known


@dataclass(frozen=True)
class KnownFile:
    """A known-discrepancies file as the report found it: ``known`` when it loaded, else ``error``."""

    path: str
    known: Any = None  # gradcheck_suite.known.Known
    error: str = ""
    from_meta: bool = True  # named by meta.json (else given to the report command)


@dataclass
class KnownView:
    """The file applied to one frame. Counts are checks (rows weighted by ``count``)."""

    path: str
    entries: dict[Hashable, Any] = field(default_factory=dict)  # frame label -> covering KnownEntry
    new: int = 0
    known: int = 0
    stale: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def applied(self) -> bool:
        return not self.error

    def mark(self, label: Hashable) -> str:
        """``entry N: reason`` for a covered row, "" for any other."""
        entry = self.entries.get(label)
        return f"{entry.origin} {entry.number}: {entry.reason}" if entry is not None else ""


def load(meta: dict, path: str | Path | None = None, *, warn: bool = True) -> KnownFile | None:
    """The file ``path`` names, else the one meta.json names; None when neither names one.
    A file that does not load gives a KnownFile with its error (and, with `warn`, a warning on stderr)."""
    from gradcheck_suite.known import TORCH_SOURCE, KnownFileError, load_known, torch_findings

    from_meta = path is None
    path = meta.get("known_file") if from_meta else path
    shipped = torch_findings() if meta.get("torch_findings") else None  # the run applied torch's findings
    if not path or not isinstance(path, (str, Path)):
        return None if shipped is None else KnownFile(TORCH_SOURCE, shipped)
    try:
        own = load_known(path)
        return KnownFile(str(path), own if shipped is None else own + shipped, from_meta=from_meta)
    except (KnownFileError, OSError, ValueError) as exc:  # KnownFileError names the file; the others may not
        error = str(exc) if isinstance(exc, KnownFileError) else f"known-discrepancies file {path}: {exc}"
        if from_meta:
            error += " (the --known file meta.json names)"
        if warn:
            print(f"gradcheck-suite: warning: {error}; rendering without it", file=sys.stderr)
        return KnownFile(str(path), error=error, from_meta=from_meta)


# What the report functions take as `known`: the file as the report found it, a loaded Known
# (e.g. the one a run triaged with), a path, or None for the file meta.json names.
KnownArg = Union[KnownFile, "Known", str, Path, None]


def resolve(meta: dict, known: KnownArg) -> KnownFile | None:
    """A KnownFile as given; a loaded gradcheck_suite.known.Known (e.g. the one a run triaged
    with); the file a path names; or (None) meta.json's file."""
    from gradcheck_suite.known import Known

    if isinstance(known, KnownFile):
        return known
    if isinstance(known, Known):
        return KnownFile(known.source, known, from_meta=known.source == str(meta.get("known_file")))
    return load(meta, known)


def apply(frame: pd.DataFrame, meta: dict, file: KnownFile | None) -> KnownView | None:
    """Split the frame's failing rows by the file's entries; None without a file."""
    if file is None:
        return None
    recorded = meta.get("stale_known") if isinstance(meta.get("stale_known"), list) else None
    if file.known is None:
        return KnownView(file.path, stale=[str(s) for s in recorded or []], error=file.error)
    failing = frame["verdict"].isin(FAILING)
    # Staleness needs only which (engine, op, check, dtype) ran: one row of each, not all of them.
    ran = frame.loc[~failing].drop_duplicates(["engine", "op", "check", "dtype"])
    triage = file.known.split(pd.concat([frame.loc[failing], ran]), interrupted=bool(meta.get("interrupted")))
    entries = {finding.index: finding.entry for finding in triage.known}
    weights = frame["count"]
    known = int(weights.loc[list(entries)].sum()) if entries else 0
    # The run's own list when this is the file it triaged against (it saw every record).
    stale = recorded if file.from_meta and recorded is not None else triage.stale_descriptions()
    return KnownView(
        file.path, entries, new=int(weights[failing].sum()) - known, known=known, stale=[str(s) for s in stale]
    )
