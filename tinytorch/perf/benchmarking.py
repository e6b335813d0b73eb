"""The measurement engine: time a callable honestly, summarise the samples, compare models.

Rules this module keeps, because every figure the capstone reports rests on them:
- one clock, `time.perf_counter_ns` (monotonic, nanosecond integers); never `time.time`,
  which can jump and has coarse resolution on some systems;
- warm-up calls first, kept apart from the samples (caches, lazy allocation, first-call costs);
- the timed region holds the call and nothing else of ours: the loop is bound to locals and
  writes into a preallocated list, and any progress bar is updated between chunks of calls;
- raw samples are kept; every statistic is derived from them on demand.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from tinytorch.perf.inputs import check_count
from tinytorch.perf.statistics import as_samples, median_confidence_interval, percentile

# A progress bar appears only for measurements expected to take longer than this.
PROGRESS_THRESHOLD_S = 2.0
# Number of progress-bar updates over a measurement; each update sits between timed calls.
PROGRESS_CHUNKS = 50
# pyperf and torch.utils.benchmark flag a result whose spread exceeds this share of its centre.
UNSTABLE_RATIO = 0.10

_NS_PER_MS = 1e6


@dataclass(eq=False)
class BenchmarkResult:
    """Raw timing samples of one callable, in milliseconds, and the statistics derived from them.

    Attributes:
        name: what was measured.
        samples_ms: the timed calls, in call order.
        warmup_ms: the discarded warm-up calls, kept for inspection only.
    """

    name: str
    samples_ms: np.ndarray
    warmup_ms: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        self.samples_ms = as_samples(self.samples_ms, "samples_ms")
        warmup = np.asarray(self.warmup_ms, dtype=np.float64).ravel()
        self.warmup_ms = as_samples(warmup, "warmup_ms") if warmup.size else warmup

    @property
    def n(self) -> int:
        return int(self.samples_ms.size)

    @property
    def mean(self) -> float:
        return float(self.samples_ms.mean())

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof=1); 0 for a single sample."""
        return float(self.samples_ms.std(ddof=1)) if self.n > 1 else 0.0

    @property
    def median(self) -> float:
        return float(np.median(self.samples_ms))

    def percentile(self, q: float) -> float:
        """q-th percentile with numpy's linear interpolation."""
        return percentile(self.samples_ms, q)

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p90(self) -> float:
        return self.percentile(90)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def min(self) -> float:
        return float(self.samples_ms.min())

    @property
    def max(self) -> float:
        return float(self.samples_ms.max())

    @property
    def iqr(self) -> float:
        """Interquartile range p75 − p25."""
        return self.percentile(75) - self.percentile(25)

    @property
    def ci95_median(self) -> tuple[float, float]:
        """95% confidence interval of the median, by order statistics."""
        return median_confidence_interval(self.samples_ms, 0.95)

    @property
    def warnings(self) -> list[str]:
        """Plain-English reasons why the result may be unstable; empty when it is not."""
        reasons = []
        mean, std, median, iqr = self.mean, self.std, self.median, self.iqr
        if std > 0 and std >= UNSTABLE_RATIO * mean:
            reasons.append(
                f"The standard deviation ({std:.4g} ms) is {_share(std, mean)} of the mean "
                f"({mean:.4g} ms): the samples vary a lot."
            )
        if iqr > 0 and iqr > UNSTABLE_RATIO * median:
            reasons.append(
                f"The interquartile range ({iqr:.4g} ms) is {_share(iqr, median)} of the median "
                f"({median:.4g} ms): the middle half of the samples is widely spread."
            )
        if reasons:
            reasons.append(
                "The result may be unstable: close other programs, use more warm-up runs "
                "or more runs, and measure again."
            )
        return reasons

    @property
    def unstable(self) -> bool:
        """True when std ≥ 10% of the mean or IQR/median > 10%."""
        return bool(self.warnings)

    def to_dict(self) -> dict:
        """Every statistic and the raw samples as native Python numbers (json.dumps-ready)."""
        lo, hi = self.ci95_median
        return {
            "name": str(self.name),
            "n": self.n,
            "mean": self.mean,
            "std": self.std,
            "median": self.median,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "min": self.min,
            "max": self.max,
            "iqr": self.iqr,
            "ci95_median": [lo, hi],
            "unstable": self.unstable,
            "warnings": self.warnings,
            "samples_ms": [float(s) for s in self.samples_ms],
            "warmup_ms": [float(s) for s in self.warmup_ms],
        }

    def __str__(self) -> str:
        lo, hi = self.ci95_median
        flag = " [unstable]" if self.unstable else ""
        return (
            f"{self.name or 'callable'}: median {self.median:.4g} ms (95% CI {lo:.4g}–{hi:.4g}), "
            f"mean {self.mean:.4g} ± {self.std:.2g} ms, p90 {self.p90:.4g}, p99 {self.p99:.4g}, "
            f"n={self.n}{flag}"
        )


def _share(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole > 0 else "infinitely many times"


def _timed_calls(fn: Callable[[], Any], out: list, start: int, stop: int) -> None:
    """Fill out[start:stop] with the duration of one call of fn each, in nanoseconds.

    Kept minimal on purpose: the clock is a local, the loop body is two clock reads, the call
    and one store, so the harness adds as little as possible to each sample.
    """
    timer = time.perf_counter_ns
    for i in range(start, stop):
        t0 = timer()
        fn()
        out[i] = timer() - t0


def _timed_calls_with_bar(fn: Callable[[], Any], out: list, start: int, name: str) -> None:
    """`_timed_calls` over out[start:], in chunks, with a progress bar moved between chunks."""
    from tqdm.auto import tqdm  # imported only when a bar is really shown

    total = len(out)
    chunk = max(1, math.ceil((total - start) / PROGRESS_CHUNKS))
    with tqdm(total=total, initial=start, desc=name or "benchmark", unit="run", leave=False) as bar:
        while start < total:
            stop = min(total, start + chunk)
            _timed_calls(fn, out, start, stop)
            bar.update(stop - start)
            start = stop


def time_callable(
    fn: Callable[[], Any], *, num_runs: int = 100, warmup_runs: int = 10, name: str = "", progress: bool = True
) -> BenchmarkResult:
    """Time `fn()` `num_runs` times after `warmup_runs` discarded calls.

    Args:
        fn: a callable taking no arguments (wrap a model call in a lambda).
        num_runs: timed calls, ≥ 1.
        warmup_runs: calls made first and kept out of the samples, ≥ 0.
        name: label of the result.
        progress: allow a progress bar; one is shown only when the warm-up suggests the timed
            calls will take longer than `PROGRESS_THRESHOLD_S` seconds.

    Returns:
        A BenchmarkResult with the samples in milliseconds.
    """
    if not callable(fn):
        raise ValueError(f"fn: expected a callable taking no arguments, got {type(fn).__name__}")
    num_runs = check_count(num_runs, "num_runs", 1)
    warmup_runs = check_count(warmup_runs, "warmup_runs", 0)

    # A preallocated list: storing into it is cheaper than into array('q') or a numpy array
    # (no conversion to a C integer inside the timed loop); numpy converts it once at the end.
    warm = [0] * warmup_runs
    _timed_calls(fn, warm, 0, warmup_runs)
    samples = [0] * num_runs
    done = 0
    if not warm:  # no warm-up to estimate from: the first timed call serves
        _timed_calls(fn, samples, 0, 1)
        done = 1
    per_call_ns = float(np.median(warm if warm else samples[:1]))
    expected_s = per_call_ns * (num_runs - done) / 1e9
    if progress and expected_s > PROGRESS_THRESHOLD_S:
        _timed_calls_with_bar(fn, samples, done, name)
    else:
        _timed_calls(fn, samples, done, num_runs)
    return BenchmarkResult(
        name=name,
        samples_ms=np.array(samples, dtype=np.int64) / _NS_PER_MS,
        warmup_ms=np.array(warm, dtype=np.int64) / _NS_PER_MS,
    )


def peak_memory_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated above the starting level during one call of `fn()`.

    Uses tracemalloc, which sees Python objects and numpy array buffers alike. If tracemalloc
    was off it is switched off again; if it was on it stays on (its peak is reset, since
    tracemalloc keeps a single peak).
    """
    if not callable(fn):
        raise ValueError(f"fn: expected a callable taking no arguments, got {type(fn).__name__}")
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, int(peak - before))


def _model_call(model: Any, name: str) -> Callable[[Any], Any]:
    forward = getattr(model, "forward", None)
    if callable(forward):
        return forward
    if callable(model):
        return model
    raise ValueError(f"models[{name!r}]: expected an object with .forward(x) or a callable, got {type(model).__name__}")


def _named_models(models: Any) -> dict:
    """name → model from a dict, or from a list/tuple named by class (repeats get _2, _3, …)."""
    if isinstance(models, Mapping):
        named = {str(k): v for k, v in models.items()}
    elif isinstance(models, (list, tuple)):
        named = {}
        for model in models:
            base = type(model).__name__
            key, i = base, 2
            while key in named:
                key, i = f"{base}_{i}", i + 1
            named[key] = model
    else:
        raise ValueError(f"models: expected a dict name → model or a list of models, got {type(models).__name__}")
    if not named:
        raise ValueError("models: expected at least one model, got none")
    for key, model in named.items():
        _model_call(model, key)
    return named


class Benchmark:
    """Measure and compare the forward-pass latency of several models on the same input.

    Example:
        bench = Benchmark({"fp32": model, "int8": quantized}, num_runs=200)
        bench.run(x)
        print(bench.compare("fp32"))
    """

    def __init__(self, models: Any, *, num_runs: int = 100, warmup_runs: int = 10, progress: bool = True) -> None:
        self.models = _named_models(models)
        self.num_runs = check_count(num_runs, "num_runs", 1)
        self.warmup_runs = check_count(warmup_runs, "warmup_runs", 0)
        self.progress = progress
        self.results: dict[str, BenchmarkResult] = {}

    def run(self, x: Any) -> dict[str, BenchmarkResult]:
        """Time `model.forward(x)` (or `model(x)`) for every model; name → result."""
        self.results = {}
        for name, model in self.models.items():
            call = _model_call(model, name)
            self.results[name] = time_callable(
                partial(call, x),
                num_runs=self.num_runs,
                warmup_runs=self.warmup_runs,
                name=name,
                progress=self.progress,
            )
        return dict(self.results)

    def compare(self, baseline: str | None = None) -> str:
        """A table of median latency, its 95% CI and `speedup_median` over `baseline` (default: the first)."""
        if not self.results:
            raise ValueError("compare: no results yet; call run(x) first")
        baseline = next(iter(self.results)) if baseline is None else baseline
        if baseline not in self.results:
            raise ValueError(f"baseline: expected one of {list(self.results)}, got {baseline!r}")
        return format_results(self.results, baseline)


def format_results(results: Mapping[str, BenchmarkResult], baseline: str) -> str:
    """Rows of name, median, 95% CI of the median and `speedup_median` (baseline median / median).

    A ratio of medians, named so: the bare word "speedup" means the submission's ratio of means
    (`tinytorch.submission.vocabulary.SPEEDUP_METRIC`).
    """
    width = max(8, *(len(n) for n in results))
    base = results[baseline].median
    lines = [
        f"{'model':<{width}}  {'median ms':>10}  {'95% CI of median':>21}  {'speedup_median':>14}",
        "-" * (width + 53),
    ]
    for name, res in results.items():
        lo, hi = res.ci95_median
        speed = f"{base / res.median:.2f}×" if res.median > 0 else "-"
        flag = "  unstable" if res.unstable else ""
        lines.append(f"{name:<{width}}  {res.median:>10.4f}  {f'{lo:.4f} – {hi:.4f}':>21}  {speed:>14}{flag}")
    lines.append(f"speedup_median = median of {baseline} / median of each model")
    return "\n".join(lines)


__all__ = ["BenchmarkResult", "time_callable", "peak_memory_bytes", "Benchmark", "format_results"]
