"""How a grading task starts stock nbgrader: exactly ``python -m nbgrader <args>``, but in a
process forked from a server that imported nbgrader once per worker.

Importing nbgrader (nbconvert, SQLAlchemy, jsonschema's format checkers, ...) takes seconds, as
long as grading a notebook; paying it for every student would cost a one-student task a good part
of its time. Each child is still a fresh process that runs nbgrader's own ``__main__`` with its
own arguments, working folder, environment, log and exit code. Where a worker may not have child
processes of its own (a daemonic Dask worker under a nanny with ``distributed.worker.daemon``
true), nbgrader starts as an ordinary subprocess instead.
"""
from __future__ import annotations

import atexit
import ctypes
import multiprocessing
import os
import runpy
import signal
import subprocess
import sys
from pathlib import Path

#: Modules the fork server imports once: nbgrader's applications and what they pull in.
PRELOAD = ("nbgrader.apps.nbgraderapp", "nbclient", "jupyter_client", __name__)

_context = None


def run_nbgrader(args: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> int:
    """Run ``python -m nbgrader *args`` in ``cwd`` with exactly ``env``, its output (stdout and
    stderr) written to ``log_path``; returns its exit code. It gets SIGKILL if this process dies."""
    if multiprocessing.current_process().daemon:
        with open(log_path, "wb") as log:
            return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                                  stdout=log, stderr=subprocess.STDOUT,
                                  preexec_fn=die_with_parent).returncode
    child = _forkserver().Process(target=_nbgrader_main,
                                  args=(list(args), str(cwd), dict(env), str(log_path)))
    child.start()
    child.join()
    return child.exitcode


def warm() -> None:
    """Start the fork server now, without waiting for it: it imports nbgrader while this worker
    waits for its first task, instead of during it. Does nothing where nbgrader runs as a plain
    subprocess (a daemonic worker)."""
    if multiprocessing.current_process().daemon:
        return
    _forkserver()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _forkserver():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(list(PRELOAD))
    return _context


def die_with_parent() -> None:
    """Ask Linux for SIGKILL when the parent process ends: nbgrader must not grade on as an
    orphan once the worker that started it is gone (its task is retried elsewhere)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _nbgrader_main(args: list[str], cwd: str, env: dict[str, str], log_path: str) -> None:
    # The fork server outlives nothing: it ends with the worker, and this child with it.
    die_with_parent()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, errors="replace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, errors="replace", closefd=False)
    sys.argv = ["nbgrader", *args]
    try:
        runpy.run_module("nbgrader", run_name="__main__", alter_sys=True)
    finally:
        # multiprocessing ends its children with os._exit, which skips atexit; nbgrader's config
        # registers the removal of its kernels' socket folder there.
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
