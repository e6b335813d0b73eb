"""Autograde the hand-ins of an assignment as many small tasks on Dask, with the scores stock
sequential ``nbgrader autograde`` would give, merged into the one gradebook, and write the
grading report.

One task grades a few students (``--per-task K``; by default groups that shrink to one student
as the batch drains) with stock ``nbgrader autograde`` in a
scratch course built from bytes it is sent (tinytorch_course/grading/task.py): the release's nbgrader
source, the gradebook without students, the student package and the student's submitted folder.
It returns its gradebook and the autograded folder; this process, the one writer, merges the
rows into ``gradebook.db`` with nbgrader's Gradebook API and writes ``autograded/<student>/``.
Small tasks let the scheduler balance slow notebooks: a worker that finishes takes the next.

The tasks run on a Dask ``LocalCluster`` of ``--jobs`` worker processes, or with
``--scheduler tcp://host:8786`` on an existing Dask cluster. A worker that dies mid-task has its
task retried on another worker (bounded); a task that fails every try is listed in the report.

Usage: ``python -m tinytorch_course.grading.coordinator [--jobs N | --scheduler ADDRESS] [--per-task K]
[--course-root DIR] [--force] [--student ID ...] [-- extra nbgrader options]``. Prints the
grading report and writes it next to the gradebook (grading-report.csv / .txt). Exit code 0 when
every hand-in was graded, 1 when some could not be (the report says why), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tinytorch.olympics.cli import positive_int
from tinytorch.submission.schema_check import import_jsonschema
from tinytorch_course.grading.cluster import TaskFailure, dask_client, run_tasks, tasks_per_host
from tinytorch_course.grading.gradebook import (
    import_api,
    merge_submissions,
    scores,
    sqlite_url,
    student_records,
    template_gradebook,
)
from tinytorch_course.grading.handed_in import (
    TIMESTAMP,
    Unreadable,
    folder_names,
    read_handed_in,
    read_timestamp,
)
from tinytorch_course.grading.names import printable, refusal
from tinytorch_course.grading.report import (
    NOT_GRADED,
    SKIPPED,
    ReportLine,
    build_line,
    events_by_student,
    to_text,
    write_report,
)
from tinytorch_course.grading.tamper_signs import tamper_signs
from tinytorch_course.grading.task import CourseBundle, HandInFiles, TaskResult, read_files
from tinytorch_course.paths import (
    ASSIGNMENT_ID,
    AUTOGRADED,
    GRADEBOOK,
    NOTEBOOK_ID,
    REPO,
    SANDBOX_VARIABLE,
    SOURCE_DIRECTORY,
    SUBMITTED,
    THREAD_VARIABLES,
    nbgrader_command,
    nbgrader_env,
    source_notebook_path,
)
from tinytorch_course.student.package import package_bytes

if TYPE_CHECKING:
    from nbformat.notebooknode import NotebookNode

# nbformat and nbgrader (through grading.canonical) are imported where they are used, not here:
# each Dask worker of the LocalCluster is a spawned process, and a spawned process first imports
# the module its parent runs as __main__, this one under `make autograde`. Those two imports take
# about 3 s of a core (nbformat's schema validation builds dozens of grammars), which every
# worker paid before it could take a task, on the cores the first tasks need; the workers use
# neither. This process imports them in its reading thread, while the workers start.

#: Environment variables of this process that every grading task gets too, wherever it runs
#: (SANDBOX=0 is the instructor's explicit opt-out of the jail).
FORWARDED_VARIABLES = (SANDBOX_VARIABLE, *THREAD_VARIABLES)


def submitted_students(course_root: Path, assignment: str = ASSIGNMENT_ID) -> list[str]:
    """Ids of the students with a ``submitted/<id>/<assignment>/`` folder, sorted: every folder
    name as it is (a name that is not UTF-8 holds lone surrogates), refused ones included."""
    base = Path(course_root) / SUBMITTED
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


def refused_students(course_root: Path, students: list[str], assignment: str = ASSIGNMENT_ID) -> dict[str, str]:
    """The students of ``students`` that are not graded, with the reason: a folder name that is
    not plain (:func:`tinytorch_course.grading.names.refusal`) or a student folder that is a link.
    A timestamp that is not a date is found when the hand-in is read (:func:`hand_in`)."""
    refused = {}
    for student in students:
        reason = refusal(student)
        if reason is None and (Path(course_root) / SUBMITTED / student).is_symlink():
            reason = "folder refused: submitted/<student> is a link, and links are never followed"
        if reason is not None:
            refused[student] = reason
    return refused


#: With ``--per-task`` unset, each task takes this fraction of the students still waiting, divided
#: among the workers (guided self-scheduling): the first tasks hold several students, so a big
#: batch pays one nbgrader start-up for several, and the last ones a single student, so a worker
#: that finishes early finds small tasks left instead of idling while another grades a long group.
TASKS_PER_WORKER = 4


def task_sizes(students: int, workers: int) -> list[int]:
    """The default group sizes, in grading order: each ``ceil(waiting / (TASKS_PER_WORKER *
    workers))``, so they shrink to one student as the batch drains."""
    sizes, waiting = [], students
    while waiting > 0:
        size = math.ceil(waiting / (TASKS_PER_WORKER * max(1, workers)))
        sizes.append(size)
        waiting -= size
    return sizes


def groups(students: list[str], workers: int, per_task: int | None = None) -> list[list[str]]:
    """``students`` in consecutive groups, one grading task each: of ``per_task`` students when
    given, else of the shrinking :func:`task_sizes` for ``workers``."""
    sizes = (
        [max(1, per_task)] * math.ceil(len(students) / max(1, per_task))
        if per_task
        else task_sizes(len(students), workers)
    )
    out, start = [], 0
    for size in sizes:
        out.append(students[start : start + size])
        start += size
    return out


def autograded_folder(course_root: Path, student: str, assignment: str = ASSIGNMENT_ID) -> Path:
    """Where nbgrader keeps a student's autograded assignment."""
    return Path(course_root) / AUTOGRADED / student / assignment


