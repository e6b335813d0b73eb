"""Subprocesses the tests' fixtures start, run so that a failure shows what the process said.

A fixture that captures a process's output and then fails on what the process left behind (a
report file, a score) would otherwise say only "no such file". Every fixture that runs a program
goes through :func:`run_process` (a finished run) or, for a server it starts and polls, keeps its
output in a log file and reports it with :func:`log_tail`."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Container, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: How much of each stream a failure message shows: the end, where the traceback is.
TAIL_CHARS = 8000


def _tail(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text or ""
    if len(text) <= TAIL_CHARS:
        return text
    return f"[... {len(text) - TAIL_CHARS} characters cut ...]\n{text[-TAIL_CHARS:]}"


def process_output(proc: subprocess.CompletedProcess | subprocess.TimeoutExpired) -> str:
    """The command line, how it ended and the ends of its stdout and stderr: the message of any
    assertion about a finished process."""
    argv = proc.args if isinstance(proc.args, str) else shlex.join(map(str, proc.args))
    ended = (
        f"timed out after {proc.timeout} s"
        if isinstance(proc, subprocess.TimeoutExpired)
        else f"exit code {proc.returncode}"
    )
    return f"$ {argv}\n{ended}\n--- stdout ---\n{_tail(proc.stdout)}\n--- stderr ---\n{_tail(proc.stderr)}"


def run_process(
    argv: Sequence[str | Path], *, ok: Container[int] | None = (0,), **kwargs: Any
) -> subprocess.CompletedProcess:
    """``subprocess.run(argv, **kwargs)`` with its output captured as text; an AssertionError
    showing :func:`process_output` when the exit code is not in ``ok`` (None: any exit code is the
    caller's to judge) or the ``timeout`` passes."""
    try:
        proc = subprocess.run([str(arg) for arg in argv], capture_output=True, text=True, **kwargs)
    except subprocess.TimeoutExpired as expired:
        raise AssertionError(process_output(expired)) from None
    if ok is not None and proc.returncode not in ok:
        raise AssertionError(process_output(proc))
    return proc


def expect_file(path: Path, proc: subprocess.CompletedProcess) -> Path:
    """``path``, which ``proc`` should have written; an AssertionError naming it and showing the
    process's output when it did not."""
    if not Path(path).is_file():
        raise AssertionError(f"{path} was not written by\n{process_output(proc)}")
    return Path(path)


def log_tail(path: Path) -> str:
    """The end of a log file a started process writes its output to (empty when it has none)."""
    try:
        return _tail(Path(path).read_bytes())
    except FileNotFoundError:
        return ""


def run_together(first: Callable[[], T], *others: Callable[[], T]) -> list[T]:
    """What each call returns, all of them run at once: ``first`` in this thread (so it may start
    a Dask cluster), each other call in a thread of its own. For runs that wait on processes and
    share nothing, so the wall time is the longest run's, not their sum. Every call is let finish;
    then the first error, in argument order, is raised."""
    with ThreadPoolExecutor(max_workers=max(1, len(others))) as pool:
        futures = [pool.submit(call) for call in others]
        head = first()  # on an error, leaving the block still waits for the other calls
    return [head, *(future.result() for future in futures)]
