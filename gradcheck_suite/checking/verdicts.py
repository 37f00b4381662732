"""Turning three witnesses into a verdict, with the rule that decided it.

The witnesses are the engine under test (E), torch (T) and a numerical reference (F:
finite differences or complex step in float64). Each pair is compared within its error
budget (tolerances.py); the functions below read those outcomes, and the first rule
that applies wins. Its text goes into the record's ``rule`` column, prefixed with the
check's stage (``forward:``, ``vjp:``, ``jvp:``, ``hvp:``).

Derivative checks (vjp, jvp, hvp) are judged in two parts. Elements where a comparison
failed are examined with one-sided differences (oracles/finite_diff.py); the ones where
the left and right derivatives differ are kinks and go to the kink rules (``Kinks``);
every other element goes to the smooth rules. A record takes the worse of the two
verdicts (failing, then informational, then pass).

Witnesses must be independent before they may outvote the numerical reference. When the
engine under test is torch itself (``run --engine torch``, a user's own torch code checked by
``gradcheck``) or torch was not consulted, E and T are one witness: E vs T compares two runs
of the same code (determinism), and only the numerical reference judges the derivative. When
an independent engine agrees with torch on a value the reference rejects at a smooth point,
both are wrong (``shared-bug``). ``convention`` is for kinks, and for conventions the catalogue
declares for an op (``OpSpec.conventions``), never inferred from E and T agreeing.

VERDICTS below is the one table of verdicts: name -> (fails the run, meaning, when).
"""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck_suite.checking.compare import Comparison

Verdict = tuple[str, str]  # (verdict, rule)

# The numerical reference rejects a value: up to this score (difference over the allowance,
# which includes the reference's own error estimate) its estimate may merely have been
# optimistic (numerical-noise); beyond it the reference is trusted and the value is wrong,
# even where engine and torch agree on it (shared-bug: e.g. torch's double backward of a**b
# at b == 0 exactly, which the reference engine mirrors).
NOISE_SCORE = 100.0

# The ``witnesses`` column: which witnesses were independent of each other for a row.
INDEPENDENT = "engine | torch | numerical"
SAME_CODE = "engine = torch | numerical"  # the code under test runs on torch
NO_TORCH = "engine | numerical (torch not consulted)"

VERDICTS: dict[str, tuple[bool, str, str]] = {
    "pass": (
        False, "engine, torch and the numerical reference agree within the error budget",
        "E~T (and E~F for the -fd checks); at a kink: E~T, torch's convention",
    ),
    "engine-bug": (
        True, "torch and the numerical reference agree; the engine differs",
        "T~F and E!~T, or nobody agrees; at a kink: E finite outside [L, R] while T lies within (per element, "
        "or along the direction moving all kink elements together)",
    ),
    "torch-differs": (
        False, "engine and the numerical reference agree; torch differs",
        "E~F and T!~F; at a kink: E within [L, R], T outside",
    ),
    "shared-bug": (
        True, "engine and torch agree on a value the numerical reference rejects: torch is wrong too",
        "independent E and T: E~T, E!~F by more than NOISE_SCORE allowances at a smooth point (no kink, no "
        "declared convention)",
    ),
    "convention": (
        False, "at a kink: engine and torch pick different valid subgradients, or the engine departs from "
        "torch's documented convention where no derivative exists; or a convention the catalogue declares for "
        "the op away from kinks (the rule gives its reason)",
        "E!~T only at kinks (the rule says which); or E and T at the op's declared value where E!~F",
    ),
    "overflow": (
        False, "engine and torch both give inf/nan in the case's dtype where torch's float64 run and the "
        "numerical reference are finite: the computation leaves the dtype's range, not checkable there",
        "E and T both non-finite, T in float64 and F finite (a float32 case)",
    ),
    "not-differentiable": (
        False, "no derivative exists here and neither side is wrong",
        "E!~F only at kinks, where E lies within [L, R] or no one-sided derivative exists",
    ),
    "numerical-noise": (
        False, "the numerical reference differs beyond its own error estimate, within the noise allowance",
        "E!~F with score <= NOISE_SCORE, and E~T: the reference's error estimate was optimistic (curvature in "
        "the step)",
    ),
    "nondeterministic": (
        True, "the same code run twice on the same inputs gave different values (a backward that is not "
        "reentrant)",
        "E and T are one witness (the code under test runs on torch) and differ beyond nondet_tol",
    ),
    "unsupported": (
        False, "the engine does not implement the op, or this derivative mode of it (e.g. forward-mode AD)",
        "the adapter's supports(op) is False, or the engine raised NotImplementedError",
    ),
    "forward-mismatch": (True, "the engine's forward values differ from torch's", "E!~T on forward values"),
    "error-mismatch": (True, "one side raised an error, the other did not", "exactly one of E, T raised"),
    "non-finite": (
        True, "the engine produced inf/nan where torch and the numerical reference are finite",
        "E inf/nan, T~F finite (not at a kink)",
    ),
    "semantics-mismatch": (
        True, "an autograd program behaves differently on the engine and on torch",
        "a step raised on one side only, or left a different observable state (semantics/)",
    ),
    "harness-error": (True, "the checker itself failed on this case (a bug to report)", "the checker raised"),
    "timeout": (
        True, "the case ran longer than the campaign's per-case timeout (a hang in the engine, torch or checker)",
        "no result within --case-timeout seconds; the worker was stopped and replaced",
    ),
    "worker-crash": (
        True, "the process checking the case died (a crash in native code, an abort, or a kill)",
        "the worker exited while checking the case; it was replaced",
    ),
}  # fmt: skip

