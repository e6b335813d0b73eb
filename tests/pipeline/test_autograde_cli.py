"""The plan `tools/autograde_parallel.py` carries out, without grading anything: which stock
`nbgrader autograde` command lines it starts, which students each one sees, and the exit codes
of its command line. The workers are replaced by a stand-in that records what it was given and
plays nbgrader's part (an autograded notebook for each student it "grades")."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tools.autograde_parallel as ap
from tools.course import ASSIGNMENT_ID, NOTEBOOK_ID


@pytest.fixture
def course(tmp_path) -> Path:
    """A course root with a gradebook file and five submission folders."""
    sqlite3.connect(tmp_path / "gradebook.db").close()
    for student in ("ana", "ben", "cal", "dee", "eve"):
        (tmp_path / "submitted" / student / ASSIGNMENT_ID).mkdir(parents=True)
    return tmp_path


class FakeWorkers:
    """Stands in for the nbgrader processes and the gradebook merge."""

    def __init__(self, course: Path, failing: set[str] = frozenset()):
        self.course, self.failing = course, failing
        self.commands: list[list[str]] = []
        self.shards: list[list[str]] = []  # students linked into each worker's submitted folder
        self.merged: list[list[str]] = []

    def launch(self, commands, logs):
        assert len(commands) == len(logs)
        for cmd, log in zip(commands, logs):
            log.write_text("")
            self.commands.append(cmd)
            folder = Path(_option(cmd, "--CourseDirectory.submitted_directory"))
            shard = sorted(p.name for p in folder.iterdir())
            assert all((folder / s).resolve() == (self.course / "submitted" / s).resolve() for s in shard)
            self.shards.append(shard)
            for student in shard:
                if student not in self.failing:
                    out = self.course / "autograded" / student / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text("{}")

    def merge(self, src_url, dest_url, assignment, students):
        assert dest_url == f"sqlite:///{(self.course / 'gradebook.db').resolve()}"
        assert src_url != dest_url and assignment == ASSIGNMENT_ID
        self.merged.append(list(students))


def _option(cmd: list[str], name: str) -> str:
    values = [arg.split("=", 1)[1] for arg in cmd if arg.startswith(name + "=")]
    assert len(values) == 1, f"{name} should be given once in {cmd}"
    return values[0]


def _run(monkeypatch, course: Path, argv: list[str], failing=frozenset()) -> tuple[int, FakeWorkers]:
    fake = FakeWorkers(course, set(failing))
    monkeypatch.setattr(ap, "launch", fake.launch)
    monkeypatch.setattr(ap, "merge_submissions", fake.merge)
    return ap.main(["--course-root", str(course), *argv]), fake


@pytest.mark.parametrize("jobs", ["1", "2", "3"])
def test_chosen_students_are_all_graded_whatever_the_jobs(monkeypatch, course, jobs):
    code, fake = _run(monkeypatch, course, ["--jobs", jobs, "--student", "eve", "--student", "ben",
                                            "--student", "cal"])
    assert code == 0
    assert sorted(s for shard in fake.shards for s in shard) == ["ben", "cal", "eve"]
    assert len(fake.commands) == min(int(jobs), 3)
    assert fake.merged == fake.shards, "each worker's own students are merged back"


def test_every_submission_is_dealt_round_robin(monkeypatch, course):
    code, fake = _run(monkeypatch, course, ["--jobs", "2"])
    assert code == 0
    assert fake.shards == [["ana", "cal", "eve"], ["ben", "dee"]]
    assert fake.merged == [["ana", "cal", "eve"], ["ben", "dee"]]


def test_command_lines_are_stock_autograde_on_private_shard_and_gradebook(monkeypatch, course):
    code, fake = _run(monkeypatch, course, ["--jobs", "2", "--force", "--", "--Execute.timeout=7"])
    assert code == 0
    dbs = set()
    for cmd in fake.commands:
        assert cmd[1:5] == ["-m", "nbgrader", "autograde", ASSIGNMENT_ID]
        assert _option(cmd, "--CourseDirectory.root") == str(course.resolve())
        assert "--force" in cmd and "--Execute.timeout=7" in cmd
        assert not any(arg.startswith("--student") for arg in cmd), "the shard folder chooses"
        db = _option(cmd, "--CourseDirectory.db_url")
        assert db.startswith("sqlite:///") and Path(db[len("sqlite:///"):]).name == "gradebook.db"
        assert Path(db[len("sqlite:///"):]) != (course / "gradebook.db").resolve()
        dbs.add(db)
    assert len(dbs) == 2, "each worker writes its own gradebook copy"
    (run,) = (course / "build" / "autograde").iterdir()
    assert sorted(p.name for p in run.iterdir()) == ["worker-0.log", "worker-1.log"], (
        "worker folders are removed; only the logs stay")


def test_exit_code_1_names_the_submissions_that_could_not_be_graded(monkeypatch, course, capsys):
    code, _ = _run(monkeypatch, course, ["--jobs", "2"], failing={"dee"})
    assert code == 1
    assert "dee" in capsys.readouterr().err


def test_exit_code_2_for_an_unknown_student(monkeypatch, course, capsys):
    code, fake = _run(monkeypatch, course, ["--student", "ana", "--student", "zed"])
    assert code == 2 and fake.commands == []
    assert "zed" in capsys.readouterr().err


def test_exit_code_2_without_a_gradebook(monkeypatch, course, capsys):
    (course / "gradebook.db").unlink()
    code, fake = _run(monkeypatch, course, [])
    assert code == 2 and fake.commands == []
    assert "gradebook" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--jobs", "0"], ["--jobs", "two"], ["--bogus"]])
def test_exit_code_2_for_bad_options(monkeypatch, course, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        _run(monkeypatch, course, argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err


def test_nothing_submitted_is_success_with_nothing_to_run(monkeypatch, tmp_path):
    sqlite3.connect(tmp_path / "gradebook.db").close()
    code, fake = _run(monkeypatch, tmp_path, [])
    assert code == 0 and fake.commands == []


def test_workers_share_the_cores_between_their_math_libraries(monkeypatch):
    monkeypatch.setattr(ap.os, "cpu_count", lambda: 4)
    for name in ap.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = ap.worker_env(2)
    assert all(env[name] == "2" for name in ap.THREAD_VARIABLES)
    assert ap.worker_env(8)["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")  # an instructor's own setting wins
    assert ap.worker_env(2)["OPENBLAS_NUM_THREADS"] == "3"
