"""What every benchmark does the same way: time an action or a command in a fresh interpreter,
show the output of a command that failed, and print a figure with its PASS/FAIL verdict.

Not a benchmark itself: run_all.py runs only the bench_*.py scripts.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: Characters of stdout and of stderr shown when a command fails.
TAIL_CHARS = 3000


def verdict(ok: bool) -> str:
    """The word every benchmark line ends with."""
    return "PASS" if ok else "FAIL"


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """Wall time of ``action()`` in seconds, and its result."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def timed_run(
    command: Sequence[str], label: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``command`` in a subprocess and time it. When it exits non-zero, the tail of its
    output and a ``FAIL: <label> exited N`` line are printed; the caller checks ``returncode``."""
    seconds, result = timed(lambda: subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True))
    if result.returncode != 0:
        print(result.stdout[-TAIL_CHARS:], result.stderr[-TAIL_CHARS:], sep="\n")
        print(f"FAIL: {label} exited {result.returncode}")
    return seconds, result


def judge(label: str, seconds: float, target: float, digits: int = 1) -> bool:
    """Print a wall time with its ratio to a ``target`` it must stay under; True when it does."""
    ok = seconds < target
    print(
        f"{label}: {seconds:.{digits}f} s = {seconds / target:.2f}× the {target:g} s target  {verdict(ok)}", flush=True
    )
    return ok