FAILING = frozenset(name for name, (fails, *_) in VERDICTS.items() if fails)


def severity(verdict: str) -> int:
    """2 failing, 1 informational, 0 pass: a record takes its most severe part."""
    return 2 if verdict in FAILING else 0 if verdict == "pass" else 1


def worse(a: Verdict, b: Verdict | None) -> Verdict:
    return a if b is None or severity(a[0]) >= severity(b[0]) else b


@dataclass
class Kinks:
    """What one-sided differences found at the elements where a comparison failed.

    Counts are of kink elements (left and right derivatives differ): ``undefined`` have no
    finite one-sided derivative (no subgradient at all), the others an interval [L, R].
    """

    count: int = 0
    undefined: int = 0
    engine_nonfinite: int = 0  # engine inf/nan at a kink
    engine_outside: int = 0  # engine finite, outside [L, R], while torch lies within
    both_outside: int = 0  # engine and torch both outside [L, R]
    torch_outside: int = 0  # torch outside [L, R], engine within
    engine_matches_torch: bool = True  # at every kink element
    joint_outside: bool = False  # moving the kink elements together, the engine lies outside, torch within
    where: str = ""  # the first kink element, with L, R and both values

    def __bool__(self) -> bool:
        return self.count > 0


def forward(e_vs_t: Comparison, independent: bool = True) -> Verdict:
    if not independent:
        if e_vs_t.ok:
            return "pass", "forward: one witness (the code under test runs on torch): two runs agree"
        return "nondeterministic", "forward: two runs of the same code on the same inputs differ"
    if e_vs_t.ok:
        return "pass", "forward: engine values match torch's within the error budget"
    if e_vs_t.nonfinite:
        return "non-finite", "forward: engine produced inf/nan where torch's value is finite"
    return "forward-mismatch", "forward: engine values differ from torch's beyond the error budget"


def vjp_torch(
    e_vs_t: Comparison, e_vs_f: Comparison | None, t_vs_f: Comparison | None, stage: str = "vjp",
    independent: bool = True,
) -> Verdict:  # fmt: skip
    """Engine vs torch at smooth elements (the kink elements are judged by ``kink_torch``).
    Not ``independent``: E and T are two runs of the same code, compared for determinism."""
    if not independent:
        if e_vs_t.ok:
            return "pass", f"{stage}: one witness (the code under test runs on torch): two runs agree"
        return "nondeterministic", f"{stage}: two runs of the same code on the same inputs differ (not reentrant)"
    if e_vs_t.ok:
        return "pass", f"{stage}: engine matches torch within the error budget"
    if t_vs_f is not None and t_vs_f.ok:
        return _torch_and_fd_agree(e_vs_t, stage)
    if e_vs_f is not None and e_vs_f.ok:
        return "torch-differs", f"{stage}: engine agrees with finite differences, torch does not"
    return "engine-bug", f"{stage}: engine differs from torch and neither agrees with finite differences"


def vjp_fd(
    e_vs_f: Comparison, e_vs_t: Comparison | None, t_vs_f: Comparison | None, stage: str = "vjp",
    independent: bool = True,
) -> Verdict:  # fmt: skip
    """Engine vs the numerical reference at smooth elements (kinks: ``kink_fd``; declared
    conventions: ``declared``). Not ``independent``: torch's agreement is no evidence."""
    if e_vs_f.ok:
        return "pass", f"{stage}: engine matches finite differences within their error estimate"
    if e_vs_f.score <= NOISE_SCORE and (not independent or (e_vs_t is not None and e_vs_t.ok)):
        return (
            "numerical-noise",
            f"{stage}: finite differences differ beyond their own error estimate, by at most {NOISE_SCORE:g} times "
            "the allowance" + (" (engine and torch agree)" if independent else ""),
        )
    if not independent:
        if e_vs_f.nonfinite:
            return "non-finite", f"{stage}: the result is inf/nan where the numerical reference is finite"
        return (
            "engine-bug",
            f"{stage}: finite differences reject the value by more than {NOISE_SCORE:g} times their allowance "
            "(one witness: the code under test runs on torch, so torch's agreement is no evidence)",
        )
    if e_vs_t is not None and e_vs_t.ok:
        return (
            "shared-bug",
            f"{stage}: engine and torch agree on a value that finite differences reject by more than "
            f"{NOISE_SCORE:g} times their allowance at a smooth point: torch is wrong too",
        )
    if t_vs_f is not None and t_vs_f.ok:
        return _torch_and_fd_agree(e_vs_f, stage)
    return "engine-bug", f"{stage}: engine differs from finite differences and from torch"


