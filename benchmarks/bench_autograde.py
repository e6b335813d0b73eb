"""The course pipeline's speed targets, measured in one run:

- `make release` (python -m tools.release, written into a temporary course so the committed release is
  untouched) under 20 s;
- stock `nbgrader autograde 20_capstone` of one submission under 10 s;
- `make autograde` (`python -m tools.autograde_parallel`: small tasks on a Dask LocalCluster of
  2 workers) against stock sequential nbgrader on the same 12 submissions, at least 1.6x faster
  on 2 cores, with the same scores in both gradebooks;
- the jail's cost: the same 12 submissions graded by `make autograde` jailed and unjailed
  (SANDBOX=0), jailed at most 10% slower;
- a mixed batch, one student looping forever among 16 uniform ones, each notebook under a
  wall-clock budget: `make autograde`'s makespan at most 1.2 x max(the budget, total work /
  workers), where the total work is stock sequential nbgrader's time for the same batch. The
  looping student is the middle one in grading order (students are graded in name order). Also
  printed, without a target: the same batch with the looping student graded last, which no
  scheduler that cannot foresee it can balance (it starts when the others are nearly done).

    python benchmarks/bench_autograde.py [--students 12] [--jobs 2] [--mixed 17] [--budget 30]

Every uniform submission is the reference solution, so each must score 100. Prints each figure
with PASS/FAIL; exit code 1 when a target is missed, a submission fails or the scores differ.
"""
from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402

from tools.autograde_parallel import run_sequential  # noqa: E402
from tools.course import ASSIGNMENT_ID, SOURCE_DIRECTORY, source_notebook_path, submission_path  # noqa: E402
from tools.grades import score_table  # noqa: E402
from tools.grading.gradebook import open_gradebook, sqlite_url  # noqa: E402
from tools.grading.report import NOT_GRADED, REPORT_CSV, read_report  # noqa: E402
from tools.reference import reference_submission  # noqa: E402

from _common import judge, timed, timed_run, verdict  # noqa: E402

SPEEDUP_TARGET = 1.6     # make autograde / stock sequential, 12 submissions, 2 jobs
JAIL_COST_TARGET = 1.10  # jailed / unjailed make autograde, same 12 submissions
MIXED_TARGET = 1.2       # mixed makespan / max(budget, total work / workers)
ONE_SUBMISSION_S = 10.0  # stock autograde of one submission
RELEASE_S = 20.0         # make release
LOOP_CELL = "generate-submission"


