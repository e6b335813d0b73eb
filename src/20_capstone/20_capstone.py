# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 20 — Capstone: benchmark, optimize, submit
#
# You have built a framework from tensors up: autograd, layers, losses, optimizers, a training
# loop, quantization and pruning. This last module asks the question every engineer who ships a
# model must answer: **how good is it, really — and how do you prove it to someone else?**
#
# In this module you will
#
# 1. train a small multilayer perceptron on real handwritten digits,
# 2. measure it honestly: accuracy, size in bytes actually stored, single-sample latency with its
#    spread and tail, batch throughput and peak memory,
# 3. optimize it (INT8 quantization, magnitude and structured pruning) and measure again,
# 4. compare baseline and optimized with a statistical test rather than a hunch, and
# 5. write a submission file that a machine can validate, the way MLPerf and public
#    leaderboards require.
#
# You implement the parts marked `YOUR CODE HERE`. Each part is followed by a test cell that
# tells you, in plain words, what is still wrong.

# %% [markdown]
# ## 1. Why benchmarking needs discipline
#
# A number such as "0.21 ms per prediction" is worth something only if three things hold.
#
# - **Repeatable.** Run the measurement again on the same machine and you get nearly the same
#   number. That takes warm-up runs (the first calls pay for caches, lazy allocation and page
#   faults), many timed runs, and a clock made for intervals (`time.perf_counter_ns`, which is
#   monotonic and has nanosecond resolution — not `time.time`, which follows the wall clock and
#   can jump).
# - **Comparable.** Two numbers can only be compared when they were measured the same way: same
#   data, same batch size, same machine description. A submission therefore records *how* it
#   measured, not only what it found.
# - **Complete.** Speed alone is meaningless: a model that answers in no time and is always wrong
#   is useless. A result reports accuracy, size and speed together.
#
# **Latency versus throughput.** Latency is how long one request waits: what a user feels.
# Throughput is how many samples per second the system finishes: what the bill depends on.
# Batching raises throughput by sharing fixed costs (Python dispatch, memory traffic) across
# samples, but a request in a batch waits for the whole batch. The two are measured separately:
# dividing a batch's time by its size gives an *amortized* cost, not anyone's latency.
#
# **Variance and the tail.** Timings scatter: other processes, frequency scaling, garbage
# collection. So we keep every raw sample and report the mean, the standard deviation and the
# percentiles p50 (the median), p90 and p99. The p99 is what one request in a hundred waits;
# at a thousand requests a second, that is ten users every second.
#
# **The traps.** Timing the wrong thing (data loading or printing inside the timed region);
# noise (a single run); cold starts (no warm-up); batch-size confusion (latency reported from a
# batch). Each part below is built to avoid one of them.
#
# **The trade-off.** Optimizations buy speed or size with accuracy. Quantization stores each
# weight in one byte instead of four; pruning removes weights. Whether the trade is worth it is a
# question only complete, comparable measurements can answer.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
"""The capstone: the model, its measurement, and its submission, as the students write them.

`BenchmarkReport` measures a model; `generate_submission` turns two reports into a submission;
`submission_errors` and `validate_submission_schema` check one; `save_submission` and
`load_submission` put validation and the file helpers of `tinytorch.submission` together.
"""
from __future__ import annotations

import copy
import json
import os
from typing import Any, Optional

import numpy as np

import tinytorch
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import accuracy as _accuracy, train
from tinytorch.data import load_digits
from tinytorch.perf.benchmarking import peak_memory_bytes, time_callable
from tinytorch.perf.inputs import as_test_set, check_count
from tinytorch.perf.profiling import count_parameters, model_size_bytes
from tinytorch.submission.system import collect_system_info, utc_timestamp
from tinytorch.submission.vocabulary import METRIC_KEYS, MIB, SUBMISSION_SCHEMA_VERSION

# %% [markdown]
# ## 2. The model: `SimpleMLP`
#
# Our model is the smallest network that still learns something real: 64 pixel intensities in,
# a hidden layer of 32 ReLU units, 10 class scores out. It is built from the framework's own
# `Linear` and `ReLU`.
#
# **Your task.** Write `forward`: apply `fc1`, then `relu`, then `fc2`. Each layer is callable.

# %% nbgrader={"grade": false, "grade_id": "simple-mlp", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class SimpleMLP:
    """Linear → ReLU → Linear, the capstone's baseline model.

    Args:
        input_size: features per sample (64 for the 8×8 digits).
        hidden_size: width of the hidden layer.
        output_size: number of classes.
        seed: seed of the weight initialisation, for repeatable runs.
    """

    def __init__(self, input_size: int = 64, hidden_size: int = 32, output_size: int = 10,
                 seed: Optional[int] = 0) -> None:
        self.fc1 = Linear(input_size, hidden_size, seed=seed)
        self.relu = ReLU()
        self.fc2 = Linear(hidden_size, output_size, seed=None if seed is None else seed + 1)

    def forward(self, x: Tensor) -> Tensor:
        """Class scores (logits) of shape (batch, output_size) for inputs of shape (batch, input_size)."""
        ### BEGIN SOLUTION
        return self.fc2(self.relu(self.fc1(x)))
        ### END SOLUTION

    __call__ = forward

    def parameters(self) -> list:
        """Every trainable Tensor: weights and biases of both layers."""
        return self.fc1.parameters() + self.fc2.parameters()

    def count_parameters(self) -> int:
        """Number of scalar parameters (the logical, dense count)."""
        return count_parameters(self)


# %% nbgrader={"grade": true, "grade_id": "test-simple-mlp", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_simple_mlp_forward():
    """SimpleMLP maps a batch of 64-feature inputs to 10 scores per sample."""
    model = SimpleMLP(64, 32, 10, seed=0)
    x = Tensor(np.random.default_rng(0).random((5, 64), dtype=np.float32))
    out = model.forward(x)
    assert isinstance(out, Tensor), f"forward should return a Tensor, got {type(out).__name__}"
    assert out.shape == (5, 10), f"forward on a (5, 64) batch should give shape (5, 10), got {out.shape}"
    hidden = np.maximum(x.data @ model.fc1.weight.data + model.fc1.bias.data, 0)
    expected = hidden @ model.fc2.weight.data + model.fc2.bias.data
    assert np.allclose(out.data, expected, atol=1e-5), (
        "forward should compute fc2(relu(fc1(x))); the scores differ from that")
    assert model.count_parameters() == 64 * 32 + 32 + 32 * 10 + 10, "parameter count is wrong"
    print("✓ SimpleMLP.forward computes fc2(relu(fc1(x)))")


