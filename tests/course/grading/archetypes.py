"""The mistake corpus of the autograding tests: student archetypes built from the release, each
the reference solution with one mistake the chapter warns about, and what each must lose. Graded
by `make autograde` in tests/course/grading/test_autograde.py; a few of them are also graded once
per run by stock nbgrader (tests/course/grading/conftest.py), the reference the other grading
tests compare with."""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tinytorch_course.grading.coordinator import run_sequential
from tinytorch_course.paths import SOURCE_DIRECTORY, submission_path
from tinytorch_course.student.venv import locked

from pipeline_helpers import (
    LOOP_FOREVER,
    cell_by_id,
    gradebook_rows,
    mutate,
    nbgrader_meta,
    reference_submission,
    write_submission,
)


def lit(old: str, new: str) -> tuple[str, str]:
    """A literal replacement for `mutate(..., regex=True)`."""
    return re.escape(old), new.replace("\\", r"\\")


# The mistake corpus: archetype -> (solution cell, replacements, graded cells aimed at it). Each
# archetype is the reference solution with one mistake the chapter warns about (issues 4 and 12,
# the "traps" list, and every rule the task statements give); it must lose exactly the points of
# the graded cells listed, and keep every other point.
MISTAKES = {
    # measure_model
    "numpy-types": (
        "benchmark-report",
        [
            lit(
                '"parameter_count": int(count_parameters(model)),',
                '"parameter_count": np.int64(count_parameters(model)),',
            )
        ],
        {"test-report-native-types"},
    ),
    "accuracy-percent": (
        "benchmark-report",
        [lit('"accuracy": float(_accuracy(model, X, y)),', '"accuracy": float(100 * _accuracy(model, X, y)),')],
        {"test-report-accuracy"},
    ),
    "accuracy-on-first-rows": (
        "benchmark-report",
        [lit('"accuracy": float(_accuracy(model, X, y)),', '"accuracy": float(_accuracy(model, X[:100], y[:100])),')],
        {"test-report-accuracy"},
    ),
    "size-from-parameter-count": (
        "benchmark-report",
        [
            lit(
                '"model_size_mb": float(model_size_bytes(model) / MIB),',
                '"model_size_mb": float(4 * count_parameters(model) / MIB),',
            )
        ],
        {"test-report-size"},
    ),
    "batch-time-as-latency": (
        "benchmark-report",
        [
            lit(
                "one, batch = Tensor(X[:1]), Tensor(X[:batch_size])",
                "one, batch = Tensor(X[:batch_size]), Tensor(X[:batch_size])",
            )
        ],
        {"test-report-latency"},
    ),
    "batch-time-divided-as-latency": (
        "benchmark-report",
        [
            lit(
                "one, batch = Tensor(X[:1]), Tensor(X[:batch_size])",
                "one, batch = Tensor(X[:batch_size]), Tensor(X[:batch_size])",
            ),
            (r"latency\.(mean|std|p50|p90|p99)\b", r"(latency.\1 / batch.shape[0])"),
        ],
        {"test-report-latency"},
    ),
    "batch-never-timed": (
        "benchmark-report",
        [lit("float(rows * 1000.0 / batch_timing.median)", "float(batch_size * 1000.0 / latency.mean)")],
        {"test-report-batch"},
    ),
    "batch-mean-not-median": (
        "benchmark-report",
        [lit("float(rows * 1000.0 / batch_timing.median)", "float(rows * 1000.0 / batch_timing.mean)")],
        {"test-report-batch"},
    ),
    "batch-size-not-rows": (
        "benchmark-report",
        [
            lit("float(rows * 1000.0 / batch_timing.median)", "float(batch_size * 1000.0 / batch_timing.median)"),
            lit('"batch_size": int(rows)', '"batch_size": int(batch_size)'),
        ],
        {"test-report-batch"},
    ),
    "no-warmup": (
        "benchmark-report",
        [lit("warmup_runs=warmup_runs, name=name,", "warmup_runs=0, name=name,")],
        {"test-report-warmup"},
    ),
    "warmup-of-its-own": (
        "benchmark-report",
        [lit("warmup_runs=warmup_runs, name=name,", "warmup_runs=10, name=name,")],
        {"test-report-warmup"},
    ),
    "single-run": (
        "benchmark-report",
        [lit("lambda: model.forward(one), num_runs=num_runs,", "lambda: model.forward(one), num_runs=1,")],
        {"test-report-metrics"},
    ),
    "autograd-on-while-timing": (
        "benchmark-report",
        [lit("    with no_grad():\n", "    if True:\n")],
        {"test-report-timed-region"},
    ),
    "input-built-while-timing": (
        "benchmark-report",
        [lit("lambda: model.forward(one)", "lambda: model.forward(Tensor(X[:1]))")],
        {"test-report-timed-region"},
    ),
    "prints-while-timing": (
        "benchmark-report",
        [lit("lambda: model.forward(one)", 'lambda: print(".", end="") or model.forward(one)')],
        {"test-report-timed-region"},
    ),
    # generate_submission
    "speedup-inverted": (
        "generate-submission",
        [
            lit(
                'safe_ratio(base_m["latency_ms_mean"], opt_m["latency_ms_mean"],',
                'safe_ratio(opt_m["latency_ms_mean"], base_m["latency_ms_mean"],',
            )
        ],
        {"test-submission-speedup"},
    ),
    "own-significance-rule": (
        "generate-submission",
        [
            lit(
                '**speedup_significance(submission["baseline"], optimized),',
                '"speedup_significant": bool(opt_m["latency_ms_mean"] < base_m["latency_ms_mean"]), '
                '"significance_test": "mann-whitney-u", "p_value": None,',
            )
        ],
        {"test-submission-speedup"},
    ),
    "student-name-none-kept": (
        "generate-submission",
        [lit("if student_name is not None:", "if True:")],
        {"test-submission"},
    ),
    "report-aliasing": (
        "generate-submission",
        [lit('"metrics": copy.deepcopy(report.metrics),', '"metrics": report.metrics,')],
        {"test-submission-copies"},
    ),
    "samples-aliasing": (
        "generate-submission",
        [
            lit(
                '"latency_samples_ms": compact_samples(report.latency_samples_ms),',
                '"latency_samples_ms": report.latency_samples_ms,',
            )
        ],
        {"test-submission-copies"},
    ),
    "measurement-aliasing": (
        "generate-submission",
        [lit('"measurement": copy.deepcopy(report.measurement),', '"measurement": report.measurement,')],
        {"test-submission-copies"},
    ),
    # the validator
    "validator-without-schema": (
        "validator",
        [lit("errors = schema_errors(submission)", "errors = []")],
        {"test-validator-schema"},
    ),
    "indexes-without-lookup": (
        "validator",
        [
            lit(
                'lookup(submission, model, "metrics", f"latency_ms_{q}")',
                'submission.get(model, {}).get("metrics", {}).get(f"latency_ms_{q}")',
            )
        ],
        {"test-validator-schema"},
    ),
    "finite-metrics-only": (
        "validator",
        [
            lit(
                "for path in non_finite_paths(submission)]",
                'for path in non_finite_paths(submission) if ".metrics." in path]',
            )
        ],
        {"test-validator-finite"},
    ),
    "improvements-without-optimized": (
        "validator",
        [lit("if has_improvements and not has_optimized:", "if False:")],
        {"test-validator-structure"},
    ),
    "no-compression-check": (
        "validator",
        [
            lit(
                '            ("compression_ratio", metric("baseline", "model_size_mb"), metric("optimized", "model_size_mb"),\n'
                '             "baseline.metrics.model_size_mb / optimized.metrics.model_size_mb"),\n',
                "",
            )
        ],
        {"test-validator-improvements"},
    ),
    "ratios-compared-exactly": (
        "validator",
        [lit("and not relatively_close(stated, num / den):", "and stated != num / den:")],
        {"test-validator-improvements"},
    ),
    "accuracy-delta-without-tolerance": (
        "validator",
        [lit("abs(delta - (o_acc - b_acc)) > 1e-6", "delta != o_acc - b_acc")],
        {"test-validator-improvements"},
    ),
    "no-percentile-check": (
        "validator",
        [lit("if is_number(low) and is_number(high) and low > high:", "if False:")],
        {"test-validator-percentiles"},
    ),
    "percentile-names-the-lower": (
        "validator",
        [
            lit(
                'errors.append(f"{model}.metrics.latency_ms_{q_high}: {high} is below "',
                'errors.append(f"{model}.metrics.latency_ms_{q_low}: {high} is below "',
            )
        ],
        {"test-validator-percentiles"},
    ),
    "validator-with-assert": (
        "validator",
        [
            lit(
                "            if is_number(low) and is_number(high) and low > high:\n",
                "            try:\n"
                "                assert not (is_number(low) and is_number(high) and low > high)\n"
                "            except AssertionError:\n",
            )
        ],
        {"test-validator-no-assert"},
    ),
    # A part left undone costs only its own test.
    "forward-not-done": (
        "simple-mlp",
        [lit("return self.fc2(self.relu(self.fc1(x)))", "raise NotImplementedError()")],
        {"test-simple-mlp"},
    ),
}
# A loop at the top of this solution cell: the cell times out, so what it defines never exists.
LOOP_CELL = "generate-submission"
LOOP_LOSES = {"test-submission", "test-submission-speedup", "test-submission-copies"}
EDITED_TEST = "test-submission-copies"  # edited by a student who also has the aliasing mistake
DELETED_TEST = "test-report-accuracy"  # deleted by a student with a correct solution
INVALID = "invalid-json"


