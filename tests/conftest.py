"""The suite's order: the longest test files first.

`make test` hands whole files to three pytest-xdist processes (``--dist loadfile``), one at a time as
each process runs out of work, in collection order (``--no-loadscope-reorder``). A long file
handed out last keeps one process busy while the others have nothing left, so the files that take
longest, all of them grading batches of notebooks, are collected first, longest first; the short
ones then fill in around them. A file missing from the list keeps its place after them."""

from __future__ import annotations

import pytest

#: Test files by how long they take in `make test` (measured per file, wall and CPU, with
#: ``--durations``), longest first. Update it when a file's cost changes by much. The first book
#: file builds the book (`make test` removes it) and the first student-venv file may build the
#: venv: each comes early, and the other files that need them come after long ones, so no process
#: waits for the other's build.
LONGEST_FIRST = (
    "tests/course/grading/test_autograde.py",
    "tests/course/grading/jail/test_lifetime.py",
    "tests/course/grading/test_hostile.py",
    "tests/course/grading/test_hostile_handins.py",
    "tests/book/test_book_browser.py",
    "tests/course/grading/preprocessors/test_restorelockedcells.py",
    "tests/course/grading/test_autograde_dask.py",
    "tests/course/grading/test_hostile_batch.py",
    "tests/course/student/test_student_venv.py",
    "tests/course/grading/test_gradebook.py",
    "tests/course/grading/jail/test_jail.py",
    "tests/course/grading/test_hostile_kernel.py",
    "tests/course/grading/test_grading_report.py",
    "tests/course/grading/jail/test_cgroup.py",
    "tests/olympics/test_cli.py",
    "tests/course/student/test_jupyterlab.py",
    "tests/course/grading/test_cluster.py",
    "tests/course/grading/jail/test_symlinked_paths.py",
    "tests/course/authoring/test_autograde_tags.py",
    "tests/course/grading/test_forkserver.py",
    "tests/course/student/test_student_venv_cache.py",
)
_RANK = {path: rank for rank, path in enumerate(LONGEST_FIRST)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Collect the files of :data:`LONGEST_FIRST` first, in its order; a file's own tests keep
    their order (a stable sort), so its module fixtures are still built once."""
    items.sort(key=lambda item: _RANK.get(item.nodeid.split("::", 1)[0], len(_RANK)))
