"""The gradebook pieces of `make autograde` that read a whole course at once: the template every
task starts from (the course gradebook without its students, made by SQL) and the roster records
and scores read in bulk. Each is checked against what nbgrader's own API gives one student at a
time, on a course gradebook holding graded-looking students; and end to end, a forced regrade
of known students by `make autograde` keeps their roster entries and the scores stock nbgrader
gives the same hand-ins (graded once per run: tests/course/grading/archetypes.py)."""

from __future__ import annotations

import datetime
import shutil
import sqlite3
from pathlib import Path

import pytest

from tinytorch_course.grading.coordinator import autograde
from tinytorch_course.grading.gradebook import (
    STUDENT_TABLES,
    copy_gradebook,
    open_gradebook,
    scores,
    sqlite_url,
    student_records,
    template_gradebook,
)
from tinytorch_course.paths import ASSIGNMENT_ID, SOURCE_DIRECTORY

from archetypes import archetypes, write_handin
from pipeline_helpers import gradebook_rows

STUDENTS = 40
EXTENSION = datetime.timedelta(days=2)


def _rows(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted."""
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(db.execute(f"SELECT * FROM {t}"), key=repr) for t in tables}


@pytest.fixture(scope="module")
def course_gradebook(built_course, tmp_path_factory) -> Path:
    """The release's gradebook with students, some with names, an extension or a score."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    copy_gradebook(built_course.root / "gradebook.db", path)
    with open_gradebook(sqlite_url(path)) as gb:
        for k in range(STUDENTS):
            gb.update_or_create_student(f"s{k:02d}", first_name=f"First{k}", email=f"s{k}@uni.edu")
            sub = gb.update_or_create_submission(
                ASSIGNMENT_ID, f"s{k:02d}", extension=EXTENSION if k % 3 == 0 else None
            )
            for nb in sub.notebooks:
                for grade in nb.grades[: k % 5]:
                    grade.auto_score = grade.max_score / 2
        gb.update_or_create_student("roster-only", last_name="Only")
        gb.db.commit()
    return path


def test_the_template_is_the_gradebook_without_students(course_gradebook, built_course, tmp_path):
    template = tmp_path / "template.db"
    template_gradebook(course_gradebook, template)
    by_api = tmp_path / "by-api.db"
    copy_gradebook(course_gradebook, by_api)
    with open_gradebook(sqlite_url(by_api)) as gb:
        for student in list(gb.students):
            gb.remove_student(student.id)
    rows = _rows(template)
    assert rows == _rows(by_api), "the same rows as nbgrader's remove_student leaves"
    assert all(rows[table] == [] for table in STUDENT_TABLES)
    assert rows["grade_cells"] and rows["notebook"], "the assignment itself is kept"
    with open_gradebook(sqlite_url(template)) as gb:
        assert gb.students == [] and gb.find_assignment(ASSIGNMENT_ID).num_submissions == 0
    assert template.stat().st_size <= (built_course.root / "gradebook.db").stat().st_size, (
        "the deleted rows' pages are not sent to every task"
    )


def test_a_gradebook_whose_schema_refers_to_students_elsewhere_is_refused(course_gradebook, tmp_path):
    odd = tmp_path / "odd.db"
    copy_gradebook(course_gradebook, odd)
    with sqlite3.connect(odd) as db:
        db.execute("CREATE TABLE badge (id INTEGER PRIMARY KEY, student_id VARCHAR(128) REFERENCES student (id))")
    with pytest.raises(ValueError, match="'badge' refers to students"):
        template_gradebook(odd, tmp_path / "template.db")
    with pytest.raises(ValueError, match="no table"):
        template_gradebook(tmp_path / "not-a-gradebook.db", tmp_path / "template2.db")


def test_records_and_scores_match_nbgrader_one_student_at_a_time(course_gradebook):
    url = sqlite_url(course_gradebook)
    asked = ["s00", "s01", "s03", "roster-only", "never-seen"]
    records = student_records(course_gradebook, ASSIGNMENT_ID, asked)
    assert sorted(records) == ["roster-only", "s00", "s01", "s03"]
    got = scores(url, ASSIGNMENT_ID, asked)
    with open_gradebook(url) as gb:
        for student_id, record in records.items():
            who = gb.find_student(student_id)
            assert (record.first_name, record.last_name, record.email) == (who.first_name, who.last_name, who.email)
        for student_id in ("s00", "s01", "s03"):
            sub = gb.find_submission(ASSIGNMENT_ID, student_id)
            assert records[student_id].extension == sub.extension
            assert got[student_id] == (float(sub.score), float(sub.max_score))
    assert records["s00"].extension == EXTENSION and records["s01"].extension is None
    assert got["s01"][0] > 0 and got["s00"][0] == 0, "the fixture's partial scores are read"
    assert "roster-only" not in got and "never-seen" not in got
    assert student_records(course_gradebook, ASSIGNMENT_ID, ["never-seen"]) == {}


def test_a_regrade_of_known_students_keeps_their_roster_and_scores_as_stock(built_course, stock_graded, tmp_path):
    handins = archetypes(built_course.release, built_course.source)
    as_archetypes = {"ana": "reference", "ben": "forward-not-done"}
    root = tmp_path / "cluster"
    shutil.copytree(built_course.root / SOURCE_DIRECTORY, root / SOURCE_DIRECTORY)
    shutil.copy(built_course.root / "gradebook.db", root / "gradebook.db")
    for student, archetype in as_archetypes.items():
        write_handin(root, student, handins[archetype][0])
    assert autograde(root, jobs=2) == [], "students not graded"
    assert stock_graded.failed == (), "stock nbgrader did not grade every student"
    with open_gradebook(sqlite_url(root / "gradebook.db")) as gb:
        gb.update_or_create_student("ben", first_name="Ben", email="ben@uni.edu")
        gb.db.commit()
    assert autograde(root, jobs=2, force=True) == []
    rows = gradebook_rows(root, list(as_archetypes))
    assert rows == stock_graded.rows(as_archetypes)
    assert rows["ben"]["grades"]["test-simple-mlp"][0] == 0 and rows["ana"]["score"] == 100
    with open_gradebook(sqlite_url(root / "gradebook.db")) as gb:
        ben = gb.find_student("ben")
        assert (ben.first_name, ben.email) == ("Ben", "ben@uni.edu"), "the roster survives a regrade"
