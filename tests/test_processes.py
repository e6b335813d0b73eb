"""The helper every fixture runs its subprocesses with (tests/processes.py): a failed run, a run
past its timeout and a file the run did not write each fail with the process's own output."""

from __future__ import annotations

import shlex
import sys

import pytest

from tests.processes import expect_file, run_process

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
