"""compare: the side-by-side table, significance, cross-machine warnings and the regression gate."""

from __future__ import annotations

import pytest

from tests.olympics.known_cost import measured_report
from tests.olympics.submissions import make_submission, noisy_samples, other_machine
from tinytorch.olympics import generate_submission
from tinytorch.olympics.compare import (
    ChosenModel,
    CompareError,
    ModelPair,
    compare_submissions,
    format_report,
    parse_threshold,
)

REPEATS = 20


def busy_submission(cost_ms: float) -> dict:
    """A baseline-only submission measured from a real model whose forward busy-waits `cost_ms`."""
    return generate_submission(measured_report(f"busy_{cost_ms}ms", cost_ms, runs=30))


@pytest.mark.timing
def test_the_gate_passes_a_rerun_and_fails_a_2x_slowdown():
    reruns_passed = slowdowns_failed = 0
    for _ in range(REPEATS):
        base, rerun, slow = busy_submission(0.4), busy_submission(0.4), busy_submission(0.8)
        reruns_passed += not compare_submissions(base, rerun).regressed
        slow_comparison = compare_submissions(base, slow)
        slowdowns_failed += slow_comparison.regressed
        assert slow_comparison.significance["significance_test"] == "mann-whitney-u"
    assert reruns_passed >= 19, f"a re-run of the same model failed the gate {REPEATS - reruns_passed}/{REPEATS} times"
    assert slowdowns_failed == REPEATS, f"a 2× slowdown passed the gate {REPEATS - slowdowns_failed}/{REPEATS} times"


def test_table_has_every_metric_with_ratio_and_change():
    base = make_submission(noisy_samples(1.0), noisy_samples(0.5, seed=1))
    new = make_submission(noisy_samples(1.0, seed=2), noisy_samples(0.6, seed=3))
    c = compare_submissions(base, new, base_label="a.json", new_label="b.json")
    assert c.models == ModelPair(ChosenModel("optimized", "int8"), ChosenModel("optimized", "int8"))
    row = c.gated_row
    expected = new["optimized"]["metrics"]["latency_ms_p50"] / base["optimized"]["metrics"]["latency_ms_p50"]
    assert row.ratio == pytest.approx(expected)
    assert row.change == pytest.approx(expected - 1)
    text = format_report(c)
    for key in base["baseline"]["metrics"]:
        assert key in text, f"{key} missing from the comparison table"
    assert f"{expected:.3f}" in text and f"{(expected - 1) * 100:+.1f}%" in text
    assert "a.json" in text and "b.json" in text


def test_higher_is_better_metrics_count_a_drop_as_worse():
    base = make_submission(noisy_samples(1.0), accuracy=(0.96, 0.96))
    new = make_submission(noisy_samples(1.0, seed=1), accuracy=(0.80, 0.80))
    c = compare_submissions(base, new, metric="accuracy", fail_above=0.10)
    assert c.gated_row.worsening == pytest.approx((0.96 - 0.80) / 0.96)
    assert c.regressed, "accuracy is exact: a 17% drop beyond a 10% threshold is a regression"
    assert not compare_submissions(new, base, metric="accuracy").regressed, "an accuracy gain is no regression"


def test_a_large_change_within_noise_does_not_fail():
    # Three samples each: too few for the rank test, so ranges decide, and these overlap widely.
    base = make_submission([0.5, 1.0, 1.5])
    new = make_submission([0.6, 1.4, 2.2])
    c = compare_submissions(base, new)
    assert c.gated_row.worsening > 0.10
    assert c.significance["significance_test"] == "range-overlap"
    assert not c.regressed
    assert "not significant" in format_report(c)


def test_model_choice_defaults_to_optimized_and_can_be_forced():
    both, only_base = make_submission(noisy_samples(1.0), noisy_samples(0.5)), make_submission(noisy_samples(1.0))
    assert compare_submissions(both, only_base).models.base.role == "optimized"
    assert compare_submissions(both, only_base).models.new.role == "baseline"
    assert compare_submissions(both, only_base, model="baseline").models.base.role == "baseline"
    with pytest.raises(CompareError, match="NEW: has no optimized model"):
        compare_submissions(both, only_base, model="optimized")


def test_different_machines_are_flagged_and_timing_not_judged():
    base = make_submission(noisy_samples(0.4))
    new = make_submission(noisy_samples(0.8), system_info=other_machine(base["system_info"]))
    c = compare_submissions(base, new)
    text = format_report(c)
    assert c.cross_machine and "different machines" in text and "not comparable" in text
    assert "processor" in text and "cpu_count" in text
    assert c.gate_undecidable and not c.regressed
    assert compare_submissions(base, new, allow_cross_machine=True).regressed
    exact = compare_submissions(base, new, metric="model_size_mb")
    assert not exact.gate_undecidable, "size does not depend on the machine"


@pytest.mark.parametrize("text, value", [("10%", 0.10), ("5", 0.05), (" 2.5% ", 0.025), ("0", 0.0)])
def test_thresholds(text, value):
    assert parse_threshold(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["ten", "-5%", "nan", "%"])
def test_bad_thresholds_are_named(text):
    with pytest.raises(CompareError, match="--fail-above"):
        parse_threshold(text)


def test_unknown_metric_is_named():
    sub = make_submission(noisy_samples(1.0))
    with pytest.raises(CompareError, match="--metric: unknown metric 'speed'"):
        compare_submissions(sub, sub, metric="speed")
