"""Grading-report events: the one-line messages the jail logs when the instructor must know.

Each event is one log line through nbgrader's logger, in this exact form::

    tinytorch-grading: <event> <json object>

The JSON object holds at least ``cwd`` (the kernel's working folder, which names the student and
assignment) and ``detail`` (a sentence for a human). nbgrader's log formatter may put its own
prefix (``[AutogradeApp | WARNING] ``) before the marker; :func:`parse_events` finds the marker
anywhere in a line, so the grading report can be built from a captured log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

PREFIX = "tinytorch-grading:"

#: The notebook ran past its wall-clock budget; the jail was killed.
BUDGET_EXCEEDED = "budget-exceeded"
#: The kernel (or the jail around it) ended while the notebook was still being graded.
KERNEL_DIED = "kernel-died"
#: The jail could not be created; the notebook was not run.
JAIL_REFUSED = "jail-refused"
#: The notebook ran without a jail because the instructor asked for it (SANDBOX=0).
UNSAFE_NO_SANDBOX = "unsafe-no-sandbox"

EVENTS = (BUDGET_EXCEEDED, KERNEL_DIED, JAIL_REFUSED, UNSAFE_NO_SANDBOX)

# The JSON object is the rest of the line: json.dumps never emits a raw newline.
_LINE = re.compile(re.escape(PREFIX) + r" (?P<event>\S+) (?P<payload>\{.*\})\s*$")


@dataclass(frozen=True)
class GradingEvent:
    """One parsed event: its name, the kernel's working folder, the human-readable detail, and
    every other field of the JSON object."""

    event: str
    cwd: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


def format_event(event: str, cwd: str, detail: str, **extra: Any) -> str:
    """The log line for ``event`` (one of :data:`EVENTS`) about the kernel working in ``cwd``.
    ``extra`` fields must be JSON-serialisable and may not reuse ``cwd`` or ``detail``."""
    if event not in EVENTS:
        raise ValueError(f"unknown grading event {event!r}; expected one of {', '.join(EVENTS)}")
    payload = {"cwd": str(cwd), "detail": str(detail), **extra}
    return f"{PREFIX} {event} {json.dumps(payload, sort_keys=True)}"


def parse_event(line: str) -> GradingEvent | None:
    """The event logged on ``line``, or None when the line carries no event marker. A line that
    carries the marker but is not a well-formed event is a ValueError quoting it."""
    if PREFIX not in line:
        return None
    match = _LINE.search(line)
    if match is None:
        raise ValueError(f"malformed grading event line: {line!r}")
    event = match["event"]
    if event not in EVENTS:
        raise ValueError(f"unknown grading event {event!r} in line: {line!r}")
    try:
        payload = json.loads(match["payload"])
    except json.JSONDecodeError as error:
        raise ValueError(f"grading event {event!r} has invalid JSON ({error}): {line!r}") from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("cwd"), str)
        or not isinstance(payload.get("detail"), str)
    ):
        raise ValueError(f"grading event {event!r} lacks string fields cwd and detail: {line!r}")
    cwd, detail = payload.pop("cwd"), payload.pop("detail")
    return GradingEvent(event=event, cwd=cwd, detail=detail, extra=payload)


def parse_events(text: str) -> list[GradingEvent]:
    """Every event logged in ``text`` (a captured log), in order."""
    events = (parse_event(line) for line in text.splitlines())
    return [event for event in events if event is not None]
