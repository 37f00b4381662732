"""The project cache: where failing cases are kept across runs for ``gradcheck-suite replay``.

``.gradcheck-suite/`` in the current directory, unless the environment variable
``GRADCHECK_SUITE_CACHE`` names another directory. Nothing is created until a case is stored.
"""

from __future__ import annotations

import os
from pathlib import Path

from gradcheck_suite.cases_io import CaseStore

ENV_VAR = "GRADCHECK_SUITE_CACHE"
DEFAULT_DIR = ".gradcheck-suite"
CASES_FILE = "cases.jsonl"


def cache_dir() -> Path:
    """The cache directory: ``$GRADCHECK_SUITE_CACHE`` (``~`` expanded) or ``./.gradcheck-suite``."""
    named = os.environ.get(ENV_VAR, "").strip()
    return Path(named).expanduser() if named else Path.cwd() / DEFAULT_DIR


def case_store() -> CaseStore:
    """The cache's store of failing cases, ``<cache_dir()>/cases.jsonl``."""
    return CaseStore(cache_dir() / CASES_FILE)


__all__ = ["CASES_FILE", "DEFAULT_DIR", "ENV_VAR", "cache_dir", "case_store"]
