"""What an act and a jailed kernel leave behind, graded by stock `nbgrader autograde` in real jails.

- An act that runs past the time its test has left is interrupted, and an answer it gives after
  that is not taken; one that ignores the interrupt has its kernel stopped, and the tests say so.
  An act that prints without end is stopped once it has printed ``MAX_ACT_OUTPUT_CHARS``, and the
  grader's memory stays bounded while it prints. In each case the next test, honest, scores, and
  honest students graded before and after keep their exact scores. A notebook that undoes its
  kernel's bound on printed messages loses its own tests, nobody else's. What a notebook's own
  cells print is kept only up to a bound.
- A grading process SIGKILLed while its kernels start, or while a notebook runs (nbgrader itself,
  or the worker that asked the fork server for it), leaves no process behind: every jail dies
  with the grader that launched it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbgrader.api import Gradebook

from tinytorch_course.grading.forkserver import SERVER_VARIABLE
from tinytorch_course.grading.jail.settings import JailSettings
from tinytorch_course.grading.preprocessors.twokernelexecute import (
    MAX_ACT_OUTPUT_CHARS,
    MAX_KEPT_OUTPUT_CHARS,
    OUTPUT_NOT_KEPT,
)
from tinytorch_course.paths import EVENT_KEY_VARIABLE, REPO, nbgrader_command, nbgrader_env

from jail_course import ASSIGNMENT, EVENT_KEY, NOTEBOOK, autograded, build_course, cell, errors, graded_cell, submit

CELL_TIMEOUT = 15
POINTS = {"test-one": 1.0, "test-two": 1.0}
#: The grader's resident memory may not pass this while a student's act prints without end (an
#: nbgrader process grading this small course holds about 150 MiB).
GRADER_MEMORY_MIB = 400

HONEST = """
def answer(x):
    return x + 1
"""
# Sleeps past the cell timeout on the first test's act; honest on the second.
SLEEPER = """
import time
def answer(x):
    if x == 1:
        time.sleep(10**6)
    return x + 1
"""
# Sleeps until interrupted, then gives the right answer: an answer after the act's time.
LATE = """
import time
def answer(x):
    if x == 1:
        try:
            time.sleep(10**6)
        except KeyboardInterrupt:
            pass
    return x + 1
"""
# Ignores every interrupt on the first test's act.
STUBBORN = """
import time
def answer(x):
    while x == 1:
        try:
            time.sleep(10**6)
        except KeyboardInterrupt:
            pass
    return x + 1
"""
# Prints without end on the first test's act.
FLOODER = """
def answer(x):
    while x == 1:
        print("y" * 1000)
    return x + 1
"""
# Prints without end on the first test's act, and goes on after every interrupt.
STUBBORN_FLOODER = """
def answer(x):
    while x == 1:
        try:
            while True:
                print("y" * 1000)
        except KeyboardInterrupt:
            pass
    return x + 1
"""
# Undoes the kernel's bound on printed messages (tinytorch.acts.bound_streams), then prints without
# end on the first test's act: its output comes in messages over the grader's per-message bound.
UNBOUNDED_FLOODER = """
import sys
def answer(x):
    if x == 1:
        for stream in (sys.stdout, sys.stderr):
            stream.__class__ = stream.__class__.__mro__[1]
    while x == 1:
        print("y" * 1000)
    return x + 1
"""
# Prints 200 MB in its answer cell (not in an act), then answers honestly.
CELL_FLOODER = """
for _ in range(200):
    print("y" * 1_000_000)
def answer(x):
    return x + 1
