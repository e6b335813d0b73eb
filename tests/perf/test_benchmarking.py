"""The measurement engine on callables of known cost."""

import json
import re
import time

import numpy as np
import pytest

from tinytorch.perf import benchmarking
from tinytorch.perf.benchmarking import Benchmark, BenchmarkResult, peak_memory_bytes, time_callable


def spin(ms: float) -> None:
    """Busy-wait `ms` milliseconds on the monotonic clock (sleep would hand the core away)."""
    end = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < end:
        pass


class ColdStart:
    """2 ms per call, except its first three calls which take 30 ms. Each call also records how
    long it really took by its own stopwatch (``own_ns``): on a busy machine a busy-wait can be
    preempted and last longer, and the harness must then report exactly that longer call."""

    def __init__(self, ms: float = 2.0, cold_calls: int = 3, cold_ms: float = 30.0):
        self.calls, self.ms, self.cold_calls, self.cold_ms = 0, ms, cold_calls, cold_ms
        self.own_ns: list[int] = []

    def __call__(self) -> None:
        t0 = time.perf_counter_ns()
        self.calls += 1
        spin(self.cold_ms if self.calls <= self.cold_calls else self.ms)
        self.own_ns.append(time.perf_counter_ns() - t0)


@pytest.mark.timing
def test_warmup_keeps_cold_calls_out_and_median_is_the_known_cost():
    # Judged against the calls' own stopwatch, not against 2 ms: other processes can stretch any
    # call, but each sample must still contain its call (the harness's clock reads enclose the
    # call's, on the same clock) and add almost nothing to it. A harness error (cold calls among
    # the samples, a wrong unit, a biased or different clock, samples out of order) fails this
    # at any load.
    fn = ColdStart()
    result = time_callable(fn, num_runs=60, warmup_runs=10, progress=False)
    assert fn.calls == 70
    assert result.n == 60 and len(result.warmup_ms) == 10
    own_ms = np.array(fn.own_ns) / 1e6
    assert np.all(own_ms[:3] >= 30.0) and np.all(own_ms[3:] >= 2.0)
    assert np.all(result.warmup_ms >= own_ms[:10]), "the cold calls belong to the warm-up"
    added_ms = result.samples_ms - own_ms[10:]
    assert np.all(added_ms >= 0.0), "a sample cannot be shorter than the call it timed"
    assert np.median(added_ms) < 0.05, f"the harness adds {np.median(added_ms):.3f} ms per call"
    assert result.min >= 2.0, "a busy-wait of 2 ms cannot be measured shorter"
    assert result.median == pytest.approx(float(np.median(own_ms[10:])), abs=0.05)


def test_without_warmup_the_cold_calls_are_in_the_samples():
    result = time_callable(ColdStart(ms=0.2, cold_ms=5.0), num_runs=10, warmup_runs=0, progress=False)
    assert result.warmup_ms.size == 0
    assert np.all(result.samples_ms[:3] >= 4.5) and np.all(result.samples_ms[3:] < 4.5)


def test_samples_come_from_perf_counter_ns_and_never_time_time(monkeypatch):
    clock = iter(range(0, 10**12, 1_000_000))  # a fake clock advancing 1 ms per read
    monkeypatch.setattr(time, "perf_counter_ns", lambda: next(clock))

    def forbidden():
        raise AssertionError("time.time must not be used for measurement")

    monkeypatch.setattr(time, "time", forbidden)
    result = time_callable(lambda: None, num_runs=7, warmup_runs=2, progress=False)
    assert result.samples_ms.tolist() == [1.0] * 7
    assert result.warmup_ms.tolist() == [1.0] * 2


def test_progress_off_prints_nothing_and_on_shows_a_bar(monkeypatch, capsys):
    monkeypatch.setattr(benchmarking, "PROGRESS_THRESHOLD_S", 0.0)  # any measurement counts as long
    time_callable(lambda: spin(0.05), num_runs=20, warmup_runs=2, progress=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    time_callable(lambda: spin(0.05), num_runs=20, warmup_runs=2, name="busy", progress=True)
    out = capsys.readouterr()
    assert "busy" in out.err + out.out


def test_short_measurement_shows_no_bar_even_with_progress_on(capsys):
    time_callable(lambda: None, num_runs=50, warmup_runs=5, progress=True)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"num_runs": 0}, "num_runs"),
        ({"num_runs": 2.5}, "num_runs"),
        ({"num_runs": True}, "num_runs"),
        ({"warmup_runs": -1}, "warmup_runs"),
    ],
)
def test_bad_counts_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        time_callable(lambda: None, **kwargs)


def test_non_callable_is_refused():
    with pytest.raises(ValueError, match="fn"):
        time_callable(42)


KNOWN = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]


