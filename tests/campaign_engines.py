"""Engines with planted faults, selected by module:attribute in campaign tests."""

from __future__ import annotations

import os
import time

import numpy as np

from gradcheck_suite.engines import get_engine
from gradcheck_suite.engines.mirror import MirrorEngine


class _Reference(MirrorEngine):
    def __init__(self, name: str) -> None:
        base = get_engine("reference")
        super().__init__(name, base.module, base._call, base.version)


class WrongMulGradient(_Reference):
    """mul's gradient is doubled for inputs with more than two elements (a wrong formula
    on one code path: small cases pass, so the campaign has to find it)."""

    def __init__(self) -> None:
        super().__init__("wrong-mul")

    def forward(self, op, arrays, kwargs):
        self.planted = op.name == "mul" and max(np.size(a) for a in arrays) > 2
        return super().forward(op, arrays, kwargs)

    def vjp(self, inputs, output, cotangent):
        grads = super().vjp(inputs, output, cotangent)
        return [2 * g for g in grads] if self.planted else grads


class SlowWrongMulGradient(WrongMulGradient):
    """WrongMulGradient at 50 ms a case or more: a chunk runs long enough to be caught running,
    and a campaign long enough to be interrupted after its first finding, even on a loaded machine."""

    def forward(self, op, arrays, kwargs):
        time.sleep(0.05)
        return super().forward(op, arrays, kwargs)


class HangsOnExpCrashesOnSin(_Reference):
    """exp's forward never returns (a hang); sin's kills the process (as a segfault in native
    code would); other ops are fine."""

    def __init__(self) -> None:
        super().__init__("hangs-or-crashes")

    def forward(self, op, arrays, kwargs):
        if op.name == "exp":
            time.sleep(3600)
        if op.name == "sin":
            os._exit(77)
        return super().forward(op, arrays, kwargs)
