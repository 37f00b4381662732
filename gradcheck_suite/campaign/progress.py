"""The campaign's live status: one line redrawn in place on a terminal, plain lines every
``PLAIN_EVERY`` seconds otherwise (CI logs, files)."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from typing import TextIO

TTY_EVERY = 0.5
PLAIN_EVERY = float(os.environ.get("GRADCHECK_PROGRESS_EVERY", "10"))


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class Progress:
    def __init__(
        self, *, planned: int | None, seconds_left: float | None, stream: TextIO = sys.stderr, quiet: bool = False
    ) -> None:
        self.planned = planned
        self.deadline = time.monotonic() + seconds_left if seconds_left is not None else None
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.cases = 0
        self.base = 0  # cases done before this session (--resume): not part of its rate
        self.failing: Counter[str] = Counter()
        self.workers = 0
        self._last = time.monotonic()

    def restart(self, seconds_left: float | None) -> None:
        """The budget's clock starts now (when the first worker is ready)."""
        self.deadline = time.monotonic() + seconds_left if seconds_left is not None else None

    def case(self, failing_verdicts: list[str]) -> None:
        self.cases += 1
        self.failing.update(failing_verdicts)

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = (self.cases - self.base) / elapsed if elapsed > 0 else 0.0
        done = f"{self.cases:,}" + (f"/{self.planned:,}" if self.planned else "")
        failing = ", ".join(f"{v} {n}" for v, n in self.failing.most_common()) or "none"
        left = []
        if self.deadline is not None:
            left.append(self.deadline - time.monotonic())
        if self.planned and rate > 0 and self.planned > self.cases:
            left.append((self.planned - self.cases) / rate)
        remaining = f"{_clock(min(left))} left" if left else ""
        return f"fuzz {done} cases  {rate:.1f}/s  {self.workers} workers  failing: {failing}  {remaining}".rstrip()

    def tick(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self._last < (TTY_EVERY if self.tty else PLAIN_EVERY):
            return
        self._last = now
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.quiet:
            return
        self.tick(force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
