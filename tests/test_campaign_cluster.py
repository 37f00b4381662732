"""gradcheck-suite fuzz --scheduler: a campaign's tasks on a Dask cluster (a LocalCluster of two
worker processes started here, reached by its tcp:// address, as an existing cluster is): the
same records as the built-in pool, a Dask worker killed mid-run loses no case, Ctrl-C and
--resume, hangs and crashes recorded; without Dask, a clear error."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from helpers import fuzz as _fuzz
from helpers import fuzz_env as _env

from gradcheck_suite.campaign.journal import Journal

HAS_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAS_DASK, reason="needs Dask: pip install 'gradcheck-suite[cluster]'")
ROW = ["op", "dtype", "example", "check", "verdict", "replay_id", "max_abs_err", "count"]
PLANTED = ["--engine", "campaign_engines:WrongMulGradient", "--checks", "forward,vjp-torch,vjp-fd"]


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    # processes=True, one thread each: the campaign's own workers are processes too
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c,
        Client(c) as client,
    ):
        yield c.scheduler_address, client


def _rows(folder: Path) -> set[tuple]:
    frame = pd.read_csv(folder / "results.csv", keep_default_na=False)
    return set(map(tuple, frame[ROW].astype(str).to_numpy()))


@needs_dask
@pytest.mark.slow
def test_a_cluster_campaign_writes_the_same_records_as_the_pool(tmp_path, cluster):
    address, _ = cluster
    env = _env(tmp_path / "cache")
    args = ["--ops", "mul,add", "--dtypes", "float32,float64", *PLANTED,
            "--examples", "20", "--chunk", "10", "--keep-passing", "--no-retry",
            "--out", str(tmp_path)]  # fmt: skip
    pool = _fuzz(*args, "--workers", "2", "--name", "pool", env=env)
    pool_out, _ = pool.communicate(timeout=180)
    dask = _fuzz(*args, "--scheduler", address, "--name", "dask", env=env)
    out, _ = dask.communicate(timeout=180)
    assert pool.returncode == dask.returncode == 1, pool_out + out  # the planted bug found
    assert f"the Dask scheduler at {address}" in out and "2 worker threads" in out
    rows = _rows(tmp_path / "dask")
    assert rows == _rows(tmp_path / "pool")
    assert {r[0] for r in rows if r[4] == "engine-bug"} == {"mul"} and len(rows) == 2 * 2 * 20 * 3
    meta = json.loads((tmp_path / "dask" / "meta.json").read_text())
    assert meta["scheduler"] == address and meta["workers"] == 2 and meta["process_gc_frozen"] is True
    assert json.loads((tmp_path / "pool" / "meta.json").read_text())["scheduler"] == "pool"


def _done(folder: Path) -> int:
    return len(Journal(folder).done_tasks()) if (folder / "tasks.jsonl").exists() else 0


def _wait(predicate, proc: subprocess.Popen, seconds: float = 120):
    deadline = time.monotonic() + seconds
    while not (found := predicate()) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the campaign ended too soon:\n" + proc.communicate()[0]
    return found


def _running(folder: Path, client) -> tuple[str, str] | None:
    """A Dask worker running a task whose first rows are in the journal, and that task's key."""
    journal = Journal(folder)
    started = {json.loads(line)["task"] for line in journal.records_path.read_text().splitlines()[:-1]}
    running = started - journal.done_tasks()
    for address, keys in client.processing().items():
        for key in keys:
            task = str(key).rsplit("-", 1)[0].removeprefix("gradcheck-")
            if task in running:
                return address, task
    return None


