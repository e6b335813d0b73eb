"""Grading on a real Dask cluster: `dask scheduler` and two `dask worker` processes started on
127.0.0.1 as separate OS processes by this module (from an unrelated folder with no PYTHONPATH, as
the README says: the grading code is the installed package), and
`python -m tinytorch_course.grading.coordinator --scheduler ADDRESS` sending them the tasks. The
scores must equal stock sequential nbgrader's, also when the worker grading a student is killed
mid-task (its task is retried on the other worker); a task whose worker dies on every try is
listed in the grading report with the number of tries."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.processes import log_tail
from tinytorch_course.grading.report import GRADED, NOT_GRADED, REPORT_CSV, read_report
from tinytorch_course.paths import NOTEBOOK_ID, REPO, SOURCE_DIRECTORY, nbgrader_env, submission_path

from archetypes import archetypes
from pipeline_helpers import gradebook_rows, wait_until, write_submission

#: A task whose worker dies is tried this many times in all (the scheduler's allowed failures + 1).
TRIES = 2
WAIT_S = 300  # generous: the machine is shared, and a jailed notebook takes seconds


@dataclass
class Cluster:
    """A Dask scheduler and its worker processes, on 127.0.0.1."""

    folder: Path
    env: dict[str, str]
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def scheduler_file(self) -> Path:
        return self.folder / "scheduler.json"

    @property
    def address(self) -> str:
        return json.loads(self.scheduler_file.read_text())["address"]

    def start_scheduler(self) -> None:
        self.scheduler = self._spawn(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(self.scheduler_file),
        )
        wait_until(lambda: self.scheduler_file.is_file(), "the scheduler to write its address", WAIT_S)

    def start_worker(self) -> subprocess.Popen:
        # No nanny: the worker is the process that runs the task, so killing it kills the task.
        name = f"worker-{len(self.workers)}"
        worker = self._spawn(
            "worker",
            "--scheduler-file",
            str(self.scheduler_file),
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
            "--local-directory",
            str(self.folder / "work"),
            name=name,
        )
        self.workers.append(worker)
        return worker

    def temp_folder(self, worker: subprocess.Popen) -> Path:
        """The worker's own temporary folder, where its tasks build their scratch courses."""
        return self.folder / f"tmp-worker-{self.workers.index(worker)}"

    def live_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    def ensure_workers(self, count: int) -> None:
        """Start workers until ``count`` are alive, and wait until the scheduler has them all."""
        from distributed import Client

        while len(self.live_workers()) < count:
            self.start_worker()
        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(count, timeout=WAIT_S)

    def logs(self) -> str:
        """The end of every scheduler's and worker's output, for a failure message."""
        return "\n".join(f"--- {log.name} ---\n{log_tail(log)}" for log in sorted(self.folder.glob("*.log")))

    def _spawn(self, role: str, *args: str, name: str | None = None) -> subprocess.Popen:
        log = (self.folder / f"{name or role}.log").open("wb")
        temp = self.folder / f"tmp-{name or role}"
        temp.mkdir()
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "dask"), role, *args],
            cwd=self.folder,
            env={**self.env, "TMPDIR": str(temp)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            if proc is not None:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("dask")
    (folder / "work").mkdir()
    # As the README says to start them: from a folder outside the checkout, with no PYTHONPATH;
    # the grading code is the installed tinytorch_course package.
    env = {k: v for k, v in nbgrader_env().items() if k != "PYTHONPATH"}
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(TRIES - 1)
    cluster = Cluster(folder, env)
    try:
        try:
            cluster.start_scheduler()
            cluster.ensure_workers(2)
        except (AssertionError, OSError, TimeoutError) as error:
            raise AssertionError(f"the Dask cluster did not start: {error}\n{cluster.logs()}") from error
        yield cluster
    finally:
        cluster.stop()


def _grading(cluster: Cluster, worker: subprocess.Popen) -> tuple[list[psutil.Process], str] | None:
    """Once a worker's task has its student's kernel running: the processes the worker started
    (nbgrader and the jailed kernel among them) and the student they grade."""
    try:
        descendants = psutil.Process(worker.pid).children(recursive=True)
        kernel_up = any("ipykernel_launcher" in " ".join(p.cmdline()) for p in descendants)
    except psutil.NoSuchProcess:
        return None
    scratch = list(cluster.temp_folder(worker).glob("tinytorch-grade-*/submitted/*"))
    if not kernel_up or len(scratch) != 1:
        return None
    return descendants, scratch[0].name


def _kill_a_grading_worker(cluster: Cluster) -> tuple[str, list[psutil.Process]]:
    """SIGKILL the first worker seen grading; returns the student it graded and the processes it
    had started."""

    def grading():
        return next(((w, *found) for w in cluster.live_workers() if (found := _grading(cluster, w))), None)

    worker, started, student = wait_until(grading, "a worker to grade a student", WAIT_S)
    worker.kill()
    worker.wait()
    return student, started


def _course(built_course, root: Path, submissions: dict) -> Path:
    shutil.copytree(built_course.root / SOURCE_DIRECTORY, root / SOURCE_DIRECTORY)
    shutil.copy(built_course.root / "gradebook.db", root / "gradebook.db")
    for student, nb in submissions.items():
        write_submission(nb, submission_path(root, student))
    return root


def _start_grading(cluster: Cluster, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tinytorch_course.grading.coordinator",
            "--scheduler",
            cluster.address,
            "--course-root",
            str(root),
        ],
        cwd=REPO,
        env=nbgrader_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


#: The batch: students of this course -> the archetype each hands in (two hand in the same).
AS_ARCHETYPES = {"ana": "reference", "ben": "forward-not-done", "cal": "untouched", "dee": "reference"}


@pytest.fixture(scope="module")
def batch(built_course) -> dict:
    handins = archetypes(built_course.release, built_course.source)
    return {student: handins[archetype][0] for student, archetype in AS_ARCHETYPES.items()}


def test_a_killed_worker_costs_nobody_their_score(cluster, built_course, batch, stock_graded, tmp_path):
    cluster.ensure_workers(2)
    root = _course(built_course, tmp_path, batch)
    grading = _start_grading(cluster, root)
    victim, started = _kill_a_grading_worker(cluster)
    out, err = grading.communicate(timeout=WAIT_S * 2)
    assert grading.returncode == 0, out + err
    assert stock_graded.failed == (), "stock nbgrader did not grade every student"
    assert gradebook_rows(root, list(batch)) == stock_graded.rows(AS_ARCHETYPES)
    report = read_report(root / REPORT_CSV)
    assert report[victim]["status"] == GRADED and report[victim]["reason"] == "", report[victim]
    assert all((root / "autograded" / s / "20_capstone" / f"{NOTEBOOK_ID}.ipynb").is_file() for s in batch)
    wait_until(lambda: not any(_alive(p) for p in started), "the killed worker's processes to end", timeout=60)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_task_whose_worker_dies_every_try_is_reported(cluster, built_course, batch, tmp_path):
    cluster.ensure_workers(2)
    root = _course(built_course, tmp_path, {"eve": batch["ana"]})
    grading = _start_grading(cluster, root)
    killed = [_kill_a_grading_worker(cluster)[0] for _ in range(TRIES)]
    out, err = grading.communicate(timeout=WAIT_S * 2)
    assert killed == ["eve"] * TRIES
    assert grading.returncode == 1, out + err
    row = read_report(root / REPORT_CSV)["eve"]
    assert row["status"] == NOT_GRADED and row["score"] == ""
    assert row["reason"] == (f"task failed after {TRIES} tries: the worker grading it died each time"), row
    assert "eve" in err
