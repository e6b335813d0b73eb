"""The student edition in a fresh virtual environment made from its own requirements, with
nothing else installed: the solutions' package is absent, every student module imports, the
release runs top to bottom with every test failing on what is still to write, and the release
with the reference solutions filled in passes every visible test."""

from __future__ import annotations

import re

import nbformat
import pytest

from tinytorch_course.authoring.reference import nbgrader_meta, reference_submission
from tinytorch_course.authoring.release import RAISES_TAG, source_notebook
from tinytorch_course.paths import SOURCE_PY
from tinytorch_course.student.edition import stubbed_functions
from tinytorch_course.student.package import student_package_files

# Errors that say the notebook is broken, not what the student should write.
BROKEN = {"NameError", "ImportError", "ModuleNotFoundError", "SyntaxError", "IndentationError"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def execute(student, notebook, name: str) -> nbformat.NotebookNode:
    """Run ``notebook`` top to bottom in the student's venv with `jupyter nbconvert --execute`,
    as Run All does: a cell that raises stops the run unless it is tagged raises-exception."""
    path = student.notebook.with_name(f"{name}.ipynb")
    nbformat.write(notebook, str(path))
    proc = student.run(
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--inplace",
        "--ExecutePreprocessor.timeout=300",
        path.name,
        cwd=path.parent,
    )
    assert proc.returncode == 0, f"the run stopped before the end:\n{proc.stderr[-4000:]}"
    return nbformat.read(str(path), as_version=4)


def errors(cell) -> list:
    return [out for out in cell.get("outputs", []) if out.output_type == "error"]


def traceback_text(error) -> str:
    return ANSI.sub("", "\n".join(error.traceback))


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def blank_run(student, release):
    return execute(student, release, "blank")


@pytest.fixture(scope="module")
def reference_run(student, release):
    return execute(student, reference_submission(release, source_notebook(SOURCE_PY)), "reference")


def test_the_solutions_package_and_instructor_tools_are_absent(student):
    # Run outside the checkout, so what is found is what postBuild installed.
    for module in ("tinytorch.olympics", "nbgrader", "jupyter_book", "pytest"):
        proc = student.run("python", "-c", f"import {module}", cwd=student.home)
        assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr, f"{module} is importable"
    where = student.run("python", "-c", "import tinytorch; print(tinytorch.__file__)", cwd=student.home)
    assert where.returncode == 0 and where.stdout.startswith(str(student.venv)), (
        f"tinytorch must come from the venv's own install, not from the instructor's tree: {where}"
    )


def test_every_module_of_the_student_package_imports(student):
    modules = [
        ".".join(p.with_suffix("").parts).removesuffix(".__init__")
        for p in student_package_files()
        if p.suffix == ".py"
    ]
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    proc = student.run("python", "-c", code, *modules, cwd=student.home)
    assert proc.returncode == 0, f"a student module needs something the requirements lack:\n{proc.stderr}"


def test_blank_release_runs_to_the_end_and_every_test_says_what_to_write(blank_run, release):
    cells = code_cells(blank_run)
    assert all(cell.execution_count for cell in cells), "some cells never ran"
    assert cells[-1].outputs, "the closing summary printed nothing"
    parts = stubbed_functions(release)
    tests = [cell for cell in cells if nbgrader_meta(cell).get("grade")]
    assert len(tests) >= 5
    for cell in cells:
        grade_id = nbgrader_meta(cell).get("grade_id") or cell.source[:60]
        found = errors(cell)
        if cell in tests:
            assert found, f"test {grade_id} passes on the blank notebook"
            assert RAISES_TAG in cell.metadata.get("tags", []), f"test {grade_id} would stop Run All"
        elif found:
            assert RAISES_TAG in cell.metadata.get("tags", []), f"cell {grade_id} stops Run All: {found[0].ename}"
            continue
        else:
            continue
        error = found[0]
        text = traceback_text(error)
        assert error.ename not in BROKEN, (
            f"test {grade_id} fails with {error.ename}, not on the student's part:\n{text}"
        )
        if error.ename == "NotImplementedError":
            named = [part for part in parts if part.split(".")[-1] in text]
            assert named and "YOUR CODE HERE" in text, (
                f"test {grade_id}: the traceback should lead to the part to write ({parts}):\n{text}"
            )
        else:
            assert error.evalue.strip(), f"test {grade_id} fails with an empty {error.ename}:\n{text}"


def test_reference_solutions_pass_every_visible_test(reference_run):
    failed = {
        nbgrader_meta(cell).get("grade_id") or cell.source[:60]: traceback_text(found[0])[-1500:]
        for cell in code_cells(reference_run)
        if (found := errors(cell))
    }
    assert not failed, f"with the reference solutions these cells fail: {failed}"
    assert all(cell.execution_count for cell in code_cells(reference_run))
