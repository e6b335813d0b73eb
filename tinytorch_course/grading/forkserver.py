"""How a grading task starts stock nbgrader: exactly ``python -m nbgrader <args>``, but in a
process forked from a server that has imported nbgrader already.

Importing nbgrader (nbconvert, SQLAlchemy, jsonschema, ...) takes about a second of a core, and
each run would then load the course's ``nbgrader_config.py`` (its preprocessors, numpy, the
student package's modules) and set up nbgrader's SQLAlchemy mappers on its first gradebook query:
together about a third of a second more per run, once per task. The server pays all of it once
per host (:func:`preload`) for a LocalCluster: the coordinator starts it before the workers, so
the imports run while they start, and gives them its address in ``TINYTORCH_NBGRADER_SERVER``. A
worker of another cluster starts its own server when it joins (:func:`warm`).

For each run the server forks a watcher, which forks the run: a fresh process that runs nbgrader's
own ``__main__`` with its own arguments, working folder, environment and log. The watcher sends
the run's exit code back; when the worker that asked goes away (its connection closes) the
watcher kills the run, and the run dies with its watcher (so does the jail, with the run). The
server ends when the process that started it does.
"""

from __future__ import annotations

import ast
import atexit
import ctypes
import gc
import importlib
import json
import os
import runpy
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

from tinytorch.submission.schema_check import import_jsonschema
from tinytorch_course.paths import NBGRADER_CONFIG, THREAD_VARIABLES

#: Modules the server imports once: nbgrader's applications and what they pull in, its gradebook
#: API; then those the course's ``nbgrader_config.py`` imports (:func:`config_imports`).
PRELOAD = ("nbgrader.apps.nbgraderapp", "nbgrader.api", "nbclient", "jupyter_client")

#: The variable that gives a worker the address of its host's server.
SERVER_VARIABLE = "TINYTORCH_NBGRADER_SERVER"


class NbgraderServer:
    """A server process that imports nbgrader, then forks a fresh process for each run it is
    asked for. It listens from the start (a request waits while it imports) and ends with
    :meth:`close` or with the process that started it."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="nbgrader-server-")
        self.address = os.path.join(self.folder, "socket")
        alive_r, alive_w = os.pipe()
        self._alive_w: int | None = alive_w
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(self.address)
            listener.listen(128)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tinytorch_course.grading.forkserver", str(listener.fileno()), str(alive_r)],
                pass_fds=(listener.fileno(), alive_r),
                stdin=subprocess.DEVNULL,
            )
        os.close(alive_r)

    def close(self) -> None:
        """Stop the server (runs in progress go on to their end) and remove its socket."""
        if self._alive_w is not None:
            os.close(self._alive_w)
            self._alive_w = None
            self.process.wait()
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> NbgraderServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_nbgrader(args: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> int:
    """Run ``python -m nbgrader *args`` in ``cwd`` with exactly ``env``, its output (stdout and
    stderr) written to ``log_path``; returns its exit code (negative: the signal that killed it).
    It is killed if this process dies."""
    return run_module("nbgrader", args, cwd, env, log_path)


def run_module(module: str, args: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> int:
    """:func:`run_nbgrader` for any module: ``python -m module *args``, forked from the server."""
    request = {"module": module, "args": list(args), "cwd": str(cwd), "env": dict(env), "log": str(log_path)}
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(_server_address())
        conn.sendall(json.dumps(request).encode() + b"\n")
        reply = conn.makefile("rb").read()
    if not reply.strip():
        raise RuntimeError("the nbgrader server ended without the exit code of nbgrader")
    return int(reply)


def server_status() -> dict:
    """The pid of the server this process uses and which of :data:`PRELOAD` it has imported
    (it answers once it has imported them all)."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(_server_address())
        conn.sendall(json.dumps({"status": True}).encode() + b"\n")
        return json.loads(conn.makefile("rb").read())


def warm() -> None:
    """Start this process's server now, unless its host's server was given: its import runs
    while this worker waits for its first task, instead of during it."""
    _server_address()


_own: NbgraderServer | None = None
_own_lock = threading.Lock()


def _server_address() -> str:
    global _own
    given = os.environ.get(SERVER_VARIABLE)
    if given:
        return given
    with _own_lock:
        if _own is None or _own.process.poll() is not None:
            _own = NbgraderServer()
            atexit.register(_own.close)
        return _own.address