test_simple_mlp_forward()

# %% [markdown]
# ### Training the baseline
#
# The framework's training loop fits the model to the digits data set that ships inside the
# package (1,797 real 8×8 handwritten digits, split once with a fixed seed). A few seconds of
# Adam are enough to pass 95% test accuracy.

# %% nbgrader={"grade": false, "grade_id": "train-baseline", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
def train_baseline(X_train: np.ndarray, y_train: np.ndarray, *, epochs: int = 30,
                   seed: int = 0) -> SimpleMLP:
    """A SimpleMLP trained with Adam on the given data (deterministic for a given seed)."""
    model = SimpleMLP(X_train.shape[1], 32, int(np.max(y_train)) + 1, seed=seed)
    train(model, X_train, y_train, epochs=epochs, batch_size=32, lr=0.005, seed=seed)
    return model


# %%
# The demonstration cells (not the tests) run when you run the notebook, not while it is graded.
SHOWCASE = __name__ == "__main__" and not os.environ.get("NBGRADER_EXECUTION")

X_train, y_train, X_test, y_test = load_digits()
try:
    baseline_model = train_baseline(X_train, y_train)
    print(f"train {X_train.shape}, test {X_test.shape}; "
          f"baseline test accuracy {_accuracy(baseline_model, X_test, y_test):.1%}")
except NotImplementedError:  # an unfinished notebook still runs to the end (Run All)
    baseline_model = None
    print("Write SimpleMLP.forward above, then run this cell again: it trains your baseline.")

# %% [markdown]
# ## 3. Measuring a model: `BenchmarkReport`
#
# A `BenchmarkReport` holds everything one measurement found: the metrics, the raw latency
# samples behind them, the settings used and a description of the machine.
#
# The measuring itself is done by the framework's measurement engine,
# `tinytorch.perf.benchmarking`:
#
# - `time_callable(fn, num_runs=..., warmup_runs=..., progress=...)` calls `fn()` `warmup_runs`
#   times and throws those timings away, then times `num_runs` calls with `perf_counter_ns`. It
#   returns a `BenchmarkResult` with the raw `samples_ms` and derived `mean`, `std`, `median`,
#   `p50`, `p90`, `p99`.
# - `peak_memory_bytes(fn)` runs `fn()` once under `tracemalloc` and returns the peak.
# - `model_size_bytes(model)` adds up the bytes of every array the model stores, so an INT8 or a
#   sparse model is measured as what it is, never as `parameters × 4`.
#
# **Your task.** Write the body of `benchmark_model`. It must fill `self.metrics` with exactly
# the keys in `METRIC_KEYS`:
#
# | key | how |
# |---|---|
# | `parameter_count` | `count_parameters(model)` |
# | `model_size_mb` | `model_size_bytes(model) / MIB` |
# | `accuracy` | fraction of `y` predicted right over the whole test set, in [0, 1] (`_accuracy(model, X, y)`) |
# | `latency_ms_*` | time `model.forward` on **one** sample (`X[:1]`), with warm-up |
# | `throughput_samples_per_sec` | `1000 / latency_ms_mean` |
# | `batch_throughput_samples_per_sec` | time `model.forward` on a batch of `batch_size` samples: samples per second |
# | `peak_memory_mb` | `peak_memory_bytes` of one batch forward, in MiB |
#
# Every value must be a plain Python `int` or `float` (`float(x)`, `int(x)`), never a numpy
# scalar, so that `json.dumps` works. Keep the raw single-sample latencies in
# `self.latency_samples_ms` (a list of floats) and the settings in `self.measurement`.

