"""The notebook's KnownCostModel, the stopwatch the latency and batch tests trust: the bounds it
puts on a student's timing hold on a busy machine and still catch a timing of the wrong thing."""

from __future__ import annotations

import ast
import time

import pytest

from tests.course.pipeline_helpers import nbgrader_meta


@pytest.fixture(scope="module")
def notebook(built_course) -> dict:
    """The namespace of the source notebook run up to and including its known-cost models."""
    namespace: dict = {}
    for cell in built_course.source.cells:
        if cell.cell_type != "code":
            continue
        exec(compile(cell.source, nbgrader_meta(cell).get("grade_id", "cell"), "exec"), namespace)
        if nbgrader_meta(cell).get("grade_id") == "known-cost-models":
            return namespace
    raise AssertionError("the source has no known-cost-models cell")


@pytest.fixture(scope="module")
def cold_samples(notebook, built_course):
    """The warm-up test's judge, `cold_samples`, defined alone (its cell also runs the test)."""
    cell = next(c for c in built_course.source.cells if nbgrader_meta(c).get("grade_id") == "test-report-warmup")
    tree = ast.parse(cell.source)
    tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "cold_samples"]
    namespace = dict(notebook)
    exec(compile(tree, "test-report-warmup", "exec"), namespace)
    return namespace["cold_samples"]


def stopwatch(model, x, runs: int, pause_s: float = 0.0, calls_per_reading: int = 1) -> list[float]:
    """`runs` readings in ms of a stopwatch around `calls_per_reading` forward calls, each reading
    stretched by `pause_s` outside the model, as a preempted process would be."""
    readings = []
    for _ in range(runs):
        start = time.perf_counter()
        time.sleep(pause_s)
        for _ in range(calls_per_reading):
            model.forward(x)
        readings.append((time.perf_counter() - start) * 1000.0)
    return readings


def batch(notebook, rows: int):
    return notebook["Tensor"](notebook["X_test"][:rows])


def test_a_timing_stretched_outside_the_model_is_still_within(notebook):
    model = notebook["KnownCostModel"](fixed_ms=0.5, per_sample_ms=0.1)
    x = batch(notebook, 32)
    readings = stopwatch(model, x, 20, pause_s=0.010)
    model.forward(x)  # the call after the last timed one closes its envelope
    median = sorted(readings)[10]
    assert median > 1.5 * model.cost_ms(32) + 0.5, "the pause outside the model stretches every reading"
    assert model.median_within(median, 32, 20)


def test_two_calls_in_one_reading_are_not_one_call(notebook):
    model = notebook["KnownCostModel"](fixed_ms=0.5, per_sample_ms=0.1)
    x = batch(notebook, 32)
    readings = stopwatch(model, x, 20, calls_per_reading=2)
    model.forward(x)
    assert not model.median_within(sorted(readings)[10], 32, 40)


def test_a_single_sample_timing_is_not_a_batch_timing(notebook):
    model = notebook["KnownCostModel"](fixed_ms=0.5, per_sample_ms=0.1)
    one, whole = batch(notebook, 1), batch(notebook, 32)
    readings = stopwatch(model, one, 20)
    stopwatch(model, whole, 20)
    assert not model.median_within(sorted(readings)[10], 32, 20)


# Cold calls of 300 ms: no preemption of the machine stretches a warm call's envelope that long.
SLOW_MS = 300.0


def test_a_warm_call_stretched_around_it_is_forgiven(notebook, cold_samples):
    model = notebook["KnownCostModel"](fixed_ms=0.6, per_sample_ms=0.0, slow_calls=2, slow_ms=SLOW_MS)
    x = batch(notebook, 1)
    stopwatch(model, x, 2)  # the warm-up takes both cold calls
    readings = stopwatch(model, x, 3) + stopwatch(model, x, 1, pause_s=SLOW_MS / 1000) + stopwatch(model, x, 3)
    model.forward(x)
    cold, stretched = cold_samples(readings, model)
    assert cold == 1 and stretched >= 1, (cold, stretched)
    # the model's own stopwatch did not see the pause: only the envelope forgives it
    assert not any(ms >= 0.9 * SLOW_MS and not was_cold for _, _, ms, was_cold in model.calls)


def test_timed_cold_calls_are_not_forgiven(notebook, cold_samples):
    model = notebook["KnownCostModel"](fixed_ms=0.6, per_sample_ms=0.0, slow_calls=2, slow_ms=SLOW_MS)
    x = batch(notebook, 1)
    readings = stopwatch(model, x, 6)  # no warm-up: both cold calls are timed
    model.forward(x)
    assert cold_samples(readings, model) == (2, 0)
