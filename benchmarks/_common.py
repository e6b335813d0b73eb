"""What every benchmark does the same way: time an action or a command in a fresh interpreter,
show the output of a command that failed, print a figure with its PASS/FAIL verdict, and say
how far the rounds of a comparison spread and whether the machine was busy while they ran.

Not a benchmark itself: run_all.py runs only the bench_*.py scripts.
"""

from __future__ import annotations

import os
import statistics
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


#: A spread of rounds above this (standard deviation / mean, as pyperf warns) is said out loud.
UNSTABLE_SPREAD = 0.10


def load_average() -> str:
    """The machine's 1-minute load average against its core count, e.g. 'load 3.1 on 2 cores'."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def rounds_text(values: Sequence[float], digits: int = 2) -> str:
    """Every round's value in the order measured, e.g. '1.50, 1.71, 1.58'."""
    return ", ".join(f"{v:.{digits}f}" for v in values)


def spread(values: Sequence[float]) -> float:
    """The standard deviation of `values` as a fraction of their mean (0 for fewer than two)."""
    if len(values) < 2:
        return 0.0
    return statistics.stdev(values) / statistics.fmean(values)


def stability(label: str, values: Sequence[float], loads: Sequence[float] = ()) -> str:
    """One line on how far the rounds of `label` spread, with a WARNING when they spread more than
    UNSTABLE_SPREAD: a median of such rounds is still the best figure, but not a settled one.
    `loads` are the load averages seen at the rounds' starts, printed when given."""
    rel = spread(values)
    seen = f"; load averages {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores" if loads else ""
    if rel > UNSTABLE_SPREAD:
        return (
            f"WARNING: {label} may be unstable: its {len(values)} rounds spread by {rel:.0%} of their mean "
            f"(over {UNSTABLE_SPREAD:.0%}){seen}; the machine is busy, rerun it on a quieter one"
        )
    return f"{label}: {len(values)} rounds within {rel:.0%} of their mean{seen}"
