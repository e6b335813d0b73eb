"""The package module is the exact export of the capstone source, and says where it came from."""

import re
import subprocess
import sys

import pytest

from tinytorch_course.authoring import export
from tinytorch_course.paths import REPO, SOURCE_PY


def test_committed_export_is_fresh():
    result = subprocess.run(
        [sys.executable, "-m", "tinytorch_course.authoring.export", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_export_keeps_only_tagged_cells_and_drops_markers():
    source = (
        "# %% [markdown]\n# # Title\n"
        "# %%\n#| export\ndef f():\n    # TODO: return one\n    #       (the number)\n    # kept\n"
        "    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
        "# %%\ndef test_f():\n    assert f() == 1\n"
    )
    code = export.exported_code(source)
    assert "def f():\n    # kept\n    return 1" in code
    assert "TODO" not in code and "the number" not in code
    assert "SOLUTION" not in code and "test_f" not in code and "Title" not in code
    assert code.startswith("# GENERATED from src/20_capstone/20_capstone.py")


def test_each_block_names_its_source_cell():
    source = (
        '# %% nbgrader={"grade_id": "first", "solution": true}\n#| export\nx = 1\n'
        "# %%\ny = 2\n"
        "# %%\n#| export\ndef g():\n    return 2\n"
    )
    code = export.exported_code(source)
    assert "# ---- from src/20_capstone/20_capstone.py:1 (cell 'first')\nx = 1" in code
    assert "# ---- from src/20_capstone/20_capstone.py:6\ndef g():" in code
    assert "__all__ = [\n    'x',\n    'g',\n]" in code


def test_committed_markers_point_at_the_source_cells():
    """Every block marker of the generated module names a line of the source that opens that cell."""
    code = export.TARGET.read_text(encoding="utf-8")
    source_lines = SOURCE_PY.read_text(encoding="utf-8").splitlines()
    markers = re.findall(r"^# ---- from \S+:(\d+)(?: \(cell '([^']+)'\))?$", code, flags=re.M)
    assert len(markers) >= 5, "the generated module marks its blocks"
    for line, grade_id in markers:
        header = source_lines[int(line) - 1]
        assert header.startswith("# %%"), f"line {line} of the source does not open a cell: {header!r}"
        assert f'"grade_id": "{grade_id}"' in header
        assert source_lines[int(line)].strip() == export.EXPORT_TAG


def test_all_lists_the_public_names_it_defines():
    import tinytorch.olympics.capstone as capstone

    assert set(capstone.__all__) == {
        "SimpleMLP",
        "train_baseline",
        "BenchmarkReport",
        "measure_model",
        "generate_submission",
        "submission_errors",
        "validate_submission_schema",
        "save_submission",
        "load_submission",
    }
    assert all(hasattr(capstone, name) for name in capstone.__all__)


def test_export_without_tagged_cells_fails():
    with pytest.raises(SystemExit, match="no cell starts with"):
        export.exported_code("# %%\nx = 1\n")