# %% nbgrader={"grade": false, "grade_id": "benchmark-report", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class BenchmarkReport:
    """The measurements of one model: metrics, raw latency samples, settings and machine.

    Attributes:
        model_name: a name for the model in tables and submissions.
        metrics: empty until `benchmark_model` runs; then one native number per `METRIC_KEYS` key.
        latency_samples_ms: the raw single-sample latencies behind the latency metrics.
        measurement: the settings used (num_runs, warmup_runs, batch_size).
        system_info: the machine and software the measurement ran on.
        timestamp: when it ran, ISO-8601 with offset.
    """

    def __init__(self, model_name: str = "model") -> None:
        self.model_name = model_name
        self.metrics: dict = {}
        self.latency_samples_ms: list = []
        self.measurement: dict = {}
        self.system_info: dict = collect_system_info()
        self.timestamp: Optional[str] = None

    def benchmark_model(self, model: Any, X_test: Any, y_test: Any, num_runs: int = 100,
                        warmup_runs: int = 10, batch_size: int = 32, progress: bool = True) -> dict:
        """Measure accuracy, size, latency, throughput and memory of `model` on a test set.

        Args:
            model: anything with `.forward(x)` and `.parameters()`.
            X_test: inputs, a Tensor or array of shape (samples, features).
            y_test: integer class labels, one per sample.
            num_runs: timed runs for each latency measurement (≥ 1).
            warmup_runs: untimed runs made first and discarded.
            batch_size: batch size for the throughput measurement.
            progress: show a progress bar when a measurement takes more than about two seconds.

        Returns:
            `self.metrics`, a dict of native Python numbers keyed by `METRIC_KEYS`.
        """
        X, y = as_test_set(model, X_test, y_test)
        num_runs = check_count(num_runs, "num_runs", 1)
        warmup_runs = check_count(warmup_runs, "warmup_runs", 0)
        batch_size = check_count(batch_size, "batch_size", 1)
        # TODO: time single-sample inference and a batch, then fill self.metrics,
        #       self.latency_samples_ms and self.measurement (see the table above).
        ### BEGIN SOLUTION
        one = Tensor(X[:1])
        batch = Tensor(X[:batch_size])
        latency = time_callable(lambda: model.forward(one), num_runs=num_runs,
                                warmup_runs=warmup_runs, name=self.model_name, progress=progress)
        batch_timing = time_callable(lambda: model.forward(batch), num_runs=max(1, num_runs // 4),
                                     warmup_runs=min(warmup_runs, 3), progress=progress)
        peak = peak_memory_bytes(lambda: model.forward(batch))
        self.metrics = {
            "parameter_count": int(count_parameters(model)),
            "model_size_mb": float(model_size_bytes(model) / MIB),
            "accuracy": float(_accuracy(model, X, y)),
            "latency_ms_mean": float(latency.mean),
            "latency_ms_std": float(latency.std),
            "latency_ms_p50": float(latency.p50),
            "latency_ms_p90": float(latency.p90),
            "latency_ms_p99": float(latency.p99),
            "throughput_samples_per_sec": float(1000.0 / latency.mean),
            "batch_throughput_samples_per_sec": float(batch.shape[0] * 1000.0 / batch_timing.median),
            "peak_memory_mb": float(peak / MIB),
        }
        self.latency_samples_ms = [float(s) for s in latency.samples_ms]
        self.measurement = {"num_runs": int(num_runs), "warmup_runs": int(warmup_runs),
                            "batch_size": int(batch.shape[0])}
        ### END SOLUTION
        self.timestamp = utc_timestamp()
        return self.metrics

    def __repr__(self) -> str:
        state = "not benchmarked" if not self.metrics else f"p50 {self.metrics['latency_ms_p50']:.4f} ms"
        return f"BenchmarkReport({self.model_name!r}, {state})"


# %% [markdown]
# ### Models of known cost
#
# To test a measuring instrument, point it at something whose answer you already know. These
# models spend a known time in `forward` by spinning on the clock (sleeping would hand the CPU
# away and wake up late). `SlowStartModel` is slow on its first calls, like a real model whose
# first calls fill caches.
#
# The tests below also use `reference_model`, an MLP put together directly from the framework's
# layers: they check your `BenchmarkReport` whether or not your `SimpleMLP` works yet.

# %% nbgrader={"grade": false, "grade_id": "known-cost-models", "locked": true, "schema_version": 3, "solution": false, "task": false}
import time

from tinytorch.core.layers import Sequential


class BusyModel:
    """A model whose forward takes `cost_ms` per call, whatever the batch size."""

    def __init__(self, cost_ms: float = 1.0, n_classes: int = 10) -> None:
        self.cost_ms = cost_ms
        self.weight = Tensor(np.zeros((64, n_classes), dtype=np.float32))
        self.calls = 0

    def spin(self, ms: float) -> None:
        end = time.perf_counter_ns() + int(ms * 1e6)
        while time.perf_counter_ns() < end:
            pass

    def forward(self, x: Tensor) -> Tensor:
        self.calls += 1
        self.spin(self.cost_ms)
        return Tensor(np.zeros((x.shape[0], self.weight.shape[1]), dtype=np.float32))

    def parameters(self) -> list:
        return [self.weight]


class SlowStartModel(BusyModel):
    """Like BusyModel, but its first `slow_calls` calls take `slow_ms` each."""

    def __init__(self, cost_ms: float = 1.0, slow_calls: int = 3, slow_ms: float = 60.0) -> None:
        super().__init__(cost_ms)
        self.slow_calls, self.slow_ms = slow_calls, slow_ms

    def forward(self, x: Tensor) -> Tensor:
        if self.calls < self.slow_calls:
            self.spin(self.slow_ms - self.cost_ms)
        return super().forward(x)


# A trained MLP built from the framework's layers, not from your SimpleMLP, so that the tests
# of BenchmarkReport test BenchmarkReport alone.
reference_model = Sequential(Linear(64, 32, seed=0), ReLU(), Linear(32, 10, seed=1))
train(reference_model, X_train, y_train, epochs=5, batch_size=32, lr=0.01, seed=0)


def digits_subset(n: int = 200):
    """A small slice of the digits test set, for fast tests."""
    return X_test[:n], y_test[:n]


# %% nbgrader={"grade": true, "grade_id": "test-report-metrics", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_report_metrics():
    """benchmark_model fills every metric with a sensible value."""
    X, y = digits_subset()
    report = BenchmarkReport("baseline")
    metrics = report.benchmark_model(reference_model, X, y, num_runs=30, warmup_runs=5, progress=False)
    assert metrics is report.metrics, "benchmark_model should return self.metrics"
    missing = [k for k in METRIC_KEYS if k not in metrics]
    assert not missing, f"metrics is missing these keys: {missing}"
    extra = [k for k in metrics if k not in METRIC_KEYS]
    assert not extra, f"metrics has keys that are not in METRIC_KEYS: {extra}"
    assert metrics["parameter_count"] == 64 * 32 + 32 + 32 * 10 + 10, "parameter_count is wrong"
    expected_mb = model_size_bytes(reference_model) / MIB
    assert abs(metrics["model_size_mb"] - expected_mb) < 1e-9, (
        f"model_size_mb should be model_size_bytes(model) / MIB = {expected_mb:.6f}, got {metrics['model_size_mb']}")
    for key in METRIC_KEYS[3:]:
        assert metrics[key] >= 0, f"{key} should not be negative, got {metrics[key]}"
    assert metrics["latency_ms_p50"] <= metrics["latency_ms_p90"] <= metrics["latency_ms_p99"], (
        "percentiles must satisfy p50 ≤ p90 ≤ p99")
    assert len(report.latency_samples_ms) == 30, (
        f"latency_samples_ms should hold the 30 timed samples (warm-up excluded), got {len(report.latency_samples_ms)}")
    assert report.measurement.get("num_runs") == 30, "measurement should record num_runs"
    assert report.timestamp and report.timestamp.endswith("+00:00"), "timestamp should be ISO-8601 with +00:00"
    print("✓ benchmark_model fills every metric")


test_report_metrics()

# %% nbgrader={"grade": true, "grade_id": "test-report-native-types", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def test_report_native_types():
    """Every metric is a plain Python int or float, so json.dumps works."""
    X, y = digits_subset()
    metrics = BenchmarkReport("m").benchmark_model(reference_model, X, y, num_runs=10, warmup_runs=2, progress=False)
    wrong = {k: type(v).__name__ for k, v in metrics.items() if type(v) not in (int, float)}
    assert not wrong, f"these metrics are not plain int/float (use float(...) or int(...)): {wrong}"
    print("✓ metrics are native Python numbers")
    ### BEGIN HIDDEN TESTS
    assert type(metrics["parameter_count"]) is int, "parameter_count must be an int"
    json.dumps(metrics)
    ### END HIDDEN TESTS


test_report_native_types()

# %% nbgrader={"grade": true, "grade_id": "test-report-accuracy", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def test_report_accuracy():
    """accuracy is a fraction in [0, 1] over the whole test set."""
    X, y = digits_subset()
    metrics = BenchmarkReport("m").benchmark_model(reference_model, X, y, num_runs=5, warmup_runs=1, progress=False)
    assert 0.0 <= metrics["accuracy"] <= 1.0, (
        f"accuracy must be a fraction between 0 and 1 (not a percentage), got {metrics['accuracy']}")
    print("✓ accuracy is a fraction")
    ### BEGIN HIDDEN TESTS
    expected = float(np.mean(np.argmax(reference_model.forward(Tensor(X)).data, axis=1) == y))
    assert abs(metrics["accuracy"] - expected) < 1e-9, "accuracy must be computed over the whole test set"
    half = BenchmarkReport("m").benchmark_model(reference_model, X[:7], y[:7], num_runs=3, warmup_runs=0, progress=False)
    assert abs(half["accuracy"] * 7 - round(half["accuracy"] * 7)) < 1e-9, "accuracy must be correct/total"
    ### END HIDDEN TESTS


test_report_accuracy()

# %% nbgrader={"grade": true, "grade_id": "test-report-latency", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def test_report_latency_known_cost():
    """A forward that takes 1 ms per call must measure as 1 ms of single-sample latency."""
    X, y = digits_subset(64)
    metrics = BenchmarkReport("busy").benchmark_model(BusyModel(1.0), X, y, num_runs=30, warmup_runs=3, progress=False)
    p50 = metrics["latency_ms_p50"]
    assert 0.9 <= p50 <= 1.5, (
        f"a model that takes 1 ms per forward call measured p50 = {p50:.4f} ms; latency is the time of "
        "one call on one sample — do not divide a batch's time by the batch size")
    print(f"✓ latency of a 1 ms model: p50 {p50:.3f} ms")
    ### BEGIN HIDDEN TESTS
    tput = metrics["throughput_samples_per_sec"]
    assert abs(tput - 1000.0 / metrics["latency_ms_mean"]) < 1e-6 * tput, "throughput must be 1000 / mean latency"
    batch_tput = metrics["batch_throughput_samples_per_sec"]
    assert 32 * 500 <= batch_tput <= 32 * 1100, (
        f"a batch of 32 taking 1 ms is about 32,000 samples/s, got {batch_tput}")
    ### END HIDDEN TESTS


test_report_latency_known_cost()

# %% nbgrader={"grade": true, "grade_id": "test-report-warmup", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def test_report_warmup():
    """Warm-up runs keep slow first calls out of the timed samples.

    A cold call of this model takes at least 60 ms (a spin cannot finish early); a warm one
    takes 1 ms, so a sample of 50 ms or more is a cold call, not noise from other processes.
    """
    X, y = digits_subset(64)
    report = BenchmarkReport("slow-start")
    report.benchmark_model(SlowStartModel(cost_ms=1.0, slow_calls=3, slow_ms=60.0), X, y,
                           num_runs=20, warmup_runs=5, progress=False)
    cold = sum(sample >= 50 for sample in report.latency_samples_ms)
    assert cold < 3, (
        f"{cold} of the timed samples are the model's slow first calls: make warmup_runs untimed "
        "calls of model.forward before you start timing")
    print("✓ warm-up keeps cold calls out")
    ### BEGIN HIDDEN TESTS
    report = BenchmarkReport("slow")
    report.benchmark_model(SlowStartModel(cost_ms=1.0, slow_calls=8, slow_ms=60.0), X, y,
                           num_runs=15, warmup_runs=10, progress=False)
    assert len(report.latency_samples_ms) == 15, "exactly num_runs samples are kept"
    cold = sum(sample >= 50 for sample in report.latency_samples_ms)
    assert cold < 2, f"{cold} cold calls were timed: warmup_runs=10 must make 10 untimed calls before timing"
    ### END HIDDEN TESTS


test_report_warmup()

# %% [markdown]
# ## 4. Optimizing and comparing
#
# The framework gives us three optimizations, each returning a new model and leaving the
# original untouched:
#
# - `quantize_model(model)`: every `Linear` becomes a `QuantizedLinear` whose weights are stored
#   as int8 with one float32 scale per output channel: about a quarter of the bytes.
# - `magnitude_prune(model, 0.8)` zeroes the 80% smallest weights; a short fine-tune with the
#   pruning masks recovers accuracy, and `to_sparse` stores only the survivors (CSR form).
# - `structured_prune(model, 0.5)` removes half of the hidden neurons outright.
#
# The next cell measures all of them. Once your `benchmark_model` works, it prints a comparison.

# %% nbgrader={"grade": false, "grade_id": "optimize", "locked": true, "schema_version": 3, "solution": false, "task": false}
from tinytorch.perf.variants import optimized_variants
from tinytorch.submission.tables import format_table

# %%
if SHOWCASE and baseline_model is None:
    print("Write SimpleMLP.forward first: the comparison measures your trained baseline.")
elif SHOWCASE:
    try:
        variants = optimized_variants(baseline_model, X_train, y_train)
        measured = {"baseline": BenchmarkReport("baseline")}
        measured["baseline"].benchmark_model(baseline_model, X_test, y_test, num_runs=50, progress=False)
        for name, (variant, _) in variants.items():
            measured[name] = BenchmarkReport(name)
            measured[name].benchmark_model(variant, X_test, y_test, num_runs=50, progress=False)
        print(format_table({name: r.metrics for name, r in measured.items()}))
    except NotImplementedError:
        print("Implement BenchmarkReport.benchmark_model above to see the comparison.")

# %% [markdown]
# ## 5. The submission
#
# A leaderboard accepts a result only if a machine can check it. Our submission is one JSON
# object whose shape is fixed by a JSON Schema (draft 2020-12) shipped in the package,
# `tinytorch/schemas/submission.schema.json`, and whose `schema_version` says which version of
# that schema it follows. It carries the baseline, optionally an optimized model, and — exactly
# when there is an optimized model — the improvements:
#
# - `speedup` = baseline mean latency / optimized mean latency (above 1 means faster),
# - `compression_ratio` = baseline size / optimized size (above 1 means smaller),
# - `accuracy_delta` = optimized accuracy − baseline accuracy (negative means worse),
# - `speedup_significant`: is the difference in latency more than noise? With the raw samples of
#   both models we use the Mann–Whitney U test, which makes no assumption about the shape of the
#   distributions (latency distributions are skewed, with long right tails).
#   It answers "do the latencies differ?", so read it with `speedup`: significant with a speedup
#   below 1 means the optimized model is reliably *slower*.
#
# The helpers are given by `tinytorch.submission` (read them there): `speedup_significance`
# (the test above, on two model entries), `safe_ratio` (a ratio that refuses a zero
# denominator, naming the field) and `compact_samples` (raw samples rounded to 5 significant
# digits, a third of the JSON).

# %% nbgrader={"grade": false, "grade_id": "submission-helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
from tinytorch.submission.significance import speedup_significance
from tinytorch.submission.values import compact_samples, safe_ratio


def _require_benchmarked(report: Any, argument: str) -> None:
    if not isinstance(report, BenchmarkReport) and not hasattr(report, "metrics"):
        raise ValueError(f"{argument}: expected a BenchmarkReport, got {type(report).__name__}")
    if not report.metrics:
        raise ValueError(f"{argument}: report {getattr(report, 'model_name', '?')!r} was never benchmarked; "
                         "call .benchmark_model(...) first")


# %% [markdown]
# **Your task.** Write `generate_submission`. Build the dictionary described above from the
# reports. The submission must not share any dict or list with the reports (copy them), so that
# changing a report later cannot silently change a submission already made, and vice versa.
# `techniques_applied` goes into the optimized entry as a list of strings.

# %% nbgrader={"grade": false, "grade_id": "generate-submission", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def generate_submission(baseline_report: BenchmarkReport, optimized_report: Optional[BenchmarkReport] = None,
                        student_name: Optional[str] = None,
                        techniques_applied: Optional[list] = None) -> dict:
    """The submission dict for a baseline report and, optionally, an optimized one.

    Args:
        baseline_report: a benchmarked report of the unoptimized model.
        optimized_report: a benchmarked report of the optimized model, if any.
        student_name: who submits (optional).
        techniques_applied: the optimizations used, e.g. ["int8_quantization"].

    Returns:
        A new dict following the submission schema; nothing in it is shared with the reports.
    """
    _require_benchmarked(baseline_report, "baseline_report")
    if optimized_report is not None:
        _require_benchmarked(optimized_report, "optimized_report")
    elif techniques_applied:
        raise ValueError("techniques_applied: given without an optimized_report")
    if techniques_applied is not None and (
            not isinstance(techniques_applied, (list, tuple))
            or not all(isinstance(t, str) for t in techniques_applied)):
        raise ValueError(f"techniques_applied: expected a list of strings, got {techniques_applied!r}")
    ### BEGIN SOLUTION
    def entry(report: BenchmarkReport) -> dict:
        return {
            "model_name": str(report.model_name),
            "metrics": copy.deepcopy(report.metrics),
            "latency_samples_ms": compact_samples(report.latency_samples_ms),
            "measurement": copy.deepcopy(report.measurement),
        }

    submission = {
        "schema_version": SUBMISSION_SCHEMA_VERSION,
        "submission_type": "capstone_benchmark",
        "tinytorch_version": tinytorch.__version__,
        "timestamp": utc_timestamp(),
        "system_info": copy.deepcopy(baseline_report.system_info),
        "baseline": entry(baseline_report),
    }
    if student_name is not None:
        submission["student_name"] = str(student_name)
    if optimized_report is not None:
        optimized = entry(optimized_report)
        optimized["techniques_applied"] = [str(t) for t in (techniques_applied or [])]
        base_m, opt_m = baseline_report.metrics, optimized_report.metrics
        submission["optimized"] = optimized
        submission["improvements"] = {
            "speedup": safe_ratio(base_m["latency_ms_mean"], opt_m["latency_ms_mean"],
                                  "optimized_report.metrics.latency_ms_mean"),
            "compression_ratio": safe_ratio(base_m["model_size_mb"], opt_m["model_size_mb"],
                                            "optimized_report.metrics.model_size_mb"),
            "accuracy_delta": float(opt_m["accuracy"] - base_m["accuracy"]),
            **speedup_significance(submission["baseline"], optimized),
        }
    ### END SOLUTION
    return submission


