"""Run every benchmarks/bench_*.py in its own interpreter; exit 1 if any of them fails.

    python benchmarks/run_all.py

Each benchmark prints its own figures and PASS/FAIL and exits non-zero on FAIL. They run one
after another, never in parallel, so they do not disturb each other's timings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.name)
    print("all benchmarks passed" if not failed else f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
