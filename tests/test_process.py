"""A library leaves process-wide state alone; commands opt in (process.py) and record it."""

import json
import subprocess
import sys
import textwrap

from gradcheck_suite import process

LIBRARY_USE = textwrap.dedent(
    """
    import gc, sys, warnings
    import reference.autograd.allocator as allocator
    calls = []
    allocator.tune_malloc = lambda: calls.append(1) or True  # any caller would go through the module
    import numpy, torch, sympy  # they add warning filters of their own on import (sympy: through torch)
    filters, threads = list(warnings.filters), torch.get_num_threads()
    import reference, gradcheck_suite, gradcheck_suite.api, gradcheck_suite.checking.case
    import numpy as np
    x = reference.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert gradcheck_suite.gradcheck(lambda a: a.exp(), [np.array([0.5, 1.5])])
    t = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    assert gradcheck_suite.gradcheck(torch.sin, (t,))
    print({"malloc": len(calls), "frozen": gc.get_freeze_count(), "gc": gc.isenabled(),
           "filters": warnings.filters == filters,
           "threads": torch.get_num_threads() == threads, "tf32": torch.backends.cuda.matmul.allow_tf32})
    """
)


def test_importing_and_using_the_library_changes_no_process_state():
    out = subprocess.run([sys.executable, "-c", LIBRARY_USE], capture_output=True, text=True, check=True).stdout
    state = eval(out.strip().splitlines()[-1])  # our own subprocess's dict
    assert state == {"malloc": 0, "frozen": 0, "gc": True, "filters": True, "threads": True, "tf32": False}


def test_a_command_opts_in_and_says_so():
    import torch

    threads = torch.get_num_threads()
    try:
        state = process.for_command(torch)
    finally:
        torch.set_num_threads(threads)
    assert state["process_gc_frozen"] is True and state["torch_tf32_matmul"] is False
    assert isinstance(state["process_malloc_tuned"], bool)
    line = process.describe(state)
    assert "gc.freeze() after start-up" in line and "TF32 off" in line


def test_the_run_command_records_its_process_settings(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "gradcheck_suite", "run", "--ops", "add", "--examples", "1", "--programs", "0",
         "--dtypes", "float64", "--out", str(out), "--name", "r"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "process settings: torch threads 1, TF32 off" in done.stderr
    meta = json.loads((out / "r" / "meta.json").read_text())
    assert meta["process_gc_frozen"] is True and "process_malloc_tuned" in meta
