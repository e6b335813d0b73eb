"""The validator: every violation named by its path, nothing but SubmissionValidationError."""

import copy
import json
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.olympics.submissions import paths
from tinytorch.olympics import SubmissionValidationError, submission_errors, validate_submission_schema
from tinytorch.submission.paths import json_path


def test_json_path_format():
    assert json_path(("baseline", "latency_samples_ms", 3)) == "baseline.latency_samples_ms[3]"
    assert json_path(()) == "submission"


dotted = json_path  # the paths errors are expected to name, in the format pinned above


REPLACEMENTS = st.sampled_from(
    [
        None,
        True,
        False,
        "fast",
        "",
        float("nan"),
        float("inf"),
        -float("inf"),
        -1,
        -1.5,
        0,
        10**12,
        10**400,
        [],
        {},
        [1, 2],
        {"nested": {"deeper": 1}},
        96.0,
        1.5,
    ]
)


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), replacement=REPLACEMENTS)
def test_mutations_raise_only_validation_errors_naming_the_field(valid_submission_factory, data, replacement):
    sub = valid_submission_factory()
    all_paths = [p for p in paths(sub) if p]
    path = data.draw(st.sampled_from(all_paths))
    action = data.draw(st.sampled_from(["replace", "delete", "wrap"]))
    parent = sub
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[key]
    elif action == "wrap":
        parent[key] = [parent[key]]
    else:
        parent[key] = copy.deepcopy(replacement)
    try:
        validate_submission_schema(sub)
    except SubmissionValidationError as error:
        assert error.errors, "an error must list its violations"
        # A deleted field is named itself, or by its parent ("… is a required property").
        names = {dotted(path), dotted(path[:-1])} if action == "delete" and isinstance(parent, dict) else {dotted(path)}
        assert any(name in m for m in error.errors for name in names), (names, error.errors)
    else:
        # An accepted mutation (an optional or free-form field, or a value still in range)
        # must leave a submission that is strict JSON: no NaN, no infinity, no foreign types.
        json.dumps(sub, allow_nan=False)


@pytest.mark.parametrize("value", [None, [], "submission", 3, [{}], True])
def test_non_objects(value):
    errors = submission_errors(value)
    assert errors and errors[0].startswith("submission:")
    with pytest.raises(SubmissionValidationError):
        validate_submission_schema(value)


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda s: s["baseline"]["metrics"].__setitem__("accuracy", 96.0), "baseline.metrics.accuracy"),
        (lambda s: s["baseline"]["metrics"].__setitem__("latency_ms_p50", "fast"), "baseline.metrics.latency_ms_p50"),
        (lambda s: s["baseline"]["metrics"].__setitem__("parameter_count", True), "baseline.metrics.parameter_count"),
        (lambda s: s["baseline"]["metrics"].__setitem__("parameter_count", -3), "baseline.metrics.parameter_count"),
        (
            lambda s: s["optimized"]["metrics"].__setitem__("latency_ms_mean", math.inf),
            "optimized.metrics.latency_ms_mean",
        ),
        (lambda s: s["optimized"]["metrics"].__setitem__("latency_ms_p99", 1e-9), "optimized.metrics"),
        (lambda s: s["optimized"].__setitem__("techniques_applied", "int8"), "optimized.techniques_applied"),
        (lambda s: s["optimized"]["techniques_applied"].append(3), "optimized.techniques_applied[1]"),
        (lambda s: s.pop("optimized"), "improvements"),
        (lambda s: s.pop("improvements"), "improvements"),
        (lambda s: s["improvements"].__setitem__("speedup", 1 / s["improvements"]["speedup"]), "improvements.speedup"),
        (lambda s: s["improvements"].__setitem__("compression_ratio", 9.0), "improvements.compression_ratio"),
        (lambda s: s["improvements"].__setitem__("accuracy_delta", 0.5), "improvements.accuracy_delta"),
        (lambda s: s.__setitem__("timestamp", "2026-11-28T20:00:00Z"), "timestamp"),
        (lambda s: s.__setitem__("extra", 1), "extra"),
        (lambda s: s.__setitem__("timestamp", "2026-13-45T99:99:99+00:00"), "timestamp"),
        (
            lambda s: s["baseline"]["metrics"].__setitem__("latency_ms_mean", 10**400),
            "baseline.metrics.latency_ms_mean",
        ),
        (lambda s: s["baseline"]["metrics"].__setitem__("latency_ms_p50", 50.0), "baseline.metrics.latency_ms_p50"),
    ],
)
def test_each_rule_names_its_field(valid_submission_factory, mutate, field):
    sub = valid_submission_factory()
    mutate(sub)
    with pytest.raises(SubmissionValidationError) as info:
        validate_submission_schema(sub)
    assert field in str(info.value)


def test_every_violation_is_listed(valid_submission_factory):
    sub = valid_submission_factory()
    sub["baseline"]["metrics"]["accuracy"] = 2.0
    sub["optimized"]["metrics"]["latency_ms_std"] = -1.0
    sub["student_name"] = 7
    errors = submission_errors(sub)
    for field in ("baseline.metrics.accuracy", "optimized.metrics.latency_ms_std", "student_name"):
        assert any(e.startswith(field) for e in errors), (field, errors)


def test_deep_nesting_is_reported_not_a_crash(valid_submission_factory):
    sub = valid_submission_factory()
    deep = []
    for _ in range(5000):
        deep = [deep]
    sub["student_name"] = deep
    errors = submission_errors(sub)
    assert any(e.startswith("student_name") for e in errors)


# One violation of each cross-field rule the validator adds to the schema: a rule written with
# `assert` vanishes under `python -O`, so each must still be reported there.
CROSS_FIELD_VIOLATIONS = {
    "improvements.compression_ratio": lambda s: s["improvements"].__setitem__("compression_ratio", 9.0),
    "improvements.speedup": lambda s: s["improvements"].__setitem__("speedup", 1 / s["improvements"]["speedup"]),
    "improvements.accuracy_delta": lambda s: s["improvements"].__setitem__("accuracy_delta", 0.5),
    "baseline.metrics.latency_ms_p90": lambda s: s["baseline"]["metrics"].__setitem__("latency_ms_p50", 50.0),
    "baseline.latency_samples_ms[3]": lambda s: s["baseline"]["latency_samples_ms"].__setitem__(3, math.nan),
    "improvements": lambda s: s.pop("optimized"),
}


def test_cross_field_rules_hold_under_python_O(tmp_path, valid_submission_factory):
    """Each cross-field violation, validated in a `python -O` process, is still named."""
    cases = []
    for field, mutate in CROSS_FIELD_VIOLATIONS.items():
        sub = valid_submission_factory()
        mutate(sub)
        assert any(e.startswith(field) for e in submission_errors(sub)), (field, submission_errors(sub))
        cases.append([field, sub])
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))  # NaN is written as the NaN literal json.load reads back
    code = (
        "import json, sys\nfrom tinytorch.olympics import submission_errors\n"
        "assert False, 'not running under -O'\n"
        "missed = [f for f, s in json.load(open(sys.argv[1])) "
        "if not any(e.startswith(f) for e in submission_errors(s))]\n"
        "print(json.dumps(missed))\n"
    )
    result = subprocess.run([sys.executable, "-O", "-c", code, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [], f"rules lost under python -O: {result.stdout}"