def autograded_ok(course_root: Path, student: str, assignment: str = ASSIGNMENT_ID) -> bool:
    """Whether nbgrader left an autograded notebook (it removes the ones it failed on)."""
    return (autograded_folder(course_root, student, assignment) / f"{NOTEBOOK_ID}.ipynb").is_file()


def course_bundle(course_root: Path, extra: list[str], assignment: str = ASSIGNMENT_ID) -> CourseBundle:
    """What every task shares, read from the course root: the release's nbgrader source, the
    gradebook without its students, the student package and the nbgrader options."""
    source = Path(course_root) / SOURCE_DIRECTORY / assignment
    if not source.is_dir():
        raise FileNotFoundError(f"no nbgrader source at {source}: build the release first (make release)")
    with tempfile.TemporaryDirectory(prefix="gradebook-template-") as folder:
        template = Path(folder) / GRADEBOOK
        template_gradebook(Path(course_root) / GRADEBOOK, template)
        gradebook = template.read_bytes()
    package = package_bytes(REPO)
    env = {name: os.environ[name] for name in FORWARDED_VARIABLES if name in os.environ}
    return CourseBundle(assignment, read_files(source), gradebook, package, tuple(extra), env)


@dataclass
class Collector:
    """Receives task results in the one writer process: merges their gradebook rows into the
    course gradebook, writes their autograded folders and logs, and remembers what the report
    needs."""

    course_root: Path
    assignment: str
    log_folder: Path
    autograded: set[str] = field(default_factory=set)
    events: dict = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)  # student -> log file name

    def __call__(self, result: TaskResult) -> None:
        log = self.log_folder / f"{result.students[0]}.log"
        log.write_text(result.log, encoding="utf-8", errors="backslashreplace")
        with tempfile.TemporaryDirectory(prefix="task-gradebook-") as folder:
            db = Path(folder) / GRADEBOOK
            db.write_bytes(result.gradebook)
            merge_submissions(
                sqlite_url(db), sqlite_url(self.course_root / GRADEBOOK), self.assignment, list(result.students)
            )
        for student in result.students:
            self._write_autograded(student, result.autograded.get(student, {}))
            self.logs[student] = str(log.relative_to(self.course_root))
        self.events.update(events_by_student(result.log, result.students, result.event_key))

    def _write_autograded(self, student: str, files: dict[str, tuple[bytes, int]]) -> None:
        # As stock autograde does, a regraded student's old folder goes, whatever the outcome.
        folder = autograded_folder(self.course_root, student, self.assignment)
        shutil.rmtree(folder, ignore_errors=True)
        for name, (data, mode) in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(mode)
        if files:
            self.autograded.add(student)


