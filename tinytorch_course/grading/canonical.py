"""The notebook that is graded: the assignment's notebook with the student's answers in it.

:func:`canonical_notebook` is the one place a hand-in becomes a notebook. It starts from the
assignment as the gradebook holds it (the nbgrader source notebook ``generate_assignment`` made
the release from) and takes from the student only text:

- every cell's type, order, id, metadata and tags, and the notebook's metadata, are the
  assignment's; so are the sources of every cell that is not an answer cell (the locked cells
  are restored from the gradebook afterwards anyway, hidden tests included);
- an answer cell (an nbgrader solution cell) gets the text of the student's cell with its
  ``grade_id``, whatever type or other metadata the student's copy has (a student cell without
  nbgrader metadata but with the answer cell's ``id`` counts too); the first such cell wins;
- a code cell the student added (one that is not a copy of an assignment cell) keeps its text,
  with no metadata, outputs or id of its own, right after the assignment cell it followed in
  the hand-in (before the first one when it came first);
- an answer cell the student deleted, or whose text is not a string (or list of strings), gets
  the assignment's stub, as in the release: that answer scores what a blank one does, and
  nothing else changes; an added cell without string text is left out;
- a hand-in that cannot be read at all (:class:`~tinytorch_course.grading.handed_in.Unreadable`)
  gives the assignment with every answer a stub and its reason under
  ``metadata.tinytorch.unreadable``: after it runs (no line of the student's is in it), every
  code cell is failed with that reason (``FailUnreadable``), so it scores 0 and the report and
  the feedback say why.

Everything else of the hand-in (tags, cell types, nbgrader metadata, kernel spec, nbformat
version, attachments, widget state, outputs, student markdown cells) is never read: see
:mod:`tinytorch_course.grading.handed_in`, which reads only what this module takes.
"""

from __future__ import annotations

import copy

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import ClearSolutions

from tinytorch_course.grading.handed_in import HandedIn, StudentCell, Unreadable

#: Notebook metadata key under which the grader records its own facts about a canonical notebook.
GRADER_KEY = "tinytorch"
UNREADABLE = "unreadable"


def canonical_notebook(assignment: NotebookNode, handed_in: HandedIn) -> NotebookNode:
    """The notebook graded for ``handed_in`` (its cells, or why it is unreadable), built from
    ``assignment``, the nbgrader source notebook (see the module docstring for every rule)."""
    nb = copy.deepcopy(assignment)
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    for cell in nb.cells:
        cell.pop("attachments", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    answers = {index for index, cell in enumerate(nb.cells) if _nbgrader(cell).get("solution")}
    texts: dict[int, str] = {}
    added: dict[int, list[str]] = {}
    if isinstance(handed_in, Unreadable):
        nb.metadata[GRADER_KEY] = {UNREADABLE: handed_in.reason}
    else:
        texts, added = _match(nb.cells, handed_in)
    for index in answers:
        if index in texts:
            nb.cells[index].source = texts[index]
        else:
            _stub(nb.cells[index], language, index)
    nb.cells = _with_added(nb.cells, added)
    return nb


def unreadable_reason(nb: NotebookNode) -> str | None:
    """The reason recorded in a canonical notebook whose hand-in could not be read, else None."""
    return (nb.get("metadata", {}).get(GRADER_KEY) or {}).get(UNREADABLE)


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _match(cells: list[NotebookNode], handed_in: list[StudentCell]) -> tuple[dict[int, str], dict[int, list[str]]]:
    """The student's text for each answer cell (by index), and the student's added code cells
    (their texts) by the index of the assignment cell they follow (-1: before the first)."""
    by_grade_id = {_nbgrader(cell)["grade_id"]: i for i, cell in enumerate(cells) if _nbgrader(cell).get("grade_id")}
    by_id = {cell.get("id"): i for i, cell in enumerate(cells) if cell.get("id")}
    # what the student was given as code (answer cells hold solutions here, never given)
    given_code = {
        _normalized(cell.source) for cell in cells if cell.cell_type == "code" and not _nbgrader(cell).get("solution")
    }
    texts: dict[int, str] = {}
    added: dict[int, list[str]] = {}
    seen: set[int] = set()
    anchor = -1
    for student in handed_in:
        index = by_grade_id.get(student.grade_id) if student.grade_id else None
        if index is None and student.grade_id is None:
            index = by_id.get(student.cell_id)
        if index is not None and index not in seen:
            seen.add(index)
            anchor = index
            if _nbgrader(cells[index]).get("solution") and student.text is not None:
                texts[index] = student.text
            continue
        if student.cell_type == "code" and student.text is not None and _normalized(student.text) not in given_code:
            added.setdefault(anchor, []).append(student.text)
    return texts, added


def _with_added(cells: list[NotebookNode], added: dict[int, list[str]]) -> list[NotebookNode]:
    """``cells`` with each added text as a new code cell after the cell it followed."""
    taken = {cell.get("id") for cell in cells}
    out: list[NotebookNode] = []
    count = 0

    def place(texts: list[str]) -> None:
        nonlocal count
        for text in texts:
            count += 1
            cell_id = f"added-{count}"
            while cell_id in taken:
                cell_id += "-"
            taken.add(cell_id)
            out.append(nbformat.v4.new_code_cell(source=text, id=cell_id))

    place(added.get(-1, []))
    for index, cell in enumerate(cells):
        out.append(cell)
        place(added.get(index, []))
    return out


def _stub(cell: NotebookNode, language: str, index: int) -> None:
    """Replace an answer cell's solution by the release's stub (nbgrader's own ClearSolutions)."""
    ClearSolutions().preprocess_cell(cell, {"language": language}, index)


def _normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())
