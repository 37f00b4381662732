"""The documented shape of a run's files: results.csv columns and meta.json keys.

reports/README.md carries both tables between generated markers; a test checks they match
this module, and ``python3 -m gradcheck_suite.report.readme`` rewrites them.
"""

from __future__ import annotations

from gradcheck_suite.records import COLUMNS
from gradcheck_suite.report.tables import DTYPES

# meta.json key -> (group shown in the HTML report, meaning). Keys a run writes that are not
# listed here still show in the report, under "other".
META_KEYS: dict[str, tuple[str, str]] = {
    "run_id": ("run", "identifier of the run (the run folder's default name)"),
    "command": ("run", "the command line that produced the run (blank when not started from the console script)"),
    "started": ("run", "UTC start time, ISO 8601"),
    "finished": ("run", "UTC end time, ISO 8601"),
    "interrupted": ("run", "true when the run was stopped (Ctrl-C, SIGTERM); the reports hold what completed"),
    "deterministic": ("run", "`--deterministic`: fixed run id and no timings, so results.csv is byte-identical"),
    "known_file": ("run", "--known: the known-discrepancies file failing rows were triaged against"),
    "torch_findings": (
        "run",
        "the shipped file of torch's own known findings applied besides --known (null with --no-torch-findings)",
    ),
    "known_failures": ("run", "failing rows the known-discrepancies file lists (they do not fail the run)"),
    "new_failures": ("run", "failing rows the known-discrepancies file does not list (they fail the run)"),
    "stale_known": (
        "run",
        "entries of the known-discrepancies file the run exercised but no failing row matched "
        "(the discrepancy went away: remove them?)",
    ),
    "tool_version": ("engine", "gradcheck-suite version"),
    "engine": ("engine", "the engine(s) under test, comma-separated, as the adapters name themselves"),
    "engine_specs": ("engine", "engine name -> how --engine named it (a registered name or module:attribute)"),
    "engine_version": ("engine", "version each engine adapter reports, comma-separated in the order of engine"),
    "torch_version": ("torch", "torch version of the oracle"),
    "torch_device": ("torch", "device torch computed on"),
    "torch_threads": ("torch", "torch intra-op threads"),
    "torch_deterministic": ("torch", "torch.are_deterministic_algorithms_enabled()"),
    "torch_tf32_matmul": (
        "torch",
        "torch.backends.cuda.matmul.allow_tf32, switched off for the run (TF32 changes matmul results on GPUs)",
    ),
    "torch_tf32_cudnn": ("torch", "torch.backends.cudnn.allow_tf32, switched off for the run"),
    "seed": ("generation", "--seed: every op/dtype stream is seeded from it"),
    "examples": ("generation", "--examples: cases per op and dtype"),
    "programs": ("generation", "--programs: random autograd programs of the semantics check"),
    "checks": ("generation", "--checks: the checks selected, or all"),
    "dtypes": ("generation", "dtypes checked"),
    "ops": ("generation", "catalogue ops checked"),
    "hypothesis_version": ("generation", "hypothesis version (case generation)"),
    "hypothesis_settings": ("generation", "the hypothesis settings of the case streams (derandomize, phases, ...)"),
    "numpy_version": ("environment", "NumPy version"),
    "python": ("environment", "Python version"),
    "platform": ("environment", "platform.platform()"),
    "process_malloc_tuned": (
        "environment",
        "the command raised glibc's malloc thresholds for its process (reference/autograd/allocator.py; "
        "importing the library does not)",
    ),
    "process_gc_frozen": (
        "environment",
        "the command called gc.freeze() after start-up (importing the library does not)",
    ),
    "mode": ("campaign", "fuzz for a `gradcheck-suite fuzz` campaign"),
    "time_budget_s": ("campaign", "--time: the campaign's time budget in seconds"),
    "elapsed_s": ("campaign", "seconds the campaign ran, over all its resumptions"),
    "cases": ("campaign", "cases the campaign checked"),
    "workers": ("campaign", "worker processes (on a Dask cluster: its worker threads when the campaign started)"),
    "scheduler": (
        "campaign",
        "where the tasks ran: pool (the built-in worker processes), local (a Dask LocalCluster) or the address of "
        "the Dask scheduler given to --scheduler",
    ),
    "chunk": ("campaign", "cases a worker takes at a time"),
    "case_timeout_s": ("campaign", "per-case timeout in seconds (a case past it gets the verdict timeout)"),
    "resumed": ("campaign", "true when the campaign continued an interrupted one (--resume)"),
    "passing_rows": (
        "campaign",
        "which passing rows results.csv holds: all (--keep-passing), or a sample per op, "
        "dtype and check with the rest folded into rows of `count` checks",
    ),
}
META_GROUPS = ("run", "engine", "torch", "generation", "environment", "campaign", "other")
# What the issue asks every run to record; the HTML says "not recorded" when one is missing.
REQUIRED_META = (
    "tool_version", "engine", "engine_version", "torch_version", "torch_device", "torch_threads",
    "torch_tf32_matmul", "torch_deterministic", "hypothesis_settings", "seed", "platform", "started", "finished",
)  # fmt: skip


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def columns_table() -> str:
    lines = ["| # | column | type | meaning |", "|---|---|---|---|"]
    for index, (name, meaning) in enumerate(COLUMNS.items(), start=1):
        lines.append(f"| {index} | `{name}` | {DTYPES[name]} | {_cell(meaning)} |")
    return "\n".join(lines) + "\n"


def meta_table() -> str:
    lines = ["| key | group | meaning |", "|---|---|---|"]
    lines += [f"| `{key}` | {group} | {_cell(meaning)} |" for key, (group, meaning) in META_KEYS.items()]
    return "\n".join(lines) + "\n"