@needs_dask
@pytest.mark.slow
def test_a_killed_dask_worker_loses_no_case_and_an_interrupted_campaign_resumes(tmp_path, cluster):
    address, client = cluster
    env = _env(tmp_path / "cache")
    folder = tmp_path / "camp"
    args = ["--ops", "mul,add", "--dtypes", "float32,float64", "--engine", "campaign_engines:SlowWrongMulGradient",
            "--checks", "forward,vjp-fd",
            "--examples", "45", "--chunk", "15", "--keep-passing", "--scheduler", address,
            "--out", str(tmp_path), "--name", "camp"]  # fmt: skip
    total = 2 * 2 * 3  # op x dtype x chunks
    proc = _fuzz(*args, env=env)
    victim, task = _wait(lambda: (folder / "records.jsonl").exists() and _running(folder, client), proc)
    pid = client.run(os.getpid)[victim]
    os.kill(pid, signal.SIGKILL)  # mid-task: Dask runs its task again elsewhere; the nanny starts a new worker
    # the task run again to its end (its first cases delivered a second time), and half of all
    _wait(lambda: task in Journal(folder).done_tasks() and _done(folder) >= total // 2, proc)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "--resume" in out, out
    assert "tasks run again after a lost worker delivered" in out  # and the client wrote those cases once
    assert _done(folder) < total

    resumed = _fuzz("--resume", str(folder), "--scheduler", address, env=env)
    out, _ = resumed.communicate(timeout=180)
    assert resumed.returncode == 1 and "resuming campaign" in out, out
    assert _done(folder) == total
    frame = pd.read_csv(folder / "results.csv", keep_default_na=False)
    examples = frame.groupby(["op", "dtype", "check"])["example"].agg(sorted)
    assert len(examples) == 2 * 2 * 2 and all(e == list(range(45)) for e in examples)  # every case, once
    assert set(frame["verdict"]) == {"pass", "engine-bug"}  # a lost worker is not a finding
    assert set(frame[frame["verdict"] == "engine-bug"]["op"]) == {"mul"}


@needs_dask
@pytest.mark.slow
def test_a_hanging_and_a_crashing_case_on_a_cluster_are_recorded_and_the_workers_stay(tmp_path, cluster):
    address, client = cluster
    env = _env(tmp_path / "cache")
    client.wait_for_workers(2, timeout=60)  # a worker killed by an earlier test is back
    before = client.run(os.getpid)
    proc = _fuzz(
        "--ops", "exp,sin,add", "--dtypes", "float64", "--engine", "campaign_engines:HangsOnExpCrashesOnSin",
        "--examples", "2", "--chunk", "2", "--case-timeout", "2", "--scheduler", address,
        "--out", str(tmp_path), "--name", "c", env=env,
    )  # fmt: skip
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 1, out
    frame = pd.read_csv(tmp_path / "c" / "results.csv", keep_default_na=False)
    assert frame.groupby("op")["verdict"].agg(set).to_dict() == {
        "exp": {"timeout"}, "sin": {"worker-crash"}, "add": {"pass"}
    }  # fmt: skip
    assert (frame["op"] == "exp").sum() == 2 and (frame["op"] == "sin").sum() == 2  # the rest of each chunk ran
    assert "worker exited with code 77" in frame[frame["op"] == "sin"]["detail"].iloc[0]
    stored = {json.loads(line)["replay_id"] for line in (tmp_path / "c" / "cases.jsonl").read_text().splitlines()}
    assert stored >= set(frame[frame["op"] != "add"]["replay_id"])
    assert client.run(os.getpid) == before  # the Dask workers themselves were neither hung nor killed


UPLOADED = """
from campaign_engines import WrongMulGradient


class Uploaded(WrongMulGradient):
    \"\"\"An engine whose module only the client has: the workers get it through --upload. Its
    mul gradient is doubled in every case, so ten cases find it.\"\"\"

    def forward(self, op, arrays, kwargs):
        out = super().forward(op, arrays, kwargs)
        self.planted = op.name == "mul"
        return out
"""


@needs_dask
@pytest.mark.slow
def test_an_engine_module_the_workers_lack_reaches_them_with_upload(tmp_path, cluster):
    address, client = cluster
    mine = tmp_path / "client_only"
    mine.mkdir()
    (mine / "uploaded_engine.py").write_text(UPLOADED)
    env = _env(tmp_path / "cache")
    env["PYTHONPATH"] = os.pathsep.join([str(mine), env["PYTHONPATH"]])  # the client's path, not the workers'
    assert not any(client.run(lambda: importlib.util.find_spec("uploaded_engine") is not None).values())
    args = ["--ops", "mul", "--dtypes", "float64", "--engine", "uploaded_engine:Uploaded", "--checks", "vjp-fd",
            "--examples", "10", "--no-retry", "--scheduler", address, "--out", str(tmp_path)]  # fmt: skip
    without = _fuzz(*args, "--name", "without", env=env)
    out, _ = without.communicate(timeout=180)
    assert without.returncode != 0 and "uploaded_engine" in out, out  # a worker cannot load it: said, with its name
    sent = _fuzz(*args, "--upload", str(mine / "uploaded_engine.py"), "--name", "sent", env=env)
    out, _ = sent.communicate(timeout=180)
    assert sent.returncode == 1, out  # the planted bug found on the workers
    frame = pd.read_csv(tmp_path / "sent" / "results.csv", keep_default_na=False)
    assert "engine-bug" in set(frame["verdict"]) and set(frame["engine"]) == {"wrong-mul"}


class _Sink:
    """A Recorder's methods, noted."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.details: list[str] = []
        self.progress = SimpleNamespace(workers=0)

    def records(self, key, rows, failed_case) -> None:
        self.calls.append(("records", key, rows[0]["example"]))

    def done(self, task, cases, note) -> None:
        self.calls.append(("done", task.key, cases))

    def incident(self, task, case, checked, verdict, detail, rest) -> None:
        self.calls.append(("incident", task.key, checked, verdict, rest and rest.key))
        self.details.append(detail)


class _Future:
    def __init__(self, exc: BaseException | None = None) -> None:
        self.exc, self.status = exc, "error" if exc else "finished"

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def exception(self):
        return self.exc


def _cluster_scheduler():
    from gradcheck_suite.campaign.cluster import ClusterScheduler
    from gradcheck_suite.campaign.plan import Config

    config = Config("c", ["add"], ["float64"], None, "reference", 0, 8, None, 2, 4, 60.0)
    sink = _Sink()
    scheduler = ClusterScheduler(config, sink, run_id="c", address="local")
    scheduler.client = SimpleNamespace(submitted=[])  # what _submit would hand to Dask
    scheduler.client.submit = lambda fn, *args, **kw: scheduler.client.submitted.append(args[4]) or _Future()
    scheduler.queue = SimpleNamespace(get=lambda batch: [])
    scheduler.deadline = float("inf")
    return scheduler, sink


@needs_dask
def test_a_task_run_again_after_a_lost_worker_writes_each_case_once():
    from gradcheck_suite.campaign.plan import Task

    scheduler, sink = _cluster_scheduler()
    task = Task("add", "float64", 0, 4)
    rest = task.rest(3)  # the third case hung: its rest runs in the same Dask task
    scheduler.submitted["t"] = (_Future(), [task])

    def records(key: str, example: int) -> tuple:
        return ("records", key, [{"example": example}], None)

    first = [records(task.key, 0), records(task.key, 1)]  # then its worker was lost, and Dask ran it again:
    again = [records(task.key, e) for e in (0, 1, 2)] + [
        ("incident", task, (2, "{}"), 2, "timeout", "hung", rest), records(rest.key, 3), ("done", rest, 1, ""),
    ]  # fmt: skip
    for event in [*first, *again, ("done", rest, 1, ""), records(rest.key, 3)]:  # and a late copy
        scheduler._event("t", event)
    assert sink.calls == [
        ("records", task.key, 0), ("records", task.key, 1), ("records", task.key, 2),
        ("incident", task.key, 2, "timeout", rest.key), ("records", rest.key, 3), ("done", rest.key, 1),
    ]  # fmt: skip
    assert scheduler.submitted["t"][1] == [task, rest]


@needs_dask
def test_a_task_that_kills_dask_workers_is_a_worker_crash_and_its_rest_goes_on():
    from distributed import KilledWorker

    from gradcheck_suite.campaign.plan import Task
    from gradcheck_suite.campaign.scheduler import CampaignAbortedError

    scheduler, sink = _cluster_scheduler()
    task = Task("add", "float64", 1, 4, base=4)
    scheduler.submitted["k"] = (_Future(KilledWorker("k", SimpleNamespace(address="tcp://w"), 3)), [task])
    scheduler.seen[task.key] = {4}  # one case written before the workers died
    scheduler._reap()
    assert sink.calls == [("incident", task.key, 1, "worker-crash", task.rest(1).key)]
    assert sink.details == ["4 Dask workers died running it; Dask gave up (KilledWorker)"]
    assert scheduler.client.submitted == [task.rest(1)] and task.key in scheduler.closed
    scheduler.submitted = {"e": (_Future(CampaignAbortedError("no engine")), [task])}
    with pytest.raises(CampaignAbortedError, match="no engine"):
        scheduler._reap()
    scheduler.submitted = {"e": (_Future(ZeroDivisionError("bug")), [task])}
    with pytest.raises(CampaignAbortedError, match="a Dask task failed: ZeroDivisionError"):
        scheduler._reap()


def test_without_dask_scheduler_is_a_usage_error_naming_the_extra(tmp_path, monkeypatch, capsys):
    from gradcheck_suite.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails, as where it is missing
    assert main(["fuzz", "--scheduler", "local", "--ops", "add", "--out", str(tmp_path)]) == 2
    assert "pip install 'gradcheck-suite[cluster]'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # no campaign folder made for nothing
    assert main(["fuzz", "--upload", "engine.py", "--out", str(tmp_path)]) == 2
    assert "needs --scheduler" in capsys.readouterr().err


@needs_dask
@pytest.mark.slow
def test_the_scaling_benchmark_runs_the_same_work_on_the_pool_and_a_local_cluster(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import campaign_scaling

    monkeypatch.setattr(campaign_scaling, "CONFIGS", [("pool", 1), ("local", 1)])
    assert (
        campaign_scaling.main(["--examples", "2", "--repeat", "1", "--ops", "add", "--json", str(tmp_path / "r.json")])
        == 0
    )
    runs = json.loads((tmp_path / "r.json").read_text())
    assert [(r["scheduler"], r["cases"]) for r in runs] == [("pool", 4), ("local", 4)]  # add x 2 dtypes x 2
    assert all(r["exit"] == 0 and r["wall_s"] > 0 and r["client_cpu_s"] > 0 for r in runs)
    table = capsys.readouterr().out
    assert "built-in pool" in table and "Dask LocalCluster" in table and "client ms/case" in table
