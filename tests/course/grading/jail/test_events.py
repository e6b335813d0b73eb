"""The grading-report event lines: what the jail logs is what the report parses back."""

import pytest

from tinytorch_course.grading.jail.events import (
    BUDGET_EXCEEDED,
    EVENTS,
    KERNEL_DIED,
    PREFIX,
    format_event,
    parse_event,
    parse_events,
)


def test_every_event_round_trips_through_a_logger_prefix():
    lines = [
        format_event(name, f"/course/autograded/s{i}/20_capstone", f"why {i}\nsecond line", budget_s=i)
        for i, name in enumerate(EVENTS)
    ]
    log = "\n".join(["[AutogradeApp | INFO] unrelated"] + [f"[AutogradeApp | WARNING] {line}" for line in lines])
    parsed = parse_events(log)
    assert [event.event for event in parsed] == list(EVENTS)
    assert [event.cwd for event in parsed] == [f"/course/autograded/s{i}/20_capstone" for i in range(len(EVENTS))]
    assert parsed[1].detail == "why 1\nsecond line"
    assert parsed[2].extra == {"budget_s": 2}


def test_a_line_is_exactly_prefix_event_json():
    line = format_event(KERNEL_DIED, "/w", "exit code -9")
    assert line == f'{PREFIX} kernel-died {{"cwd": "/w", "detail": "exit code -9"}}'
    assert "\n" not in format_event(BUDGET_EXCEEDED, "/w", "a\nb")


def test_lines_without_the_marker_are_not_events():
    assert parse_event("[AutogradeApp | INFO] Autograding capstone.ipynb") is None
    assert parse_events("") == []


@pytest.mark.parametrize(
    "line, reason",
    [
        (f"{PREFIX} budget-exceeded", "malformed"),
        (f'{PREFIX} no-such-event {{"cwd": "/w", "detail": "d"}}', "unknown grading event"),
        (f'{PREFIX} kernel-died {{"cwd": "/w", "detail": }}', "invalid JSON"),
        (f'{PREFIX} kernel-died {{"cwd": 3, "detail": "d"}}', "lacks string fields"),
    ],
)
def test_a_marked_line_that_is_not_an_event_is_refused_with_the_line(line, reason):
    with pytest.raises(ValueError, match=reason):
        parse_event(line)


def test_unknown_event_names_are_refused_when_formatting():
    with pytest.raises(ValueError, match="unknown grading event 'oops'"):
        format_event("oops", "/w", "d")
