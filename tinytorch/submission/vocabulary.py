"""The words of a submission, defined once: units, version, metric keys and model roles."""
from __future__ import annotations

MIB = 2 ** 20  # "MB" in every metric means MiB, 1,048,576 bytes

#: The version of the submission schema this package writes.
SUBMISSION_SCHEMA_VERSION = 2

#: Files larger than this are refused before they are read.
MAX_SUBMISSION_BYTES = 10 * MIB

#: The metrics of one measured model, in the order tables show them.
METRIC_KEYS = (
    "parameter_count", "model_size_mb", "accuracy",
    "latency_ms_mean", "latency_ms_std", "latency_ms_p50", "latency_ms_p90", "latency_ms_p99",
    "throughput_samples_per_sec", "batch_throughput_samples_per_sec", "peak_memory_mb",
)

#: The model entries of a submission: the unoptimized model, and the optimized one if any.
BASELINE, OPTIMIZED = "baseline", "optimized"
MODEL_ROLES = (BASELINE, OPTIMIZED)
