"""The hostile-student suite: cheaters (tests/course/grading/hostile_attacks.py) are graded in one batch
with honest control students, a perfect and a blank one before the attackers and again after
them, through the real pipeline: `tinytorch_course/grading/coordinator.py --jobs 2` (what `make autograde`
runs), stock `nbgrader autograde` for a few of them in a second course, then stock
`nbgrader generate_feedback`. Every attack must be contained, shown by its precise observable
effect (a file unread, a listener that heard nothing, gradebook rows intact, no process left),
every control must keep its exact score, and every attacker must score what its work is worth.

The batch runs under small jail limits, so the floods stop early and the slow attackers cost
one budget: see LIMITS. Attacks not contained today are listed in JAIL_GAPS with what happens
instead; their tests are strict expected failures, so they turn red the day they are contained."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.processes import expect_file, run_process, run_together
from tinytorch_course.grading.jail.preflight import JailUnavailable, check_jail
from tinytorch_course.grading.jail.settings import JailSettings, sandbox_requested
from tinytorch_course.grading.report import GRADED, REPORT_CSV, REVIEW, read_report
from tinytorch_course.paths import (
    ASSIGNMENT_ID,
    NOTEBOOK_ID,
    REPO,
    SOURCE_DIRECTORY,
    SOURCE_PY,
    nbgrader_command,
    nbgrader_env,
    submission_path,
)

from hostile_attacks import ATTACKS, attacker_notebook
from pipeline_helpers import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    html_text,
    leaked_lines,
    nbgrader_meta,
    notebook_text,
    outside_region_lines,
    reference_submission,
    region_lines,
    write_submission,
)

#: The suite's name for every process an attacker starts (at most 15 characters: PR_SET_NAME).
TOKEN = "hx" + secrets.token_hex(4)
#: Jail limits of this batch: the honest notebook needs a few seconds, a few dozen threads and
#: well under these; the floods and the slow attackers meet them quickly.
LIMITS = {"budget_s": 60, "max_processes": 64, "memory_mib": 2048, "write_mib": 64}
CELL_TIMEOUT = 20  # per cell: the interrupt-ignoring loop's kernel is stopped at this timeout
# The sleep hook's pause before every cell and every act: the first test's act (one pause) must
# end within the test's CELL_TIMEOUT, and the pauses before the cells up to the second test's
# act (nine of them) must outlast the budget, however fast the rest runs.
SLEEP_S = 8
DAEMON_S = 15  # how long the daemon keeps trying after it starts
FORKS, MEMORY_CHUNKS, DISK_BLOCKS = 300, 48, 32  # asked: 300 processes, 3 GiB, 256 MiB a place
CONTROLS = {"a-blank": "blank", "a-perfect": "perfect", "z-blank": "blank", "z-perfect": "perfect"}
# Attacks the grading does not contain yet, and what happens instead. Their tests fail (strict
# xfail) the day they are contained, so this list is then emptied. (The input transformer that
# silenced every later cell is contained since the tests run in a kernel of their own.)
JAIL_GAPS: dict[str, str] = {}
#: Graded again by one stock `nbgrader autograde` process: the killers must not stop it.
STOCK = ["a-perfect", "h-kill-parent", "h-kill-all", "h-snoop", "z-blank"]


class Listener:
    """A TCP server on 127.0.0.1 that records every connection and what it received."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(4096))
                except OSError:
                    self.received.append(b"")

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def token_processes() -> list[int]:
    """Processes of this machine named with the suite's token (an attacker's kernel or child)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().startswith(TOKEN):
                pids.append(int(entry.name))
        except OSError:  # ended while we looked
            pass
    return pids


def _graded_points(release) -> dict[str, float]:
    return {
        nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
        for c in release.cells
        if nbgrader_meta(c).get("grade")
    }


def expected_lost(student: str, release) -> set[str]:
    """The graded cells a student must lose: all for a blank base; for the sleep hook all but the
    first test (the budget runs out before the second test's cell); for the interrupt-ignoring
    loop every test after the looping answer cell (it never finishes)."""
    points = _graded_points(release)
    base = CONTROLS.get(student) or ATTACKS[student].base
    if base == "blank":
        return set(points)
    if student == "h-sleep-hook":
        return set(points) - {"test-simple-mlp"}
    if student == "h-ignore-interrupts":
        ids = [nbgrader_meta(c).get("grade_id") for c in release.cells]
        loop = ids.index("generate-submission")
        return {name for name in points if ids.index(name) > loop}
    return set()


def gradebook_rows(root: Path) -> dict:
    """student -> (total score, {cell: (auto_score, manual_score)}) for every graded student."""
    rows = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT_ID):
            rows[sub.student_id] = (
                sub.score,
                {g.name: (g.auto_score, g.manual_score) for nb in sub.notebooks for g in nb.grades},
            )
    return rows


def autograded_path(root: Path, student: str) -> Path:
    return root / "autograded" / student / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"


def printed(root: Path, student: str) -> str:
    """Everything the graded kernel of ``student`` printed (stream outputs), or '' when nbgrader
    wrote no autograded notebook."""
    path = autograded_path(root, student)
    if not path.is_file():
        return ""
    nb = nbformat.read(str(path), as_version=4)
    return "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"
    )


def results(root: Path, student: str, key: str) -> list[dict]:
    """The ``RESULT`` reports holding ``key`` that the attacker's code printed while graded."""
    reports = [
        json.loads(line[len("RESULT ") :]) for line in printed(root, student).splitlines() if line.startswith("RESULT ")
    ]
    return [report for report in reports if key in report]


@dataclass
class Batch:
    root: Path
    stock_root: Path
    expected: dict  # student -> graded cells lost
    points: dict
    rows: dict
    stock_rows: dict
    received: list
    survivors: list
    parallel: subprocess.CompletedProcess
    stock: subprocess.CompletedProcess


def _require_jail() -> None:
    """The attacks are run only against a working jail: some would harm the machine without one."""
    if not sandbox_requested():
        pytest.fail("SANDBOX=0 is set: the hostile-student suite needs the grading jail")
    try:
        check_jail(JailSettings())
    except JailUnavailable as err:
        pytest.fail(f"the hostile-student suite needs the grading jail: {err}")


def _course(built_course, root: Path) -> Path:
    shutil.copytree(built_course.root / SOURCE_DIRECTORY, root / SOURCE_DIRECTORY)
    shutil.copy(built_course.root / "gradebook.db", root / "gradebook.db")
    return root


def _wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


@pytest.fixture(scope="module")
def batch(built_course, tmp_path_factory):
    _require_jail()
    root = _course(built_course, tmp_path_factory.mktemp("hostile"))
    stock_root = _course(built_course, tmp_path_factory.mktemp("hostile-stock"))
    release, source = built_course.release, built_course.source
    flood_name = f"flood-{TOKEN}.bin"
    options = [f"--Execute.timeout={CELL_TIMEOUT}"] + [f"--JailSettings.{k}={v}" for k, v in LIMITS.items()]
    with Listener() as listener:
        params = {
            "token": TOKEN,
            "port": listener.port,
            "repo": str(REPO),
            "roots": [str(root), str(stock_root)],
            "targets": [
                str(SOURCE_PY),
                str(REPO / "tinytorch" / "olympics" / "capstone.py"),
                str(root / SOURCE_DIRECTORY / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"),
                str(submission_path(root, "a-perfect")),
                str(root / "gradebook.db"),
            ],
            "host_pid_ns": os.readlink("/proc/self/ns/pid"),
            "forks": FORKS,
            "chunks": MEMORY_CHUNKS,
            "blocks": DISK_BLOCKS,
            "flood_name": flood_name,
            "daemon_s": DAEMON_S,
            "sleep_s": SLEEP_S,
        }
        subs = {
            name: reference_submission(release, source) if base == "perfect" else release
            for name, base in CONTROLS.items()
        }
        subs |= {name: attacker_notebook(name, attack, release, source, params) for name, attack in ATTACKS.items()}
        for student, nb in subs.items():
            write_submission(nb, submission_path(root, student))
            if student in STOCK:
                write_submission(nb, submission_path(stock_root, student))
        # both courses graded at once, each in its own order: the budgets and timeouts are waited out once
        parallel, stock = run_together(
            lambda: run_process(
                [sys.executable, "-m", "tinytorch_course.grading.coordinator", "--jobs", "2", "--course-root", root]
                + ["--", *options],
                ok=(0, 1),  # 1: some attacker could not be graded, and the report says so
                cwd=REPO,
                env=nbgrader_env(),
            ),
            lambda: run_process(
                nbgrader_command("autograde", ASSIGNMENT_ID, f"--CourseDirectory.root={stock_root}", *options),
                ok=None,  # judged by the tests, on what it graded
                cwd=REPO,
                env=nbgrader_env(),
            ),
        )
        expect_file(root / REPORT_CSV, parallel)
        graded_at = time.monotonic()
        run_process(
            nbgrader_command("generate_feedback", ASSIGNMENT_ID, f"--CourseDirectory.root={root}"),
            cwd=REPO,
            env=nbgrader_env(),
        )
        _wait_until(graded_at + DAEMON_S + 2)  # a daemon that escaped has acted by now
        survivors = token_processes()
        received = list(listener.received)
    yield Batch(
        root,
        stock_root,
        {s: expected_lost(s, release) for s in subs},
        _graded_points(release),
        gradebook_rows(root),
        gradebook_rows(stock_root),
        received,
        survivors,
        parallel,
        stock,
    )
    for pid in token_processes():  # what escaped the jail must not outlive the test
        os.kill(pid, signal.SIGKILL)
    Path("/tmp", flood_name).unlink(missing_ok=True)


def _expected_cells(batch: Batch, student: str) -> dict[str, float]:
    return {cell: 0.0 if cell in batch.expected[student] else pts for cell, pts in batch.points.items()}


def _check_scores(rows: dict, batch: Batch, students) -> dict:
    wrong = {}
    for student in students:
        expected = _expected_cells(batch, student)
        if student not in rows:
            wrong[student] = "not in the gradebook"
            continue
        score, grades = rows[student]
        got = {cell: grades.get(cell, (None, None))[0] for cell in batch.points}
        if got != expected or score != sum(expected.values()):
            wrong[student] = {
                "score": (score, sum(expected.values())),
                "cells": {c: (got[c], expected[c]) for c in got if got[c] != expected[c]},
            }
    return wrong


def test_controls_keep_their_exact_scores(batch):
    wrong = _check_scores(batch.rows, batch, CONTROLS)
    wrong |= {
        f"{s} (stock)": w
        for s, w in _check_scores(batch.stock_rows, batch, [s for s in STOCK if s in CONTROLS]).items()
    }
    assert not wrong, f"controls scored differently (got, expected): {wrong}\n{batch.parallel.stdout[-3000:]}"


def test_attackers_score_what_their_work_is_worth(batch):
    contained = [s for s in ATTACKS if s not in JAIL_GAPS]
    wrong = _check_scores(batch.rows, batch, contained)
    wrong |= {
        f"{s} (stock)": w for s, w in _check_scores(batch.stock_rows, batch, [s for s in STOCK if s in ATTACKS]).items()
    }
    assert not wrong, f"attackers scored differently (got, expected): {wrong}\n{batch.parallel.stdout[-3000:]}"


def test_a_loop_that_ignores_interrupts_is_graded_on_the_cells_before_it(batch):
    wrong = _check_scores(batch.rows, batch, ["h-ignore-interrupts"])
    assert not wrong, f"(got, expected): {wrong}\n{batch.parallel.stdout[-3000:]}"


def test_tests_silenced_in_the_kernel_still_fail_a_blank_notebook(batch):
    """The input transformer silences every later cell of the student's kernel; the tests run in
    the test kernel, which no student line reaches, so the blank notebook still scores 0."""
    assert results(batch.root, "h-no-op-tests", "tests") == [{"tests": "silenced"}]
    wrong = _check_scores(batch.rows, batch, ["h-no-op-tests"])
    assert not wrong, f"(got, expected): {wrong}"


def test_every_attacker_is_put_up_for_review_and_no_control_is(batch):
    """The grading report reads each submission from outside its kernel: every attacker's own
    cells use what tampering needs (IPython hooks, NBGRADER_EXECUTION, ...), so each is listed
    for review with its score, the silencer that scored full marks included; controls are not."""
    report = read_report(batch.root / REPORT_CSV)
    flagged = {student for student, row in report.items() if row["status"] == REVIEW}
    assert flagged == set(ATTACKS), {s: (report[s]["status"], report[s]["reason"]) for s in report}
    assert "get_ipython" in report["h-no-op-tests"]["reason"], report["h-no-op-tests"]
    for student in CONTROLS:
        assert (report[student]["status"], report[student]["reason"]) == (GRADED, ""), report[student]


def test_every_attack_ran(batch):
    """Containment means something only if the attack code was executed by the grader."""
    silent = [s for s in ATTACKS if s not in JAIL_GAPS and f"ATTACK-RAN {s}" not in printed(batch.root, s)]
    assert not silent, f"no trace of the attack in the autograded notebook of: {silent}"


def test_no_gradebook_row_was_written_by_a_student(batch):
    """The gradebook writes and the daemon reached no gradebook: nobody has a manual score, in
    either course, though the daemon kept trying after grading had ended."""
    for rows in (batch.rows, batch.stock_rows):
        touched = {s: g for s, (_, grades) in rows.items() for g in grades.values() if g[1] is not None}
        assert not touched, f"manual scores written by a student's code: {touched}"
    for root in (batch.root, batch.stock_root):
        reports = results(root, "h-snoop", "written")
        assert reports and all(r["written"] == [] for r in reports), f"gradebooks written: {reports}"
        assert results(root, "h-snoop", "daemon") == [{"daemon": "started"}]


def test_solutions_cannot_be_imported(batch):
    reports = results(batch.root, "h-snoop", "imported")
    assert len(reports) == 4 and all(r == {"imported": False, "error": "ModuleNotFoundError"} for r in reports), reports


def test_files_outside_the_working_folder_are_invisible(batch):
    """Nothing of the course is readable; of the repository only the Python environment shows
    (the jail mounts it read-only at its own path, which may lie inside the repository)."""
    (report,) = results(batch.root, "h-snoop", "found")
    assert report["found"] == {}, f"the attacker read: {report['found']}"
    venv = Path(sys.prefix).resolve()
    allowed = {venv.relative_to(REPO).parts[0]} if venv.is_relative_to(REPO) else set()
    assert set(report["repo_listing"] or []) <= allowed, f"visible in the repository: {report['repo_listing']}"


def test_network_is_unreachable(batch):
    assert batch.received == [], f"the listener on 127.0.0.1 received {batch.received}"
    (report,) = results(batch.root, "h-snoop", "outcome")
    assert "sent" not in report["outcome"].values(), report


def test_killers_took_down_nobody_else(batch):
    """Besides the controls' exact scores (above): in the stock run, every student after the
    killers has an autograded notebook, and the kill-everything attacker really ran, in a PID
    namespace of its own."""
    for student in STOCK:
        assert autograded_path(batch.stock_root, student).is_file(), (
            f"{student} not graded in the stock run\n{batch.stock.stdout[-3000:]}"
        )
    for root in (batch.root, batch.stock_root):
        reports = results(root, "h-kill-all", "signalled") + results(root, "h-kill-all", "refused")
        assert reports and all("refused" not in r for r in reports), reports


def test_floods_stop_at_the_limits(batch):
    (fork,) = results(batch.root, "h-floods", "children")
    assert fork["children"] < LIMITS["max_processes"] and fork["error"], fork
    (memory,) = results(batch.root, "h-floods", "allocated_mib")
    assert memory["allocated_mib"] < LIMITS["memory_mib"] and memory["error"] == "MemoryError", memory
    (disk,) = results(batch.root, "h-floods", "written_mib")
    for place, (mib, error) in disk["written_mib"].items():
        assert mib <= LIMITS["write_mib"] and error, (place, mib, error)
    work = autograded_path(batch.root, "h-floods").parent
    assert not (work / f"flood-{TOKEN}.bin").exists(), "the flood reached the course's disk"


def test_no_process_outlives_grading(batch):
    """Fork-flood children, the daemon and the looping or sleeping kernels are all gone."""
    assert batch.survivors == [], f"processes of the attackers still running: {batch.survivors}"


def test_the_sleep_hook_is_stopped_at_its_budget(batch):
    """Sleeping before each of ~30 cells would take minutes; the jail stops the notebook when its
    budget is spent, and the cells after that are failed without running."""
    nb = nbformat.read(str(autograded_path(batch.root, "h-sleep-hook")), as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    stopped = [o for o in errors if o.ename == "KernelStopped"]
    assert len(stopped) == 1 and f"budget of {LIMITS['budget_s']:g} s" in stopped[0].evalue, stopped
    # the student kernel's later cells are not run; the tests after it ask it for acts in vain
    later = nb.cells[[i for i, c in enumerate(nb.cells) if stopped[0] in c.get("outputs", [])][0] + 1 :]
    student = [o.ename for c in later if not _is_test(c) for o in c.get("outputs", []) if o.output_type == "error"]
    tests = [o.evalue for c in later if _is_test(c) for o in c.outputs if o.output_type == "error"]
    assert student and set(student) == {"NotRun"}, student
    assert tests and all("had stopped" in e for e in tests), tests


def _is_test(cell) -> bool:
    return bool(nbgrader_meta(cell).get("grade")) and not nbgrader_meta(cell).get("solution")


def test_hidden_tests_never_reach_the_student_kernel_nor_feedback(batch, built_course):
    """The hooks print every cell the student's kernel runs, and its last cell raises an
    exception holding its whole history: no hidden test is among them (the tests run in a kernel
    of their own), and none reaches feedback."""
    source = built_course.source
    hidden = region_lines(source, BEGIN_HIDDEN, END_HIDDEN)
    student = "h-exfiltrate"
    raw = printed(batch.root, student)
    assert "class KnownCostModel" in raw, "the hooks printed the cells the student's kernel ran"
    assert "def test_report_metrics" not in raw, "a test cell reached the student's kernel"
    assert not [line for line in hidden if line in raw], "a hidden test reached the student's kernel"
    handed_in = {
        line.strip()
        for line in notebook_text(nbformat.read(str(submission_path(batch.root, student)), as_version=4)).split("\n")
    }
    feedback = batch.root / "feedback" / student / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.html"
    leaks = leaked_lines(hidden, outside_region_lines(source) | handed_in, html_text(feedback))
    assert not leaks, f"feedback shows hidden tests: {leaks}"
