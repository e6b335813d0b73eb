"""The jail's total limits: one cgroup per jail, holding every process the notebook starts.

RLIMIT_AS and RLIMIT_NPROC bound each process, so a notebook of N processes could hold N times
``memory_mib``. When the grader may create cgroups, each jail gets its own, with ``memory_mib`` as
the total of all its processes (swap included where the controller accounts it) and
``max_processes`` as its pids limit; the rlimits stay as a second line. Two layouts are known:

- cgroup v1 (a writable ``memory`` and ``pids`` hierarchy, as root): the jail's cgroups are
  created under the grader's own cgroup of each hierarchy, in a folder named
  ``JailSettings.cgroup_name``, so whatever limits the grader also limits its jails;
- cgroup v2 (the unified hierarchy): under ``JailSettings.cgroup_v2_parent``, or the grader's own
  cgroup, when that folder is writable and lists ``memory`` and ``pids`` in its
  ``cgroup.subtree_control`` (a subtree delegated to the grader).

The kernel process enters its cgroup before it runs anything: the launcher is a one-line shell
that writes its own pid into ``cgroup.procs`` and then execs bubblewrap (:func:`enter_argv`).
"""

from __future__ import annotations

import errno
import itertools
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tinytorch_course.grading.jail.settings import JailSettings

CGROUP_ROOT = "/sys/fs/cgroup"
#: Where this process's cgroups are listed, one ``<id>:<controllers>:<path>`` line per hierarchy.
PROC_SELF_CGROUP = "/proc/self/cgroup"
# Writes the shell's own pid (the future bubblewrap's) into each file before "--", then execs
# the rest; a failed write ends it before anything of the jail runs.
_ENTER = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
# How long removing a cgroup waits for the processes of a killed jail to be gone.
_REMOVE_WAIT_S = 5.0
_POLL_S = 0.2
_serial = itertools.count()


@dataclass(frozen=True)
class CgroupLayout:
    """Where the jails' cgroups go: ``parents`` holds one folder per hierarchy (v1: memory and
    pids; v2: one), each holding one cgroup per jail."""

    version: int
    parents: tuple[str, ...]

    def describe(self) -> str:
        """A sentence for the log: the mechanism and where."""
        return f"cgroup v{self.version} ({', '.join(self.parents)})"


class JailCgroup:
    """The cgroup(s) of one jail: created with its limits, entered by the launcher, removed when
    the kernel ends."""

    def __init__(self, layout: CgroupLayout, settings: JailSettings) -> None:
        name = f"{os.getpid()}-{next(_serial)}"
        self.layout = layout
        self.paths = tuple(os.path.join(parent, name) for parent in layout.parents)
        self.memory_mib = settings.memory_mib
        for path in self.paths:
            make_cgroup(path)
        try:
            self._set_limits(settings)
        except OSError:
            self.remove()
            raise

    @property
    def _memory(self) -> str:
        return self.paths[0]

    def _set_limits(self, settings: JailSettings) -> None:
        memory = str(settings.memory_mib * 1024 * 1024)
        if self.layout.version == 1:
            _write(self._memory, "memory.limit_in_bytes", memory)
            # memory+swap may not be set below memory, so after it; absent without swap accounting
            _write(self._memory, "memory.memsw.limit_in_bytes", memory, optional=True)
            _write(self.paths[1], "pids.max", str(settings.max_processes))
        else:
            _write(self._memory, "memory.max", memory)
            _write(self._memory, "memory.swap.max", "0", optional=True)
            # one process killed for memory kills the whole jail, not a random child
            _write(self._memory, "memory.oom.group", "1", optional=True)
            _write(self._memory, "pids.max", str(settings.max_processes))

    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files the launcher writes its pid into."""
        return [os.path.join(path, "cgroup.procs") for path in self.paths]

    def oom_kills(self) -> int:
        """How many processes of the jail the memory controller's OOM killer has killed."""
        name = "memory.oom_control" if self.layout.version == 1 else "memory.events"
        try:
            with open(os.path.join(self._memory, name)) as counters:
                for line in counters:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            pass
        return 0

    def _pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.paths:
            try:
                with open(os.path.join(path, "cgroup.procs")) as procs:
                    found.update(int(line) for line in procs if line.strip())
            except OSError:
                pass
        return found

    def remove(self) -> None:
        """Kill whatever is left in the cgroups and remove them. Processes of a killed jail take
        a moment to exit, so removal retries for a few seconds; a cgroup still busy after that is
        left and named in the error."""
        deadline = time.monotonic() + _REMOVE_WAIT_S
        for path in self.paths:
            while os.path.isdir(path):
                try:
                    remove_cgroup(path)
                except OSError as error:
                    if error.errno == errno.ENOENT:
                        break
                    if error.errno != errno.EBUSY or time.monotonic() > deadline:
                        raise OSError(
                            error.errno, f"the jail's cgroup {path} could not be removed: {error.strerror}"
                        ) from None
                    for pid in self._pids():
                        _kill(pid)
                    time.sleep(0.05)


