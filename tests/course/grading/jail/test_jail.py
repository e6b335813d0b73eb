"""The grading jail, attacked for real: stock `nbgrader autograde` (this repo's nbgrader_config.py)
grades purpose-written notebooks in real bubblewrap jails, with small limits so the floods stay
harmless on a 2-core machine. Perfect students are graded before and after the attackers in the
same run and must keep their exact scores."""

from __future__ import annotations

import os
import random
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from tinytorch_course.grading.jail.bwrap import SOCKET_DIR, SOCKET_DIR_BYTES, STUDENT_MOUNT, WORK_PARENT
from tinytorch_course.grading.jail.events import (
    BUDGET_EXCEEDED,
    JAIL_REFUSED,
    KERNEL_DIED,
    UNSAFE_NO_SANDBOX,
    format_event,
    new_key,
    parse_events,
)
from tinytorch_course.paths import REPO

from jail_course import (
    ASSIGNMENT,
    EVENT_KEY,
    POINTS,
    STOPPED_ACT,
    autograded,
    build_course,
    errors,
    probe_report,
    report,
    run_nbgrader,
    submit,
    visibility_probe,
)

BUDGET_S = 20
MEMORY_MIB = 1024
MAX_PROCESSES = 64
WRITE_MIB = 32
LIMITS = [
    f"--JailSettings.budget_s={BUDGET_S}",
    f"--JailSettings.memory_mib={MEMORY_MIB}",
    f"--JailSettings.max_processes={MAX_PROCESSES}",
    f"--JailSettings.write_mib={WRITE_MIB}",
    # far above the budget: a notebook that stops early was stopped by the budget
    "--Execute.timeout=600",
]
FULL = sum(POINTS.values())

# Processes named by this run's own number, so a leftover is found without confusing it with
# anything else on the machine.
MARKER = str(random.randrange(10**8, 10**9))

# Its parent (the jail's init, root) refuses the signal; everything else it can signal dies.
KILLER = """
import os, signal
for target in (os.getppid(), -1, os.getpid()):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
"""
DAEMON = f"""
import os, subprocess
subprocess.Popen(["sleep", "{MARKER}1"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "{MARKER}2"])
    os._exit(0)
"""
LIMITS_PROBE = report(f"""
    import errno, os, time
    try:
        block = bytearray({2 * MEMORY_MIB} * 1024 * 1024)
        found["memory"] = "allocated"
        del block
    except MemoryError:
        found["memory"] = "MemoryError"

    def fill(path):
        try:
            with open(path, "wb") as out:
                for _ in range({2 * WRITE_MIB}):
                    out.write(bytes(1024 * 1024))
            return "written"
        except OSError as error:
            return errno.errorcode[error.errno]
        finally:
            if os.path.exists(path):
                os.remove(path)

    found["tmp"] = fill("/tmp/fill")
    found["workdir"] = fill("fill")
    children = []
    try:
        for _ in range({2 * MAX_PROCESSES}):
            pid = os.fork()
            if pid == 0:
                time.sleep(2)
                os._exit(0)
            children.append(pid)
        found["fork_error"] = None
    except OSError as error:
        found["fork_error"] = errno.errorcode[error.errno]
    found["forks"] = len(children)
    for pid in children:
        os.waitpid(pid, 0)
""")
# Every other place a kernel might write: its socket folder (found from its connection file),
# the jail's root and /dev. Files of 1 MiB each, so RLIMIT_FSIZE (one file's size) stops none.
WRITE_PLACES_PROBE = report(f"""
    import errno, json, os
    from ipykernel.kernelapp import IPKernelApp
    sockets = os.path.dirname(json.load(open(IPKernelApp.instance().connection_file))["ip"])

    def fill(folder):
        written = 0
        try:
            for n in range({2 * WRITE_MIB}):
                with open(os.path.join(folder, f"fill-{{n}}"), "wb") as out:
                    out.write(bytes(1024 * 1024))
                written += 1
            error = None
        except OSError as err:
            error = errno.errorcode[err.errno]
        return [written, error]

    found["sockets"] = fill(sockets)
    found["socket_dir"] = sockets
    for place in ("/", "/dev", "/dev/shm", "/run"):
        found[place] = fill(place)
""")
LOOP = """
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
"""


