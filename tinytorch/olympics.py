# Generated from src/20_capstone/20_capstone.py by tools/export.py; do not edit.
# Change the source and run `make export`.
"""The capstone's benchmarking and submission library.

`BenchmarkReport` measures a model; `generate_submission`, `save_submission`,
`load_submission` and `validate_submission_schema` turn measurements into a validated JSON
submission; `run_workflow` runs the whole capstone on the embedded digits data.
"""
from __future__ import annotations

import copy
import datetime as _dt
import functools
import json
import math
import os
import platform
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

import tinytorch
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import accuracy as _accuracy, train
from tinytorch.data import load_digits
from tinytorch.perf.benchmarking import peak_memory_bytes, time_callable
from tinytorch.perf.profiling import count_parameters, model_size_bytes
from tinytorch.perf.statistics import intervals_overlap, mann_whitney_u

try:  # the optimizations are optional: without them the baseline workflow still runs
    from tinytorch.perf.compression import (
        magnitude_prune, pruning_masks, structured_prune, to_sparse,
    )
    from tinytorch.perf.quantization import quantize_model
    OPTIMIZATIONS_AVAILABLE = True
except ImportError:  # pragma: no cover - exercised by a test that hides tinytorch.perf
    OPTIMIZATIONS_AVAILABLE = False

MIB = 2 ** 20  # "MB" in every metric means MiB, 1,048,576 bytes
SUBMISSION_SCHEMA_VERSION = 2
MAX_SUBMISSION_BYTES = 10 * MIB
METRIC_KEYS = (
    "parameter_count", "model_size_mb", "accuracy",
    "latency_ms_mean", "latency_ms_std", "latency_ms_p50", "latency_ms_p90", "latency_ms_p99",
    "throughput_samples_per_sec", "batch_throughput_samples_per_sec", "peak_memory_mb",
)


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


def train_baseline(X_train: np.ndarray, y_train: np.ndarray, *, epochs: int = 30,
                   seed: int = 0) -> SimpleMLP:
    """A SimpleMLP trained with Adam on the given data (deterministic for a given seed)."""
    model = SimpleMLP(X_train.shape[1], 32, int(np.max(y_train)) + 1, seed=seed)
    train(model, X_train, y_train, epochs=epochs, batch_size=32, lr=0.005, seed=seed)
    return model


