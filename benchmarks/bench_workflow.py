"""How long `tinytorch olympics run` takes with default settings, against its 60 s budget.

    python benchmarks/bench_workflow.py

Runs the real command in a subprocess (a fresh interpreter, as a user would), prints the wall
time and its ratio to the budget, and exits 1 when over budget.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 60.0


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "submission.json"
        command = [sys.executable, "-m", "tinytorch.cli", "olympics", "run", "--out", str(out), "--no-progress"]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if result.returncode != 0:
        print(result.stdout[-2000:], result.stderr[-2000:], sep="\n")
        print(f"FAIL: `tinytorch olympics run` exited {result.returncode}")
        return 1
    verdict = "PASS" if elapsed < BUDGET_S else "FAIL"
    print(f"tinytorch olympics run: {elapsed:.1f} s = {elapsed / BUDGET_S:.2f}× the {BUDGET_S:.0f} s budget  {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
