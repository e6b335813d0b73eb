"""The student package: the part of ``tinytorch`` a student gets, defined once.

Everything under ``tinytorch/`` is the student package except ``tinytorch/olympics/``, which
holds the module generated from the capstone source (the reference solutions) and every tool
built on it (workflow, compare, leaderboard, plots, MLflow export, command line). ``make
student`` copies exactly these files into the student edition, and the grading jail mounts
exactly these files, so a student runs at home exactly what grades them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from tinytorch_course.paths import REPO

PACKAGE = "tinytorch"

#: Subpackages of ``tinytorch`` that carry solution code or import code that does.
SOLUTION_SUBPACKAGES = ("olympics",)

#: Files never shipped: byte code and editor or build debris.
_IGNORED_PARTS = ("__pycache__",)
_IGNORED_SUFFIXES = (".pyc", ".pyo")


def is_student_file(relative: Path) -> bool:
    """Whether ``relative`` (a path relative to the repo root, under ``tinytorch/``) belongs to the
    student package."""
    parts = relative.parts
    if len(parts) < 2 or parts[0] != PACKAGE:
        return False
    if parts[1] in SOLUTION_SUBPACKAGES or Path(parts[1]).stem in SOLUTION_SUBPACKAGES:
        return False
    if any(part in _IGNORED_PARTS for part in parts) or relative.suffix in _IGNORED_SUFFIXES:
        return False
    return True


def student_package_files(repo: Path = REPO) -> list[Path]:
    """The files of the student package, relative to ``repo``, sorted."""
    root = Path(repo)
    return sorted(
        path.relative_to(root)
        for path in (root / PACKAGE).rglob("*")
        if path.is_file() and is_student_file(path.relative_to(root))
    )


def copy_student_package(dest: Path, repo: Path = REPO) -> Path:
    """Copy the student package into ``dest`` (``dest/tinytorch/...``), replacing what was there.
    Returns the copied package folder."""
    dest = Path(dest)
    shutil.rmtree(dest / PACKAGE, ignore_errors=True)
    for relative in student_package_files(repo):
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(repo) / relative, target)
    return dest / PACKAGE