def marked_processes() -> list[str]:
    """Command lines of live processes carrying this run's marker."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if MARKER in cmdline and "pytest" not in cmdline:
            found.append(cmdline)
    return found


@dataclass
class Run:
    root: Path
    result: object
    seconds: float
    listener: socket.socket
    probe_paths: list

    def events(self, name: str, student: str) -> list:
        return [
            e
            for e in parse_events(self.result.stderr, EVENT_KEY)
            if e.event == name and Path(e.cwd).parts[-2:] == (student, ASSIGNMENT)
        ]

    def score(self, student: str) -> float:
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            return gb.find_submission(ASSIGNMENT, student).score


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A released course, a copy of it for the runs outside the jail, and a listener on
    127.0.0.1 that no jailed kernel may reach."""
    root = tmp_path_factory.mktemp("jail-course")
    release = build_course(root)
    pristine = tmp_path_factory.mktemp("unjailed-course")
    shutil.copytree(root, pristine, dirs_exist_ok=True)  # before anyone is graded
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    paths = [
        str(root / "gradebook.db"),
        str(root / "submitted"),
        str(root / "autograded"),
        str(root / "build"),
        str(REPO / "src"),
        str(REPO / "tinytorch_course"),
        str(REPO / "tinytorch" / "olympics"),
        str(REPO / "nbgrader_config.py"),
    ]
    probe = visibility_probe(paths, listener.getsockname()[1])
    yield root, release, listener, paths, probe, pristine
    listener.close()


@pytest.fixture(scope="module")
def jailed(course) -> Run:
    root, release, listener, paths, probe, _ = course
    students = {
        "a-control": "pass",
        "b-probe": probe,
        "c-killer": KILLER,
        "d-daemon": DAEMON,
        "e-limits": LIMITS_PROBE,
        "f-loop": LOOP,
        "g-write-places": WRITE_PLACES_PROBE,
        "z-control": "pass",
    }
    for student, code in students.items():
        submit(root, release, student, code)
    start = time.monotonic()
    result = run_nbgrader(root, "autograde", ASSIGNMENT, *LIMITS)
    return Run(root, result, time.monotonic() - start, listener, paths)


@pytest.fixture(scope="module")
def unjailed_copy(course) -> Path:
    """The copy of the released course, with only the visibility probe handed in."""
    root, release, _, _, probe, copy = course
    submit(copy, release, "b-probe", probe.replace(str(root), str(copy)))
    return copy


def test_the_run_grades_every_student(jailed):
    assert jailed.result.returncode == 0, jailed.result.stderr[-3000:]


def test_controls_before_and_after_the_attackers_keep_their_exact_score(jailed):
    assert jailed.score("a-control") == FULL
    assert jailed.score("z-control") == FULL


def test_the_kernel_sees_no_course_file_only_its_own_notebook(jailed):
    found = probe_report(autograded(jailed.root, "b-probe"))
    assert found["exists"] == {path: False for path in jailed.probe_paths}
    assert found["cwd"] == f"{WORK_PARENT}/{ASSIGNMENT}"
    assert found["listing"] == ["probe.ipynb"]
    assert found["uid"] != 0
    assert jailed.score("b-probe") == FULL


def test_the_kernel_imports_the_student_package_and_never_the_solutions(jailed):
    found = probe_report(autograded(jailed.root, "b-probe"))
    assert found["olympics"] == "ModuleNotFoundError"
    assert found["core"].startswith(f"{STUDENT_MOUNT}/tinytorch/")


def test_the_kernel_has_no_network(jailed):
    found = probe_report(autograded(jailed.root, "b-probe"))
    assert found["net"] == "ConnectionRefusedError"
    with pytest.raises(BlockingIOError):
        jailed.listener.accept()  # nothing reached the grader's loopback


def test_the_kernel_lives_in_its_own_pid_namespace(jailed):
    found = probe_report(autograded(jailed.root, "b-probe"))
    assert found["ppid"] == 1, "its parent is the jail's init, not the grader"
    assert len(found["pids"]) < 10, f"it sees only the jail's processes: {found['pids']}"


def test_killing_everything_it_can_kills_only_its_own_kernel(jailed):
    nb = autograded(jailed.root, "c-killer")
    assert jailed.score("c-killer") == POINTS["test-first"], "graded on the cells that finished"
    assert errors(nb, "free") == ["KernelStopped: the kernel died while this cell ran"]
    assert errors(nb, "test-after") == [f"{STOPPED_ACT}the kernel died while this cell ran)"]
    [died] = jailed.events(KERNEL_DIED, "c-killer")
    assert "exit status" in died.detail


def test_no_process_outlives_its_kernel(jailed):
    assert jailed.score("d-daemon") == FULL
    assert marked_processes() == []


