"""The canonical notebook's cost: grading with it against grading the hand-ins as they are.

Stock `nbgrader autograde 20_capstone` grades the same submissions twice in each round: as
configured (`CanonicalNotebookExporter`: each hand-in read safely and rebuilt from the assignment
before it runs) and with nbconvert's own `NotebookExporter` (the hand-in read as it is, as before
the canonical step), the order flipping every round; the verdict is the median of the per-round
ratios of CPU time (nbgrader and the processes it waited for), at most 1.05: the wall clock of a
shared machine moves by more than that between two runs of one command, so it is printed without
a target. Also printed, without a target: what `make autograde`'s coordinator spends
per hand-in on the same step (`coordinator.hand_in`, done while the workers start), and what
each exporter's `from_filename` takes to read one hand-in, side by side in this process.

    python benchmarks/bench_canonical.py [--students 4] [--rounds 5]

Every submission is the reference solution and must score 100 both ways. Exit code 1 when the
target is missed or a submission is not graded 100.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402
from bench_autograde import _course_copy, _release, _scores  # noqa: E402
from nbconvert.exporters import NotebookExporter  # noqa: E402
from nbgrader.converters import Autograde  # noqa: E402
from nbgrader.coursedir import CourseDirectory  # noqa: E402

from tinytorch_course.authoring.reference import reference_submission  # noqa: E402
from tinytorch_course.grading.coordinator import hand_in, run_sequential  # noqa: E402
from tinytorch_course.grading.plugins.canonicalnotebookexporter import CanonicalNotebookExporter  # noqa: E402
from tinytorch_course.paths import SOURCE_DIRECTORY, source_notebook_path, submission_path  # noqa: E402

from _common import cpu_seconds, others_cores, rounds_text, stability, timed, verdict  # noqa: E402

COST_TARGET = 1.05  # canonical / as handed in, stock sequential autograde
#: nbgrader's option that grades the hand-ins as they are (the exporter before the canonical step).
AS_HANDED_IN = ["--Autograde.exporter_class=nbconvert.exporters.NotebookExporter"]


def _children_cpu() -> float:
    """CPU seconds (user + system) used so far by the children this process waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _grade(
    built: Path, folder: Path, submissions: dict, extra: list[str], problems: list[str], label: str
) -> tuple[float, float]:
    """Stock sequential autograde of ``submissions`` in a fresh course copy: its wall time and
    the CPU time of nbgrader and the processes it waited for."""
    root = _course_copy(built, folder, submissions)
    cpu = _children_cpu()
    seconds, failed = timed(lambda: run_sequential(root, list(submissions), extra, quiet=True))
    cpu = _children_cpu() - cpu
    scores = _scores(root)
    if failed or any(scores.get(s, {}).get("score") != 100.0 for s in submissions):
        problems.append(f"{label}: not every submission was graded 100 (failed: {failed})")
    shutil.rmtree(root, ignore_errors=True)
    return seconds, cpu


def _exporter_reads(root: Path, student: str, times: int = 20) -> dict[str, float]:
    """Milliseconds each exporter's ``from_filename`` takes to read ``student``'s hand-in, as
    autograde's first pass calls it, the two interleaved ``times`` times."""
    converter = Autograde(coursedir=CourseDirectory(root=str(root), source_directory=SOURCE_DIRECTORY))
    exporters = {"canonical": CanonicalNotebookExporter(parent=converter), "as is": NotebookExporter(parent=converter)}
    path = str(submission_path(root, student))
    seconds = dict.fromkeys(exporters, 0.0)
    for _ in range(times):
        for label, exporter in exporters.items():
            seconds[label] += timed(lambda exporter=exporter: exporter.from_filename(path))[0]
    return {label: total / times * 1000 for label, total in seconds.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=4, help="submissions graded each way per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the verdict uses the median ratio")
    args = parser.parse_args(argv)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-canonical-") as folder:
        base = Path(folder)
        built = base / "built"
        _, proc = _release(built)
        if proc.returncode != 0:
            return 1
        release = nbformat.read(str(built / "capstone.ipynb"), as_version=4)
        given = nbformat.read(str(source_notebook_path(built)), as_version=4)
        reference = reference_submission(release, given)
        submissions = {f"student{k:02d}": reference for k in range(1, args.students + 1)}
        canonical, as_is = [], []
        others: list[float | None] = []
        for k in range(args.rounds):
            before, start = cpu_seconds(), time.perf_counter()
            steps = [
                lambda k=k: canonical.append(_grade(built, base / f"c{k}", submissions, [], problems, "canonical")),
                lambda k=k: as_is.append(_grade(built, base / f"a{k}", submissions, AS_HANDED_IN, problems, "as is")),
            ]
            for step in steps[::-1] if k % 2 else steps:
                step()
            others.append(others_cores(before, cpu_seconds(), time.perf_counter() - start))
        one = _course_copy(built, base / "one", {"student01": reference})
        per_hand_in, _ = timed(lambda: [hand_in(one, "student01", given) for _ in range(20)])
        reads = _exporter_reads(one, "student01")
    walls = [c[0] / a[0] for c, a in zip(canonical, as_is, strict=True)]
    ratios = [c[1] / a[1] for c, a in zip(canonical, as_is, strict=True)]
    ratio = median(ratios)
    print(
        f"stock autograde of {args.students} submissions, {args.rounds} rounds: CPU seconds of nbgrader and "
        f"what it waited for: canonical {rounds_text([c[1] for c in canonical], 1)}, as handed in "
        f"{rounds_text([a[1] for a in as_is], 1)}; wall: canonical {rounds_text([c[0] for c in canonical], 1)} s, "
        f"as handed in {rounds_text([a[0] for a in as_is], 1)} s"
    )
    print(
        f"canonical / as handed in, CPU: median {ratio:.3f}× of {rounds_text(ratios, 3)} "
        f"(target ≤ {COST_TARGET}×)  {verdict(ratio <= COST_TARGET)}"
    )
    print(stability("canonical / as handed in, CPU", ratios, others))
    print(f"canonical / as handed in, wall (no target: it moves with the load): median {median(walls):.3f}×")
    print(
        f"make autograde's canonical step (coordinator.hand_in): {per_hand_in / 20 * 1000:.1f} ms a hand-in, "
        f"{per_hand_in / 20 / (median(a[0] for a in as_is) / args.students):.3f}× of grading one (no target)"
    )
    print(
        f"one hand-in read by autograde's exporter: canonical {reads['canonical']:.1f} ms, "
        f"as is {reads['as is']:.1f} ms (no target)"
    )
    for problem in problems:
        print(f"FAIL: {problem}")
    return 0 if ratio <= COST_TARGET and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
