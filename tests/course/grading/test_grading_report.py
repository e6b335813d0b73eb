"""The grading report of `make autograde` (tinytorch_course/grading/coordinator.py on its default Dask
LocalCluster, every kernel in the jail): one line per submission, printed and written next to
the gradebook, with the reason for anything not graded normally — a file that is not a notebook,
a notebook that is not JSON (graded 0), a notebook that loops forever and is stopped at its (small) budget,
a timestamp that is not a date (not graded, as stock nbgrader does not grade it), and a run the
instructor made unjailed with SANDBOX=0. Nothing is silently 0."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import expect_file, run_process
from tinytorch_course.grading.report import GRADED, NOT_GRADED, REPORT_CSV, REPORT_TXT, read_report
from tinytorch_course.paths import (
    ASSIGNMENT_ID,
    REPO,
    SOURCE_DIRECTORY,
    nbgrader_command,
    nbgrader_env,
    submission_path,
)

from pipeline_helpers import LOOP_FOREVER, mutate, reference_submission, write_submission

# Whole-notebook budget of this batch: under the per-cell timeout (60 s), so the looping notebook
# is stopped by the budget, and far above an honest notebook's few seconds on a loaded machine.
BUDGET_S = 30
LOOP_CELL = "generate-submission"
#: What the student with a broken timestamp left beside the reference notebook.
NOT_A_DATE = "yesterday-ish"


@dataclass
class Graded:
    root: Path
    run: subprocess.CompletedProcess
    written_txt: str  # the report files the first run left
    written_csv: dict
    unjailed: subprocess.CompletedProcess


def _autograde(root: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`make autograde`'s command on ``root``; it must end with the report written (exit 0, or 1
    naming what it could not grade), or the fixture fails showing the run's output."""
    run = run_process(
        [sys.executable, "-m", "tinytorch_course.grading.coordinator", "--jobs", "2", "--course-root", root, *argv],
        ok=(0, 1),
        cwd=REPO,
        env=env or nbgrader_env(),
    )
    expect_file(root / REPORT_TXT, run)
    return run


@pytest.fixture(scope="module")
def graded(built_course, tmp_path_factory) -> Graded:
    root = tmp_path_factory.mktemp("report")
    shutil.copytree(built_course.root / SOURCE_DIRECTORY, root / SOURCE_DIRECTORY)
    shutil.copy(built_course.root / "gradebook.db", root / "gradebook.db")
    reference = reference_submission(built_course.release, built_course.source)
    write_submission(reference, submission_path(root, "reference"))
    write_submission(
        mutate(reference, LOOP_CELL, [(r"\A", LOOP_FOREVER)], regex=True),
        submission_path(root, "loops-forever"),
    )
    not_json = submission_path(root, "not-json")
    not_json.parent.mkdir(parents=True)
    not_json.write_text('{"cells": [{"cell_type": "code", "source": ')
    not_notebook = submission_path(root, "not-a-notebook").with_name("capstone.py")
    not_notebook.parent.mkdir(parents=True)
    not_notebook.write_text("print('my answers')\n")
    _hand_in_not_a_date(root, reference)
    run = _autograde(root, "--", f"--JailSettings.budget_s={BUDGET_S}")
    written_txt, written_csv = (root / REPORT_TXT).read_text(), read_report(root / REPORT_CSV)
    unjailed = _autograde(root, "--force", "--student", "reference", env={**nbgrader_env(), "SANDBOX": "0"})
    return Graded(root, run, written_txt, written_csv, unjailed)


def _hand_in_not_a_date(root: Path, reference) -> None:
    path = submission_path(root, "not-a-date")
    write_submission(reference, path)
    (path.parent / "timestamp.txt").write_text(NOT_A_DATE)


def _line(text: str, student: str) -> str:
    (line,) = [row for row in text.splitlines() if row.split(" ", 1)[0] == student]
    return line