def sweep_stale(layout: CgroupLayout) -> list[str]:
    """Remove the jail cgroups that graders now gone left empty (a grader killed with SIGKILL,
    its worker lost, never removes its own; the jail's processes die with it) and return their
    paths. A cgroup's name starts with its grader's pid: one whose grader still runs is left
    alone, and so is one that still holds processes (only an empty cgroup can be removed)."""
    removed = []
    for parent in layout.parents:
        try:
            entries = [entry for entry in os.scandir(parent) if entry.is_dir()]
        except OSError:
            continue
        for entry in entries:
            grader, dash, serial = entry.name.partition("-")
            if not (dash and grader.isdigit() and serial.isdigit()) or _running(int(grader)):
                continue
            try:
                remove_cgroup(entry.path)
            except OSError:
                continue
            removed.append(entry.path)
    return removed


def make_cgroup(path: str) -> None:
    """Create the cgroup ``path`` (the kernel fills it with its control files)."""
    os.mkdir(path)


def remove_cgroup(path: str) -> None:
    """Remove the cgroup ``path``: an OSError (EBUSY) while it holds a process."""
    os.rmdir(path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _write(folder: str, name: str, value: str, optional: bool = False) -> None:
    path = os.path.join(folder, name)
    if optional and not os.path.exists(path):
        return
    with open(path, "w") as control:
        control.write(value)


# Waits until its stdin ends (the grader holding the pipe's other end has ended, however), then
# kills every process in that grader's jail cgroups ("$1"/"$2"-*), round after round until none is
# left (a jail being set up may still fork), at most 50 rounds.
_REAPER = (
    'read _; i=0; while [ "$i" -lt 50 ]; do i=$((i + 1)); found=; '
    'for f in "$1"/"$2"-*/cgroup.procs; do [ -f "$f" ] || continue; '
    'for p in $(cat "$f"); do kill -9 "$p" 2>/dev/null && found=1; done; done; '
    '[ -n "$found" ] || exit 0; sleep 0.1; done'
)
_reaper: subprocess.Popen | None = None


def start_reaper(layout: CgroupLayout) -> None:
    """Once per grader process: a shell that, when this process ends (SIGKILL included: its stdin
    is a pipe only this process holds), kills whatever is left in this process's jail cgroups.
    bubblewrap ties a jail's first process to itself only once that process has set the jail up,
    so a grader killed meanwhile left the jail to start its kernel under init."""
    global _reaper
    if _reaper is not None and _reaper.poll() is None:
        return
    _reaper = subprocess.Popen(
        ["/bin/sh", "-c", _REAPER, "tinytorch-jail-reaper", layout.parents[0], str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not stopped by a ^C meant for the grader
    )


def enter_argv(cgroup: JailCgroup, argv: list[str]) -> list[str]:
    """``argv`` run by a shell that first moves itself into the jail's cgroups, then execs it
    (same pid: bubblewrap and everything it starts are in the cgroups from their first
    instruction)."""
    return ["/bin/sh", "-c", _ENTER, "tinytorch-jail-cgroup", *cgroup.procs_files(), "--", *argv]


def own_cgroup(hierarchy: str, proc_cgroup: str | None = None) -> str | None:
    """This process's cgroup path in ``hierarchy`` (a v1 controller name, or "" for v2), from
    ``proc_cgroup`` (default :data:`PROC_SELF_CGROUP`); None when it is not listed."""
    with open(proc_cgroup or PROC_SELF_CGROUP) as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers.split(",") == [hierarchy] or (hierarchy == "" and controllers == ""):
                return path
    return None


def _v1_parents(settings: JailSettings) -> tuple[str, ...] | None:
    parents = []
    for controller in ("memory", "pids"):
        mount = os.path.join(CGROUP_ROOT, controller)
        own = own_cgroup(controller)
        if own is None or not os.path.isfile(os.path.join(mount, "cgroup.procs")):
            return None
        parents.append(os.path.join(mount + own, settings.cgroup_name))
    return tuple(parents)


def _v2_parent(settings: JailSettings) -> str | None:
    if not os.path.isfile(os.path.join(CGROUP_ROOT, "cgroup.subtree_control")):
        return None
    if settings.cgroup_v2_parent:
        return os.path.join(CGROUP_ROOT, settings.cgroup_v2_parent.lstrip("/"))
    own = own_cgroup("")
    return None if own is None else os.path.join(CGROUP_ROOT, own.lstrip("/"))


def _usable(layout: CgroupLayout, settings: JailSettings) -> str | None:
    """None when a jail cgroup can be made under ``layout`` (tried for real), else why not."""
    if layout.version == 2:
        try:
            with open(os.path.join(layout.parents[0], "cgroup.subtree_control")) as control:
                enabled = control.read().split()
        except OSError as error:
            return f"{layout.parents[0]} is not a cgroup this grader can read ({error.strerror or error})"
        missing = {"memory", "pids"} - set(enabled)
        if missing:
            return (
                f"{layout.parents[0]} does not enable {', '.join(sorted(missing))} for its "
                "children (cgroup.subtree_control)"
            )
    try:
        for parent in layout.parents:
            os.makedirs(parent, exist_ok=True)
        JailCgroup(layout, settings).remove()
    except OSError as error:
        return f"a jail cgroup could not be created: {error}"
    return None


_detected: dict[tuple, tuple[CgroupLayout | None, str]] = {}


def detect(settings: JailSettings) -> tuple[CgroupLayout | None, str]:
    """Where this grader puts its jails' cgroups, or None, with a sentence saying which
    mechanism limits memory and processes (tried once per process and settings, which also
    sweeps away the empty cgroups of graders that are gone: :func:`sweep_stale`)."""
    key = (settings.cgroups, settings.cgroup_name, settings.cgroup_v2_parent)
    if key not in _detected:
        _detected[key] = _detect(settings)
    return _detected[key]


def _detect(settings: JailSettings) -> tuple[CgroupLayout | None, str]:
    fallback = (
        "per-process rlimits only (RLIMIT_AS of {memory} MiB per process, RLIMIT_NPROC): "
        "a notebook's processes together may use more than memory_mib"
    )
    if not settings.cgroups:
        return None, fallback + " (c.JailSettings.cgroups is off)"
    reasons = []
    v1 = _v1_parents(settings)
    if v1 is not None:
        layout = CgroupLayout(1, v1)
        reason = _usable(layout, settings)
        if reason is None:
            sweep_stale(layout)
            return layout, f"{layout.describe()}: total memory and pids per jail, rlimits too"
        reasons.append(f"cgroup v1: {reason}")
    v2 = _v2_parent(settings)
    if v2 is not None:
        layout = CgroupLayout(2, (v2,))
        reason = _usable(layout, settings)
        if reason is None:
            sweep_stale(layout)
            return layout, f"{layout.describe()}: total memory and pids per jail, rlimits too"
        # cgroup v2 puts processes only in leaves: the grader's own cgroup can hold no jails
        own = (
            ""
            if settings.cgroup_v2_parent
            else " (the cgroup the grader runs in cannot enable them while it holds the grader)"
        )
        reasons.append(
            f"cgroup v2: {reason}{own}; delegate a subtree with memory and pids enabled "
            "and name it in c.JailSettings.cgroup_v2_parent"
        )
    if not reasons:
        reasons.append("no writable cgroup hierarchy with memory and pids controllers")
    return None, fallback + " (" + "; ".join(reasons) + ")"


class MemoryWatch:
    """Calls ``on_oom`` once when the OOM killer of the jail's memory cgroup kills a process:
    under cgroup v1 it kills one process (usually a child), and the grader then stops the whole
    jail so that a notebook over its memory limit ends the same way everywhere."""

    def __init__(self, cgroup: JailCgroup, on_oom: Callable[[], None]) -> None:
        self._cgroup = cgroup
        self._on_oom = on_oom
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="jail-memory-watch")
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopped.wait(_POLL_S):
            if self._cgroup.oom_kills() > 0:
                self._on_oom()
                return

    def stop(self) -> None:
        """Stop watching (the thread ends within one poll)."""
        self._stopped.set()
