"""Judging one derivative check (vjp, jvp or hvp) from its three witnesses, element by element.

Every witness is a flat float64 vector over the check's elements (the gradient's elements
over all inputs, or the output's elements), so the same rules serve every check:

1. compare engine E with torch T everywhere, and E and T with the numerical reference F
   where F is known (everywhere for full gradients, at located elements for probes);
2. at every element where a comparison failed, ask the one-sided differences whether it
   is a kink (left and right derivatives differ);
3. judge kink elements by the kink rules and all others by the smooth rules of
   verdicts.py; a record takes the worse of the two.

Two refinements keep ``convention`` for kinks alone. An element the numerical reference
rejects at a point that has a kink elsewhere is coupled to that kink when its own derivative
changes across it: the derivatives at nearby points (the kink broken up at random, ``nearby``)
then span an interval that goes to the kink rules as its [L, R] (a three-way clamp tie: the
input's partial is 0, yet 1 on one side of the tie). Elements where the catalogue declares
a value for the op (``declared``, e.g. embedding's padding row) are judged against that value.
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
    nondet: float | None = None  # E vs T tolerance when they are one witness (two runs of the same code)
    wide: np.ndarray | None = None  # torch's result computed in float64, for a case in a lower precision

    @property
    def tol_et(self) -> np.ndarray:
        """The tolerance of E vs T: the budget, or nondet for two runs of the same code."""
        return self.tol if self.nondet is None else np.full(self.flat.size, self.nondet)

    @property
    def known(self) -> np.ndarray:
        """Where the reference was computed (a nan there means the function is undefined nearby)."""
        return np.ones(self.flat.size, bool) if self.filled is None else self.filled

    def erratic(self) -> np.ndarray:
        """Where the reference straddles a jump (see ERRATIC)."""
        out = np.zeros(self.flat.size, bool)
        if self.ref_err is None:
            return out
        finite = np.abs(self.torch[np.isfinite(self.torch)])
        floor = JUMP_FLOOR * (1.0 + (float(finite.max()) if finite.size else 0.0))
        idx = self.known_index
        with np.errstate(invalid="ignore"):
            err = self.ref_err[idx]
            out[idx] = (err > ERRATIC * np.abs(self.ref[idx])) & (err > floor)
        return out

    @property
    def known_index(self) -> np.ndarray | slice:
        """The flat indices where the reference was computed (a slice when it is everywhere)."""
        return slice(None) if self.filled is None else np.flatnonzero(self.filled)


@dataclass
class Declared:
    """Flat elements where the op's catalogue entry declares the derivative's value, and why."""

    mask: np.ndarray
    value: float
    reason: str


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
    along: Callable[[np.ndarray], OneSided] | None = None, *, independent: bool = True,
    nearby: Callable[[np.ndarray, np.ndarray], OneSided] | None = None, declared: Declared | None = None,
    tied: Callable[[], bool] | None = None, tie_group: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Judgement:  # fmt: skip
    """The verdicts of the torch record and the reference record of one check; ``along(d)``
    gives the one-sided derivatives along a flat direction d, for the joint kink rule;
    ``nearby(candidates, kinks)`` the spread of the candidates' derivatives at points near
    the kinks (asked where a kink was found, or where ``tied()``: equal input elements);
    ``tie_group(j)``: the elements tied with ``j``, which the joint kink rule moves together;
    ``independent`` False: engine and torch are one witness (verdicts.py)."""
    everywhere = np.ones(w.flat.size, bool)
    known = w.known
    tol_et = w.tol_et
    s_et = scores(w.engine, w.torch, tol_et)
    s_ef = known_scores(w.engine, w)
    jump = w.erratic()
    failing = (s_et > 1) | (s_ef > 1) | jump
    at_value = _at_declared(w, declared, s_ef > 1)
    ranged = _out_of_range(w, s_ef > 1)
    failing &= ~(at_value | ranged)
    kink = np.zeros(w.flat.size, bool)
    sides = None
    idx = np.flatnonzero(failing)[:MAX_KINK_ELEMENTS]
    if idx.size:
        sides = one_sided(idx)
        kink[idx] = sides.kink() | jump[idx]
        if nearby is not None and (kink.any() or (tied is not None and tied())):
            _couple(w, nearby, idx, sides, kink, s_et, s_ef, independent)
            if not independent:
                _widen(w, nearby, idx, sides, kink & ~jump)
    smooth = ~kink & ~at_value & ~ranged

    e_t, e_t_at = compare_at(w.engine, w.torch, tol_et, everywhere)
    e_f_elements, e_f_at = compare_at(w.engine, w.ref, w.ref_tol, known & ~at_value & ~ranged)
    e_f = worst_of([("elements", e_f_elements), *w.probes_e])[1]
    if not smooth.all():  # kinks, declared values or elements out of the dtype's range are judged apart
        smooth_et = compare_at(w.engine, w.torch, tol_et, smooth)[0]
        smooth_ef = worst_of([("", compare_at(w.engine, w.ref, w.ref_tol, known & smooth)[0]), *w.probes_e])[1]
    else:  # every element is smooth, and the comparisons above are the smooth ones
        smooth_et, smooth_ef = e_t, e_f
    smooth_tf = worst_of([("", compare_at(w.torch, w.ref, w.ref_tol, known & smooth)[0]), *w.probes_t])[1]
    has_ref = bool(known.any() or w.probes_e)
    torch_v = verdicts.vjp_torch(
        smooth_et, smooth_ef if has_ref else None, smooth_tf if has_ref else None, stage, independent
    )
    ref_v = verdicts.vjp_fd(smooth_ef, smooth_et, smooth_tf, stage, independent)
    if at_value.any():
        ref_v = verdicts.worse(ref_v, verdicts.declared(declared.reason, stage))
    if ranged.any():
        ref_v = verdicts.worse(ref_v, verdicts.overflow(stage))
        torch_v = verdicts.worse(torch_v, verdicts.overflow(stage))
    note = ""
    if kink.any():
        idx = np.flatnonzero(failing)[:MAX_KINK_ELEMENTS]
        outside_t = (s_et[idx] > 1) if independent else (s_ef[idx] > 1)  # where torch's value is no evidence
        k_t = _kinks(w, sides, idx, kink[idx] & (s_et[idx] > 1), jump[idx])
        k_f = _kinks(w, sides, idx, kink[idx] & ((s_ef[idx] > 1) | jump[idx]), jump[idx])
        joint_at = idx[kink[idx] & outside_t & ~jump[idx]]
        if tie_group is not None and joint_at.size:
            joint_at = tie_group(joint_at)
        joint = _joint(w, along, joint_at, independent) if along else ""
        for k in (k_t, k_f) if joint else ():
            k.count, k.joint_outside, k.where = max(k.count, 1), True, joint
        if k_t:
            torch_v = verdicts.worse(torch_v, verdicts.kink_torch(k_t, stage))
        if k_f:
            ref_v = verdicts.worse(ref_v, verdicts.kink_fd(k_f, stage, independent))
        note = (k_t or k_f).where
    return Judgement(torch_v, ref_v, e_t, e_f, e_t_at, e_f_at, note)


MAX_COUPLED = 256  # elements per check tested for coupling to a kink (a whole tied 4-d input)


def _couple(w, nearby, idx, sides: OneSided, kink, s_et, s_ef, independent: bool) -> None:
    """Smooth elements that the reference rejects beyond the noise allowance where E and T
    agree, at a point with kinks: those whose value is one of their derivatives at points just
    across the kinks are kink elements too, with the nearby derivatives' spread as their
    one-sided interval (in place). A value outside that spread stays a smooth rejection."""
    agree = (s_et[idx] <= 1) | (not independent)
    pos = np.flatnonzero(~kink[idx] & agree & (s_ef[idx] > verdicts.NOISE_SCORE))[:MAX_COUPLED]
    if pos.size == 0:
        return
    j = idx[pos]
    spread = nearby(j, np.flatnonzero(kink))
    with np.errstate(invalid="ignore"):  # a jump across the kink, not the curvature over a few dozen steps
        jumps = np.abs(spread.right - spread.left) > ERRATIC * np.maximum(np.abs(spread.left), np.abs(spread.right))
    coupled = spread.defined() & spread.kink() & jumps & spread.between(w.engine[j], w.tol[j])
    for field_name in ("left", "left_error", "right", "right_error"):
        np.asarray(getattr(sides, field_name))[pos[coupled]] = np.asarray(getattr(spread, field_name))[coupled]
    kink[idx[pos[coupled]]] = True


def _out_of_range(w: Witnesses, rejected: np.ndarray) -> np.ndarray:
    """Rejected elements where engine and torch are both inf/nan in the case's (lower)
    precision (one may give nan where the other gives inf) while torch's float64 result and
    the reference are finite there."""
    if w.wide is None:
        return np.zeros(w.flat.size, bool)
    both = ~np.isfinite(w.engine) & ~np.isfinite(w.torch)
    return rejected & both & np.isfinite(w.wide) & np.isfinite(w.ref)


def _widen(w: Witnesses, nearby, idx: np.ndarray, sides: OneSided, kink: np.ndarray) -> None:
    """One witness (torch code): kink elements whose value lies outside their one-sided
    derivatives get the derivatives at nearby points added to [L, R] (in place). An element
    tied in several overlapping windows of a max pool may take some windows' gradients and
    not others': a limiting gradient of the pieces around the tie, not between L and R."""
    pos = np.flatnonzero(kink[idx] & sides.defined() & ~sides.between(w.engine[idx], w.tol[idx]))[:MAX_COUPLED]
    if pos.size == 0:
        return
    spread = nearby(idx[pos], np.flatnonzero(kink))
    ok = spread.defined()
    for low, high in (("left", "left_error"), ("right", "right_error")):
        values, errors = np.asarray(getattr(sides, low)), np.asarray(getattr(sides, high))
        pick = np.minimum if low == "left" else np.maximum
        lo_hi = np.where(ok, pick(values[pos], pick(spread.left, spread.right)), values[pos])
        errors[pos] = np.where(
            ok, np.maximum(errors[pos], np.maximum(spread.left_error, spread.right_error)), errors[pos]
        )
        values[pos] = lo_hi


