"""The submission vocabulary: every term defined once, and complete for what it names."""

from __future__ import annotations

import pytest

from tinytorch.submission.schema import load_schema
from tinytorch.submission.vocabulary import (
    BASELINE,
    BETTER,
    MACHINE_KEYS,
    METRIC_KEYS,
    OPTIMIZED,
    SOFTWARE_KEYS,
    SPEEDUP_METRIC,
    higher_is_better,
    machine_label,
    representative_role,
    system_differences,
)


def test_every_metric_and_numeric_improvement_has_a_better_direction():
    improvements = load_schema()["$defs"]["improvements"]["properties"]
    numeric = {k for k, v in improvements.items() if "$ref" in v or v.get("type") == "number"} - {"p_value"}
    assert set(BETTER) == set(METRIC_KEYS) | numeric
    assert higher_is_better("accuracy") and higher_is_better("speedup")
    assert not higher_is_better("latency_ms_p50") and not higher_is_better("model_size_mb")
    with pytest.raises(ValueError, match="latency_ms_p95: not a metric"):
        higher_is_better("latency_ms_p95")


def test_machine_and_software_keys_are_system_info_fields_and_disjoint():
    fields = set(load_schema()["$defs"]["system_info"]["properties"])
    assert set(MACHINE_KEYS) <= fields and set(SOFTWARE_KEYS) <= fields
    assert not set(MACHINE_KEYS) & set(SOFTWARE_KEYS)
    assert SPEEDUP_METRIC in METRIC_KEYS


def test_same_machine_is_all_machine_keys_equal():
    info = {
        "platform": "Linux",
        "machine": "x86_64",
        "processor": "x86_64",
        "cpu_count": 2,
        "blas": "openblas",
        "blas_threads": 2,
        "python_version": "3.11.7",
    }
    assert system_differences(info, dict(info, python_version="3.12.0")) == []
    assert system_differences(info, dict(info, blas_threads=1)) == ["blas_threads: 2 ≠ 1"]
    assert machine_label(info) == machine_label(dict(info, python_version="3.12.0"))
    assert machine_label(info) != machine_label(dict(info, blas_threads=1))


def test_the_representative_model_is_the_optimized_one_where_present():
    assert representative_role({BASELINE: {}, OPTIMIZED: {}}) == OPTIMIZED
    assert representative_role({BASELINE: {}}) == BASELINE