"""
STUDENTS = {
    "a-honest": HONEST,
    "b-sleeper": SLEEPER,
    "c-late": LATE,
    "d-stubborn": STUBBORN,
    "e-flooder": FLOODER,
    "f-stubborn-flooder": STUBBORN_FLOODER,
    "g-unbounded-flooder": UNBOUNDED_FLOODER,
    "h-cell-flooder": CELL_FLOODER,
    "z-honest": HONEST,
}
FULL = dict(POINTS)
FIRST_LOST = {"test-one": 0.0, "test-two": 1.0}
EXPECTED = {
    "a-honest": FULL,
    "b-sleeper": FIRST_LOST,
    "c-late": FIRST_LOST,
    "d-stubborn": {"test-one": 0.0, "test-two": 0.0},
    "e-flooder": FIRST_LOST,
    "f-stubborn-flooder": {"test-one": 0.0, "test-two": 0.0},
    # Only its first test is certain, see SELF_INFLICTED.
    "g-unbounded-flooder": {"test-one": 0.0},
    "h-cell-flooder": FULL,
    "z-honest": FULL,
}
#: What a notebook that undoes its kernel's bound on printed messages may lose besides the test
#: it floods in: its messages over the grader's per-message bound (MAX_OUTPUT_MESSAGE_BYTES) are
#: dropped with their connection, and what the kernel sends while zmq connects again (the act's
#: end, a later act's answer) may be lost too. Only that notebook's own tests, so not judged here.
SELF_INFLICTED = {"g-unbounded-flooder": ("test-two",)}
STOPPED_FLOODING = (
    rf"your code printed more than {MAX_ACT_OUTPUT_CHARS} characters during a test and went on after the interrupt"
)
STOPPED_PAST_TIMEOUT = r"this cell ran past its \d+ s timeout and ignored the interrupt"
RAN_PAST = r"ActError: your code ran past the \d+ s this test had left for it and was interrupted"


def act_notebook():
    """An assignment whose tests ask the student's kernel for ``answer(x)`` (act, then judge)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        graded_cell("acts", "from tinytorch.acts import act\n\n\n@act\ndef answer_of(x):\n    return answer(x)\n"),
        graded_cell("answer", "### BEGIN SOLUTION\ndef answer(x):\n    return x + 1\n### END SOLUTION", solution=True),
        graded_cell("test-one", "assert answer_of(1) == 2", points=POINTS["test-one"]),
        graded_cell("test-two", "assert answer_of(2) == 3", points=POINTS["test-two"]),
    ]
    return nb


def hand_in(root: Path, release: Path, student: str, code: str) -> None:
    """Hand in the release with ``code`` in the answer cell."""
    nb = nbformat.read(str(release), as_version=4)
    cell(nb, "answer").source = textwrap.dedent(code).strip() + "\n"
    path = root / "submitted" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


