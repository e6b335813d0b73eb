"""A tiny course for the jail tests: one assignment of five cells, a free cell where each student
puts the code under test, and the probes that code runs (each prints one ``PROBE {json}`` line
that the tests read back from the autograded notebook)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Container
from pathlib import Path

import nbformat

from tests.processes import run_process
from tinytorch_course.grading.jail.events import new_key
from tinytorch_course.paths import EVENT_KEY_VARIABLE, REPO, SOURCE_DIRECTORY, nbgrader_command, nbgrader_env

ASSIGNMENT = "jail_probe"
NOTEBOOK = "probe"
PROBE_MARK = "PROBE "
POINTS = {"test-first": 1.0, "test-after": 1.0}
#: How a test after a stopped student kernel fails: its act finds that kernel gone (the tests run in
#: a kernel of their own, which is still alive to say so).
STOPPED_ACT = "ActError: the kernel running your code had stopped ("
#: The key the jail signs its event lines with in these tests' nbgrader runs (jail/events.py).
EVENT_KEY = new_key()


def graded_cell(grade_id: str, source: str, *, solution: bool = False, points: float | None = None):
    """A code cell with nbgrader metadata: an answer cell (``solution``), a test (``points``), or
    else a locked given cell."""
    meta = {
        "grade_id": grade_id,
        "solution": solution,
        "grade": points is not None,
        "locked": not solution,
        "schema_version": 3,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def source_notebook():
    """The instructor's notebook: the act its tests ask the student's kernel for, a value, its
    test, a free cell, and a test run after it (act, then judge: tinytorch/acts.py)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    given = nbformat.v4.new_code_cell(
        "from tinytorch.acts import act\n\n\n@act\ndef the_value():\n    return value\n",
        metadata={
            "nbgrader": {
                "grade_id": "acts",
                "solution": False,
                "grade": False,
                "locked": True,
                "schema_version": 3,
                "task": False,
            }
        },
    )
    nb.cells = [
        given,
        graded_cell("first", "### BEGIN SOLUTION\nvalue = 1\n### END SOLUTION", solution=True),
        graded_cell("test-first", "assert the_value() == 1", points=POINTS["test-first"]),
        graded_cell("free", "### BEGIN SOLUTION\npass\n### END SOLUTION", solution=True),
        graded_cell("test-after", "assert the_value() == 1", points=POINTS["test-after"]),
    ]
    return nb


def build_course(root: Path, notebook=None) -> Path:
    """A course root with the assignment (``notebook``, default :func:`source_notebook`) released
    (stock generate_assignment, which also creates the gradebook); returns the release notebook."""
    source = root / SOURCE_DIRECTORY / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(notebook or source_notebook(), str(source))
    run_nbgrader(root, "generate_assignment", ASSIGNMENT, ok=(0,))
    return root / "build" / "nbgrader" / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"


def run_nbgrader(
    root: Path, *args: str, env: dict | None = None, ok: Container[int] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """A stock nbgrader command on the course at ``root``, run from the repo (its
    nbgrader_config.py applies), its event lines signed with :data:`EVENT_KEY`, output captured
    as text; an exit code outside ``ok`` (when given) or the timeout fails with that output."""
    full_env = nbgrader_env()
    full_env[EVENT_KEY_VARIABLE] = EVENT_KEY
    full_env.update(env or {})
    return run_process(
        nbgrader_command(*args, f"--CourseDirectory.root={root}"), ok=ok, cwd=REPO, env=full_env, timeout=timeout
    )


def submit(root: Path, release: Path, student: str, free_code: str) -> None:
    """Hand in the release with the first answer done and ``free_code`` in the free cell."""
    nb = nbformat.read(str(release), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "first":
            cell.source = "value = 1"
        elif grade_id == "free":
            cell.source = textwrap.dedent(free_code).strip() + "\n"
    path = root / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def autograded(root: Path, student: str):
    """The autograded notebook of ``student``."""
    path = root / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    return nbformat.read(str(path), as_version=4)


def cell(nb, grade_id: str):
    """The cell of ``nb`` with ``grade_id``."""
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def probe_report(nb) -> dict:
    """The JSON a probe printed in the free cell; AssertionError showing the outputs if none."""
    outputs = cell(nb, "free").outputs
    for output in outputs:
        for line in output.get("text", "").splitlines():
            if line.startswith(PROBE_MARK):
                return json.loads(line[len(PROBE_MARK) :])
    raise AssertionError(f"the probe printed no report; its outputs: {outputs}")


def errors(nb, grade_id: str) -> list[str]:
    """``ename: evalue`` of every error output of a cell."""
    return [f"{o.ename}: {o.evalue}" for o in cell(nb, grade_id).outputs if o.output_type == "error"]


def report(code: str) -> str:
    """Probe code ending with a report of the dict ``found`` it fills."""
    return f"import json\nfound = {{}}\n{textwrap.dedent(code).strip()}\nprint({PROBE_MARK!r} + json.dumps(found))\n"


def visibility_probe(paths: list[str], port: int) -> str:
    """What the kernel can see and reach: the listed paths, the package it imports, a TCP
    listener on 127.0.0.1:``port``, its user and its view of processes."""
    return report(f"""
        import os, socket, importlib
        found["exists"] = {{p: os.path.exists(p) for p in {paths!r}}}
        found["cwd"] = os.getcwd()
        found["listing"] = sorted(os.listdir("."))
        found["root_listing"] = sorted(os.listdir("/"))
        try:
            importlib.import_module("tinytorch.olympics")
            found["olympics"] = "imported"
        except ImportError as error:
            found["olympics"] = type(error).__name__
        import tinytorch.core.tensor
        found["core"] = tinytorch.core.tensor.__file__
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
            found["net"] = "connected"
        except OSError as error:
            found["net"] = type(error).__name__
        found["uid"] = os.getuid()
        found["ppid"] = os.getppid()
        found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    """)
