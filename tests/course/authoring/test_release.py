"""The student release: rebuilt from the source, it matches the committed file, and it holds
stubs where the solutions were and nothing of the solutions or hidden tests."""

from __future__ import annotations

import copy
import re

import nbformat
from nbgrader.utils import compute_checksum
from nbgrader.validator import Validator

from tinytorch_course.paths import RELEASE_NOTEBOOK

from pipeline_helpers import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    leaked_lines,
    nbgrader_meta,
    notebook_strings,
    notebook_text,
    outside_region_lines,
    region_lines,
    regions,
)

STUB = "raise NotImplementedError()"


def _essence(nb) -> dict:
    """What a student sees and nbgrader checks: cell types, ids, sources, metadata."""
    return {
        "metadata": dict(nb.metadata),
        "cells": [
            {"cell_type": c.cell_type, "id": c.get("id"), "source": c.source, "metadata": dict(c.metadata)}
            for c in nb.cells
        ],
    }


def test_committed_release_is_not_stale(built_course):
    committed = nbformat.read(str(RELEASE_NOTEBOOK), as_version=4)
    rebuilt = built_course.release
    assert _essence(committed) == _essence(rebuilt), f"{RELEASE_NOTEBOOK} is stale: run `make release` and commit it"
    assert RELEASE_NOTEBOOK.read_text() == built_course.release_path.read_text(), (
        "the release differs from a rebuild in layout only: run `make release`"
    )


def test_stubs_exactly_where_the_solutions_were(built_course):
    source, release = built_course.source, built_course.release
    assert [nbgrader_meta(c).get("grade_id") for c in source.cells] == [
        nbgrader_meta(c).get("grade_id") for c in release.cells
    ], "release cells differ from the source's"
    total = 0
    for src, rel in zip(source.cells, release.cells, strict=False):
        expected = len(regions(src.source, BEGIN_SOLUTION, END_SOLUTION))
        raised = len(re.findall(r"^\s*raise NotImplementedError\(\)\s*$", rel.source, flags=re.M))
        where = nbgrader_meta(rel).get("grade_id") or rel.source[:40]
        assert raised == expected, f"cell {where!r}: {raised} stub(s), {expected} solution region(s)"
        if expected:
            assert nbgrader_meta(rel).get("solution") and not nbgrader_meta(rel).get("locked"), (
                f"stub cell {where!r} must be an editable solution cell"
            )
        total += expected
    assert total >= 3, "the module should ask the student for at least three implementations"


def test_no_solution_or_hidden_test_line_in_release(built_course):
    """A region line may be in the release only when the source also has it outside every
    region (a shared assert, a blank-ish ``return``); every other region line must be absent,
    from sources, metadata and outputs alike."""
    source = built_course.source
    text = notebook_strings(built_course.release_path)
    for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
        assert marker not in text, f"marker {marker!r} left in the release"
    hidden = region_lines(source, BEGIN_HIDDEN, END_HIDDEN)
    solutions = region_lines(source, BEGIN_SOLUTION, END_SOLUTION)
    assert hidden and solutions, "the source should have hidden tests and solutions"
    leaks = leaked_lines(hidden | solutions, outside_region_lines(source), text)
    assert not leaks, f"the release shows region lines: {leaks}"


def test_release_is_clean_and_test_cells_are_locked(built_course):
    release = built_course.release
    assert set(release.metadata) <= {"kernelspec", "language_info"}, (
        f"unexpected notebook metadata (jupytext?): {sorted(release.metadata)}"
    )
    assert "#| export" not in notebook_text(release), "export tags are build details, not for students"
    points = 0.0
    for cell in release.cells:
        meta = nbgrader_meta(cell)
        assert set(cell.metadata) <= {"nbgrader", "deletable", "editable", "tags"}, cell.metadata
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "the release must have no outputs"
        if meta.get("grade"):
            points += float(meta["points"])
            assert (
                meta.get("locked")
                and cell.metadata.get("editable") is False
                and cell.metadata.get("deletable") is False
            ), f"test cell {meta['grade_id']} is not locked"
        if meta:
            assert meta.get("checksum") == compute_checksum(cell), f"bad checksum on {meta['grade_id']}"
    assert points == 100.0, f"graded cells should total 100 points, got {points}"


def test_source_notebook_passes_all_its_tests(built_course, tmp_path):
    """nbgrader's Validator executes the instructor notebook (solutions and hidden tests); every
    graded cell passes and no cell raises."""
    path = tmp_path / "capstone.ipynb"
    nbformat.write(built_course.source, str(path))
    results = Validator(validate_all=True, ignore_checksums=True).validate(str(path))
    failed = [r.get("raw_error", "")[-600:] for r in results.get("failed", [])]
    assert not results.get("type_changed"), results
    assert not failed, "the source notebook fails:\n" + "\n---\n".join(failed)


def test_source_notebook_passes_without_the_optional_optimizations(built_course, tmp_path):
    """With tinytorch.perf's quantization and compression missing (an optional earlier module
    not done), every graded cell of the instructor notebook still passes: only the optimized
    variants are skipped, as the chapter's module info says."""
    source = copy.deepcopy(built_course.source)
    hide = nbformat.v4.new_code_cell(
        "import sys\n"
        "sys.modules['tinytorch.perf.quantization'] = None  # makes the import fail\n"
        "sys.modules['tinytorch.perf.compression'] = None"
    )
    source.cells.insert(0, hide)
    path = tmp_path / "capstone.ipynb"
    nbformat.write(source, str(path))
    results = Validator(validate_all=True, ignore_checksums=True).validate(str(path))
    failed = [r.get("raw_error", "")[-600:] for r in results.get("failed", [])]
    assert not failed, "without the optimizations the source notebook fails:\n" + "\n---\n".join(failed)
