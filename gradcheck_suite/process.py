"""What a command sets for its whole process, and the record of it for meta.json.

Importing ``gradcheck_suite`` or ``reference`` changes no process-wide state: no allocator
setting, no collector state, no warning filter, no thread count. The commands (``run``,
``fuzz`` and its workers, local or on a Dask cluster) and the benchmarks opt in here, once,
after start-up, and record what they set in meta.json (``settings``):

- torch on one thread and TF32 off (``torch_oracle.settle``: the same torch numbers as CI);
- glibc's malloc thresholds raised to their ceilings (``reference.autograd.allocator``: the
  reference engine's large arrays are not page-faulted in anew on every pass);
- ``gc.freeze()``: torch, hypothesis and the catalogue, loaded by then and long-lived, move
  out of the collector's way, so full collections stop re-scanning them.

``replay`` and ``pytest --gradcheck`` settle torch alone (they run inside someone's process
or for one case).
"""

from __future__ import annotations

import gc
from typing import Any

_SET: dict[str, bool] = {"malloc_tuned": False, "gc_frozen": False}


def for_command(torch: Any) -> dict[str, Any]:
    """Settle torch, tune malloc, freeze what is loaded; returns ``settings()``."""
    from gradcheck_suite.oracles.torch_oracle import settle
    from reference.autograd.allocator import tune_malloc

    settle(torch)
    _SET["malloc_tuned"] = _SET["malloc_tuned"] or tune_malloc()
    gc.freeze()
    _SET["gc_frozen"] = True
    return settings()


def settings() -> dict[str, Any]:
    """torch's settings (torch_oracle.torch_settings) and what ``for_command`` set."""
    from gradcheck_suite.oracles.torch_oracle import torch_settings

    frozen = _SET["gc_frozen"] and gc.get_freeze_count() > 0  # gc.unfreeze() since (a benchmark called in-process)
    return torch_settings() | {"process_malloc_tuned": _SET["malloc_tuned"], "process_gc_frozen": frozen}


def describe(state: dict[str, Any]) -> str:
    """One line for a benchmark's or command's output: what it set for its process."""
    tf32 = "TF32 on" if state.get("torch_tf32_matmul") else "TF32 off"
    parts = [f"torch threads {state.get('torch_threads')}", tf32]
    parts.append("glibc malloc thresholds raised" if state.get("process_malloc_tuned") else "malloc untouched")
    parts.append("gc.freeze() after start-up" if state.get("process_gc_frozen") else "gc untouched")
    return "process settings: " + ", ".join(parts)
