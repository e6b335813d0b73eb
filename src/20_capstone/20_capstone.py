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
# **The traps.** Each costs points in this notebook, and each part below is built to avoid one:
#
# - *timing the wrong thing*: building inputs, printing or recording an autograd graph inside
#   the timed region;
# - *noise*: a single run, or a statistic that one stalled run can move (keep every sample);
# - *cold starts*: no warm-up, or a warm-up of your own choosing instead of the one asked for;
# - *batch-size confusion*: a batch's time reported as latency, a batch's time divided by its
#   size, or a "batch throughput" computed from single-sample latency without timing a batch;
# - *size by formula*: `4 × parameters` instead of the bytes a model actually stores;
# - *shared state*: a submission that shares a dict or a list with the reports it came from;
# - *a validator that trusts*: a missing cross-check, or a check written with `assert`.
#
# **The trade-off.** Optimizations buy speed or size with accuracy. Quantization stores each
# weight in one byte instead of four; pruning removes weights. Whether the trade is worth it is a
# question only complete, comparable measurements can answer.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
"""The capstone: the model, its measurement, and its submission, as the students write them.

`BenchmarkReport` holds what `measure_model` measures; `generate_submission` turns two reports
into a submission;
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
from tinytorch.core.tensor import Tensor, no_grad
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


# %% [markdown]
# **How the tests call your code.** Each test is an *act*, then a *judge*. The act is a given
# function (marked `@act`) that calls your code on the test's inputs and returns plain data:
# numbers, strings, lists, dicts and numpy arrays. The judge is the test itself: its checks on
# that data. Here both run in your kernel, one after the other; when the notebook is graded, the
# tests run in a kernel of their own, the acts in yours, and only that data goes between them.

# %% nbgrader={"grade": false, "grade_id": "simple-mlp-act", "locked": true, "schema_version": 3, "solution": false, "task": false}
from tinytorch.acts import act


@act
def simple_mlp_outputs(x: np.ndarray) -> dict:
    """What `SimpleMLP(64, 32, 10, seed=0)` gives on the inputs `x`: the type, shape and values of
    its forward's result, its layers' weights and biases, and its parameter count."""
    model = SimpleMLP(64, 32, 10, seed=0)
    out = model.forward(Tensor(x))
    tensor = isinstance(out, Tensor)
    return {
        "type": type(out).__name__,
        "shape": list(out.shape) if tensor else None,
        "scores": out.data if tensor else None,
        "weights": [model.fc1.weight.data, model.fc2.weight.data],
        "biases": [model.fc1.bias.data, model.fc2.bias.data],
        "parameter_count": model.count_parameters(),
    }


# %% nbgrader={"grade": true, "grade_id": "test-simple-mlp", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def test_simple_mlp_forward():
    """SimpleMLP maps a batch of 64-feature inputs to 10 scores per sample."""
    x = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    got = simple_mlp_outputs(x)
    assert got["type"] == "Tensor", f"forward should return a Tensor, got {got['type']}"
    assert got["shape"] == [5, 10], f"forward on a (5, 64) batch should give shape (5, 10), got {tuple(got['shape'])}"
    (w1, w2), (b1, b2) = got["weights"], got["biases"]
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    assert np.allclose(got["scores"], expected, atol=1e-5), (
        "forward should compute fc2(relu(fc1(x))); the scores differ from that")
    assert got["parameter_count"] == 64 * 32 + 32 + 32 * 10 + 10, "parameter count is wrong"
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


# %% nbgrader={"grade": false, "grade_id": "digits", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The demonstration cells (not the tests) run when you run the notebook, not while it is graded.
SHOWCASE = __name__ == "__main__" and not os.environ.get("NBGRADER_EXECUTION")

X_train, y_train, X_test, y_test = load_digits()

# %%
baseline_model = None
if SHOWCASE:  # only the demonstrations below use the baseline, so grading does not train it
    try:
        baseline_model = train_baseline(X_train, y_train)
        print(f"train {X_train.shape}, test {X_test.shape}; "
              f"baseline test accuracy {_accuracy(baseline_model, X_test, y_test):.1%}")
    except NotImplementedError:  # an unfinished notebook still runs to the end (Run All)
        print("Write SimpleMLP.forward above, then run this cell again: it trains your baseline.")
else:
    print("Graded run: the baseline is trained when you run the notebook yourself.")

# %% [markdown]
# ## 3. Measuring a model: `BenchmarkReport`
#
# A `BenchmarkReport` holds everything one measurement found: the metrics, the raw latency
# samples behind them, the settings used and a description of the machine. The class is given
# (next cell): `benchmark_model` checks its arguments, calls **your** `measure_model` and stores
# what it returns.
#
# The measuring itself is done by the framework's measurement engine,
# `tinytorch.perf.benchmarking`:
#
# - `time_callable(fn, num_runs=..., warmup_runs=..., name=..., progress=...)` calls `fn()`
#   `warmup_runs` times and throws those timings away, then times `num_runs` calls with
#   `perf_counter_ns`. It returns a `BenchmarkResult` with the raw `samples_ms` (milliseconds)
#   and derived `mean`, `std`, `median`, `p50`, `p90`, `p99`.
# - `peak_memory_bytes(fn)` runs `fn()` once under `tracemalloc` and returns the peak.
# - `model_size_bytes(model)` adds up the bytes of every array the model stores, so an INT8 or a
#   sparse model is measured as what it is, never as `parameters × 4`.
# - `no_grad()` (from `tinytorch.core.tensor`): inside `with no_grad():` no autograd graph is
#   recorded, as in deployed inference.

# %% nbgrader={"grade": false, "grade_id": "benchmark-report-class", "locked": true, "schema_version": 3, "solution": false, "task": false}
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
            warmup_runs: untimed runs made first and discarded (≥ 0).
            batch_size: batch size for the throughput measurement (≥ 1).
            progress: show a progress bar when a measurement takes more than about two seconds.

        Returns:
            `self.metrics`, a dict of native Python numbers keyed by `METRIC_KEYS`.
        """
        X, y = as_test_set(model, X_test, y_test)
        result = measure_model(model, X, y, num_runs=check_count(num_runs, "num_runs", 1),
                               warmup_runs=check_count(warmup_runs, "warmup_runs", 0),
                               batch_size=check_count(batch_size, "batch_size", 1),
                               progress=progress, name=self.model_name)
        if not (isinstance(result, tuple) and len(result) == 3):
            raise TypeError("measure_model must return a tuple (metrics, latency_samples_ms, measurement), "
                            f"got {type(result).__name__}")
        self.metrics, self.latency_samples_ms, self.measurement = result
        self.timestamp = utc_timestamp()
        return self.metrics

    def __repr__(self) -> str:
        state = "not benchmarked" if not self.metrics else f"p50 {self.metrics['latency_ms_p50']:.4f} ms"
        return f"BenchmarkReport({self.model_name!r}, {state})"