class PeakMemory:
    """The highest resident memory of a process, sampled every 50 ms until it ends."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._process = psutil.Process(pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while True:
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    def join(self) -> int:
        self._thread.join()
        return self.peak


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The students graded by one stock `nbgrader autograde`: (course root, its output, the
    grader's peak resident memory in bytes)."""
    root = tmp_path_factory.mktemp("lifetime")
    release = build_course(root, act_notebook())
    for student, code in STUDENTS.items():
        hand_in(root, release, student, code)
    env = {**nbgrader_env(), EVENT_KEY_VARIABLE: EVENT_KEY}
    grader = subprocess.Popen(
        nbgrader_command(
            "autograde", ASSIGNMENT, f"--CourseDirectory.root={root}", f"--Execute.timeout={CELL_TIMEOUT}"
        ),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    memory = PeakMemory(grader.pid)
    out, _ = grader.communicate(timeout=600)
    assert grader.returncode == 0, out[-5000:]
    return root, out, memory.join()


def _scores(root: Path, student: str) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        return {grade.name: grade.score for grade in notebook.grades}


def test_honest_students_before_and_after_keep_their_exact_scores_and_each_act_costs_its_own_test(graded):
    root, out, _ = graded
    scores = {student: _scores(root, student) for student in STUDENTS}
    for student, uncertain in SELF_INFLICTED.items():
        scores[student] = {test: score for test, score in scores[student].items() if test not in uncertain}
    assert scores == EXPECTED, out[-5000:]


def test_an_act_past_its_time_is_interrupted_and_a_later_answer_is_not_taken(graded):
    root, _, _ = graded
    for student in ("b-sleeper", "c-late"):
        nb = autograded(root, student)
        (error,) = errors(nb, "test-one")
        assert re.fullmatch(RAN_PAST, error), (student, error)
        assert errors(nb, "test-two") == [], student


def test_an_act_that_ignores_the_interrupt_stops_its_kernel_and_the_tests_say_so(graded):
    nb = autograded(graded[0], "d-stubborn")
    (error,) = errors(nb, "test-one")
    assert re.fullmatch(
        r"ActError: the kernel running your code stopped during this test \(this cell ran past its \d+ s "
        r"timeout and ignored the interrupt, so the kernel was stopped\)",
        error,
    ), error
    (after,) = errors(nb, "test-two")
    assert after.startswith("ActError: the kernel running your code had stopped (this cell ran past its"), after


def test_a_flooding_act_is_stopped_while_it_prints_and_the_grader_memory_stays_bounded(graded):
    root, out, peak = graded
    flooder = autograded(root, "e-flooder")
    (error,) = errors(flooder, "test-one")
    assert error == (
        f"ActError: your code printed more than {MAX_ACT_OUTPUT_CHARS} characters during this test; it was stopped"
    ), error
    assert errors(flooder, "test-two") == []
    stubborn = autograded(root, "f-stubborn-flooder")
    (error,) = errors(stubborn, "test-one")
    stopped = rf"\({STOPPED_FLOODING}, so the kernel was stopped\)"
    assert re.fullmatch(r"ActError: the kernel running your code stopped during this test " + stopped, error), error
    (after,) = errors(stubborn, "test-two")
    assert re.fullmatch(r"ActError: the kernel running your code had stopped " + stopped, after), after
    assert peak < GRADER_MEMORY_MIB << 20, f"the grader held {peak >> 20} MiB"


def test_a_cell_that_prints_without_measure_keeps_only_the_bounded_output_and_its_points(graded):
    """What the notebook's own cells print is kept up to MAX_KEPT_OUTPUT_CHARS in all; the rest
    is dropped as it arrives (the memory bound is the flooding test's), and the cell says so."""
    outputs = cell(autograded(graded[0], "h-cell-flooder"), "answer").outputs
    texts = [output.get("text", "") for output in outputs]
    assert texts[-1] == OUTPUT_NOT_KEPT, texts[-1][-200:]
    assert 0 < sum(map(len, texts[:-1])) <= MAX_KEPT_OUTPUT_CHARS


def test_a_flood_in_messages_over_the_bound_costs_only_its_own_test(graded):
    """Its messages over the bound are dropped unread, so the flood is seen by the act's time
    running out, or by the messages that were small enough to count; the honest student graded
    after it keeps every point (the scores test)."""
    (error,) = errors(autograded(graded[0], "g-unbounded-flooder"), "test-one")
    assert re.fullmatch(
        "|".join(
            [
                RAN_PAST,
                rf"ActError: your code printed more than {MAX_ACT_OUTPUT_CHARS} characters during this test; it was "
                r"stopped",
                rf"ActError: the kernel running your code stopped during this test \(({STOPPED_PAST_TIMEOUT}|"
                rf"{STOPPED_FLOODING}), so the kernel was stopped\)",
            ]
        ),
        error,
    ), error


# bubblewrap behind a shim that says when a kernel's jail is being launched, and by which grader,
# and holds the launch up for a moment at one of two places: before bubblewrap runs (the window
# before its own --die-with-parent), or while the jail's first process sets the jail up (it reads
# a file's content from a pipe that stays empty: the window before that process ties itself to
# bubblewrap), so a grading process can be killed inside either.
SHIM = """#!{python}
import os, sys, time
argv = sys.argv[1:]
if any("ipykernel_launcher" in arg for arg in argv):
    with open({launching!r}, "a") as out:
        out.write(f"{{os.getppid()}}\\n")  # the grader (each launch step is an exec)
    if {hold!r} == "before-bubblewrap-runs":
        time.sleep({delay})
    elif {hold!r} == "while-bubblewrap-sets-up-the-jail":
        read, write = os.pipe()
        if os.fork() == 0:
            time.sleep({delay})
            os._exit(0)
        os.close(write)
        os.set_inheritable(read, True)
        cut = argv.index("--")
        argv[cut:cut] = ["--file", str(read), "/tmp/held-up"]
os.execv({bwrap!r}, [{bwrap!r}, *argv])
"""
LAUNCH_DELAY_S = 3
KERNEL_TOKEN = "lt" + os.urandom(4).hex()
# A Dask worker's side of a grading task: nbgrader run by a fork server, here this process's own.
WORKER = """
import sys
from pathlib import Path
from tinytorch_course.grading.forkserver import run_nbgrader
run_nbgrader(sys.argv[1:], Path({cwd!r}), {env!r}, Path({log!r}))
"""
# The student's code names its kernel process, then runs until the grader is gone.
NAMED_SLEEPER = f"""
with open("/proc/self/comm", "w") as comm:
    comm.write("{KERNEL_TOKEN}")
import time
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _run_processes(grader_pid: int) -> list[str]:
    """The live processes of the grader ``grader_pid``'s jails, found by their cgroups (each jail's
    is named after its grader's pid and entered before anything of the jail runs), and any the
    student's code named."""
    marker = f"/{JailSettings().cgroup_name}/{grader_pid}-"
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            cgroups = Path(f"/proc/{process.pid}/cgroup").read_text()
        except OSError:  # ended while we looked
            continue
        if (marker in cgroups or process.info["name"] == KERNEL_TOKEN) and _alive(process.pid):
            found.append(f"{process.pid} {process.info['name']}")
    return found


def _setting_up(launching: Path) -> bool:
    """Whether a jail's first process (bubblewrap's child, in the jail's cgroup) is there."""
    grader = int(launching.read_text().split()[0])
    for line in _run_processes(grader):
        pid, name = line.split()
        try:
            if name == "bwrap" and psutil.Process(int(pid)).parent().name() == "bwrap":
                return True
        except (psutil.NoSuchProcess, AttributeError):
            continue
    return False


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("killed", ["nbgrader", "worker"])
@pytest.mark.parametrize(
    "moment", ["before-bubblewrap-runs", "while-bubblewrap-sets-up-the-jail", "while-the-notebook-runs"]
)
def test_a_grading_process_killed_leaves_no_process_of_its_run(tmp_path, moment, killed):
    """SIGKILL a grading process at a moment of the notebook: the nbgrader process, or the worker
    that asked the fork server for it (the server's watcher then kills the run, as when a Dask
    worker dies); then no process of the run may live on: neither nbgrader, the fork server's, nor
    any process of its jails."""
    release = build_course(tmp_path)
    submit(tmp_path, release, "victim", NAMED_SLEEPER)
    launching = tmp_path / "launching"
    shim = tmp_path / "bwrap-shim"
    delay = 0 if moment == "while-the-notebook-runs" else LAUNCH_DELAY_S
    shim.write_text(
        SHIM.format(python=sys.executable, launching=str(launching), hold=moment, delay=delay, bwrap="/usr/bin/bwrap")
    )
    shim.chmod(0o755)
    command = nbgrader_command(
        "autograde", ASSIGNMENT, f"--CourseDirectory.root={tmp_path}", f"--JailSettings.bwrap={shim}"
    )
    env = {**nbgrader_env(), EVENT_KEY_VARIABLE: EVENT_KEY}
    if killed == "worker":
        env.pop(SERVER_VARIABLE, None)  # the worker starts a server of its own
        worker_code = WORKER.format(cwd=str(REPO), env=env, log=str(tmp_path / "nbgrader.log"))
        command = [sys.executable, "-c", worker_code, *command[3:]]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = {
            "before-bubblewrap-runs": launching.is_file,
            "while-bubblewrap-sets-up-the-jail": lambda: launching.is_file() and _setting_up(launching),
            "while-the-notebook-runs": lambda: any(
                p.info["name"] == KERNEL_TOKEN for p in psutil.process_iter(["name"])
            ),
        }[moment]
        deadline = time.monotonic() + 300
        while not ready():
            assert process.poll() is None and time.monotonic() < deadline, f"grading never reached {moment}"
            time.sleep(0.02)
        grader = int(launching.read_text().split()[0])
        started = _descendants(process.pid)
        before = _run_processes(grader)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    time.sleep(delay + 5)  # a launch the kill did not stop has started its jail by now
    after = sorted(set(_run_processes(grader)) | {f"{p.pid} {p.name()}" for p in started if _alive(p.pid)})
    for line in after:  # nothing of this test may outlive it
        os.kill(int(line.split()[0]), signal.SIGKILL)
    assert before, "no process of the grader's jails was found while it ran (are cgroups off?)"
    assert after == [], f"alive after the {killed} was killed: {after}"
