"""The walks over a submission (nesting depth, non-finite numbers) give exactly what a plain
element-by-element walk gives, on any JSON-like value, including the cases their shortcuts for
lists of plain scalars must send to that element-by-element check."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings, strategies as st

from tinytorch.submission.paths import json_path, nesting_depth
from tinytorch.submission.values import is_number, non_finite_paths


def plain_depth(node) -> int:
    """Nesting depth by visiting every value (the definition the walk must keep)."""
    if isinstance(node, dict):
        return 1 + max((plain_depth(v) for v in node.values()), default=0)
    if isinstance(node, list):
        return 1 + max((plain_depth(v) for v in node), default=0)
    return 0


def plain_non_finite(node, path=()) -> list:
    """Paths of non-finite numbers by visiting every value, in document order."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in plain_non_finite(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in plain_non_finite(v, (*path, i))]
    if isinstance(node, (int, float)) and not isinstance(node, bool) and not is_number(node):
        return [json_path(path)]
    return []


class Score(float):
    """A float subclass: not a plain JSON scalar, so never taken by a shortcut."""


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 10**309, math.nan, math.inf, -math.inf, Score("nan"), Score(1.0)]),
    st.text(max_size=3),
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(JSON_LIKE)
def test_the_walks_match_a_plain_walk(value):
    assert nesting_depth(value) == plain_depth(value)
    assert non_finite_paths(value) == plain_non_finite(value)


def test_a_list_whose_sum_overflows_holds_only_finite_numbers():
    assert non_finite_paths({"samples": [1e308, 1e308, -1e308]}) == []


def test_each_kind_of_non_finite_number_is_found_in_a_long_list():
    samples = [0.5] * 100
    samples[3], samples[40], samples[77] = math.nan, -math.inf, 10**400
    assert non_finite_paths({"s": samples}) == ["s[3]", "s[40]", "s[77]"]


def test_numpy_scalars_get_the_element_by_element_check():
    assert non_finite_paths([1.0, np.float64("nan"), np.float32(2.0)]) == ["[1]"]
    assert nesting_depth([1.0, np.float64(2.0), [[]]]) == 3
