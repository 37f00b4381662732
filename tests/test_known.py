"""The known-discrepancies file: validation with messages that say where, and the split of a
run's failing records into new and known, with stale entries."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from gradcheck_suite.known import Known, KnownEntry, KnownFileError, load_known
from gradcheck_suite.records import Record

RELU_BUG = """
[[known]]
op = "relu"
check = "vjp-torch"
dtype = "*"
verdict = "engine-bug"
reason = "doubled gradient, tracked in #1"
"""


def write(tmp_path, text: str):
    path = tmp_path / "known.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def record(op="relu", check="vjp-torch", dtype="float64", verdict="engine-bug", engine="reference", example=0):
    return Record(
        run_id="r", engine=engine, op=op, check=check, dtype=dtype, shapes="[[3]]", kwargs="{}", seed=0,
        example=example, verdict=verdict, replay_id=f"{op}-{dtype}-{example}" if verdict != "pass" else "",
    )  # fmt: skip


def entry(number=1, op="relu", check="vjp-torch", dtype="*", verdict="engine-bug", engine=None):
    return KnownEntry(number, op, check, dtype, verdict, reason="because", engine=engine)


def test_load_reads_entries_with_their_lines(tmp_path):
    path = write(tmp_path, RELU_BUG + '\n[[known]]\nop = "program"\ncheck = "semantics"\ndtype = "mixed"\n'
                 'verdict = "semantics-mismatch"\nreason = "hooks"\nengine = "mine"\n')  # fmt: skip
    known = load_known(path)
    assert len(known) == 2
    first, second = known.entries
    assert (first.op, first.check, first.dtype, first.verdict, first.engine) == (
        "relu", "vjp-torch", "*", "engine-bug", None,
    )  # fmt: skip
    assert first.reason == "doubled gradient, tracked in #1"
    assert (second.op, second.engine, second.number) == ("program", "mine", 2)
    lines = path.read_text().splitlines()
    assert lines[first.line - 1] == lines[second.line - 1] == "[[known]]"
    assert first.line < second.line


def test_an_empty_file_has_no_entries(tmp_path):
    assert len(load_known(write(tmp_path, "# nothing known yet\n"))) == 0


BAD_ENTRIES = {
    "unknown op": ('op = "relux"', "unknown op 'relux' (did you mean 'relu'?)"),
    "unknown check": ('check = "vjp"', "unknown check 'vjp'"),
    "unknown verdict": ('verdict = "wrong"', "unknown verdict 'wrong'"),
    "passing verdict": ('verdict = "convention"', "verdict 'convention' does not fail a run"),
    "empty reason": ('reason = "  "', "'reason' must be a non-empty string"),
    "bad dtype": ('dtype = "float16"', "relu is not checked in dtype 'float16'"),
    "semantics check on an op": ('check = "semantics"', "the 'semantics' check belongs to op 'program'"),
    "number for a string": ("dtype = 64", "'dtype' must be a non-empty string, got 64"),
}


@pytest.mark.parametrize("case", BAD_ENTRIES, ids=list(BAD_ENTRIES))
def test_an_invalid_entry_names_file_entry_and_problem(tmp_path, case):
    replacement, expected = BAD_ENTRIES[case]
    key = replacement.split(" = ")[0]
    second = "\n".join(replacement if line.startswith(f"{key} =") else line for line in RELU_BUG.splitlines())
    path = write(tmp_path, RELU_BUG + second)
    with pytest.raises(KnownFileError) as info:
        load_known(path)
    message = str(info.value)
    assert message.startswith(f"{path}: entry 2: "), message
    assert expected in message


def test_missing_reason_and_unknown_keys_are_errors(tmp_path):
    no_reason = RELU_BUG.replace('reason = "doubled gradient, tracked in #1"\n', "")
    with pytest.raises(KnownFileError, match=r"entry 1: missing 'reason'"):
        load_known(write(tmp_path, no_reason))
    with pytest.raises(KnownFileError, match=r"entry 1: unknown key\(s\) 'resaon'"):
        load_known(write(tmp_path, RELU_BUG + 'resaon = "typo"\n'))


def test_file_level_errors_are_clear(tmp_path):
    with pytest.raises(KnownFileError, match=r"cannot read known-discrepancies file .*missing\.toml"):
        load_known(tmp_path / "missing.toml")
    with pytest.raises(KnownFileError, match="is not valid TOML"):
        load_known(write(tmp_path, "[[known]\nop = 1"))
    with pytest.raises(KnownFileError, match="unexpected top-level key"):
        load_known(write(tmp_path, 'op = "relu"\n'))
    with pytest.raises(KnownFileError, match="entry 2 repeats entry 1"):
        load_known(write(tmp_path, RELU_BUG + RELU_BUG))
    assert issubclass(KnownFileError, ValueError)


def test_split_separates_new_known_and_passing_records():
    known = Known([entry(dtype="float64"), entry(2, check="vjp-fd", dtype="*")])
    records = [
        record(),  # covered by entry 1
        record(check="vjp-fd", dtype="float32"),  # covered by entry 2 ("*")
        record(dtype="float32"),  # entry 1 is for float64 only: new
        record(check="forward", verdict="forward-mismatch"),  # new
        record(check="jvp-torch", verdict="pass"),  # passing: neither
    ]
    triage = known.split(records)
    assert [f.index for f in triage.new] == [2, 3]
    assert [(f.index, f.entry.number) for f in triage.known] == [(0, 1), (1, 2)]
    assert triage.covered == {0, 1} == known.covered(records)
    assert triage.failed and triage.stale == []
    assert triage.new[0].row["replay_id"] == "relu-float32-0"


def test_a_failure_with_another_verdict_is_new_and_the_entry_stale():
    triage = Known([entry()]).split([record(verdict="non-finite")])
    assert [f.row["verdict"] for f in triage.new] == ["non-finite"]
    assert [e.number for e in triage.stale] == [1]


def test_stale_only_for_checks_the_run_exercised():
    known = Known([entry(1, op="relu"), entry(2, op="exp"), entry(3, op="relu", check="hvp-fd")])
    triage = known.split([record(verdict="pass"), record(check="vjp-fd", verdict="pass")])
    # relu vjp-torch ran and passed: stale. exp did not run, relu's hvp-fd did not either: not stale.
    assert [e.number for e in triage.stale] == [1]
    assert not triage.failed


def test_engine_restricts_an_entry():
    known = Known([entry(engine="mine")])
    assert known.split([record(engine="mine")]).known
    other = known.split([record(engine="reference")])
    assert len(other.new) == 1 and other.stale == []  # another engine does not exercise the entry


def test_stale_across_parts_of_a_run():
    """The pytest plugin splits per stream and judges staleness at the end."""
    known = Known([entry(dtype="*")])
    parts = [known.split([record(dtype="float32", verdict="pass")]), known.split([record(dtype="float64")])]
    assert parts[0].stale  # judged alone, float32 looks stale...
    exercised = set().union(*(p.exercised for p in parts))
    matched = set().union(*(p.matched for p in parts))
    assert known.stale(exercised, matched) == []  # ...but float64 matched it in the same run


def test_split_accepts_a_results_frame_and_keeps_its_labels(tmp_path):
    known = Known([entry()])
    records = [record(verdict="pass"), record(example=1), record(op="exp", example=2)]
    csv = tmp_path / "results.csv"
    pd.DataFrame([r.row() for r in records]).to_csv(csv, index=False)
    frame = pd.read_csv(csv, keep_default_na=False)
    frame.index = ["a", "b", "c"]
    triage = known.split(frame)
    assert triage.covered == {"b"}
    assert [f.index for f in triage.new] == ["c"]
    assert known.split(frame.iloc[:1]).stale == list(known.entries)  # relu vjp-torch ran, only passed
    with pytest.raises(ValueError, match="lacks the column"):
        known.split(frame.drop(columns=["verdict"]))
    nan_frame = pd.read_csv(csv)  # empty cells read as NaN
    nan_frame.loc[2, "replay_id"] = float("nan")
    assert "nan" not in "".join(known.split(nan_frame).summary_lines())


def test_summary_lines_name_new_known_and_stale():
    known = Known([entry(), entry(2, op="relu", check="jvp-torch")], source="ci/known.toml")
    records = [record(), record(example=1), record(op="exp", check="forward", verdict="forward-mismatch"),
               record(check="jvp-torch", verdict="pass")]  # fmt: skip
    lines = known.split(records).summary_lines()
    assert lines[0] == "NEW: 1 failing checks not in ci/known.toml:"
    assert lines[1] == "  exp float64 forward: forward-mismatch x1 (e.g. replay exp-float64-0)"
    assert lines[2] == "known: 2 failing checks covered by 1 entries of ci/known.toml"
    assert lines[3].startswith("stale: entry 2 (relu jvp-torch * engine-bug: because) matched nothing")
    assert len(lines) == 4


def test_overlapping_entries_are_all_matched_not_stale():
    """A narrower entry shadowed by a broader one still matches its discrepancy."""
    known = Known([
        entry(1, dtype="*"), entry(2, dtype="float32"),
        entry(3, check="vjp-fd"), entry(4, check="vjp-fd", engine="tiny"),
    ])  # fmt: skip
    triage = known.split([record(dtype="float32"), record(check="vjp-fd", engine="tiny")])
    assert triage.stale == [] and not triage.failed
    assert [f.entry.number for f in triage.known] == [1, 3]  # a finding names the first covering entry
    assert {e.number for e in triage.matched} == {1, 2, 3, 4}
    assert triage.summary_lines() == ["known: 2 failing checks covered by 2 entries of the known-discrepancies file"]


def test_an_entry_for_an_engine_the_run_did_not_check_is_a_note_not_stale():
    known = Known([entry(1, engine="tiny"), entry(2, engine="reference"), entry(3, op="exp", engine="mine")])
    triage = known.split([record(engine="reference"), record(engine="other", verdict="pass")])
    assert [e.number for e in triage.unseen_engine] == [1, 3]
    assert triage.stale == [] and triage.engines == {"reference", "other"}
    notes = [line for line in triage.summary_lines() if line.startswith("note:")]
    assert notes == [
        "note: entry 1: relu vjp-torch * engine-bug engine tiny is for engine 'tiny', "
        "which this run did not check (other, reference)",
        "note: entry 3: exp vjp-torch * engine-bug engine mine is for engine 'mine', "
        "which this run did not check (other, reference)",
    ]
    assert not any(line.startswith("stale:") for line in triage.summary_lines())


def test_staleness_is_not_judged_on_an_interrupted_run():
    known = Known([entry(1, dtype="float64"), entry(2, engine="tiny")], source="known.toml")
    partial = [record(verdict="pass")]  # relu vjp-torch float64 ran and passed, so far
    assert [e.number for e in known.split(partial).stale] == [1]  # the old call still judges
    triage = known.split(partial, interrupted=True)
    assert triage.stale == [] and triage.stale_descriptions() == [] and triage.unseen_engine == []
    assert triage.summary_lines() == [
        "note: interrupted: stale entries of known.toml not judged (the last streams are partial)"
    ]
    assert Known([]).split(partial, interrupted=True).summary_lines() == []  # nothing to judge, nothing said


def test_stale_descriptions_name_entry_line_and_discrepancy(tmp_path):
    path = write(tmp_path, RELU_BUG + RELU_BUG.replace('"*"', '"float32"') + RELU_BUG.replace(
        'dtype = "*"', 'dtype = "float64"\nengine = "reference"').replace('"vjp-torch"', '"jvp-torch"'))  # fmt: skip
    known = load_known(path)
    lines = path.read_text().splitlines()
    second, third = (e.line for e in known.entries[1:])
    assert lines[second - 1] == lines[third - 1] == "[[known]]"
    records = [record(), record(dtype="float32", verdict="pass"), record(check="jvp-torch", verdict="pass")]
    triage = known.split(records)  # entry 1 ("*") matched the float64 failure
    assert triage.stale_descriptions() == [
        f"entry 2 (line {second}): relu vjp-torch float32 engine-bug — matched nothing",
        f"entry 3 (line {third}): relu jvp-torch float64 engine-bug engine reference — matched nothing",
    ]
    assert Known([entry()]).split([record(verdict="pass")]).stale_descriptions() == [
        "entry 1: relu vjp-torch * engine-bug — matched nothing"  # an entry not read from a file has no line
    ]


def test_an_intermittent_entry_is_never_stale(tmp_path):
    known = load_known(write(tmp_path, RELU_BUG + "intermittent = true\n"))
    assert known.entries[0].intermittent
    triage = known.split([record(verdict="pass")])  # exercised, matched nothing
    assert triage.stale == []
    with pytest.raises(KnownFileError, match="'intermittent' must be true or false"):
        load_known(write(tmp_path, RELU_BUG + 'intermittent = "yes"\n'))


def test_torch_s_own_findings_ship_with_the_package_and_join_a_user_file(tmp_path):
    from gradcheck_suite.known import TORCH_SOURCE, torch_findings

    shipped = torch_findings()
    assert len(shipped) >= 4 and all(e.intermittent and e.origin == "torch finding" for e in shipped.entries)
    assert {e.op for e in shipped.entries} >= {"pow_tensor", "clamp", "atan2"}
    assert all(e.reason for e in shipped.entries)
    both = load_known(write(tmp_path, RELU_BUG)) + shipped
    assert len(both) == len(shipped) + 1 and TORCH_SOURCE in both.source
    pow_row = record(op="pow_tensor", check="hvp-fd", verdict="shared-bug")
    triage = both.split([pow_row, record()])
    assert len(triage.known) == 2 and triage.new == []
    assert triage.known[0].entry.label().startswith("torch finding")
    torch_row = record(op="pow_tensor", check="hvp-fd", verdict="engine-bug", engine="torch")
    assert shipped.split([torch_row]).known  # torch checked as the engine has the same finding
    assert shipped.split([record(op="pow_tensor", check="hvp-fd", verdict="engine-bug")]).new  # not another engine
    assert shipped.unseen_engine({"reference"}) == []  # the torch-only entries are no note for other engines