def _course_copy(built: Path, dest: Path, submissions: dict) -> Path:
    """A course root with the built assignment, a fresh gradebook copy and the submissions."""
    shutil.copytree(built / SOURCE_DIRECTORY, dest / SOURCE_DIRECTORY)
    shutil.copy(built / "gradebook.db", dest / "gradebook.db")
    for student, nb in submissions.items():
        path = submission_path(dest, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
    return dest


def _scores(root: Path) -> dict:
    with open_gradebook(sqlite_url(root / "gradebook.db")) as gb:
        return {row["student_id"]: row for row in score_table(gb, ASSIGNMENT_ID)}


def _release(course: Path) -> tuple[float, object]:
    """What `make release` runs, timed, with the course root and the student copy in ``course``."""
    return timed_run([sys.executable, "-m", "tools.release",
                      f"--course-root={course}", f"--out={course / 'capstone.ipynb'}"],
                     "tools.release", cwd=REPO)


def _make_autograde(root: Path, jobs: int, extra: list[str], sandbox: bool = True
                    ) -> tuple[float, dict[str, dict[str, str]]]:
    """What `make autograde` runs, in its own process as an instructor runs it, timed; and the
    grading report it wrote. ``sandbox`` False is the instructor's explicit SANDBOX=0."""
    env = dict(os.environ, SANDBOX="1" if sandbox else "0")
    seconds, _ = timed_run([sys.executable, "-m", "tools.autograde_parallel", f"--jobs={jobs}",
                            f"--course-root={root}", "--", *extra],
                           "make autograde", cwd=REPO, env=env)
    report = root / REPORT_CSV
    return seconds, read_report(report) if report.is_file() else {}


def _looping(reference):
    """The reference with an endless loop at the top of one solution cell."""
    nb = copy.deepcopy(reference)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == LOOP_CELL:
            cell.source = "while True:\n    pass\n" + cell.source
            return nb
    raise KeyError(f"no cell {LOOP_CELL!r} in the release: update the benchmark")


def _mixed(reference, size: int, looper: int) -> dict:
    """``size`` students in name order, the one at index ``looper`` looping forever."""
    return {f"mixed{k:02d}": _looping(reference) if k == looper else reference
            for k in range(size)}


def _failed(report: dict[str, dict[str, str]], students) -> list[str]:
    return [s for s in students if report.get(s, {}).get("status", NOT_GRADED) == NOT_GRADED]


def _compare(label: str, seq_root: Path, par_root: Path, problems: list[str]) -> None:
    if _scores(seq_root) != _scores(par_root):
        problems.append(f"{label}: the sequential and make-autograde gradebooks hold different scores")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=12, help="uniform batch size")
    parser.add_argument("--jobs", type=int, default=2, help="LocalCluster workers")
    parser.add_argument("--mixed", type=int, default=17, help="students of the mixed batch")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="wall-clock budget of each notebook in the mixed batch, seconds")
    args = parser.parse_args(argv)
    uniform = [f"student{k:02d}" for k in range(1, args.students + 1)]
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as folder:
        base = Path(folder)
        built = base / "built"
        release_s, proc = _release(built)
        if proc.returncode != 0:
            return 1
        release = nbformat.read(str(built / "capstone.ipynb"), as_version=4)
        source = nbformat.read(str(source_notebook_path(built)), as_version=4)
        reference = reference_submission(release, source)
        batch = {s: reference for s in uniform}

        one_root = _course_copy(built, base / "one", {uniform[0]: reference})
        one_s, one_failed = timed(lambda: run_sequential(one_root, uniform[:1], [], quiet=True))
        seq_root = _course_copy(built, base / "sequential", batch)
        seq_s, seq_failed = timed(lambda: run_sequential(seq_root, uniform, [], quiet=True))
        par_root = _course_copy(built, base / "parallel", batch)
        par_s, par_report = _make_autograde(par_root, args.jobs, [])
        open_root = _course_copy(built, base / "unjailed", batch)
        open_s, open_report = _make_autograde(open_root, args.jobs, [], sandbox=False)

        budget = [f"--JailSettings.budget_s={args.budget:g}"]
        middle = args.mixed // 2
        mixed = _mixed(reference, args.mixed, middle)
        mseq_root = _course_copy(built, base / "mixed-sequential", mixed)
        mseq_s, mseq_failed = timed(lambda: run_sequential(mseq_root, list(mixed), budget, quiet=True))
        mpar_root = _course_copy(built, base / "mixed-parallel", mixed)
        mpar_s, mpar_report = _make_autograde(mpar_root, args.jobs, budget)
        last = _mixed(reference, args.mixed, args.mixed - 1)
        mlast_root = _course_copy(built, base / "mixed-last", last)
        mlast_s, mlast_report = _make_autograde(mlast_root, args.jobs, budget)

        failed = {"one": one_failed, "sequential": seq_failed,
                  "make autograde": _failed(par_report, uniform),
                  "unjailed": _failed(open_report, uniform), "mixed sequential": mseq_failed,
                  "mixed make autograde": _failed(mpar_report, mixed),
                  "mixed, looping last": _failed(mlast_report, last)}
        if any(failed.values()):
            problems.append(f"failed submissions: {failed}")
        _compare("uniform", seq_root, par_root, problems)
        _compare("mixed", mseq_root, mpar_root, problems)
        if not all(row["score"] == 100.0 for root in (one_root, par_root, open_root)
                   for row in _scores(root).values()):
            problems.append("the reference solution did not score 100 everywhere")
        for report, looper in ((mpar_report, list(mixed)[middle]), (mlast_report, list(last)[-1])):
            looped = report.get(looper, {}).get("reason", "")
            if "budget exceeded" not in looped:
                problems.append(f"{looper}, looping, was not stopped at its budget: {looped!r}")

    ok = judge("make release (python -m tools.release)", release_s, RELEASE_S)
    ok &= judge("stock autograde of 1 submission", one_s, ONE_SUBMISSION_S)
    ratio = seq_s / par_s
    print(f"autograde {len(uniform)} submissions: stock sequential {seq_s:.1f} s "
          f"({seq_s / len(uniform):.1f} s each), make autograde ({args.jobs} workers) {par_s:.1f} s")
    print(f"speedup {ratio:.2f}× (target ≥ {SPEEDUP_TARGET}×)  {verdict(ratio >= SPEEDUP_TARGET)}")
    ok &= ratio >= SPEEDUP_TARGET
    cost = par_s / open_s
    print(f"jail cost: jailed {par_s:.1f} s, unjailed (SANDBOX=0) {open_s:.1f} s = {cost:.2f}× "
          f"(target ≤ {JAIL_COST_TARGET}×)  {verdict(cost <= JAIL_COST_TARGET)}")
    ok &= cost <= JAIL_COST_TARGET
    bound = max(args.budget, mseq_s / args.jobs)
    print(f"mixed batch ({args.mixed} students, number {middle + 1} looping, budget {args.budget:g} s): "
          f"stock sequential {mseq_s:.1f} s (total work), make autograde {mpar_s:.1f} s = "
          f"{mpar_s / bound:.2f}× max(budget, work / {args.jobs} workers) = {bound:.1f} s "
          f"(target ≤ {MIXED_TARGET}×)  {verdict(mpar_s <= MIXED_TARGET * bound)}")
    ok &= mpar_s <= MIXED_TARGET * bound
    print(f"mixed batch, the looping student graded last: make autograde {mlast_s:.1f} s = "
          f"{mlast_s / bound:.2f}× the same bound (no target: it cannot start before the others)")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 0 if ok and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