# %% [markdown]
# **Your task.** Write `measure_model`. It gets a checked test set (`X` a float array of shape
# (samples, features), `y` an int array) and checked settings, and returns a tuple
# `(metrics, latency_samples_ms, measurement)`:
#
# 1. Build the two inputs **before** any timing: `one = Tensor(X[:1])` and
#    `batch = Tensor(X[:batch_size])`. When the test set has fewer rows than `batch_size`, the
#    batch is the whole test set; `rows = batch.shape[0]` is the batch size actually used.
# 2. Inside **one** `with no_grad():` block:
#    - single-sample latency: `time_callable(lambda: model.forward(one), num_runs=num_runs,
#      warmup_runs=warmup_runs, name=name, progress=progress)`;
#    - batch latency: the same with `model.forward(batch)` (same `num_runs` and `warmup_runs`);
#    - peak memory: `peak_memory_bytes(lambda: model.forward(batch))`, one call.
#
#    The timed function calls `model.forward` and nothing else: no `Tensor(...)`, no slicing,
#    no printing inside it. So the model's forward is called exactly `warmup_runs + num_runs`
#    times on `one`, and `warmup_runs + num_runs + 1` times on `batch`; the accuracy (step 3)
#    then calls it once more, on the whole test set (which is `batch` when the test set has no
#    more than `batch_size` rows).
# 3. `metrics`: a dict with exactly the keys of `METRIC_KEYS`, each a plain Python `int` or
#    `float` (`int(...)`, `float(...)`, never a numpy scalar, so that `json.dumps` works):
#
# | key | value |
# |---|---|
# | `parameter_count` | `int(count_parameters(model))` |
# | `model_size_mb` | `model_size_bytes(model) / MIB`: the bytes actually stored, never `4 × parameter_count` |
# | `accuracy` | `_accuracy(model, X, y)`: the fraction right over the whole test set, in [0, 1], not a percentage |
# | `latency_ms_mean`, `_std`, `_p50`, `_p90`, `_p99` | `mean`, `std`, `p50`, `p90`, `p99` of the single-sample timing |
# | `throughput_samples_per_sec` | `1000 / latency_ms_mean` |
# | `batch_throughput_samples_per_sec` | `rows × 1000 / median` of the batch timing (the median, not the mean: one stalled batch must not move it) |
# | `peak_memory_mb` | the peak memory bytes `/ MIB` |
#
# 4. `latency_samples_ms`: the single-sample timing's `samples_ms` as a list of `num_runs` floats.
# 5. `measurement`: `{"num_runs": num_runs, "warmup_runs": warmup_runs, "batch_size": rows}`.
#
# **Worked example.** A model whose forward costs 0.5 ms plus 0.1 ms per sample, with
# `batch_size=32`: single-sample latency 0.5 + 0.1 = 0.6 ms, throughput 1000 / 0.6 ≈ 1,667
# samples/s; a batch takes 0.5 + 3.2 = 3.7 ms, so batch throughput is 32 × 1000 / 3.7 ≈ 8,649
# samples/s. Not 3.7 ms of latency (a batch is not one request), not 3.7 / 32 ≈ 0.12 ms (an
# amortized cost, nobody's latency), and not 32 × 1000 / 0.6 ≈ 53,333 samples/s (a batch that was
# never timed). With a test set of 20 rows, the batch is those 20: 20 × 1000 / 2.5 = 8,000
# samples/s, and `measurement["batch_size"]` is 20.

# %% nbgrader={"grade": false, "grade_id": "benchmark-report", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def measure_model(model: Any, X: np.ndarray, y: np.ndarray, *, num_runs: int, warmup_runs: int,
                  batch_size: int, progress: bool = False, name: str = "model") -> tuple:
    """Measure `model` on a test set: `(metrics, latency_samples_ms, measurement)`.

    Args:
        model: anything with `.forward(x)` and `.parameters()`.
        X: inputs, a float array of shape (samples, features).
        y: integer class labels, one per row of `X`.
        num_runs: timed calls for each timing (≥ 1).
        warmup_runs: untimed calls made first, for each timing (≥ 0).
        batch_size: rows of the batch (the whole test set when it has fewer).
        progress: passed on to `time_callable`.
        name: the model's name, passed on to `time_callable`.

    Returns:
        metrics (native numbers keyed by `METRIC_KEYS`), the raw single-sample latencies in ms,
        and the settings used (`num_runs`, `warmup_runs`, `batch_size` = rows actually batched).
    """
    # TODO: build the inputs, time them under no_grad(), then fill the three results (see above).
    ### BEGIN SOLUTION
    one, batch = Tensor(X[:1]), Tensor(X[:batch_size])
    rows = batch.shape[0]
    with no_grad():
        latency = time_callable(lambda: model.forward(one), num_runs=num_runs,
                                warmup_runs=warmup_runs, name=name, progress=progress)
        batch_timing = time_callable(lambda: model.forward(batch), num_runs=num_runs,
                                     warmup_runs=warmup_runs, name=f"{name} (batch)", progress=progress)
        peak = peak_memory_bytes(lambda: model.forward(batch))
    metrics = {
        "parameter_count": int(count_parameters(model)),
        "model_size_mb": float(model_size_bytes(model) / MIB),
        "accuracy": float(_accuracy(model, X, y)),
        "latency_ms_mean": float(latency.mean),
        "latency_ms_std": float(latency.std),
        "latency_ms_p50": float(latency.p50),
        "latency_ms_p90": float(latency.p90),
        "latency_ms_p99": float(latency.p99),
        "throughput_samples_per_sec": float(1000.0 / latency.mean),
        "batch_throughput_samples_per_sec": float(rows * 1000.0 / batch_timing.median),
        "peak_memory_mb": float(peak / MIB),
    }
    samples = [float(s) for s in latency.samples_ms]
    return metrics, samples, {"num_runs": int(num_runs), "warmup_runs": int(warmup_runs), "batch_size": int(rows)}
    ### END SOLUTION


# %% [markdown]
# ### Models of known cost
#
# To test a measuring instrument, point it at something whose answer you already know.
# `KnownCostModel.forward` spends `fixed_ms + per_sample_ms × rows` by spinning on the clock
# (sleeping would hand the CPU away and wake up late), so single-sample latency, batch latency
# and batch throughput each have one right answer. A spin never finishes early, but a busy
# machine can stretch it; so the model also keeps its own stopwatch, the time each call really
# took, and the tests compare your measurement with that, not with a fixed number. It remembers
# more about every call: how many rows, whether autograd was on, and which input object it got.
# With `slow_calls`, its first calls on each input shape take `slow_ms`, like a real model
# whose first calls fill caches; with `stall_every`, every so many batch calls stall for
# `stall_ms`, like a garbage-collection pause.
#
# The tests below also use `reference_model`, an MLP put together directly from the framework's
# layers: they check your `measure_model` whether or not your `SimpleMLP` works yet.

# %% nbgrader={"grade": false, "grade_id": "known-cost-models", "locked": true, "schema_version": 3, "solution": false, "task": false}
import contextlib
import dis
import io
import time

from tinytorch.core.layers import Sequential

try:  # the framework's optional optimizations: without them the size test uses Int8Weights
    from tinytorch.perf.compression import magnitude_prune, to_sparse
    from tinytorch.perf.quantization import quantize_model
except ImportError:
    magnitude_prune = to_sparse = quantize_model = None


class Int8Weights:
    """A one-layer model that stores its weight as int8: 1 byte per parameter, not 4."""

    def __init__(self, n_features: int = 64, n_classes: int = 10) -> None:
        self.weight = Tensor(np.ones((n_features, n_classes), dtype=np.int8))

    def forward(self, x: Tensor) -> Tensor:
        return Tensor(np.asarray(x.data, dtype=np.float32) @ self.weight.data.astype(np.float32))

    def parameters(self) -> list:
        return [self.weight]


def spin(ms: float) -> None:
    """Keep the CPU busy for `ms` milliseconds."""
    end = time.perf_counter_ns() + int(ms * 1e6)
    while time.perf_counter_ns() < end:
        pass


def autograd_on() -> bool:
    """True when an operation would record an autograd graph right now."""
    return (Tensor(np.zeros(1, dtype=np.float32), requires_grad=True) * 1.0).requires_grad


class CallLog:
    """What a `KnownCostModel` knows about its calls: its costs, and for every call in order
    (rows, autograd on?, ms it took, a slow first call?) and when it started and ended. The tests
    judge a measurement with it."""

    def __init__(self, fixed_ms: float, per_sample_ms: float, slow_ms: float, calls: list,
                 spans: Optional[list] = None, distinct_inputs: Optional[dict] = None) -> None:
        self.fixed_ms, self.per_sample_ms, self.slow_ms = fixed_ms, per_sample_ms, slow_ms
        self.calls = calls
        self.spans = [] if spans is None else spans  # (start, end) of each call by time.perf_counter_ns
        self.distinct_inputs = distinct_inputs or {}  # rows (as text) -> distinct input objects

    def cost_ms(self, rows: int) -> float:
        """What a forward on `rows` samples costs when nothing slows it down."""
        return self.fixed_ms + self.per_sample_ms * rows

    def calls_with(self, rows: int) -> int:
        """How many calls so far had `rows` samples."""
        return sum(1 for r, _, _, _ in self.calls if r == rows)

    def envelope_ms(self, i: int) -> float:
        """From the end of the call before call `i` to the start of the call after it: the most a
        stopwatch around call `i` alone can read (unbounded for the first and last call)."""
        if i == 0 or i + 1 >= len(self.spans):
            return float("inf")
        return (self.spans[i + 1][0] - self.spans[i - 1][1]) / 1e6

    def median_range(self, rows: int, runs: int) -> tuple:
        """The lowest median of `runs` consecutive calls on `rows` samples by the model's own
        stopwatch, and the highest median of their envelopes. A stopwatch around each call reads
        at least the call and at most its envelope, however busy the machine, so a timing of
        `runs` such calls has a median in between."""
        picked = [i for i, call in enumerate(self.calls) if call[0] == rows]
        assert len(picked) >= runs, f"model.forward ran {len(picked)} times on {rows} sample(s), fewer than {runs}"
        inner = [self.calls[i][2] for i in picked]
        outer = [self.envelope_ms(i) for i in picked]
        windows = range(len(picked) - runs + 1)
        return (min(float(np.median(inner[k:k + runs])) for k in windows),
                max(float(np.median(outer[k:k + runs])) for k in windows))

    def median_within(self, median_ms: float, rows: int, runs: int) -> bool:
        """`median_ms` is the median of `runs` consecutive calls on `rows` samples: it lies
        between the bounds of median_range, with a margin for the clock's own cost."""
        low, high = self.median_range(rows, runs)
        return 0.95 * low <= median_ms <= 1.05 * high + 0.05


class KnownCostModel(CallLog):
    """A model whose forward takes `fixed_ms + per_sample_ms × rows` and records every call."""

    def __init__(self, fixed_ms: float = 0.5, per_sample_ms: float = 0.1, n_classes: int = 10, *,
                 slow_calls: int = 0, slow_ms: float = 15.0, stall_every: int = 0, stall_ms: float = 0.0) -> None:
        super().__init__(fixed_ms, per_sample_ms, slow_ms, [], [])
        self.slow_calls, self.stall_every, self.stall_ms = slow_calls, stall_every, stall_ms
        self.weight = Tensor(np.zeros((64, n_classes), dtype=np.float32))
        self.inputs: dict = {}  # rows -> every input of that many rows, kept so that ids stay distinct

    def log(self) -> dict:
        """The model's `CallLog` as plain data (what an act returns)."""
        distinct = {str(rows): len({id(x) for x in inputs}) for rows, inputs in self.inputs.items()}
        return {"fixed_ms": self.fixed_ms, "per_sample_ms": self.per_sample_ms, "slow_ms": self.slow_ms,
                "calls": [list(call) for call in self.calls], "spans": [list(span) for span in self.spans],
                "distinct_inputs": distinct}

    def forward(self, x: Tensor) -> Tensor:
        """Spin for the cost of `x`'s rows, log the call, and return zero scores."""
        start = time.perf_counter_ns()
        rows = x.shape[0]
        seen = self.inputs.setdefault(rows, [])
        seen.append(x)
        # each input shape is slow on its first calls, as caches fill for it
        slow = len(seen) <= self.slow_calls
        ms = self.slow_ms if slow else self.cost_ms(rows)
        if self.stall_every and rows > 1 and len(seen) % self.stall_every == 0:
            ms += self.stall_ms
        grad = autograd_on()
        spin(ms)
        end = time.perf_counter_ns()
        self.calls.append((rows, grad, (end - start) / 1e6, slow))
        self.spans.append((start, end))
        return Tensor(np.zeros((rows, self.weight.shape[1]), dtype=np.float32))

    def parameters(self) -> list:
        """The one (unused) weight, so the model has a size."""
        return [self.weight]


# A trained MLP built from the framework's layers, not from your SimpleMLP, so that the tests
# of measure_model test measure_model alone.
reference_model = Sequential(Linear(64, 32, seed=0), ReLU(), Linear(32, 10, seed=1))
train(reference_model, X_train, y_train, epochs=5, batch_size=32, lr=0.01, seed=0)


def digits_subset(n: int = 200):
    """A small slice of the digits test set, for fast tests."""
    return X_test[:n], y_test[:n]


def accuracy_rows(n: int = 200) -> list:
    """Indices of the first `n` test digits, those `reference_model` classifies right first: the
    accuracy over any first rows of them (one batch, a hundred) is higher than over all `n`."""
    right = np.argmax(reference_model.forward(Tensor(X_test[:n])).data, axis=1) == y_test[:n]
    return [int(i) for i in np.flatnonzero(right)] + [int(i) for i in np.flatnonzero(~right)]


# The models the measuring tests ask your measure_model to measure, by name.
FIXTURE_MODELS = {
    "reference_model": lambda: reference_model,
    "int8_reference": lambda: quantize_model(reference_model) if quantize_model is not None else Int8Weights(),
    "Int8Weights": Int8Weights,
    "sparse_reference": lambda: to_sparse(magnitude_prune(reference_model, 0.8)),
}


def benchmarked(model: Any, X: np.ndarray, y: np.ndarray, **settings: Any) -> BenchmarkReport:
    """A report of `model` measured on `X`, `y`, without a progress bar."""
    report = BenchmarkReport(type(model).__name__)
    report.benchmark_model(model, X, y, progress=False, **settings)
    return report


def report_data(report: BenchmarkReport) -> dict:
    """What a measured report holds, as plain data: its three results and their types, and
    whether its metrics can be written as JSON."""
    metrics, samples = report.metrics, report.latency_samples_ms
    try:
        json.dumps(metrics)
        json_error = None
    except (TypeError, ValueError) as error:
        json_error = f"{type(error).__name__}: {error}"
    return {
        "metrics": metrics,
        "metric_types": {k: type(v).__name__ for k, v in metrics.items()} if isinstance(metrics, dict) else {},
        "samples": samples,
        "samples_type": type(samples).__name__,
        "sample_types": [type(s).__name__ for s in samples] if isinstance(samples, (list, tuple)) else [],
        "measurement": report.measurement,
        "json_error": json_error,
    }


@act
def measure(model: str, n: int = 64, rows: Optional[list] = None, cost: Optional[dict] = None,
            capture_output: bool = False, **settings: Any) -> dict:
    """Measure a fixture model with `BenchmarkReport.benchmark_model` (which calls your
    `measure_model`) on the first `n` test digits, or on the test digits `rows`.

    `model` names one of `FIXTURE_MODELS`, or is "KnownCostModel" (built with the arguments in
    `cost`), whose `CallLog` then comes back as "log". With `capture_output`, what measuring
    printed comes back as "printed" instead of being shown."""
    fixture = KnownCostModel(**(cost or {})) if model == "KnownCostModel" else FIXTURE_MODELS[model]()
    X, y = (X_test[rows], y_test[rows]) if rows is not None else digits_subset(n)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed) if capture_output else contextlib.nullcontext():
        result = report_data(benchmarked(fixture, X, y, **settings))
    result["printed"] = printed.getvalue()
    if isinstance(fixture, KnownCostModel):
        result["log"] = fixture.log()
    return result


def known_cost_run(n: int = 64, cost: Optional[dict] = None, **settings: Any) -> tuple:
    """A `KnownCostModel` measured (see `measure`): the measurement's data and the model's `CallLog`."""
    run = measure("KnownCostModel", n, cost=cost, **settings)
    return run, CallLog(**run["log"])


