"""Fast checks of SanitizeHiddenTests without a kernel: hidden-test lines found and dropped from
tracebacks and printed text."""

from __future__ import annotations

from tinytorch_course.grading.preprocessors.sanitizehiddentests import (
    HIDDEN_NOTE,
    hidden_lines,
    sanitize_text,
    sanitize_traceback,
    strip_ansi,
)

CELL = """def test_speed():
    assert speed() > 1, "speed should be above 1"
    ### BEGIN HIDDEN TESTS
    secret = speed(calibrate=True)
    assert abs(secret - 2.0) < 1e-6, "speed must be baseline / optimized"
    ### END HIDDEN TESTS


test_speed()"""

# An IPython 8 traceback as a kernel sends it: one entry per frame, colour codes included.
TRACEBACK = [
    "\x1b[31m---------------------------------------------------------------------------\x1b[39m",
    "\x1b[31mAssertionError\x1b[39m                            Traceback (most recent call last)",
    "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[7]\x1b[39m\x1b[32m, line 9\x1b[39m\n"
    '\x1b[32m      5\x1b[39m     assert abs(secret - 2.0) < 1e-6, "speed must be baseline / optimized"\n'
    "\x1b[32m      6\x1b[39m     ### END HIDDEN TESTS\n"
    "\x1b[32m----> 9\x1b[39m test_speed()\n",
    "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[7]\x1b[39m\x1b[32m, line 5\x1b[39m, "
    "in \x1b[36mtest_speed\x1b[39m\x1b[34m()\x1b[39m\n"
    "\x1b[32m      3\x1b[39m     ### BEGIN HIDDEN TESTS\n"
    "\x1b[32m      4\x1b[39m     secret = speed(calibrate=True)\n"
    '\x1b[32m----> 5\x1b[39m     assert abs(secret - 2.0) < 1e-6, "speed must be baseline / optimized"\n'
    "      \x1b[31m^^^^^^^^^^^^^^^^^^^^^^^\x1b[39m\n",
    "\x1b[31mAssertionError\x1b[39m: speed must be baseline / optimized",
]


def test_hidden_lines_are_the_region_with_its_markers():
    lines = hidden_lines(CELL)
    assert "secret = speed(calibrate=True)" in lines and "### BEGIN HIDDEN TESTS" in lines
    assert 'assert speed() > 1, "speed should be above 1"' not in lines
    assert "test_speed()" not in lines


def test_sanitized_traceback_keeps_test_name_type_and_message_only():
    clean = strip_ansi("\n".join(sanitize_traceback(TRACEBACK, hidden_lines(CELL))))
    assert "secret = speed(calibrate=True)" not in clean
    assert "abs(secret - 2.0)" not in clean and "HIDDEN" not in clean and "^^^" not in clean
    assert "in test_speed()" in clean, "the frame header names the failing test"
    assert clean.rstrip().endswith("AssertionError: speed must be baseline / optimized")
    assert HIDDEN_NOTE.strip() in clean


def test_frames_without_hidden_code_are_untouched():
    frame = '\x1b[32m----> 2\x1b[39m     assert speed() > 1, "speed should be above 1"\n'
    assert sanitize_traceback([frame], hidden_lines(CELL)) == [frame]


def test_printed_hidden_lines_are_dropped():
    text = "UserWarning: slow\n  secret = speed(calibrate=True)\nok\n"
    assert sanitize_text(text, hidden_lines(CELL)) == "UserWarning: slow\nok\n"
