"""The ``gradcheck-suite`` command line.

Exit codes: 0 every check passed; 1 a discrepancy was found (a failing verdict);
2 usage or input error (unknown op, unwritable output, bad option); 3 internal
error of the tool itself; 130 interrupted (reports are still written from what ran).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import signal
import sys
import traceback
from collections import Counter
from pathlib import Path

from gradcheck_suite import __version__

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DTYPES = ("float32", "float64")


class UsageError(Exception):
    """A problem with what the user asked for; reported without a traceback."""


def _csv_list(value: str) -> list[str]:
    """A comma list without blanks or repeats; an empty list is an error."""
    items = list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of names, got {value!r}")
    return items


def _dtypes(value: str) -> list[str]:
    chosen = _csv_list(value)
    bad = [d for d in chosen if d not in DTYPES]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown dtype {', '.join(bad) or value!r}; expected a comma list of {', '.join(DTYPES)}"
        )
    return chosen


def _whole_number(low: int, high: int, what: str):
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


_positive = _whole_number(1, 10**9, "a positive whole number")
_seed = _whole_number(0, 2**63 - 1, "a whole number seed between 0 and 2**63 - 1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck-suite",
        description="Check an autograd engine against torch.autograd and finite differences.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the conformance checks and write CSV and HTML reports")
    run.add_argument("--ops", type=_csv_list, default=None, help="comma list of op names or families (default: all)")
    run.add_argument(
        "--dtypes", type=_dtypes, default=list(DTYPES), help="comma list of dtypes (default: float32,float64)"
    )
    run.add_argument(
        "--examples", type=_whole_number(0, 10**9, "a whole number of examples"), default=25,
        help="generated cases per op and dtype (default: 25; 0 runs only the semantics programs)",
    )  # fmt: skip
    run.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seed of the case streams (default: 0); same seed and budget, same cases",
    )
    run.add_argument(
        "--programs", type=_whole_number(0, 10**9, "a whole number of programs"), default=40,
        help="random autograd programs run on the engine and torch in lockstep (default: 40; 0: none)",
    )  # fmt: skip
    run.add_argument("--engine", default="reference", help="engine under test (default: reference)")
    run.add_argument("--out", type=Path, default=Path("reports"), help="directory for run folders (default: reports)")
    run.add_argument("--name", default=None, help="run folder name (default: a timestamp)")
    run.add_argument(
        "--deterministic", action="store_true",
        help="byte-identical results.csv across runs: fixed run id, no timings (for CI)",
    )  # fmt: skip
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    listing = sub.add_parser("list", help="list the ops in the catalogue")
    for p in (run, listing):  # --debug also after the subcommand
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        return _run(args)
    except UsageError as exc:
        print(f"gradcheck-suite: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"gradcheck-suite: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                file=sys.stderr,
            )
        return EXIT_INTERNAL


def _list() -> int:
    from gradcheck_suite.catalogue import CATALOGUE

    width = max(len(n) for n in CATALOGUE)
    for spec in CATALOGUE.values():
        domains = ", ".join(str(d) for d in spec.domains)
        print(f"{spec.name:<{width}}  {spec.family:<10} inputs: {domains}" + (f"  ({spec.doc})" if spec.doc else ""))
    return EXIT_OK


def _prepare_output(out: Path, name: str) -> Path:
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


def _run(args: argparse.Namespace) -> int:
    from gradcheck_suite import catalogue, runner
    from gradcheck_suite.checking.case import CaseChecker
    from gradcheck_suite.engines import UnknownEngineError, get_engine

    try:
        ops = catalogue.select(args.ops)
        engine = get_engine(args.engine)
    except (catalogue.UnknownOpError, UnknownEngineError) as exc:
        raise UsageError(str(exc)) from None
    started = _dt.datetime.now(_dt.UTC)
    run_id = (
        f"deterministic-s{args.seed}" if args.deterministic else started.strftime("%Y%m%d-%H%M%S") + f"-s{args.seed}"
    )
    out_dir = _prepare_output(args.out, args.name or run_id)

    from gradcheck_suite.oracles.torch_oracle import torch_oracle, torch_settings

    oracle = torch_oracle()
    # Cases are tiny: more threads only wait for each other (costing CPU on a loaded machine).
    # The thread count is recorded in meta.json with torch's other settings.
    oracle.module.set_num_threads(1)
    checker = CaseChecker(engine, oracle)
    records: list = []

    def progress(p: runner.Progress) -> None:
        if not args.quiet:
            flag = f"  {p.failing} FAILING" if p.failing else ""
            print(
                f"  {p.op:<12} {p.dtype:<8} {p.cases:>4} cases {len(p.records):>5} checks{flag}",
                file=sys.stderr,
                flush=True,
            )

    interrupted = False
    previous = signal.signal(signal.SIGTERM, _terminate)  # a kill writes reports too
    try:
        runner.run(
            ops,
            args.dtypes,
            checker,
            seed=args.seed,
            examples=args.examples,
            run_id=run_id,
            sink=records.extend,
            progress=progress,
        )
        if args.programs:
            records.extend(_semantics(args, engine, ops, run_id))
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: writing reports from the checks completed so far", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.deterministic:
        for r in records:
            r.duration_ms = float("nan")
    meta = _meta(args, engine, ops, run_id, started, interrupted, torch_settings())
    from gradcheck_suite.report import write_reports

    try:
        paths = write_reports(records, meta, out_dir)
    except OSError as exc:
        raise UsageError(f"cannot write reports to {out_dir}: {exc}") from None
    _summary(records, paths, interrupted)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILURES if any(r.failed for r in records) else EXIT_OK


def _semantics(args: argparse.Namespace, engine, ops, run_id: str) -> list:
    """The semantics stream: random programs using the selected ops, on the engine and torch."""
    import torch

    from gradcheck_suite.semantics.run import records, search

    result = search(engine.module, torch, ops, seed=args.seed, programs=args.programs)
    if not args.quiet:
        found = "  DIVERGED" if result.divergence else ""
        print(
            f"  {'programs':<12} {'mixed':<8} {result.programs:>4} programs {result.steps:>5} steps{found}",
            file=sys.stderr,
        )
    ops_arg = ",".join(args.ops) if args.ops else "all"
    return records(result, run_id=run_id, engine_name=engine.name, seed=args.seed, programs=args.programs, ops=ops_arg)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _meta(args, engine, ops, run_id, started, interrupted, torch_info) -> dict:
    import hypothesis
    import numpy

    return {
        "run_id": run_id,
        "tool_version": __version__,
        "engine": engine.name,
        "engine_version": engine.version,
        **torch_info,
        "hypothesis_version": hypothesis.__version__,
        "numpy_version": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "seed": args.seed,
        "examples": args.examples,
        "programs": args.programs,
        "dtypes": list(args.dtypes),
        "ops": [op.name for op in ops],
        "deterministic": args.deterministic,
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "interrupted": interrupted,
        "command": "gradcheck-suite " + " ".join(sys.argv[1:])
        if sys.argv and "gradcheck" in os.path.basename(sys.argv[0])
        else "",
    }


def _summary(records: list, paths: dict, interrupted: bool) -> None:
    verdicts = Counter(r.verdict for r in records)
    failing = Counter(r.op for r in records if r.failed)
    ops = {r.op for r in records}
    status = "FAIL" if failing else "PASS"
    if interrupted:
        status = f"INTERRUPTED ({status.lower()} so far)"
    counts = ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items()))
    print(f"{status}: {len(records)} checks of {len(ops)} ops ({counts or 'nothing ran'})")
    for op, n in failing.most_common():
        print(f"  {op}: {n} failing checks")
    print(f"reports: {paths['html']}  {paths['csv']}")