def utc_timestamp() -> str:
    """Now, as ISO-8601 with an explicit +00:00 offset (Python 3.10's fromisoformat rejects 'Z')."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _blas_info() -> tuple[str, Optional[int]]:
    """Name/version of the BLAS numpy uses and its thread count, as far as can be told."""
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                name = f"{pool.get('internal_api', 'blas')} {pool.get('version') or ''}".strip()
                return name, int(pool["num_threads"])
    except Exception:  # threadpoolctl missing or unable to inspect this build
        pass
    return "unknown", None


def collect_system_info() -> dict:
    """A description of this machine and software, so results can be compared fairly."""
    blas, blas_threads = _blas_info()
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine() or "unknown",
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "cpu_count": os.cpu_count() or 1,
        "blas": blas,
        "blas_threads": blas_threads,
        "tinytorch_version": tinytorch.__version__,
    }


def _as_arrays(model: Any, X_test: Any, y_test: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check a model and a test set, and return X as float32 (n, features) and y as int labels."""
    for method in ("forward", "parameters"):
        if not callable(getattr(model, method, None)):
            raise ValueError(f"model: expected an object with .forward(x) and .parameters() methods, "
                             f"got {type(model).__name__} without .{method}")
    try:
        X = np.asarray(X_test.data if isinstance(X_test, Tensor) else X_test, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(f"X_test: expected numbers, a Tensor or array of shape (samples, features): {error}") from None
    y = np.asarray(y_test.data if isinstance(y_test, Tensor) else y_test)
    if X.ndim != 2:
        raise ValueError(f"X_test: expected a 2-D array (samples, features), got shape {X.shape}")
    if len(X) == 0:
        raise ValueError("X_test: the test set is empty; at least one sample is needed")
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y_test: expected {len(X)} integer labels (one per row of X_test), got shape {y.shape}")
    if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
        raise ValueError(f"y_test: expected integer class labels, got {y.dtype} values such as {y[0]!r}")
    y = y.astype(np.int64, copy=False)
    return X, y


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
        X, y = _as_arrays(model, X_test, y_test)
        for name, value, low in (("num_runs", num_runs, 1), ("warmup_runs", warmup_runs, 0),
                                 ("batch_size", batch_size, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name}: expected an integer ≥ {low}, got {value!r}")
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
        self.timestamp = utc_timestamp()
        return self.metrics

    def __repr__(self) -> str:
        state = "not benchmarked" if not self.metrics else f"p50 {self.metrics['latency_ms_p50']:.4f} ms"
        return f"BenchmarkReport({self.model_name!r}, {state})"


def prune_and_finetune(model: Any, X_train: np.ndarray, y_train: np.ndarray, *,
                       sparsity: float = 0.8, epochs: int = 15, seed: int = 0) -> Any:
    """Magnitude-prune `model`, fine-tune with the pruned weights held at zero, store sparse."""
    pruned = magnitude_prune(model, sparsity)
    train(pruned, X_train, y_train, epochs=epochs, batch_size=32, lr=0.003, seed=seed,
          masks=pruning_masks(pruned))
    return to_sparse(pruned)


def optimized_variants(model: Any, X_train: np.ndarray, y_train: np.ndarray, *,
                       seed: int = 0) -> dict:
    """Name → (model, techniques) for every optimization the framework offers.

    Empty, with a message, when `tinytorch.perf`'s optimizations cannot be imported.
    """
    if not OPTIMIZATIONS_AVAILABLE:
        print("tinytorch.perf optimizations unavailable: skipping quantization and pruning")
        return {}
    structured = structured_prune(model, 0.5)
    train(structured, X_train, y_train, epochs=5, batch_size=32, lr=0.005, seed=seed)
    return {
        "int8": (quantize_model(model), ["int8_quantization"]),
        "pruned_80_sparse": (prune_and_finetune(model, X_train, y_train, seed=seed),
                             ["magnitude_pruning", "fine_tuning", "sparse_storage"]),
        "structured_50": (structured, ["structured_pruning", "fine_tuning"]),
    }


def format_table(rows: dict, keys: tuple = METRIC_KEYS) -> str:
    """A plain-text table: one column per model (name → metrics dict), one row per metric."""
    names = list(rows)
    width = max(12, *(len(n) for n in names))
    lines = [f"{'metric':<34}" + "".join(f"{n:>{width + 2}}" for n in names)]
    for key in keys:
        cells = "".join(f"{format_number(rows[n].get(key)):>{width + 2}}" for n in names)
        lines.append(f"{key:<34}{cells}")
    return "\n".join(lines)


def format_number(value: Any) -> str:
    """A metric for a table: ints with thousands separators, floats to 4 significant digits, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def compact_samples(samples_ms: list) -> list:
    """Raw latency samples rounded to 5 significant digits: a third of the JSON, same statistics."""
    return [float(f"{s:.5g}") for s in samples_ms]


def speedup_significance(baseline: dict, optimized: dict, alpha: float = 0.05) -> dict:
    """Whether two models' latencies differ by more than noise.

    `baseline` and `optimized` are model entries (`metrics` and `latency_samples_ms`). With at
    least five raw samples on each side: a two-sided Mann–Whitney U test at level `alpha`.
    Otherwise (files upgraded from schema version 1): the ranges mean ± 2 std must not overlap.
    """
    a, b = baseline.get("latency_samples_ms") or [], optimized.get("latency_samples_ms") or []
    if len(a) >= 5 and len(b) >= 5:
        _, p = mann_whitney_u(a, b)
        return {"speedup_significant": bool(p < alpha), "significance_test": "mann-whitney-u",
                "p_value": float(p)}
    ranges = [(m["latency_ms_mean"] - 2 * m["latency_ms_std"], m["latency_ms_mean"] + 2 * m["latency_ms_std"])
              for m in (baseline["metrics"], optimized["metrics"])]
    return {"speedup_significant": not intervals_overlap(*ranges), "significance_test": "range-overlap",
            "p_value": None}


def safe_ratio(numerator: float, denominator: float, what: str) -> float:
    """numerator / denominator, refusing a zero or negative denominator with a message naming `what`."""
    if not denominator > 0:
        raise ValueError(f"{what}: cannot compute a ratio with a denominator of {denominator!r}")
    return float(numerator / denominator)


def _require_benchmarked(report: Any, argument: str) -> None:
    if not isinstance(report, BenchmarkReport) and not hasattr(report, "metrics"):
        raise ValueError(f"{argument}: expected a BenchmarkReport, got {type(report).__name__}")
    if not report.metrics:
        raise ValueError(f"{argument}: report {getattr(report, 'model_name', '?')!r} was never benchmarked; "
                         "call .benchmark_model(...) first")


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
    return submission


class SubmissionValidationError(ValueError):
    """A submission breaks the schema or a cross-field rule.

    `.errors` lists every violation; `.source` names the file (or is None); `.reason` is the
    message without the file name.
    """

    def __init__(self, errors: list, source: Optional[str] = None) -> None:
        self.errors, self.source = list(errors), source
        self.reason = (f"invalid submission ({len(self.errors)} problem{'s' if len(self.errors) != 1 else ''}):"
                       "\n  - " + "\n  - ".join(self.errors))
        super().__init__(f"{source}: {self.reason}" if source else self.reason)


class SubmissionFileError(ValueError):
    """A submission file cannot be read at all: missing, too large, not JSON, or absurdly nested.

    `.source` names the file; `.reason` says what is wrong with it.
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source, self.reason = source, reason
        super().__init__(f"{source}: {reason}")


@functools.lru_cache(maxsize=1)
def load_schema() -> dict:
    """The submission JSON Schema shipped in the package."""
    text = resources.files("tinytorch").joinpath("schemas/submission.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _schema_validator():
    from tinytorch.schema_check import SchemaChecker  # jsonschema, made fast for 100-sample arrays
    return SchemaChecker(load_schema())


def json_path(parts: Any) -> str:
    """`['baseline', 'latency_samples_ms', 3]` → `baseline.latency_samples_ms[3]`; `[]` → `submission`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "submission"


MAX_NESTING = 16  # a submission nests 4 levels; deeper is not a submission, and slows every check


def nesting_depth(node: Any) -> int:
    """How many levels of lists and dicts `node` has (a number or string has 0)."""
    deepest, stack = 0, [(node, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth + 1)
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def schema_errors(submission: Any) -> list:
    """Every JSON Schema violation of `submission`, as 'path: message' strings."""
    too_deep = [f"{key}: nested more than {MAX_NESTING} levels deep" for key, value in
                (submission.items() if isinstance(submission, dict) else [("submission", submission)])
                if nesting_depth(value) > MAX_NESTING]
    if too_deep:  # no schema check: its messages would print the whole monster
        return too_deep
    messages = []
    for error in sorted(_schema_validator().iter_errors(submission), key=lambda e: list(map(str, e.absolute_path))):
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        messages.append(f"{json_path(error.absolute_path)}: {message}")
    stamp = submission.get("timestamp") if isinstance(submission, dict) else None
    if isinstance(stamp, str) and not any(m.startswith("timestamp:") for m in messages):
        try:
            _dt.datetime.fromisoformat(stamp)
        except ValueError:  # the pattern admits month 13 or hour 99; the calendar does not
            messages.append(f"timestamp: {stamp!r} is not a real date and time")
    return messages


def lookup(submission: Any, *path: Any) -> Any:
    """The value at `path` inside nested dicts, or None when any step is missing or not a dict."""
    node = submission
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def is_number(value: Any) -> bool:
    """True for finite int and float values; False for bools, NaN, ±inf, ints beyond float range, and the rest."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float (JSON allows any number of digits)
        return False


def non_finite_paths(node: Any) -> list:
    """Paths of every number anywhere inside `node` that is NaN, infinite, or too large for a float."""
    found, stack = [], [(node, ())]
    while stack:  # a loop, not recursion: a hostile file may nest a thousand levels deep
        value, path = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, path + (k,)) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, path + (i,)) for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and not is_number(value):
            found.append(json_path(path))
    return found


def relatively_close(a: Any, b: Any, tolerance: float = 1e-3) -> bool:
    """a ≈ b within a relative tolerance (both must be numbers)."""
    return is_number(a) and is_number(b) and abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-12)


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


