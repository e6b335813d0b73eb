"""How long `tinytorch olympics run` takes with default settings, against its 60 s budget.

    python benchmarks/bench_workflow.py

Runs the real command in a subprocess (a fresh interpreter, as a user would), prints the wall
time and its ratio to the budget, and exits 1 when over budget.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _common import judge, timed_run

BUDGET_S = 60.0


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "submission.json"
        command = [
            sys.executable,
            "-m",
            "tinytorch.olympics.cli",
            "olympics",
            "run",
            "--out",
            str(out),
            "--no-progress",
        ]
        elapsed, result = timed_run(command, "`tinytorch olympics run`")
    if result.returncode != 0:
        return 1
    return 0 if judge("tinytorch olympics run", elapsed, BUDGET_S) else 1


if __name__ == "__main__":
    sys.exit(main())
