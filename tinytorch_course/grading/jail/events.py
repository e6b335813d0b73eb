"""Grading-report events: the one-line messages the jail logs when the instructor must know.

Each event is one log line through nbgrader's logger, in this exact form::

    tinytorch-grading: <key> <event> <json object>

The key is a secret of the grading run: a grading task draws a random one and gives it to
nbgrader in the environment variable ``TINYTORCH_GRADING_KEY`` (the kernel never sees it), and a
grader process without one draws its own. Text a student controls reaches nbgrader's log too
(cell ids and ``grade_id`` values with line breaks, names, outputs), so a line is an event only
when it carries the key: nothing in the notebook can forge one. The JSON object holds at least
``cwd`` (the kernel's working folder, which names the student and assignment) and ``detail`` (a
sentence for a human). nbgrader's log formatter may put its own prefix
(``[AutogradeApp | WARNING] ``) before the marker, and nothing else may come before it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from tinytorch_course.paths import EVENT_KEY_VARIABLE

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

# The JSON object is the rest of the line: json.dumps never emits a raw newline. Before the
# marker, at most the logger's own "[App | LEVEL] ".
_LINE = re.compile(r"(?:\[[^\]\n]*\] )?" + re.escape(PREFIX) + r" (?P<key>\S+) (?P<event>\S+) (?P<payload>\{.*\})\s*")


def new_key() -> str:
    """A fresh random key for one grading run's event lines."""
    return secrets.token_hex(16)


# This process's key when its environment names none (a stock `nbgrader autograde` run), drawn
# when first needed, not on import: the fork server imports this module once and forks every
# nbgrader run from itself, and a key drawn there would be every run's.
_process_key: str | None = None


def event_key() -> str:
    """The key this process signs its event lines with: ``TINYTORCH_GRADING_KEY`` when set, else
    a random key of its own."""
    global _process_key
    if os.environ.get(EVENT_KEY_VARIABLE):
        return os.environ[EVENT_KEY_VARIABLE]
    if _process_key is None:
        _process_key = new_key()
    return _process_key


@dataclass(frozen=True)
class GradingEvent:
    """One parsed event: its name, the kernel's working folder, the human-readable detail, and
    every other field of the JSON object."""

    event: str
    cwd: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


def format_event(event: str, cwd: str, detail: str, *, key: str | None = None, **extra: Any) -> str:
    """The log line for ``event`` (one of :data:`EVENTS`) about the kernel working in ``cwd``,
    signed with ``key`` (default :func:`event_key`). ``extra`` fields must be JSON-serialisable
    and may not reuse ``cwd`` or ``detail``. The line is ASCII: JSON escapes every other
    character, a lone surrogate included."""
    if event not in EVENTS:
        raise ValueError(f"unknown grading event {event!r}; expected one of {', '.join(EVENTS)}")
    payload = {"cwd": str(cwd), "detail": str(detail), **extra}
    return f"{PREFIX} {key or event_key()} {event} {json.dumps(payload, sort_keys=True)}"


def parse_event(line: str, key: str) -> GradingEvent | None:
    """The event logged on ``line`` with ``key``, or None when the line carries no marker
    followed by that key. A line that carries both but is not a well-formed event (text before
    the marker other than the logger's prefix included) is a ValueError quoting it."""
    if not key or f"{PREFIX} {key} " not in line:
        return None
    match = _LINE.fullmatch(line)
    if match is None:
        raise ValueError(f"malformed grading event line: {line!r}")
    if match["key"] != key:
        return None
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


def parse_events(text: str, key: str) -> list[GradingEvent]:
    """Every event logged in ``text`` (a captured log) with ``key``, in order."""
    events = (parse_event(line, key) for line in text.split("\n"))
    return [event for event in events if event is not None]
