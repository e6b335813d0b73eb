"""Paths into a nested JSON value: naming a field, reaching it safely, measuring the nesting."""

from __future__ import annotations

from typing import Any

#: A submission nests 4 levels; deeper is not a submission, and slows every check.
MAX_NESTING = 16


def json_path(parts: Any) -> str:
    """`['baseline', 'latency_samples_ms', 3]` → `baseline.latency_samples_ms[3]`; `[]` → `submission`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "submission"


def lookup(submission: Any, *path: Any) -> Any:
    """The value at `path` inside nested dicts, or None when any step is missing or not a dict."""
    node = submission
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def nesting_depth(node: Any) -> int:
    """How many levels of lists and dicts `node` has (a number or string has 0)."""
    deepest, stack = 0, [(node, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth + 1)
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest
