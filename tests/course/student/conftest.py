"""Fixtures of the student-edition tests: one edition built from the current tree, and one
student checkout of it installed into a fresh virtual environment made from the edition's own
requirements (cached under build/student-venv/ per requirements, see tinytorch_course/student/venv.py)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tinytorch_course.paths import RELEASE_NOTEBOOK, REPO
from tinytorch_course.student.edition import build
from tinytorch_course.student.venv import install_edition, venv_env

NOTEBOOK = RELEASE_NOTEBOOK.relative_to(REPO)


@dataclass
class StudentCheckout:
    """A student's copy of the edition, with the venv its postBuild installed tinytorch into."""

    venv: Path
    root: Path
    home: Path  # HOME and Jupyter's folders: nothing of the instructor's settings is read

    @property
    def notebook(self) -> Path:
        return self.root / NOTEBOOK

    def env(self) -> dict[str, str]:
        """The environment of a process the student starts in the venv."""
        env = venv_env(self.venv)
        env.update(
            HOME=str(self.home),
            JUPYTER_CONFIG_DIR=str(self.home / ".jupyter"),
            JUPYTER_DATA_DIR=str(self.home / ".local/share/jupyter"),
            JUPYTER_RUNTIME_DIR=str(self.home / ".local/share/jupyter/runtime"),
            IPYTHONDIR=str(self.home / ".ipython"),
            JUPYTER_PLATFORM_DIRS="1",
        )
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        return env

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run a program of the venv (``python``, ``jupyter``...) as the student would."""
        cmd = [str(self.venv / "bin" / args[0]), *args[1:]]
        return subprocess.run(
            cmd, cwd=cwd or self.root, env=self.env(), capture_output=True, text=True, timeout=timeout
        )


@pytest.fixture(scope="session")
def edition(tmp_path_factory) -> Path:
    """The student edition, built from the current tree into a temporary folder."""
    return build(tmp_path_factory.mktemp("edition") / "student")


@pytest.fixture(scope="session")
def student(edition: Path, tmp_path_factory) -> StudentCheckout:
    """A checkout of the edition, installed the way Binder installs it."""
    venv, root = install_edition(edition, tmp_path_factory.mktemp("checkout") / "student")
    home = tmp_path_factory.mktemp("home")
    return StudentCheckout(venv, root, home)


@pytest.fixture(scope="session")
def release() -> nbformat.NotebookNode:
    """The committed release notebook (what the edition ships)."""
    return nbformat.read(str(RELEASE_NOTEBOOK), as_version=4)