def _at_declared(w: Witnesses, declared: Declared | None, rejected: np.ndarray) -> np.ndarray:
    """Rejected elements where both engine and torch give the op's declared value."""
    if declared is None or not declared.mask.any():
        return np.zeros(w.flat.size, bool)
    value = np.full(w.flat.size, declared.value)
    return declared.mask & rejected & (scores(w.engine, value, w.tol) <= 1) & (scores(w.torch, value, w.tol) <= 1)


def known_scores(values: np.ndarray, w: Witnesses) -> np.ndarray:
    """scores(values, reference) where the reference is known, 0 elsewhere (probes compute it
    at a few located elements only: no work on the rest)."""
    out = np.zeros(w.flat.size)
    idx = w.known_index
    with np.errstate(invalid="ignore"):
        out[idx] = scores(values[idx], w.ref[idx], w.ref_tol[idx])
    return out


def _joint(w: Witnesses, along: Callable[[np.ndarray], OneSided], j: np.ndarray, independent: bool = True) -> str:
    """The joint kink rule: moving all kink elements ``j`` (where engine and torch differ;
    for one witness, where the reference rejects; with every element tied to them) together,
    <g, d> must lie between the one-sided derivatives along d as well. Each tied element alone
    may take the whole gradient of a tie; all of them at once may not (max of a tie moved
    together moves once). Whole ties, not a subset: moving one of three equal elements leaves
    their median in place, yet its gradient may be the median's (a Clarke gradient of a
    non-convex kink). "" when it holds or says nothing (torch outside too), else a description
    of where it fails."""
    if j.size < 2 or not np.all(np.isfinite(w.engine[j])):  # one element: the elementwise rule did this;
        return ""  # inf/nan: the elementwise rules judge torch's convention
    d = np.zeros(w.flat.size)
    d[j] = 1.0
    sides = along(d)
    e, t, slack = float(np.sum(w.engine[j])), float(np.sum(w.torch[j])), np.array(float(np.sum(w.tol[j])))
    if not bool(sides.defined()) or bool(sides.between(np.array(e), slack)):
        return ""
    if independent and not bool(sides.between(np.array(t), slack)):
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
