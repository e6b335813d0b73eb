"""What the student reads names what the student writes: every sentence of the release that tells
the student to write a part, or speaks of "your" part, names a function the release leaves for
the student (one holding the stub), or the class that holds one."""

from __future__ import annotations

import ast
import re

from tinytorch_course.authoring.reference import nbgrader_meta
from tinytorch_course.student.edition import stubbed_functions

# "Write `measure_model`", "your `SimpleMLP`", "Once your `measure_model` works"
PROSE = re.compile(r"\b(?:[Ww]rite|[Ii]mplement|your)\s+`([A-Za-z_][\w.]*)`")
# a demonstration cell's printed advice: "Write measure_model above ...", "Implement X first"
ADVICE = re.compile(r"\b(?:Write|Implement)\s+([A-Za-z_][\w.]*)\s+(?:above|first)\b")


def _named_parts(release) -> list[tuple[str, str]]:
    """(name, where) for every part the release's prose or printed advice names."""
    found = []
    for index, cell in enumerate(release.cells):
        where = nbgrader_meta(cell).get("grade_id") or f"cell {index}"
        if cell.cell_type == "markdown":
            found += [(name, where) for name in PROSE.findall(cell.source)]
        elif cell.cell_type == "code" and not nbgrader_meta(cell).get("solution"):
            strings = [
                node.value
                for node in ast.walk(ast.parse(cell.source))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            ]
            found += [(name, where) for text in strings for name in ADVICE.findall(text)]
    return found


def _is_students(name: str, parts: list[str]) -> bool:
    return any(name in (part, part.split(".")[-1], part.split(".")[0]) for part in parts)


def test_the_prose_names_only_parts_the_student_writes(built_course):
    release = built_course.release
    parts = stubbed_functions(release)
    named = _named_parts(release)
    assert {"measure_model", "generate_submission", "submission_errors", "forward"} <= {n for n, _ in named}, named
    wrong = [(name, where) for name, where in named if not _is_students(name, parts)]
    assert not wrong, f"the notebook names parts the student does not write (the student writes {parts}): {wrong}"


def test_the_check_catches_a_given_method_named_as_the_students(built_course):
    """The sentence this test was written for: "Once your `benchmark_model` works" (a given
    method) is caught."""
    release = built_course.release
    release.cells[0].source += "\n\nOnce your `benchmark_model` works, it prints a comparison."
    parts = stubbed_functions(release)
    assert [n for n, _ in _named_parts(release) if not _is_students(n, parts)] == ["benchmark_model"]
