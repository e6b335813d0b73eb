"""The pieces of `tinytorch_course/grading/coordinator.py` that decide what is graded and how it is reported,
without starting a kernel: command-line errors, task grouping, the bytes a task is sent, each
task's share of the cores, and the report's reasons and formats. Grading itself is tested for
real in test_autograde.py, test_grading_report.py and test_autograde_dask.py."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import nbformat
import pytest

from tinytorch_course.grading import coordinator, report, task
from tinytorch_course.grading.gradebook import open_gradebook, sqlite_url
from tinytorch_course.grading.jail.events import BUDGET_EXCEEDED, KERNEL_DIED, format_event, new_key
from tinytorch_course.paths import ASSIGNMENT_ID, NOTEBOOK_ID
from tinytorch_course.student.package import write_files


@pytest.fixture(scope="module")
def gradebook_template(tmp_path_factory) -> Path:
    """An nbgrader gradebook with its schema and no rows (created once: nbgrader takes seconds)."""
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with open_gradebook(sqlite_url(path)):
        pass
    return path


@pytest.fixture
def course(tmp_path, gradebook_template) -> Path:
    """A course root with an empty nbgrader gradebook and five submission folders."""
    shutil.copy(gradebook_template, tmp_path / "gradebook.db")
    for student in ("ana", "ben", "cal", "dee", "eve"):
        (tmp_path / "submitted" / student / ASSIGNMENT_ID).mkdir(parents=True)
    return tmp_path


def test_exit_code_2_for_an_unknown_student(course, capsys):
    assert coordinator.main(["--course-root", str(course), "--student", "ana", "--student", "zed"]) == 2
    assert "zed" in capsys.readouterr().err
    assert not (course / "build").exists(), "nothing is started for a usage error"


def test_exit_code_2_without_a_gradebook(course, capsys):
    (course / "gradebook.db").unlink()
    assert coordinator.main(["--course-root", str(course)]) == 2
    assert "gradebook" in capsys.readouterr().err


def test_exit_code_2_without_the_release_source(course, capsys):
    assert coordinator.main(["--course-root", str(course)]) == 2
    assert "make release" in capsys.readouterr().err


def test_exit_code_2_for_an_unreachable_scheduler(course, capsys):
    # a port nothing listens on: connection refused, reported with the address
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    (course / "build" / "nbgrader" / "source" / ASSIGNMENT_ID).mkdir(parents=True)
    assert coordinator.main(["--course-root", str(course), "--scheduler", address]) == 2
    assert address in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--jobs", "0"], ["--jobs", "two"], ["--per-task", "0"], ["--bogus"]])
def test_exit_code_2_for_bad_options(course, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        coordinator.main(["--course-root", str(course), *argv])
    assert exit_.value.code == 2
    assert capsys.readouterr().err


def test_nothing_submitted_is_success_with_an_empty_report(tmp_path, gradebook_template):
    shutil.copy(gradebook_template, tmp_path / "gradebook.db")
    assert coordinator.main(["--course-root", str(tmp_path)]) == 0
    assert report.read_report(tmp_path / report.REPORT_CSV) == {}


def test_task_files_cannot_leave_their_folder(tmp_path):
    with pytest.raises(ValueError, match=r"\.\./escape"):
        write_files(tmp_path, {"../escape": b"x"})
    with pytest.raises(ValueError, match="/etc/passwd"):
        write_files(tmp_path, {"/etc/passwd": b"x"})
    write_files(tmp_path, {"a/b.txt": b"ok"})
    assert task.read_files(tmp_path) == {"a/b.txt": b"ok"}


def test_tasks_share_their_host_cores_between_math_libraries(monkeypatch):
    monkeypatch.setattr(task.os, "cpu_count", lambda: 4)
    for name in task.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    host = task._host()
    bundle = task.CourseBundle(ASSIGNMENT_ID, {}, b"", {}, tasks_per_host={host: 2})
    assert all(task.task_env(bundle)[name] == "2" for name in task.THREAD_VARIABLES)
    crowded = task.CourseBundle(ASSIGNMENT_ID, {}, b"", {}, tasks_per_host={host: 8})
    assert task.task_env(crowded)["OMP_NUM_THREADS"] == "1"
    mine = task.CourseBundle(ASSIGNMENT_ID, {}, b"", {}, env={"OPENBLAS_NUM_THREADS": "3"}, tasks_per_host={host: 2})
    assert task.task_env(mine)["OPENBLAS_NUM_THREADS"] == "3", "an instructor's own setting wins"


def test_the_student_package_travels_without_solution_modules(tmp_path, gradebook_template):
    (tmp_path / "build" / "nbgrader" / "source" / ASSIGNMENT_ID).mkdir(parents=True)
    (tmp_path / "build" / "nbgrader" / "source" / ASSIGNMENT_ID / "capstone.ipynb").write_text("{}")
    shutil.copy(gradebook_template, tmp_path / "gradebook.db")
    bundle = coordinator.course_bundle(tmp_path, ["--force"])
    assert bundle.source == {"capstone.ipynb": b"{}"} and bundle.options == ("--force",)
    assert "tinytorch/__init__.py" in bundle.student_package
    assert not any(name.startswith("tinytorch/olympics") for name in bundle.student_package)


def test_a_hand_in_is_sent_as_its_canonical_notebook_and_timestamp_only(course):
    """What a task is sent of a submitted folder: the canonical notebook (no output, no file beside
    it, no link followed) and the timestamp; and the report's words when there is no notebook."""
    given = nbformat.v4.new_notebook()
    given.cells = [nbformat.v4.new_code_cell("x = 1", id="given")]
    folder = course / "submitted" / "ana" / ASSIGNMENT_ID
    student = nbformat.v4.new_notebook()
    student.cells = [nbformat.v4.new_code_cell("x = 1", id="given"), nbformat.v4.new_code_cell("mine = 2", id="m")]
    student.cells[1].outputs = [nbformat.v4.new_output("stream", text="out")]
    (folder / f"{NOTEBOOK_ID}.ipynb").write_text(nbformat.writes(student))
    (folder / "numpy.py").write_text("raise SystemExit")
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00 UTC")
    ana = coordinator.hand_in(course, "ana", given)
    assert ana.problem is None and sorted(ana.files) == [f"{NOTEBOOK_ID}.ipynb", "timestamp.txt"]
    assert ana.files["timestamp.txt"] == b"2026-12-01 10:00:00 UTC"
    sent = nbformat.reads(ana.files[f"{NOTEBOOK_ID}.ipynb"].decode(), as_version=4)
    assert sent == ana.canonical and [(c.id, c.source, c.outputs) for c in sent.cells] == [
        ("given", "x = 1", []),
        ("added-1", "mine = 2", []),
    ]
    ben = course / "submitted" / "ben" / ASSIGNMENT_ID
    (ben / f"{NOTEBOOK_ID}.ipynb").symlink_to(folder / f"{NOTEBOOK_ID}.ipynb")
    (ben / "timestamp.txt").symlink_to(folder / "timestamp.txt")
    linked = coordinator.hand_in(course, "ben", given)
    assert linked.problem == "unreadable: a link: links in a hand-in are never followed"
    assert sorted(linked.files) == [f"{NOTEBOOK_ID}.ipynb"], "a linked timestamp is not read either"
    (course / "submitted" / "cal" / ASSIGNMENT_ID / "capstone.py").write_text("print(1)")
    assert coordinator.hand_in(course, "cal", given) == coordinator.HandIn(
        {}, "not a notebook: no capstone.ipynb was submitted (found: capstone.py)", None
    )
    assert coordinator.hand_in(course, "dee", given).problem == (
        "not a notebook: no capstone.ipynb was submitted (found: nothing)"
    )


