"""The whole capstone workflow on the embedded digits data, and the source run as a script."""

import subprocess
import sys
from pathlib import Path

import pytest

from tinytorch.olympics import load_submission, run_workflow

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "20_capstone" / "20_capstone.py"


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "submission.json"
    lines = []
    submission = run_workflow(out, num_runs=30, progress=False, log=lines.append)
    return out, submission, "\n".join(lines)


def test_workflow_meets_the_targets(workflow):
    out, submission, log = workflow
    assert load_submission(out) == submission
    assert submission["baseline"]["metrics"]["accuracy"] >= 0.95
    assert submission["improvements"]["compression_ratio"] >= 3.5
    assert submission["improvements"]["accuracy_delta"] >= -0.01
    assert submission["optimized"]["techniques_applied"] == ["int8_quantization"]
    for name in ("baseline_fp32", "int8", "pruned_80_sparse", "structured_50"):
        assert name in log, f"the comparison table lacks {name}"


def test_every_optimization_keeps_accuracy_and_shrinks_storage():
    from tinytorch.core.training import accuracy
    from tinytorch.data import load_digits
    from tinytorch.olympics import optimized_variants, train_baseline
    from tinytorch.perf.compression import measure_sparsity
    from tinytorch.perf.profiling import model_size_bytes

    X_tr, y_tr, X_te, y_te = load_digits()
    baseline = train_baseline(X_tr, y_tr)
    base_acc, base_bytes = accuracy(baseline, X_te, y_te), model_size_bytes(baseline)
    variants = optimized_variants(baseline, X_tr, y_tr)
    int8, pruned, structured = (variants[k][0] for k in ("int8", "pruned_80_sparse", "structured_50"))
    assert model_size_bytes(int8) <= 0.3 * base_bytes
    assert accuracy(int8, X_te, y_te) >= base_acc - 0.01
    assert measure_sparsity(pruned) >= 0.79
    assert model_size_bytes(pruned) <= 0.5 * base_bytes
    assert accuracy(pruned, X_te, y_te) >= base_acc - 0.03
    assert model_size_bytes(structured) < 0.6 * base_bytes
    assert accuracy(structured, X_te, y_te) >= base_acc - 0.03


def test_source_runs_top_to_bottom_as_a_script(tmp_path):
    result = subprocess.run([sys.executable, str(SOURCE)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "tests passed" in result.stdout and "failed" not in result.stdout
    assert (tmp_path / "submission.json").exists()


def test_baseline_still_runs_without_the_optimizations(tmp_path):
    code = (
        "import sys\n"
        "sys.modules['tinytorch.perf.quantization'] = None  # makes the import fail\n"
        "from tinytorch.olympics import run_workflow, OPTIMIZATIONS_AVAILABLE\n"
        "assert not OPTIMIZATIONS_AVAILABLE\n"
        f"sub = run_workflow({str(tmp_path / 's.json')!r}, num_runs=5, progress=False)\n"
        "assert 'optimized' not in sub\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "skipping quantization and pruning" in result.stdout
