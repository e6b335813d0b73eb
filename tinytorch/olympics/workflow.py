"""The whole capstone in one call, as `tinytorch olympics run` runs it: train the baseline,
make the optimized variants, benchmark every model, and write the INT8 submission."""

from __future__ import annotations

import os
from collections.abc import Callable

from tinytorch.data import load_digits
from tinytorch.olympics.capstone import BenchmarkReport, generate_submission, save_submission, train_baseline
from tinytorch.perf.variants import optimized_variants
from tinytorch.submission.tables import format_table


def run_workflow(
    out_path: str | os.PathLike = "build/results/submission.json",
    num_runs: int = 100,
    seed: int = 0,
    progress: bool = True,
    student_name: str | None = None,
    log: Callable[[str], None] = print,
) -> dict:
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
        submission = generate_submission(
            reports["baseline"], reports["int8"], student_name=student_name, techniques_applied=variants["int8"][1]
        )
    else:
        submission = generate_submission(reports["baseline"], student_name=student_name)
    path = save_submission(submission, out_path)
    log(f"\nsubmission written to {path}")
    return submission