# %% nbgrader={"grade": false, "grade_id": "report-fixtures", "locked": true, "schema_version": 3, "solution": false, "task": false}
from tinytorch.perf.benchmarking import BenchmarkResult


def made_report(name: str, latency_ms: float, size_mb: float, accuracy: float, seed: int = 0) -> BenchmarkReport:
    """A report filled by hand (no measuring), for testing what is built on top of reports."""
    rng = np.random.default_rng(seed)
    timing = BenchmarkResult(name, latency_ms * (1 + 0.02 * rng.standard_normal(40)))
    report = BenchmarkReport(name)
    report.metrics = {
        "parameter_count": 64 * 32 + 32 + 32 * 10 + 10, "model_size_mb": float(size_mb), "accuracy": float(accuracy),
        "latency_ms_mean": timing.mean, "latency_ms_std": timing.std, "latency_ms_p50": timing.p50,
        "latency_ms_p90": timing.p90, "latency_ms_p99": timing.p99,
        "throughput_samples_per_sec": 1000.0 / timing.mean,
        "batch_throughput_samples_per_sec": 32 * 1000.0 / (4 * timing.median), "peak_memory_mb": 0.05,
    }
    report.latency_samples_ms = [float(s) for s in timing.samples_ms]
    report.measurement = {"num_runs": 40, "warmup_runs": 10, "batch_size": 32}
    report.timestamp = utc_timestamp()
    return report


