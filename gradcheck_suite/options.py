"""Command-line options shared by ``run`` and ``fuzz`` (and their argparse types), and the
exit codes and UsageError every subcommand uses.

Exit codes: 0 every check passed; 1 a discrepancy was found (a failing verdict not listed in
the --known file); 2 usage or input error (unknown op, unwritable output, bad option);
3 internal error of the tool itself; 130 interrupted (reports are still written from what ran).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DTYPES = ("float32", "float64", "complex64", "complex128")  # catalogue/complex_view.py; ops run those they list


class UsageError(Exception):
    """A problem with what the user asked for; reported without a traceback."""


def csv_list(value: str) -> list[str]:
    """A comma list without blanks or repeats; an empty list is an error."""
    items = list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of names, got {value!r}")
    return items


def _choices(allowed: tuple[str, ...], what: str):
    def parse(value: str) -> list[str]:
        chosen = csv_list(value)
        bad = [d for d in chosen if d not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(bad)}; expected a comma list of {', '.join(allowed)}"
            )
        return chosen

    return parse


def whole_number(low: int, high: int, what: str):
    """An argparse type: an integer in [low, high], with a message that says so."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value!r}") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {n}")
        return n

    return parse


seed_number = whole_number(0, 2**63 - 1, "a whole number seed between 0 and 2**63 - 1")


def add_selection(p: argparse.ArgumentParser, *, several_engines: bool = True) -> None:
    """What to check: ops, dtypes, checks, engine(s), seed."""
    from gradcheck_suite.records import CASE_CHECKS

    p.add_argument("--ops", type=csv_list, default=None, help="comma list of op names or families (default: all)")
    p.add_argument(
        "--dtypes", type=_choices(DTYPES, "dtype"), default=list(DTYPES),
        help="comma list of dtypes (default: all four; an op runs those it supports)",
    )  # fmt: skip
    p.add_argument(
        "--checks", type=_choices(CASE_CHECKS, "check"), default=None,
        help=f"comma list of checks to report (default: all of {','.join(CASE_CHECKS)})",
    )  # fmt: skip
    engines = "comma list of engines" if several_engines else "engine"
    p.add_argument(
        "--engine", type=csv_list, default=["reference"],
        help=f"{engines} under test: reference, torch, autograd, an adapter registered by a package, or "
        "module:attribute for your own (default: reference)",
    )  # fmt: skip
    p.add_argument(
        "--seed", type=seed_number, default=0, help="seed of the case streams (default: 0); same seed, same cases"
    )


def add_output(p: argparse.ArgumentParser, default_out: str = "reports") -> None:
    """Where results go, and what counts as a failure."""
    p.add_argument(
        "--out", type=Path, default=Path(default_out), help=f"directory for run folders (default: {default_out})"
    )
    p.add_argument("--name", default=None, help="run folder name (default: a timestamp)")
    p.add_argument(
        "--known", type=Path, default=None,
        help="known-discrepancies TOML file: listed failures do not fail the run; entries that no longer "
        "occur are reported (see docs/ci.md)",
    )  # fmt: skip
    p.add_argument(
        "--no-torch-findings", action="store_true",
        help="fail on torch's own known findings too (gradcheck_suite/torch_findings.toml: derivatives of torch's "
        "that the numerical reference rejects, which an engine mirroring torch shares); by default they are known",
    )  # fmt: skip
    p.add_argument("--junit", type=Path, default=None, help="also write JUnit XML to this file (for CI dashboards)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


@dataclass
class Selection:
    ops: list
    engines: list
    checks: list[str] | None


def resolve_selection(args: argparse.Namespace) -> Selection:
    """Ops and engines by name, with usage errors for unknown ones (before any work)."""
    from gradcheck_suite import catalogue
    from gradcheck_suite.engines import UnknownEngineError, get_engine

    try:
        ops = catalogue.select(args.ops)
        engines = [get_engine(name) for name in args.engine]
    except (catalogue.UnknownOpError, UnknownEngineError) as exc:
        raise UsageError(str(exc)) from None
    names = [e.name for e in engines]
    if len(set(names)) != len(names):
        raise UsageError(f"engine names must differ within one run, got {', '.join(names)}")
    return Selection(ops, engines, args.checks)


def prepare_output(out: Path, name: str) -> Path:
    """Create the run folder up front, so a bad path fails before any work is done."""
    target = out / name
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = target / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(
            f"cannot write reports to {target}: {exc.strerror or exc}. Choose another --out directory."
        ) from None
    return target
