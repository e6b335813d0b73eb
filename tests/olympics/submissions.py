"""Valid submissions built from given numbers, for the tools' tests."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinytorch.olympics import submission_errors
from tinytorch.submission.significance import speedup_significance
from tinytorch.submission.system import collect_system_info


def metrics_from_samples(
    samples: Sequence[float], accuracy: float, size_mb: float, parameter_count: int = 2410
) -> dict:
    """A metrics dict consistent with raw latency samples (as BenchmarkReport would derive it)."""
    a = np.asarray(samples, dtype=float)
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return {
        "parameter_count": parameter_count,
        "model_size_mb": float(size_mb),
        "accuracy": float(accuracy),
        "latency_ms_mean": float(a.mean()),
        "latency_ms_std": float(a.std(ddof=1)),
        "latency_ms_p50": float(p50),
        "latency_ms_p90": float(p90),
        "latency_ms_p99": float(p99),
        "throughput_samples_per_sec": float(1000 / a.mean()),
        "batch_throughput_samples_per_sec": float(32000 / a.mean() / 4),
        "peak_memory_mb": 0.05,
    }


def make_submission(
    base_samples: Sequence[float],
    opt_samples: Sequence[float] | None = None,
    *,
    accuracy: tuple = (0.96, 0.955),
    size_mb: tuple = (0.0092, 0.0025),
    system_info: dict | None = None,
    student: str | None = "Ada",
    names: tuple = ("baseline_fp32", "int8"),
) -> dict:
    """A valid submission with the given latency samples, accuracies and sizes (checked here)."""

    def entry(name: str, samples: Sequence[float], acc: float, size: float) -> dict:
        return {
            "model_name": name,
            "metrics": metrics_from_samples(samples, acc, size),
            "latency_samples_ms": [float(s) for s in samples],
            "measurement": {"num_runs": len(samples), "warmup_runs": 10, "batch_size": 32},
        }

    sub = {
        "schema_version": 2,
        "submission_type": "capstone_benchmark",
        "tinytorch_version": "0.20.0",
        "timestamp": "2026-11-28T20:00:00+00:00",
        "system_info": system_info or collect_system_info(),
        "baseline": entry(names[0], base_samples, accuracy[0], size_mb[0]),
    }
    if student is not None:
        sub["student_name"] = student
    if opt_samples is not None:
        sub["optimized"] = dict(
            entry(names[1], opt_samples, accuracy[1], size_mb[1]), techniques_applied=["int8_quantization"]
        )
        b, o = sub["baseline"]["metrics"], sub["optimized"]["metrics"]
        sub["improvements"] = {
            "speedup": b["latency_ms_mean"] / o["latency_ms_mean"],
            "compression_ratio": b["model_size_mb"] / o["model_size_mb"],
            "accuracy_delta": o["accuracy"] - b["accuracy"],
            **speedup_significance(sub["baseline"], sub["optimized"]),
        }
    errors = submission_errors(sub)
    assert not errors, f"the test builder made an invalid submission: {errors}"
    return sub


def noisy_samples(median_ms: float, n: int = 100, seed: int = 0) -> list:
    """Latency-like samples: a lognormal spread around `median_ms`."""
    rng = np.random.default_rng(seed)
    return list(median_ms * rng.lognormal(0.0, 0.05, n))


def write(path: Path, submission: dict) -> Path:
    """Write a submission (or anything) as JSON and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(submission))
    return path


def other_machine(system_info: dict) -> dict:
    """The same system_info as measured on a different machine."""
    info = copy.deepcopy(system_info)
    info.update(processor="arm64", machine="arm64", cpu_count=8, blas="accelerate", platform="macOS-14-arm64")
    return info


def paths(node, prefix: tuple = ()):
    """Every path into a nested JSON value (the first three items of each list)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            yield from paths(value, prefix + (index,))
