"""Judging one derivative check (vjp, jvp or hvp) from its three witnesses, element by element.

Every witness is a flat float64 vector over the check's elements (the gradient's elements
over all inputs, or the output's elements), so the same rules serve every check:

1. compare engine E with torch T everywhere, and E and T with the numerical reference F
   where F is known (everywhere for full gradients, at located elements for probes);
2. at every element where a comparison failed, ask the one-sided differences whether it
   is a kink (left and right derivatives differ);
3. judge kink elements by the kink rules and all others by the smooth rules of
   verdicts.py; a record takes the worse of the two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gradcheck_suite.checking import verdicts
from gradcheck_suite.checking.compare import Comparison, compare_at, scores, worst_of
from gradcheck_suite.checking.verdicts import Kinks, Verdict
from gradcheck_suite.oracles.finite_diff import OneSided

MAX_KINK_ELEMENTS = 1024  # one-sided differences at most this many failing elements per check
# A central difference whose error estimate exceeds ERRATIC of its value (and JUMP_FLOOR of the
# check's scale) straddles a jump: no derivative there, the element goes to the kink rules.
ERRATIC = 0.05
JUMP_FLOOR = 1e-6


@dataclass
class Flat:
    """Named parts (one per input, or the output) laid end to end."""

    shapes: list[tuple[int, ...]]
    labels: list[str]

    @property
    def size(self) -> int:
        return sum(math.prod(s) for s in self.shapes)

    def join(self, arrays) -> np.ndarray:
        if not arrays:
            return np.zeros(0)
        return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        out, start = [], 0
        for s in self.shapes:
            n = math.prod(s)
            out.append(flat[start : start + n].reshape(s))
            start += n
        return out

    def locate(self, j: int) -> tuple[int, tuple[int, ...]]:
        """Flat index -> (part, index within the part)."""
        for part, s in enumerate(self.shapes):
            n = math.prod(s)
            if j < n:
                return part, tuple(int(i) for i in np.unravel_index(j, s)) if s else ()
            j -= n
        raise IndexError(j)

    def name(self, j: int) -> str:
        part, index = self.locate(j)
        return f"{self.labels[part]} at {list(index)}"


@dataclass
class Witnesses:
    flat: Flat
    engine: np.ndarray
    torch: np.ndarray
    tol: np.ndarray  # budget of E vs T
    ref: np.ndarray  # the numerical reference F; nan where unknown
    ref_tol: np.ndarray  # budget of comparisons with F (includes F's error estimate)
    probes_e: list[tuple[str, Comparison]] = field(default_factory=list)  # probe failures not located
    probes_t: list[tuple[str, Comparison]] = field(default_factory=list)
    ref_err: np.ndarray | None = None  # the reference's own error estimate (nan where unknown)
    filled: np.ndarray | None = None  # where the reference was computed (None: everywhere)

    @property
    def known(self) -> np.ndarray:
        """Where the reference was computed (a nan there means the function is undefined nearby)."""
        return np.ones(self.flat.size, bool) if self.filled is None else self.filled

    def erratic(self) -> np.ndarray:
        """Where the reference straddles a jump (see ERRATIC)."""
        if self.ref_err is None:
            return np.zeros(self.flat.size, bool)
        finite = np.abs(self.torch[np.isfinite(self.torch)])
        floor = JUMP_FLOOR * (1.0 + (float(finite.max()) if finite.size else 0.0))
        with np.errstate(invalid="ignore"):
            return self.known & (self.ref_err > ERRATIC * np.abs(self.ref)) & (self.ref_err > floor)


@dataclass
class Judgement:
    torch_verdict: Verdict
    ref_verdict: Verdict
    e_t: Comparison
    e_f: Comparison
    e_t_at: int  # flat index of the worst element (-1: none)
    e_f_at: int
    kink_note: str = ""


def judge(
    w: Witnesses, one_sided: Callable[[np.ndarray], OneSided], stage: str,
    along: Callable[[np.ndarray], OneSided] | None = None,
) -> Judgement:  # fmt: skip
    """The verdicts of the torch record and the reference record of one check; ``along(d)``
    gives the one-sided derivatives along a flat direction d, for the joint kink rule."""
    everywhere = np.ones(w.flat.size, bool)
    known = w.known
    s_et = scores(w.engine, w.torch, w.tol)
    with np.errstate(invalid="ignore"):
        s_ef = np.where(known, scores(w.engine, w.ref, w.ref_tol), 0.0)
    jump = w.erratic()
    failing = (s_et > 1) | (s_ef > 1) | jump
    kink = np.zeros(w.flat.size, bool)
    sides = None
    if failing.any():
        idx = np.flatnonzero(failing)[:MAX_KINK_ELEMENTS]
        sides = one_sided(idx)
        kink[idx] = sides.kink() | jump[idx]
    smooth = ~kink

    e_t, e_t_at = compare_at(w.engine, w.torch, w.tol, everywhere)
    e_f_elements, e_f_at = compare_at(w.engine, w.ref, w.ref_tol, known)
    e_f = worst_of([("elements", e_f_elements), *w.probes_e])[1]
    if kink.any():
        smooth_et = compare_at(w.engine, w.torch, w.tol, smooth)[0]
        smooth_ef = worst_of([("", compare_at(w.engine, w.ref, w.ref_tol, known & smooth)[0]), *w.probes_e])[1]
    else:  # no kink: every element is smooth, and the comparisons above are the smooth ones
        smooth_et, smooth_ef = e_t, e_f
    smooth_tf = worst_of([("", compare_at(w.torch, w.ref, w.ref_tol, known & smooth)[0]), *w.probes_t])[1]
    has_ref = bool(known.any() or w.probes_e)
    torch_v = verdicts.vjp_torch(smooth_et, smooth_ef if has_ref else None, smooth_tf if has_ref else None, stage)
    ref_v = verdicts.vjp_fd(smooth_ef, smooth_et, smooth_tf, stage)
    note = ""
    if kink.any():
        idx = np.flatnonzero(failing)[:MAX_KINK_ELEMENTS]
        k_t = _kinks(w, sides, idx, kink[idx] & (s_et[idx] > 1), jump[idx])
        k_f = _kinks(w, sides, idx, kink[idx] & ((s_ef[idx] > 1) | jump[idx]), jump[idx])
        joint = _joint(w, along, idx[kink[idx] & (s_et[idx] > 1) & ~jump[idx]]) if along else ""
        for k in (k_t, k_f) if joint else ():
            k.count, k.joint_outside, k.where = max(k.count, 1), True, joint
        if k_t:
            torch_v = verdicts.worse(torch_v, verdicts.kink_torch(k_t, stage))
        if k_f:
            ref_v = verdicts.worse(ref_v, verdicts.kink_fd(k_f, stage))
        note = (k_t or k_f).where
    return Judgement(torch_v, ref_v, e_t, e_f, e_t_at, e_f_at, note)


def _joint(w: Witnesses, along: Callable[[np.ndarray], OneSided], j: np.ndarray) -> str:
    """The joint kink rule: moving all kink elements ``j`` (where engine and torch differ)
    together, <g, d> must lie between the one-sided derivatives along d as well. Each tied
    element alone may take the whole gradient of a tie; all of them at once may not (max of
    a tie moved together moves once). "" when it holds or says nothing (torch outside too),
    else a description of where it fails."""
    if j.size < 2 or not np.all(np.isfinite(w.engine[j])):  # one element: the elementwise rule did this;
        return ""  # inf/nan: the elementwise rules judge torch's convention
    d = np.zeros(w.flat.size)
    d[j] = 1.0
    sides = along(d)
    e, t, slack = float(np.sum(w.engine[j])), float(np.sum(w.torch[j])), np.array(float(np.sum(w.tol[j])))
    if not bool(sides.defined()) or bool(sides.between(np.array(e), slack)):
        return ""
    if not bool(sides.between(np.array(t), slack)):
        return ""
    return (
        f"moving the {j.size} kink elements from {w.flat.name(int(j[0]))} together: left={float(sides.left):.6g} "
        f"right={float(sides.right):.6g} engine={e:.6g} torch={t:.6g}"
    )


def _kinks(w: Witnesses, sides: OneSided, idx: np.ndarray, chosen: np.ndarray, jump: np.ndarray) -> Kinks:
    """Summarise the kink elements ``idx[chosen]`` (sides and jump are aligned with idx)."""
    if not chosen.any():
        return Kinks()
    j = idx[chosen]
    e, t, slack = w.engine[j], w.torch[j], w.tol[j]
    part = OneSided(*(np.asarray(a)[chosen] for a in (sides.left, sides.left_error, sides.right, sides.right_error)))
    defined = part.defined() & ~jump[chosen]
    e_in, t_in = part.between(e, slack), part.between(t, slack)
    finite_e = np.isfinite(e)
    first = int(j[0])
    where = (
        f"kink at {w.flat.name(first)}: left={float(part.left[0]):.6g} right={float(part.right[0]):.6g} "
        f"engine={float(e[0]):.6g} torch={float(t[0]):.6g}"
    )
    return Kinks(
        count=int(j.size),
        undefined=int(np.sum(~defined)),
        engine_nonfinite=int(np.sum(~finite_e)),
        engine_outside=int(np.sum(defined & finite_e & ~e_in & t_in)),
        both_outside=int(np.sum(defined & finite_e & ~e_in & ~t_in)),
        torch_outside=int(np.sum(defined & e_in & ~t_in)),
        engine_matches_torch=bool(np.all(scores(e, t, slack) <= 1)),
        where=where,
    )
