"""The capstone's optimizations on the embedded digits data, against the targets of the framework.

    python benchmarks/bench_optimizations.py

Uses the capstone's own functions (`train_baseline`, `prune_and_finetune` through
`optimized_variants`) and `tinytorch.perf`, so the figures are those a student's run produces:

- training the 64→32→10 baseline: ≥ 95% test accuracy in < 10 s;
- INT8 quantization: stored bytes ≤ 0.3× the FP32 model, accuracy drop ≤ 1 point;
- 80% magnitude pruning: one-shot accuracy (reported: it is expected to be poor), then after the
  fine-tune that keeps pruned weights at zero, accuracy drop ≤ 3 points; in sparse (CSR) form,
  stored bytes ≤ 0.5× FP32;
- 50% structured pruning (reported, no target): stored bytes and accuracy.

Stored bytes are `model_size_bytes`: every stored array, quantization scales and sparse indices
included. Prints each figure with PASS/FAIL (INFO where there is no target); exits 1 on any FAIL.
"""

from __future__ import annotations

import sys
import time

from tinytorch.core.training import accuracy
from tinytorch.data import load_digits
from tinytorch.olympics import optimized_variants, train_baseline
from tinytorch.perf.compression import magnitude_prune
from tinytorch.perf.profiling import model_size_bytes

from _common import verdict

TRAIN_SECONDS = 10.0
MIN_ACCURACY = 0.95
INT8_BYTES_RATIO, INT8_DROP_POINTS = 0.3, 1.0
SPARSE_BYTES_RATIO, PRUNED_DROP_POINTS = 0.5, 3.0


class Report:
    """Prints one figure per line with its verdict and remembers whether any target was missed."""

    def __init__(self) -> None:
        self.failed = False

    def check(self, label: str, figure: str, ok: bool, target: str) -> None:
        self.failed |= not ok
        print(f"{label:<48} {figure:>18}  (target {target})  {verdict(ok)}")

    @staticmethod
    def info(label: str, figure: str) -> None:
        print(f"{label:<48} {figure:>18}  INFO")


def main() -> int:
    X_train, y_train, X_test, y_test = load_digits()
    report = Report()

    start = time.perf_counter()
    baseline = train_baseline(X_train, y_train)
    seconds = time.perf_counter() - start
    base_acc = accuracy(baseline, X_test, y_test)
    base_bytes = model_size_bytes(baseline)
    report.check("baseline: training time", f"{seconds:.2f} s", seconds < TRAIN_SECONDS, f"< {TRAIN_SECONDS:g} s")
    report.check("baseline: test accuracy", f"{base_acc:.2%}", base_acc >= MIN_ACCURACY, f"≥ {MIN_ACCURACY:.0%}")
    report.info("baseline: stored bytes (FP32)", f"{base_bytes:,} B")

    def drop(model) -> tuple:
        acc = accuracy(model, X_test, y_test)
        return acc, (base_acc - acc) * 100

    variants = optimized_variants(baseline, X_train, y_train)
    if not variants:
        print("FAIL: tinytorch.perf optimizations unavailable")
        return 1

    int8 = variants["int8"][0]
    ratio = model_size_bytes(int8) / base_bytes
    acc, points = drop(int8)
    report.check("int8: stored bytes / FP32", f"{ratio:.3f}×", ratio <= INT8_BYTES_RATIO, f"≤ {INT8_BYTES_RATIO}×")
    report.check(
        "int8: accuracy drop", f"{points:+.2f} pt ({acc:.2%})", points <= INT8_DROP_POINTS, f"≤ {INT8_DROP_POINTS:g} pt"
    )

    acc, points = drop(magnitude_prune(baseline, 0.8))
    report.info("pruned 80%, one-shot: accuracy drop", f"{points:+.2f} pt ({acc:.2%})")
    sparse = variants["pruned_80_sparse"][0]
    acc, points = drop(sparse)
    ratio = model_size_bytes(sparse) / base_bytes
    report.check(
        "pruned 80% + fine-tune: accuracy drop",
        f"{points:+.2f} pt ({acc:.2%})",
        points <= PRUNED_DROP_POINTS,
        f"≤ {PRUNED_DROP_POINTS:g} pt",
    )
    report.check(
        "pruned 80%, sparse: stored bytes / FP32",
        f"{ratio:.3f}×",
        ratio <= SPARSE_BYTES_RATIO,
        f"≤ {SPARSE_BYTES_RATIO}×",
    )

    structured = variants["structured_50"][0]
    acc, points = drop(structured)
    report.info("structured 50% + fine-tune: stored bytes / FP32", f"{model_size_bytes(structured) / base_bytes:.3f}×")
    report.info("structured 50% + fine-tune: accuracy drop", f"{points:+.2f} pt ({acc:.2%})")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
