# GENERATED from src/20_capstone/20_capstone.py by tinytorch_course/authoring/export.py: do not edit.
# It carries the reference solutions. Change the source and run `make export`;
# each block below names the source cell it came from.
# ---- from src/20_capstone/20_capstone.py:76 (cell 'imports')
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


__all__ = [
    'SimpleMLP',
    'train_baseline',
    'BenchmarkReport',
    'measure_model',
    'generate_submission',
    'submission_errors',
    'validate_submission_schema',
    'save_submission',
    'load_submission',
]


# ---- from src/20_capstone/20_capstone.py:115 (cell 'simple-mlp')
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
        return self.fc2(self.relu(self.fc1(x)))

    __call__ = forward

    def parameters(self) -> list:
        """Every trainable Tensor: weights and biases of both layers."""
        return self.fc1.parameters() + self.fc2.parameters()

    def count_parameters(self) -> int:
        """Number of scalar parameters (the logical, dense count)."""
        return count_parameters(self)


# ---- from src/20_capstone/20_capstone.py:202 (cell 'train-baseline')
def train_baseline(X_train: np.ndarray, y_train: np.ndarray, *, epochs: int = 30,
                   seed: int = 0) -> SimpleMLP:
    """A SimpleMLP trained with Adam on the given data (deterministic for a given seed)."""
    model = SimpleMLP(X_train.shape[1], 32, int(np.max(y_train)) + 1, seed=seed)
    train(model, X_train, y_train, epochs=epochs, batch_size=32, lr=0.005, seed=seed)
    return model


# ---- from src/20_capstone/20_capstone.py:251 (cell 'benchmark-report-class')
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


# ---- from src/20_capstone/20_capstone.py:349 (cell 'benchmark-report')
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


# ---- from src/20_capstone/20_capstone.py:885 (cell 'submission-helpers')
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


# ---- from src/20_capstone/20_capstone.py:945 (cell 'generate-submission')
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
    return submission


# ---- from src/20_capstone/20_capstone.py:1175 (cell 'schema-helpers')
from tinytorch.submission.errors import SubmissionFileError, SubmissionValidationError
from tinytorch.submission.paths import json_path, lookup
from tinytorch.submission.schema import load_schema, schema_errors
from tinytorch.submission.values import is_number, non_finite_paths, relatively_close


# ---- from src/20_capstone/20_capstone.py:1221 (cell 'validator')
def submission_errors(submission: Any) -> list:
    """Every problem of `submission` as 'path: message' strings; empty when it is valid."""
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


def validate_submission_schema(submission: Any) -> bool:
    """True when `submission` is valid; otherwise raise SubmissionValidationError listing every problem."""
    errors = submission_errors(submission)
    if errors:
        raise SubmissionValidationError(errors)
    return True


# ---- from src/20_capstone/20_capstone.py:1516 (cell 'save-load')
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
