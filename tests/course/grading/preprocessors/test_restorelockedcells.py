"""Students who delete, move or edit locked cells are graded on the real tests: every variant below
is handed in, graded by one stock `nbgrader autograde` run (this repo's nbgrader_config.py puts
RestoreLockedCells in nbgrader's sanitizing step) and must score exactly as
the table says, with every test cell back at its source position."""

from __future__ import annotations

import copy
import shutil
import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.preprocessors import OverwriteCells
from traitlets.config import Config

from tinytorch_course.grading.plugins.cellscoresexport import score_table
from tinytorch_course.grading.preprocessors.restorelockedcells import RestoreLockedCells, canonical_cells, grade_id
from tinytorch_course.paths import (
    ASSIGNMENT_ID,
    NOTEBOOK_ID,
    REPO,
    SOURCE_DIRECTORY,
    nbgrader_command,
    nbgrader_env,
    submission_path,
)

from pipeline_helpers import cell_by_id, mutate, nbgrader_meta, reference_submission, write_submission

FIRST_TEST, LAST_TEST = "test-simple-mlp", "test-validator-structure"
AFTER_FIXTURE = "test-report-metrics"  # follows a read-only cell: stock nbgrader's KeyError
ADJACENT = ("test-report-native-types", "test-report-accuracy")
FIXTURE = "report-fixtures"  # read-only cell the submission tests rely on


def _without(nb, *names: str):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") not in names]
    return nb


def _moved(nb, name: str, before: str):
    """``nb`` with cell ``name`` taken out and put back just above cell ``before``."""
    nb = copy.deepcopy(nb)
    cell = cell_by_id(nb, name)
    nb.cells.remove(cell)
    nb.cells.insert(nb.cells.index(cell_by_id(nb, before)), cell)
    return nb


def _edited(nb, name: str, source: str, **flags):
    nb = copy.deepcopy(nb)
    cell = cell_by_id(nb, name)
    cell.source = source
    cell.metadata.nbgrader.update(flags)
    return nb


def variants(release, source) -> dict:
    """Student id -> (submission, graded cells expected to score 0)."""
    ref = reference_submission(release, source)
    no_forward = mutate(ref, "simple-mlp", [("return self.fc2(self.relu(self.fc1(x)))", "raise NotImplementedError()")])
    graded = {nbgrader_meta(c)["grade_id"] for c in release.cells if nbgrader_meta(c).get("grade")}
    return {
        "deleted-after-fixture": (_without(ref, AFTER_FIXTURE), set()),
        "deleted-two-adjacent": (_without(ref, *ADJACENT), set()),
        "deleted-first-and-last": (_without(ref, FIRST_TEST, LAST_TEST), set()),
        "deleted-fixture": (_without(ref, FIXTURE), set()),
        "deleted-every-locked-cell": (
            _without(ref, *[nbgrader_meta(c)["grade_id"] for c in ref.cells if nbgrader_meta(c).get("locked")]),
            set(),
        ),
        # run before its solution, this test would fail; put back in place it passes
        "moved-above-its-solution": (_moved(ref, FIRST_TEST, "simple-mlp"), set()),
        "moved-to-the-end": (_moved(ref, ADJACENT[0], "run-all-tests"), set()),
        # a wrong forward pass hides its failing test: the test comes back and still fails
        "edited-failing-test": (_edited(no_forward, FIRST_TEST, "pass\n"), {FIRST_TEST}),
        # the same, with the cell unlocked and no longer a grade cell in the file
        "edited-test-and-flags": (
            _edited(no_forward, FIRST_TEST, "pass\n", grade=False, locked=False, solution=True),
            {FIRST_TEST},
        ),
        # the blank release with its tests deleted still has every test graded (0, not missing)
        "blank-deleted-tests": (_without(release, *graded), graded),
    }


def _graded_cells(release) -> dict[str, float]:
    return {
        nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
        for c in release.cells
        if nbgrader_meta(c).get("grade")
    }


