"""The canonical notebook (tinytorch_course/grading/canonical.py): the assignment's cells, types,
ids, metadata and tags, with only the text of the student's answer cells and added code cells;
checked on a small assignment, then on the capstone's own release and source."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tinytorch_course.grading.canonical import canonical_notebook, unreadable_reason
from tinytorch_course.grading.handed_in import Unreadable, parse_handed_in

from pipeline_helpers import BEGIN_SOLUTION, END_SOLUTION, reference_submission, region_lines

STUB = "def answer():\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def _cell(kind, source, cell_id, **nbgrader):
    cell = (new_code_cell if kind == "code" else new_markdown_cell)(source, id=cell_id)
    if nbgrader:
        cell.metadata["nbgrader"] = {"grade_id": cell_id, "schema_version": 3, **nbgrader}
    return cell


@pytest.fixture
def assignment():
    """A small nbgrader source notebook: prose, a locked cell, an answer, its test, a demo cell."""
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})
    test = _cell("code", "assert answer() == 42", "test-answer", grade=True, locked=True, points=5, solution=False)
    test.metadata["tags"] = ["raises-exception"]
    nb.cells = [
        _cell("markdown", "# Intro", "cell-000"),
        _cell("code", "import math", "imports", grade=False, locked=True, solution=False),
        _cell(
            "code",
            f"def answer():\n    {BEGIN_SOLUTION}\n    return 42\n    {END_SOLUTION}",
            "answer",
            grade=False,
            locked=False,
            solution=True,
        ),
        test,
        _cell("code", "print('demo')", "cell-004"),
    ]
    return nb


def _release(assignment):
    """What the student was given: the answer cell holds its stub."""
    nb = copy.deepcopy(assignment)
    nb.cells[2].source = STUB
    return nb


def _canonical(assignment, student_nb, version=4):
    return canonical_notebook(assignment, parse_handed_in(nbformat.writes(student_nb, version=version).encode()))


def _expected(assignment, answer_text):
    expected = copy.deepcopy(assignment)
    expected.cells[2].source = answer_text
    return expected


def test_only_the_answer_text_is_taken_from_the_student(assignment):
    student = _release(assignment)
    student.metadata = {"kernelspec": {"name": "evil", "language": "python", "display_name": "x"}, "widgets": {"a": 1}}
    answer, test = student.cells[2], student.cells[3]
    answer.cell_type = "markdown"  # an answer saved as markdown, with attachments and odd metadata
    answer.pop("outputs"), answer.pop("execution_count")
    answer.attachments = {"a.png": {"image/png": "AAAA"}}
    answer.source = "def answer():\n    return 42"
    answer.metadata["nbgrader"].update(grade=True, points=100)
    answer.metadata["jupyter"] = {"source_hidden": True}
    test.metadata["tags"] = ["skip-execution"]
    test.metadata["nbgrader"]["points"] = 0
    test.source = "pass"
    test.outputs = [nbformat.v4.new_output("stream", text="ok")]
    student.cells[0].source = "# edited prose"
    student.cells[4].source = "print('my demo')"
    assert _canonical(assignment, student) == _expected(assignment, "def answer():\n    return 42")


def test_added_code_cells_stay_in_place_without_metadata(assignment):
    student = _release(assignment)
    forged = new_code_cell("x = 2", id="mine")
    forged.metadata = {"nbgrader": {"grade_id": "bonus", "grade": True, "points": 100}, "tags": ["skip-execution"]}
    student.cells.insert(0, new_code_cell("first = 1", id="first"))
    student.cells.insert(4, forged)
    student.cells.insert(5, new_markdown_cell("my notes"))
    student.cells.append(new_code_cell("print('demo')"))  # a copy of a given cell is not added
    got = _canonical(assignment, student)
    assert [c.id for c in got.cells] == [
        "added-1",
        "cell-000",
        "imports",
        "answer",
        "added-2",
        "test-answer",
        "cell-004",
    ]
    assert got.cells[0].source == "first = 1" and got.cells[4].source == "x = 2"
    assert got.cells[4].metadata == {} and got.cells[4].outputs == []


def test_a_deleted_answer_or_one_without_string_text_is_the_stub(assignment):
    student = _release(assignment)
    del student.cells[2]
    assert _canonical(assignment, student) == _expected(assignment, STUB)
    odd = json.loads(nbformat.writes(_release(assignment)))
    odd["cells"][2]["source"] = 12
    assert canonical_notebook(assignment, parse_handed_in(json.dumps(odd).encode())) == _expected(assignment, STUB)


def test_answers_are_matched_by_grade_id_then_by_cell_id(assignment):
    student = _release(assignment)
    moved = student.cells.pop(2)
    moved.source = "def answer():\n    return 41 + 1"
    student.cells.append(moved)  # moved to the end: still the answer, placed where it belongs
    assert _canonical(assignment, student) == _expected(assignment, "def answer():\n    return 41 + 1")
    bare = _release(assignment)
    bare.cells[2].metadata = {}  # nbgrader metadata gone, the cell id kept
    bare.cells[2].source = "def answer():\n    return 42"
    assert _canonical(assignment, bare) == _expected(assignment, "def answer():\n    return 42")


def test_a_second_cell_with_an_answers_grade_id_is_an_added_cell(assignment):
    student = _release(assignment)
    twin = copy.deepcopy(student.cells[2])
    twin.id, twin.source = "twin", "def answer():\n    return 42"
    student.cells.insert(3, twin)
    got = _canonical(assignment, student)
    assert got.cells[2].source == STUB
    assert (got.cells[3].id, got.cells[3].source, got.cells[3].metadata) == ("added-1", twin.source, {})


def test_nbformat_3_keeps_its_answers(assignment):
    student = _release(assignment)
    student.cells[2].source = "def answer():\n    return 42"
    got = _canonical(assignment, student, version=3)
    assert got == _expected(assignment, "def answer():\n    return 42"), "no id in v3: the demo cell is not added"


def test_an_unreadable_hand_in_is_the_assignment_with_stubs_and_its_reason(assignment):
    got = canonical_notebook(assignment, Unreadable("not JSON: Expecting value at line 1 column 1"))
    assert unreadable_reason(got) == "not JSON: Expecting value at line 1 column 1"
    del got.metadata["tinytorch"]
    assert got == _expected(assignment, STUB)
    assert unreadable_reason(_expected(assignment, STUB)) is None


def test_building_twice_changes_nothing(assignment):
    student = _release(assignment)
    student.cells[2].source = "def answer():\n    return 42"
    student.cells.insert(4, new_code_cell("y = 3"))
    once = _canonical(assignment, student)
    assert _canonical(assignment, once) == once


def test_the_capstone_blank_and_reference_hand_ins(built_course):
    """The real release: the blank is the release's text (no solution line anywhere) with the
    source's cells; the reference solutions survive as they were written."""
    source, release = built_course.source, built_course.release
    blank = _canonical(source, release)
    assert [c.source for c in blank.cells] == [c.source for c in _with_hidden_tests(release, source).cells]
    assert [c.metadata for c in blank.cells] == [c.metadata for c in source.cells]
    solutions = region_lines(source, BEGIN_SOLUTION, END_SOLUTION)
    text = "\n".join(c.source for c in blank.cells)
    assert solutions and not [line for line in solutions if line in text.splitlines()]
    perfect = reference_submission(release, source)
    got = _canonical(source, perfect)
    assert [c.source for c in got.cells] == [c.source for c in _with_hidden_tests(perfect, source).cells]


def _with_hidden_tests(nb, source):
    """``nb`` with the source's text in every cell that is not an answer (hidden tests back)."""
    nb = copy.deepcopy(nb)
    for cell, given in zip(nb.cells, source.cells, strict=True):
        if not given.metadata.get("nbgrader", {}).get("solution"):
            cell.source = given.source
    return nb
