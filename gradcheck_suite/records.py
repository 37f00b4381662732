"""The record: one row per check, the unit every report, CSV and exit code is built from.

The column list is the CSV schema; it only grows (new columns at the end), so
scripts that read results.csv keep working. Each column is documented in COLUMNS.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

# Verdicts: name -> (is a failure of the engine under test, one-line meaning).
VERDICTS: dict[str, tuple[bool, str]] = {
    "pass": (False, "engine, torch and finite differences agree within the error budget"),
    "engine-bug": (True, "torch and finite differences agree; the engine differs"),
    "torch-differs": (False, "engine and finite differences agree; torch differs"),
    "convention": (False, "at a kink: engine and torch pick different valid subgradients"),
    "not-differentiable": (False, "no derivative exists here and neither side is wrong"),
    "numerical-noise": (False, "a difference, but within the error budget"),
    "forward-mismatch": (True, "the engine's forward values differ from torch's"),
    "error-mismatch": (True, "one side raised an error, the other did not"),
    "non-finite": (True, "the engine produced inf/nan where torch and finite differences are finite"),
    "harness-error": (True, "the checker itself failed on this case (a bug to report)"),
}

FAILING = frozenset(name for name, (fails, _) in VERDICTS.items() if fails)

CHECKS: dict[str, str] = {
    "forward": "engine forward values against torch's",
    "vjp-torch": "engine vector-Jacobian product against torch.autograd.grad with the same cotangent",
    "vjp-fd": "engine vector-Jacobian product against central finite differences in float64",
}

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
    "tolerance": "allowed absolute difference at the worst element (atol + rtol * |reference|)",
    "score": "worst ratio of difference to tolerance; the check passes when score <= 1",
    "verdict": "classification of the row (see VERDICTS)",
    "rule": "the rule that produced the verdict, in words",
    "detail": "where the worst difference is and the values on each side",
    "inputs": "JSON of the input arrays (failing rows only), enough to rebuild the case",
    "duration_ms": "wall time of the check in milliseconds",
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
    """
    return f"gradcheck-suite run --ops {row['op']} --dtypes {row['dtype']} --seed {row['seed']} --examples {examples}"
