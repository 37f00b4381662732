"""What one ``gradcheck`` call found, and the explanation a failure carries.

A failure names the input (or parameter) and the element, the value computed, the value the
float64 numerical reference expects with its error estimate, the output whose Jacobian entry
is wrong where it was narrowed down, the rule behind the verdict and which witnesses were
independent, and the replay script that reproduces it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradcheck_suite.checking import verdicts
from gradcheck_suite.records import Record

LEGEND = "computed: by the engine; torch: by torch.autograd; expected, fd: by float64 finite differences; e: engine"
SAME_CODE_LEGEND = "computed: by your code's backward (torch.autograd); expected: by float64 finite differences"
# which failing row explains a failure best: one with the numerical reference's value first
PRIORITY = ("vjp-fd", "jvp-fd", "hvp-fd", "vjp-torch", "jvp-torch", "hvp-torch", "forward")


class GradcheckError(AssertionError, RuntimeError):
    """A gradient that the witnesses reject. An ``AssertionError`` (a failed check in test
    runners) and a ``RuntimeError`` (what ``torch.autograd.gradcheck`` raises), so code
    written for either catches it. ``.result`` holds the full ``GradcheckResult``."""

    def __init__(self, message: str, result: GradcheckResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class GradcheckResult:
    """Everything one ``gradcheck`` found.

    - ``records``: one per check (``forward``, ``vjp-torch``, ``vjp-fd``, the further checks
      asked for, and for torch code the contract checks ``zero-grad``, ``grad-attributes``,
      ``undefined-grad``, ``batched-grad``).
    - ``per_input``: input index -> the records of the check that varies that input alone
      (engine functions with several inputs; filled on failure, or always with ``check``).
    - ``labels``: the differentiated inputs' names (``input 0``, ``weight``, ...).
    - ``settings``: what changes the numbers: device, TF32 (off during the check), torch's
      version and determinism flag; ``witnesses``: which witnesses were independent.
    - ``script`` / ``script_path``: the replay script of a failure (None when it passed).
    """

    ok: bool
    dtype: str
    seed: int
    shapes: tuple[tuple[int, ...], ...]
    records: list[Record]
    per_input: dict[int, list[Record]] = field(default_factory=dict)
    match_torch_at_kinks: bool = False
    labels: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    script: str | None = None
    script_path: str | None = None
    describe_output: Callable[[int], str] | None = None  # a flat output index, named (torch code)

    def __bool__(self) -> bool:
        return self.ok

    def meta(self) -> dict[str, Any]:
        """What a report's meta.json records of this check: the settings that change the
        numbers (device, TF32 off during the check and what it was before, torch's version),
        the witnesses, dtype, seed and the inputs' names."""
        import platform

        from gradcheck_suite import __version__

        torch = dict(self.settings)
        return {
            "run_id": self.records[0].run_id if self.records else "gradcheck",
            "tool_version": __version__,
            "engine": self.records[0].engine if self.records else "",
            "torch_version": torch.pop("torch_version", ""),
            "torch_device": torch.pop("device", "cpu"),
            "torch_tf32_matmul": torch.pop("tf32_matmul", None),
            "torch_tf32_cudnn": torch.pop("tf32_cudnn", None),
            "torch_deterministic": torch.pop("deterministic_algorithms", None),
            "torch_settings": torch,
            "witnesses": self.witnesses,
            "dtypes": [self.dtype],
            "seed": self.seed,
            "inputs": self.labels,
            "python": platform.python_version(),
            "platform": platform.platform(),
        }

    def write_reports(self, folder: str | Path) -> dict[str, Path]:
        """results.csv, meta.json (``meta()``) and report.html of this check in ``folder``, as
        a run writes them; the paths."""
        from gradcheck_suite.report import write_reports

        return write_reports(self.records, self.meta(), Path(folder))

    def fails(self, record: Record) -> bool:
        """A failing verdict; with ``match_torch_at_kinks``, a ``convention`` one too."""
        return record.failed or (self.match_torch_at_kinks and record.verdict == "convention")

    @property
    def failures(self) -> list[Record]:
        """The failing records, the most explanatory first (one with the reference's value)."""
        failing = [r for r in self.records if self.fails(r)]
        return sorted(failing, key=lambda r: PRIORITY.index(r.check) if r.check in PRIORITY else len(PRIORITY))

    @property
    def verdict(self) -> str:
        """``pass``, or the verdict of the first failing record."""
        return self.failures[0].verdict if self.failures else "pass"

    @property
    def witnesses(self) -> str:
        return next((r.witnesses for r in self.records if r.witnesses), "")

    @property
    def failing_inputs(self) -> list[int]:
        return [i for i, recs in sorted(self.per_input.items()) if any(self.fails(r) for r in recs)]

    def message(self) -> str:
        """The explanation ``GradcheckError`` carries (also useful when ok: one line)."""
        shapes = [list(s) for s in self.shapes]
        if self.ok:
            return f"gradcheck passed: {len(self.records)} checks, dtype {self.dtype}, input shapes {shapes}"
        first = self.failures[0]
        lines = [*self._headline(first), f"  rule: {first.rule}"]
        if first.witnesses:
            lines.append(
                f"  witnesses: {first.witnesses}" + (f"; reference: {first.reference}" if first.reference else "")
            )
        if not math.isnan(first.score):
            error, tol, score = first.max_abs_err, first.tolerance, first.score
            lines.append(f"  max abs error {error:.3g}, tolerance there {tol:.3g} (score {score:.3g})")
        lines.append(f"  dtype {self.dtype}, input shapes {shapes}, seed {self.seed}{self._where_run()}")
        lines += [f"  also {r.check}: {r.verdict} ({r.detail or r.rule})" for r in self.failures[1:]]
        if len(self.shapes) > 1 and self.per_input:
            culprits = self.failing_inputs
            named = ", ".join(self._label(i) for i in culprits) if culprits else "none alone (only jointly)"
            lines.append(f"  varying one input at a time, the gradient is wrong for: {named}")
        if self.script_path:
            lines.append(f"  replay: python {_shown(self.script_path)}")
        lines.append(f"  ({SAME_CODE_LEGEND if self.witnesses == verdicts.SAME_CODE else LEGEND})")
        return "\n".join(lines)

    def _label(self, i: int) -> str:
        return self.labels[i] if i < len(self.labels) else f"input {i}"

    def _headline(self, first: Record) -> list[str]:
        """What is wrong where, with the computed and expected values (from the row's location)."""
        where = json.loads(first.location) if first.location else {}
        head = f"gradcheck failed: verdict {first.verdict!r} on check {first.check!r}"
        if "element" not in where and "output" not in where:
            return [head, f"  {first.detail}"] if first.detail else [head]
        if "element" in where:
            place = f"{self._label(where['input'])} at {where['element']}"
            what = "second-order product" if first.check.startswith("hvp") else "gradient"
        else:
            place = self._output_name(where["output"])
            what = "forward-mode derivative (J u)"
        lines = [f"gradcheck failed: the {what} of {place} is wrong (verdict {first.verdict}, check {first.check})"]
        values = []
        if "computed" in where:
            values.append(f"computed {where['computed']:.9g}")
        if _finite_or_inf(where.get("expected")):
            error = where.get("error_estimate")
            estimate = f", error estimate {error:.2g}" if _finite_or_inf(error) else ""
            values.append(f"expected {where['expected']:.9g} (finite differences in float64{estimate})")
        if first.witnesses != verdicts.SAME_CODE and "torch" in where:
            values.append(f"torch {where['torch']:.9g}")
        lines.append("  " + ", ".join(values) if values else f"  {first.detail}")
        if "engine_jacobian" in where and "output" in where:
            lines.append(
                f"  the Jacobian entry for {self._output_name(where['output'])}: computed "
                f"{where['engine_jacobian']:.9g}, expected {where['reference_jacobian']:.9g}"
            )
        if "kink at" in first.detail:
            lines.append("  " + first.detail[first.detail.index("kink at") :])
        return lines

    def _output_name(self, index: list[int]) -> str:
        if self.describe_output is not None and len(index) == 1:
            return self.describe_output(int(index[0]))
        return f"output at {index}"

    def _where_run(self) -> str:
        s = self.settings
        if not s:
            return ""
        tf32 = ", TF32 off during the check" if s.get("tf32_matmul") is False else ""
        return f", device {s.get('device', 'cpu')}{tf32}"


def _shown(path: str) -> str:
    """A path as a user types it: relative to the working directory when it lies inside it."""
    import os

    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _finite_or_inf(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


__all__ = ["LEGEND", "GradcheckError", "GradcheckResult"]
