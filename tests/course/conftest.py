"""Fixtures of the course-pipeline tests: one release built from the current source into a
temporary course root, shared by every test of the session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tinytorch_course.authoring.release import build_release
from tinytorch_course.paths import SOURCE_PY, source_notebook_path

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
def built_course(tmp_path_factory) -> BuiltCourse:
    root = tmp_path_factory.mktemp("course")
    out = build_release(SOURCE_PY, root, root / "capstone.ipynb")
    return BuiltCourse(root, out)
