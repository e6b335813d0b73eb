"""The server that starts nbgrader for grading tasks (tinytorch_course/grading/forkserver.py): a fresh process
per run with its own exit code, log and environment, and nothing left running once the process
that asked, or the one that started the server, is gone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import psutil
import pytest

from tinytorch_course.grading import forkserver
from tinytorch_course.paths import REPO, nbgrader_env

from pipeline_helpers import wait_until


@pytest.fixture(scope="module")
def server():
    with forkserver.NbgraderServer() as running:
        yield running


def _use(server, monkeypatch) -> None:
    monkeypatch.setenv(forkserver.SERVER_VARIABLE, server.address)


def test_the_server_answers_once_it_has_imported_nbgrader(server, monkeypatch):
    _use(server, monkeypatch)
    status = forkserver.server_status()
    assert status == {"pid": server.process.pid, "preloaded": forkserver.preload_names()}


def test_each_run_is_nbgrader_with_its_own_exit_code_log_and_environment(server, monkeypatch, tmp_path):
    _use(server, monkeypatch)
    log = tmp_path / "version.log"
    assert forkserver.run_nbgrader(["--version"], REPO, nbgrader_env(), log) == 0
    assert "nbgrader version" in log.read_text()
    bad = tmp_path / "bad.log"
    assert (
        forkserver.run_nbgrader(
            ["autograde", "no_such_assignment", f"--CourseDirectory.root={tmp_path}"], REPO, nbgrader_env(), bad
        )
        == 1
    )
    assert "no_such_assignment" in bad.read_text()
    env = {"PATH": os.environ["PATH"], "PROBE": "only-this"}
    out = tmp_path / "probe.log"
    assert forkserver.run_module("tests.course.grading.forkserver_probe", ["a", "b"], tmp_path, env, out) == 7
    assert out.read_text().split() == [str(tmp_path), "only-this", "a", "b"]


def test_runs_share_what_the_server_loaded_but_not_its_event_key_or_session(server, monkeypatch, tmp_path):
    _use(server, monkeypatch)
    env = {"PATH": os.environ["PATH"]}  # no TINYTORCH_GRADING_KEY: each run draws its own
    found = []
    for k in range(2):
        log = tmp_path / f"state{k}.log"
        assert forkserver.run_module("tests.course.grading.forkserver_state_probe", [], REPO, env, log) == 0
        found.append(json.loads(log.read_text()))
    for state in found:
        assert state["loaded"] == {
            "tinytorch_course.grading.jail.events": True,
            "nbgrader.api": True,
            "jsonschema": True,
            "rfc3987_syntax": False,
        }
        assert state["mappers_configured"] is True
        # what an nbgrader run validates with: the current format, strict and relaxed
        current = [nbformat.current_nbformat, nbformat.current_nbformat_minor]
        assert state["validators"] == [[*current, False], [*current, True]]
        assert state["own_session"] is True, "a run shares the server's session (and its CPU share)"
    assert found[0]["key"] != found[1]["key"]


def _grandchildren(pid: int) -> list[psutil.Process]:
    return [p for child in psutil.Process(pid).children() for p in child.children()]


def test_a_run_is_killed_when_the_process_that_asked_for_it_dies(server, tmp_path):
    asker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        from pathlib import Path
        from tinytorch_course.grading import forkserver
        forkserver.run_module("timeit", ["-n", "1", "import time; time.sleep(300)"], Path("."),
                          {{}}, Path({str(tmp_path / "sleep.log")!r}))
        """),
        ],
        cwd=REPO,
        env={**os.environ, forkserver.SERVER_VARIABLE: server.address},
    )
    try:
        runs = wait_until(lambda: _grandchildren(server.process.pid), "the run to start", 30, 0.1)
        watchers = psutil.Process(server.process.pid).children()
        asker.kill()
        asker.wait()
        gone, alive = psutil.wait_procs(runs + watchers, timeout=10)
        assert not alive, f"still running after the asker died: {alive}"
        assert psutil.Process(server.process.pid).is_running(), "the server serves on"
    finally:
        asker.kill()


def test_the_server_ends_with_the_process_that_started_it():
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
        import time
        from tinytorch_course.grading import forkserver
        server = forkserver.NbgraderServer()
        print(server.process.pid, server.address, flush=True)
        time.sleep(300)
        """),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pid, address = owner.stdout.readline().split()
        server = psutil.Process(int(pid))
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        server.wait(timeout=30)  # psutil.TimeoutExpired if it outlived its owner
        assert not server.is_running()
        assert Path(address).exists(), "only close() removes the socket folder"
    finally:
        owner.kill()
