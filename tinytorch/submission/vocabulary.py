"""The words of a submission, defined once: units, version, metric keys, model roles, which
model stands for a submission, what "same machine" and "speedup" mean, and which way each
number improves. Every tool that reads submissions takes these from here."""

from __future__ import annotations

MIB = 2**20  # "MB" in every metric means MiB, 1,048,576 bytes

#: The version of the submission schema this package writes.
SUBMISSION_SCHEMA_VERSION = 2

#: Files larger than this are refused before they are read.
MAX_SUBMISSION_BYTES = 10 * MIB

#: The metrics of one measured model, in the order tables show them.
METRIC_KEYS = (
    "parameter_count",
    "model_size_mb",
    "accuracy",
    "latency_ms_mean",
    "latency_ms_std",
    "latency_ms_p50",
    "latency_ms_p90",
    "latency_ms_p99",
    "throughput_samples_per_sec",
    "batch_throughput_samples_per_sec",
    "peak_memory_mb",
)

#: Metrics that come from timing and vary run to run; the rest are exact properties of a model.
TIMING_METRICS = frozenset(k for k in METRIC_KEYS if k.startswith(("latency_", "throughput_", "batch_throughput_")))

#: The model entries of a submission: the unoptimized model, and the optimized one if any.
BASELINE, OPTIMIZED = "baseline", "optimized"
MODEL_ROLES = (BASELINE, OPTIMIZED)


def representative_role(submission: dict) -> str:
    """The role of the model that stands for a submission in rankings and comparisons: the
    optimized model where the submission has one, else its baseline."""
    return OPTIMIZED if OPTIMIZED in submission else BASELINE


#: "speedup" (the submission's `improvements.speedup`, the leaderboard's speedup column and
#: score) is the ratio of this metric, baseline / optimized: a ratio of MEAN latencies, above 1
#: when the optimized model is faster. A ratio of another statistic carries that statistic in
#: its name (`speedup_median` in `tinytorch.perf.benchmarking` tables).
SPEEDUP_METRIC = "latency_ms_mean"

#: `system_info` fields that identify the hardware and its math library. Two submissions come
#: from the same machine exactly when all of these are equal; otherwise their timings (and the
#: ratios of timings) do not compare.
MACHINE_KEYS = ("platform", "machine", "processor", "cpu_count", "blas", "blas_threads")
#: `system_info` fields that describe the software stack: reported, but not a different machine.
SOFTWARE_KEYS = ("python_version", "numpy_version", "tinytorch_version")


def system_differences(a: dict, b: dict, keys: tuple = MACHINE_KEYS) -> list[str]:
    """'key: A ≠ B' for every key of `keys` whose values differ between two `system_info` dicts;
    empty for the default keys exactly when the two are the same machine."""
    return [f"{k}: {a.get(k)!r} ≠ {b.get(k)!r}" for k in keys if a.get(k) != b.get(k)]


def machine_label(system_info: dict) -> str:
    """A name of the machine a submission was measured on: equal labels mean the same machine."""
    return " / ".join(str(system_info.get(k, "?")) for k in MACHINE_KEYS)


#: Which way each number of a submission improves: metrics and improvements.
HIGHER, LOWER = "higher", "lower"
BETTER = {
    "parameter_count": LOWER,
    "model_size_mb": LOWER,
    "accuracy": HIGHER,
    "latency_ms_mean": LOWER,
    "latency_ms_std": LOWER,
    "latency_ms_p50": LOWER,
    "latency_ms_p90": LOWER,
    "latency_ms_p99": LOWER,
    "throughput_samples_per_sec": HIGHER,
    "batch_throughput_samples_per_sec": HIGHER,
    "peak_memory_mb": LOWER,
    "speedup": HIGHER,
    "compression_ratio": HIGHER,
    "accuracy_delta": HIGHER,
}


def higher_is_better(name: str) -> bool:
    """True when a larger value of metric or improvement `name` is better; ValueError for an unknown name."""
    try:
        return BETTER[name] == HIGHER
    except KeyError:
        raise ValueError(
            f"{name}: not a metric or improvement of a submission; expected one of {', '.join(BETTER)}"
        ) from None
