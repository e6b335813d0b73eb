"""The student package: the part of ``tinytorch`` a student gets, defined once.

Everything under ``tinytorch/`` is the student package except ``tinytorch/olympics/``, which
holds the module generated from the capstone source (the reference solutions) and every tool
built on it (workflow, compare, leaderboard, plots, MLflow export, command line). ``make
student`` copies exactly these files into the student edition, and the grading jail mounts
exactly these files, so a student runs at home exactly what grades them.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from tinytorch_course.paths import REPO

PACKAGE = "tinytorch"

#: Name prefix of the per-process copies the grading jail mounts (:func:`cached_package`).
CACHE_PREFIX = "tinytorch-student-package"

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


def package_bytes(repo: Path = REPO) -> dict[str, bytes]:
    """The student package as data: its files' contents by POSIX path relative to ``repo``
    (``tinytorch/...``), what a grading task carries to another machine."""
    return {relative.as_posix(): (Path(repo) / relative).read_bytes() for relative in student_package_files(repo)}


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (contents by POSIX path, as :func:`package_bytes` gives them) under
    ``folder``; a path that would leave it is a ValueError naming it."""
    for name, data in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"file path {name!r} is not inside its folder")
        target = Path(folder, *relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def cached_package(files: Mapping[str, bytes]) -> Path:
    """A folder of this machine holding the student package ``files``, written once per process
    and package content and removed when the process exits: the grading jail mounts it and
    byte-compiles it once, where every kernel would otherwise pay that again. The one cache of
    the student package, for the grader of this checkout and for grading tasks sent elsewhere."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    folder = Path(tempfile.gettempdir()) / f"{CACHE_PREFIX}-{digest.hexdigest()[:16]}-{os.getpid()}"
    with _cache_lock:
        if not folder.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}-", dir=folder.parent))
            write_files(staging, files)
            staging.chmod(0o755)  # mkdtemp's 0700 would hide it from the jail's own user
            staging.rename(folder)
            atexit.register(shutil.rmtree, folder, True)
    return folder


_cache_lock = threading.Lock()
