"""Where the course pipeline keeps its files, and how its sources mark what students never see:
one table read by the export, the release, the grading tools, the tests and
``nbgrader_config.py``, so the folders and the markers are named in exactly one place."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: nbgrader's configuration of the course: nbgrader reads it in the folder it runs in, the root.
NBGRADER_CONFIG = REPO / "nbgrader_config.py"

#: nbgrader's id of the capstone assignment and of its one notebook.
ASSIGNMENT_ID = "20_capstone"
NOTEBOOK_ID = "capstone"

#: The instructor's jupytext source (solutions, hidden tests, nbgrader metadata).
SOURCE_PY = REPO / "src" / "20_capstone" / "20_capstone.py"

#: The committed student release.
RELEASE_NOTEBOOK = REPO / "modules" / "20_capstone" / f"{NOTEBOOK_ID}.ipynb"

# nbgrader step folders, relative to the course root. The source and release steps live in the
# ignored build tree, so nbgrader never sees (and never copies) the .py source, and the student
# copy is taken from the release step into modules/.
SOURCE_DIRECTORY = "build/nbgrader/source"
RELEASE_DIRECTORY = "build/nbgrader/release"

#: nbgrader's folders of collected, autograded and feedback notebooks, relative to the course root
#: (``<folder>/<student>/<assignment>/``), and its gradebook file.
SUBMITTED, AUTOGRADED, FEEDBACK = "submitted", "autograded", "feedback"
GRADEBOOK = "gradebook.db"

#: The grading report ``make autograde`` writes beside the gradebook.
REPORT_CSV, REPORT_TXT = "grading-report.csv", "grading-report.txt"

#: The variables that size the math libraries' thread pools: a grading task gives each its share
#: of the host's cores, and the jail passes them to the kernel.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: The switch of the grading jail: ``SANDBOX=0`` in the environment grades without it (logged).
SANDBOX_VARIABLE = "SANDBOX"

#: The secret a grading run signs the jail's event lines with (jail/events.py): set by each
#: grading task for its nbgrader run, never passed into a kernel.
EVENT_KEY_VARIABLE = "TINYTORCH_GRADING_KEY"


def source_notebook_path(course_root: Path) -> Path:
    """The nbgrader source notebook the release is generated from, under ``course_root``."""
    return Path(course_root) / SOURCE_DIRECTORY / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"


def generated_release_path(course_root: Path) -> Path:
    """Where ``nbgrader generate_assignment`` writes the student notebook under ``course_root``."""
    return Path(course_root) / RELEASE_DIRECTORY / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"


def submission_path(course_root: Path, student_id: str) -> Path:
    """Where nbgrader expects a collected submission of ``student_id``."""
    return Path(course_root) / SUBMITTED / student_id / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"


def autograded_path(course_root: Path, student_id: str) -> Path:
    """Where nbgrader writes the autograded notebook of ``student_id``."""
    return Path(course_root) / AUTOGRADED / student_id / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"


def feedback_path(course_root: Path, student_id: str) -> Path:
    """Where ``nbgrader generate_feedback`` writes the feedback HTML of ``student_id``."""
    return Path(course_root) / FEEDBACK / student_id / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.html"


def nbgrader_env() -> dict[str, str]:
    """The environment for an nbgrader subprocess: nbgrader's gradebook shells out to
    ``alembic``, which lives next to this interpreter, so that folder goes first on PATH."""
    import os
    import sys

    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def nbgrader_command(*args: str) -> list[str]:
    """The argv of a stock nbgrader command run by this interpreter."""
    import sys

    return [sys.executable, "-m", "nbgrader", *args]
