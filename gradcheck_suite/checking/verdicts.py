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

VERDICTS below is the one table of verdicts: name -> (fails the run, meaning, when).
"""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck_suite.checking.compare import Comparison

Verdict = tuple[str, str]  # (verdict, rule)

# Engine and torch agree but the numerical reference does not: up to this score (difference
# over the allowance, which includes the reference's own error estimate) the reference's
# estimate was merely optimistic (numerical-noise); beyond it the reference is trusted and
# engine and torch share a non-mathematical value (convention), e.g. torch's double
# backward of a**b at b == 0 exactly.
NOISE_SCORE = 100.0

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
    "convention": (
        False, "at a kink: engine and torch pick different valid subgradients, or the engine departs from "
        "torch's documented convention where no derivative exists; or engine and torch share a value the "
        "numerical reference confidently rejects",
        "E!~T only at kinks (the rule says which); or E~T with E!~F by more than NOISE_SCORE allowances",
    ),
    "not-differentiable": (
        False, "no derivative exists here and neither side is wrong",
        "E!~F only at kinks, where E lies within [L, R] or no one-sided derivative exists",
    ),
    "numerical-noise": (
        False, "the numerical reference differs beyond its own error estimate, engine and torch agree",
        "E~T, E!~F with score <= NOISE_SCORE: the reference's error estimate was optimistic (curvature in the step)",
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


def forward(e_vs_t: Comparison) -> Verdict:
    if e_vs_t.ok:
        return "pass", "forward: engine values match torch's within the error budget"
    if e_vs_t.nonfinite:
        return "non-finite", "forward: engine produced inf/nan where torch's value is finite"
    return "forward-mismatch", "forward: engine values differ from torch's beyond the error budget"


def vjp_torch(e_vs_t: Comparison, e_vs_f: Comparison | None, t_vs_f: Comparison | None, stage: str = "vjp") -> Verdict:
    """Engine vs torch at smooth elements (the kink elements are judged by ``kink_torch``)."""
    if e_vs_t.ok:
        return "pass", f"{stage}: engine matches torch within the error budget"
    if t_vs_f is not None and t_vs_f.ok:
        return _torch_and_fd_agree(e_vs_t, stage)
    if e_vs_f is not None and e_vs_f.ok:
        return "torch-differs", f"{stage}: engine agrees with finite differences, torch does not"
    return "engine-bug", f"{stage}: engine differs from torch and neither agrees with finite differences"


def vjp_fd(e_vs_f: Comparison, e_vs_t: Comparison | None, t_vs_f: Comparison | None, stage: str = "vjp") -> Verdict:
    """Engine vs the numerical reference at smooth elements (kinks: ``kink_fd``)."""
    if e_vs_f.ok:
        return "pass", f"{stage}: engine matches finite differences within their error estimate"
    if e_vs_t is not None and e_vs_t.ok:
        if e_vs_f.score <= NOISE_SCORE:
            return (
                "numerical-noise",
                f"{stage}: engine and torch agree; finite differences differ beyond their own error estimate "
                f"(by at most {NOISE_SCORE:g} times the allowance)",
            )
        return (
            "convention",
            f"{stage}: engine and torch agree on a value the numerical reference rejects by more than "
            f"{NOISE_SCORE:g} times its allowance: a shared convention of torch's, not the mathematical derivative",
        )
    if t_vs_f is not None and t_vs_f.ok:
        return _torch_and_fd_agree(e_vs_f, stage)
    return "engine-bug", f"{stage}: engine differs from finite differences and from torch"


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


def kink_fd(k: Kinks, stage: str = "vjp") -> Verdict:
    """Engine vs the numerical reference at kink elements: no derivative to compare with."""
    if k.engine_outside:
        return (
            "engine-bug",
            f"{stage}: at a kink, torch's value lies between the one-sided derivatives, the engine's not",
        )
    if k.joint_outside:
        return "engine-bug", JOINT_RULE.format(stage=stage)
    if k.undefined:
        return "not-differentiable", f"{stage}: no derivative here (a one-sided derivative is infinite or undefined)"
    return (
        "not-differentiable",
        f"{stage}: at a kink (left and right derivatives differ); the engine lies between them or follows torch",
    )


def errors(engine_error: BaseException | None, torch_error: BaseException | None, stage: str) -> Verdict:
    """When at least one side raised during ``stage`` (forward, backward, jvp, hvp)."""
    if engine_error is not None and torch_error is not None:
        return "pass", f"{stage}: both engine and torch raised"
    if engine_error is not None:
        if isinstance(engine_error, NotImplementedError):
            return "unsupported", f"{stage}: the engine does not implement this (NotImplementedError)"
        return "error-mismatch", f"{stage}: the engine raised, torch did not"
    return "error-mismatch", f"{stage}: torch raised, the engine did not"


def unsupported(stage: str, why: str) -> Verdict:
    return "unsupported", f"{stage}: {why}"
