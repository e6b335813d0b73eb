"""Helpers of the pipeline tests: reading regions out of notebooks, mutating submissions,
turning feedback HTML back into text, and waiting for a process to reach a state."""

from __future__ import annotations

import copy
import html
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from tinytorch_course.authoring.markers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    partition,
    regions,
)
from tinytorch_course.authoring.reference import nbgrader_meta, reference_submission  # noqa: F401

# The markers and the region parser are re-exported for the tests, which import them from here.
from tinytorch_course.paths import ASSIGNMENT_ID  # noqa: F401

#: Code that never ends, for a student's infinite loop: a per-cell timeout interrupts it and a
#: budget stops it as it would a spinning one, and it sleeps, so the graders and tests beside it
#: keep the cores (both are wall-clock limits; test_jail.py keeps one spinning attacker, its
#: interrupt-ignoring loop stopped at the budget).
LOOP_FOREVER = "import time\nwhile True:\n    time.sleep(0.05)\n"


def region_lines(nb, begin: str, end: str) -> set[str]:
    """Stripped lines with some letter or digit, from every region of every cell of ``nb``."""
    return {
        line.strip()
        for cell in nb.cells
        for region in regions(cell.source, begin, end)
        for line in region
        if any(ch.isalnum() for ch in line)
    }


def notebook_text(nb) -> str:
    """All cell sources of ``nb``, joined."""
    return "\n".join(cell.source for cell in nb.cells)


def outside_region_lines(nb) -> set[str]:
    """Stripped lines of ``nb`` that lie outside every solution and hidden-test region (markers
    excluded): the only region lines a student may legitimately be shown."""
    outside = set()
    for cell in nb.cells:  # a region never spans cells
        lines, _ = partition(cell.source, BEGIN_SOLUTION, END_SOLUTION)
        lines, _ = partition("\n".join(lines), BEGIN_HIDDEN, END_HIDDEN)
        outside.update(line.strip() for line in lines)
    return outside


def leaked_lines(region: set[str], allowed: set[str], text: str) -> list[str]:
    """The lines of ``region`` that ``text`` shows though they are not ``allowed`` lines: found
    as a line of ``text``, or anywhere inside it unless some allowed line contains it (a region
    line such as ``return True`` is also a fragment of visible lines, and that is no leak)."""
    shown = {line.strip() for line in text.split("\n")}
    allowed_text = "\n".join(allowed)
    return sorted(line for line in region - allowed if line in shown or (line not in allowed_text and line in text))


def json_strings(node: object) -> Iterator[str]:
    """Every string inside a parsed JSON value, keys included, in document order."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from json_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from json_strings(item)


def notebook_strings(path: Path) -> str:
    """Every string of a notebook file (sources, metadata, outputs), decoded from JSON and
    joined, so a leak is found wherever it hides and however JSON escapes it."""
    return "\n".join(json_strings(json.loads(Path(path).read_text(encoding="utf-8"))))


def cell_by_id(nb, grade_id: str):
    """The cell with nbgrader ``grade_id``; KeyError naming it when absent."""
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def mutate(nb, grade_id: str, replacements: list[tuple[str, str]], regex: bool = False):
    """A copy of ``nb`` with text replacements applied to one cell; each must match, so a change
    of the source that breaks a mutation fails loudly instead of grading the wrong thing."""
    nb = copy.deepcopy(nb)
    cell = cell_by_id(nb, grade_id)
    for old, new in replacements:
        if regex:
            updated, count = re.subn(old, new, cell.source)
        else:
            count = cell.source.count(old)
            updated = cell.source.replace(old, new)
        if count == 0:
            raise AssertionError(
                f"mutation {old!r} matches nothing in cell {grade_id!r}: "
                "update the archetype table to the current source"
            )
        cell.source = updated
    return nb


def write_submission(nb, path: Path) -> Path:
    """Write a submission notebook, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def html_text(path: Path) -> str:
    """The text of an HTML file with its tags removed and entities decoded (code rendered with
    syntax highlighting becomes contiguous again; script and style text is kept, to be strict)."""
    return html.unescape(re.sub(r"<[^>]+>", "", Path(path).read_text(encoding="utf-8")))


def gradebook_rows(root: Path, students: list[str]) -> dict:
    """Everything autograding stores per student: scores, review flags, comments, penalties."""
    rows = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in students:
            sub = gb.find_submission(ASSIGNMENT_ID, student)
            rows[student] = {
                "score": sub.score,
                "grades": {
                    g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                    for nb in sub.notebooks
                    for g in nb.grades
                },
                "comments": {c.name: c.auto_comment for nb in sub.notebooks for c in nb.comments},
                "late": [nb.late_submission_penalty for nb in sub.notebooks],
            }
    return rows


def wait_until(ready, what: str, timeout: float, poll: float = 0.2):
    """The first true value ``ready()`` returns, polled every ``poll`` seconds; an AssertionError
    naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")
