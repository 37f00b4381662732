"""pytest plugin: the ``gradcheck`` fixture for checking your own torch code in your own tests
(pytest_fixture.py), and ``pytest --gradcheck``, which turns the catalogue's checks into test items.

Registered under the ``pytest11`` entry point ``gradcheck_suite.pytest_plugin`` (the module's
own name, so ``-p gradcheck_suite.pytest_plugin`` is a no-op where it is installed, and loads
it where plugin autoloading is off; ``-p no:gradcheck_suite.pytest_plugin`` turns it off), so
it loads in every pytest session where gradcheck-suite is installed; without ``--gradcheck``
it only adds its options (nothing heavy is imported, no item is added).

With ``--gradcheck`` there is one item per (op, dtype), e.g. ``gradcheck::relu[float64]``,
marked ``gradcheck`` (``-m gradcheck`` runs them alone). They need no test file: the plugin
adds them to the session's items in ``pytest_collection_modifyitems`` (before ``-k``/``-m``
deselection), under a ``gradcheck`` collector attached to the session. Each item runs one
seeded stream of ``runner.run_stream`` with the profile's budget and fails when a failing
record is not covered by ``--gradcheck-known``; stale known entries are reported as a
warning at the end of the session (per process: with pytest-xdist each worker judges
staleness from its own items; an interrupted item adds nothing, so only whole streams are
judged). A failing item's message ends with the command that reruns its stream (same seed
and budget), or, under a targeting profile (campaign), with replay ids only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest

from gradcheck_suite.pytest_fixture import gradcheck  # noqa: F401 - the fixture, offered to every session

DTYPES = ("float32", "float64", "complex64", "complex128")  # an op runs those it supports
DEFAULT_DTYPES = ("float32", "float64")  # a test suite's default budget; complex on request
MARKER = "gradcheck"


class GradcheckStaleWarning(UserWarning):
    """A known-discrepancies entry that no longer occurs although its check ran."""


class NewDiscrepancyError(Exception):
    """A failing record not covered by the known-discrepancies file (the item's failure)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcheck", "gradient conformance checks (gradcheck-suite)")
    group.addoption("--gradcheck", action="store_true", help="add one test item per catalogue op and dtype")
    group.addoption(
        "--gradcheck-ops", metavar="NAMES", default=None,
        help="comma list of op names or families (default: all)",
    )  # fmt: skip
    group.addoption(
        "--gradcheck-engine", metavar="NAME", default="reference",
        help="engine under test: a registered adapter or module:attribute (default: reference)",
    )  # fmt: skip
    group.addoption(
        "--gradcheck-profile", metavar="NAME", default=None,
        help="budget profile: ci, dev or campaign (default: $GRADCHECK_PROFILE, else ci)",
    )  # fmt: skip
    group.addoption(
        "--gradcheck-dtypes", metavar="DTYPES", default=",".join(DEFAULT_DTYPES),
        help="comma list of dtypes: float32, float64, complex64, complex128 (default: float32,float64)",
    )  # fmt: skip
    group.addoption(
        "--gradcheck-known", metavar="FILE", default=None,
        help="known-discrepancies TOML file: listed failures pass, stale entries warn",
    )  # fmt: skip
    group.addoption("--gradcheck-seed", metavar="N", type=int, default=0, help="seed of the case streams (default: 0)")
    group.addoption(
        "--gradcheck-no-torch-findings", action="store_true",
        help="fail on torch's own known findings too (gradcheck_suite/torch_findings.toml); by default they are known",
    )  # fmt: skip


@dataclass
class GradcheckSetup:
    """What --gradcheck asked for, validated, plus what the session's items found."""

    ops: list
    dtypes: list[str]
    engine_spec: str
    engine: Any
    profile_name: str
    profile: Any  # hypothesis settings
    seed: int
    known: Any  # known.Known (empty without --gradcheck-known)
    checker: Any = None  # built on first use: torch is imported then
    exercised: set = field(default_factory=set)
    matched: set = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=lambda: {"new": 0, "known": 0, "checks": 0})
    stale_errors: list[str] = field(default_factory=list)  # stale entries under -W error
    store_errors: list[str] = field(default_factory=list)

    @property
    def examples(self) -> int:
        return self.profile.max_examples

    @property
    def targets(self) -> bool:
        """Whether the profile reports hypothesis targets (campaign): then a stream's cases also
        depend on the engine's errors, and only replay ids reproduce them."""
        from hypothesis import Phase

        return Phase.target in self.profile.phases

    @property
    def run_id(self) -> str:
        return f"pytest-{self.profile_name}-s{self.seed}"

    def keep(self, case, failed: list) -> None:
        """Store a failing case in the project cache, for ``gradcheck-suite replay ID``."""
        from gradcheck_suite.cache import case_store

        store = case_store()
        try:
            store.add(case, engine=self.engine_spec, seed=self.seed, example=failed[0].example, run_id=self.run_id)
        except OSError as exc:  # a read-only or full disk must not turn into a harness error
            self.store_errors.append(f"could not store case for replay in {store.path}: {exc}")

    def case_checker(self):
        if self.checker is None:
            from gradcheck_suite.checking.case import CaseChecker
            from gradcheck_suite.oracles.torch_oracle import settle, torch_oracle

            oracle = torch_oracle()
            settle(oracle.module)  # as cli.py: one thread, TF32 off
            self.checker = CaseChecker(self.engine, oracle)
        return self.checker