@dataclass(frozen=True)
class GradingRun:
    """The outcome of one ``grade_course``: the report lines and where the report was written."""

    lines: list[ReportLine]
    report_csv: Path
    report_txt: Path
    log_folder: Path

    @property
    def failed(self) -> list[str]:
        """The students whose hand-in could not be graded (or whose folder was refused)."""
        return [line.student for line in self.lines if line.status == NOT_GRADED]


def grade_course(
    course_root: Path = REPO,
    jobs: int = 2,
    students: list[str] | None = None,
    force: bool = False,
    extra: list[str] | None = None,
    scheduler: str | None = None,
    per_task: int | None = None,
    assignment: str = ASSIGNMENT_ID,
) -> GradingRun:
    """Grade the submitted students (all, or ``students``) on a LocalCluster of ``jobs`` workers
    or the Dask cluster at ``scheduler``; merge, write and return the grading report. Students
    already autograded are skipped unless ``force``, as stock nbgrader does."""
    course_root = Path(course_root).resolve()
    main_db = course_root / GRADEBOOK
    if not main_db.is_file():
        raise FileNotFoundError(f"no gradebook at {main_db}: build the release first (make release)")
    chosen = _chosen(course_root, students, assignment)
    refused = refused_students(course_root, chosen, assignment)
    gradable = [s for s in chosen if s not in refused]
    skipped = [] if force else [s for s in gradable if autograded_ok(course_root, s, assignment)]
    todo = [s for s in gradable if s not in skipped]
    work_base = course_root / "build" / "autograde"
    work_base.mkdir(parents=True, exist_ok=True)
    collector = Collector(course_root, assignment, Path(tempfile.mkdtemp(prefix="run-", dir=work_base)))
    failures: list[TaskFailure] = []
    checks: dict[str, HandInChecks] = {}
    if todo:
        options = (["--force"] if force else []) + list(extra or [])
        # While the cluster's workers start in their own processes, this process reads the
        # bundle, the roster and the hand-ins (each made canonical), then imports nbgrader's
        # gradebook API for the merges (its cores are idle then, and busy grading at the first
        # merge); the canonical notebooks are reviewed for the report while they are graded.
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(_read_inputs, course_root, options, assignment, todo)
            pool.submit(import_api)
            # What is loaded by now (nbformat, nbgrader, Dask, the bundle) lives as long as the
            # process: out of the collector's reach, the collections that the scheduler's
            # messages set off skip it (0.43 s to 0.24 s of a core a batch of 12).
            pool.submit(gc.freeze)
            checking = pool.submit(lambda: _check_hand_ins(*reading.result()[2:]))
            with dask_client(scheduler, jobs) as client:
                bundle, records, _, handed_in = reading.result()
                # as stock nbgrader, which stops at such a hand-in's timestamp before grading it
                refused |= {s: hand.refusal for s, hand in handed_in.items() if hand.refusal}
                hosts = tasks_per_host(client)
                bundle = replace(bundle, tasks_per_host=hosts)
                tasks = [
                    [HandInFiles(s, handed_in[s].files, records.get(s)) for s in group]
                    for group in groups([s for s in todo if s not in refused], sum(hosts.values()), per_task)
                ]
                failures = run_tasks(client, bundle, tasks, collector)
            checks = checking.result()
    lines = _report_lines(course_root, assignment, chosen, refused, skipped, checks, collector, failures)
    csv_path, txt_path = write_report(course_root, lines)
    return GradingRun(lines, csv_path, txt_path, collector.log_folder)


def _read_inputs(
    course_root: Path, options: list[str], assignment: str, students: list[str]
) -> tuple[CourseBundle, dict, NotebookNode, dict[str, HandIn]]:
    """The bundle every task shares, the gradebook's records of ``students``, the assignment's
    notebook and the hand-in of each student."""
    # The first import of nbformat (here) imports jsonschema: without the IRI grammar it would
    # build for formats nothing here checks (see forkserver.preload), a second of a core less.
    import_jsonschema()
    bundle = course_bundle(course_root, options, assignment)
    records = student_records(course_root / GRADEBOOK, assignment, students)
    given = _assignment_notebook(course_root)
    return bundle, records, given, {s: _guarded_hand_in(course_root, s, given, assignment) for s in students}


