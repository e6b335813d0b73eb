"""The jail's total limits (one cgroup per jail), for real: stock `nbgrader autograde` grades
notebooks whose child processes each allocate a moderate amount; together they go over a small
memory limit in one notebook and stay under it in another. A pids cgroup is also tried directly,
on a root process that no RLIMIT_NPROC binds. Sizes stay far below this machine's memory."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from tests.processes import run_process
from tinytorch_course.grading.jail import cgroup
from tinytorch_course.grading.jail.events import BUDGET_EXCEEDED, KERNEL_DIED, parse_events
from tinytorch_course.grading.jail.settings import JailSettings

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
)
from pipeline_helpers import LOOP_FOREVER

MEMORY_MIB = 1024
CHILD_MIB = 250
OVER, UNDER = 6, 2  # 1500 MiB together (over the limit), 500 MiB (under it)
BUDGET_S = 15  # an honest notebook here takes about 6 s
# This run's own folder of jail cgroups: what is left in it afterwards is this run's leftover.
CGROUP_NAME = f"tinytorch-jail-test-{random.randrange(10**8, 10**9)}"
SETTINGS = [
    f"--JailSettings.memory_mib={MEMORY_MIB}",
    "--JailSettings.max_processes=64",
    f"--JailSettings.budget_s={BUDGET_S}",
    f"--JailSettings.cgroup_name={CGROUP_NAME}",
    "--Execute.timeout=120",
]
FULL = sum(POINTS.values())

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="cgroups are created by a root grader")


def children(count: int) -> str:
    """A free cell whose ``count`` child processes each touch CHILD_MIB MiB and hold it for a
    few seconds (all at once), then report how each ended."""
    return report(f"""
        import subprocess, sys
        hold = "import time; block = b'x' * ({CHILD_MIB} << 20); time.sleep(4)"
        started = [subprocess.Popen([sys.executable, "-c", hold]) for _ in range({count})]
        found["exits"] = [child.wait() for child in started]
    """)


def parents() -> tuple[str, ...]:
    """The folders holding this run's jail cgroups (created by the detection)."""
    layout, sentence = cgroup.detect(JailSettings(cgroup_name=CGROUP_NAME))
    assert layout is not None, f"a root grader on this machine creates cgroups: {sentence}"
    return layout.parents


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One nbgrader run: the notebook over the limit between two under it, and one stopped at
    its budget (its cgroup must go too)."""
    root = tmp_path_factory.mktemp("cgroup-course")
    release = build_course(root)
    for student, count in {"a-under": UNDER, "b-over": OVER, "c-under": UNDER}.items():
        submit(root, release, student, children(count))
    submit(root, release, "d-loop", LOOP_FOREVER)  # asleep: only the budget ends it
    result = run_nbgrader(root, "autograde", ASSIGNMENT, *SETTINGS)
    left = {parent: sorted(entry.name for entry in os.scandir(parent) if entry.is_dir()) for parent in parents()}
    yield root, result, left
    for parent in parents():
        os.rmdir(parent)


def score(root: Path, student: str) -> float:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return gb.find_submission(ASSIGNMENT, student).score


def test_processes_under_the_total_limit_run_to_the_end(graded):
    root, result, _ = graded
    assert result.returncode == 0, result.stderr[-3000:]
    for student in ("a-under", "c-under"):
        assert probe_report(autograded(root, student))["exits"] == [0] * UNDER
        assert score(root, student) == FULL


def test_processes_over_the_total_limit_stop_the_jail_and_say_memory(graded):
    root, result, _ = graded
    nb = autograded(root, "b-over")
    assert errors(nb, "free") == [
        f"KernelStopped: the notebook went over its memory limit of {MEMORY_MIB} MiB and was stopped"
    ]
    assert errors(nb, "test-after")[0].startswith(f"{STOPPED_ACT}the notebook went over its memory limit")
    assert score(root, "b-over") == POINTS["test-first"], "graded on the cells that finished"
    [died] = [
        e
        for e in parse_events(result.stderr, EVENT_KEY)
        if e.event == KERNEL_DIED and Path(e.cwd).parts[-2] == "b-over"
    ]
    assert "memory limit" in died.detail and died.extra["memory_mib"] == MEMORY_MIB
    assert [e.event for e in parse_events(result.stderr, EVENT_KEY)] == [KERNEL_DIED, BUDGET_EXCEEDED]


def test_the_log_names_the_mechanism_once(graded):
    _, result, _ = graded
    lines = [line for line in result.stderr.splitlines() if "grading jail limits:" in line]
    assert len(lines) == 1, lines
    assert "cgroup v" in lines[0] and "total memory and pids per jail" in lines[0]


def test_no_jail_cgroup_is_left_after_grading(graded):
    """Neither after the kernels that ended, nor after the OOM kill, nor after the budget kill."""
    root, _, left = graded
    assert errors(autograded(root, "d-loop"), "free")[0].startswith(
        "KernelStopped: the notebook used up its wall-clock budget"
    )
    assert left == {parent: [] for parent in parents()}


def test_the_pids_limit_holds_where_no_rlimit_does():
    """Root ignores RLIMIT_NPROC: only the pids cgroup can stop these forks."""
    settings = JailSettings(cgroup_name=f"{CGROUP_NAME}-pids", max_processes=8)
    layout, sentence = cgroup.detect(settings)
    assert layout is not None, f"a root grader on this machine creates cgroups: {sentence}"
    jail = cgroup.JailCgroup(layout, settings)
    forks = """