def archetypes(release, source) -> dict:
    """Student id -> (submission notebook or raw text, graded cells expected to lose points)."""
    reference = reference_submission(release, source)
    graded_ids = {nbgrader_meta(c)["grade_id"] for c in release.cells if nbgrader_meta(c).get("grade")}
    out = {"reference": (reference, set()), "untouched": (release, graded_ids)}
    for name, (cell, replacements, aimed) in MISTAKES.items():
        out[name] = (mutate(reference, cell, replacements, regex=True), aimed)
    edited = mutate(reference, *MISTAKES["report-aliasing"][:2], regex=True)
    cell_by_id(edited, EDITED_TEST).source = 'print("all tests pass")\n'
    out["edited-locked-test"] = (edited, {EDITED_TEST})
    deleted = copy.deepcopy(reference)
    deleted.cells = [c for c in deleted.cells if nbgrader_meta(c).get("grade_id") != DELETED_TEST]
    out["deleted-test-cell"] = (deleted, set())
    looping = mutate(reference, LOOP_CELL, [(r"\A", LOOP_FOREVER)], regex=True)
    out["infinite-loop"] = (looping, LOOP_LOSES)
    out[INVALID] = ('{"cells": [{"cell_type": "code", "source": ', graded_ids)
    return out


def write_handin(root: Path, student: str, submission) -> None:
    """Hand in ``submission`` for ``student`` in the course at ``root``: a notebook, or raw text
    written as it is (a file that is not a notebook)."""
    path = submission_path(root, student)
    if isinstance(submission, str):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(submission)
    else:
        write_submission(submission, path)


