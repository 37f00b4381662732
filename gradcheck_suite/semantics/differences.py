"""Differences between an engine and torch that the lockstep comparison accepts, each written
down with its reason. Keep this list short: every entry is a place where a user of the engine
sees something torch would not show them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Documented:
    pattern: str  # a regular expression searched in one difference line
    reason: str

    def matches(self, line: str) -> bool:
        return re.search(self.pattern, line) is not None


# Warnings torch gives once per process (TORCH_WARN_ONCE): whether a step shows them depends on
# what ran earlier in the process, not on the program, so they are never compared.
ONCE_PER_PROCESS = (
    r"^The use of `x\.T` on tensors of dimension other than 2",
    r"^Tensor\.m?T is deprecated on 0-D tensors",
    r"^Using backward\(\) with create_graph=True will create a reference cycle",
)

# The nodes a backward formula records under create_graph=True are named after the ATen
# overloads torch's C++ formulas call (``grad * 2`` inside pow's formula is MulBackward1, the
# Tensor-Scalar overload; tanh's is TanhBackwardBackward0, abs's SgnBackward0). The engine's
# formulas are written with its public ops, so the same graphs carry the public names
# (MulBackward0). Values, gradients and higher derivatives of these graphs are compared (and
# match); only the names of formula-recorded nodes are not (observe.FORMULA).
FORMULA_NODES = "names of nodes recorded by backward formulas (create_graph=True) are not compared"

DOCUMENTED: tuple[Documented, ...] = ()


def accepted(line: str) -> Documented | None:
    """The documented difference a difference line falls under, if any."""
    return next((d for d in DOCUMENTED if d.matches(line)), None)