# %% nbgrader={"grade": true, "grade_id": "test-submission", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_generate_submission():
    """A submission has the required fields, with improvements exactly when optimized is given."""
    base = made_report("baseline", latency_ms=2.0, size_mb=0.01, accuracy=0.96)
    fast = made_report("int8", latency_ms=1.0, size_mb=0.0025, accuracy=0.955, seed=1)
    alone = generate_submission(base)
    for key in ("schema_version", "submission_type", "tinytorch_version", "timestamp", "system_info", "baseline"):
        assert key in alone, f"a submission needs the field {key!r}"
    assert "optimized" not in alone and "improvements" not in alone, (
        "without an optimized report there must be no 'optimized' and no 'improvements'")
    both = generate_submission(base, fast, student_name="Ada", techniques_applied=["int8_quantization"])
    assert both["optimized"]["techniques_applied"] == ["int8_quantization"], "techniques_applied is missing"
    assert both.get("student_name") == "Ada", "student_name is missing"
    for key in ("speedup", "compression_ratio", "accuracy_delta", "speedup_significant"):
        assert key in both["improvements"], f"improvements needs {key!r}"
    assert both["baseline"]["metrics"] == base.metrics, "baseline metrics must be copied into the submission"
    assert len(both["baseline"]["latency_samples_ms"]) == 40, "the raw latency samples belong in the submission"
    json.dumps(both)
    print("✓ generate_submission builds the submission")


test_generate_submission()

# %% nbgrader={"grade": true, "grade_id": "test-submission-speedup", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def test_submission_speedup():
    """speedup > 1 means the optimized model is faster; compression > 1 means smaller."""
    base = made_report("baseline", latency_ms=2.0, size_mb=0.01, accuracy=0.96)
    fast = made_report("int8", latency_ms=1.0, size_mb=0.0025, accuracy=0.955, seed=1)
    imp = generate_submission(base, fast)["improvements"]
    assert imp["speedup"] > 1, f"the optimized model is twice as fast, yet speedup = {imp['speedup']:.3f}"
    print("✓ speedup points the right way")
    ### BEGIN HIDDEN TESTS
    expected = base.metrics["latency_ms_mean"] / fast.metrics["latency_ms_mean"]
    assert abs(imp["speedup"] - expected) < 1e-6 * expected, "speedup = baseline mean / optimized mean"
    assert abs(imp["compression_ratio"] - 4.0) < 1e-9, "compression = baseline size / optimized size"
    assert abs(imp["accuracy_delta"] - (0.955 - 0.96)) < 1e-9, "accuracy_delta = optimized − baseline"
    assert imp["speedup_significant"] is True, "a 2× difference over 40 samples is significant"
    same = generate_submission(base, made_report("same", 2.0, 0.01, 0.96, seed=5))["improvements"]
    assert same["speedup_significant"] is False, "two samples of the same latency are not significantly different"
    ### END HIDDEN TESTS


test_submission_speedup()

# %% nbgrader={"grade": true, "grade_id": "test-submission-copies", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
def test_submission_copies():
    """A submission shares no dict or list with the reports it came from."""
    base = made_report("baseline", latency_ms=2.0, size_mb=0.01, accuracy=0.96)
    fast = made_report("int8", latency_ms=1.0, size_mb=0.0025, accuracy=0.955, seed=1)
    sub = generate_submission(base, fast, techniques_applied=["int8_quantization"])
    base.metrics["accuracy"] = 0.0
    assert sub["baseline"]["metrics"]["accuracy"] == 0.96, (
        "changing a report after generate_submission changed the submission: copy the metrics dict")
    print("✓ the submission holds copies")
    ### BEGIN HIDDEN TESTS
    sub["optimized"]["metrics"]["accuracy"] = 0.5
    assert fast.metrics["accuracy"] == 0.955, "changing the submission changed the report"
    sub["system_info"]["platform"] = "changed"
    assert base.system_info["platform"] != "changed", "system_info must be copied"
    techniques = ["pruning"]
    sub2 = generate_submission(base, fast, techniques_applied=techniques)
    techniques.append("later")
    assert sub2["optimized"]["techniques_applied"] == ["pruning"], "techniques_applied must be copied"
    ### END HIDDEN TESTS


test_submission_copies()

# %% [markdown]
# ## 6. Validating a submission
#
# A validator is the gatekeeper of a leaderboard: it must reject anything a machine could
# misread, and say exactly where the problem is. Ours works in two layers.
#
# 1. **The schema** (`schema_errors`, given by `tinytorch.submission.schema`): types, required
#    fields, ranges. It catches a string where a number belongs, a missing metric, an accuracy
#    of 96 (meant as percent).
# 2. **Cross-field checks** (yours): rules that relate one field to another, which a schema
#    cannot express comfortably:
#    - `optimized` is present exactly when `improvements` is;
#    - every number is finite (JSON Schema lets `NaN` and `Infinity` through);
#    - the improvements agree with the two metric sets (speedup, compression ratio, accuracy delta);
#    - in each model, `latency_ms_p50 ≤ latency_ms_p90 ≤ latency_ms_p99`.
#
# Each problem is one message that starts with the path of the field, such as
# `baseline.metrics.accuracy: ...`. The validator must not use `assert`: Python skips asserts
# when run with `-O`, and a validator that can be switched off is no validator.

