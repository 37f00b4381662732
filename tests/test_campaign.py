"""gradcheck-suite fuzz end to end: workers, a planted bug found, Ctrl-C, --resume, reports,
replay; a hanging and a crashing case recorded while the campaign goes on."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from helpers import fuzz as _fuzz
from helpers import fuzz_env as _env

from gradcheck_suite.campaign.journal import Journal
from gradcheck_suite.campaign.plan import Config, chunk_tasks, parse_duration
from gradcheck_suite.records import Record

ROOT = Path(__file__).resolve().parents[1]


def _failing_lines(path: Path) -> int:
    if not path.exists():
        return 0
    return sum('"engine-bug"' in line for line in path.read_text().splitlines())


@pytest.mark.slow
def test_campaign_finds_a_planted_bug_survives_ctrl_c_resumes_and_replays(tmp_path):
    env = _env(tmp_path / "cache")
    folder = tmp_path / "out" / "camp"
    args = ["--ops", "mul,add", "--dtypes", "float32,float64", "--engine", "campaign_engines:SlowWrongMulGradient",
            "--workers", "2",
            "--examples", "60", "--chunk", "10", "--checks", "forward,vjp-torch,vjp-fd",
            "--out", str(tmp_path / "out"), "--name", "camp"]  # fmt: skip
    proc = _fuzz(*args, env=env)
    deadline = time.monotonic() + 120
    while _failing_lines(folder / "records.jsonl") == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the campaign ended before it could be interrupted:\n" + proc.communicate()[0]
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "--resume" in out and "INTERRUPTED" in out
    first = pd.read_csv(folder / "results.csv")  # reports exist after Ctrl-C
    assert (first["verdict"] == "engine-bug").any()
    done_before = len(Journal(folder).done_tasks())
    assert done_before < 24  # 2 ops x 2 dtypes x 6 chunks: it really was cut short

    resumed = _fuzz("--resume", str(folder), "--junit", str(tmp_path / "junit.xml"), env=env)
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 1, out
    assert "resuming campaign" in out
    assert len(Journal(folder).done_tasks()) == 24

    frame = pd.read_csv(folder / "results.csv", keep_default_na=False)
    checks = frame[frame["example"] != -1].groupby(["op", "dtype"])["count"].sum()  # folded rows count many
    assert checks.to_dict() == {(o, d): 60 * 3 for o in ("add", "mul") for d in ("float32", "float64")}
    assert not frame.duplicated(["op", "dtype", "example", "check"]).any()  # re-run tasks replaced their rows
    assert (frame[frame["example"] == -2]["verdict"] == "pass").all()
    bugs = frame[frame["verdict"] == "engine-bug"]
    assert set(bugs["op"]) == {"mul"} and set(bugs["check"]) <= {"vjp-torch", "vjp-fd"}
    assert (bugs["replay_id"].str.startswith("mul-")).all()
    assert set(frame["check"]) == {"forward", "vjp-torch", "vjp-fd"}

    html = (folder / "report.html").read_text()
    assert "engine-bug" in html and "mul" in html
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert len(suites.findall(".//failure")) >= 1

    rid = bugs["replay_id"].iloc[0]
    replay = subprocess.run(
        [sys.executable, "-m", "gradcheck_suite", "replay", rid, "--from", str(folder)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "engine-bug" in replay.stdout

    # the failures are in the project cache: the next campaign checks them again first
    again = _fuzz(*args[:-2], "--name", "again", "--examples", "1", env=env)
    out, _ = again.communicate(timeout=300)
    assert again.returncode == 1
    retried = pd.read_csv(tmp_path / "out" / "again" / "results.csv")
    assert (retried["example"] == -1).any() and (retried[retried["example"] == -1]["verdict"] == "engine-bug").any()


@pytest.mark.slow
def test_a_hanging_and_a_crashing_case_are_recorded_and_the_campaign_goes_on(tmp_path):
    env = _env(tmp_path / "cache")
    proc = _fuzz(
        "--ops", "exp,sin,add", "--dtypes", "float64", "--engine", "campaign_engines:HangsOnExpCrashesOnSin",
        "--workers", "2", "--examples", "3", "--chunk", "3", "--case-timeout", "3",
        "--out", str(tmp_path), "--name", "c", env=env,
    )  # fmt: skip
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, out
    frame = pd.read_csv(tmp_path / "c" / "results.csv", keep_default_na=False)
    by_op = frame.groupby("op")["verdict"].agg(set).to_dict()
    assert by_op["exp"] == {"timeout"} and by_op["sin"] == {"worker-crash"}
    assert by_op["add"] == {"pass"} and frame[frame["op"] == "add"]["example"].nunique() == 3
    incident = frame[frame["op"] == "exp"].iloc[0]
    assert incident["replay_id"].startswith("exp-float64-") and json.loads(incident["inputs"])["x0"] is not None
    stored = [json.loads(line) for line in (tmp_path / "c" / "cases.jsonl").read_text().splitlines()]
    assert {e["replay_id"] for e in stored} >= set(frame[frame["op"] != "add"]["replay_id"])
    assert (frame["op"] == "exp").sum() == 3 and (frame["op"] == "sin").sum() == 3  # the rest of each chunk ran

    def replay(rid: str) -> subprocess.CompletedProcess:
        command = [
            sys.executable,
            "-m",
            "gradcheck_suite",
            "replay",
            rid,
            "--from",
            str(tmp_path / "c"),
            "--timeout",
            "2",
        ]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    hung = replay(frame[frame["op"] == "exp"]["replay_id"].iloc[0])
    assert hung.returncode == 1 and "STILL HANGS" in hung.stdout and "import numpy as np" in hung.stdout
    crashed = replay(frame[frame["op"] == "sin"]["replay_id"].iloc[0])  # it kills the replay too, after the script
    assert (
        crashed.returncode == 77
        and "worker-crash: the script first" in crashed.stdout
        and "import numpy" in crashed.stdout
    )


def test_bad_campaign_requests_are_usage_errors(tmp_path, capsys):
    from gradcheck_suite.cli import main

    assert main(["fuzz", "--resume", str(tmp_path)]) == 2
    assert "not a campaign folder" in capsys.readouterr().err
    assert main(["fuzz", "--engine", "reference,torch", "--out", str(tmp_path)]) == 2
    assert "one engine at a time" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fuzz", "--time", "ten minutes"])
    assert "duration" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("1h30m", 5400), ("1.5h", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_tasks_go_round_by_round_and_skip_what_is_done():
    config = Config("c", ["a", "b"], ["float64"], None, "reference", 0, 25, None, 1, 10, 60.0)
    pairs = [("a", "float64"), ("b", "float64")]
    tasks = list(chunk_tasks(config, pairs, done={"b:float64:1"}))
    assert [(t.op, t.round, t.size, t.base) for t in tasks] == [
        ("a", 0, 10, 0), ("b", 0, 10, 0), ("a", 1, 10, 10), ("a", 2, 5, 20), ("b", 2, 5, 20),
    ]  # fmt: skip
    assert tasks[0].stream_seed(0) != tasks[2].stream_seed(0) != tasks[0].stream_seed(1)


def test_journal_keeps_the_latest_run_of_a_task_and_skips_torn_lines(tmp_path):
    journal = Journal(tmp_path)
    journal.start(Config("c", ["add"], ["float64"], None, "reference", 0, 5, None, 1, 5, 60.0))
    row = Record("r", "reference", "add", "forward", "float64", "[]", "{}", 0, 0).row()
    journal.open()
    journal.add_records("add:float64:0", [row, {**row, "example": 1}])
    journal.add_records("add:float64:0", [{**row, "verdict": "engine-bug"}])  # the task ran again
    journal.close()
    with journal.records_path.open("a") as f:
        f.write('{"task": "add:float64:0", "row": {"run')  # a kill mid-line
    records = journal.records()
    assert sorted((r.example, r.verdict) for r in records) == [(0, "engine-bug"), (1, "pass")]
    assert journal.load_config()[0].examples == 5


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("tty", [True, False])
def test_progress_redraws_one_line_on_a_terminal_and_prints_lines_otherwise(tty):
    from gradcheck_suite.campaign.progress import Progress

    stream = _Stream(tty)
    progress = Progress(planned=10, seconds_left=600, stream=stream)
    progress.workers = 2
    for verdicts in ([], ["engine-bug"], [], ["engine-bug", "timeout"]):
        progress.case(verdicts)
    progress.tick(force=True)
    progress.close()
    line = progress.line()
    assert line.startswith("fuzz 4/10 cases") and "2 workers" in line
    assert "failing: engine-bug 2, timeout 1" in line and line.endswith("left")
    if tty:
        assert stream.text.startswith("\r\x1b[K") and stream.text.endswith("\n") and stream.text.count("\n") == 1
    else:
        assert "\r" not in stream.text and stream.text.count("\n") == 2


def test_quiet_progress_prints_nothing():
    from gradcheck_suite.campaign.progress import Progress

    stream = _Stream(False)
    progress = Progress(planned=None, seconds_left=None, stream=stream, quiet=True)
    progress.case(["engine-bug"])
    progress.tick(force=True)
    progress.close()
    assert stream.text == ""


def test_report_rebuilds_a_killed_campaigns_results_from_its_journal(tmp_path, capsys):
    from gradcheck_suite.cli import main

    journal = Journal(tmp_path)
    journal.start(Config("c", ["add"], ["float64"], None, "reference", 0, 5, None, 1, 5, 60.0))
    row = Record("r", "reference", "add", "vjp-fd", "float64", "[]", "{}", 0, 0, verdict="engine-bug").row()
    journal.open()
    journal.add_records("add:float64:0", [row, {**row, "example": 1, "verdict": "pass"}])
    journal.close()  # and no results.csv: the parent process was killed
    assert main(["report", str(tmp_path)]) == 0
    assert "rebuilt from" in capsys.readouterr().err
    frame = pd.read_csv(tmp_path / "results.csv")
    assert sorted(frame["verdict"]) == ["engine-bug", "pass"]
    assert "engine-bug" in (tmp_path / "report.html").read_text()


def _row(example: int, check: str = "vjp-fd", verdict: str = "pass", score: float = 0.1, err: float = 1e-17) -> dict:
    return Record("r", "reference", "add", check, "float64", "[[2]]", "{}", 0, example, max_abs_err=err,
                  max_rel_err=err, tolerance=1e-15, score=score, verdict=verdict, duration_ms=2.0).row()  # fmt: skip


def test_passing_rows_beyond_a_sample_fold_into_one_row_per_check_and_failures_stay_whole():
    from gradcheck_suite.campaign.folding import FOLDED, PassFolder

    folder = PassFolder(sample=2)
    rows = [_row(0), _row(1), _row(2, score=0.5, err=3e-16), _row(3), _row(4, verdict="engine-bug", score=9.0)]
    kept = folder.split("add:float64:0", rows)
    assert [r["example"] for r in kept] == [0, 1, 4]  # the sample, then every non-passing row
    (folded,) = folder.close("add:float64:0")
    assert folded["example"] == FOLDED and folded["count"] == 2 and folded["score"] == 0.5
    assert folded["max_abs_err"] == 3e-16 and folded["detail"] == "2 passing checks of examples 2..3"
    assert folder.close("add:float64:0") == [] and PassFolder(sample=None).split("t", rows) == rows


def test_a_journal_merges_the_folds_of_all_tasks_and_a_rerun_task_replaces_its_own(tmp_path):
    from gradcheck_suite.campaign.folding import PassFolder

    journal = Journal(tmp_path)
    journal.start(Config("c", ["add"], ["float64"], None, "reference", 0, 10, None, 1, 5, 60.0))
    journal.open()
    for task, base in (("add:float64:0", 0), ("add:float64:1", 5), ("add:float64:1", 5)):  # task 1 ran twice
        folder = PassFolder(sample=0)
        journal.add_records(task, folder.split(task, [_row(base + k, score=0.1 * (base + k)) for k in range(5)]))
        journal.add_records(task, folder.close(task))
    journal.close()
    (merged,) = journal.records()
    assert merged.count == 10 and merged.example == -2 and merged.score == pytest.approx(0.9)
    assert merged.detail == "10 passing checks of examples 0..9" and merged.duration_ms == pytest.approx(2.0)


@pytest.mark.slow
def test_campaign_folders_budgets_and_a_damaged_cache(tmp_path):
    env = _env(tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    foreign = '{"replay_id": "x", "case": [1], "engine": "reference"}'
    (tmp_path / "cache" / "cases.jsonl").write_text(foreign + "\nnot json\n")

    def fuzz(*args: str) -> tuple[int, str]:
        proc = _fuzz(*args, "--out", str(tmp_path), env=env)
        return proc.wait(timeout=300), proc.stdout.read()

    base = ("--ops", "add,relu", "--engine", "test_engines:OnlyAdd", "--dtypes", "float64", "--workers", "1")
    code, out = fuzz(*base, "--examples", "2", "--chunk", "2", "--name", "a")
    assert code == 0, out
    assert "skipped 1 unreadable entries" in out  # the foreign line; the torn one is not an entry
    frame = pd.read_csv(tmp_path / "a" / "results.csv")
    assert frame[frame["op"] == "relu"]["verdict"].tolist() == ["unsupported"]  # as `run` reports it
    assert frame[frame["op"] == "add"]["count"].sum() == 2 * 5  # forward, 2 vjp, jvp and hvp unsupported

    code, out = fuzz(*base, "--examples", "2", "--name", "a")
    assert code == 2 and "already holds a campaign" in out and "--resume" in out
    code, out = fuzz("--resume", str(tmp_path / "a" / "campaign.json"))
    assert code == 0 and "already complete" in out
    code, out = fuzz("--resume", str(tmp_path / "a"), "--ops", "mul", "--examples", "3")
    assert code == 2 and "drop --ops, --examples" in out

    # the time budget starts when a worker is ready, not before its imports
    code, out = fuzz("--ops", "add", "--dtypes", "float64", "--workers", "1", "--time", "1s", "--name", "t")
    assert code == 0 and pd.read_csv(tmp_path / "t" / "results.csv")["count"].sum() > 0, out


def test_a_task_sent_to_a_worker_that_just_died_is_given_to_the_next(tmp_path):
    from gradcheck_suite.campaign.folding import PassFolder
    from gradcheck_suite.campaign.plan import Task
    from gradcheck_suite.campaign.progress import Progress
    from gradcheck_suite.campaign.recorder import Recorder
    from gradcheck_suite.campaign.scheduler import Scheduler, _Worker

    class Conn:
        def __init__(self, dead: bool) -> None:
            self.dead, self.sent = dead, []

        def send(self, message) -> None:
            if self.dead:
                raise BrokenPipeError(32, "Broken pipe")
            self.sent.append(message)

    config = Config("c", ["add"], ["float64"], None, "reference", 0, 10, None, 2, 5, 60.0)
    progress = Progress(planned=None, seconds_left=None, quiet=True)
    recorder = Recorder(config, Journal(tmp_path), progress, run_id="c", engine_name="reference",
                        keep_case=lambda *a, **k: None, folder=PassFolder())  # fmt: skip
    scheduler = Scheduler(config, recorder, run_id="c")
    dead, alive = _Worker(None, Conn(dead=True), ready=True), _Worker(None, Conn(dead=False), ready=True)
    scheduler.workers = {0: dead, 1: alive}
    tasks = iter([(Task("add", "float64", 0, 5), None), (Task("add", "float64", 1, 5), None)])
    assert scheduler._assign(tasks) is False
    assert dead.task is None and [m[0].round for m in alive.conn.sent] == [0]  # round 0 went to the live one
    assert not scheduler._requeued and next(tasks)[0].round == 1  # and nothing was lost or skipped


def test_the_rest_of_a_chunk_cut_short_is_journalled_for_resume(tmp_path):
    from gradcheck_suite.campaign.plan import Task

    journal = Journal(tmp_path)
    journal.start(Config("c", ["exp"], ["float64"], None, "reference", 0, 10, None, 1, 10, 60.0))
    chunk = Task("exp", "float64", 0, 10)
    rest = chunk.rest(4)  # the 4th case hung: 6 left, from another stream of the same op and dtype
    assert (rest.size, rest.base, rest.part, rest.key) == (6, 4, 1, "exp:float64:0.1")
    assert rest.stream_seed(0) != chunk.stream_seed(0) and chunk.rest(10) is None
    journal.open()
    journal.task_done(chunk.key, 3, "timeout: ...", {"timeout": 1, "engine-bug": 2})
    journal.task_pending(rest)
    journal.close()
    assert journal.pending_tasks() == [rest] and journal.done_tasks() == {chunk.key} and journal.cases_done() == 3
    assert journal.failing_done() == {"timeout": 1, "engine-bug": 2}  # a resumed status line starts from these
    journal.open()
    journal.task_done(rest.key, 6)
    journal.close()
    assert journal.pending_tasks() == []
