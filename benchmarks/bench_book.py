"""How long a clean `make book` takes, against its 90 s target on 2 cores.

    python benchmarks/bench_book.py

Runs the steps `make book` runs, in a fresh interpreter each, as a user would: fetch the mermaid
script (a no-op once it is cached), the capstone workflow that writes the submission the results
page reads (`make results`), and a clean, strict `jupyter-book build --all -W -n --keep-going`.
Both outputs go to a temporary folder (the results page is pointed at it with
TINYTORCH_RESULTS_DIR), so the book and results in the working tree are left alone. Prints each
step's wall time, the total and its ratio to the target; exits 1 when a step fails or the total
is over target.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from _common import judge, timed_run

TARGET_S = 90.0
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def steps(work: Path) -> list[tuple[str, list[str]]]:
    """The commands of `make book` (after `make install`), writing under `work`."""
    results = work / "results"
    return [
        ("fetch mermaid", [str(ROOT / "scripts" / "fetch_mermaid.sh")]),
        (
            "results (tinytorch olympics run)",
            [str(BIN / "tinytorch"), "olympics", "run", "--out", str(results / "submission.json"), "--no-progress"],
        ),
        (
            "jupyter-book build (clean, strict)",
            [
                str(BIN / "jupyter-book"),
                "build",
                ".",
                "--all",
                "-W",
                "-n",
                "--keep-going",
                "--path-output",
                str(work / "book"),
            ],
        ),
    ]


def run_step(name: str, command: list[str], env: dict) -> float | None:
    """Wall time of one step in seconds, or None (with its output printed) when it fails."""
    elapsed, result = timed_run(command, name, cwd=ROOT, env=env)
    if result.returncode != 0:
        return None
    print(f"  {name}: {elapsed:.1f} s", flush=True)
    return elapsed


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-book-") as folder:
        work = Path(folder)
        env = {**os.environ, "TINYTORCH_RESULTS_DIR": str(work / "results")}
        total = 0.0
        for name, command in steps(work):
            elapsed = run_step(name, command, env)
            if elapsed is None:
                return 1
            total += elapsed
        if not (work / "book" / "_build" / "html" / "book" / "capstone.html").is_file():
            print("FAIL: the build finished but wrote no book/capstone.html")
            return 1
    return 0 if judge("clean make book", total, TARGET_S) else 1


if __name__ == "__main__":
    sys.exit(main())
