"""TinyTorch Olympics: the capstone and every tool built on it.

This package carries solution code and is never part of the student edition:

- `capstone` is GENERATED from `src/20_capstone/20_capstone.py` (the reference solutions of
  what students write: `SimpleMLP`, `BenchmarkReport` with `measure_model`,
  `generate_submission`, the validator, `save_submission` / `load_submission`);
- `workflow`, `compare`, `leaderboard`, `plots`, `mlflow_export` and `cli` are hand-written
  tools built on it.

What may import what: `tinytorch.core`, `.data`, `.perf` and `.submission` (the student
package) never import from here; this package imports from them.
"""

from tinytorch.olympics.capstone import (
    BenchmarkReport,
    SimpleMLP,
    generate_submission,
    load_submission,
    measure_model,
    save_submission,
    submission_errors,
    train_baseline,
    validate_submission_schema,
)
from tinytorch.olympics.workflow import run_workflow
from tinytorch.perf.variants import OPTIMIZATIONS_AVAILABLE, optimized_variants
from tinytorch.submission.errors import SubmissionFileError, SubmissionValidationError
from tinytorch.submission.schema import load_schema
from tinytorch.submission.significance import speedup_significance
from tinytorch.submission.tables import format_comparison, format_number, format_table
from tinytorch.submission.vocabulary import MAX_SUBMISSION_BYTES, METRIC_KEYS, MIB, SUBMISSION_SCHEMA_VERSION

__all__ = [
    "BenchmarkReport",
    "SimpleMLP",
    "generate_submission",
    "load_submission",
    "measure_model",
    "save_submission",
    "submission_errors",
    "train_baseline",
    "validate_submission_schema",
    "run_workflow",
    "OPTIMIZATIONS_AVAILABLE",
    "optimized_variants",
    "SubmissionFileError",
    "SubmissionValidationError",
    "load_schema",
    "speedup_significance",
    "format_comparison",
    "format_number",
    "format_table",
    "MAX_SUBMISSION_BYTES",
    "METRIC_KEYS",
    "MIB",
    "SUBMISSION_SCHEMA_VERSION",
]