def _guarded_hand_in(course_root: Path, student: str, given: NotebookNode, assignment: str) -> HandIn:
    """:func:`hand_in`, with an error no reader foresaw made that hand-in's reason (it is sent no
    notebook and reported not graded) rather than the end of the batch."""
    try:
        return hand_in(course_root, student, given, assignment)
    except Exception as error:  # noqa: BLE001 (one hand-in must not stop the batch)
        return HandIn({}, f"the hand-in could not be read ({type(error).__name__})", None)


@dataclass(frozen=True)
class HandIn:
    """One student's hand-in as grading sees it: the files a task is sent (the canonical
    notebook, the timestamp), why it holds no readable notebook, and the canonical notebook."""

    files: dict[str, bytes]
    problem: str | None
    canonical: NotebookNode | None
    refusal: str | None = None  # why it is not graded at all (see timestamp_refusal)


def _assignment_notebook(course_root: Path) -> NotebookNode:
    """The assignment's nbgrader source notebook, which every canonical notebook is built from."""
    import nbformat  # not at the top: see the note on imports there

    path = source_notebook_path(course_root)
    if not path.is_file():
        raise FileNotFoundError(f"no nbgrader source at {path}: build the release first (make release)")
    return nbformat.read(str(path), as_version=4)


def hand_in(course_root: Path, student: str, given: NotebookNode, assignment: str = ASSIGNMENT_ID) -> HandIn:
    """What grading takes of ``submitted/<student>/<assignment>/``: the canonical notebook of its
    ``<notebook>.ipynb`` (read without following links, see grading.handed_in) and its timestamp;
    no other file of the folder."""
    import nbformat  # not at the top: see the note on imports there

    from tinytorch_course.grading.canonical import canonical_notebook

    folder, name = Path(course_root) / SUBMITTED, f"{NOTEBOOK_ID}.ipynb"
    files = {}
    timestamp = read_timestamp(folder, (student, assignment, TIMESTAMP))
    if timestamp is not None:
        refused = timestamp_refusal(timestamp)
        if refused is not None:
            return HandIn({}, None, None, refused)
        files[TIMESTAMP] = timestamp
    try:
        cells = read_handed_in(folder, (student, assignment, name))
    except FileNotFoundError:
        found = ", ".join(folder_names(folder, (student, assignment))) or "nothing"
        return HandIn(files, f"not a notebook: no {name} was submitted (found: {found})", None)
    notebook = canonical_notebook(given, cells)
    # nbformat's own writer without its schema validation: the notebook is the assignment's
    files[name] = nbformat.v4.writes(notebook).encode("utf-8")
    problem = f"unreadable: {cells.reason}" if isinstance(cells, Unreadable) else None
    return HandIn(files, problem, notebook)


#: How much of a timestamp that is not a date the report shows.
TIMESTAMP_SHOWN = 40


def timestamp_refusal(data: bytes) -> str | None:
    """Why a hand-in whose ``timestamp.txt`` holds ``data`` is not graded: text that is not a date,
    at which stock nbgrader stops too ("Invalid timestamp string"); None for a date or nothing."""
    from tinytorch_course.grading.timestamps import parsed_timestamp, timestamp_text  # imports nbgrader

    try:
        parsed_timestamp(data)
    except ValueError:
        text = timestamp_text(data)
        shown = printable(text[:TIMESTAMP_SHOWN]) + ("..." if len(text) > TIMESTAMP_SHOWN else "")
        return f"timestamp refused: {TIMESTAMP} holds '{shown}', which is not a date"
    return None


@dataclass(frozen=True)
class HandInChecks:
    """What the report says of a hand-in from its files alone."""

    problem: str | None  # why it holds no gradable notebook, or None
    tamper_signs: list[str]  # names its own cells use that kernel tampering needs


def _check_hand_ins(given: NotebookNode, handed_in: dict[str, HandIn]) -> dict[str, HandInChecks]:
    """:class:`HandInChecks` of each hand-in, by student: the tamper review reads the
    canonical notebook, the one that is graded."""
    return {student: _check_hand_in(hand, given) for student, hand in handed_in.items()}


