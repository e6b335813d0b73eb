"""The course pipeline's speed targets, measured in one run:

- `make release` (tools/release.py, written into a temporary course so the committed release is
  untouched) under 20 s;
- stock `nbgrader autograde 20_capstone` of one submission under 10 s;
- parallel autograding against stock sequential nbgrader on the same 12 submissions, at least
  1.6x faster with 2 jobs on 2 cores, with the same scores in both gradebooks.

    python benchmarks/bench_autograde.py [--students 12] [--jobs 2]

Every submission is the reference solution, so each must score 100. Prints each figure with
PASS/FAIL; exit code 1 when a target is missed, a submission fails or the scores differ.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402
from _common import judge, timed, timed_run, verdict  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

from tools.autograde_parallel import run_parallel, run_sequential  # noqa: E402
from tools.course import ASSIGNMENT_ID, SOURCE_DIRECTORY, source_notebook_path, submission_path  # noqa: E402
from tools.grades import score_table  # noqa: E402
from tools.reference import reference_submission  # noqa: E402

SPEEDUP_TARGET = 1.6     # parallel / stock sequential, 12 submissions, 2 jobs
ONE_SUBMISSION_S = 10.0  # stock autograde of one submission
RELEASE_S = 20.0         # make release


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


def _release(course: Path) -> tuple[float, subprocess.CompletedProcess]:
    """What `make release` runs, timed, with the course root and the student copy in ``course``."""
    return timed_run([sys.executable, str(REPO / "tools" / "release.py"),
                      f"--course-root={course}", f"--out={course / 'capstone.ipynb'}"],
                     "tools/release.py", cwd=REPO)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    students = [f"student{k:02d}" for k in range(1, args.students + 1)]
    problems = []
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as folder:
        base = Path(folder)
        built = base / "built"
        release_s, proc = _release(built)
        if proc.returncode != 0:
            return 1
        release = nbformat.read(str(built / "capstone.ipynb"), as_version=4)
        source = nbformat.read(str(source_notebook_path(built)), as_version=4)
        submission = reference_submission(release, source)

        one_root = _course_copy(built, base / "one", students[:1], submission)
        one_s, one_failed = timed(lambda: run_sequential(one_root, students[:1], [], quiet=True))
        seq_root = _course_copy(built, base / "sequential", students, submission)
        par_root = _course_copy(built, base / "parallel", students, submission)
        seq_s, seq_failed = timed(lambda: run_sequential(seq_root, students, [], quiet=True))
        par_s, par_failed = timed(lambda: run_parallel(par_root, args.jobs, students, []))

        if one_failed or seq_failed or par_failed:
            problems.append(f"failed submissions: one {one_failed}, sequential {seq_failed}, "
                            f"parallel {par_failed}")
        if _scores(seq_root) != _scores(par_root):
            problems.append("the sequential and parallel gradebooks hold different scores")
        if not all(row["score"] == 100.0 for root in (one_root, par_root)
                   for row in _scores(root).values()):
            problems.append("the reference solution did not score 100 everywhere")

    ratio = seq_s / par_s
    ok = judge("make release (tools/release.py)", release_s, RELEASE_S)
    ok &= judge("stock autograde of 1 submission", one_s, ONE_SUBMISSION_S)
    print(f"autograde {len(students)} submissions: stock sequential {seq_s:.1f} s "
          f"({seq_s / len(students):.1f} s each), {args.jobs} jobs {par_s:.1f} s")
    ok &= ratio >= SPEEDUP_TARGET
    print(f"speedup {ratio:.2f}× (target ≥ {SPEEDUP_TARGET}×)  {verdict(ratio >= SPEEDUP_TARGET)}")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 0 if ok and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
