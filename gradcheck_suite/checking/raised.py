"""A row's ``detail`` when a side raised: the error's message first, then, for the engine under
test, where it raised: the innermost frames of its traceback, one compact ``file:line in func:
code`` each, bounded so that results.csv and the HTML report stay readable.

Torch's side keeps its message alone (its frames are torch's internals, the same in every
report); ``NotImplementedError`` is how an adapter says "unsupported", not a finding to locate.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

FRAMES = 4  # innermost frames shown
MESSAGE_CHARS = 600
CODE_CHARS = 100
_CHECKER = os.path.dirname(os.path.realpath(__file__))  # our own frames (the call into the engine) are not the engine's


def describe(engine_error: BaseException | None, torch_error: BaseException | None, verdict: str = "") -> str:
    """Which side raised what, e.g. ``engine: ValueError: ... [raised at a.py:3 in f: ...]; torch: ...``.
    A passing row (both sides raised) keeps the messages alone."""
    sides = (("engine", engine_error), ("torch", torch_error))
    return "; ".join(_side(side, err, verdict != "pass") for side, err in sides if err is not None)


def _side(side: str, err: BaseException, locate: bool) -> str:
    text = f"{side}: {type(err).__name__}: {_cut(str(err), MESSAGE_CHARS)}"
    if locate and side == "engine" and not isinstance(err, NotImplementedError):
        where = traceback_tail(err)
        if where:
            text += f" [raised at {where}]"
    return text


def traceback_tail(err: BaseException, frames: int = FRAMES) -> str:
    """The innermost ``frames`` frames of ``err``'s traceback, innermost first, joined by ``<-``
    (read "called from")."""
    stack = [f for f in traceback.extract_tb(err.__traceback__) if not _ours(f.filename)]
    return " <- ".join(_frame(f) for f in reversed(stack[-frames:]))


def _frame(frame: traceback.FrameSummary) -> str:
    code = _cut((frame.line or "").strip(), CODE_CHARS)
    return f"{_short_path(frame.filename)}:{frame.lineno} in {frame.name}" + (f": {code}" if code else "")


def _ours(filename: str) -> bool:
    return os.path.dirname(os.path.realpath(filename)) == _CHECKER


def _short_path(filename: str) -> str:
    """Relative to the working directory when under it, else from the installed package on
    (after site-packages), else the file's folder and name."""
    path = Path(filename)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # elsewhere, or unresolvable (a symlink loop)
        pass
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[len(parts) - parts[::-1].index("site-packages") :])
    return "/".join(parts[-2:])


def _cut(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters ("…" where cut)."""
    text = " ".join(text.split("\n"))
    return text if len(text) <= limit else text[: limit - 1] + "…"
