"""Gradebook rows moved between gradebooks with nbgrader's own API, so every grading task can
work on a private SQLite file and the course gradebook has exactly one writer."""

from __future__ import annotations

import os
import sqlite3
import sys
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tinytorch_course.paths import nbgrader_env


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL nbgrader takes for an SQLite gradebook file."""
    return f"sqlite:///{Path(path).resolve()}"


def copy_gradebook(src: Path, dest: Path) -> None:
    """A consistent copy of an SQLite gradebook (the backup API, not a file copy)."""
    source, target = sqlite3.connect(src), sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def import_api() -> None:
    """Import nbgrader's gradebook API now: it takes seconds (``nbgrader`` imports its server
    extensions, nbformat and jsonschema's format checkers), better spent before they are needed."""
    import nbgrader.api  # noqa: F401


@contextmanager
def open_gradebook(url: str) -> Iterator:
    """nbgrader's Gradebook on ``url``, with SQLAlchemy's autoflush warning silenced: stock
    autograde triggers the same warning, it is harmless, and it would only bury the report."""
    from nbgrader.api import Gradebook  # heavy import, only where a gradebook is opened
    from sqlalchemy.exc import SAWarning

    # nbgrader stamps a new gradebook by running `alembic`, which lives next to this interpreter.
    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = nbgrader_env()["PATH"]
    with warnings.catch_warnings(), Gradebook(url) as gb:
        warnings.simplefilter("ignore", SAWarning)
        yield gb


@dataclass(frozen=True)
class StudentRecord:
    """What the course gradebook knows of a student before grading: the roster entry and, when
    the student was graded before, the submission's extension (which moves its due date)."""

    student_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None
    extension: object | None = None  # datetime.timedelta; kept loose so the record pickles plainly


def student_records(path: Path, assignment: str, students: list[str]) -> dict[str, StudentRecord]:
    """The records of those ``students`` the gradebook at ``path`` already knows, read in two
    queries whatever the size of the course."""
    with closing(sqlite3.connect(path)) as db:
        known = {row[0] for row in db.execute("SELECT id FROM student")}
    wanted = set(students) & known
    if not wanted:  # students graded for the first time: no need to import nbgrader's API (seconds)
        return {}
    from nbgrader.api import MissingEntry

    with open_gradebook(sqlite_url(path)) as gb:
        people = [who for who in gb.students if who.id in wanted]
        try:
            extensions = {sub.student_id: sub.extension for sub in gb.find_assignment(assignment).submissions}
        except MissingEntry:
            extensions = {}
        return {
            who.id: StudentRecord(
                who.id, who.first_name, who.last_name, who.email, who.lms_user_id, extensions.get(who.id)
            )
            for who in people
        }


def seed(url: str, assignment: str, records: list[StudentRecord]) -> None:
    """Put ``records`` into the gradebook at ``url``, so stock autograde there finds the same
    roster entries and extensions as in the course gradebook."""
    with open_gradebook(url) as gb:
        for rec in records:
            gb.update_or_create_student(
                rec.student_id,
                first_name=rec.first_name,
                last_name=rec.last_name,
                email=rec.email,
                lms_user_id=rec.lms_user_id,
            )
            if rec.extension is not None:
                gb.update_or_create_submission(assignment, rec.student_id, extension=rec.extension)
        gb.db.commit()


#: nbgrader's tables of students and of what they submitted, each listed after the tables that
#: refer to it.
STUDENT_TABLES = ("comment", "grade", "submitted_notebook", "submitted_assignment", "student")


def template_gradebook(src: Path, dest: Path) -> None:
    """Write to ``dest`` the gradebook at ``src`` without any student or submission: the
    assignment as `make release` recorded it, the template of a task's gradebook.

    The rows go by SQL on the copy: nbgrader's ``remove_student`` takes about 10 ms a student,
    minutes before a regrade of thousands could start. A gradebook with another table that refers
    to these (a schema this code does not know) is a ValueError naming it."""
    copy_gradebook(src, dest)
    with closing(sqlite3.connect(dest)) as db:
        _check_student_tables(db, dest)
        with db:
            for table in STUDENT_TABLES:
                db.execute(f"DELETE FROM {table}")
        db.execute("VACUUM")  # the deleted rows' pages would travel with every task


def _check_student_tables(db: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(set(STUDENT_TABLES) - tables)
    if missing:
        raise ValueError(f"gradebook {path}: no table {', '.join(missing)}; is it an nbgrader gradebook?")
    for table in sorted(tables - set(STUDENT_TABLES)):
        refers = {row[2] for row in db.execute(f"PRAGMA foreign_key_list('{table}')")}
        if refers & set(STUDENT_TABLES):
            raise ValueError(
                f"gradebook {path}: table {table!r} refers to students or submissions; "
                "this nbgrader's schema is not the one tinytorch_course/grading/gradebook.py knows"
            )


def merge_submissions(src_url: str, dest_url: str, assignment: str, students: list[str]) -> None:
    """Copy the gradebook rows of ``students`` for ``assignment`` from one gradebook to another:
    student, submission, per-cell grades and comments, late penalty."""
    from nbgrader.api import MissingEntry

    with open_gradebook(src_url) as src, open_gradebook(dest_url) as dest:
        for student_id in students:
            try:
                sub = src.find_submission(assignment, student_id)
            except MissingEntry:
                continue
            who = sub.student
            dest.update_or_create_student(
                student_id,
                first_name=who.first_name,
                last_name=who.last_name,
                email=who.email,
                lms_user_id=who.lms_user_id,
            )
            dest.update_or_create_submission(assignment, student_id, timestamp=sub.timestamp, extension=sub.extension)
            for nb in sub.notebooks:
                _merge_notebook(dest, nb, assignment, student_id)
            dest.db.commit()


def _merge_notebook(dest, nb, assignment: str, student_id: str) -> None:
    # The target's grades and comments are read through its own relationships, once each, not
    # one query per cell (nbgrader's find_grade / find_comment): the merge is the coordinator's
    # largest share of a batch's CPU.
    target = dest.find_submission_notebook(nb.name, assignment, student_id)
    target.flagged = nb.flagged
    target.late_submission_penalty = nb.late_submission_penalty
    grades = {row.name: row for row in target.grades}
    for grade in nb.grades:
        row = grades[grade.name]
        row.auto_score = grade.auto_score
        row.manual_score = grade.manual_score
        row.extra_credit = grade.extra_credit
        row.needs_manual_grade = grade.needs_manual_grade
    comments = {row.name: row for row in target.comments}
    for comment in nb.comments:
        row = comments[comment.name]
        row.auto_comment = comment.auto_comment
        row.manual_comment = comment.manual_comment


def scores(url: str, assignment: str, students: list[str]) -> dict[str, tuple[float, float]]:
    """(score, max score) of each of ``students`` with a submission in the gradebook at ``url``,
    read in one query (nbgrader's ``submission_dicts``) whatever the size of the course."""
    wanted = set(students)
    with open_gradebook(url) as gb:
        rows = gb.submission_dicts(assignment)
    return {row["student"]: (float(row["score"]), float(row["max_score"])) for row in rows if row["student"] in wanted}
