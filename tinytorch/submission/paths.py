"""Paths into a nested JSON value: naming a field, reaching it safely, measuring the nesting."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

#: A submission nests 4 levels; deeper is not a submission, and slows every check.
MAX_NESTING = 16

#: The exact types of the scalars `json.loads` makes. A subclass (a bool, a dict subclass) is
#: not one of them, so it always gets the full check.
JSON_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


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


def children(container: dict | list) -> Collection:
    """The values inside one dict or list."""
    return container.values() if isinstance(container, dict) else container


def only_scalars(values: Collection) -> bool:
    """True when every one of `values` is a plain JSON scalar (so none is a dict or list).

    `map(type, ...)` runs at C speed: a list of 100 latency samples costs one call here instead
    of 100 `isinstance` calls in a walk.
    """
    return JSON_SCALAR_TYPES.issuperset(map(type, values))


def nesting_depth(node: Any) -> int:
    """How many levels of lists and dicts `node` has (a number or string has 0)."""
    deepest, stack = 0, [(node, 0)] if isinstance(node, (dict, list)) else []
    while stack:
        value, depth = stack.pop()
        depth += 1  # `value` is a dict or a list
        deepest = max(deepest, depth)
        inside = children(value)
        if not only_scalars(inside):  # scalars add no level: only containers need a visit
            stack.extend([(v, depth) for v in inside if isinstance(v, (dict, list))])
    return deepest