def test_memory_processes_and_writes_hit_their_limits(jailed):
    found = probe_report(autograded(jailed.root, "e-limits"))
    assert found["memory"] == "MemoryError"
    assert found["tmp"] in {"ENOSPC", "EFBIG"} and found["workdir"] in {"ENOSPC", "EFBIG"}
    assert found["fork_error"] == "EAGAIN" and found["forks"] < MAX_PROCESSES
    assert jailed.score("e-limits") == FULL, "the kernel survives its limits"


def test_every_other_place_the_kernel_can_write_is_small_or_read_only(jailed):
    """The socket folder is a 1 MiB tmpfs of the jail's own (a folder on the grader's disk took
    1.1 GiB of files past the write limit); the root and /dev are read-only."""
    found = probe_report(autograded(jailed.root, "g-write-places"))
    assert found["socket_dir"] == SOCKET_DIR
    written_mib, error = found["sockets"]
    assert written_mib <= SOCKET_DIR_BYTES >> 20 and error == "ENOSPC", found["sockets"]
    for place in ("/", "/dev", "/dev/shm", "/run"):
        assert found[place][0] == 0 and found[place][1] in {"EROFS", "EACCES"}, (place, found[place])
    assert jailed.score("g-write-places") == FULL, "the kernel keeps working: its sockets are intact"


def test_a_notebook_that_ignores_interrupts_is_stopped_at_its_budget(jailed):
    nb = autograded(jailed.root, "f-loop")
    assert jailed.score("f-loop") == POINTS["test-first"], "graded on the cells that finished"
    assert errors(nb, "free")[0].startswith("KernelStopped: the notebook used up its wall-clock")
    assert errors(nb, "test-after")[0].startswith(f"{STOPPED_ACT}the notebook used up its wall-clock")
    [event] = jailed.events(BUDGET_EXCEEDED, "f-loop")
    assert event.extra["budget_s"] == BUDGET_S
    assert jailed.events(KERNEL_DIED, "f-loop") == [], "a budget kill is reported once"
    # with a 600 s cell timeout, only the budget can have ended the loop this soon
    assert jailed.seconds < 600


def test_no_unjailed_kernel_ran(jailed):
    assert [e for e in parse_events(jailed.result.stderr, EVENT_KEY) if e.event == UNSAFE_NO_SANDBOX] == []


def test_a_missing_bwrap_refuses_to_grade_naming_cause_and_fix(unjailed_copy):
    result = run_nbgrader(unjailed_copy, "autograde", ASSIGNMENT, "--JailSettings.bwrap=/nonexistent/bwrap")
    assert result.returncode != 0
    refused = [e for e in parse_events(result.stderr, EVENT_KEY) if e.event == JAIL_REFUSED]
    assert len(refused) == 2, "the student's kernel and the tests' kernel are each refused"
    for event in refused:
        assert Path(event.cwd).parts[-2:] == ("b-probe", ASSIGNMENT)
        assert "/nonexistent/bwrap" in event.extra["cause"]
        assert "install_bwrap.sh" in event.extra["fix"]
    assert not (unjailed_copy / "autograded" / "b-probe" / ASSIGNMENT).exists(), "nothing ran"


def test_sandbox_0_runs_unjailed_and_says_so(unjailed_copy, course):
    """Unjailed, a kernel writes straight into nbgrader's log: a forged event line there, in the
    exact form but without the run's key, is text, not an event."""
    listener, release = course[2], course[1]
    victim = str(unjailed_copy / "autograded" / "b-probe" / ASSIGNMENT)
    forged = format_event(KERNEL_DIED, victim, "forged", key=new_key())
    submit(unjailed_copy, release, "c-forger", f"import os\nos.write(2, {(forged + chr(10)).encode()!r})")
    result = run_nbgrader(unjailed_copy, "autograde", ASSIGNMENT, "--force", *LIMITS, env={"SANDBOX": "0"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert forged in result.stderr.splitlines(), "the forged line reached nbgrader's log as a line of its own"
    events = parse_events(result.stderr, EVENT_KEY)
    assert {(e.event, Path(e.cwd).parts[-2:]) for e in events} == {
        (UNSAFE_NO_SANDBOX, ("b-probe", ASSIGNMENT)),
        (UNSAFE_NO_SANDBOX, ("c-forger", ASSIGNMENT)),
    }, "only the real events count: one per unjailed kernel"
    found = probe_report(autograded(unjailed_copy, "b-probe"))
    # the same probe that sees nothing in the jail sees the course outside it
    assert found["exists"][str(unjailed_copy / "gradebook.db")] is True
    assert found["olympics"] == "imported" and found["net"] == "connected"
    listener.accept()[0].close()