# %% nbgrader={"grade": true, "grade_id": "test-report-metrics", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def test_report_metrics():
    """measure_model returns every metric, the raw samples and the settings."""
    run = measure("reference_model", 200, num_runs=30, warmup_runs=5, batch_size=32)
    metrics, samples = run["metrics"], run["samples"]
    missing = [k for k in METRIC_KEYS if k not in metrics]
    assert not missing, f"metrics is missing these keys: {missing}"
    extra = [k for k in metrics if k not in METRIC_KEYS]
    assert not extra, f"metrics has keys that are not in METRIC_KEYS: {extra}"
    assert metrics["parameter_count"] == 64 * 32 + 32 + 32 * 10 + 10, (
        f"parameter_count should be count_parameters(model) = 2410, got {metrics['parameter_count']}")
    for key in METRIC_KEYS[3:]:
        assert metrics[key] >= 0, f"{key} should not be negative, got {metrics[key]}"
    assert metrics["latency_ms_p50"] <= metrics["latency_ms_p90"] <= metrics["latency_ms_p99"], (
        "percentiles must satisfy p50 ≤ p90 ≤ p99")
    assert run["samples_type"] == "list" and len(samples) == 30, (
        "latency_samples_ms should be a list of the 30 timed samples (warm-up excluded), "
        f"got {run['samples_type']} of length {len(samples)}")
    assert run["measurement"] == {"num_runs": 30, "warmup_runs": 5, "batch_size": 32}, (
        f"measurement should be {{'num_runs': 30, 'warmup_runs': 5, 'batch_size': 32}}, got {run['measurement']}")
    print("✓ measure_model returns every metric, the samples and the settings")
    ### BEGIN HIDDEN TESTS
    assert all(t == "float" for t in run["sample_types"]), "latency_samples_ms must hold floats"
    ### END HIDDEN TESTS


test_report_metrics()

# %% nbgrader={"grade": true, "grade_id": "test-report-native-types", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def test_report_native_types():
    """Every metric is a plain Python int or float, so json.dumps works."""
    run = measure("reference_model", num_runs=10, warmup_runs=2)
    wrong = {k: t for k, t in run["metric_types"].items() if t not in ("int", "float")}
    assert not wrong, f"these metrics are not plain int/float (use float(...) or int(...)): {wrong}"
    print("✓ metrics are native Python numbers")
    ### BEGIN HIDDEN TESTS
    assert run["metric_types"]["parameter_count"] == "int", "parameter_count must be an int"
    assert run["json_error"] is None, f"json.dumps(metrics) fails: {run['json_error']}"
    ### END HIDDEN TESTS


test_report_native_types()

# %% nbgrader={"grade": true, "grade_id": "test-report-accuracy", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def right_fraction(rows: list) -> float:
    """The fraction of the test digits `rows` that `reference_model` classifies right."""
    scores = reference_model.forward(Tensor(X_test[rows])).data
    return float(np.mean(np.argmax(scores, axis=1) == y_test[rows]))


def test_report_accuracy():
    """accuracy is a fraction in [0, 1] over the whole test set."""
    rows = accuracy_rows()
    metrics = measure("reference_model", rows=rows, num_runs=5, warmup_runs=1)["metrics"]
    assert 0.0 <= metrics["accuracy"] <= 1.0, (
        f"accuracy must be a fraction between 0 and 1 (not a percentage), got {metrics['accuracy']}")
    print("✓ accuracy is a fraction")
    ### BEGIN HIDDEN TESTS
    assert right_fraction(rows) < right_fraction(rows[:100]), "the fixture's first rows must be easier"
    assert abs(metrics["accuracy"] - right_fraction(rows)) < 1e-9, "accuracy must be computed over the whole test set"
    seven = rows[:4] + rows[-3:]
    got = measure("reference_model", rows=seven, num_runs=3, warmup_runs=0)["metrics"]["accuracy"]
    assert abs(got - right_fraction(seven)) < 1e-9, "accuracy must be correct/total"
    ### END HIDDEN TESTS


test_report_accuracy()

# %% nbgrader={"grade": true, "grade_id": "test-report-size", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
def test_report_size():
    """model_size_mb counts the bytes a model actually stores: an INT8 model stores 1 byte per weight."""
    int8 = FIXTURE_MODELS["int8_reference"]()
    stored, naive = model_size_bytes(int8), 4 * count_parameters(int8)
    got = measure("int8_reference", num_runs=3, warmup_runs=0)["metrics"]["model_size_mb"]
    assert abs(got - stored / MIB) <= 1e-9 * stored / MIB, (
        f"the INT8 model stores {stored} bytes = {stored / MIB:.6f} MiB, but model_size_mb = {got:.6f} "
        f"(4 × parameters would be {naive / MIB:.6f}): use model_size_bytes(model) / MIB")
    print("✓ model_size_mb counts stored bytes")
    ### BEGIN HIDDEN TESTS
    for name in ["Int8Weights"] + (["sparse_reference"] if to_sparse else []):
        stored = model_size_bytes(FIXTURE_MODELS[name]())
        got = measure(name, num_runs=3, warmup_runs=0)["metrics"]["model_size_mb"]
        assert abs(got - stored / MIB) <= 1e-9 * stored / MIB, "a compact model's size is the bytes it stores"
    dense = measure("reference_model", num_runs=3, warmup_runs=0)["metrics"]["model_size_mb"]
    assert abs(dense - model_size_bytes(reference_model) / MIB) < 1e-12, "model_size_mb is in MiB"
    ### END HIDDEN TESTS


test_report_size()

# %% nbgrader={"grade": true, "grade_id": "test-report-latency", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def test_report_latency_known_cost():
    """Single-sample latency is one forward on one sample: 0.5 + 0.1 × 1 = 0.6 ms for this model."""
    run, model = known_cost_run(cost={"fixed_ms": 0.5, "per_sample_ms": 0.1}, num_runs=30, warmup_runs=3,
                                batch_size=32)
    metrics, runs = run["metrics"], max(1, len(run["samples"]))
    p50, batch = metrics["latency_ms_p50"], model.cost_ms(32)
    assert model.calls_with(1), (
        f"forward was never called on one sample (p50 = {p50:.4f} ms): latency is the time of one "
        f"forward call on X[:1], not a batch's time ({batch:.1f} ms on this model)")
    assert model.median_within(p50, 1, min(runs, model.calls_with(1))), (
        f"this model takes {model.cost_ms(1):.1f} ms on one sample and "
        f"{batch:.1f} ms on a batch of 32, and the measured p50 is {p50:.4f} ms. Latency is the time "
        f"of one forward call on X[:1]: not a batch's time, not a batch's time divided by its size "
        f"({batch / 32:.3f} ms)")
    print(f"✓ latency of a {model.cost_ms(1):.1f} ms model: p50 {p50:.3f} ms")
    ### BEGIN HIDDEN TESTS
    for key in ("latency_ms_mean", "latency_ms_p90", "latency_ms_p99"):
        assert metrics[key] >= 0.95 * model.cost_ms(1), f"{key} is below the cost of one single-sample call"
    tput = metrics["throughput_samples_per_sec"]
    assert abs(tput - 1000.0 / metrics["latency_ms_mean"]) <= 1e-9 * tput, "throughput must be 1000 / latency_ms_mean"
    ### END HIDDEN TESTS


test_report_latency_known_cost()

# %% nbgrader={"grade": true, "grade_id": "test-report-batch", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def batch_throughput_within(model: CallLog, got: float, rows: int, runs: int) -> bool:
    """`got` is rows × 1000 / the median of `runs` consecutive calls on `rows` samples."""
    return got > 0 and model.median_within(rows * 1000.0 / got, rows, runs)


