"""SchemaChecker gives exactly jsonschema's verdict and error list, only faster."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import subprocess
import sys

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


def test_the_schema_it_is_given_is_left_as_it_was():
    schema = load_schema()
    before = copy.deepcopy(schema)
    checker = SchemaChecker(schema)
    assert checker.accepts_fast(TEMPLATE)
    list(checker.iter_errors(dict(TEMPLATE, schema_version=3)))
    assert schema == before


def test_the_full_validator_runs_on_the_schema_with_its_refs_written_out():
    assert "$ref" not in json.dumps(SchemaChecker(load_schema()).full.schema)


def test_a_bad_sample_among_many_gets_jsonschemas_own_error():
    sub = copy.deepcopy(TEMPLATE)
    sub["optimized"]["latency_samples_ms"] = [0.2] * 500
    sub["optimized"]["latency_samples_ms"][317] = -1.0
    sub["baseline"]["latency_samples_ms"][5] = "slow"
    errors = report(CHECKER.iter_errors(sub))
    assert errors == report(REFERENCE.iter_errors(sub))
    assert [path for path, _ in errors] == [
        ["baseline", "latency_samples_ms", "5"],
        ["optimized", "latency_samples_ms", "317"],
    ]


class Score(float):
    """A float subclass: a number to both validators, but never judged by a whole-array check."""


#: Sample values at every edge of the whole-array check: non-finite, huge ints, bools, subclasses,
#: zeros and bounds, values whose sum overflows, and values that are not numbers at all.
SAMPLE_VALUES = st.one_of(
    st.floats(min_value=1e-3, max_value=10.0),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**400), 10**400),
    st.sampled_from([0, 0.0, -0.0, 5e-324, 1, True, False, None, "1", 1e308, -1e308, 10**309, Score(1.0), Score(-1)]),
)
SAMPLE_ARRAYS = st.one_of(
    st.lists(SAMPLE_VALUES, max_size=8),
    st.lists(st.floats(min_value=1e-3, max_value=10.0), max_size=8).map(tuple),
    st.sampled_from([None, 0.5, "samples", {"0": 0.5}]),
)


def verdicts(checker, reference, instance) -> None:
    """`checker` reports exactly `reference`'s errors, and its fast check accepts only what
    `reference` finds no error in."""
    expected = report(reference.iter_errors(instance))
    assert report(checker.iter_errors(instance)) == expected
    if checker.accepts_fast(instance):
        assert expected == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SAMPLE_ARRAYS, SAMPLE_ARRAYS, st.booleans())
def test_the_whole_array_check_of_the_samples_decides_as_jsonschema_does(baseline, optimized, drop_baseline):
    sub = copy.deepcopy(TEMPLATE)
    sub["baseline"]["latency_samples_ms"] = baseline
    sub["optimized"]["latency_samples_ms"] = optimized
    if drop_baseline:
        del sub["baseline"]["latency_samples_ms"]
    verdicts(CHECKER, REFERENCE, sub)


@pytest.mark.parametrize(
    ("samples", "accepted_fast", "errors"),
    [
        ([0.3, 0.2, 0.4], True, 0),
        ([], True, 0),
        ([0.3, 0, 0.4], False, 1),  # a zero is not above the exclusive minimum
        ([0.3, -0.0, 0.4], False, 1),
        ([0.3, True, 0.4], False, 1),  # a bool is not a number
        ([0.3, math.nan], False, 0),  # NaN breaks no bound: the non-finite rule refuses it, not the schema
        ([0.3, 10**400], False, 0),  # a valid number beyond float range: unsure, so judged item by item
        ([1e308, 1e308], False, 0),  # valid, but their sum overflows: unsure, so judged item by item
        ([Score(0.3)], False, 0),
        ((0.3, 0.2), False, 1),  # a tuple is not a JSON array to jsonschema
    ],
)
def test_the_whole_array_check_says_yes_only_when_sure(samples, accepted_fast, errors):
    sub = copy.deepcopy(TEMPLATE)
    sub["baseline"]["latency_samples_ms"] = samples
    assert CHECKER.accepts_fast(sub) is accepted_fast
    assert len(list(CHECKER.iter_errors(sub))) == errors
    verdicts(CHECKER, REFERENCE, sub)


BOUNDED = {
    "type": "object",
    "properties": {
        "unit": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1, "description": "a share"}},
        "open": {"allOf": [{"items": {"type": "number", "exclusiveMinimum": -1, "exclusiveMaximum": 1}}]},
        "ints": {"items": {"type": "integer", "minimum": 0}},  # not "number": item by item
        "deep": {"properties": {"inner": {"type": "array", "items": {"type": "number", "maximum": 0}}}},
    },
}
BOUNDED_CHECKER, BOUNDED_REFERENCE = SchemaChecker(BOUNDED), Draft202012Validator(BOUNDED)
BOUND_VALUES = st.one_of(st.sampled_from([-1, -1.0, 0, 0.0, -0.0, 1, 1.0, 0.5, "x", True, 2**70]), st.floats())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(["unit", "open", "ints"]), st.lists(BOUND_VALUES, max_size=5), max_size=3),
    st.one_of(st.lists(BOUND_VALUES, max_size=5), st.none()),
)
def test_every_bound_is_decided_as_jsonschema_decides_it(instance, inner):
    if inner is not None:
        instance["deep"] = {"inner": inner}
    verdicts(BOUNDED_CHECKER, BOUNDED_REFERENCE, instance)


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ({"prefixItems": [{"type": "string"}], "items": {"type": "number", "minimum": 0}}, [0]),
        ({"prefixItems": [True], "unevaluatedItems": False}, [1, 2]),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1}),
        ({"contains": {"type": "string"}, "minContains": 2}, ["x", 1]),
    ],
)
def test_a_schema_with_keywords_fastjsonschema_does_not_know_is_not_compiled(schema, instance):
    checker = SchemaChecker(schema)
    assert checker.fast is None
    assert list(Draft202012Validator(schema).iter_errors(instance))  # fastjsonschema would accept it
    verdicts(checker, Draft202012Validator(schema), instance)


def test_arrays_are_checked_whole_only_where_their_place_in_an_instance_is_fixed():
    assert sorted(path for path, _ in BOUNDED_CHECKER._number_arrays) == [("deep", "inner"), ("open",), ("unit",)]
    assert sorted(path for path, _ in CHECKER._number_arrays) == [
        ("baseline", "latency_samples_ms"),
        ("optimized", "latency_samples_ms"),
    ]
    recursive = {"$defs": {"n": {"items": {"$ref": "#/$defs/n"}}}, "properties": {"a": {"items": {"type": "number"}}}}
    assert SchemaChecker(recursive)._number_arrays == []
    assert not SchemaChecker(recursive).accepts_fast({"a": [1, "x"]})
    later = {"properties": {"a": {"items": {"type": "number"}}}, "unevaluatedItems": False}
    assert SchemaChecker(later)._number_arrays == []


def _modules_after(code: str) -> set[str]:
    """The names in sys.modules after `code` runs in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_a_leaderboard_worker_imports_jsonschema_without_the_format_packages():
    from tinytorch.submission.schema_check import FORMAT_PACKAGES

    installed = {name for name in FORMAT_PACKAGES if importlib.util.find_spec(name)}
    assert installed, "no format package is installed: nothing to leave out"
    check = "from tinytorch.submission.schema import schema_checker\nschema_checker().full\n"
    default = _modules_after(check)
    assert "jsonschema" in default
    assert default & installed == installed - {"rfc3987_syntax"}  # left out by default: see import_jsonschema
    worker = _modules_after(
        f"from tinytorch.submission.schema_check import leave_out_format_packages\nleave_out_format_packages()\n{check}"
    )
    assert "jsonschema" in worker and not worker & installed
    after = _modules_after(
        "from tinytorch.submission.schema_check import leave_out_format_packages\nleave_out_format_packages()\n"
        f"{check}import isoduration, idna\n"
    )
    assert {"isoduration", "idna"} <= after  # imports after jsonschema's still work


def test_the_command_line_imports_jsonschema_without_the_format_packages(tmp_path):
    from tinytorch.submission.schema_check import FORMAT_PACKAGES

    installed = {name for name in FORMAT_PACKAGES if importlib.util.find_spec(name)}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(TEMPLATE, schema_version=3)))  # refused by the compiled check
    modules = _modules_after(
        f"from tinytorch.olympics.cli import main\nassert main(['olympics', 'validate', {str(bad)!r}]) == 1\n"
    )
    assert "jsonschema" in modules and not modules & installed
