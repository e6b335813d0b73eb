"""Parallel autograding against stock sequential nbgrader, on the same 12 submissions.

    python benchmarks/bench_autograde.py [--students 12] [--jobs 2]

Builds the release into a temporary course, hands in the reference solution for every student,
then grades the batch twice in one run: stock `nbgrader autograde 20_capstone` (one process) and
tools/autograde_parallel.py with --jobs N. Prints both wall times and the speedup ratio (target
≥ 1.6× with 2 jobs on 2 cores) and checks that both gradebooks hold the same scores. Exit code 1
when the scores differ, a submission fails, or the ratio misses the target.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

from tools.autograde_parallel import run_parallel, run_sequential  # noqa: E402
from tools.course import ASSIGNMENT_ID, SOURCE_DIRECTORY, SOURCE_PY, source_notebook_path, submission_path  # noqa: E402
from tools.grades import score_table  # noqa: E402
from tools.reference import reference_submission  # noqa: E402
from tools.release import build_release  # noqa: E402

TARGET = 1.6


def _course_copy(built: Path, dest: Path, students: list[str], submission) -> Path:
    """A course root with the built assignment, a fresh gradebook copy and the submissions."""
    shutil.copytree(built / SOURCE_DIRECTORY, dest / SOURCE_DIRECTORY)
    shutil.copy(built / "gradebook.db", dest / "gradebook.db")
    for student in students:
        path = submission_path(dest, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(submission, str(path))
    return dest


def _scores(root: Path) -> dict:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {row["student_id"]: row for row in score_table(gb, ASSIGNMENT_ID)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    students = [f"student{k:02d}" for k in range(1, args.students + 1)]
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as folder:
        base = Path(folder)
        built = base / "built"
        release = nbformat.read(str(build_release(SOURCE_PY, built, built / "capstone.ipynb")), as_version=4)
        source = nbformat.read(str(source_notebook_path(built)), as_version=4)
        submission = reference_submission(release, source)
        seq_root = _course_copy(built, base / "sequential", students, submission)
        par_root = _course_copy(built, base / "parallel", students, submission)

        start = time.perf_counter()
        seq_failed = run_sequential(seq_root, students, [], quiet=True)
        seq_s = time.perf_counter() - start
        start = time.perf_counter()
        par_failed = run_parallel(par_root, args.jobs, students, [])
        par_s = time.perf_counter() - start
        same = _scores(seq_root) == _scores(par_root)
        all_full = all(row["score"] == 100.0 for row in _scores(par_root).values())

    ratio = seq_s / par_s
    print(f"autograde {len(students)} submissions: stock sequential {seq_s:.1f} s "
          f"({seq_s / len(students):.1f} s each), {args.jobs} jobs {par_s:.1f} s")
    print(f"speedup {ratio:.2f}× (target ≥ {TARGET}×)  {'PASS' if ratio >= TARGET else 'FAIL'}")
    problems = []
    if seq_failed or par_failed:
        problems.append(f"failed submissions: sequential {seq_failed}, parallel {par_failed}")
    if not same:
        problems.append("the two gradebooks hold different scores")
    if not all_full:
        problems.append("the reference solution did not score 100 everywhere")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 0 if ratio >= TARGET and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