def test_report_batch_throughput():
    """Batch throughput = rows × 1000 / median batch latency: 32 × 1000 / 3.7 ≈ 8,649 samples/s here."""
    run, model = known_cost_run(cost={"fixed_ms": 0.5, "per_sample_ms": 0.1}, num_runs=20, warmup_runs=2,
                                batch_size=32)
    got = run["metrics"]["batch_throughput_samples_per_sec"]
    right = 32 * 1000.0 / model.cost_ms(32)
    assert model.calls_with(32) > 1 and batch_throughput_within(model, got, 32, 20), (
        f"a batch of 32 takes {model.cost_ms(32):.1f} ms on this model, so batch throughput is about "
        f"{right:.0f} samples/s; measured {got:.0f}. Time model.forward on X[:batch_size] and divide "
        f"the rows by the median batch time (batch_size × 1000 / single-sample latency would be "
        f"{32 * 1000.0 / model.cost_ms(1):.0f}, for a batch never timed)")
    print(f"✓ batch throughput {got:.0f} samples/s (about {right:.0f})")
    ### BEGIN HIDDEN TESTS
    run, small = known_cost_run(20, cost={"fixed_ms": 0.5, "per_sample_ms": 0.1}, num_runs=10, warmup_runs=1,
                                batch_size=32)
    assert run["measurement"]["batch_size"] == 20, "measurement.batch_size is the rows actually batched"
    assert batch_throughput_within(small, run["metrics"]["batch_throughput_samples_per_sec"], 20, 10), (
        "a test set smaller than batch_size is batched whole")
    run, stalling = known_cost_run(
        cost={"fixed_ms": 0.5, "per_sample_ms": 0.1, "stall_every": 4, "stall_ms": 30.0}, num_runs=20, warmup_runs=2, batch_size=32)
    got = run["metrics"]["batch_throughput_samples_per_sec"]
    assert batch_throughput_within(stalling, got, 32, 20), "batch throughput uses the median batch time, not the mean"
    ### END HIDDEN TESTS


test_report_batch_throughput()

# %% nbgrader={"grade": true, "grade_id": "test-report-warmup", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
def cold_samples(samples: list, model: CallLog) -> tuple:
    """How many timed samples are as slow as a cold call, and how many warm calls a stopwatch
    around them alone could have read that long, which are forgiven: a busy machine can stretch
    a call, or the moments just before and after it, which its envelope holds (the call's own
    time where the envelope is unbounded)."""
    slow = 0.9 * model.slow_ms

    def longest_reading(i: int) -> float:
        envelope = model.envelope_ms(i)
        return envelope if envelope != float("inf") else model.calls[i][2]

    stretched = sum(1 for i, call in enumerate(model.calls) if not call[3] and longest_reading(i) >= slow)
    return sum(s >= slow for s in samples), stretched


def test_report_warmup():
    """Exactly warmup_runs untimed calls come before the timed ones.

    The first `slow_calls` calls of this model on each input shape take at least 15 ms (a spin
    cannot finish early); a warm one takes 0.6 ms.
    """
    run, model = known_cost_run(cost={"slow_calls": 5}, num_runs=20, warmup_runs=5)
    cold, stretched = cold_samples(run["samples"], model)
    assert cold <= stretched, (
        f"{cold - stretched} of the timed samples are the model's slow first calls: make warmup_runs "
        "untimed calls of model.forward before you start timing")
    print("✓ warm-up keeps cold calls out")
    ### BEGIN HIDDEN TESTS
    run, model = known_cost_run(cost={"slow_calls": 12}, num_runs=15, warmup_runs=12)
    cold, stretched = cold_samples(run["samples"], model)
    assert cold <= stretched, "warmup_runs=12 must make 12 untimed calls: cold calls were timed"
    run, model = known_cost_run(cost={"slow_calls": 2}, num_runs=6, warmup_runs=0)
    cold, _ = cold_samples(run["samples"], model)
    assert cold >= min(2, len(run["samples"])), "warmup_runs=0 means no warm-up: the model's two cold calls must be timed"
    ### END HIDDEN TESTS


test_report_warmup()

# %% nbgrader={"grade": true, "grade_id": "test-report-timed-region", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def test_report_times_only_the_forward():
    """The timed region holds model.forward alone, under no_grad(), and nothing is printed."""
    run, model = known_cost_run(cost={"fixed_ms": 0.2, "per_sample_ms": 0.0}, capture_output=True, num_runs=10,
                                warmup_runs=2)
    recorded = sum(1 for _, grad, _, _ in model.calls if grad)
    assert not recorded, (
        f"{recorded} forward calls recorded an autograd graph: time and measure inside `with no_grad():`")
    print("✓ forward runs under no_grad()")
    ### BEGIN HIDDEN TESTS
    rebuilt = max(model.distinct_inputs.values())
    assert rebuilt <= 2, (
        f"one input was built {rebuilt} times: build Tensor(X[:1]) and the batch once, before timing")
    assert run["printed"] == "", "with progress=False, measuring prints nothing"
    ### END HIDDEN TESTS


test_report_times_only_the_forward()

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
# The next cell measures all of them. Once your `measure_model` works, it prints a comparison.

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
        print("Write measure_model above to see the comparison.")

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


def _check_submission_arguments(baseline_report: Any, optimized_report: Any, techniques_applied: Any) -> None:
    """Refuse arguments `generate_submission` cannot use, naming the argument."""
    _require_benchmarked(baseline_report, "baseline_report")
    if optimized_report is not None:
        _require_benchmarked(optimized_report, "optimized_report")
    elif techniques_applied:
        raise ValueError("techniques_applied: given without an optimized_report")
    if techniques_applied is not None and (
            not isinstance(techniques_applied, (list, tuple))
            or not all(isinstance(t, str) for t in techniques_applied)):
        raise ValueError(f"techniques_applied: expected a list of strings, got {techniques_applied!r}")


# %% [markdown]
# **Your task.** Write `generate_submission` (its arguments are already checked when your code
# starts). Return a **new** dict with exactly these fields:
#
# | field | value |
# |---|---|
# | `schema_version` | `SUBMISSION_SCHEMA_VERSION` |
# | `submission_type` | `"capstone_benchmark"` |
# | `tinytorch_version` | `tinytorch.__version__` |
# | `timestamp` | `utc_timestamp()`, when the submission is made |
# | `system_info` | a copy of `baseline_report.system_info` (the machine the baseline was measured on) |
# | `student_name` | `student_name` as a string; **left out** when it is `None` |
# | `baseline` | the entry of `baseline_report` (below) |
# | `optimized` | only with an `optimized_report`: its entry plus `"techniques_applied"`, a new list of the given strings (`[]` when `techniques_applied` is `None`) |
# | `improvements` | exactly when there is an `optimized` entry (below) |
#
# A model **entry** is `{"model_name": str(report.model_name), "metrics": <copy of
# report.metrics>, "latency_samples_ms": compact_samples(report.latency_samples_ms),
# "measurement": <copy of report.measurement>}`.
#
# **Improvements** are `{"speedup": ..., "compression_ratio": ..., "accuracy_delta": ...}` computed
# from the two reports' metrics as defined above (`safe_ratio(baseline, optimized,
# "optimized_report.metrics.<key>")` for the two ratios, `latency_ms_mean` for the speedup,
# `model_size_mb` for the compression), followed by the three fields
# `speedup_significance(baseline_entry, optimized_entry)` returns (`speedup_significant`,
# `significance_test`, `p_value`): call it, never decide significance yourself.
#
# The submission must not share any dict or list with the reports (copy them: `copy.deepcopy`
# or `dict(...)`/`list(...)` of flat ones), so that changing a report later cannot silently
# change a submission already made, and vice versa. For example, a baseline measured at
# 2.0 ms and 0.01 MiB with accuracy 0.96 and an INT8 model at 1.0 ms and 0.0025 MiB with accuracy
# 0.955 give `speedup` 2.0, `compression_ratio` 4.0 and `accuracy_delta` −0.005.

