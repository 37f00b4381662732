"""Test-wide settings.

Hypothesis profiles are registered and selected here explicitly: hypothesis would
otherwise load its own "ci" profile whenever the CI variable is set. Choose with
GRADCHECK_HYPOTHESIS_PROFILE (gradcheck-ci, gradcheck-dev); CI gets gradcheck-ci.
"""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, settings

settings.register_profile(
    "gradcheck-ci",
    derandomize=True,
    database=None,
    deadline=None,  # torch's first call takes seconds
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("gradcheck-dev", deadline=None, max_examples=100, print_blob=True)
settings.load_profile(
    os.environ.get("GRADCHECK_HYPOTHESIS_PROFILE") or ("gradcheck-ci" if os.environ.get("CI") else "gradcheck-dev")
)

# Failing cases are stored for replay in the project cache; tests must not fill the
# working tree's (or the user's) cache, so each session gets its own.
os.environ["GRADCHECK_SUITE_CACHE"] = tempfile.mkdtemp(prefix="gradcheck-cache-")
