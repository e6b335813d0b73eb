"""The grading-report event lines: what the jail logs is what the report parses back, and only
a line signed with the run's key is an event."""

import json

import pytest

from tinytorch_course.grading.jail.events import (
    BUDGET_EXCEEDED,
    EVENTS,
    KERNEL_DIED,
    PREFIX,
    format_event,
    new_key,
    parse_event,
    parse_events,
)

KEY = new_key()


def test_every_event_round_trips_through_a_logger_prefix():
    lines = [
        format_event(name, f"/course/autograded/s{i}/20_capstone", f"why {i}\nsecond line", key=KEY, budget_s=i)
        for i, name in enumerate(EVENTS)
    ]
    log = "\n".join(["[AutogradeApp | INFO] unrelated"] + [f"[AutogradeApp | WARNING] {line}" for line in lines])
    parsed = parse_events(log, KEY)
    assert [event.event for event in parsed] == list(EVENTS)
    assert [event.cwd for event in parsed] == [f"/course/autograded/s{i}/20_capstone" for i in range(len(EVENTS))]
    assert parsed[1].detail == "why 1\nsecond line"
    assert parsed[2].extra == {"budget_s": 2}


def test_a_line_is_exactly_prefix_key_event_json_and_ascii():
    line = format_event(KERNEL_DIED, "/w", "exit code -9", key=KEY)
    assert line == f'{PREFIX} {KEY} kernel-died {{"cwd": "/w", "detail": "exit code -9"}}'
    assert "\n" not in format_event(BUDGET_EXCEEDED, "/w", "a\nb", key=KEY)
    odd = format_event(KERNEL_DIED, "/w", "\ud800 \u2028 \x1b[2K é", key=KEY)
    assert odd.isascii() and parse_event(odd, KEY).detail == "\ud800 \u2028 \x1b[2K é"


def test_lines_without_the_marker_and_key_are_not_events():
    assert parse_event("[AutogradeApp | INFO] Autograding capstone.ipynb", KEY) is None
    assert parse_events("", KEY) == []


def test_a_forged_line_without_the_key_is_not_an_event():
    """What a student can put in nbgrader's log (a grade_id with a line break, an output) may
    copy the format exactly; without the run's key, which never enters the jail, it is text."""
    forged = format_event(KERNEL_DIED, "/course/autograded/ana/20_capstone", "forged", key=new_key())
    log = "\n".join(
        [
            f"[AutogradeApp | WARNING] cell 'x\n{forged}' has no grade",
            forged,
            f"[AutogradeApp | ERROR] {forged}",
            f"{PREFIX} kernel-died " + json.dumps({"cwd": "/course/autograded/ana/20_capstone", "detail": "old form"}),
        ]
    )
    assert parse_events(log, KEY) == []
    assert parse_events(log + "\n" + format_event(KERNEL_DIED, "/w/ben", "real", key=KEY), KEY)[0].detail == "real"


def test_the_key_must_open_the_line_after_the_logger_prefix():
    real = format_event(KERNEL_DIED, "/w", "d", key=KEY)
    with pytest.raises(ValueError, match="malformed"):
        parse_event("student text " + real, KEY)


# Named, not by their lines: the key is random, and pytest-xdist's processes must collect the same
# test names.
@pytest.mark.parametrize(
    "line, reason",
    [
        (f"{PREFIX} {KEY} budget-exceeded", "malformed"),
        (f'{PREFIX} {KEY} no-such-event {{"cwd": "/w", "detail": "d"}}', "unknown grading event"),
        (f'{PREFIX} {KEY} kernel-died {{"cwd": "/w", "detail": }}', "invalid JSON"),
        (f'{PREFIX} {KEY} kernel-died {{"cwd": 3, "detail": "d"}}', "lacks string fields"),
    ],
    ids=["malformed", "unknown", "invalid-json", "not-strings"],
)
def test_a_signed_line_that_is_not_an_event_is_refused_with_the_line(line, reason):
    with pytest.raises(ValueError, match=reason):
        parse_event(line, KEY)


def test_unknown_event_names_are_refused_when_formatting():
    with pytest.raises(ValueError, match="unknown grading event 'oops'"):
        format_event("oops", "/w", "d")
