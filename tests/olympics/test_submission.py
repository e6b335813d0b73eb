"""generate_submission, save_submission and load_submission."""

import json
import os
from pathlib import Path

import pytest

from tests.olympics.known_cost import measured_report
from tinytorch.olympics import (
    MAX_SUBMISSION_BYTES,
    BenchmarkReport,
    SubmissionFileError,
    SubmissionValidationError,
    generate_submission,
    load_submission,
    save_submission,
    submission_errors,
    validate_submission_schema,
)


@pytest.mark.timing  # compares wall-clock latencies of two spinning models: run alone
def test_submission_from_measured_reports_is_valid(valid_submission_factory):
    """A model spinning half as long is measured significantly faster. Preemption can only
    lengthen a spin, and on a loaded machine it can blur one pair of measurements, so up to
    three pairs are measured; a harness error (samples swapped, a wrong unit) fails them all."""
    sub = valid_submission_factory()
    seen = []
    for _ in range(3):
        assert validate_submission_schema(sub) is True
        imp = sub["improvements"]
        assert imp["significance_test"] == "mann-whitney-u" and sub["timestamp"].endswith("+00:00")
        json.dumps(sub, allow_nan=False)
        seen.append((imp["speedup"], imp["speedup_significant"]))
        if imp["speedup"] > 1.3 and imp["speedup_significant"] is True:
            return
        sub = generate_submission(measured_report("baseline", 0.4), measured_report("fast", 0.2))
    pytest.fail(f"the optimized model spins half as long, yet (speedup, significant) were {seen}")


def test_no_optimized_means_no_improvements():
    sub = generate_submission(measured_report("only", 0.1, runs=5))
    assert "optimized" not in sub and "improvements" not in sub
    assert submission_errors(sub) == []


def test_reports_and_submission_share_nothing():
    base, fast = measured_report("b", 0.2, runs=5), measured_report("f", 0.1, runs=5)
    techniques = ["int8_quantization"]
    sub = generate_submission(base, fast, techniques_applied=techniques)
    base.metrics["accuracy"] = 0.123
    base.latency_samples_ms.append(99.0)
    techniques.append("later")
    sub["optimized"]["metrics"]["accuracy"] = 0.5
    assert sub["baseline"]["metrics"]["accuracy"] != 0.123
    assert 99.0 not in sub["baseline"]["latency_samples_ms"]
    assert sub["optimized"]["techniques_applied"] == ["int8_quantization"]
    assert fast.metrics["accuracy"] != 0.5


def test_refuses_a_report_never_benchmarked():
    with pytest.raises(ValueError, match="never benchmarked"):
        generate_submission(BenchmarkReport("fresh"))
    with pytest.raises(ValueError, match="optimized_report"):
        generate_submission(measured_report("b", 0.1, runs=3), BenchmarkReport("fresh"))


def test_zero_latency_is_refused_not_divided():
    base, fast = measured_report("b", 0.1, runs=3), measured_report("f", 0.1, runs=3)
    fast.metrics["latency_ms_mean"] = 0.0
    with pytest.raises(ValueError, match="latency_ms_mean"):
        generate_submission(base, fast)


def test_save_is_atomic_and_validates_first(tmp_path, valid_submission_factory, monkeypatch):
    path = tmp_path / "out" / "submission.json"
    assert save_submission(valid_submission_factory(), path) == str(path)
    before = path.read_bytes()
    broken = valid_submission_factory()
    broken["baseline"]["metrics"]["accuracy"] = 1.5
    with pytest.raises(SubmissionValidationError, match="baseline.metrics.accuracy"):
        save_submission(broken, path)
    assert path.read_bytes() == before

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    changed = valid_submission_factory()
    changed["student_name"] = "someone else"
    with pytest.raises(OSError):
        save_submission(changed, path)
    assert path.read_bytes() == before, "a failed write must leave the old file whole"
    assert [p.name for p in path.parent.iterdir()] == ["submission.json"], "temporary file left behind"


def test_load_round_trip(tmp_path, valid_submission_factory):
    sub = valid_submission_factory()
    path = save_submission(sub, tmp_path / "s.json")
    assert load_submission(path) == sub


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"schema_version": 2, "baseline": ', "not valid JSON"),
        ('{"x": NaN}', "NaN"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SubmissionFileError, match=message) as info:
        load_submission(path)
    assert "bad.json" in str(info.value)


@pytest.mark.parametrize("depth, message", [(100_000, "nested too deeply"), (900, "nested more than")])
def test_deeply_nested_json_is_a_file_error(tmp_path, depth, message):
    path = tmp_path / "deep.json"
    path.write_text('{"student_name": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(SubmissionFileError, match=message) as info:
        load_submission(path)
    assert info.value.source == str(path) and message in info.value.reason


def test_unreadable_file_is_a_file_error(tmp_path, monkeypatch, valid_submission_factory):
    path = Path(save_submission(valid_submission_factory(), tmp_path / "locked.json"))

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(SubmissionFileError, match="locked.json: cannot be read"):
        load_submission(path)


def test_missing_and_oversized_files(tmp_path):
    with pytest.raises(SubmissionFileError, match="no such file"):
        load_submission(tmp_path / "absent.json")
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(MAX_SUBMISSION_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(SubmissionFileError, match="over the"):
        load_submission(big)


def test_wrong_schema_version_is_named(tmp_path, valid_submission_factory):
    sub = valid_submission_factory()
    sub["schema_version"] = 3
    path = tmp_path / "future.json"
    path.write_text(json.dumps(sub))
    with pytest.raises(SubmissionValidationError, match="schema_version"):
        load_submission(path)


@pytest.mark.parametrize("version", [None, True, 1.0, "1"])
def test_only_a_real_version_1_is_upgraded(tmp_path, valid_submission_factory, version):
    sub = valid_submission_factory()
    if version is None:
        del sub["schema_version"]
    else:
        sub["schema_version"] = version
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(sub))
    with pytest.raises(SubmissionValidationError, match="schema_version"):
        load_submission(path)


def test_version_1_files_are_upgraded(tmp_path, valid_submission_factory):
    sub = valid_submission_factory()
    sub["schema_version"] = 1
    for model in ("baseline", "optimized"):
        del sub[model]["latency_samples_ms"]
    for key in ("speedup_significant", "significance_test", "p_value"):
        del sub["improvements"][key]
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(sub))
    loaded = load_submission(path)
    assert loaded["schema_version"] == 2
    assert loaded["baseline"]["latency_samples_ms"] == []
    assert loaded["improvements"]["significance_test"] == "range-overlap"
    assert isinstance(loaded["improvements"]["speedup_significant"], bool)