def _die_with_parent() -> None:
    """Ask Linux for SIGKILL when the parent process ends: nbgrader must not grade on as an
    orphan once what started it is gone (its task is retried elsewhere)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# -- the server's side -------------------------------------------------------------------------


def config_imports(config: Path = NBGRADER_CONFIG) -> list[str]:
    """The modules ``config`` imports at its top level, read from its syntax, never run: what every
    nbgrader run loads with it."""
    tree = ast.parse(config.read_text(encoding="utf-8"), filename=str(config))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def preload_names() -> list[str]:
    """What :func:`preload` imports, in order: :data:`PRELOAD`, then :func:`config_imports`."""
    return [*PRELOAD, *(name for name in config_imports() if name not in PRELOAD)]


def build_notebook_validators() -> None:
    """Build nbformat's validators of the current format, strict and relaxed (the two an nbgrader
    run asks for): fastjsonschema compiles each (0.05-0.1 s of a core), and nbformat keeps them for
    the process, so built here they are built once, not by every run."""
    import nbformat
    from nbformat.validator import get_validator

    for relax in (False, True):
        get_validator(nbformat.current_nbformat, nbformat.current_nbformat_minor, relax_add_props=relax)


def preload() -> list[str]:
    """Import in this process what every nbgrader run needs (:data:`PRELOAD`, then
    :func:`config_imports`), set up nbgrader's gradebook mappers and nbformat's validators, and
    freeze what is loaded out of the garbage collector's reach; returns the modules imported, in
    order."""
    # jsonschema (nbformat's validator) without the rfc3987_syntax package: with it, jsonschema
    # builds an IRI grammar at import (1.1-1.4 s of a core) for its "iri" formats, which no schema
    # of nbformat, nbgrader or nbconvert names. A run is forked from here, so it never builds it.
    import_jsonschema()
    # numpy (which the course's preprocessors import) starts no math threads here: nbgrader does
    # no math, and a fork keeps none of a parent's threads. Each run's environment is its own.
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    names = preload_names()
    for name in names:
        importlib.import_module(name)
    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # else each run sets nbgrader's ORM up on its first gradebook query
    build_notebook_validators()
    gc.freeze()  # the runs' collections then skip what every run shares (and leave its pages shared)
    return names


def serve(listener_fd: int, alive_fd: int) -> None:
    """The server's loop: :func:`preload`, then fork a watcher per request, until ``alive_fd``
    (the read end of a pipe its owner holds open) reaches its end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is for the coordinator, which ends us
    preloaded = preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the watchers
    with socket.socket(fileno=listener_fd) as listener:
        while True:
            ready, _, _ = select.select([listener.fileno(), alive_fd], [], [])
            if alive_fd in ready:
                return
            conn, _ = listener.accept()
            try:
                request = json.loads(conn.makefile("rb").readline())
            except (OSError, ValueError):  # an asker gone before its request was read
                conn.close()
                continue
            if request.get("status"):
                status = {"pid": os.getpid(), "preloaded": preloaded}
                conn.sendall(json.dumps(status).encode())
                conn.close()
                continue
            if os.fork() == 0:
                listener.close()
                os.close(alive_fd)
                _watch(conn, request)
            conn.close()


def _watch(conn: socket.socket, request: dict) -> None:
    """The watcher: fork the run, send back its exit code, or kill it when ``conn`` closes."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # nbgrader waits for its own children
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = 1
    try:
        pid = os.fork()
        if pid == 0:
            conn.close()
            _run_main(request["module"], request["args"], request["cwd"], request["env"], request["log"])
        run = os.pidfd_open(pid)
        while True:
            ready, _, _ = select.select([conn.fileno(), run], [], [])
            if run in ready:
                break
            if not conn.recv(1):  # the worker that asked is gone
                os.kill(pid, signal.SIGKILL)
                break
        _, status = os.waitpid(pid, 0)
        conn.sendall(str(os.waitstatus_to_exitcode(status)).encode())
        code = 0
    except OSError:
        pass
    finally:
        os._exit(code)


def _run_main(module: str, args: list[str], cwd: str, env: dict[str, str], log_path: str) -> None:
    """Run ``module`` as ``__main__`` in this fresh process, leading a session of its own, and end
    it with its exit code."""
    _die_with_parent()
    # Where Linux groups the scheduling by session (autogroup, the default of desktop kernels and
    # of this course's machines), every session gets an equal share of a busy machine's cores,
    # whatever its number of processes. In the server's session, the runs of a host's workers
    # would share one session's share, as one stock `nbgrader autograde` has it all to itself,
    # and on a shared machine make autograde's parallel runs were no faster than one (rounds at
    # 0.86-1.13x stock). A jailed kernel leads its own session already (bubblewrap's
    # --new-session). The run still dies with its watcher (above), and a ^C ends the watcher.
    os.setsid()
    code = 1
    try:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stdout = open(1, "w", buffering=1, errors="replace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, errors="replace", closefd=False)
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        # os._exit skips atexit, where nbgrader's config removes its kernels' socket folder.
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
    os._exit(0)  # nothing to flush or close; finalizing nbgrader's modules takes half a second