# %% nbgrader={"grade": false, "grade_id": "schema-helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
from tinytorch.submission.errors import SubmissionFileError, SubmissionValidationError
from tinytorch.submission.paths import json_path, lookup
from tinytorch.submission.schema import load_schema, schema_errors
from tinytorch.submission.values import is_number, non_finite_paths, relatively_close

# %% [markdown]
# **Your task.** Write `submission_errors` (all problems as a list of strings; an empty list means
# valid) and `validate_submission_schema` (returns `True`, or raises `SubmissionValidationError`
# with every problem). Start from `schema_errors(submission)`, then add the cross-field checks.
# Use `lookup` to reach nested values safely: a broken submission can have a list where a dict
# should be, and the validator must report that, not crash.

# %% nbgrader={"grade": false, "grade_id": "validator", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def submission_errors(submission: Any) -> list:
    """Every problem of `submission` as 'path: message' strings; empty when it is valid."""
    ### BEGIN SOLUTION
    errors = schema_errors(submission)
    if not isinstance(submission, dict):
        return errors
    errors += [f"{path}: must be a finite number (not NaN, infinity or beyond float range)"
               for path in non_finite_paths(submission)]
    has_optimized, has_improvements = "optimized" in submission, "improvements" in submission
    if has_improvements and not has_optimized:
        errors.append("improvements: present without an optimized model")
    if has_optimized and not has_improvements:
        errors.append("improvements: missing, but an optimized model is present")
    for model in ("baseline", "optimized"):
        p50, p90, p99 = (lookup(submission, model, "metrics", f"latency_ms_{q}") for q in ("p50", "p90", "p99"))
        for low, high, q_low, q_high in ((p50, p90, "p50", "p90"), (p90, p99, "p90", "p99")):
            if is_number(low) and is_number(high) and low > high:
                errors.append(f"{model}.metrics.latency_ms_{q_high}: {high} is below "
                              f"{model}.metrics.latency_ms_{q_low} = {low} (percentiles must not decrease)")
    if has_optimized and has_improvements:
        def metric(model: str, key: str) -> Any:
            return lookup(submission, model, "metrics", key)

        checks = (
            ("speedup", metric("baseline", "latency_ms_mean"), metric("optimized", "latency_ms_mean"),
             "baseline.metrics.latency_ms_mean / optimized.metrics.latency_ms_mean"),
            ("compression_ratio", metric("baseline", "model_size_mb"), metric("optimized", "model_size_mb"),
             "baseline.metrics.model_size_mb / optimized.metrics.model_size_mb"),
        )
        for key, num, den, meaning in checks:
            stated = lookup(submission, "improvements", key)
            if is_number(num) and is_number(den) and den > 0 and is_number(stated) \
                    and not relatively_close(stated, num / den):
                errors.append(f"improvements.{key}: {stated} does not match {meaning} = {num / den:.6g}")
        b_acc, o_acc = metric("baseline", "accuracy"), metric("optimized", "accuracy")
        delta = lookup(submission, "improvements", "accuracy_delta")
        if is_number(b_acc) and is_number(o_acc) and is_number(delta) and abs(delta - (o_acc - b_acc)) > 1e-6:
            errors.append(f"improvements.accuracy_delta: {delta} does not match optimized.metrics.accuracy − "
                          f"baseline.metrics.accuracy = {o_acc - b_acc:.6g}")
    return errors
    ### END SOLUTION


def validate_submission_schema(submission: Any) -> bool:
    """True when `submission` is valid; otherwise raise SubmissionValidationError listing every problem."""
    ### BEGIN SOLUTION
    errors = submission_errors(submission)
    if errors:
        raise SubmissionValidationError(errors)
    return True
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "validator-fixtures", "locked": true, "schema_version": 3, "solution": false, "task": false}
def valid_submission() -> dict:
    """A fresh valid submission, written out by hand so the validator is tested on its own."""
    base, opt = made_report("baseline", 2.0, 0.01, 0.96), made_report("int8", 1.0, 0.0025, 0.955, seed=1)
    b, o = base.metrics, opt.metrics

    def entry(report: BenchmarkReport) -> dict:
        return {"model_name": report.model_name, "metrics": dict(report.metrics),
                "latency_samples_ms": list(report.latency_samples_ms), "measurement": dict(report.measurement)}

    return {
        "schema_version": SUBMISSION_SCHEMA_VERSION, "submission_type": "capstone_benchmark",
        "tinytorch_version": tinytorch.__version__, "timestamp": utc_timestamp(),
        "system_info": collect_system_info(), "baseline": entry(base),
        "optimized": {**entry(opt), "techniques_applied": ["int8_quantization"]},
        "improvements": {"speedup": b["latency_ms_mean"] / o["latency_ms_mean"],
                         "compression_ratio": b["model_size_mb"] / o["model_size_mb"],
                         "accuracy_delta": o["accuracy"] - b["accuracy"], "speedup_significant": True,
                         "significance_test": "mann-whitney-u", "p_value": 1e-6},
    }


def rejects(submission: Any, field: str) -> bool:
    """True when the validator refuses `submission` with a message naming `field`."""
    try:
        validate_submission_schema(submission)
    except SubmissionValidationError as error:
        return field in str(error)
    return False


# %% nbgrader={"grade": true, "grade_id": "test-validator", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_validator_basics():
    """A valid submission passes; a broken one is refused with the field named."""
    assert validate_submission_schema(valid_submission()) is True, "a valid submission must return True"
    assert submission_errors(valid_submission()) == [], "a valid submission has no errors"
    broken = valid_submission()
    broken["optimized"]["metrics"]["latency_ms_mean"] = float("nan")
    assert rejects(broken, "optimized.metrics.latency_ms_mean"), "NaN latency must be refused, naming the field"
    broken = valid_submission()
    broken["improvements"]["speedup"] = 1 / broken["improvements"]["speedup"]
    assert rejects(broken, "improvements.speedup"), "a speedup that does not match the metrics must be refused"
    print("✓ the validator accepts valid and refuses broken submissions")


test_validator_basics()

