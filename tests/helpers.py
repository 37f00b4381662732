"""Helpers shared by test modules (on sys.path through pytest's ``pythonpath`` setting)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy


def draws(strategy: SearchStrategy, n: int = 200) -> list:
    """``n`` draws of ``strategy``, the same ones on every run (whatever profile is loaded),
    collected from inside a ``@given``-wrapped function."""
    seen: list = []

    @settings(
        deadline=None,
        max_examples=n,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(x) -> None:
        seen.append(x)

    collect()
    assert seen
    return seen


def wrong_sin(factor: float = 1.02):
    """``torch.sin`` as a custom autograd.Function whose backward is ``factor`` too steep: a
    wrong torch formula, to patch into the catalogue's ``sin`` entry (engine and oracle both
    run it when the engine is torch)."""
    import torch

    class WrongSin(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            return g * ctx.saved_tensors[0].cos() * factor

    return WrongSin.apply


ROOT = Path(__file__).resolve().parents[1]


def fuzz_env(cache: Path) -> dict:
    """The environment of a ``gradcheck-suite fuzz`` subprocess: the test engines importable
    (tests/ on PYTHONPATH), its own case cache, a progress line every second."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    env["GRADCHECK_SUITE_CACHE"] = str(cache)
    env["GRADCHECK_PROGRESS_EVERY"] = "1"
    return env


def fuzz(*args: str, env: dict, **kw) -> subprocess.Popen:
    """``gradcheck-suite fuzz ARGS`` started in the repository, output (both streams) piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "gradcheck_suite", "fuzz", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw,
    )  # fmt: skip