#: Archetypes graded once per run by stock sequential nbgrader: the rows `make autograde` must
#: give the same hand-ins (test_autograde.py, test_gradebook.py and test_autograde_dask.py
#: compare with them, so no file grades its own copy of them with stock nbgrader).
STOCK_GRADED = ("reference", "untouched", "forward-not-done", "improvements-without-optimized", INVALID)


@dataclass(frozen=True)
class StockGraded:
    """A course in which one stock sequential `nbgrader autograde` graded STOCK_GRADED."""

    root: Path
    failed: tuple[str, ...]  # of STOCK_GRADED, those nbgrader did not grade

    def rows(self, as_archetypes: Mapping[str, str]) -> dict:
        """:func:`gradebook_rows` of the archetypes, keyed by the names another course gave the
        same hand-ins (student -> archetype)."""
        rows = gradebook_rows(self.root, sorted(set(as_archetypes.values())))
        return {student: rows[archetype] for student, archetype in as_archetypes.items()}


def graded_by_stock(built_course, folder: Path) -> StockGraded:
    """STOCK_GRADED graded by stock nbgrader in ``folder``/stock-graded, once per ``folder``: the
    first caller, of any test process, grades them under a lock; the others wait and read. A copy
    of the shared course, whose gradebook other tests copy without students."""
    root, done = folder / "stock-graded", folder / "stock-graded.json"
    with locked(folder / "stock-graded.lock"):
        if not done.is_file():  # written last: a run that stopped half-way is started over
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(built_course.root / SOURCE_DIRECTORY, root / SOURCE_DIRECTORY)
            shutil.copy(built_course.root / "gradebook.db", root / "gradebook.db")
            handins = archetypes(built_course.release, built_course.source)
            for student in STOCK_GRADED:
                write_handin(root, student, handins[student][0])
            done.write_text(json.dumps(run_sequential(root, list(STOCK_GRADED), [])))
    return StockGraded(root, tuple(json.loads(done.read_text())))
