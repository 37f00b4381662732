"""The ``gradcheck-suite`` command line.

Exit codes (options.py): 0 every check passed; 1 a discrepancy was found (a failing verdict
not listed in --known); 2 usage or input error (unknown op, unwritable output, bad option);
3 internal error of the tool itself; 130 interrupted (reports are still written from what ran).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import signal
import sys
import traceback

from gradcheck_suite import __version__
from gradcheck_suite.options import (
    DTYPES,
    EXIT_FAILURES,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_output,
    add_selection,
    csv_list,
    prepare_output,
    resolve_selection,
    whole_number,
)

__all__ = [
    "DTYPES", "EXIT_FAILURES", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "UsageError",
    "build_parser", "main",
]  # fmt: skip

# Subcommands living in their own modules: name -> (module with add_arguments(parser) and
# main(args) -> exit code, help line). A module raises UsageError for bad input.
SUBCOMMANDS = {
    "fuzz": ("gradcheck_suite.campaign.command", "a fuzz campaign: a time or example budget, workers, resumable"),
    "replay": ("gradcheck_suite.replay", "re-run one failing case by its replay id and print a standalone script"),
    "report": ("gradcheck_suite.report.command", "re-render a run's HTML (or JUnit XML) from its results.csv"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck-suite",
        description="Check an autograd engine against torch.autograd and finite differences.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the conformance checks and write CSV and HTML reports")
    add_selection(run)
    run.add_argument(
        "--examples", type=whole_number(0, 10**9, "a whole number of examples"), default=25,
        help="generated cases per op and dtype (default: 25; 0 runs only the semantics programs)",
    )  # fmt: skip
    run.add_argument(
        "--programs", type=whole_number(0, 10**9, "a whole number of programs"), default=40,
        help="random autograd programs run on the engine and torch in lockstep (default: 40; 0: none)",
    )  # fmt: skip
    add_output(run)
    run.add_argument(
        "--deterministic", action="store_true",
        help="byte-identical results.csv across runs: fixed run id, no timings (for CI)",
    )  # fmt: skip

    listing = sub.add_parser("list", help="list the ops in the catalogue (and which ones an engine supports)")
    listing.add_argument(
        "--engine", default=None, help="mark the ops this engine supports (a registered name or module:attribute)"
    )
    listing.add_argument("--ops", type=csv_list, default=None, help="comma list of op names or families (default: all)")
    listing.add_argument(
        "--verbose", "-v", action="store_true",
        help="per op: input domains, dtypes, the keyword argument values drawn, kinks, conventions, checks",
    )  # fmt: skip
    listing.add_argument(
        "--format", choices=("text", "markdown"), default="text",
        help="markdown: the verbose listing as docs/ops.md (contents by family, a section per op)",
    )  # fmt: skip
    extra = [listing]
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        importlib.import_module(module).add_arguments(p)
        extra.append(p)
    for p in (run, *extra):  # --debug also after the subcommand
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _list(args)
        if args.command in SUBCOMMANDS:
            return importlib.import_module(SUBCOMMANDS[args.command][0]).main(args)
        return _run(args)
    except UsageError as exc:
        print(f"gradcheck-suite: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # outside the work loops (start-up, writing reports)
        print(
            "\ngradcheck-suite: interrupted; a run folder's reports can be rebuilt with `gradcheck-suite report DIR`",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"gradcheck-suite: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
                file=sys.stderr,
            )
        return EXIT_INTERNAL


def _list(args: argparse.Namespace) -> int:
    from gradcheck_suite import catalogue

    try:
        specs = catalogue.select(args.ops)
    except catalogue.UnknownOpError as exc:
        raise UsageError(str(exc)) from None
    supports = None
    if args.engine is not None:
        from gradcheck_suite.engines import UnknownEngineError, get_engine

        try:
            supports = get_engine(args.engine).supports
        except UnknownEngineError as exc:
            raise UsageError(str(exc)) from None
    if args.verbose or args.format == "markdown":
        from gradcheck_suite.catalogue import describe

        described = describe.describe_all(specs)
        marks = None if supports is None else {s.name: bool(supports(s)) for s in specs}
        render = describe.markdown if args.format == "markdown" else describe.text
        sys.stdout.write(render(described, None if marks is None else marks.get))
        count = None if marks is None else sum(marks.values())
    else:
        count = _list_lines(specs, supports)
    if supports is not None and args.format == "text":
        print(f"engine {args.engine!r} supports {count} of {len(specs)} ops ('-': unsupported)")
    return EXIT_OK


def _list_lines(specs: list, supports) -> int:
    """One line per op: name, family, input domains, doc; ops an engine lacks marked '-'."""
    width = max(len(s.name) for s in specs)
    count = 0
    for spec in specs:
        domains = ", ".join(str(d) for d in spec.domains)
        mark = ""
        if supports is not None:
            ok = supports(spec)
            count += ok
            mark = "  " if ok else "- "  # ops the engine lacks are marked, and reported as unsupported
        kinds = (
            "real+complex"
            if "complex64" in spec.dtypes and "float32" in spec.dtypes
            else ("complex" if "complex64" in spec.dtypes else "real")
        )  # the dtypes checked: float32/float64, complex64/complex128 or both
        line = f"{mark}{spec.name:<{width}}  {spec.family:<10} {kinds:<12} inputs: {domains}"
        print(line + (f"  ({spec.doc})" if spec.doc else ""))
    return count


def _run(args: argparse.Namespace) -> int:
    from gradcheck_suite import runner
    from gradcheck_suite.cache import case_store
    from gradcheck_suite.cases_io import CaseStore
    from gradcheck_suite.checking.case import CaseChecker
    from gradcheck_suite.finish import base_meta, finish, known_meta, load_known

    chosen = resolve_selection(args)
    known = load_known(args.known, not args.no_torch_findings)
    started = _dt.datetime.now(_dt.UTC)
    run_id = (
        f"deterministic-s{args.seed}" if args.deterministic else started.strftime("%Y%m%d-%H%M%S") + f"-s{args.seed}"
    )
    out_dir = prepare_output(args.out, args.name or run_id)

    from gradcheck_suite import process
    from gradcheck_suite.oracles.torch_oracle import torch_oracle

    oracle = torch_oracle()
    # one thread, TF32 off, malloc thresholds, gc.freeze (process.py): in meta.json
    state = process.for_command(oracle.module)
    if not args.quiet:
        print(process.describe(state), file=sys.stderr)
    records: list = []
    stores = [CaseStore(out_dir / "cases.jsonl"), case_store()]

    def progress(p: runner.Progress) -> None:
        if not args.quiet:
            flag = f"  {p.failing} FAILING" if p.failing else ""
            if p.failing and known is not None:  # failing rows a known file lists (torch's own findings) said apart
                triage = known.split(p.records)
                flag = (f"  {len(triage.new)} FAILING" if triage.new else "") + (
                    f"  {len(triage.known)} known" if triage.known else "")  # fmt: skip
            print(
                f"  {p.op:<12} {p.dtype:<8} {p.cases:>4} cases {len(p.records):>5} checks{flag}",
                file=sys.stderr,
                flush=True,
            )

    interrupted = False
    previous = signal.signal(signal.SIGTERM, _terminate)  # a kill writes reports too
    try:
        for spec, engine in zip(args.engine, chosen.engines):
            if len(chosen.engines) > 1 and not args.quiet:
                print(f"engine {engine.name} {engine.version}", file=sys.stderr)

            def keep(case, failed, spec=spec) -> None:  # stored with the name that loads the engine
                _store(stores, case, failed, spec)

            checker = CaseChecker(engine, oracle, checks=chosen.checks)
            runner.run(
                chosen.ops, args.dtypes, checker, seed=args.seed, examples=args.examples, run_id=run_id,
                sink=records.extend, progress=progress, on_failure=keep,
            )  # fmt: skip
            if args.programs:
                records.extend(_semantics(args, engine, chosen.ops, run_id))
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: writing reports from the checks completed so far", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.deterministic:
        for r in records:
            r.duration_ms = float("nan")
    meta = base_meta(run_id, chosen.engines, args.engine, chosen.ops, started, state, runner.STREAM_SETTINGS)
    meta |= {
        "seed": args.seed, "examples": args.examples, "programs": args.programs, "dtypes": list(args.dtypes),
        "checks": chosen.checks or "all", "deterministic": args.deterministic,
    }  # fmt: skip
    meta.update(known_meta(args))
    return finish(records, meta, out_dir, known=known, junit=args.junit, interrupted=interrupted)


def _store(stores: list, case, failed: list, engine: str) -> None:
    """Keep a failing case for `gradcheck-suite replay` (run folder and project cache)."""
    for store in stores:
        try:
            store.add(case, engine=engine, seed=failed[0].seed, example=failed[0].example, run_id=failed[0].run_id)
        except OSError as exc:  # a full disk or read-only cache must not stop the run
            print(f"warning: could not store case for replay in {store.path}: {exc}", file=sys.stderr)


def _semantics(args: argparse.Namespace, engine, ops, run_id: str) -> list:
    """The semantics stream: random programs using the selected ops, on the engine and torch.
    Programs are torch source text, so only engines that mirror torch's API run them."""
    import torch

    from gradcheck_suite.semantics.run import records, search, unsupported

    ops_arg = ",".join(args.ops) if args.ops else "all"
    if getattr(engine, "module", None) is None:
        if not args.quiet:
            print(f"  programs skipped: engine {engine.name!r} does not mirror torch's API", file=sys.stderr)
        return unsupported(run_id=run_id, engine_name=engine.name, seed=args.seed, programs=args.programs, ops=ops_arg)

    result = search(engine.module, torch, ops, seed=args.seed, programs=args.programs)
    if not args.quiet:
        found = "  DIVERGED" if result.divergence else ""
        print(
            f"  {'programs':<12} {'mixed':<8} {result.programs:>4} programs {result.steps:>5} steps{found}",
            file=sys.stderr,
        )
    return records(result, run_id=run_id, engine_name=engine.name, seed=args.seed, programs=args.programs, ops=ops_arg)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
