"""What a campaign is asked to do, and the tasks that do it.

Work is cut into chunks: one task = one seeded hypothesis stream of up to ``chunk`` cases of
one (op, dtype), numbered by its round. Rounds go over every (op, dtype) in turn, so a time
budget spreads over all ops, and a task is the unit of resumption: a task either finished
(its records are final) or runs again from its start on --resume (same seed, same cases).
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RETRY_LIMIT = 200  # stored failing cases re-checked at the start of a campaign, newest first


def parse_duration(text: str) -> float:
    """Seconds in '90', '90s', '30m', '1.5h', '1h30m'."""
    s = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", s)
    if not parts or "".join(n + u for n, u in parts) != s:
        raise ValueError(f"expected a duration such as 90s, 30m, 1h30m, got {text!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


@dataclass
class Config:
    """A campaign's settings; stored in campaign.json so --resume continues the same campaign."""

    campaign_id: str
    ops: list[str]
    dtypes: list[str]
    checks: list[str] | None
    engine: str
    seed: int
    examples: int | None  # per (op, dtype); None: until the time budget ends
    seconds: float | None  # wall-time budget; None: until the examples are done
    workers: int
    chunk: int
    case_timeout: float
    keep_passing: bool = False  # every passing row (else a sample, the rest folded: folding.py)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Config:
        fields = {f.name for f in dataclasses.fields(cls)}
        required = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
        missing = required - set(data)
        if missing:
            raise ValueError(f"campaign.json lacks {', '.join(sorted(missing))}")
        return cls(**{k: data[k] for k in fields if k in data})

    @property
    def rounds(self) -> float:
        return math.inf if self.examples is None else math.ceil(self.examples / self.chunk)


@dataclass(frozen=True)
class Task:
    """One chunk: ``size`` cases of (op, dtype) from the stream seeded for this round.
    A retry task re-checks one stored failing case (``retry`` holds its replay id)."""

    op: str
    dtype: str
    round: int
    size: int
    base: int = 0  # example number of the chunk's first case within its (op, dtype) stream
    retry: str = ""
    part: int = 0  # > 0: the rest of a chunk whose case hung or crashed its worker (another stream)

    @property
    def key(self) -> str:
        if self.retry:
            return f"retry:{self.retry}"
        return f"{self.op}:{self.dtype}:{self.round}" + (f".{self.part}" if self.part else "")

    def stream_seed(self, seed: int) -> int:
        return zlib.crc32(
            f"{seed}:{self.op}:{self.dtype}:{self.round}".encode() + (b".%d" % self.part if self.part else b"")
        )

    def rest(self, done: int) -> Task | None:
        """The chunk's cases after the first ``done`` (the last of them hung or crashed), as a
        task of its own: None when nothing is left, or for a retry."""
        if self.retry or done >= self.size:
            return None
        return dataclasses.replace(self, size=self.size - done, base=self.base + done, part=self.part + 1)


def chunk_tasks(config: Config, supported: list[tuple[str, str]], done: set[str]) -> Iterator[Task]:
    """Round by round over the (op, dtype) pairs, skipping tasks already done."""
    r = 0
    while r < config.rounds:
        for op, dtype in supported:
            size = config.chunk
            if config.examples is not None:
                size = min(config.chunk, config.examples - r * config.chunk)
            task = Task(op, dtype, r, size, base=r * config.chunk)
            if task.key not in done:
                yield task
        r += 1


def planned_cases(config: Config, pairs: int) -> int | None:
    """Cases the whole campaign checks under an examples budget (None for a time budget)."""
    return None if config.examples is None else config.examples * pairs


def stored_retries(store, config: Config, pairs: set, done: set[str]) -> list[tuple[Task, dict]]:
    """Stored failing cases of this engine and selection, newest first, each once; entries that
    do not decode (a foreign or damaged cache) are skipped with one warning."""
    from gradcheck_suite.cases_io import CaseFormatError, decode_case

    chosen: dict[str, dict] = {}
    bad = 0
    for entry in store.entries():
        case = entry.get("case")
        if not isinstance(case, dict) or not isinstance(entry.get("replay_id"), str):
            bad += 1
            continue
        mine = entry.get("run_id") == config.campaign_id  # found by this campaign before a --resume
        if mine or entry.get("engine") != config.engine or (str(case.get("op")), str(case.get("dtype"))) not in pairs:
            continue
        try:
            decode_case(case)
        except CaseFormatError:
            bad += 1
            continue
        chosen.pop(entry["replay_id"], None)
        chosen[entry["replay_id"]] = case
    if bad:
        print(f"warning: skipped {bad} unreadable entries of {store.path}", file=sys.stderr)
    out = []
    for rid, case in list(chosen.items())[::-1][:RETRY_LIMIT]:
        task = Task(case["op"], case["dtype"], -1, 1, retry=rid)
        if task.key not in done:
            out.append((task, case))
    return out


def all_tasks(retries, config: Config, pairs, done, pending=()):
    """(task, stored case) in the order they run: the stored failing cases, the rests of chunks,
    then the chunks round by round."""
    yield from retries
    yield from ((task, None) for task in pending)  # the rest of chunks cut short before a --resume
    for task in chunk_tasks(config, pairs, done):
        yield task, None
