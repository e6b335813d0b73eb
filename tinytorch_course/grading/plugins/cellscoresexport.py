"""Scores out of the gradebook: one row per student and assignment, with the score of every
graded cell next to the total, so an instructor sees which mistakes are common.

``CellScoresExportPlugin`` plugs into stock ``nbgrader export``:

    nbgrader export --to=build/grades.csv \
        --exporter=tinytorch_course.grading.plugins.cellscoresexport.CellScoresExportPlugin

(``make grades`` runs exactly this). ``score_table`` is the same data as Python rows, used by the
parallel-autograding check.
"""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

FIXED_COLUMNS = ["assignment", "student_id", "timestamp", "raw_score", "late_submission_penalty", "score", "max_score"]


def _grade_ids(gradebook: Gradebook, assignment: str) -> list[str]:
    """Graded cell ids of ``assignment`` in notebook order."""
    found = gradebook.find_assignment(assignment)
    return [cell.name for nb in found.notebooks for cell in nb.grade_cells]


def score_table(gradebook: Gradebook, assignment: str, students: list[str] | None = None) -> list[dict]:
    """One dict per student of the gradebook (or of ``students``): totals and per-cell scores.
    A student without a submission gets zeros, as nbgrader's own export gives."""
    grade_ids = _grade_ids(gradebook, assignment)
    rows = []
    for student in sorted(gradebook.students, key=lambda s: s.id):
        if students and student.id not in students:
            continue
        row = {
            "assignment": assignment,
            "student_id": student.id,
            "max_score": gradebook.find_assignment(assignment).max_score,
        }
        try:
            sub = gradebook.find_submission(assignment, student.id)
        except MissingEntry:
            row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            row.update({gid: 0.0 for gid in grade_ids})
        else:
            penalty = sub.late_submission_penalty or 0.0
            row.update(
                timestamp=sub.timestamp or "",
                raw_score=sub.score,
                late_submission_penalty=penalty,
                score=max(0.0, sub.score - penalty),
            )
            scores = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
            row.update({gid: scores.get(gid, 0.0) for gid in grade_ids})
        rows.append(row)
    return rows


def write_csv(rows: list[dict], dest: Path, grade_ids: list[str]) -> Path:
    """Write ``rows`` to ``dest`` with the fixed columns first, then one column per graded cell."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIXED_COLUMNS + grade_ids)
        writer.writeheader()
        writer.writerows(rows)
    return dest


class CellScoresExportPlugin(ExportPlugin):
    """``nbgrader export`` plugin writing totals and per-graded-cell scores to a CSV file."""

    def export(self, gradebook: Gradebook) -> None:
        """Export every assignment (or ``--assignment``) of ``gradebook`` to ``--to``."""
        dest = Path(self.to or "grades.csv")
        assignments = [a.name for a in gradebook.assignments if not self.assignment or a.name in self.assignment]
        rows: list[dict] = []
        columns: list[str] = []
        for name in assignments:
            columns += [g for g in _grade_ids(gradebook, name) if g not in columns]
            rows += score_table(gradebook, name, [str(s) for s in self.student] or None)
        self.log.info("Exporting grades of %d student(s) to %s", len(rows), dest)
        write_csv(rows, dest, columns)
