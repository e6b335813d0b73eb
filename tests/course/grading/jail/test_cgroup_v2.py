"""The jail's totals on cgroup v2, the default of current Linux distributions, against a fake
cgroup v2 tree: this machine binds memory and pids to cgroup v1, so the v2 path cannot run here
for real. The tree is real folders and files in the layout the kernel shows (``cgroup.procs``,
``cgroup.subtree_control``, ``memory.max``, ``memory.events``, …, and ``/proc/self/cgroup``);
only what the kernel does on ``mkdir`` and ``rmdir`` in a cgroup file system (create the control
files; refuse to remove a cgroup that holds a live process) is played by the fixture. Each test
checks the files the jail writes and reads, the launcher that enters the cgroup (a real shell),
and the fallback it reports."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from tinytorch_course.grading.jail import cgroup
from tinytorch_course.grading.jail.settings import JailSettings

GRADER = "grading.slice/tinytorch.service"  # the grader's own cgroup, listed in /proc/self/cgroup
DELEGATED = "grading.slice/jails"  # a subtree delegated to the grader
# The control files the kernel creates in a new cgroup v2 with memory and pids enabled.
CONTROL_FILES = {
    "cgroup.procs": "",
    "cgroup.subtree_control": "",
    "memory.max": "max\n",
    "memory.swap.max": "max\n",
    "memory.oom.group": "0\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
    "pids.max": "max\n",
}


class FakeCgroup2:
    """A cgroup v2 tree under ``root``: the unified hierarchy's root, the grader's cgroup and a
    delegated subtree, each with its control files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("", GRADER, DELEGATED):
            self.fill(root / folder)
        (root / "cgroup.subtree_control").write_text("cpu memory pids\n")
        self.proc_self = root.parent / "proc-self-cgroup"
        self.proc_self.write_text(f"0::/{GRADER}\n")

    @staticmethod
    def fill(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in CONTROL_FILES.items():
            (folder / name).write_text(text)

    def enable(self, cgroup_path: str, controllers: str) -> None:
        (self.root / cgroup_path / "cgroup.subtree_control").write_text(controllers + "\n")

    def make(self, path: str) -> None:
        """mkdir in a cgroup file system: the new cgroup comes with its control files."""
        os.mkdir(path)
        self.fill(Path(path))

    @staticmethod
    def remove(path: str) -> None:
        """rmdir in a cgroup file system: EBUSY while a listed process lives, else the cgroup goes
        with its control files."""
        procs = Path(path, "cgroup.procs").read_text().split()
        if any(Path(f"/proc/{pid}").exists() and _alive(int(pid)) for pid in procs):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), path)
        shutil.rmtree(path)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def tree(tmp_path, monkeypatch) -> FakeCgroup2:
    fake = FakeCgroup2(tmp_path / "cgroup")
    monkeypatch.setattr(cgroup, "CGROUP_ROOT", str(fake.root))
    monkeypatch.setattr(cgroup, "PROC_SELF_CGROUP", str(fake.proc_self))
    monkeypatch.setattr(cgroup, "make_cgroup", fake.make)
    monkeypatch.setattr(cgroup, "remove_cgroup", fake.remove)
    monkeypatch.setattr(cgroup, "_detected", {})
    return fake


def settings(**values) -> JailSettings:
    return JailSettings(**{"memory_mib": 1024, "max_processes": 64, **values})


def test_a_delegated_subtree_is_used_and_said_so(tree):
    tree.enable(DELEGATED, "memory pids")
    layout, sentence = cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    parent = str(tree.root / DELEGATED)
    assert layout == cgroup.CgroupLayout(2, (parent,))
    assert sentence == f"cgroup v2 ({parent}): total memory and pids per jail, rlimits too"
    assert sorted(p.name for p in Path(parent).iterdir() if p.is_dir()) == [], "the trial cgroup is gone"


def test_the_jail_cgroup_gets_its_limits_in_the_v2_files(tree):
    tree.enable(DELEGATED, "memory pids")
    layout, _ = cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    jail = cgroup.JailCgroup(layout, settings())
    (path,) = jail.paths
    assert Path(path).parent == tree.root / DELEGATED and Path(path).name.startswith(f"{os.getpid()}-")
    written = {name: Path(path, name).read_text() for name in ("memory.max", "memory.swap.max", "memory.oom.group")}
    assert written == {"memory.max": str(1024 << 20), "memory.swap.max": "0", "memory.oom.group": "1"}
    assert Path(path, "pids.max").read_text() == "64"
    assert jail.procs_files() == [f"{path}/cgroup.procs"]
    jail.remove()
    assert not Path(path).exists()


