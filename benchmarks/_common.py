"""What every benchmark does the same way: time an action or a command in a fresh interpreter,
show the output of a command that failed, print a figure with its PASS/FAIL verdict, and say
how far the rounds of a comparison spread and whether the machine was busy while they ran.

Not a benchmark itself: run_all.py runs only the bench_*.py scripts.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

#: Characters of stdout and of stderr shown when a command fails.
TAIL_CHARS = 3000


def non_negative_int(text: str) -> int:
    """An option's whole number ≥ 0, e.g. a count of rounds that may be none (argparse names the
    option when it is not)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


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


#: A spread of rounds above this (of their median, as pyperf warns at 10% of the mean) is said out loud.
UNSTABLE_SPREAD = 0.10
#: Scales a median absolute deviation to the standard deviation it estimates for normal noise.
MAD_TO_SD = 1.4826
#: /proc/stat columns of CPU time spent working: user, nice, system, (not idle, iowait), irq, softirq, steal.
_BUSY_COLUMNS = (0, 1, 2, 5, 6, 7)


#: cgroup v1's CPU accounting, where a benchmark run as root can count every process it starts.
CPUACCT = Path("/sys/fs/cgroup/cpuacct")
_own_cgroup: list[Path | None] = []  # [] until first asked; then [the cgroup] or [None]


def _own_cpuacct() -> Path | None:
    """A cpuacct cgroup of this benchmark's own, which it moves into on the first call, so that
    every process it starts afterwards is counted as its own: jailed kernels included, whose
    CPU time no parent waits for (the jail is killed, not waited). None where there is none
    (no cgroup v1 cpuacct hierarchy, or not allowed to make one); the cgroup is removed at exit."""
    if not _own_cgroup:
        _own_cgroup.append(None)
        folder = CPUACCT / f"tinytorch-bench-{os.getpid()}"
        try:
            folder.mkdir()
            (folder / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            if folder.is_dir():
                folder.rmdir()
            return None
        _own_cgroup[0] = folder
        atexit.register(_leave_cpuacct, folder)
    return _own_cgroup[0]


def _leave_cpuacct(folder: Path) -> None:
    try:
        (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
        folder.rmdir()
    except OSError:  # a process started here still runs in it: the folder stays, empty of work
        pass


def cpu_accounting() -> str:
    """How `cpu_seconds` counts this benchmark's own CPU time, in words for its output."""
    if _own_cpuacct() is not None:
        return "this benchmark's CPU time counted by its own cpuacct cgroup, its jailed kernels included"
    return (
        "this benchmark's CPU time from getrusage: the CPU of jailed kernels, which no parent waits "
        "for, is counted as other processes'"
    )


def cpu_seconds() -> tuple[float, float] | None:
    """(CPU seconds the whole machine has worked, CPU seconds this process and what it started
    have used) since boot, or None where /proc/stat does not exist. Where it can (see
    `_own_cpuacct`), this benchmark's own share counts every process it started; elsewhere only
    this process and the children it has waited for."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    machine = sum(ticks[i] for i in _BUSY_COLUMNS if i < len(ticks)) / os.sysconf("SC_CLK_TCK")
    folder = _own_cpuacct()
    if folder is not None:
        return machine, int((folder / "cpuacct.usage").read_text()) / 1e9
    ours = sum(sum(resource.getrusage(who)[:2]) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return machine, ours


def others_cores(before: tuple[float, float] | None, after: tuple[float, float] | None, wall: float) -> float | None:
    """How many cores, on average over `wall` seconds between two `cpu_seconds()` readings, other
    processes kept busy: what a benchmark competed with. None when it cannot be known."""
    if before is None or after is None or wall <= 0:
        return None
    return max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / wall


def rounds_text(values: Sequence[float], digits: int = 2) -> str:
    """Every round's value in the order measured, e.g. '1.50, 1.71, 1.58'."""
    return ", ".join(f"{v:.{digits}f}" for v in values)


def spread(values: Sequence[float]) -> float:
    """How far `values` spread, as a fraction of their median: the standard deviation estimated
    from the median absolute deviation, which one round preempted by another process cannot
    inflate the way it inflates a plain standard deviation (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    middle = statistics.median(values)
    return MAD_TO_SD * statistics.median(abs(v - middle) for v in values) / middle


def stability(label: str, values: Sequence[float], others: Sequence[float | None] = ()) -> str:
    """One line on how far the rounds of `label` spread, with a WARNING when they spread more than
    UNSTABLE_SPREAD: the median of such rounds is still the figure to use, but not a settled one.
    `others` are the cores other processes kept busy in each round (see `others_cores`)."""
    if len(values) < 2:
        return f"{label}: one round, so no spread to judge"
    rel = spread(values)
    known = [o for o in others if o is not None]
    seen = f"; other processes kept {min(known):.1f}–{max(known):.1f} of {os.cpu_count()} cores busy" if known else ""
    if rel > UNSTABLE_SPREAD:
        return (
            f"WARNING: {label} may be unstable: its {len(values)} rounds spread by {rel:.0%} of their median "
            f"(over {UNSTABLE_SPREAD:.0%}){seen}; rerun it on a quieter machine"
        )
    return f"{label}: {len(values)} rounds spread by {rel:.0%} of their median{seen}"