import errno, os, time
count = 0
for _ in range(32):
    try:
        pid = os.fork()
    except OSError as error:
        print(count, errno.errorcode[error.errno])
        break
    if pid == 0:
        time.sleep(2)
        os._exit(0)
    count += 1
"""
    try:
        result = run_process(cgroup.enter_argv(jail, [sys.executable, "-c", forks]), timeout=60)
    finally:
        jail.remove()
        for parent in layout.parents:
            os.rmdir(parent)
    # the python process itself is one of the 8
    assert result.stdout.split() == ["7", "EAGAIN"]
    assert not any(os.path.exists(path) for path in jail.paths)


def test_without_cgroups_the_log_says_only_rlimits_hold():
    layout, sentence = cgroup.detect(JailSettings(cgroups=False))
    assert layout is None
    assert sentence.startswith("per-process rlimits only") and "cgroups is off" in sentence


def test_empty_cgroups_of_graders_that_are_gone_are_swept_at_detection():
    """A grader killed with SIGKILL (its worker lost) leaves its jail's cgroup behind; the next
    grader's detection removes it, and nothing of a grader still running or still in use."""
    settings = JailSettings(cgroup_name=f"tinytorch-jail-sweep-{random.randrange(10**8, 10**9)}")
    layout, _ = cgroup.detect(settings)
    assert layout is not None
    gone = run_process([sys.executable, "-c", "import os; print(os.getpid())"])
    dead = int(gone.stdout)
    busy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    names = {"stale": f"{dead}-0", "busy": f"{dead}-1", "running": f"{os.getpid()}-77", "other": "not-a-jail"}
    try:
        for parent in layout.parents:
            for name in names.values():
                os.mkdir(os.path.join(parent, name))
            with open(os.path.join(parent, names["busy"], "cgroup.procs"), "w") as procs:
                procs.write(str(busy.pid))  # a process still in it: never removed
        cgroup._detected.clear()  # a new grader process detects again
        assert cgroup.detect(settings)[0] == layout
        for parent in layout.parents:
            left = {entry.name for entry in os.scandir(parent) if entry.is_dir()}
            assert left == {names["busy"], names["running"], names["other"]}
    finally:
        busy.kill()
        busy.wait()
        for parent in layout.parents:
            for name in names.values():
                path = os.path.join(parent, name)
                for _ in range(100):  # the killed process takes a moment to leave its cgroup
                    if not os.path.isdir(path):
                        break
                    try:
                        os.rmdir(path)
                    except OSError:
                        time.sleep(0.05)
            os.rmdir(parent)