# %% nbgrader={"grade": false, "grade_id": "generate-submission", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def generate_submission(baseline_report: BenchmarkReport, optimized_report: Optional[BenchmarkReport] = None,
                        student_name: Optional[str] = None,
                        techniques_applied: Optional[list] = None) -> dict:
    """The submission dict for a baseline report and, optionally, an optimized one.

    Args:
        baseline_report: a benchmarked report of the unoptimized model.
        optimized_report: a benchmarked report of the optimized model, if any.
        student_name: who submits (optional; left out of the submission when None).
        techniques_applied: the optimizations used, e.g. ["int8_quantization"].

    Returns:
        A new dict following the submission schema; nothing in it is shared with the reports.
    """
    _check_submission_arguments(baseline_report, optimized_report, techniques_applied)
    ### BEGIN SOLUTION
    def entry(report: BenchmarkReport) -> dict:
        return {
            "model_name": str(report.model_name),
            "metrics": copy.deepcopy(report.metrics),
            "latency_samples_ms": compact_samples(report.latency_samples_ms),
            "measurement": copy.deepcopy(report.measurement),
        }

    submission: dict[str, Any] = {
        "schema_version": SUBMISSION_SCHEMA_VERSION,
        "submission_type": "capstone_benchmark",
        "tinytorch_version": tinytorch.__version__,
        "timestamp": utc_timestamp(),
        "system_info": copy.deepcopy(baseline_report.system_info),
    }
    if student_name is not None:
        submission["student_name"] = str(student_name)
    submission["baseline"] = entry(baseline_report)
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
    """A report filled by hand (no measuring), for testing what is built on top of reports.

    Its 40 samples scatter ±2% around `latency_ms`, so reports 2 × apart never overlap,
    whatever the seed.
    """
    rng = np.random.default_rng(seed)
    timing = BenchmarkResult(name, latency_ms * (1 + 0.02 * np.clip(rng.standard_normal(40), -3, 3)))
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


# made_report's arguments (name, latency_ms, size_mb, accuracy, seed) of the two reports the tests use
BASELINE = ("baseline", 2.0, 0.01, 0.96, 0)
INT8 = ("int8", 1.0, 0.0025, 0.955, 1)


def report_pair() -> tuple:
    """A baseline (2 ms, 0.01 MiB, 96%) and an INT8-like report (1 ms, 0.0025 MiB, 95.5%)."""
    return made_report(*BASELINE), made_report(*INT8)


ENTRY_KEYS = ["model_name", "metrics", "latency_samples_ms", "measurement"]


def _node(root: Any, path: list) -> Any:
    for key in path:
        root = root[key]
    return root


@act
def submission_of(reports: list, edits: Optional[list] = None, **options: Any) -> dict:
    """Your `generate_submission` on the reports `made_report(*spec)` makes for each spec in
    `reports` (a baseline, then an optimized one if given), with `options` as its keyword
    arguments. Then each edit `[operation, target, path, value]` is made, in order: operation
    "set" (the item at `path`) or "append" (to the list at `path`); target "submission",
    "report0", "report1" (a report's attributes) or "techniques" (the list passed as
    `techniques_applied`). Returns the submission, the reports' attributes, and whether the
    submission can be written as JSON."""
    made = [made_report(*spec) for spec in reports]
    submission = generate_submission(*made, **options)
    targets = {"submission": submission, "techniques": options.get("techniques_applied")}
    targets.update({f"report{i}": vars(report) for i, report in enumerate(made)})
    for operation, target, path, value in edits or []:
        if operation == "append":
            _node(targets[target], path).append(value)
        else:
            _node(targets[target], path[:-1])[path[-1]] = value
    try:
        json.dumps(submission)
        json_error = None
    except (TypeError, ValueError) as error:
        json_error = f"{type(error).__name__}: {error}"
    reports_now = [{key: getattr(report, key) for key in ("metrics", "latency_samples_ms", "measurement", "system_info")}
                   for report in made]
    return {"submission": submission, "reports": reports_now, "json_error": json_error}


# %% nbgrader={"grade": true, "grade_id": "test-submission", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
def test_generate_submission():
    """A submission has exactly the fields of the table, with improvements exactly when optimized is given."""
    base, fast = report_pair()
    alone = submission_of([BASELINE])["submission"]
    top = ["schema_version", "submission_type", "tinytorch_version", "timestamp", "system_info", "baseline"]
    assert sorted(alone) == sorted(top), f"without an optimized report and a name the fields are {top}, got {list(alone)}"
    assert sorted(alone["baseline"]) == sorted(ENTRY_KEYS), (
        f"a model entry has the fields {ENTRY_KEYS}, got {list(alone['baseline'])}")
    made = submission_of([BASELINE, INT8], student_name="Ada", techniques_applied=["int8_quantization"])
    both = made["submission"]
    expected = top[:5] + ["student_name", "baseline", "optimized", "improvements"]
    assert sorted(both) == sorted(expected), f"with an optimized report and a name the fields are {expected}, got {list(both)}"
    assert both["optimized"]["techniques_applied"] == ["int8_quantization"], "techniques_applied is missing"
    assert both["student_name"] == "Ada", "student_name is missing"
    for key in ("speedup", "compression_ratio", "accuracy_delta", "speedup_significant", "significance_test", "p_value"):
        assert key in both["improvements"], f"improvements needs {key!r}"
    assert both["baseline"]["metrics"] == base.metrics, "baseline metrics must be copied into the submission"
    assert made["json_error"] is None, f"json.dumps(submission) fails: {made['json_error']}"
    print("✓ generate_submission builds the submission")
    ### BEGIN HIDDEN TESTS
    assert both["schema_version"] == SUBMISSION_SCHEMA_VERSION and both["submission_type"] == "capstone_benchmark"
    assert both["tinytorch_version"] == tinytorch.__version__, "tinytorch_version is tinytorch.__version__"
    assert both["timestamp"].endswith("+00:00"), "timestamp comes from utc_timestamp()"
    assert both["system_info"] == made["reports"][0]["system_info"], "system_info is the baseline report's"
    assert both["baseline"]["model_name"] == "baseline" and both["optimized"]["model_name"] == "int8"
    assert both["optimized"]["metrics"] == fast.metrics and both["optimized"]["measurement"] == fast.measurement
    assert both["baseline"]["measurement"] == base.measurement, "measurement is copied into the entry"
    samples = both["baseline"]["latency_samples_ms"]
    assert len(samples) == 40 and all(abs(s - r) <= 1e-4 * r for s, r in zip(samples, base.latency_samples_ms)), (
        "latency_samples_ms holds the report's samples (compact_samples keeps 5 significant digits)")
    assert sorted(both["optimized"]) == sorted(ENTRY_KEYS + ["techniques_applied"]), "optimized = entry + techniques_applied"
    plain = submission_of([BASELINE, INT8])["submission"]
    assert "student_name" not in plain, "student_name=None leaves the field out"
    assert plain["optimized"]["techniques_applied"] == [], "no techniques gives []"
    ### END HIDDEN TESTS


test_generate_submission()

