"""Fixtures of the course-pipeline tests: one release built from the current source into a
temporary course root, shared by every test of the run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tinytorch_course.authoring.release import build_release
from tinytorch_course.paths import SOURCE_PY, source_notebook_path
from tinytorch_course.student.venv import locked

REPO = Path(__file__).resolve().parents[2]


@dataclass
class BuiltCourse:
    """A course root with a fresh release (and its gradebook) built from the current source."""

    root: Path
    release_path: Path

    @property
    def release(self):
        return nbformat.read(str(self.release_path), as_version=4)

    @property
    def source(self):
        """The nbgrader source notebook: solutions, hidden tests, no jupytext metadata."""
        return nbformat.read(str(source_notebook_path(self.root)), as_version=4)


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory) -> Path:
    """The run's temporary folder, which every test process of the run shares (under
    pytest-xdist each process has a base folder of its own inside it): what is built once per
    run goes there, under a lock."""
    shared = tmp_path_factory.getbasetemp()
    return shared.parent if os.environ.get("PYTEST_XDIST_WORKER") else shared


@pytest.fixture(scope="session")
def built_course(run_folder: Path) -> BuiltCourse:
    """Built once per run: under pytest-xdist the first test process to need it builds it in the
    run's temporary folder, which every process of the run shares, and the others wait for it
    and read it (no test writes into it: they grade copies)."""
    shared = run_folder
    root, out = shared / "course", shared / "course" / "capstone.ipynb"
    with locked(shared / "course.lock"):
        if not out.is_file():  # written last: a build that failed half-way is started over
            build_release(SOURCE_PY, root, out)
    return BuiltCourse(root, out)
