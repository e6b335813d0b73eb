"""SchemaChecker gives exactly jsonschema's verdict and error list, only faster."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from jsonschema import Draft202012Validator

from tests.olympics.submissions import make_submission, noisy_samples, paths
from tinytorch.submission.schema import load_schema
from tinytorch.submission.schema_check import SchemaChecker, inline_refs

TEMPLATE = make_submission(noisy_samples(0.4, n=20), noisy_samples(0.2, n=20, seed=1))
CHECKER = SchemaChecker(load_schema())
REFERENCE = Draft202012Validator(load_schema())
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(-1, 2), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["2026-11-28T20:00:00Z", "2026-11-28T20:00:00+00:00\n", 1.0, 0.0, 2, 3]),
)


ALL_PATHS = [p for p in paths(TEMPLATE) if p]


def mutate(sub, path, value, delete):
    out = copy.deepcopy(sub)
    node = out
    for key in path[:-1]:
        node = node[key]
    if delete and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def report(errors):
    return sorted((list(map(str, e.absolute_path)), e.message) for e in errors)


def test_the_compiled_check_is_in_use():
    assert CHECKER.fast is not None, "fastjsonschema is missing: validation is ten times slower"
    assert CHECKER.accepts_fast(TEMPLATE)
    assert not CHECKER.accepts_fast(dict(TEMPLATE, schema_version=3))


def test_inlining_removes_every_local_ref_and_keeps_other_keywords():
    schema = {
        "$defs": {"pos": {"type": "number", "exclusiveMinimum": 0}},
        "properties": {"a": {"$ref": "#/$defs/pos"}, "b": {"$ref": "#/$defs/pos", "maximum": 5}},
    }
    flat = inline_refs(schema)
    assert "$ref" not in json.dumps(flat)
    assert flat["properties"]["b"] == {"maximum": 5, "allOf": [{"type": "number", "exclusiveMinimum": 0}]}
    with pytest.raises(ValueError, match="recursive"):
        inline_refs({"$defs": {"n": {"items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), VALUES, st.booleans()), min_size=1, max_size=3))
def test_same_errors_as_plain_jsonschema(mutations):
    sub = TEMPLATE
    for path, value, delete in mutations:
        try:
            sub = mutate(sub, path, value, delete)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    assert report(CHECKER.iter_errors(sub)) == report(REFERENCE.iter_errors(sub)), json.dumps(sub)[:400]
