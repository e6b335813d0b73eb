"""Gradebook rows moved between gradebooks with nbgrader's own API, so every grading task can
work on a private SQLite file and the course gradebook has exactly one writer."""
from __future__ import annotations

import os
import sqlite3
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools.course import nbgrader_env


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


def student_records(url: str, assignment: str, students: list[str]) -> dict[str, StudentRecord]:
    """The records of those ``students`` the gradebook at ``url`` already knows."""
    from nbgrader.api import MissingEntry

    records = {}
    with open_gradebook(url) as gb:
        for student_id in students:
            try:
                who = gb.find_student(student_id)
            except MissingEntry:
                continue
            try:
                extension = gb.find_submission(assignment, student_id).extension
            except MissingEntry:
                extension = None
            records[student_id] = StudentRecord(student_id, who.first_name, who.last_name,
                                                who.email, who.lms_user_id, extension)
    return records


def seed(url: str, assignment: str, records: list[StudentRecord]) -> None:
    """Put ``records`` into the gradebook at ``url``, so stock autograde there finds the same
    roster entries and extensions as in the course gradebook."""
    with open_gradebook(url) as gb:
        for rec in records:
            gb.update_or_create_student(rec.student_id, first_name=rec.first_name,
                                        last_name=rec.last_name, email=rec.email,
                                        lms_user_id=rec.lms_user_id)
            if rec.extension is not None:
                gb.update_or_create_submission(assignment, rec.student_id, extension=rec.extension)
        gb.db.commit()


def without_students(url: str) -> None:
    """Remove every student (and with them every submission) from the gradebook at ``url``: what
    is left is the assignment as `make release` recorded it, the template of a task's gradebook."""
    with open_gradebook(url) as gb:
        for student in list(gb.students):
            gb.remove_student(student.id)


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
            dest.update_or_create_student(student_id, first_name=who.first_name,
                                          last_name=who.last_name, email=who.email,
                                          lms_user_id=who.lms_user_id)
            dest.update_or_create_submission(assignment, student_id, timestamp=sub.timestamp,
                                             extension=sub.extension)
            for nb in sub.notebooks:
                _merge_notebook(dest, nb, assignment, student_id)
            dest.db.commit()


def _merge_notebook(dest, nb, assignment: str, student_id: str) -> None:
    target = dest.find_submission_notebook(nb.name, assignment, student_id)
    target.flagged = nb.flagged
    target.late_submission_penalty = nb.late_submission_penalty
    for grade in nb.grades:
        row = dest.find_grade(grade.name, nb.name, assignment, student_id)
        row.auto_score = grade.auto_score
        row.manual_score = grade.manual_score
        row.extra_credit = grade.extra_credit
        row.needs_manual_grade = grade.needs_manual_grade
    for comment in nb.comments:
        row = dest.find_comment(comment.name, nb.name, assignment, student_id)
        row.auto_comment = comment.auto_comment
        row.manual_comment = comment.manual_comment


def scores(url: str, assignment: str, students: list[str]) -> dict[str, tuple[float, float]]:
    """(score, max score) of each of ``students`` with a submission in the gradebook at ``url``."""
    from nbgrader.api import MissingEntry

    out = {}
    with open_gradebook(url) as gb:
        for student_id in students:
            try:
                sub = gb.find_submission(assignment, student_id)
            except MissingEntry:
                continue
            out[student_id] = (float(sub.score), float(sub.max_score))
    return out
