"""One grading task: stock ``nbgrader autograde`` of one student (or a few) in a scratch course
built from bytes, returning the gradebook and the autograded folders as bytes.

The task reads nothing of the course root: the release's nbgrader source, the gradebook
template, the student package and the hand-ins all travel with it, so a Dask worker on
another machine needs only this repository's grading code (``tinytorch_course``, ``nbgrader_config.py``)
and its Python environment. Local processes and Dask workers run this same function.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch_course.grading.forkserver import run_nbgrader
from tinytorch_course.grading.gradebook import StudentRecord, seed, sqlite_url
from tinytorch_course.grading.jail.events import new_key
from tinytorch_course.paths import (
    AUTOGRADED,
    EVENT_KEY_VARIABLE,
    GRADEBOOK,
    REPO,
    SOURCE_DIRECTORY,
    SUBMITTED,
    THREAD_VARIABLES,
    nbgrader_env,
)
from tinytorch_course.student.package import cached_package, write_files

#: File contents by path relative to a folder, in POSIX form.
Files = dict[str, bytes]


@dataclass(frozen=True)
class CourseBundle:
    """What every task of one grading run shares (about 0.5 MB, sent with each task)."""

    assignment: str
    source: Files  # the release's nbgrader source folder of the assignment
    gradebook: bytes  # the course gradebook without any student (see gradebook.template_gradebook)
    student_package: Files  # the student package, paths starting with tinytorch/
    options: tuple[str, ...] = ()  # extra nbgrader options, e.g. --force
    env: dict[str, str] = field(default_factory=dict)  # variables set for every nbgrader run
    tasks_per_host: dict[str, int] = field(default_factory=dict)  # to share each host's cores


@dataclass(frozen=True)
class HandInFiles:
    """What a task grades of one student, as bytes (the canonical notebook and the timestamp of
    the hand-in, see ``coordinator.hand_in``), and what the gradebook knew of the student."""

    student_id: str
    files: Files
    record: StudentRecord | None = None


@dataclass(frozen=True)
class TaskResult:
    """What a task sends back: its gradebook, each student's autograded folder (path -> bytes
    and file mode), nbgrader's captured log and exit code, where and how long it ran, and the key
    the jail's event lines in that log are signed with (jail/events.py)."""

    students: tuple[str, ...]
    gradebook: bytes
    autograded: dict[str, dict[str, tuple[bytes, int]]]
    log: str
    returncode: int
    host: str
    seconds: float
    event_key: str = ""


def read_files(folder: Path) -> Files:
    """Every file under ``folder``, by POSIX path relative to it."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def grade_task(bundle: CourseBundle, hand_ins: list[HandInFiles]) -> TaskResult:
    """Grade ``hand_ins`` with stock ``nbgrader autograde`` in a scratch course of this
    machine's temporary folder, removed afterwards."""
    start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="tinytorch-grade-"))
    key = new_key()
    try:
        _build_course(scratch, bundle, hand_ins)
        code, log = _run_nbgrader(scratch, bundle, key)
        out = scratch / AUTOGRADED
        autograded = {
            s.student_id: _read_with_modes(out / s.student_id / bundle.assignment)
            for s in hand_ins
            if (out / s.student_id / bundle.assignment).is_dir()
        }
        return TaskResult(
            tuple(s.student_id for s in hand_ins),
            (scratch / GRADEBOOK).read_bytes(),
            autograded,
            log,
            code,
            _host(),
            time.perf_counter() - start,
            key,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _build_course(root: Path, bundle: CourseBundle, hand_ins: list[HandInFiles]) -> None:
    write_files(root / SOURCE_DIRECTORY / bundle.assignment, bundle.source)
    (root / GRADEBOOK).write_bytes(bundle.gradebook)
    records = [s.record for s in hand_ins if s.record is not None]
    if records:  # opening a gradebook costs seconds in a fresh worker; most students are new
        seed(sqlite_url(root / GRADEBOOK), bundle.assignment, records)
    for sub in hand_ins:
        write_files(root / SUBMITTED / sub.student_id / bundle.assignment, sub.files)


def _run_nbgrader(root: Path, bundle: CourseBundle, key: str) -> tuple[int, str]:
    """Stock ``nbgrader autograde`` in the scratch course, its event lines signed with ``key``;
    its exit code and log."""
    log = root / "nbgrader.log"
    env = task_env(bundle)
    env[EVENT_KEY_VARIABLE] = key
    # The repository root is the working folder because nbgrader reads nbgrader_config.py there.
    code = run_nbgrader(
        [
            "autograde",
            bundle.assignment,
            f"--CourseDirectory.root={root}",
            *jail_options(cached_package(bundle.student_package)),
            # the coordinator sent canonical notebooks (grading.canonical), not the hand-ins
            "--CanonicalNotebookExporter.prebuilt=True",
            *bundle.options,
        ],
        REPO,
        env,
        log,
    )
    return code, log.read_text(encoding="utf-8", errors="replace")


def jail_options(package: Path) -> list[str]:
    """nbgrader options that make the jail mount the student package this task was sent."""
    return [f"--JailSettings.student_package={package}"]


def task_env(bundle: CourseBundle) -> dict[str, str]:
    """nbgrader's environment for this task: the bundle's variables, and math-library threads
    limited to this task's share of its host's cores unless the instructor set them."""
    env = nbgrader_env()
    env.update(bundle.env)
    share = str(max(1, (os.cpu_count() or 1) // max(1, bundle.tasks_per_host.get(_host(), 1))))
    # Math libraries start one thread per core in every kernel; several kernels at once would then
    # fight over the cores (OpenBLAS threads spin while they wait), so each task gets its share.
    for name in THREAD_VARIABLES:
        env.setdefault(name, share)
    return env


def _host() -> str:
    """This worker's host as the scheduler names it, or the machine's name outside Dask."""
    try:
        from distributed import get_worker

        return get_worker().address.rsplit(":", 1)[0].split("://")[-1]
    except (ImportError, ValueError):
        return os.uname().nodename


def _read_with_modes(folder: Path) -> dict[str, tuple[bytes, int]]:
    files = read_files(folder)
    return {name: (data, (folder / name).stat().st_mode & 0o777) for name, data in files.items()}