def save_submission(submission: dict, filepath: str | os.PathLike = "submission.json") -> str:
    """Validate `submission` and write it atomically as JSON; return the path written."""
    errors = submission_errors(submission)
    if errors:
        raise SubmissionValidationError(errors, source=str(filepath))
    path = Path(filepath)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(submission, indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(path)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def read_submission_file(filepath: str | os.PathLike) -> Any:
    """The parsed JSON of a submission file, unvalidated; SubmissionFileError when unreadable."""
    path = Path(filepath)
    source = str(filepath)
    try:
        if not path.is_file():
            raise SubmissionFileError(source, "no such file")
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            raise SubmissionFileError(source, f"{size / MIB:.1f} MiB is over the {MAX_SUBMISSION_BYTES / MIB:.0f} "
                                              "MiB limit for a submission file")
        data = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_reject_constant)
    except OSError as error:
        raise SubmissionFileError(source, f"cannot be read ({error.strerror or error})") from None
    except RecursionError:
        raise SubmissionFileError(source, "nested too deeply to be a submission") from None
    except UnicodeDecodeError as error:
        raise SubmissionFileError(source, f"not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        raise SubmissionFileError(source, f"not valid JSON: {error.msg} at line {error.lineno}, "
                                          f"column {error.colno}") from None
    except SubmissionFileError:
        raise
    except ValueError as error:
        raise SubmissionFileError(source, str(error)) from None
    if nesting_depth(data) > MAX_NESTING:
        raise SubmissionFileError(source, f"nested more than {MAX_NESTING} levels deep: not a submission")
    return data


