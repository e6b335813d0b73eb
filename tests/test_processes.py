"""The helper every fixture runs its subprocesses with (tests/processes.py): a failed run, a run
past its timeout and a file the run did not write each fail with the process's own output."""

from __future__ import annotations

import shlex
import sys

import pytest

from tests.processes import expect_file, run_process, run_together

# Prints to both streams, then exits with the code given as its argument.
TALKER = "import sys; print('said on stdout'); print('said on stderr', file=sys.stderr); sys.exit(int(sys.argv[1]))"


def test_an_exit_code_not_allowed_fails_with_the_command_and_both_streams() -> None:
    with pytest.raises(AssertionError) as failed:
        run_process([sys.executable, "-c", TALKER, "3"])
    message = str(failed.value)
    assert "exit code 3" in message and shlex.quote(TALKER) in message
    assert "--- stdout ---\nsaid on stdout" in message and "--- stderr ---\nsaid on stderr" in message


def test_allowed_exit_codes_return_the_run_for_the_caller_to_judge() -> None:
    assert run_process([sys.executable, "-c", TALKER, "1"], ok=(0, 1)).returncode == 1
    run = run_process([sys.executable, "-c", TALKER, "5"], ok=None)
    assert (run.returncode, run.stdout, run.stderr) == (5, "said on stdout\n", "said on stderr\n")


def test_a_timeout_fails_with_what_was_said_before_it() -> None:
    code = "import sys, time; print('started', flush=True); time.sleep(30)"
    with pytest.raises(AssertionError) as failed:
        run_process([sys.executable, "-c", code], timeout=2)
    assert "timed out after 2 s" in str(failed.value) and "started" in str(failed.value)


def test_a_file_the_run_should_have_written_names_itself_and_the_output(tmp_path) -> None:
    run = run_process([sys.executable, "-c", TALKER, "0"])
    with pytest.raises(AssertionError) as failed:
        expect_file(tmp_path / "report.txt", run)
    assert str(tmp_path / "report.txt") in str(failed.value) and "said on stderr" in str(failed.value)
    (tmp_path / "report.txt").write_text("written\n")
    assert expect_file(tmp_path / "report.txt", run) == tmp_path / "report.txt"


# Writes the file named first, then waits up to 60 s for the file named second: two of them, each
# waiting for the other's file, end only when run at the same time.
RENDEZVOUS = (
    "import pathlib, sys, time; pathlib.Path(sys.argv[1]).write_text('here'); deadline = time.time() + 60\n"
    "while not pathlib.Path(sys.argv[2]).exists():\n"
    "    time.sleep(0.05)\n"
    "    if time.time() > deadline: sys.exit('the other run never started')"
)


def test_runs_together_run_at_once_and_a_failure_waits_for_the_others(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    runs = run_together(
        lambda: run_process([sys.executable, "-c", RENDEZVOUS, a, b], timeout=120),
        lambda: run_process([sys.executable, "-c", RENDEZVOUS, b, a], timeout=120),
    )
    assert [run.args[-2] for run in runs] == [str(a), str(b)], "the results come in argument order"
    late = tmp_path / "late"
    writer = "import pathlib, sys, time; time.sleep(1); pathlib.Path(sys.argv[1]).write_text('done')"
    with pytest.raises(AssertionError) as failed:
        run_together(
            lambda: run_process([sys.executable, "-c", TALKER, "4"]),
            lambda: run_process([sys.executable, "-c", writer, late]),
        )
    assert "exit code 4" in str(failed.value)
    assert late.read_text() == "done", "the failure was raised before the other run ended"