def test_exit_code_1_names_what_could_not_be_graded(graded):
    assert graded.run.returncode == 1, graded.run.stdout + graded.run.stderr
    assert "could not grade" in graded.run.stderr
    not_graded = graded.run.stderr.split("could not grade")[1]
    assert "not-a-notebook" in not_graded and "not-a-date" in not_graded
    assert "not-json" not in not_graded and "reference" not in not_graded


def test_report_is_printed_and_written_next_to_the_gradebook(graded):
    assert graded.written_txt in graded.run.stdout, "the printed report is the written one"
    assert graded.written_txt.splitlines()[0].split() == ["student", "score", "status", "reason"]
    assert graded.written_csv.keys() == {"reference", "loops-forever", "not-json", "not-a-notebook", "not-a-date"}


def test_the_reference_is_graded_normally(graded):
    row = graded.written_csv["reference"]
    assert (row["status"], row["score"], row["max_score"], row["reason"]) == (GRADED, "100", "100", "")


def test_a_file_that_is_not_a_notebook_is_listed_with_what_was_handed_in(graded):
    line = _line(graded.run.stdout, "not-a-notebook")
    assert NOT_GRADED in line and "not a notebook: no capstone.ipynb was submitted" in line
    assert "capstone.py" in line
    assert line.split()[1] == "-", "no gradebook row: no score, not a silent 0"
    assert graded.written_csv["not-a-notebook"]["score"] == ""


def test_a_timestamp_that_is_not_a_date_is_not_graded_and_the_report_says_so(graded):
    row = graded.written_csv["not-a-date"]
    reason = f"timestamp refused: timestamp.txt holds '{NOT_A_DATE}', which is not a date"
    assert (row["status"], row["score"], row["reason"]) == (NOT_GRADED, "", reason)
    assert reason in _line(graded.run.stdout, "not-a-date")
    assert not (graded.root / "autograded" / "not-a-date").exists(), "no task was sent for it"


def test_stock_nbgrader_does_not_grade_a_timestamp_that_is_not_a_date(built_course, tmp_path):
    """What `make autograde` refuses, stock nbgrader stops at (before any kernel), naming the file."""
    shutil.copytree(built_course.root / SOURCE_DIRECTORY, tmp_path / SOURCE_DIRECTORY)
    shutil.copy(built_course.root / "gradebook.db", tmp_path / "gradebook.db")
    _hand_in_not_a_date(tmp_path, reference_submission(built_course.release, built_course.source))
    run = run_process(
        nbgrader_command("autograde", ASSIGNMENT_ID, f"--CourseDirectory.root={tmp_path}"),
        ok=None,
        cwd=REPO,
        env=nbgrader_env(),
    )
    stamp = tmp_path / "submitted" / "not-a-date" / ASSIGNMENT_ID / "timestamp.txt"
    assert run.returncode != 0 and f"Invalid timestamp string: {stamp}" in run.stdout + run.stderr, run.stderr
    assert not (tmp_path / "autograded" / "not-a-date").exists()


def test_a_notebook_that_is_not_json_is_graded_0_with_its_reason(graded):
    row = graded.written_csv["not-json"]
    assert (row["status"], row["score"], row["reason"]) == (
        GRADED,
        "0",
        "unreadable: not JSON: Expecting value at line 1 column 44",
    )
    assert row["reason"] in _line(graded.run.stdout, "not-json")


def test_a_notebook_looping_forever_is_graded_on_what_finished_and_says_budget(graded):
    line = _line(graded.run.stdout, "loops-forever")
    assert f" {GRADED} " in f" {line} " and "budget exceeded" in line, line
    score = float(graded.written_csv["loops-forever"]["score"])
    assert 0 < score < 100, "the cells before the loop keep their points, the rest lose theirs"


def test_an_unjailed_run_says_so_for_every_submission_it_graded(graded):
    assert graded.unjailed.returncode == 0, graded.unjailed.stdout + graded.unjailed.stderr
    row = read_report(graded.root / REPORT_CSV)["reference"]  # this run's report: one line
    assert read_report(graded.root / REPORT_CSV).keys() == {"reference"}
    assert row["status"] == GRADED and row["score"] == "100"
    assert row["reason"].startswith("graded unjailed"), row