def test_the_launcher_enters_the_cgroup_before_it_execs(tree):
    tree.enable(DELEGATED, "memory pids")
    layout, _ = cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    jail = cgroup.JailCgroup(layout, settings())
    argv = cgroup.enter_argv(jail, ["/bin/sh", "-c", "echo $$"])
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    entered = Path(jail.procs_files()[0]).read_text().split()
    assert entered == [done.stdout.strip()], "the pid written is the pid that then runs the command"
    jail.remove()


def test_a_launcher_that_cannot_enter_its_cgroup_runs_nothing(tree, tmp_path):
    tree.enable(DELEGATED, "memory pids")
    layout, _ = cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    jail = cgroup.JailCgroup(layout, settings())
    marker = tmp_path / "ran"
    os.chmod(jail.procs_files()[0], 0o444)
    argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    argv += cgroup.enter_argv(jail, ["/bin/sh", "-c", f"touch {marker}"])
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 125 and not marker.exists(), result.stderr
    jail.remove()


def test_oom_kills_are_read_from_memory_events_and_stop_the_jail(tree):
    tree.enable(DELEGATED, "memory pids")
    layout, _ = cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    jail = cgroup.JailCgroup(layout, settings())
    events = Path(jail.paths[0], "memory.events")
    assert jail.oom_kills() == 0
    stopped = threading.Event()
    watch = cgroup.MemoryWatch(jail, stopped.set)
    events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert stopped.wait(5), "the watch calls back within a few polls"
    watch.stop()
    assert jail.oom_kills() == 1
    jail.remove()


def test_removing_a_jail_kills_what_is_left_in_it(tree):
    tree.enable(DELEGATED, "memory pids")
    layout, _ = cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    jail = cgroup.JailCgroup(layout, settings())
    left = subprocess.Popen(["sleep", "60"])
    Path(jail.procs_files()[0]).write_text(f"{left.pid}\n")
    jail.remove()
    assert left.wait(5) == -signal.SIGKILL and not Path(jail.paths[0]).exists()


def test_empty_cgroups_of_graders_that_are_gone_are_swept(tree):
    tree.enable(DELEGATED, "memory pids")
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tree.root / DELEGATED / f"{gone.pid}-0"
    mine = tree.root / DELEGATED / f"{os.getpid()}-999"
    for folder in (stale, mine):
        tree.make(str(folder))
    cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    assert not stale.exists() and mine.exists(), "a running grader's cgroup stays"


def test_the_graders_own_cgroup_is_the_default_parent(tree):
    tree.enable(GRADER, "memory pids")
    layout, _ = cgroup.detect(settings())
    assert layout == cgroup.CgroupLayout(2, (str(tree.root / GRADER),))


def test_the_default_parent_without_controllers_says_how_to_delegate(tree):
    """The usual case: cgroup v2 puts processes only in leaves, so the cgroup the grader runs in
    cannot enable controllers for jails beside it; the fallback says what to do instead."""
    layout, sentence = cgroup.detect(settings())
    assert layout is None
    assert f"cgroup v2: {tree.root / GRADER} does not enable memory, pids for its children" in sentence
    assert "the cgroup the grader runs in cannot enable them while it holds the grader" in sentence


@pytest.mark.parametrize(
    "enabled, missing",
    [("", "memory, pids"), ("memory", "pids"), ("pids cpu", "memory")],
)
def test_a_parent_without_the_controllers_falls_back_saying_why(tree, enabled, missing):
    tree.enable(DELEGATED, enabled)
    layout, sentence = cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    assert layout is None
    assert sentence.startswith("per-process rlimits only (RLIMIT_AS of {memory} MiB per process, RLIMIT_NPROC)")
    assert (
        f"cgroup v2: {tree.root / DELEGATED} does not enable {missing} for its children (cgroup.subtree_control)"
        in sentence
    )
    assert "name it in c.JailSettings.cgroup_v2_parent" in sentence


def test_a_parent_that_is_no_cgroup_falls_back_saying_why(tree):
    layout, sentence = cgroup.detect(settings(cgroup_v2_parent="no/such/cgroup"))
    assert layout is None
    assert f"cgroup v2: {tree.root / 'no/such/cgroup'} is not a cgroup this grader can read" in sentence


def test_a_parent_the_grader_cannot_write_falls_back_saying_why(tree):
    tree.enable(DELEGATED, "memory pids")

    def refuse(path: str) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    cgroup.make_cgroup = refuse  # the fixture restores the fake
    layout, sentence = cgroup.detect(settings(cgroup_v2_parent=DELEGATED))
    assert layout is None and "cgroup v2: a jail cgroup could not be created: [Errno 13]" in sentence


def test_cgroups_switched_off_is_said_so(tree):
    tree.enable(DELEGATED, "memory pids")
    layout, sentence = cgroup.detect(settings(cgroups=False, cgroup_v2_parent=DELEGATED))
    assert layout is None and sentence.endswith("(c.JailSettings.cgroups is off)")