SETUP_KEY = pytest.StashKey[GradcheckSetup]()


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _parsed(option: str, parse, *args):
    """``parse(*args)``, with a ValueError (unknown name, bad file) turned into a usage
    error that names the option."""
    try:
        return parse(*args)
    except ValueError as exc:
        raise pytest.UsageError(f"{option}: {exc}") from None


def _dtypes(value: str) -> list[str]:
    dtypes = _names(value) or []
    bad = [d for d in dtypes if d not in DTYPES]
    if bad or not dtypes:
        expected = ", ".join(DTYPES)
        raise ValueError(f"unknown dtype(s) {', '.join(bad) or repr(value)}; expected a comma list of {expected}")
    return dtypes


def _setup(config: pytest.Config) -> GradcheckSetup:
    """Validate every --gradcheck-* option up front; a bad one is a usage error (exit 4)."""
    from gradcheck_suite import catalogue, profiles
    from gradcheck_suite.engines import get_engine
    from gradcheck_suite.known import Known, load_known, torch_findings

    option = config.getoption("gradcheck_profile")
    source = "--gradcheck-profile" if option else f"${profiles.ENV_VAR}"
    profile_name = option or profiles.profile_name_from_env()
    seed = config.getoption("gradcheck_seed")
    if not 0 <= seed < 2**63:
        raise pytest.UsageError(f"--gradcheck-seed: expected a whole number between 0 and 2**63 - 1, got {seed}")
    known_path = config.getoption("gradcheck_known")
    spec = config.getoption("gradcheck_engine")
    return GradcheckSetup(
        ops=_parsed("--gradcheck-ops", catalogue.select, _names(config.getoption("gradcheck_ops"))),
        dtypes=_parsed("--gradcheck-dtypes", _dtypes, config.getoption("gradcheck_dtypes")),
        engine_spec=spec,
        engine=_parsed("--gradcheck-engine", get_engine, spec),
        profile_name=profile_name,
        profile=_parsed(source, profiles.get_profile, profile_name),
        seed=seed,
        known=_with_torch_findings(
            _parsed("--gradcheck-known", load_known, known_path) if known_path else Known([], source=""),
            None if config.getoption("gradcheck_no_torch_findings") else torch_findings(),
        ),
    )


def _with_torch_findings(own: Any, shipped: Any) -> Any:
    """The user's known file with torch's own findings added (named as the user's file in
    messages: the findings never go stale and are never reported for another engine)."""
    from gradcheck_suite.known import Known

    return own if shipped is None else Known((*own.entries, *shipped.entries), source=own.source)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a gradcheck-suite conformance item (pytest --gradcheck)")
    if config.getoption("gradcheck", default=False):
        config.stash[SETUP_KEY] = _setup(config)


class GradcheckCollector(pytest.Collector):
    """The parent of the gradcheck items (their node ids start with ``gradcheck::``)."""

    def collect(self) -> list[pytest.Item]:
        setup = self.config.stash[SETUP_KEY]
        return [
            GradcheckItem.from_parent(self, name=f"{op.name}[{dtype}]", op=op, dtype=dtype)
            for op in setup.ops
            for dtype in setup.dtypes
            if dtype in op.dtypes
        ]


@pytest.hookimpl(tryfirst=True)  # before -k/-m/--deselect filter the items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if SETUP_KEY not in config.stash:
        return
    collector = GradcheckCollector.from_parent(session, name="gradcheck", nodeid="gradcheck")
    # Through the collection hooks, so "collected N items", --collect-only and collection
    # errors treat these items like any others.
    report = session.ihook.pytest_make_collect_report(collector=collector)
    session.ihook.pytest_collectreport(report=report)
    items.extend(node for node in report.result if isinstance(node, pytest.Item))


