"""Which kernel runs which cell (`TwoKernelExecute`'s roles), read from the real gradebook of a
course built from the current source: the assignment's locked cells run in the test kernel (its
graded ones only there), and nothing a student wrote does, whatever metadata it carries."""

from __future__ import annotations

import copy

import pytest
from nbformat.v4 import new_code_cell

from tinytorch_course.authoring.reference import nbgrader_meta
from tinytorch_course.grading.preprocessors.twokernelexecute import GIVEN, STUDENT, TEST, locked_cells, roles
from tinytorch_course.paths import ASSIGNMENT_ID, NOTEBOOK_ID


@pytest.fixture(scope="module")
def known(built_course):
    resources = {
        "nbgrader": {
            "db_url": f"sqlite:///{built_course.root / 'gradebook.db'}",
            "notebook": NOTEBOOK_ID,
            "assignment": ASSIGNMENT_ID,
        }
    }
    return locked_cells(resources)


def _restored(built_course):
    """A notebook with every locked cell as the gradebook holds it (hidden tests included), as
    nbgrader's sanitizing leaves a submission: the source notebook itself."""
    return copy.deepcopy(built_course.source)


def test_locked_cells_run_in_the_test_kernel_and_answers_in_the_student_kernel(built_course, known):
    nb = _restored(built_course)
    got = dict(zip([nbgrader_meta(c).get("grade_id") for c in nb.cells], roles(nb, known), strict=True))
    source = built_course.source
    for cell in source.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code":
            continue
        expected = STUDENT
        if meta.get("locked") and not meta.get("solution"):
            expected = TEST if meta.get("grade") else GIVEN
        assert got[meta.get("grade_id")] == expected, meta.get("grade_id")
    assert got["test-simple-mlp"] == TEST and got["known-cost-models"] == GIVEN and got["simple-mlp"] == STUDENT


def test_metadata_a_student_wrote_runs_nothing_in_the_test_kernel(built_course, known):
    nb = _restored(built_course)
    digits = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "digits")
    claims = [
        {"grade": False, "grade_id": "my-given", "locked": True, "solution": False},
        {"grade": True, "grade_id": "my-test", "locked": True, "points": 5, "solution": False},
        dict(nbgrader_meta(digits)),  # a second cell under a given cell's grade id, other code
    ]
    forged = []
    for claim in claims:
        cell = new_code_cell("get_ipython().input_transformers_post.append(lambda lines: ['pass'])")
        cell.metadata["nbgrader"] = claim
        forged.append(cell)
    copied = copy.deepcopy(digits)  # the same grade id and source twice: one runs in the test kernel
    nb.cells[1:1] = [*forged, copied]
    kinds = roles(nb, known)
    assert kinds[1:4] == [STUDENT] * 3
    assert kinds.count(GIVEN) == roles(_restored(built_course), known).count(GIVEN)
    edited = _restored(built_course)
    cell = next(c for c in edited.cells if nbgrader_meta(c).get("grade_id") == "known-cost-models")
    cell.source += "\nspin = lambda ms: None"
    assert roles(edited, known)[edited.cells.index(cell)] == STUDENT, "an edited locked cell is not the assignment's"
