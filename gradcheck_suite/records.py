"""The record: one row per check, the unit every report, CSV and exit code is built from.

The column list is the CSV schema; it only grows (new columns at the end), so
scripts that read results.csv keep working. Each column is documented in COLUMNS.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from gradcheck_suite.checking.verdicts import VERDICTS as _VERDICTS

# Verdicts: name -> (is a failure of the engine under test, one-line meaning); the one
# table, with the rule for each, is verdicts.VERDICTS.
VERDICTS: dict[str, tuple[bool, str]] = {name: (fails, meaning) for name, (fails, meaning, _) in _VERDICTS.items()}

FAILING = frozenset(name for name, (fails, _) in VERDICTS.items() if fails)

CHECKS: dict[str, str] = {
    "forward": "engine forward values against torch's",
    "vjp-torch": "engine vector-Jacobian product against torch.autograd.grad with the same cotangent",
    "vjp-fd": "engine vector-Jacobian product against finite differences of sum(v * f) in float64 (central "
    "differences with Richardson extrapolation, or complex step for analytic ops; full gradient for small "
    "inputs, Rademacher probes with a stated miss probability for larger ones)",
    "jvp-torch": "engine forward-mode Jacobian-vector product (forward_ad dual tensors) against torch's forward_ad "
    "with the same random tangent",
    "jvp-fd": "engine Jacobian-vector product against the float64 directional derivative of f along the tangent "
    "(central differences, or complex step for analytic ops)",
    "hvp-torch": "engine second-order product (VJP of the VJP with create_graph: d/dx <v^T J(x), w>) against "
    "torch's with the same v and w",
    "hvp-fd": "engine second-order product against central finite differences of torch's float64 VJP along w",
    "semantics": "random autograd programs run on the engine and on torch in lockstep (state compared per step)",
    # torch code (gradcheck on a user's own torch functions): what torch.autograd.gradcheck checks on every call
    "zero-grad": "torch code: backward multiplies by grad_output (a zero cotangent gives zero gradients)",
    "grad-attributes": "torch code: each gradient has its input's shape and device (and dtype, with check_grad_dtypes)",
    "undefined-grad": "torch code: backward accepts undefined output gradients (all, then one at a time) and gives "
    "undefined or zero input gradients",
    "batched-grad": "torch code: torch.func.vmap over cotangents gives the VJPs one call each gives (where torch can "
    "batch the function)",
    "batched-jvp": "torch code: torch.func.vmap over tangents gives the JVPs forward AD gives one at a time",
}

# The checks one case produces when nothing raises (jvp-/hvp- only for ops with forward_ad /
# second_order; a raising side leaves only the "-torch" row of that stage).
CASE_CHECKS = ("forward", "vjp-torch", "vjp-fd", "jvp-torch", "jvp-fd", "hvp-torch", "hvp-fd")

# Column -> meaning. Order here is the CSV column order.
COLUMNS: dict[str, str] = {
    "run_id": "identifier of the run that produced the row",
    "engine": "name of the engine under test",
    "op": "catalogue name of the operation",
    "check": "which comparison (see CHECKS)",
    "dtype": "dtype the engine and torch computed in (finite differences always use float64)",
    "shapes": "JSON list of input shapes",
    "kwargs": "JSON object of the op's non-tensor arguments",
    "seed": "the run's --seed; each op/dtype stream is seeded from it, so with `example` it replays the case",
    "example": "index of the case within its op/dtype stream",
    "max_abs_err": "largest absolute difference between the two sides compared",
    "max_rel_err": "largest difference relative to the reference value's magnitude",
    "tolerance": "allowed absolute difference at the worst element (the error budget of tolerances.py)",
    "score": "worst ratio of difference to tolerance; the check passes when score <= 1",
    "verdict": "classification of the row (see VERDICTS)",
    "rule": "the rule that produced the verdict, in words",
    "detail": "where the worst difference is and the values on each side",
    "inputs": "JSON of the input arrays (failing rows only), enough to rebuild the case",
    "duration_ms": "wall time of the check in milliseconds",
    "location": "JSON of where the worst difference is: input index, element index, output element (when "
    'narrowed), e.g. {"input": 1, "element": [2, 0], "output": [2]}',
    "reference": "the numerical reference used: method, full or probes, and the miss probability of probes",
    "replay_id": "name of the stored case (failing rows): `gradcheck-suite replay ID` re-runs it and prints a "
    "standalone script",
    "count": "how many checks the row stands for: 1, except in fuzz campaigns, where the passing checks of one "
    "task (op, dtype, check) beyond a sample are folded into one row with example -2 and the largest errors",
    "witnesses": "which witnesses were independent for the row: 'engine | torch | numerical', 'engine = torch | "
    "numerical' (the code under test runs on torch: torch's agreement is no evidence, the numerical reference "
    "decides), or 'engine | numerical (torch not consulted)'",
}


@dataclass
class Record:
    """One check of one case. Field names are the CSV columns."""

    run_id: str
    engine: str
    op: str
    check: str
    dtype: str
    shapes: str
    kwargs: str
    seed: int
    example: int
    max_abs_err: float = math.nan
    max_rel_err: float = math.nan
    tolerance: float = math.nan
    score: float = math.nan
    verdict: str = "pass"
    rule: str = ""
    detail: str = ""
    inputs: str = ""
    duration_ms: float = math.nan
    location: str = ""
    reference: str = ""
    replay_id: str = ""
    count: int = 1
    witnesses: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}; expected one of {sorted(VERDICTS)}")
        if self.check not in CHECKS:
            raise ValueError(f"unknown check {self.check!r}; expected one of {sorted(CHECKS)}")

    @property
    def failed(self) -> bool:
        return self.verdict in FAILING

    def row(self) -> dict:
        """The CSV row: every column of COLUMNS, in order."""
        values = dataclasses.asdict(self)
        return {name: values[name] for name in COLUMNS}


assert list(COLUMNS) == [f.name for f in dataclasses.fields(Record)], (
    "COLUMNS and Record fields must list the same columns in the same order"
)


def replay_command(row: dict, examples: int) -> str:
    """The command that re-runs the op/dtype stream a row came from (same seed and budget).

    Hypothesis replays a stream deterministically from its seed when the example
    budget is the same, so the row's case is regenerated as example ``row["example"]``.
    A semantics row re-runs its program stream alone (its kwargs hold the ops and budget).
    """
    if row["check"] == "semantics":
        import json

        budget = json.loads(row["kwargs"])
        return (
            f"gradcheck-suite run --ops {budget['ops']} --examples 0 --programs {budget['programs']} "
            f"--seed {row['seed']}"
        )
    return f"gradcheck-suite run --ops {row['op']} --dtypes {row['dtype']} --seed {row['seed']} --examples {examples}"
