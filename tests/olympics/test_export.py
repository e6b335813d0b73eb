"""The package module is the exact export of the capstone source."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import export  # noqa: E402


def test_committed_export_is_fresh():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "export.py"), "--check"],
                            capture_output=True, text=True)
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
    assert code.startswith("# Generated from")


def test_export_without_tagged_cells_fails():
    with pytest.raises(SystemExit, match="no cell starts with"):
        export.exported_code("# %%\nx = 1\n")
