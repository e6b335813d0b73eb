"""The raises-exception tag lets Run All go on past a failing test, and changes nothing in
grading: stock `nbgrader autograde` still gives a tagged test cell that raises 0 points, and the
reference solutions still get every point."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from tinytorch_course.authoring.reference import nbgrader_meta, reference_submission
from tinytorch_course.authoring.release import RAISES_TAG
from tinytorch_course.grading.coordinator import autograded_folder, run_sequential
from tinytorch_course.paths import ASSIGNMENT_ID, NOTEBOOK_ID, source_notebook_path, submission_path


@pytest.fixture(scope="module")
def graded(built_course, tmp_path_factory):
    """A copy of the session's course (release and gradebook built from the current source)
    with a blank and a reference submission, graded in one stock nbgrader run."""
    root = tmp_path_factory.mktemp("tagged-course")
    for shared in (source_notebook_path(built_course.root), built_course.root / "gradebook.db"):
        target = root / shared.relative_to(built_course.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared, target)
    release, source = built_course.release, built_course.source
    for student, nb in (("blank", release), ("reference", reference_submission(release, source))):
        path = submission_path(root, student)
        path.parent.mkdir(parents=True)
        nbformat.write(nb, str(path))
    failed = run_sequential(root, ["blank", "reference"], [])
    assert not failed, f"nbgrader could not grade {failed}"
    return root, release


def _scores(root, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(NOTEBOOK_ID, ASSIGNMENT_ID, student)
        return {grade.name: grade.score for grade in submission.grades}


def test_every_graded_test_cell_is_tagged(graded):
    _, release = graded
    tests = [c for c in release.cells if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]
    assert tests and all(RAISES_TAG in c.metadata.get("tags", []) for c in tests)


def test_a_tagged_test_that_raises_scores_zero(graded):
    root, release = graded
    scores = _scores(root, "blank")
    assert scores and all(score == 0 for score in scores.values()), scores
    autograded = nbformat.read(str(autograded_folder(root, "blank") / f"{NOTEBOOK_ID}.ipynb"), as_version=4)
    for cell in autograded.cells:
        if nbgrader_meta(cell).get("grade") and not nbgrader_meta(cell).get("solution"):
            assert RAISES_TAG in cell.metadata.get("tags", []), "graded with the tag on"
            assert any(out.output_type == "error" for out in cell.outputs), nbgrader_meta(cell)["grade_id"]


def test_the_reference_still_gets_every_point(graded):
    root, release = graded
    points = {
        nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
        for c in release.cells
        if nbgrader_meta(c).get("grade")
    }
    assert _scores(root, "reference") == points