# %% nbgrader={"grade": true, "grade_id": "test-validator-values", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def test_validator_values():
    """Out-of-range values and strings for numbers are refused."""
    broken = valid_submission()
    broken["baseline"]["metrics"]["accuracy"] = 96.0
    assert rejects(broken, "baseline.metrics.accuracy"), "accuracy 96.0 (a percentage) must be refused"
    print("✓ out-of-range accuracy is refused")
    ### BEGIN HIDDEN TESTS
    broken = valid_submission()
    del broken["baseline"]["metrics"]["accuracy"]
    assert rejects(broken, "accuracy"), "a submission without baseline accuracy must be refused"
    broken = valid_submission()
    broken["baseline"]["metrics"]["latency_ms_mean"] = "fast"
    assert rejects(broken, "baseline.metrics.latency_ms_mean"), "a string latency must be refused"
    broken = valid_submission()
    broken["baseline"]["metrics"]["parameter_count"] = True
    assert rejects(broken, "baseline.metrics.parameter_count"), "a bool is not a count"
    broken = valid_submission()
    broken["optimized"]["metrics"]["latency_ms_p50"] = -1.0
    assert rejects(broken, "optimized.metrics.latency_ms_p50"), "negative latency must be refused"
    assert rejects([valid_submission()], "submission"), "a list is not a submission"
    ### END HIDDEN TESTS


test_validator_values()

# %% nbgrader={"grade": true, "grade_id": "test-validator-structure", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def test_validator_structure():
    """improvements appear exactly when an optimized model does."""
    broken = valid_submission()
    del broken["improvements"]
    assert rejects(broken, "improvements"), "an optimized model without improvements must be refused"
    print("✓ optimized and improvements go together")
    ### BEGIN HIDDEN TESTS
    broken = valid_submission()
    del broken["optimized"]
    assert rejects(broken, "improvements"), "improvements without an optimized model must be refused"
    ### END HIDDEN TESTS


test_validator_structure()

# %% [markdown]
# ## 7. Saving and loading
#
# Saving validates first, so an invalid submission never reaches the disk, and writes
# atomically: the JSON goes to a temporary file in the same folder, which then replaces the
# target in one step (`os.replace`). A crash half-way leaves the old file as it was.
# Loading refuses files over a size cap before reading them, and upgrades files written with an
# older schema version. The file handling is given (`tinytorch.submission.files`); the two
# functions below put it together with your validator.

# %% nbgrader={"grade": false, "grade_id": "save-load", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
from tinytorch.submission.files import read_submission_file, upgrade_submission, write_json_atomically


def save_submission(submission: dict, filepath: str | os.PathLike = "submission.json") -> str:
    """Validate `submission` and write it atomically as JSON; return the path written."""
    errors = submission_errors(submission)
    if errors:
        raise SubmissionValidationError(errors, source=str(filepath))
    return write_json_atomically(submission, filepath)


def load_submission(filepath: str | os.PathLike) -> dict:
    """Read, upgrade and validate a submission file.

    Raises:
        SubmissionFileError: the file is missing, over MAX_SUBMISSION_BYTES, or not JSON.
        SubmissionValidationError: the JSON is not a valid submission (every problem listed).
    """
    submission = upgrade_submission(read_submission_file(filepath))
    errors = submission_errors(submission)
    if errors:
        raise SubmissionValidationError(errors, source=str(filepath))
    return submission


# %% nbgrader={"grade": false, "grade_id": "save-load-demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["raises-exception"]
# Not graded (saving and loading are given), but it shows your validator at work.
import tempfile
from pathlib import Path


def test_save_load_roundtrip():
    """save_submission then load_submission gives back the same submission."""
    folder = Path(tempfile.mkdtemp())
    path = save_submission(valid_submission(), folder / "submission.json")
    loaded = load_submission(path)
    assert loaded["baseline"]["metrics"] == valid_submission()["baseline"]["metrics"], "round trip changed the metrics"
    broken = valid_submission()
    broken["improvements"]["compression_ratio"] = 40.0
    try:
        save_submission(broken, folder / "submission.json")
    except SubmissionValidationError:
        pass
    else:
        raise AssertionError("save_submission must refuse an invalid submission")
    assert load_submission(path)["improvements"]["compression_ratio"] == 4.0, "a refused save must not touch the file"
    print("✓ save and load round-trip; invalid submissions are never written")


test_save_load_roundtrip()

# %% [markdown]
# ## 8. Your submission
#
# The reports measured in section 4 become your submission, saved next to this notebook.
# (The course's `tinytorch olympics run` command does the same from training to file, with the
# functions you wrote.)

# %%
# Your submission, from the reports measured in section 4, written next to this notebook.
from tinytorch.submission.tables import format_comparison

if SHOWCASE:
    try:
        my_submission = generate_submission(measured["baseline"], measured["int8"], student_name=None,
                                            techniques_applied=variants["int8"][1])
        print(format_comparison(my_submission))
        print("written to", save_submission(my_submission, "submission.json"))
    except (NameError, KeyError, NotImplementedError):
        print("Implement the parts above (and run section 4) to produce your submission.")

# %% [markdown]
# ## 9. All the checks, once more
#
# The last cell runs every test function defined in this notebook, so one run tells you where
# you stand.

# %% nbgrader={"grade": false, "grade_id": "run-all-tests", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["raises-exception"]
def run_all_tests() -> None:
    """Run every test_* function defined above and summarise."""
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    failed = []
    for name, fn in tests:
        try:
            fn()
        except Exception as error:  # report every failure, not just the first
            failed.append(f"{name}: {type(error).__name__}: {error}")
    print(f"\n{len(tests) - len(failed)} of {len(tests)} tests passed")
    if failed:
        raise AssertionError("failed tests:\n" + "\n".join(failed))


if SHOWCASE:
    run_all_tests()

# %% [markdown]
# ## Where to go from here
#
# You measured a model the way results are measured when they matter: warm-up, raw samples,
# percentiles, bytes actually stored, and a significance test before claiming a speedup. The
# `tinytorch olympics` command line takes it further: `compare` gates a change on a
# statistically significant regression, `leaderboard` ranks a folder of submissions and marks
# the Pareto front, `plot` draws the latency distributions, and `log-mlflow` sends a submission
# to an MLflow tracking store.
