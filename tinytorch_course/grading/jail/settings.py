"""The jail's settings: the limits every graded kernel runs under, and where bubblewrap is.

Each limit is a configurable trait of :class:`JailSettings`; change it in ``nbgrader_config.py``
(``c.JailSettings.memory_mib = 8192``) or on the nbgrader command line
(``--JailSettings.budget_s=600``). The defaults fit the capstone notebook with a wide margin:
an honest run takes under 10 s of wall-clock time, under 1 GiB of address space per process,
a few dozen threads and writes less than 1 MiB.
"""

from __future__ import annotations

import os

from traitlets import Bool, Float, Integer, Unicode, default
from traitlets.config import Configurable

from tinytorch_course.paths import SANDBOX_VARIABLE

#: Environment variable that turns the jail off when set to "0" (the only way to grade unjailed).


def sandbox_requested(environ: dict[str, str] | None = None) -> bool:
    """Whether grading must be jailed: always, unless ``SANDBOX=0`` is set explicitly."""
    value = (os.environ if environ is None else environ).get(SANDBOX_VARIABLE, "1").strip()
    return value != "0"


class JailSettings(Configurable):
    """The limits and tools of the grading jail (one instance per kernel manager)."""

    enabled = Bool(
        help="Run every kernel inside the jail. Defaults to on; only SANDBOX=0 in the environment "
        "turns it off, and every unjailed kernel is then logged as unsafe-no-sandbox.",
    ).tag(config=True)

    @default("enabled")
    def _enabled_default(self) -> bool:
        return sandbox_requested()

    bwrap = Unicode(
        "bwrap",
        help="The bubblewrap executable: a name looked up on PATH, or an absolute path.",
    ).tag(config=True)

    student_package = Unicode(
        "",
        help="Folder holding the student package (its tinytorch/) that the jail mounts; empty: a "
        "copy of this repository's student package, made once per grader process. A grading "
        "task sets it to the student package it was sent.",
    ).tag(config=True)

    budget_s = Float(
        300.0,
        help="Wall-clock budget of a whole notebook, in seconds, counted from the kernel's start. "
        "When it runs out the jail and everything in it is killed; the cells that had "
        "finished keep their results and the remaining ones fail at once.",
    ).tag(config=True)

    memory_mib = Integer(
        4096,
        help="Memory of the whole jail, in MiB: the limit of its memory cgroup (every process, "
        "swap and its tmpfs files included) when the grader can create cgroups, and in any "
        "case the address space of each process (RLIMIT_AS).",
    ).tag(config=True)

    max_processes = Integer(
        256,
        help="Processes and threads the jail may run at once: its pids cgroup's limit when the "
        "grader can create cgroups, and in any case RLIMIT_NPROC of the jail's own user id, "
        "which no other process uses.",
    ).tag(config=True)

    cgroups = Bool(
        True,
        help="Give each jail its own cgroup (total memory and pids limits) when this machine lets "
        "the grader create one; off, or where it cannot, only the per-process rlimits hold.",
    ).tag(config=True)

    cgroup_name = Unicode(
        "tinytorch-jail",
        help="cgroup v1: the folder, under the grader's own cgroup of the memory and pids "
        "hierarchies, that holds one cgroup per jail.",
    ).tag(config=True)

    cgroup_v2_parent = Unicode(
        "",
        help="cgroup v2: the cgroup (a path under /sys/fs/cgroup) delegated to the grader, with "
        "memory and pids in its cgroup.subtree_control, that holds one cgroup per jail; "
        "empty: the grader's own cgroup.",
    ).tag(config=True)

    write_mib = Integer(
        512,
        help="Bytes the notebook may write, in MiB: the size of the jail's private /tmp and of its "
        "working folder (each a tmpfs), and the largest file it may write (RLIMIT_FSIZE).",
    ).tag(config=True)

    uid_base = Integer(
        420000,
        help="When grading as root, each jail runs as the unprivileged user id uid_base + (grader "
        "process id modulo uid_span), a user that owns no file, so the process limit counts "
        "only that jail's processes.",
    ).tag(config=True)

    uid_span = Integer(
        100000,
        help="How many user ids, from uid_base, the jails may use.",
    ).tag(config=True)

    def jail_uid(self, pid: int | None = None) -> int:
        """The unprivileged user id the jail of the grader process ``pid`` runs as."""
        return self.uid_base + (os.getpid() if pid is None else pid) % self.uid_span

    @property
    def write_bytes(self) -> int:
        """The bytes-written limit in bytes."""
        return self.write_mib * 1024 * 1024
