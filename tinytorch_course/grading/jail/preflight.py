"""Whether a jail can be created on this machine, checked once per grader process by starting a
real (empty) jail, and what to do when it cannot."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tinytorch_course.grading.jail.bwrap import JailLayout, bwrap_argv, system_tool
from tinytorch_course.grading.jail.settings import JailSettings
from tinytorch_course.paths import SANDBOX_VARIABLE

#: The script that installs bubblewrap (apt-get when root).
INSTALL_SCRIPT = "scripts/install_bwrap.sh"
_UNSAFE = (
    f"Grading without the jail ({SANDBOX_VARIABLE}=0) runs students' code with the grader's "
    "powers: use it only for trusted notebooks."
)


class JailUnavailable(RuntimeError):
    """The jail cannot be created: ``cause`` says why, ``fix`` what to do."""

    def __init__(self, cause: str, fix: str) -> None:
        self.cause, self.fix = cause, fix
        super().__init__(f"the grading jail cannot be created: {cause}\n  Fix: {fix}\n  {_UNSAFE}")


def resolve_bwrap(settings: JailSettings) -> str:
    """The bubblewrap executable the settings name, as an absolute path; JailUnavailable when it
    is not there."""
    found = shutil.which(settings.bwrap)
    if found is None:
        raise JailUnavailable(
            f"bubblewrap was not found (JailSettings.bwrap = {settings.bwrap!r})",
            f"run {INSTALL_SCRIPT} (installs the Debian package bubblewrap as root), or point "
            "c.JailSettings.bwrap in nbgrader_config.py to a bwrap executable",
        )
    return found


def python_roots() -> tuple[str, ...]:
    """The folders of the Python environment the kernel runs from: the venv and the installation
    it was made from (the same folder when there is no venv)."""
    import sys

    roots = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    return tuple(sorted(roots))


def jail_python(executable: str | None = None) -> str:
    """The interpreter path the jail runs: ``executable`` (default ``sys.executable``) with its
    environment's folder resolved, since the jail mounts the environment at its resolved path
    (:func:`python_roots`) and nothing of a symlinked venv or course folder leading to it. The
    file name stays a venv's own ``bin/python``, which finds the venv's ``pyvenv.cfg`` beside it;
    resolving the file itself would start the base interpreter without the venv."""
    import sys

    executable = executable or sys.executable
    if not os.path.isabs(executable):
        return executable
    folder, name = os.path.split(executable)
    return os.path.join(os.path.realpath(folder), name)


def jail_uid(settings: JailSettings) -> int | None:
    """The user id jailed kernels run as: a private unprivileged one when grading as root, None
    (the grader's own id) otherwise."""
    return settings.jail_uid() if os.geteuid() == 0 else None


def _trial_argv(settings: JailSettings, scratch: Path, connection_fd: int) -> list[str]:
    (scratch / "student").mkdir()
    uid = jail_uid(settings)
    layout = JailLayout(
        workdir="/home/student/trial",
        files=(),
        connection_file=str(scratch / "connection.json"),
        connection_fd=connection_fd,
        python_roots=python_roots(),
        student_dir=str(scratch / "student"),
        uid=uid,
    )
    return bwrap_argv(settings, layout, [system_tool("true")])


def _diagnose(stderr: str) -> JailUnavailable:
    text = stderr.strip() or "bwrap exited with an error and printed nothing"
    if "namespace" in text.lower() or "uid map" in text.lower() or "Operation not permitted" in text:
        return JailUnavailable(
            f"bubblewrap could not create its namespaces: {text}",
            "enable user namespaces (sysctl -w user.max_user_namespaces=15000; on Debian/Ubuntu "
            "also kernel.unprivileged_userns_clone=1 and, on Ubuntu 24.04+, "
            "kernel.apparmor_restrict_unprivileged_userns=0), or grade as root",
        )
    return JailUnavailable(
        f"a trial jail failed: {text}", f"run {INSTALL_SCRIPT}, then check that `bwrap --version` works"
    )


_checked: dict[tuple, None] = {}


def check_jail(settings: JailSettings) -> None:
    """Start an empty jail with ``settings``; JailUnavailable (cause and fix) when that fails.
    A success is remembered for the life of the process."""
    key = (resolve_bwrap(settings), jail_uid(settings), settings.write_mib, settings.memory_mib, settings.max_processes)
    if key in _checked:
        return
    with tempfile.TemporaryDirectory(prefix="jail-check-") as scratch, tempfile.TemporaryFile() as connection:
        try:
            argv = _trial_argv(settings, Path(scratch), connection.fileno())
        except FileNotFoundError as error:
            raise JailUnavailable(str(error), "apt-get install util-linux") from None
        argv[0] = key[0]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, pass_fds=(connection.fileno(),))
    if result.returncode != 0:
        raise _diagnose(result.stderr)
    _checked[key] = None