@pytest.fixture(scope="module")
def graded(built_course, tmp_path_factory):
    """A course with the release's gradebook and every variant submitted, graded by one stock run."""
    root = tmp_path_factory.mktemp("restore")
    shutil.copytree(built_course.root / SOURCE_DIRECTORY, root / SOURCE_DIRECTORY)
    shutil.copy(built_course.root / "gradebook.db", root / "gradebook.db")
    subs = variants(built_course.release, built_course.source)
    for student, (nb, _) in subs.items():
        write_submission(nb, submission_path(root, student))
    proc = subprocess.run(
        nbgrader_command("autograde", ASSIGNMENT_ID, f"--CourseDirectory.root={root}"),
        cwd=REPO,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
    )
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        scores = {row["student_id"]: row for row in score_table(gb, ASSIGNMENT_ID)}
    return root, subs, scores, proc


def test_every_variant_is_graded_with_its_exact_score(graded, built_course):
    root, subs, scores, proc = graded
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    points = _graded_cells(built_course.release)
    assert set(scores) == set(subs)
    for student, (_, lost) in subs.items():
        expected = {cell: 0.0 if cell in lost else pts for cell, pts in points.items()}
        got = {cell: scores[student][cell] for cell in points}
        assert got == expected, f"{student}: (got, expected) differ"
        assert scores[student]["score"] == sum(expected.values()), student


def test_locked_cells_are_back_in_source_order(graded, built_course):
    root = graded[0]
    order = [nbgrader_meta(c)["grade_id"] for c in built_course.source.cells if nbgrader_meta(c).get("grade_id")]
    for student in graded[1]:
        nb = nbformat.read(str(root / "autograded" / student / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"), as_version=4)
        got = [name for name in map(grade_id, nb.cells) if name]
        assert got == order, student
        ids = [cell.id for cell in nb.cells]
        assert len(ids) == len(set(ids)), f"{student}: cell ids must stay unique"


def test_a_restored_test_cell_runs_the_gradebook_source(graded):
    root = graded[0]
    nb = nbformat.read(
        str(root / "autograded" / "edited-failing-test" / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"), as_version=4
    )
    cell = cell_by_id(nb, FIRST_TEST)
    assert "def test_" in cell.source and cell.source != "pass\n"
    assert any(o.output_type == "error" for o in cell.outputs), "the restored test must run and fail"


def test_students_own_cells_move_with_the_cell_they_followed():
    def named(name):
        return new_code_cell(metadata={"nbgrader": {"grade_id": name}})

    scratch_top, scratch_a, scratch_b = (new_markdown_cell(s) for s in ("top", "after a", "after b"))
    cells = [scratch_top, named("b"), scratch_b, named("a"), scratch_a, named("unknown")]
    restored = named("c")
    out = canonical_cells(cells, ["a", "b", "c", "d"], {"c": restored}.get)
    assert [cell.get("source") or grade_id(cell) for cell in out] == [
        "top",
        "a",
        "after a",
        "unknown",
        "b",
        "after b",
        "c",
    ]


def test_stock_overwrite_cells_fails_where_the_subclass_restores(built_course, tmp_path):
    """Why the subclass exists: on a submission missing the test cell that follows a read-only cell,
    nbgrader's own OverwriteCells raises KeyError; RestoreLockedCells, run the same way on the
    same gradebook, puts the cell back. (When nbgrader fixes its bug the first half fails, and the
    subclass can shrink.)"""
    shutil.copy(built_course.root / "gradebook.db", tmp_path / "gradebook.db")
    resources = {
        "nbgrader": {
            "notebook": NOTEBOOK_ID,
            "assignment": ASSIGNMENT_ID,
            "student": "s",
            "db_url": f"sqlite:///{tmp_path / 'gradebook.db'}",
        }
    }
    submission = _without(reference_submission(built_course.release, built_course.source), AFTER_FIXTURE)
    with pytest.raises(KeyError):
        OverwriteCells(add_missing_cells=True).preprocess(copy.deepcopy(submission), resources)
    config = Config()
    config.CourseDirectory.root = str(built_course.root)
    config.CourseDirectory.source_directory = SOURCE_DIRECTORY
    restored, _ = RestoreLockedCells(config=config, add_missing_cells=True).preprocess(
        copy.deepcopy(submission), resources
    )
    assert [name for name in map(grade_id, restored.cells) if name] == [
        name for name in map(grade_id, built_course.source.cells) if name
    ]
