"""jupytext.toml pairs the release with a percent script for students who prefer a text editor:
`jupytext --sync` on a copy of the release writes the .py, the .py reads back as the same
notebook, and an edit made in the .py syncs back into a notebook nbgrader can still grade."""

from __future__ import annotations

import shutil
from pathlib import Path

import jupytext
import nbformat
from jupytext.cli import jupytext as jupytext_cli
from nbgrader.utils import compute_checksum

from tinytorch_course.paths import NOTEBOOK_ID, RELEASE_NOTEBOOK, REPO

from pipeline_helpers import nbgrader_meta

STUB = "raise NotImplementedError()"


def _essence(nb) -> list[tuple]:
    """What must survive the trip through the script: type, source and grading metadata."""
    return [
        (c.cell_type, c.source, nbgrader_meta(c), c.metadata.get("editable"), c.metadata.get("deletable"))
        for c in nb.cells
    ]


def _student_copy(root: Path) -> Path:
    """The release and the pairing config where a student has them: modules/20_capstone/."""
    shutil.copy(REPO / "jupytext.toml", root / "jupytext.toml")
    notebook = root / RELEASE_NOTEBOOK.relative_to(REPO)
    notebook.parent.mkdir(parents=True)
    shutil.copy(RELEASE_NOTEBOOK, notebook)
    return notebook


def _sync(notebook: Path) -> None:
    """`jupytext --sync NOTEBOOK`, run in-process (jupytext finds jupytext.toml beside or above
    the notebook, whatever the working directory)."""
    assert jupytext_cli(["--sync", str(notebook)]) in (0, None)


def test_sync_writes_a_percent_script_that_reads_back_as_the_release(tmp_path):
    notebook = _student_copy(tmp_path)
    _sync(notebook)
    script = notebook.with_name(f"{NOTEBOOK_ID}.py")
    assert script.is_file(), "jupytext --sync should create the paired script"
    text = script.read_text()
    assert "format_name: percent" in text and "# %% deletable=false editable=false nbgrader={" in text
    release = nbformat.read(str(RELEASE_NOTEBOOK), as_version=4)
    assert _essence(jupytext.read(script)) == _essence(release)


def test_an_edit_in_the_script_syncs_back_and_stays_gradable(tmp_path):
    notebook = _student_copy(tmp_path)
    _sync(notebook)
    script = notebook.with_name(f"{NOTEBOOK_ID}.py")
    text = script.read_text()
    assert STUB in text
    script.write_text(text.replace(STUB, "return 42  # written in the script", 1))
    _sync(notebook)
    synced = nbformat.read(str(notebook), as_version=4)
    nbformat.validate(synced)
    edited = [c for c in synced.cells if "written in the script" in c.source]
    assert len(edited) == 1 and nbgrader_meta(edited[0]).get("solution"), "the edit lands in its solution cell"
    release = nbformat.read(str(RELEASE_NOTEBOOK), as_version=4)
    assert [nbgrader_meta(c) for c in synced.cells] == [nbgrader_meta(c) for c in release.cells]
    for cell in synced.cells:
        meta = nbgrader_meta(cell)
        if meta.get("locked"):
            assert compute_checksum(cell) == meta["checksum"], f"locked cell {meta['grade_id']} changed"
