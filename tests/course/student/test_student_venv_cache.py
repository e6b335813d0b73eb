"""The cache of student venvs (tinytorch_course/student/venv.py): one venv per content of the edition's
requirements, and the venvs of earlier requirements removed unless another run holds them."""

from __future__ import annotations

import fcntl

from tinytorch_course.student.venv import requirements_venv


def test_a_new_requirements_venv_removes_the_old_ones_not_in_use(tmp_path):
    cache = tmp_path / "cache"
    for key in ("old0123456789", "busy012345678"):
        (cache / key / "bin").mkdir(parents=True)
        (cache / f"{key}.lock").touch()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing beyond pip\n")
    with open(cache / "busy012345678.lock") as busy:
        fcntl.flock(busy, fcntl.LOCK_EX)  # another run is building or installing into it
        venv = requirements_venv(requirements, cache)
    assert (venv / "bin" / "python").exists()
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        ["busy012345678", "busy012345678.lock", venv.name, f"{venv.name}.lock"]
    )
    assert requirements_venv(requirements, cache) == venv, "the same requirements reuse it"