def overflow(stage: str = "vjp") -> Verdict:
    """Elements where E and T are inf/nan alike but torch in float64 and the reference are finite."""
    return "overflow", (
        f"{stage}: engine and torch both give inf/nan in this dtype where torch's float64 result and finite "
        "differences are finite: the computation leaves the dtype's range (not checkable in it)"
    )


def declared(reason: str, stage: str = "vjp") -> Verdict:
    """Elements at a value the catalogue declares for the op (``OpSpec.conventions``)."""
    return (
        "convention",
        f"{stage}: engine and torch give the op's declared value where finite differences differ: {reason}",
    )


def _torch_and_fd_agree(engine: Comparison, stage: str) -> Verdict:
    """torch and the numerical reference agree and ``engine`` (the engine against either) does not."""
    if engine.nonfinite:
        return (
            "non-finite",
            f"{stage}: engine result is inf/nan; torch and the numerical reference agree on a finite value",
        )
    return "engine-bug", f"{stage}: torch agrees with finite differences, the engine does not"


JOINT_RULE = (
    "{stage}: at kinks, moving the kink elements together, torch's value lies between the one-sided derivatives, "
    "the engine's not (e.g. each tied element given the whole gradient of a tie)"
)


JOINT_ALONE_RULE = (
    "{stage}: at kinks, moving the kink elements together, the value lies outside the one-sided derivatives "
    "(one witness: the code under test runs on torch)"
)


def kink_torch(k: Kinks, stage: str = "vjp") -> Verdict:
    """Engine vs torch at kink elements (left and right derivatives L, R differ)."""
    if k.engine_matches_torch:
        return "pass", f"{stage}: at a kink, the engine follows torch's convention"
    if k.engine_outside:
        return (
            "engine-bug",
            f"{stage}: at a kink, torch's value lies between the one-sided derivatives, the engine's not",
        )
    if k.joint_outside:
        return "engine-bug", JOINT_RULE.format(stage=stage)
    if k.engine_nonfinite or k.undefined or k.both_outside:
        what = "gives inf/nan" if k.engine_nonfinite else "differs where no valid subgradient exists"
        return "convention", f"{stage}: at a kink, the engine departs from torch's documented convention ({what})"
    if k.torch_outside:
        return "torch-differs", f"{stage}: at a kink, the engine lies between the one-sided derivatives, torch does not"
    return "convention", f"{stage}: at a kink, engine and torch pick different valid subgradients (both in [L, R])"


def kink_fd(k: Kinks, stage: str = "vjp", independent: bool = True) -> Verdict:
    """Engine vs the numerical reference at kink elements: no derivative to compare with. Not
    ``independent``: torch's convention is no evidence, the value must lie within [L, R]."""
    if k.engine_outside:
        return (
            "engine-bug",
            f"{stage}: at a kink, torch's value lies between the one-sided derivatives, the engine's not",
        )
    if k.joint_outside:
        return "engine-bug", (JOINT_RULE if independent else JOINT_ALONE_RULE).format(stage=stage)
    if k.undefined:
        return "not-differentiable", f"{stage}: no derivative here (a one-sided derivative is infinite or undefined)"
    if not independent and k.both_outside:
        return (
            "engine-bug",
            f"{stage}: at a kink, the value lies outside the one-sided derivatives (one witness: the code under test "
            "runs on torch)",
        )
    return (
        "not-differentiable",
        f"{stage}: at a kink (left and right derivatives differ); the engine lies between them or follows torch",
    )


def errors(
    engine_error: BaseException | None, torch_error: BaseException | None, stage: str, both_pass: bool = True
) -> Verdict:
    """When at least one side raised during ``stage`` (forward, backward, jvp, hvp).
    ``both_pass`` False: code that must run (a user's torch code) raising is a failure."""
    if engine_error is not None and torch_error is not None:
        if both_pass:
            return "pass", f"{stage}: both engine and torch raised"
        if isinstance(engine_error, NotImplementedError):
            return "unsupported", f"{stage}: the code does not implement this (NotImplementedError)"
        return "engine-bug", f"{stage}: the code raised"
    if engine_error is not None:
        if isinstance(engine_error, NotImplementedError):
            return "unsupported", f"{stage}: the engine does not implement this (NotImplementedError)"
        return "error-mismatch", f"{stage}: the engine raised, torch did not"
    return "error-mismatch", f"{stage}: torch raised, the engine did not"


def unsupported(stage: str, why: str) -> Verdict:
    return "unsupported", f"{stage}: {why}"
