"""Comparing two arrays against a tolerance, and saying where the worst difference is."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), a.shape)
    diff, score = _diff_and_score(a, e, tol)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        rel = diff / np.maximum(np.abs(e), np.finfo(np.float64).tiny)
    flat = int(np.argmax(score))
    worst = np.unravel_index(flat, a.shape)
    nonfinite = bool(np.any(~np.isfinite(a) & np.isfinite(e)))
    top = float(score.flat[flat])
    return Comparison(
        ok=top <= 1.0,
        max_abs_err=float(diff.max()),
        max_rel_err=float(np.where(np.isfinite(e), rel, np.where(diff > 0, math.inf, 0.0)).max()),
        tolerance=float(tol.flat[flat]),
        score=top,
        worst=tuple(int(i) for i in worst),
        actual=float(a.flat[flat]),
        expected=float(e.flat[flat]),
        nonfinite=nonfinite,
    )


def _diff_and_score(a: np.ndarray, e: np.ndarray, tol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.asarray(np.abs(a - e))
        if not diff.any():  # identical (two runs of the same code; nan counts as a difference): nothing to score
            return diff, diff
        if np.isfinite(diff).all() and (tol > 0).all():  # plain numbers: the rules below change nothing
            return diff, diff / tol
    same_nonfinite = (np.isnan(a) & np.isnan(e)) | (np.isinf(a) & (a == e))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.where(same_nonfinite, 0.0, np.abs(a - e))
        diff = np.where(np.isnan(diff), math.inf, diff)  # nan on one side only
        score = np.where(diff == 0, 0.0, diff / np.where(tol > 0, tol, math.inf))
        score = np.where((diff > 0) & ~(tol > 0), math.inf, score)  # a zero or nan tolerance allows nothing
    return diff, score


def scores(actual: np.ndarray, expected: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Elementwise |actual - expected| / tol with compare's rules (same shapes)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    return _diff_and_score(a, e, np.broadcast_to(np.asarray(tol, dtype=np.float64), a.shape))[1]


def compare_at(actual: np.ndarray, expected: np.ndarray, tol: np.ndarray, mask: np.ndarray) -> tuple[Comparison, int]:
    """compare() on the flat elements selected by ``mask``; also the flat index of the worst one
    (-1 when none is selected)."""
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
