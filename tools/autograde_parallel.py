"""Autograde the submissions of an assignment in N processes, with the scores stock sequential
``nbgrader autograde`` would give, merged into the one gradebook.

nbgrader grades one submission at a time, and its SQLite gradebook does not take concurrent
writers well. So each worker gets
- its own shard of students: a folder of links ``<work>/<k>/submitted/<student>`` to the real
  ``submitted/<student>`` folders, passed as ``CourseDirectory.submitted_directory``;
- its own copy of the gradebook (``CourseDirectory.db_url``), taken before any worker starts;
and runs the stock ``nbgrader autograde <assignment>`` on them, with this repo's
nbgrader_config.py (same timeout, same cell restoring). Autograded notebooks land in the shared
``autograded/<student>/`` folders, one student per worker, so workers never touch the same file.
When all workers are done, each worker's rows for its own students (student, submission,
per-cell grades and comments, late penalty) are copied into the main gradebook with nbgrader's
Gradebook API, one writer at a time.

Usage: ``python tools/autograde_parallel.py [--jobs N] [--course-root DIR] [--force]
[--student ID ...] [-- extra nbgrader options]``. Exit code 0 when every submission was graded,
1 when some could not be (they are listed; nbgrader leaves them with a score of 0), 2 on usage
errors.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.course import ASSIGNMENT_ID, NOTEBOOK_ID, REPO, nbgrader_command, nbgrader_env  # noqa: E402


@dataclass
class Worker:
    """One shard of students graded by one nbgrader process."""

    index: int
    students: list[str]
    folder: Path

    @property
    def submitted(self) -> Path:
        return self.folder / "submitted"

    @property
    def db_path(self) -> Path:
        return self.folder / "gradebook.db"

    @property
    def log_path(self) -> Path:
        return self.folder.parent / f"worker-{self.index}.log"


def submitted_students(course_root: Path, assignment: str = ASSIGNMENT_ID) -> list[str]:
    """Ids of the students with a ``submitted/<id>/<assignment>/`` folder, sorted."""
    base = Path(course_root) / "submitted"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


def shard(students: list[str], jobs: int) -> list[list[str]]:
    """Deal students round-robin into at most ``jobs`` non-empty shards."""
    shards = [students[k::jobs] for k in range(max(1, jobs))]
    return [s for s in shards if s]


def copy_gradebook(src: Path, dest: Path) -> None:
    """A consistent copy of an SQLite gradebook (the backup API, not a file copy)."""
    source, target = sqlite3.connect(src), sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _prepare(worker: Worker, course_root: Path, main_db: Path) -> None:
    worker.submitted.mkdir(parents=True)
    for student in worker.students:
        (worker.submitted / student).symlink_to(Path(course_root, "submitted", student).resolve())
    copy_gradebook(main_db, worker.db_path)


def worker_command(worker: Worker, course_root: Path, assignment: str,
                   extra: list[str]) -> list[str]:
    """The stock ``nbgrader autograde`` argv of one worker: its shard and its gradebook copy."""
    return nbgrader_command(
        "autograde", assignment,
        f"--CourseDirectory.root={Path(course_root).resolve()}",
        f"--CourseDirectory.submitted_directory={worker.submitted.resolve()}",
        f"--CourseDirectory.db_url=sqlite:///{worker.db_path.resolve()}",
        *extra)


def merge_submissions(src_url: str, dest_url: str, assignment: str, students: list[str]) -> None:
    """Copy the gradebook rows of ``students`` for ``assignment`` from one gradebook to another."""
    from nbgrader.api import Gradebook, MissingEntry  # heavy import, only when merging
    from sqlalchemy.exc import SAWarning

    # nbgrader's add_submission makes SQLAlchemy warn about its autoflush (stock autograde prints
    # the same); it is harmless and would only bury the report.
    with warnings.catch_warnings(), Gradebook(src_url) as src, Gradebook(dest_url) as dest:
        warnings.simplefilter("ignore", SAWarning)
        for student_id in students:
            try:
                sub = src.find_submission(assignment, student_id)
            except MissingEntry:
                continue
            who = sub.student
            dest.update_or_create_student(student_id, first_name=who.first_name,
                                          last_name=who.last_name, email=who.email,
                                          lms_user_id=who.lms_user_id)
            dest.update_or_create_submission(assignment, student_id, timestamp=sub.timestamp,
                                             extension=sub.extension)
            for nb in sub.notebooks:
                _merge_notebook(dest, nb, assignment, student_id)
            dest.db.commit()


def _merge_notebook(dest, nb, assignment: str, student_id: str) -> None:
    target = dest.find_submission_notebook(nb.name, assignment, student_id)
    target.flagged = nb.flagged
    target.late_submission_penalty = nb.late_submission_penalty
    for grade in nb.grades:
        row = dest.find_grade(grade.name, nb.name, assignment, student_id)
        row.auto_score = grade.auto_score
        row.manual_score = grade.manual_score
        row.extra_credit = grade.extra_credit
        row.needs_manual_grade = grade.needs_manual_grade
    for comment in nb.comments:
        row = dest.find_comment(comment.name, nb.name, assignment, student_id)
        row.auto_comment = comment.auto_comment
        row.manual_comment = comment.manual_comment


def autograded_ok(course_root: Path, student: str, assignment: str = ASSIGNMENT_ID) -> bool:
    """Whether nbgrader left an autograded notebook (it removes the ones it failed on)."""
    return (Path(course_root) / "autograded" / student / assignment / f"{NOTEBOOK_ID}.ipynb").is_file()


def plan(students: list[str], jobs: int, work: Path) -> list[Worker]:
    """The shard plan: one worker per non-empty shard of ``students``, in folders under ``work``."""
    return [Worker(k, s, Path(work) / str(k)) for k, s in enumerate(shard(students, jobs))]


# Math libraries start one thread per core in every kernel; N kernels at once would then fight
# over the cores (OpenBLAS threads spin while they wait). Each worker gets its share instead,
# unless the instructor set these variables already.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def worker_env(workers: int) -> dict[str, str]:
    """nbgrader's environment, with math-library threads limited to this worker's share of cores."""
    env = nbgrader_env()
    share = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    for name in THREAD_VARIABLES:
        env.setdefault(name, share)
    return env


def launch(commands: list[list[str]], logs: list[Path]) -> None:
    """Run the worker commands at once, each logging to its own file, and wait for all."""
    procs = []
    env = worker_env(len(commands))
    for cmd, log_path in zip(commands, logs):
        log = log_path.open("w")
        procs.append((subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log,
                                       stderr=subprocess.STDOUT), log))
    for proc, log in procs:
        proc.wait()
        log.close()


def run_parallel(course_root: Path, jobs: int, students: list[str], extra: list[str],
                 assignment: str = ASSIGNMENT_ID) -> list[str]:
    """Grade ``students`` in ``jobs`` processes and merge; returns the students that failed.
    Any ``jobs`` >= 1 takes this path: a worker grades exactly the students linked into its
    shard, so which students are graded never depends on how many processes there are."""
    course_root = Path(course_root).resolve()
    main_db = course_root / "gradebook.db"
    if not main_db.is_file():
        raise FileNotFoundError(f"no gradebook at {main_db}: build the release first (make release)")
    work_base = course_root / "build" / "autograde"
    work_base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=work_base))
    workers = plan(students, jobs, work)
    for worker in workers:
        _prepare(worker, course_root, main_db)
    launch([worker_command(w, course_root, assignment, extra) for w in workers],
           [w.log_path for w in workers])
    main_url = f"sqlite:///{main_db}"
    for worker in workers:
        merge_submissions(f"sqlite:///{worker.db_path}", main_url, assignment, worker.students)
    for worker in workers:  # the logs stay, for the instructor
        shutil.rmtree(worker.folder)
    print(f"autograde: {len(students)} submission(s) in {len(workers)} process(es); "
          f"nbgrader logs in {work}")
    return [s for s in students if not autograded_ok(course_root, s, assignment)]


def run_sequential(course_root: Path, students: list[str], extra: list[str],
                   assignment: str = ASSIGNMENT_ID, quiet: bool = False) -> list[str]:
    """Stock ``nbgrader autograde`` of every submission in one process (the reference that
    parallel grading must equal); returns those of ``students`` that failed.
    ``quiet`` drops nbgrader's log instead of showing it."""
    course_root = Path(course_root).resolve()
    cmd = nbgrader_command("autograde", assignment, f"--CourseDirectory.root={course_root}", *extra)
    sink = subprocess.DEVNULL if quiet else None
    subprocess.run(cmd, cwd=REPO, env=nbgrader_env(), stdout=sink, stderr=sink)
    return [s for s in students if not autograded_ok(course_root, s, assignment)]


def autograde(course_root: Path = REPO, jobs: int = 2, students: list[str] | None = None,
              force: bool = False, extra: list[str] | None = None) -> list[str]:
    """Grade the submitted students (all, or ``students``); returns those that failed."""
    everyone = submitted_students(course_root)
    chosen = everyone if not students else [s for s in everyone if s in students]
    missing = sorted(set(students or []) - set(everyone))
    if missing:
        raise ValueError(f"no submission folder for student(s): {', '.join(missing)}")
    options = (["--force"] if force else []) + list(extra or [])
    if not chosen:
        return []
    return run_parallel(course_root, jobs, chosen, options)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", "-j", type=int, default=2, help="grading processes (>= 1)")
    parser.add_argument("--course-root", type=Path, default=REPO, help="nbgrader course root")
    parser.add_argument("--force", action="store_true", help="regrade already autograded students")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    try:
        failed = autograde(args.course_root, args.jobs, args.student, args.force, extra)
    except (FileNotFoundError, ValueError) as err:
        print(f"autograde: {err}", file=sys.stderr)
        return 2
    if failed:
        print("autograde: could not grade (scored 0, see the nbgrader log): " + ", ".join(failed),
              file=sys.stderr)
        return 1
    print("autograde: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
