"""SchemaChecker gives exactly jsonschema's verdict and error list, only faster."""

from __future__ import annotations

import copy
import importlib.util
import json
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