def test_jail_events_belong_to_the_student_whose_kernel_logged_them():
    key = new_key()
    log = "\n".join(
        [
            "[AutogradeApp | INFO] Autograding /tmp/x/autograded/ana/20_capstone/capstone.ipynb",
            "[AutogradeApp | WARNING] "
            + format_event(BUDGET_EXCEEDED, "/tmp/x/autograded/ana/20_capstone", "stopped after 10 s", key=key),
            format_event(KERNEL_DIED, "/tmp/x/autograded/ben/20_capstone", "killed by signal 9", key=key),
        ]
    )
    found = report.events_by_student(log, ("ana", "ben", "cal"), key)
    assert [e.event for e in found["ana"]] == [BUDGET_EXCEEDED]
    assert [e.event for e in found["ben"]] == [KERNEL_DIED] and found["cal"] == []
    noisy = report.events_by_student(
        f"tinytorch-grading: {key} kernel-died {{not json\n" + log, ("ana", "ben", "cal"), key
    )
    assert noisy == found, "a malformed line is skipped, the events around it still count"
    forged = format_event(KERNEL_DIED, "/tmp/x/autograded/cal/20_capstone", "forged", key=new_key())
    assert report.events_by_student(forged + "\n" + log, ("ana", "ben", "cal"), key) == found
    alone = report.events_by_student(format_event(KERNEL_DIED, "/home/student/work", "gone", key=key), ("dee",), key)
    assert [e.detail for e in alone["dee"]] == ["gone"], "a one-student task owns every event"


def test_report_lines_give_a_reason_for_everything_not_graded_normally():
    key = new_key()
    budget = report.events_by_student(
        format_event(BUDGET_EXCEEDED, "/w/ana", "stopped after 10 s", key=key), ("ana",), key
    )["ana"]
    graded = report.build_line("ana", (40.0, 100.0), True, None, budget, "ana.log")
    assert (graded.status, graded.score, graded.reason) == (report.GRADED, 40.0, "budget exceeded: stopped after 10 s")
    clean = report.build_line("ben", (100.0, 100.0), True, None, [], "ben.log")
    assert clean.reason == ""
    bad = report.build_line("cal", (0.0, 100.0), False, "not a notebook: x", [], "cal.log")
    assert (bad.status, bad.reason) == (report.NOT_GRADED, "not a notebook: x")
    unread = report.build_line("cal", (0.0, 100.0), True, "unreadable: not JSON: x", [], "cal.log")
    assert (unread.status, unread.score, unread.reason) == (report.GRADED, 0.0, "unreadable: not JSON: x")
    unknown = report.build_line("dee", None, False, None, [], "run/dee.log")
    assert unknown.score is None and "run/dee.log" in unknown.reason, "never a silent 0"


def test_report_formats_hold_one_line_per_submission(tmp_path):
    lines = [
        report.ReportLine("ana", report.GRADED, 100.0, 100.0),
        report.ReportLine("ben", report.NOT_GRADED, None, None, 'not JSON: "x", y'),
    ]
    csv_path, txt_path = report.write_report(tmp_path, lines)
    rows = report.read_report(csv_path)
    assert rows["ana"] == {"student": "ana", "status": "graded", "score": "100", "max_score": "100", "reason": ""}
    assert rows["ben"]["reason"] == 'not JSON: "x", y' and rows["ben"]["score"] == ""
    text = txt_path.read_text().splitlines()
    assert len(text) == 3 and "100 / 100" in text[1] and text[2].endswith('not JSON: "x", y')
