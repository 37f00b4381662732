"""How verdicts and numbers look in the reports: colour tone, severity rank, short numbers."""

from __future__ import annotations

import math
import re
from typing import Any

from markupsafe import Markup

from gradcheck_suite.campaign.folding import FOLDED
from gradcheck_suite.records import FAILING, VERDICTS

RECHECKED = -1  # the example number of a stored failing case a fuzz campaign re-checked

# Informational verdicts get a colour of their own; failing ones are red, pass green.
TONES = {
    "torch-differs": "amber",
    "convention": "amber",
    "not-differentiable": "blue",
    "numerical-noise": "blue",
    "unsupported": "grey",
}
# Plot colours of the tones (the HTML's CSS uses the same hues).
TONE_COLOURS = {"fail": "#d92d20", "amber": "#e0a100", "blue": "#4a86d8", "grey": "#8c959f", "pass": "#1a9d4b"}


def tone(verdict: str) -> str:
    if verdict in FAILING:
        return "fail"
    return "pass" if verdict == "pass" else TONES.get(verdict, "amber")


def rank(verdict: str) -> int:
    """Lower is worse: failing, then informational, then pass; ties in VERDICTS order."""
    tier = 0 if verdict in FAILING else 2 if verdict == "pass" else 1
    order = list(VERDICTS).index(verdict) if verdict in VERDICTS else len(VERDICTS)
    return tier * 100 + order


def fmt_num(value: Any) -> str:
    """3 significant digits; scientific when tiny or huge; a dash for NaN."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.3g}" if abs(x) < 1e3 else f"{x:.0f}"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def case_label(row: Any) -> str:
    """How a row's case is named: ``#3``, or what a campaign's special example numbers mean."""
    example = row["example"]
    if example == FOLDED:
        return f"{row.get('count', 1)} passing checks (folded)"
    if example == RECHECKED:
        return "stored failure, re-checked"
    return f"#{example}"


def css_name(name: Any) -> str:
    """A class-name-safe version of a string from data (verdicts of a foreign CSV end up in class names)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(name))


def anchor(index: int, op: str) -> str:
    """An element id for an op's section: only safe characters; the index keeps ids unique."""
    return f"op-{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", op).strip("-")[:40]


def element_text(value: Any) -> Markup:
    """Escape a string for element content only (never an attribute): & < > but not quotes,
    which JSON is full of, so input arrays do not grow fivefold in the page."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Markup(text)
