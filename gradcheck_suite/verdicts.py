"""Turning three witnesses into a verdict, with the rule that decided it.

The witnesses are the engine under test (E), torch.autograd (T) and finite
differences in float64 (F). Each pair is compared within its error budget
(tolerances.py); the rules below read those three outcomes. The first rule that
applies wins, and its text goes into the record's ``rule`` column.
"""

from __future__ import annotations

from gradcheck_suite.compare import Comparison

Verdict = tuple[str, str]  # (verdict, rule)


def forward(e_vs_t: Comparison) -> Verdict:
    if e_vs_t.ok:
        return "pass", "forward: engine values match torch's within the error budget"
    if e_vs_t.nonfinite:
        return "non-finite", "forward: engine produced inf/nan where torch's value is finite"
    return "forward-mismatch", "forward: engine values differ from torch's beyond the error budget"


def vjp_torch(e_vs_t: Comparison, e_vs_f: Comparison | None, t_vs_f: Comparison | None) -> Verdict:
    """Verdict for the engine-vs-torch gradient comparison."""
    if e_vs_t.ok:
        return "pass", "vjp: engine matches torch within the error budget"
    if t_vs_f is not None and t_vs_f.ok:
        if e_vs_t.nonfinite:
            return (
                "non-finite",
                "vjp: engine gradient is inf/nan; torch and finite differences agree on a finite value",
            )
        return "engine-bug", "vjp: torch agrees with finite differences, the engine does not"
    if e_vs_f is not None and e_vs_f.ok:
        return "torch-differs", "vjp: engine agrees with finite differences, torch does not"
    return "engine-bug", "vjp: engine differs from torch and neither agrees with finite differences"


def vjp_fd(e_vs_f: Comparison, e_vs_t: Comparison | None, t_vs_f: Comparison | None) -> Verdict:
    """Verdict for the engine-vs-finite-differences gradient comparison."""
    if e_vs_f.ok:
        return "pass", "vjp: engine matches finite differences within their error estimate"
    if e_vs_t is not None and e_vs_t.ok:
        return (
            "numerical-noise",
            "vjp: engine and torch agree; finite differences differ beyond their own error estimate",
        )
    if t_vs_f is not None and t_vs_f.ok:
        if e_vs_f.nonfinite:
            return (
                "non-finite",
                "vjp: engine gradient is inf/nan; torch and finite differences agree on a finite value",
            )
        return "engine-bug", "vjp: torch agrees with finite differences, the engine does not"
    return "engine-bug", "vjp: engine differs from finite differences and from torch"


def errors(engine_error: BaseException | None, torch_error: BaseException | None, stage: str) -> Verdict:
    """When at least one side raised during ``stage`` (forward or backward)."""
    if engine_error is not None and torch_error is not None:
        return "pass", f"{stage}: both engine and torch raised"
    if engine_error is not None:
        return "error-mismatch", f"{stage}: the engine raised, torch did not"
    return "error-mismatch", f"{stage}: torch raised, the engine did not"
