"""Build the student release of the capstone.

    jupytext source (.py)  ->  nbgrader source notebook (build/nbgrader/source/...)
                           ->  stock ``nbgrader generate_assignment 20_capstone --force``
                           ->  modules/20_capstone/capstone.ipynb

The build is deterministic: cell ids come from the nbgrader ``grade_id`` (or the cell's position),
jupytext's own metadata is dropped, and the notebook is written with sorted keys, so rebuilding
from an unchanged source gives the same file and a test can detect a stale release.

Usage: ``python -m tinytorch_course.authoring.release [--source PY] [--course-root DIR] [--out IPYNB]``.
Exit code 0 when the release is written, 1 when nbgrader fails to generate it, 2 on usage errors
or an unreadable source (missing file, duplicate grade ids).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import nbformat

from tinytorch_course.authoring.markers import EXPORT_TAG
from tinytorch_course.paths import (
    ASSIGNMENT_ID,
    RELEASE_NOTEBOOK,
    REPO,
    SOURCE_PY,
    generated_release_path,
    nbgrader_command,
    nbgrader_env,
    source_notebook_path,
)

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Cell metadata worth keeping; everything else (jupytext's layout hints) is build noise.
KEPT_CELL_METADATA = ("nbgrader", "tags")
# JupyterLab's "Run All" stops at the first cell that raises, unless the cell carries this tag
# (nbclient honours it too). A student's notebook is full of failing tests until the work is
# done, so every graded test cell carries it and Run All reaches the closing summary. nbgrader
# ignores tags when scoring: a test cell that raises still scores 0.
RAISES_TAG = "raises-exception"


def _cell_id(cell: nbformat.NotebookNode, index: int, taken: set[str]) -> str:
    """A stable, unique id: the nbgrader grade_id when there is one, else the position."""
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    candidate = grade_id or f"cell-{index:03d}"
    if candidate in taken:
        raise ValueError(f"duplicate cell id {candidate!r} (grade_id must be unique)")
    taken.add(candidate)
    return candidate


def _is_test_cell(cell: nbformat.NotebookNode) -> bool:
    """A graded cell that holds tests (autograded), not an answer the student writes."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _with_tag(tags: list[str], tag: str) -> list[str]:
    """``tags`` with ``tag`` added once, in the order written."""
    return list(tags) if tag in tags else [*tags, tag]


def _drop_export_marker(source: str) -> str:
    """The package-export tag means nothing to a student; leave it out of the notebook."""
    lines = source.split("\n")
    if lines and lines[0].strip() == EXPORT_TAG:
        lines = lines[1:]
    return "\n".join(lines)


def source_notebook(py_path: Path) -> nbformat.NotebookNode:
    """Read the jupytext percent source as a clean nbgrader source notebook."""
    import jupytext  # imported here: only the build needs it

    py_path = Path(py_path)
    if not py_path.is_file():
        raise FileNotFoundError(f"module source not found: {py_path}")
    nb = jupytext.read(py_path, fmt="py:percent")
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    taken: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA})
        cell.id = _cell_id(cell, index, taken)
        if cell.cell_type == "code":
            if _is_test_cell(cell):
                cell.metadata["tags"] = _with_tag(cell.metadata.get("tags", []), RAISES_TAG)
            cell.source = _drop_export_marker(cell.source)
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    return nb


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> Path:
    """Write ``nb`` in nbformat's canonical layout (sorted keys, one-space indent)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb, version=4)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def generate_assignment(course_root: Path) -> Path:
    """Run stock ``nbgrader generate_assignment`` (with this repo's nbgrader_config.py)."""
    cmd = nbgrader_command(
        "generate_assignment", ASSIGNMENT_ID, "--force", f"--CourseDirectory.root={Path(course_root).resolve()}"
    )
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=nbgrader_env())
    out = generated_release_path(course_root)
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{proc.stdout}{proc.stderr}")
    return out


def build_release(source: Path = SOURCE_PY, course_root: Path = REPO, out: Path = RELEASE_NOTEBOOK) -> Path:
    """Convert, generate and copy the release; returns the path of the student notebook."""
    write_notebook(source_notebook(source), source_notebook_path(course_root))
    generated = generate_assignment(course_root)
    release = nbformat.read(generated, as_version=4)
    release.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    return write_notebook(release, out)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE_PY, help="jupytext percent source")
    parser.add_argument(
        "--course-root", type=Path, default=REPO, help="nbgrader course root (holds build/nbgrader and gradebook.db)"
    )
    parser.add_argument("--out", type=Path, default=RELEASE_NOTEBOOK, help="student notebook to write")
    args = parser.parse_args(argv)
    try:
        out = build_release(args.source, args.course_root, args.out)
    except (FileNotFoundError, ValueError) as err:  # the input cannot be read or is malformed
        print(f"release: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # nbgrader refused to build it
        print(f"release: {err}", file=sys.stderr)
        return 1
    print(f"release: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
