"""Comparing two arrays against a tolerance, and saying where the worst difference is."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TINY = np.finfo(np.float64).tiny  # floor of the relative error's denominator


@dataclass
class Comparison:
    """The outcome of comparing ``actual`` with ``expected`` elementwise."""

    ok: bool
    max_abs_err: float
    max_rel_err: float
    tolerance: float  # the tolerance at the worst element
    score: float  # worst |diff| / tolerance; <= 1 passes
    worst: tuple  # index of the worst element
    actual: float  # values at the worst element
    expected: float
    nonfinite: bool = False  # actual is inf/nan where expected is finite
    note: str = ""

    @staticmethod
    def empty() -> Comparison:
        return Comparison(True, 0.0, 0.0, math.nan, 0.0, (), math.nan, math.nan)


def compare(actual: np.ndarray, expected: np.ndarray, tol: np.ndarray) -> Comparison:
    """Elementwise |actual - expected| <= tol, where equal non-finite values (nan and nan,
    inf and inf) count as equal."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return Comparison(
            False, math.inf, math.inf, math.nan, math.inf, (), math.nan, math.nan,
            note=f"shape {a.shape} != expected shape {e.shape}",
        )  # fmt: skip
    if a.size == 0:
        return Comparison.empty()
    tol = _shaped(tol, a.shape)
    diff, score, plain = _diff_and_score(a, e, tol)
    flat = int(score.argmax())
    top = float(score.flat[flat])
    if plain:  # every difference finite, so both sides are: no non-finite rules to apply
        with np.errstate(over="ignore"):
            rel, nonfinite = float((diff / np.maximum(np.abs(e), TINY)).max()), False
    else:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            ratio = diff / np.maximum(np.abs(e), TINY)
        finite_e = np.isfinite(e)
        rel = float(np.where(finite_e, ratio, np.where(diff > 0, math.inf, 0.0)).max())
        nonfinite = bool(np.any(~np.isfinite(a) & finite_e))
    worst = (flat,) if a.ndim == 1 else tuple(int(i) for i in np.unravel_index(flat, a.shape))
    return Comparison(
        ok=top <= 1.0, max_abs_err=float(diff.max()), max_rel_err=rel, tolerance=float(tol.flat[flat]), score=top,
        worst=worst, actual=float(a.flat[flat]), expected=float(e.flat[flat]), nonfinite=nonfinite,
    )  # fmt: skip


def _diff_and_score(a: np.ndarray, e: np.ndarray, tol: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """|a - e| and its score, and whether every difference was a plain finite number."""
    with np.errstate(all="ignore"):
        diff = np.abs(a - e)
        score = diff / tol
    if diff.size and math.isfinite(score.max()) and tol.min() > 0:  # plain numbers: the rules below change nothing
        return diff, score, True
    same_nonfinite = (np.isnan(a) & np.isnan(e)) | (np.isinf(a) & (a == e))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.where(same_nonfinite, 0.0, diff)
        diff = np.where(np.isnan(diff), math.inf, diff)  # nan on one side only
        score = np.where(diff == 0, 0.0, diff / np.where(tol > 0, tol, math.inf))
        score = np.where((diff > 0) & ~(tol > 0), math.inf, score)  # a zero or nan tolerance allows nothing
    return diff, score, False


def scores(actual: np.ndarray, expected: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Elementwise |actual - expected| / tol with compare's rules (same shapes)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    return _diff_and_score(a, e, _shaped(tol, a.shape))[1]


def _shaped(tol, shape: tuple) -> np.ndarray:
    """The tolerance as a float64 array of ``shape`` (broadcast only when it is not one already)."""
    tol = np.asarray(tol, dtype=np.float64)
    return tol if tol.shape == shape else np.broadcast_to(tol, shape)


def compare_at(actual: np.ndarray, expected: np.ndarray, tol: np.ndarray, mask: np.ndarray) -> tuple[Comparison, int]:
    """compare() on the flat elements selected by ``mask``; also the flat index of the worst one
    (-1 when none is selected)."""
    if mask.all():  # every element (the common case): no copies
        c = compare(np.asarray(actual).ravel(), np.asarray(expected).ravel(), np.asarray(tol).ravel())
        return c, c.worst[0] if c.worst else -1
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return Comparison.empty(), -1
    c = compare(np.asarray(actual).ravel()[idx], np.asarray(expected).ravel()[idx], np.asarray(tol).ravel()[idx])
    return c, int(idx[c.worst[0]])


def worst_of(comparisons: list[tuple[str, Comparison]]) -> tuple[str, Comparison]:
    """The (label, comparison) with the highest score, e.g. across an op's inputs."""
    if not comparisons:
        return "", Comparison.empty()
    return max(comparisons, key=lambda lc: lc[1].score)
