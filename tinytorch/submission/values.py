"""The numbers of a submission: which are valid, how they compare, how ratios and samples are made."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from tinytorch.submission.paths import JSON_SCALAR_TYPES, children, json_path

#: The exact types of JSON numbers (a bool is an int to Python, but not a number here).
_NUMBER_TYPES = frozenset({int, float})


def is_number(value: Any) -> bool:
    """True for finite int and float values; False for bools, NaN, ±inf, ints beyond float range, and the rest."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float (JSON allows any number of digits)
        return False


def all_finite(numbers: Collection) -> bool:
    """True when `numbers` (plain ints and floats) are all finite; False when unsure.

    The sum of the numbers is finite only when each is: a NaN or an infinity carries through a
    sum, and an int too large for a float cannot be added to one. A sum that overflows although
    every number is finite gives False, so a caller sends the values to an element-by-element check.
    """
    try:
        return math.isfinite(sum(numbers, 0.0))
    except OverflowError:
        return False


def only_finite_numbers(values: Collection) -> bool:
    """True when `values` are plain ints and floats (no bool, no subclass), all finite; False
    when unsure. One pass at C speed, however many values."""
    return set(map(type, values)) <= _NUMBER_TYPES and all_finite(values)


def _only_finite_scalars(values: Collection) -> bool:
    """True when `values` are plain JSON scalars and every number among them is finite (False when unsure)."""
    types = set(map(type, values))  # one pass at C speed, however many values
    if not types <= JSON_SCALAR_TYPES:
        return False
    return all_finite(values if types <= _NUMBER_TYPES else [v for v in values if type(v) in _NUMBER_TYPES])


def non_finite_paths(node: Any) -> list:
    """Paths of every number anywhere inside `node` that is NaN, infinite, or too large for a float."""
    found: list[str] = []
    stack: list[tuple[Any, tuple]] = [(node, ())]
    while stack:  # a loop, not recursion: a hostile file may nest a thousand levels deep
        value, path = stack.pop()
        if not isinstance(value, (dict, list)):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not is_number(value):
                found.append(json_path(path))
            continue
        inside = children(value)
        if _only_finite_scalars(inside):
            continue  # nothing to report inside, and no container to visit
        # When the scalars beside the containers are plain and finite, only the containers need a visit.
        skip_scalars = _only_finite_scalars([v for v in inside if not isinstance(v, (dict, list))])
        entries = value.items() if isinstance(value, dict) else enumerate(value)
        stack.extend(
            [(v, (*path, k)) for k, v in reversed(list(entries)) if not skip_scalars or isinstance(v, (dict, list))]
        )
    return found


def relatively_close(a: Any, b: Any, tolerance: float = 1e-3) -> bool:
    """a ≈ b within a relative tolerance (both must be numbers)."""
    return is_number(a) and is_number(b) and abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-12)


def safe_ratio(numerator: float, denominator: float, what: str) -> float:
    """numerator / denominator, refusing a zero or negative denominator with a message naming `what`."""
    if not denominator > 0:
        raise ValueError(f"{what}: cannot compute a ratio with a denominator of {denominator!r}")
    return float(numerator / denominator)


def compact_samples(samples_ms: list) -> list:
    """Raw latency samples rounded to 5 significant digits: a third of the JSON, same statistics."""
    return [float(f"{s:.5g}") for s in samples_ms]
