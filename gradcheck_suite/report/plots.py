"""Inline SVG plots, drawn here with xml.etree (which escapes every string from data).

- error against budget: max_abs_err over tolerance, log-log, one dot per check, coloured by
  verdict; the diagonal is the budget, so dots above it exceeded theirs.
- relative errors per op: a box (quartiles, median, whiskers to min and max) of
  log10(max_rel_err) per op (and engine), with the failing rows drawn as dots.

Large runs are sampled: at most MAX_POINTS dots per plot, every non-pass row first.

A fuzz campaign's folded rows (example FOLDED: many passing checks in one row, holding their
largest errors) are left out of both plots: a dot or a box stands for one check, and a
maximum drawn as one would misplace it. The captions say how many were left out.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from gradcheck_suite.campaign.folding import FOLDED
from gradcheck_suite.records import FAILING
from gradcheck_suite.report.formatting import TONE_COLOURS, TONES, case_label, rank, tone

MAX_POINTS = 2000
MAX_DOTS_PER_BOX = 40
BELOW_BUDGET = 6  # decades below the smallest budget that the error axis reaches
FONT = {"font-size": "11", "fill": "#656d76"}


@dataclass(frozen=True)
class Axis:
    """A log10 axis from decade `lo` to decade `hi`, drawn between pixels `start` and `end`."""

    lo: float
    hi: float
    start: float
    end: float

    def px(self, value: float) -> float:
        value = min(max(value, self.lo), self.hi)
        return self.start + (value - self.lo) / (self.hi - self.lo) * (self.end - self.start)

    def ticks(self) -> list[int]:
        step = max(1, math.ceil((self.hi - self.lo) / 8))
        first = math.ceil(self.lo / step) * step  # multiples of the step: 1e-12, 1e-8, 1e-4, ...
        return list(range(first, math.floor(self.hi) + 1, step))


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    """A child element; attribute names use _ for - (stroke_width -> stroke-width); floats get one decimal."""
    values = {k.rstrip("_").replace("_", "-"): f"{v:.1f}" if isinstance(v, float) else str(v) for k, v in attrs.items()}
    child = ET.SubElement(parent, tag, values)
    if text is not None:
        child.text = text
    return child


def _svg(width: int, height: int, label: str) -> ET.Element:
    return ET.Element(
        "svg",
        {
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "role": "img",
            "class": "plot",
        },
        **{"aria-label": label},
    )


def _markup(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))


def _decades(values: pd.Series, *, pad_below: bool) -> tuple[float, float]:
    """Whole decades around the finite values; one more below when zeros need a row of their own."""
    finite = values[np.isfinite(values)]
    lo, hi = (math.floor(finite.min()), math.ceil(finite.max())) if len(finite) else (-16, 0)
    if pad_below:
        lo -= 1
    return float(lo), float(max(hi, lo + 1))


def _log10(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """log10 of non-negative values (zeros give -inf, drawn on the bottom edge), and a mask of the zeros."""
    values = values.astype(float)
    positive = values > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(values.where(positive))
    return logs.where(positive, -np.inf), values == 0


def sample(rows: pd.DataFrame, limit: int = MAX_POINTS) -> pd.DataFrame:
    """At most `limit` rows: every non-pass row (worst first when even those are too many), then
    a fixed-seed sample of the passing ones, so a re-rendered report draws the same dots."""
    if len(rows) <= limit:
        return rows
    worst = rows[rows["verdict"] != "pass"]
    worst = worst.assign(_rank=worst["verdict"].map(rank), _score=-worst["score"].fillna(math.inf))
    worst = worst.sort_values(["_rank", "_score"], kind="stable").head(limit).drop(columns=["_rank", "_score"])
    passing = rows[rows["verdict"] == "pass"]
    rest = passing.sample(n=min(len(passing), limit - len(worst)), random_state=0)
    return pd.concat([rest, worst])


def _tone_name(t: str) -> str:
    if t in ("fail", "pass"):
        return "failing" if t == "fail" else "pass"
    return " / ".join(v for v, tt in TONES.items() if tt == t) or t


def _legend(svg: ET.Element, tones: list[str], x: float, y: float) -> None:
    for t in dict.fromkeys(tones):
        name = _tone_name(t)
        _el(svg, "circle", cx=x, cy=y - 4.0, r=4, fill=TONE_COLOURS[t])
        _el(svg, "text", name, x=x + 8, y=y, **FONT)
        x += 16 + 6 * len(name)


def error_vs_budget(frame: pd.DataFrame) -> dict[str, Any] | None:
    """Scatter of max_abs_err against tolerance (log-log); None when no row has both."""
    rows = frame[frame["tolerance"].gt(0) & np.isfinite(frame["tolerance"]) & frame["max_abs_err"].notna()]
    folded = rows["example"] == FOLDED
    rows = rows[~folded]
    if rows.empty:
        return None
    shown = sample(rows)
    x = np.log10(shown["tolerance"].astype(float))
    y, zeros = _log10(shown["max_abs_err"])
    # Errors far below every budget all mean "agrees": they share the bottom edge with the zeros
    # rather than stretch the axes over a hundred decades.
    edge = zeros | (y < x.min() - BELOW_BUDGET)
    y = y.where(~edge, -np.inf)
    lo, hi = _decades(pd.concat([x, y]), pad_below=bool(edge.any()))
    size, left, top = 460, 58, 14
    width, height = size + left + 16, size + top + 64
    ax, ay = Axis(lo, hi, left, left + size), Axis(lo, hi, top + size, top)
    svg = _svg(width, height, "error against budget")
    for t in ax.ticks():
        _el(svg, "line", x1=ax.px(t), x2=ax.px(t), y1=float(top), y2=float(top + size), stroke="#eef0f2")
        _el(svg, "line", x1=float(left), x2=float(left + size), y1=ay.px(t), y2=ay.px(t), stroke="#eef0f2")
        _el(svg, "text", f"1e{t}", x=ax.px(t), y=float(top + size + 14), text_anchor="middle", **FONT)
        _el(svg, "text", f"1e{t}", x=float(left - 4), y=ay.px(t) + 4, text_anchor="end", **FONT)
    _el(svg, "rect", x=left, y=top, width=size, height=size, fill="none", stroke="#d8dee4")
    _el(svg, "line", x1=ax.px(lo), y1=ay.px(lo), x2=ax.px(hi), y2=ay.px(hi), stroke="#1f2328", stroke_dasharray="4 3")
    _el(svg, "text", "error = budget", x=ax.px(hi) - 4, y=ay.px(hi) + 14, text_anchor="end", **FONT)
    _el(svg, "text", "budget (tolerance)", x=float(left + size / 2), y=float(top + size + 32), text_anchor="middle",
        **FONT)  # fmt: skip
    tones = [tone(v) for v in shown["verdict"]]
    order = sorted(range(len(shown)), key=lambda i: tones[i] == "fail")  # failing dots on top
    records = shown[["op", "engine", "check", "dtype", "example", "verdict"]].to_numpy()
    xs, ys = x.to_numpy(), y.to_numpy()
    for i in order:
        dot = _el(svg, "circle", cx=ax.px(xs[i]), cy=ay.px(ys[i]), r=2.5, fill=TONE_COLOURS[tones[i]],
                  fill_opacity="0.65")  # fmt: skip
        if tones[i] != "pass":
            op, engine, check, dtype, example, verdict = records[i]
            _el(dot, "title", f"{op} {check} {dtype} {case_label({'example': example})} ({engine}): {verdict}")
    _legend(svg, sorted(set(tones), key=list(TONE_COLOURS).index), float(left), float(height - 8))
    y_label = _el(svg, "text", "max abs error", x=12.0, y=float(top + size / 2), text_anchor="middle", **FONT)
    y_label.set("transform", f"rotate(-90 12 {top + size / 2:.1f})")
    return {
        "svg": _markup(svg),
        "shown": len(shown),
        "total": len(rows),
        "edge": int(edge.sum()),
        "below": BELOW_BUDGET,
        "above": int((rows["max_abs_err"] > rows["tolerance"]).sum()),
        "folded": int(folded.sum()),
    }


def relative_errors(frame: pd.DataFrame, ops: list[str], engines: list[str]) -> dict[str, Any] | None:
    """Per op (and engine): box of log10(max_rel_err) with failing rows as dots; None when no row has one."""
    rows = frame[frame["max_rel_err"].notna()]
    folded = rows["example"] == FOLDED
    rows = rows[~folded]
    if rows.empty:
        return None
    logs, zeros = _log10(rows["max_rel_err"])
    lo, hi = _decades(logs, pad_below=bool(zeros.any()))
    rows = rows.assign(_log=logs.clip(lower=lo, upper=hi))  # zeros and inf on the edges, so quantiles stay finite
    quantiles = rows.groupby(["op", "engine"])["_log"].quantile([0, 0.25, 0.5, 0.75, 1]).unstack()
    sizes = rows.groupby(["op", "engine"]).size()
    exact_zero = rows[zeros].groupby(["op", "engine"]).size()
    failing = rows[rows["verdict"].isin(FAILING)]
    dots = {key: group["_log"].head(MAX_DOTS_PER_BOX).to_numpy() for key, group in failing.groupby(["op", "engine"])}
    several = len(engines) > 1
    keys = [(op, e) for op in ops for e in engines if (op, e) in sizes.index]
    label_w, plot_w, row_h, top = 190, 460, 16, 22
    height = top + row_h * len(keys) + 40
    ax = Axis(lo, hi, label_w, label_w + plot_w)
    svg = _svg(label_w + plot_w + 110, height, "relative errors per op")
    bottom = float(top + row_h * len(keys))
    for t in ax.ticks():
        _el(svg, "line", x1=ax.px(t), x2=ax.px(t), y1=float(top), y2=bottom, stroke="#eef0f2")
        _el(svg, "text", f"1e{t}", x=ax.px(t), y=float(top - 6), text_anchor="middle", **FONT)
    for index, key in enumerate(keys):
        q0, q1, q2, q3, q4 = (float(v) for v in quantiles.loc[key])
        mid = top + row_h * index + row_h / 2
        label = f"{key[0]} · {key[1]}" if several else key[0]
        _el(svg, "text", label, x=float(label_w - 8), y=mid + 4, text_anchor="end", font_size="11", fill="#1f2328")
        _el(svg, "line", x1=ax.px(q0), x2=ax.px(q4), y1=mid, y2=mid, stroke="#8c959f")
        box = _el(svg, "rect", x=ax.px(q1), y=mid - 5, width=max(ax.px(q3) - ax.px(q1), 1.0), height=10.0,
                  fill="#e1ecfb", stroke="#4a86d8")  # fmt: skip
        _el(box, "title", f"{label}: {sizes[key]} rows; median 1e{q2:.1f}, max 1e{q4:.1f}")
        _el(svg, "line", x1=ax.px(q2), x2=ax.px(q2), y1=mid - 5, y2=mid + 5, stroke="#1f4f8f", stroke_width="2")
        exact = int(exact_zero.get(key, 0))
        note = f"{sizes[key]}" + (f" · {exact} exact" if exact else "")
        _el(svg, "text", note, x=float(label_w + plot_w + 6), y=mid + 4, **FONT)
        for value in dots.get(key, ()):
            _el(svg, "circle", cx=ax.px(float(value)), cy=mid, r=2.5, fill=TONE_COLOURS["fail"], fill_opacity="0.8")
    _el(svg, "text", "max relative error", x=float(label_w + plot_w / 2), y=bottom + 24, text_anchor="middle", **FONT)
    return {
        "svg": _markup(svg),
        "rows": len(keys),
        "total": len(rows),
        "zeros": int(zeros.sum()),
        "folded": int(folded.sum()),
    }