def test_statistics_match_numpy_on_known_samples():
    r = BenchmarkResult("known", KNOWN)
    x = np.array(KNOWN)
    assert r.n == 11
    assert r.mean == pytest.approx(x.mean()) and r.mean == pytest.approx(44 / 11)
    assert r.std == pytest.approx(x.std(ddof=1))
    assert r.median == r.p50 == 4.0
    assert r.p90 == pytest.approx(np.percentile(x, 90)) and r.p90 == pytest.approx(6.0)
    assert r.p99 == pytest.approx(np.percentile(x, 99))
    assert (r.min, r.max) == (1.0, 9.0)
    assert r.iqr == pytest.approx(np.percentile(x, 75) - np.percentile(x, 25))
    lo, hi = r.ci95_median  # n = 11 → order statistics x(2) and x(10)
    assert (lo, hi) == (1.0, 6.0)


def test_single_sample_has_zero_std():
    r = BenchmarkResult("one", [2.5])
    assert r.std == 0.0 and r.ci95_median == (2.5, 2.5) and not r.unstable


def test_instability_flagged_on_bimodal_not_on_tight():
    rng = np.random.default_rng(0)
    tight = BenchmarkResult("tight", rng.normal(2.0, 0.02, 200))
    bimodal = BenchmarkResult("bimodal", np.r_[rng.normal(1.0, 0.01, 100), rng.normal(2.0, 0.01, 100)])
    assert not tight.unstable and tight.warnings == []
    assert bimodal.unstable
    text = " ".join(bimodal.warnings)
    assert "standard deviation" in text and "interquartile range" in text


def test_iqr_alone_can_flag_instability():
    # Std under 10% of the mean but IQR 20% of the median.
    r = BenchmarkResult("iqr", [0.92] * 50 + [1.08] * 50)
    assert r.std < 0.1 * r.mean
    assert r.unstable and any("interquartile" in w for w in r.warnings)
    assert not any("standard deviation" in w for w in r.warnings)


def test_std_alone_can_flag_instability():
    # A few outliers: the middle half is identical (IQR 0) but std is far above 10% of the mean.
    r = BenchmarkResult("tail", [1.0] * 95 + [3.0] * 5)
    assert r.iqr == 0.0
    assert r.unstable and any("standard deviation" in w for w in r.warnings)


def test_to_dict_is_json_ready_and_str_is_one_line():
    r = BenchmarkResult("model", KNOWN, warmup_ms=[10.0])
    d = r.to_dict()
    json.dumps(d)
    assert all(type(d[k]) is float for k in ("mean", "std", "median", "p50", "p90", "p99", "min", "max", "iqr"))
    assert type(d["n"]) is int and type(d["unstable"]) is bool
    assert d["samples_ms"] == KNOWN and d["warmup_ms"] == [10.0]
    line = str(r)
    assert "\n" not in line and "model" in line and "median 4" in line


def test_empty_samples_refused():
    with pytest.raises(ValueError, match="samples_ms"):
        BenchmarkResult("none", [])
    with pytest.raises(ValueError, match="samples_ms"):
        BenchmarkResult("nan", [1.0, float("nan")])


def test_peak_memory_sees_a_16_mb_numpy_array():
    def allocate():
        a = np.ones(16 * 2**20, dtype=np.uint8)
        return int(a[-1])

    assert peak_memory_bytes(allocate) >= 15 * 2**20
    assert peak_memory_bytes(lambda: None) < 2**20


def test_peak_memory_restores_tracemalloc_state():
    import tracemalloc

    assert not tracemalloc.is_tracing()
    peak_memory_bytes(lambda: None)
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        peak_memory_bytes(lambda: None)
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


class Slow:
    def forward(self, x):
        spin(0.4)
        return x


class Fast:
    def forward(self, x):
        spin(0.1)
        return x


def test_benchmark_runs_models_and_compares():
    bench = Benchmark({"slow": Slow(), "fast": Fast()}, num_runs=30, warmup_runs=3, progress=False)
    results = bench.run(np.zeros(4))
    assert set(results) == {"slow", "fast"}
    assert all(isinstance(r, BenchmarkResult) and r.n == 30 for r in results.values())
    assert results["fast"].median < results["slow"].median
    table = bench.compare()
    speedups = dict(re.findall(r"^(slow|fast)\s.*?([0-9.]+)×", table, flags=re.M))
    assert speedups["slow"] == "1.00"
    assert float(speedups["fast"]) == pytest.approx(results["slow"].median / results["fast"].median, abs=0.01)


def test_benchmark_list_names_and_plain_callables():
    calls = []
    bench = Benchmark([Fast(), Fast(), lambda x: calls.append(x)], num_runs=2, warmup_runs=0, progress=False)
    assert list(bench.models) == ["Fast", "Fast_2", "function"]
    bench.run("x")
    assert calls == ["x", "x"]


def test_benchmark_bad_input():
    with pytest.raises(ValueError, match="models"):
        Benchmark([object()])
    with pytest.raises(ValueError, match="models"):
        Benchmark(42)
    with pytest.raises(ValueError, match="num_runs"):
        Benchmark([Fast()], num_runs=0)
    bench = Benchmark([Fast()], num_runs=1, warmup_runs=0, progress=False)
    with pytest.raises(ValueError, match="run"):
        bench.compare()
    bench.run(0)
    with pytest.raises(ValueError, match="baseline"):
        bench.compare("nope")
