"""Helpers shared by test modules (on sys.path through pytest's ``pythonpath`` setting)."""

from __future__ import annotations

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