# %% nbgrader={"grade": true, "grade_id": "test-submission-speedup", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
def test_submission_speedup():
    """speedup > 1 means the optimized model is faster; compression > 1 means smaller."""
    base, fast = report_pair()
    imp = submission_of([BASELINE, INT8])["submission"]["improvements"]
    assert imp["speedup"] > 1, f"the optimized model is twice as fast, yet speedup = {imp['speedup']:.3f}"
    print("✓ speedup points the right way")
    ### BEGIN HIDDEN TESTS
    expected = base.metrics["latency_ms_mean"] / fast.metrics["latency_ms_mean"]
    assert abs(imp["speedup"] - expected) < 1e-9 * expected, "speedup = baseline mean / optimized mean"
    assert abs(imp["compression_ratio"] - 4.0) < 1e-9, "compression = baseline size / optimized size"
    assert abs(imp["accuracy_delta"] - (0.955 - 0.96)) < 1e-9, "accuracy_delta = optimized − baseline"
    assert imp["speedup_significant"] is True, "latencies 2× apart with ±6% at most are significantly different"
    sub = submission_of([BASELINE, ("same", 2.0, 0.01, 0.96, 7)])["submission"]
    decided = speedup_significance(sub["baseline"], sub["optimized"])
    assert {k: sub["improvements"][k] for k in decided} == decided, (
        "speedup_significant, significance_test and p_value are what speedup_significance returns")
    ### END HIDDEN TESTS


test_submission_speedup()

# %% nbgrader={"grade": true, "grade_id": "test-submission-copies", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
def test_submission_copies():
    """A submission shares no dict or list with the reports it came from."""
    made = submission_of([BASELINE, INT8], edits=[["set", "report0", ["metrics", "accuracy"], 0.0]],
                         techniques_applied=["int8_quantization"])
    assert made["submission"]["baseline"]["metrics"]["accuracy"] == 0.96, (
        "changing a report after generate_submission changed the submission: copy the metrics dict")
    print("✓ the submission holds copies")
    ### BEGIN HIDDEN TESTS
    edits = [["set", "submission", ["optimized", "metrics", "accuracy"], 0.5],
             ["set", "submission", ["system_info", "platform"], "changed"],
             ["append", "submission", ["baseline", "latency_samples_ms"], 99.0],
             ["set", "submission", ["optimized", "measurement", "num_runs"], 1]]
    base, fast = submission_of([BASELINE, INT8], edits=edits, techniques_applied=["int8_quantization"])["reports"]
    assert fast["metrics"]["accuracy"] == 0.955, "changing the submission changed the report"
    assert base["system_info"]["platform"] != "changed", "system_info must be copied"
    assert len(base["latency_samples_ms"]) == 40, "latency_samples_ms must be a new list"
    assert fast["measurement"]["num_runs"] == 40, "measurement must be copied"
    later = submission_of([BASELINE, INT8], edits=[["append", "techniques", [], "later"]], techniques_applied=["pruning"])
    assert later["submission"]["optimized"]["techniques_applied"] == ["pruning"], "techniques_applied must be copied"
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
# 2. **Cross-field checks** (yours): rules that relate one field to another, or that a schema
#    cannot express.
#
# The validator must not use `assert`: Python skips asserts when run with `-O`, and a
# validator that can be switched off is no validator. (The test looks for assert statements
# in the compiled code of your two functions and of every function of this notebook they
# call.)

# %% nbgrader={"grade": false, "grade_id": "schema-helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
from tinytorch.submission.errors import SubmissionFileError, SubmissionValidationError
from tinytorch.submission.paths import json_path, lookup
from tinytorch.submission.schema import load_schema, schema_errors
from tinytorch.submission.values import is_number, non_finite_paths, relatively_close

# %% nbgrader={"grade": false, "grade_id": "schema-example", "locked": true, "schema_version": 3, "solution": false, "task": false}
# What the schema says of a submission that holds only a name, and that name a number: each message
# starts with the path of its field (`submission` for the whole).
for message in schema_errors({"student_name": 7}):
    print(message)

# %% [markdown]
# **Your task.** Write `submission_errors` (every problem as a list of strings; an empty list
# means valid) and `validate_submission_schema` (returns `True`, or raises
# `SubmissionValidationError(errors)` with the whole list).
#
# Every message starts with the path of the field it is about, then `: `, e.g.
# `"baseline.metrics.accuracy: 96.0 is greater than the maximum of 1"`. `submission_errors`
# returns, in this order:
#
# 1. `schema_errors(submission)`, every message as it is (when `submission` is not a dict, return
#    just those: the schema says `submission: ... is not of type 'object'`);
# 2. for each path in `non_finite_paths(submission)` (NaN, ±infinity, or an integer too large
#    for a float, **anywhere**, e.g. `baseline.latency_samples_ms[3]`):
#    `"<path>: must be a finite number"`;
# 3. `"improvements: ..."` when `improvements` is present without `optimized`, or `optimized`
#    without `improvements`;
# 4. for `baseline` and `optimized` (when present), the percentiles in order: when
#    `latency_ms_p50 > latency_ms_p90`, a message starting with the **larger percentile's**
#    path, `"<model>.metrics.latency_ms_p90: ..."`; when `latency_ms_p90 > latency_ms_p99`,
#    `"<model>.metrics.latency_ms_p99: ..."`;
# 5. with both `optimized` and `improvements`: `"improvements.speedup: ..."` when `speedup` is not
#    baseline `latency_ms_mean` / optimized `latency_ms_mean` within a relative tolerance of
#    1e-3 (`relatively_close(stated, computed)`), the same for `"improvements.compression_ratio:
#    ..."` with `model_size_mb`, and `"improvements.accuracy_delta: ..."` when `accuracy_delta`
#    differs from optimized `accuracy` − baseline `accuracy` by more than 1e-6 (absolute).
#
# A cross-field rule runs only when the values it needs are numbers (`is_number`); a missing or
# wrong-typed value is already reported by the schema. Use `lookup(submission, "baseline",
# "metrics", "accuracy")` to reach nested values: a broken submission can have a list where a
# dict should be, and the validator must report that, not crash. For example, a submission with
# baseline p50 = 1.5 ms and p90 = 1.2 ms gets
# `"baseline.metrics.latency_ms_p90: 1.2 is below baseline.metrics.latency_ms_p50 = 1.5"`.

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
    base, opt = report_pair()
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


def broken(*path: Any, value: Any) -> dict:
    """A valid submission with the value at `path` replaced."""
    submission = valid_submission()
    node = submission
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return submission


@act
def errors_of(submission: Any) -> Any:
    """What your `submission_errors` returns for `submission`."""
    return submission_errors(submission)


@act
def validation_of(submission: Any) -> dict:
    """What your `validate_submission_schema` does with `submission`: what it returned, or the
    type of what it raised and, for a SubmissionValidationError, the errors it carries."""
    try:
        return {"returned": validate_submission_schema(submission), "raised": None, "errors": None,
                "validation_error": False}
    except Exception as error:
        listed = error.errors if isinstance(error, SubmissionValidationError) else None
        return {"returned": None, "raised": type(error).__name__, "errors": listed,
                "validation_error": isinstance(error, SubmissionValidationError)}


def flags(submission: Any, field: str) -> bool:
    """True when submission_errors reports a problem whose message starts with `field`."""
    return any(str(message).startswith(field) for message in errors_of(submission))


def asserts_in(function: Any, seen: Optional[set] = None) -> list:
    """'name line N' for every assert statement compiled into `function` or into a function of
    this notebook it calls (looked up by name in the notebook's globals), nested code included."""
    seen = set() if seen is None else seen
    found, codes = [], [function.__code__]
    while codes:
        code = codes.pop()
        if code in seen:
            continue
        seen.add(code)
        codes += [const for const in code.co_consts if hasattr(const, "co_code")]
        for instruction in dis.get_instructions(code):
            if instruction.opname == "LOAD_ASSERTION_ERROR":
                line = getattr(getattr(instruction, "positions", None), "lineno", None) or code.co_firstlineno
                found.append(f"{code.co_name} line {line}")
        for name in code.co_names:
            called = globals().get(name)
            if callable(called) and getattr(called, "__module__", None) == __name__ \
                    and hasattr(called, "__code__"):
                found += asserts_in(called, seen)
    return found


@act
def validator_asserts() -> list:
    """`asserts_in` of your `submission_errors` and `validate_submission_schema`."""
    return asserts_in(submission_errors) + asserts_in(validate_submission_schema)


