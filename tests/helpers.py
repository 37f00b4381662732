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
