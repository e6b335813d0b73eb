"""A Python environment made from the student edition alone, as a student or Binder makes it.

    python -m tinytorch_course.student.venv [--edition build/student]

A fresh virtual environment (no system site packages, so nothing of the instructor's
environment is visible) gets the edition's ``requirements.txt``; it is cached under
``build/student-venv/<hash of those requirements>/`` because installing JupyterLab takes a
minute and the requirements rarely change (the venvs of earlier requirements are removed).
``install_edition`` then installs the edition's ``tinytorch`` by running its ``postBuild`` (what
Binder runs) in a copy of the edition, which is cheap and always reflects the current tree.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tinytorch_course.paths import REPO
from tinytorch_course.student.edition import DEFAULT_OUT

CACHE = REPO / "build" / "student-venv"
_STAMP = ".requirements-installed"


def venv_env(venv: Path) -> dict[str, str]:
    """The environment of a process inside ``venv``: its bin first on PATH, nothing that would
    let the instructor's packages or Jupyter settings in (PYTHONPATH, a parent venv)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _base_python() -> str:
    """The interpreter this venv was made from (``python -m venv`` from a venv would do too,
    but the base one says plainly that nothing is inherited)."""
    return getattr(sys, "_base_executable", None) or sys.executable


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, made if missing (two test runs may build the same cache
    at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], venv: Path, cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=venv_env(venv), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def requirements_venv(requirements: Path, cache: Path = CACHE) -> Path:
    """A virtual environment holding exactly ``requirements`` (and pip), built once per content
    of that file and Python version."""
    requirements = Path(requirements)
    if not requirements.is_file():
        raise FileNotFoundError(f"requirements not found: {requirements} (run `make student`)")
    key = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:12]
    venv = cache / key
    with locked(cache / f"{key}.lock"):
        if not (venv / _STAMP).is_file():
            shutil.rmtree(venv, ignore_errors=True)  # a build interrupted half-way
            subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True)
            _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(requirements)], venv)
            (venv / _STAMP).write_text(requirements.read_text(encoding="utf-8"), encoding="utf-8")
    _prune(cache, keep=key)
    return venv


def _prune(cache: Path, keep: str) -> list[str]:
    """Remove the cached venvs of other requirements (a few hundred MB each), except one that
    another run holds locked; returns the keys removed."""
    removed = []
    for lock in sorted(cache.glob("*.lock")):
        key = lock.name[: -len(".lock")]
        if key == keep:
            continue
        with open(lock, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # being built or installed into right now
            shutil.rmtree(cache / key, ignore_errors=True)
            lock.unlink()
            removed.append(key)
    return removed


def install_edition(edition: Path, workdir: Path, cache: Path = CACHE) -> tuple[Path, Path]:
    """Copy ``edition`` to ``workdir`` (a student's checkout), and install it into the cached
    venv of its requirements by running its ``postBuild`` there. Returns (venv, checkout)."""
    edition = Path(edition)
    venv = requirements_venv(edition / "requirements.txt", cache)
    checkout = Path(workdir)
    shutil.copytree(edition, checkout, ignore=shutil.ignore_patterns(".git"), dirs_exist_ok=True)
    with locked(cache / f"{venv.name}.lock"):  # one install into a shared venv at a time
        _run(["sh", "postBuild"], venv, cwd=checkout)
    return venv, checkout


def main(argv: list[str] | None = None) -> int:
    """Build (or find) the cached venv of the edition's requirements; print its path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", type=Path, default=DEFAULT_OUT, help="student edition folder")
    args = parser.parse_args(argv)
    try:
        venv = requirements_venv(args.edition / "requirements.txt")
    except FileNotFoundError as err:
        print(f"student_venv: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"student_venv: {err}", file=sys.stderr)
        return 1
    print(f"student_venv: {venv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