def _check_hand_in(hand: HandIn, given: NotebookNode) -> HandInChecks:
    """The checks of one hand-in; whatever it holds, an error of the checks is its own report
    line's reason and never costs the batch its report."""
    try:
        return HandInChecks(hand.problem, tamper_signs(hand.canonical, given) if hand.canonical is not None else [])
    except Exception as error:  # noqa: BLE001 (one hand-in's checks must not stop the report)
        return HandInChecks(f"the hand-in could not be checked ({type(error).__name__})", [])


def _chosen(course_root: Path, students: list[str] | None, assignment: str) -> list[str]:
    everyone = submitted_students(course_root, assignment)
    missing = sorted(set(students or []) - set(everyone))
    if missing:
        names = ", ".join(map(printable, missing))
        raise ValueError(f"no hand-in folder ({SUBMITTED}/<student>/{assignment}) for student(s): {names}")
    return everyone if not students else [s for s in everyone if s in students]


def _report_lines(
    course_root: Path,
    assignment: str,
    chosen: list[str],
    refused: dict[str, str],
    skipped: list[str],
    checks: dict[str, HandInChecks],
    collector: Collector,
    failures: list[TaskFailure],
) -> list[ReportLine]:
    score = scores(sqlite_url(course_root / GRADEBOOK), assignment, [s for s in chosen if s not in refused])
    failed = {s: f.reason for f in failures for s in f.students}
    lines = []
    for student in chosen:
        total, maximum = score.get(student, (None, None))
        if student in refused:
            lines.append(ReportLine(student, NOT_GRADED, None, None, refused[student]))
        elif student in skipped:
            lines.append(
                ReportLine(student, SKIPPED, total, maximum, "already autograded (FORCE=1 / --force regrades)")
            )
        elif student in failed:
            lines.append(ReportLine(student, NOT_GRADED, total, maximum, failed[student]))
        else:
            check = checks[student]
            lines.append(
                build_line(
                    student,
                    score.get(student),
                    student in collector.autograded,
                    check.problem,
                    collector.events.get(student, []),
                    collector.logs.get(student, "the task log"),
                    check.tamper_signs,
                )
            )
    return lines


def run_sequential(
    course_root: Path, students: list[str], extra: list[str], assignment: str = ASSIGNMENT_ID, quiet: bool = False
) -> list[str]:
    """Stock ``nbgrader autograde`` of every hand-in in one process (the reference that
    parallel grading must equal); returns those of ``students`` that failed.
    ``quiet`` drops nbgrader's log instead of showing it."""
    course_root = Path(course_root).resolve()
    cmd = nbgrader_command("autograde", assignment, f"--CourseDirectory.root={course_root}", *extra)
    sink = subprocess.DEVNULL if quiet else None
    subprocess.run(cmd, cwd=REPO, env=nbgrader_env(), stdout=sink, stderr=sink)
    return [s for s in students if not autograded_ok(course_root, s, assignment)]


def autograde(
    course_root: Path = REPO,
    jobs: int = 2,
    students: list[str] | None = None,
    force: bool = False,
    extra: list[str] | None = None,
    scheduler: str | None = None,
    per_task: int | None = None,
) -> list[str]:
    """Grade the submitted students (all, or ``students``); returns those that failed. The
    grading report is written next to the gradebook."""
    return grade_course(course_root, jobs, students, force, extra, scheduler, per_task).failed


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--jobs", "-j", type=positive_int, default=2, help="worker processes of the local Dask cluster (>= 1)"
    )
    parser.add_argument(
        "--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786 (instead of a local cluster)"
    )
    parser.add_argument(
        "--per-task",
        type=positive_int,
        default=None,
        help="students per grading task (default: groups that shrink to one student as the batch drains)",
    )
    parser.add_argument("--course-root", type=Path, default=REPO, help="nbgrader course root")
    parser.add_argument("--force", action="store_true", help="regrade already autograded students")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    args = parser.parse_args(argv)
    try:
        run = grade_course(
            args.course_root, args.jobs, args.student, args.force, extra, args.scheduler or None, args.per_task
        )
    except (FileNotFoundError, ValueError, ConnectionError) as err:
        print(f"autograde: {err}", file=sys.stderr)
        return 2
    print(to_text(run.lines), end="")
    print(f"autograde: report in {run.report_csv} and {run.report_txt}; nbgrader logs in {run.log_folder}")
    if run.failed:
        print("autograde: could not grade (see the report): " + ", ".join(map(printable, run.failed)), file=sys.stderr)
        return 1
    print("autograde: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
