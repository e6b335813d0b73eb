"""Exit codes of `tinytorch_course/authoring/release.py` for input it cannot use (no nbgrader run needed): 2 and a
message naming the problem, and nothing written."""

from __future__ import annotations

import pytest

from tinytorch_course.authoring.release import main

CELL = '# %% nbgrader={"grade": false, "grade_id": "same", "locked": false, "schema_version": 3, "solution": true, "task": false}\nx = 1\n\n'


def test_missing_source_is_exit_code_2_naming_the_file(tmp_path, capsys):
    missing, out = tmp_path / "nowhere.py", tmp_path / "capstone.ipynb"
    code = main(["--source", str(missing), "--course-root", str(tmp_path), "--out", str(out)])
    assert code == 2
    assert str(missing) in capsys.readouterr().err
    assert not out.exists()


def test_duplicate_grade_id_is_exit_code_2_naming_the_id(tmp_path, capsys):
    source, out = tmp_path / "module.py", tmp_path / "capstone.ipynb"
    source.write_text(CELL + CELL)
    code = main(["--source", str(source), "--course-root", str(tmp_path), "--out", str(out)])
    assert code == 2
    assert "'same'" in capsys.readouterr().err
    assert not out.exists()


def test_unknown_option_is_exit_code_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--no-such-option"])
    assert exit_.value.code == 2