def upgrade_submission(submission: Any) -> Any:
    """A copy of a schema-version-1 submission in the current shape; others are returned as they are.

    Version 1 had no raw latency samples and no significance fields. The samples become empty
    lists, and significance is judged by range overlap, the only test the stored numbers allow.
    """
    version = submission.get("schema_version") if isinstance(submission, dict) else None
    if type(version) is not int or version != 1:  # missing, 1.0 or true are errors, not version 1
        return submission
    upgraded = copy.deepcopy(submission)
    upgraded["schema_version"] = SUBMISSION_SCHEMA_VERSION
    for model in ("baseline", "optimized"):
        if isinstance(upgraded.get(model), dict):
            upgraded[model].setdefault("latency_samples_ms", [])
    imp, base, opt = (lookup(upgraded, k) for k in ("improvements", "baseline", "optimized"))
    if isinstance(imp, dict) and isinstance(lookup(base, "metrics"), dict) and isinstance(lookup(opt, "metrics"), dict):
        try:
            imp.update(speedup_significance(base, opt))
        except (KeyError, TypeError, ValueError, OverflowError):
            pass  # broken metrics or samples: leave it to the validator to say what is wrong
    return upgraded


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


def format_comparison(submission: dict) -> str:
    """A table of the submission's baseline and optimized metrics, with the improvements."""
    rows = {submission["baseline"]["model_name"]: submission["baseline"]["metrics"]}
    if "optimized" in submission:
        rows[submission["optimized"]["model_name"]] = submission["optimized"]["metrics"]
    table = format_table(rows)
    imp = submission.get("improvements")
    if imp:
        verdict = "significant" if imp["speedup_significant"] else "not significant"
        p = f", p = {imp['p_value']:.3g}" if imp.get("p_value") is not None else ""
        table += (f"\n\nspeedup {imp['speedup']:.3f}× ({verdict}, {imp['significance_test']}{p}), "
                  f"compression {imp['compression_ratio']:.2f}×, accuracy Δ {imp['accuracy_delta']:+.4f}")
    return table


def run_workflow(out_path: str | os.PathLike = "build/results/submission.json", num_runs: int = 100,
                 seed: int = 0, progress: bool = True, student_name: Optional[str] = None,
                 log: Callable[[str], None] = print) -> dict:
    """Train, optimize, benchmark and submit on the embedded digits data; return the submission.

    Every optimized variant is measured and shown; the INT8 model is the one submitted.
    """
    X_tr, y_tr, X_te, y_te = load_digits(seed=seed)
    baseline = train_baseline(X_tr, y_tr, seed=seed)
    reports = {"baseline": BenchmarkReport("baseline_fp32")}
    reports["baseline"].benchmark_model(baseline, X_te, y_te, num_runs=num_runs, progress=progress)
    variants = optimized_variants(baseline, X_tr, y_tr, seed=seed)
    for name, (model, _) in variants.items():
        reports[name] = BenchmarkReport(name)
        reports[name].benchmark_model(model, X_te, y_te, num_runs=num_runs, progress=progress)
    log("every model measured:\n" + format_table({r.model_name: r.metrics for r in reports.values()}))
    if "int8" in variants:
        submission = generate_submission(reports["baseline"], reports["int8"], student_name=student_name,
                                         techniques_applied=variants["int8"][1])
    else:
        submission = generate_submission(reports["baseline"], student_name=student_name)
    path = save_submission(submission, out_path)
    log(f"\nsubmission written to {path}")
    return submission