# %% nbgrader={"grade": true, "grade_id": "test-validator", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def test_validator_basics():
    """A valid submission passes; an invalid one raises SubmissionValidationError with every problem."""
    errors = errors_of(valid_submission())
    assert errors == [], f"a valid submission has no errors, got {errors}"
    outcome = validation_of(valid_submission())
    assert outcome["returned"] is True, (
        f"a valid submission must return True, got {outcome['returned']!r}"
        + (f" (it raised {outcome['raised']})" if outcome["raised"] else ""))
    # broken in every way the validator checks, so that any one of its checks refuses it
    everywhere = valid_submission()
    everywhere["baseline"]["metrics"].update(accuracy=96.0, latency_ms_p50=1e3)
    everywhere["optimized"]["metrics"]["latency_ms_mean"] = float("nan")
    everywhere["improvements"].update(speedup=0.01, compression_ratio=0.01, accuracy_delta=0.5)
    unpaired = valid_submission()
    del unpaired["improvements"]
    bad = unpaired if errors_of(unpaired) and not errors_of(everywhere) else everywhere
    outcome = validation_of(bad)
    assert outcome["raised"] is not None and outcome["validation_error"], (
        "validate_submission_schema must raise SubmissionValidationError for an invalid submission"
        + (f", it raised {outcome['raised']}" if outcome["raised"] else ""))
    assert outcome["errors"] == errors_of(bad), (
        "validate_submission_schema must raise SubmissionValidationError(submission_errors(submission))")
    print("✓ the validator accepts valid and refuses broken submissions")


test_validator_basics()

# %% nbgrader={"grade": true, "grade_id": "test-validator-schema", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_validator_schema():
    """The schema's messages come first, as they are."""
    bad = broken("baseline", "metrics", "accuracy", value=96.0)
    errors = errors_of(bad)
    expected = schema_errors(bad)
    assert errors[:len(expected)] == expected, (
        f"submission_errors should start with schema_errors(submission): expected {expected}, got {errors}")
    print("✓ schema violations are reported")
    ### BEGIN HIDDEN TESTS
    bad = broken("baseline", "metrics", "latency_ms_mean", value="fast")
    assert errors_of(bad)[:len(schema_errors(bad))] == schema_errors(bad), "a string latency is refused"
    bad = valid_submission()
    del bad["baseline"]["metrics"]["accuracy"]
    assert errors_of(bad)[:len(schema_errors(bad))] == schema_errors(bad), "a missing metric is refused"
    not_a_dict = [valid_submission()]
    assert errors_of(not_a_dict) == schema_errors(not_a_dict), (
        "a list is not a submission: its errors are the schema's")
    bad = broken("baseline", "metrics", value=[1.0, 2.0])
    assert errors_of(bad)[:len(schema_errors(bad))] == schema_errors(bad), (
        "metrics that are a list are the schema's to report: reach nested values with lookup, never crash")
    ### END HIDDEN TESTS


test_validator_schema()

# %% nbgrader={"grade": true, "grade_id": "test-validator-finite", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def test_validator_finite():
    """NaN, infinity and integers beyond float range are refused wherever they are."""
    bad = broken("optimized", "metrics", "latency_ms_mean", value=float("nan"))
    assert flags(bad, "optimized.metrics.latency_ms_mean"), (
        "NaN latency must be refused, naming optimized.metrics.latency_ms_mean (the schema lets NaN through)")
    print("✓ NaN is refused")
    ### BEGIN HIDDEN TESTS
    bad = broken("baseline", "latency_samples_ms", 3, value=float("nan"))
    assert flags(bad, "baseline.latency_samples_ms[3]"), "a NaN sample must be refused, naming its index"
    bad = broken("optimized", "metrics", "peak_memory_mb", value=float("inf"))
    assert flags(bad, "optimized.metrics.peak_memory_mb"), "infinity must be refused"
    bad = broken("baseline", "metrics", "parameter_count", value=10 ** 400)
    assert flags(bad, "baseline.metrics.parameter_count"), "an integer beyond float range must be refused"
    bad = broken("improvements", "p_value", value=float("nan"))
    assert flags(bad, "improvements.p_value"), "a NaN p_value must be refused"
    ### END HIDDEN TESTS


test_validator_finite()

# %% nbgrader={"grade": true, "grade_id": "test-validator-improvements", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def test_validator_improvements():
    """speedup, compression_ratio and accuracy_delta must agree with the metrics."""
    sub = valid_submission()
    bad = broken("improvements", "speedup", value=1 / sub["improvements"]["speedup"])
    assert flags(bad, "improvements.speedup"), "a speedup that does not match the metrics must be refused"
    print("✓ a wrong speedup is refused")
    ### BEGIN HIDDEN TESTS
    ratio = sub["improvements"]["compression_ratio"]
    assert flags(broken("improvements", "compression_ratio", value=ratio * 1.01), "improvements.compression_ratio"), (
        "a compression_ratio 1% off the sizes must be refused")
    assert not flags(broken("improvements", "compression_ratio", value=ratio * (1 + 1e-5)), "improvements"), (
        "ratios within 1e-3 relative must be accepted")
    delta = sub["improvements"]["accuracy_delta"]
    assert flags(broken("improvements", "accuracy_delta", value=delta + 1e-3), "improvements.accuracy_delta"), (
        "an accuracy_delta 0.001 off must be refused")
    assert not flags(broken("improvements", "accuracy_delta", value=delta + 1e-8), "improvements"), (
        "accuracy_delta within 1e-6 must be accepted")
    ### END HIDDEN TESTS


test_validator_improvements()

# %% nbgrader={"grade": true, "grade_id": "test-validator-percentiles", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def test_validator_percentiles():
    """p50 ≤ p90 ≤ p99 in each model, the larger percentile named."""
    sub = valid_submission()
    bad = broken("baseline", "metrics", "latency_ms_p50", value=sub["baseline"]["metrics"]["latency_ms_p90"] + 1.0)
    assert flags(bad, "baseline.metrics.latency_ms_p90"), (
        "p50 above p90 must be refused with a message starting 'baseline.metrics.latency_ms_p90: '")
    print("✓ out-of-order percentiles are refused")
    ### BEGIN HIDDEN TESTS
    bad = broken("optimized", "metrics", "latency_ms_p99", value=sub["optimized"]["metrics"]["latency_ms_p90"] / 2)
    assert flags(bad, "optimized.metrics.latency_ms_p99"), "p99 below p90 must be refused, naming p99"
    assert not flags(broken("baseline", "metrics", "latency_ms_p90", value=sub["baseline"]["metrics"]["latency_ms_p99"]),
                     "baseline"), "equal percentiles are in order"
    ### END HIDDEN TESTS


test_validator_percentiles()

# %% nbgrader={"grade": true, "grade_id": "test-validator-no-assert", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_validator_without_assert():
    """No check of the validator is an assert statement (python -O would remove it)."""
    assert errors_of(valid_submission()) == [], "write submission_errors first: a valid submission has no errors"
    found = validator_asserts()
    assert not found, (
        f"assert statements in the validator ({', '.join(found)}): `python -O` removes them, and "
        "the check with them. Append a message to the errors list instead")
    print("✓ the validator works under python -O")


test_validator_without_assert()

# %% nbgrader={"grade": true, "grade_id": "test-validator-structure", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def test_validator_structure():
    """improvements appear exactly when an optimized model does."""
    bad = valid_submission()
    del bad["improvements"]
    assert flags(bad, "improvements"), "an optimized model without improvements must be refused"
    print("✓ optimized and improvements go together")
    ### BEGIN HIDDEN TESTS
    bad = valid_submission()
    del bad["optimized"]
    assert flags(bad, "improvements"), "improvements without an optimized model must be refused"
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


if SHOWCASE:
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
