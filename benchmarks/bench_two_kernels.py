"""The cost of grading with the tests in a kernel of their own, side by side in one run:

- one notebook (the reference solutions) executed by `TwoKernelExecute` (the student kernel and the
  test kernel, every act relayed between them: what `nbgrader autograde` runs now) against
  `JailedExecute` (one kernel running every cell, the tests' acts as plain calls: the grading
  before the two kernels), both jailed and configured by the course's `nbgrader_config.py`;
  two kernels at most 1.3× one kernel.

Only the execution step is timed (nbgrader's other steps are the same either way, so the ratio of
whole autograde runs is smaller). Both are run in each of `--rounds` rounds, the order flipping
every round, and the verdict uses the median of the per-round ratios. Both must give the
reference every point (no test cell with an error output).

    python benchmarks/bench_two_kernels.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import nbformat  # noqa: E402
from traitlets.config.loader import PyFileConfigLoader  # noqa: E402

from tinytorch_course.authoring.reference import nbgrader_meta, reference_submission  # noqa: E402
from tinytorch_course.authoring.release import build_release  # noqa: E402
from tinytorch_course.grading.preprocessors.jailedexecute import JailedExecute  # noqa: E402
from tinytorch_course.grading.preprocessors.twokernelexecute import TwoKernelExecute  # noqa: E402
from tinytorch_course.paths import SOURCE_PY, source_notebook_path  # noqa: E402

from _common import timed, verdict  # noqa: E402

TWO_KERNELS_TARGET = 1.3  # TwoKernelExecute / JailedExecute, one notebook


def failed_tests(nb) -> list[str]:
    """The graded test cells of an executed notebook that have an error output."""
    return [
        nbgrader_meta(cell)["grade_id"]
        for cell in nb.cells
        if nbgrader_meta(cell).get("grade")
        and not nbgrader_meta(cell).get("solution")
        and any(out.output_type == "error" for out in cell.outputs)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # as nbgrader sets it: demonstration cells skip
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    with tempfile.TemporaryDirectory(prefix="bench-two-kernels-") as tmp:
        root = Path(tmp)
        release = nbformat.read(str(build_release(SOURCE_PY, root, root / "capstone.ipynb")), as_version=4)
        notebook = reference_submission(release, nbformat.read(str(source_notebook_path(root)), as_version=4))
        work = root / "work"
        work.mkdir()
        ratios, ok = [], True
        for round_ in range(args.rounds):
            order = [JailedExecute, TwoKernelExecute][:: 1 if round_ % 2 == 0 else -1]
            seconds = {}
            for cls in order:
                nb = copy.deepcopy(notebook)
                seconds[cls], _ = timed(
                    lambda cls=cls, nb=nb: cls(config=config).preprocess(nb, {"metadata": {"path": str(work)}})
                )
                failed = failed_tests(nb)
                if failed:
                    print(f"FAIL: {cls.__name__} failed the reference's tests {failed}")
                    ok = False
            ratios.append(seconds[TwoKernelExecute] / seconds[JailedExecute])
            print(
                f"round {round_ + 1}: one kernel {seconds[JailedExecute]:.2f} s, two kernels "
                f"{seconds[TwoKernelExecute]:.2f} s, ratio {ratios[-1]:.2f}",
                flush=True,
            )
    ratio = median(ratios)
    ok = ok and ratio <= TWO_KERNELS_TARGET
    print(
        f"one notebook, two kernels / one kernel (median of {args.rounds} rounds): {ratio:.2f}× "
        f"(target ≤ {TWO_KERNELS_TARGET}×)  {verdict(ratio <= TWO_KERNELS_TARGET)}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
