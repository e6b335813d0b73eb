"""The instructor's solution as a student would hand it in: the release with every solution cell
filled from the source. The autograder's sanity check (it must score 100) and the material of
the grading tests and benchmark."""

from __future__ import annotations

import copy

from tinytorch_course.authoring.markers import BEGIN_SOLUTION, END_SOLUTION, is_marker


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata ({} for plain cells)."""
    return cell.metadata.get("nbgrader", {})


def without_solution_markers(source: str) -> str:
    """``source`` with the solution marker lines removed (what a perfect student writes)."""
    return "\n".join(line for line in source.split("\n") if not is_marker(line, BEGIN_SOLUTION, END_SOLUTION))


def reference_submission(release, source_nb):
    """A copy of ``release`` whose solution cells hold the solutions of ``source_nb``."""
    solutions = {
        nbgrader_meta(c).get("grade_id"): without_solution_markers(c.source)
        for c in source_nb.cells
        if nbgrader_meta(c).get("solution")
    }
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution"):
            if grade_id not in solutions:
                raise KeyError(f"solution cell {grade_id!r} of the release is not in the source")
            cell.source = solutions[grade_id]
    return nb
