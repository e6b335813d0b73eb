"""BenchmarkReport against models of known cost, size and memory."""

import json

import numpy as np
import pytest

from tests.olympics.known_cost import BusyModel
from tinytorch.core.tensor import Tensor
from tinytorch.olympics import METRIC_KEYS, BenchmarkReport, SimpleMLP
from tinytorch.perf.quantization import quantize_model


@pytest.mark.timing
def test_known_latency_with_slow_first_calls(small_test_set):
    """Each latency sample times one warm single-sample call of a 1 ms forward whose first calls
    take 30 ms: at least what that call took by the model's own stopwatch, at most its envelope,
    which holds however busy the machine is; p50, mean and throughput derive from those samples."""
    X, y = small_test_set
    report = BenchmarkReport("busy")
    model = BusyModel(1.0, slow_calls=3, slow_ms=30.0)
    m = report.benchmark_model(model, X, y, num_runs=100, warmup_runs=10, progress=False)
    samples = np.asarray(report.latency_samples_ms)
    timed = range(10, 110)  # after the 10 warm-up calls; the batch timing's calls follow
    inner = np.array([model.took_ms(i) for i in timed])
    outer = np.array([model.envelope_ms(i) for i in timed])
    assert len(samples) == 100 and np.all(inner >= 1.0), "a busy-wait of 1 ms cannot be shorter"
    assert np.all(samples >= 0.999 * inner), "a sample is at least the call it times (ms, one call)"
    assert np.all(samples <= 1.001 * outer + 0.001), "a sample is at most its call's envelope (no cold call)"
    assert np.median(inner) * 0.999 <= m["latency_ms_p50"] <= np.median(outer) * 1.001 + 0.001
    assert m["latency_ms_mean"] == pytest.approx(samples.mean(), rel=1e-6)
    assert m["throughput_samples_per_sec"] == pytest.approx(1000.0 / samples.mean(), rel=1e-6)


def test_metrics_are_native_and_complete(small_test_set):
    X, y = small_test_set
    report = BenchmarkReport("mlp")
    metrics = report.benchmark_model(SimpleMLP(), Tensor(X), y, num_runs=5, warmup_runs=1, progress=False)
    assert list(metrics) == list(METRIC_KEYS)
    assert all(type(v) in (int, float) for v in metrics.values())
    json.dumps(metrics)
    assert report.timestamp.endswith("+00:00")
    info = report.system_info
    for key in ("platform", "python_version", "numpy_version", "processor", "cpu_count", "blas", "tinytorch_version"):
        assert info[key] not in (None, ""), key


class OneBigParameter:
    def __init__(self, dtype):
        self.weight = Tensor(np.ones(1_048_576, dtype=dtype))

    def forward(self, x):
        return Tensor(np.zeros((x.shape[0], 10), dtype=np.float32))

    def parameters(self):
        return [self.weight]


@pytest.mark.parametrize("dtype, expected_mb", [(np.float32, 4.0), (np.int8, 1.0)])
def test_model_size_is_bytes_stored(small_test_set, dtype, expected_mb):
    X, y = small_test_set
    metrics = BenchmarkReport().benchmark_model(OneBigParameter(dtype), X, y, num_runs=2, warmup_runs=0, progress=False)
    assert metrics["model_size_mb"] == expected_mb
    assert metrics["parameter_count"] == 1_048_576


class AllocatesSixteenMB:
    def __init__(self):
        self.weight = Tensor(np.zeros((64, 10), dtype=np.float32))

    def forward(self, x):
        scratch = np.ones(4 * 2**20, dtype=np.float32)  # 16 MiB temporary
        return Tensor(np.zeros((x.shape[0], 10), dtype=np.float32) + scratch[:1])

    def parameters(self):
        return [self.weight]


def test_peak_memory_sees_temporaries(small_test_set):
    X, y = small_test_set
    metrics = BenchmarkReport().benchmark_model(AllocatesSixteenMB(), X, y, num_runs=2, warmup_runs=0, progress=False)
    assert metrics["peak_memory_mb"] >= 15


def test_int8_model_is_four_times_smaller(small_test_set):
    X, y = small_test_set
    model = SimpleMLP()
    base = BenchmarkReport().benchmark_model(model, X, y, num_runs=3, warmup_runs=0, progress=False)
    int8 = BenchmarkReport().benchmark_model(quantize_model(model), X, y, num_runs=3, warmup_runs=0, progress=False)
    assert base["model_size_mb"] / int8["model_size_mb"] >= 3.5
    assert int8["parameter_count"] == base["parameter_count"]


class NoParameters:
    def forward(self, x):
        return x


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r, X, y: r.benchmark_model(object(), X, y), "model"),
        (lambda r, X, y: r.benchmark_model(SimpleMLP(), X, y[:-1]), "y_test"),
        (lambda r, X, y: r.benchmark_model(SimpleMLP(), X[:0], y[:0]), "empty"),
        (lambda r, X, y: r.benchmark_model(SimpleMLP(), X, y, num_runs=0), "num_runs"),
        (lambda r, X, y: r.benchmark_model(SimpleMLP(), X, y, warmup_runs=-1), "warmup_runs"),
        (lambda r, X, y: r.benchmark_model(SimpleMLP(), X[0], y), "X_test"),
        (lambda r, X, y: r.benchmark_model(SimpleMLP(), [["a"] * 64] * len(y), y), "X_test"),
        (lambda r, X, y: r.benchmark_model(SimpleMLP(), X, ["cat"] * len(y)), "y_test"),
        (lambda r, X, y: r.benchmark_model(SimpleMLP(), X, y + 0.5), "y_test"),
        (lambda r, X, y: r.benchmark_model(NoParameters(), X, y), "parameters"),
    ],
)
def test_bad_input_says_what_was_expected(small_test_set, call, message):
    X, y = small_test_set
    with pytest.raises(ValueError, match=message):
        call(BenchmarkReport(), X, y)
