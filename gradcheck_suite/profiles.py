"""Budgets for case streams: the ``ci``, ``dev`` and ``campaign`` profiles.

Each profile is a hypothesis ``settings`` object handed to ``runner.run_stream(settings_=...)``.
They are built on hypothesis's "default" profile and never registered under hypothesis's
global profile names: hypothesis loads its own "ci" profile by itself when the ``CI``
variable is set, and what a stream generates must not depend on that. The stream is seeded
per (op, dtype) by ``runner.stream_seed`` (an explicit seed wins over ``derandomize``), so
the same seed AND budget give the same cases. The budget is part of it: hypothesis's
generation depends on ``max_examples``, so example ``k`` of a 10-case stream is not example
``k`` of a 25-case one, and a rerun command carries the budget (``--examples``).

- ``ci``: 10 cases per op and dtype, generation only, no example database. As deterministic
  as ``derandomize=True`` (the explicit seed already fixes the stream), but keeps the
  stream identical to ``gradcheck-suite run --seed S --examples 10``, so that command reruns it.
- ``dev``: 25 cases per op and dtype (the command line's default), otherwise as ``ci``.
- ``campaign``: 200 cases, phases generate and target. Under a targeting profile (and only
  there: targets steer generation even outside the target phase) ``runner.run_stream``
  reports every check's score (error over its budget) as a ``hypothesis.target``, so the
  stream climbs toward large discrepancies, and its cases also depend on the engine's
  errors: no stream command reproduces them, replay ids (``gradcheck-suite replay ID``) do.
  No hypothesis database: checks never raise, so hypothesis would store nothing; failing
  cases are kept exactly in the project's case store instead (``.gradcheck-suite/cases.jsonl``,
  cache.py), and ``gradcheck-suite fuzz`` (whose workers use this profile) re-checks them first.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, Verbosity, settings

ENV_VAR = "GRADCHECK_PROFILE"
DEFAULT = "ci"


class UnknownProfileError(ValueError):
    """A profile name that is not one of PROFILES."""


_DEFAULTS = settings.get_profile("default")

# What every profile shares with runner.STREAM_SETTINGS: checks never raise into hypothesis,
# so there is nothing to shrink, no deadline (torch's first call takes seconds) and no
# health check that applies to a stream of slow, independent cases.
_BASE = settings(
    _DEFAULTS,
    derandomize=False,
    database=None,
    deadline=None,
    phases=(Phase.generate,),
    suppress_health_check=list(HealthCheck),
    verbosity=Verbosity.quiet,
    print_blob=False,
)

PROFILES: dict[str, settings] = {
    "ci": settings(_BASE, max_examples=10),
    "dev": settings(_BASE, max_examples=25),
    "campaign": settings(
        _BASE,
        max_examples=200,
        phases=(Phase.generate, Phase.target),
    ),
}


def get_profile(name: str, *, source: str = "") -> settings:
    """The settings of profile ``name`` (one of PROFILES). ``source`` names where the name
    came from (an option, an environment variable) for the error message."""
    try:
        return PROFILES[name]
    except KeyError:
        where = f" (from {source})" if source else ""
        raise UnknownProfileError(
            f"unknown gradcheck profile {name!r}{where}; expected one of {', '.join(PROFILES)}"
        ) from None


def profile_name_from_env(default: str = DEFAULT) -> str:
    """The profile named by GRADCHECK_PROFILE, or ``default`` when it is unset or blank."""
    return os.environ.get(ENV_VAR, "").strip() or default


def profile_from_env(default: str = DEFAULT) -> settings:
    """The settings of the profile named by GRADCHECK_PROFILE (``default`` when unset)."""
    return get_profile(profile_name_from_env(default), source=f"${ENV_VAR}")


__all__ = [
    "DEFAULT",
    "ENV_VAR",
    "PROFILES",
    "UnknownProfileError",
    "get_profile",
    "profile_from_env",
    "profile_name_from_env",
]
