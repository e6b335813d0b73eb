"""A course reached through symlinks still grades: a `.venv` that is a link to a shared
environment, and a checkout reached through a link. The jail mounts the environment at its
resolved path, so it must also run the interpreter by that path (it once ran the unresolved one,
which does not exist inside the jail, and every kernel failed to start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tinytorch_course.paths import REPO, nbgrader_env

from jail_course import ASSIGNMENT, autograded, build_course, errors, probe_report, report, submit


def test_a_linked_environment_and_checkout_grade_normally(tmp_path: Path) -> None:
    root = tmp_path / "course"
    root.mkdir()
    release = build_course(root)
    submit(
        root,
        release,
        "linked",
        report("""
        import sys
        found["executable"] = sys.executable
        found["prefix"] = sys.prefix
    """),
    )
    shared_env = tmp_path / "shared-venv"
    shared_env.symlink_to(os.path.realpath(sys.prefix), target_is_directory=True)
    checkout = tmp_path / "checkout"
    checkout.symlink_to(REPO, target_is_directory=True)
    python = shared_env / "bin" / Path(sys.executable).name
    course = tmp_path / "linked-course"
    course.symlink_to(root, target_is_directory=True)
    done = subprocess.run(
        [str(python), "-m", "nbgrader", "autograde", ASSIGNMENT, f"--CourseDirectory.root={course}"],
        cwd=checkout,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    nb = autograded(root, "linked")
    assert errors(nb, "test-first") == [] and errors(nb, "test-after") == [], done.stderr
    found = probe_report(nb)
    real_bin = os.path.realpath(shared_env / "bin")
    assert found["executable"] == os.path.join(real_bin, python.name), found
    assert found["prefix"] == os.path.realpath(sys.prefix), "the kernel runs in the venv, not the base Python"