class GradcheckItem(pytest.Item):
    """One (op, dtype) stream of the engine under test."""

    def __init__(self, *, op, dtype: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.op = op
        self.dtype = dtype
        self.add_marker(MARKER)

    def runtest(self) -> None:
        from gradcheck_suite import runner

        setup = self.config.stash[SETUP_KEY]
        from gradcheck_suite.catalogue.complex_view import as_checked
        from gradcheck_suite.engines.protocol import can_check, unsupported_reason

        checked = as_checked(self.op, self.dtype)
        if not can_check(setup.engine, checked):
            complex_only = setup.engine.supports(checked)  # the op, but not its complex cases
            why = f" in {self.dtype}: " + unsupported_reason(setup.engine, checked) if complex_only else ""
            pytest.skip(f"engine {setup.engine.name!r} does not support {self.op.name}{why}")
        records: list = []
        # Warnings are not findings of a case check; under the session's filters (-W error,
        # filterwarnings) torch's own deprecation warnings would turn into error-mismatch rows.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            checker = setup.case_checker()
            runner.run_stream(
                self.op, self.dtype, checker, seed=setup.seed, examples=setup.examples,
                run_id=setup.run_id, sink=records.extend, settings_=setup.profile, on_failure=setup.keep,
            )  # fmt: skip
        triage = setup.known.split(records)
        setup.exercised |= triage.exercised
        setup.matched |= triage.matched
        setup.counts["checks"] += len(records)
        setup.counts["new"] += len(triage.new)
        setup.counts["known"] += len(triage.known)
        if triage.known:
            entries = sorted({f.entry.number for f in triage.known})
            self.user_properties.append(("gradcheck_known", f"{len(triage.known)} failing checks, entries {entries}"))
        if triage.new:
            raise NewDiscrepancyError(self._message(setup, triage))

    def _message(self, setup: GradcheckSetup, triage) -> str:
        from gradcheck_suite.records import replay_command

        where = f"not in {setup.known.source}" if setup.known.source else "(no --gradcheck-known file)"
        lines = [
            f"{self.op.name} {self.dtype} on engine {setup.engine.name!r}: {len(triage.new)} failing checks {where}",
        ]
        shown: set[tuple[str, str]] = set()
        for finding in triage.new:  # the first record of each (check, verdict), in stream order
            row = finding.row
            if (row["check"], row["verdict"]) in shown:
                continue
            shown.add((row["check"], row["verdict"]))
            lines += _describe(row)
        if setup.targets:
            lines.append(
                f"reproduce each case with its replay id above: under the targeting profile {setup.profile_name!r} "
                "the stream's cases depend on the engine's errors, so no command reruns the stream"
            )
        else:  # same seed and budget, same cases: the command line regenerates this stream
            command = replay_command(triage.new[0].row, setup.examples)
            lines.append(f"rerun the stream: {command} --programs 0 --engine {setup.engine_spec}")
        return "\n".join(lines)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, NewDiscrepancyError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"gradcheck {self.name}"


def _describe(row: dict) -> list[str]:
    lines = [
        f"  {row['verdict']} on check {row['check']!r} (example {row['example']}, shapes {row['shapes']})",
        f"    rule: {row['rule']}",
    ]
    if row.get("detail"):
        lines.append(f"    detail: {row['detail']}")
    if row.get("replay_id"):
        lines.append(f"    replay: gradcheck-suite replay {row['replay_id']}")
    return lines


def pytest_sessionfinish(session: pytest.Session) -> None:
    setup = session.config.stash.get(SETUP_KEY, None)
    if setup is None:
        return
    for entry in setup.known.stale(setup.exercised, setup.matched):
        message = f"{entry.describe()} no longer occurs although its check ran; remove it?"
        warning = GradcheckStaleWarning(message)
        try:  # attributed to the entry's line in the known file, where the fix is
            warnings.warn_explicit(warning, GradcheckStaleWarning, setup.known.source, entry.line)
        except GradcheckStaleWarning:  # -W error made it an error: fail the session, without a traceback
            setup.stale_errors.append(f"{setup.known.source}:{entry.line}: {message}")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    setup = config.stash.get(SETUP_KEY, None)
    if setup is None or not setup.counts["checks"]:
        return
    c = setup.counts
    terminalreporter.write_sep("-", "gradcheck")
    terminalreporter.write_line(
        f"engine {setup.engine.name!r}, profile {setup.profile_name} ({setup.examples} cases per op and dtype), "
        f"seed {setup.seed}: {c['checks']} checks, {c['new']} new failing, {c['known']} known failing"
    )
    for line in setup.stale_errors:
        terminalreporter.write_line(f"ERROR stale known entry: {line}", red=True)
    for entry in setup.known.unseen_engine({setup.engine.name}):  # can match nothing here: misspelt?
        terminalreporter.write_line(
            f"note: {setup.known.source}: {entry.label()} is for engine {entry.engine!r}, "
            f"not the engine under test {setup.engine.name!r}",
            yellow=True,
        )
    for line in dict.fromkeys(setup.store_errors):
        terminalreporter.write_line(f"warning: {line}", yellow=True)
