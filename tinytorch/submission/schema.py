"""The JSON Schema half of validation: the shipped schema and every violation of it."""

from __future__ import annotations

import datetime as _dt
import functools
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from tinytorch.submission.paths import MAX_NESTING, json_path, nesting_depth

if TYPE_CHECKING:
    from tinytorch.submission.schema_check import SchemaChecker


@functools.lru_cache(maxsize=1)
def load_schema() -> dict:
    """The submission JSON Schema shipped in the package."""
    text = resources.files("tinytorch").joinpath("schemas/submission.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def schema_checker() -> SchemaChecker:
    """The checker of the submission schema, made once per process (its compiled check is built
    here, its jsonschema validator on the first submission the compiled check does not accept)."""
    from tinytorch.submission.schema_check import SchemaChecker  # jsonschema, made fast for 100-sample arrays

    return SchemaChecker(load_schema())


def schema_errors(submission: Any) -> list:
    """Every JSON Schema violation of `submission`, as 'path: message' strings."""
    entries = submission.items() if isinstance(submission, dict) else [("submission", submission)]
    # One walk of the whole submission settles the common case: no value inside a dict nests deeper
    # than the dict itself less one level. Only a deep one needs a walk per key to name them.
    levels_above_values = 1 if isinstance(submission, dict) else 0
    too_deep = (
        [
            f"{key}: nested more than {MAX_NESTING} levels deep"
            for key, value in entries
            if nesting_depth(value) > MAX_NESTING
        ]
        if nesting_depth(submission) - levels_above_values > MAX_NESTING
        else []
    )
    if too_deep:  # no schema check: its messages would print the whole monster
        return too_deep
    messages = []
    for error in sorted(schema_checker().iter_errors(submission), key=lambda e: list(map(str, e.absolute_path))):
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        messages.append(f"{json_path(error.absolute_path)}: {message}")
    stamp = submission.get("timestamp") if isinstance(submission, dict) else None
    if isinstance(stamp, str) and not any(m.startswith("timestamp:") for m in messages):
        try:
            _dt.datetime.fromisoformat(stamp)
        except ValueError:  # the pattern admits month 13 or hour 99; the calendar does not
            messages.append(f"timestamp: {stamp!r} is not a real date and time")
    return messages
