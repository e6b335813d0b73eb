"""Put every locked cell of a submission back, in its place, before the submission is graded.

Stock nbgrader (``OverwriteCells`` with ``add_missing_cells``) restores the source of an edited
locked cell, but a student who deletes a test cell often gets no grade at all: it re-inserts the
cell after "the previous source cell" and looks that cell up among the graded and solution cells
only, so when the previous cell is a read-only fixture cell it fails with ``KeyError`` (nbgrader
0.9). It also leaves a moved test cell where the student put it (say, above the code it tests),
puts back only graded cells (not the read-only fixtures the tests need), and stops with
"Inconsistent checksums" when a student flipped a locked cell's ``grade``/``solution`` flag.

``RestoreLockedCells`` is a drop-in subclass for ``Autograde.sanitize_preprocessors`` (see
nbgrader_config.py). With ``add_missing_cells`` on, after stock per-cell overwriting it rebuilds
the notebook in the order of the assignment's source notebook:

- every cell the gradebook knows (test, fixture, solution cell) stands at its source position,
  each followed by the student's own cells that followed it in the submission;
- a missing locked cell is re-created from the gradebook's copy of its source (with nbgrader's
  "was missing" note), so it runs and is graded; a missing solution cell stays missing (it held
  the student's own work, which nobody can restore);
- the student's cells before the first known cell stay first.

Before the stock per-cell check, a locked cell's ``grade``/``solution``/``task`` flags are reset
from the gradebook, so its checksum can be restored instead of crashing the submission.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import OverwriteCells

#: The cell flags nbgrader's checksum covers and a student can flip in the notebook file.
ROLE_FLAGS = ("grade", "solution", "task")


def grade_id(cell: NotebookNode) -> str | None:
    """The nbgrader ``grade_id`` of ``cell`` (None for the student's own cells)."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def canonical_cells(
    cells: list[NotebookNode], order: list[str], restore: Callable[[str], NotebookNode | None]
) -> list[NotebookNode]:
    """``cells`` rearranged so the cells named in ``order`` stand in that order, each followed by
    the unnamed cells that followed it in ``cells``; a named cell absent from ``cells`` is
    ``restore(name)`` (left out when that is None). Cells before the first named one stay first;
    a name not in ``order`` (or seen twice) counts as unnamed."""
    known = set(order)
    leading: list[NotebookNode] = []
    groups: dict[str, list[NotebookNode]] = {}
    current = leading
    for cell in cells:
        name = grade_id(cell)
        if name in known and name not in groups:
            current = groups[name] = [cell]
        else:
            current.append(cell)
    out = list(leading)
    for name in order:
        if name in groups:
            out.extend(groups[name])
        else:
            restored = restore(name)
            if restored is not None:
                out.append(restored)
    return out


def source_order(notebook_path: Path) -> list[str]:
    """The grade ids of the nbgrader cells of the assignment's source notebook, in order."""
    path = Path(notebook_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"source notebook {path} not found: locked cells cannot be put back in place "
            "without it (build it with `make release`)"
        )
    nb = nbformat.read(str(path), as_version=4)
    return [name for name in map(grade_id, nb.cells) if name]


def _unique_id(wanted: str, taken: set[str]) -> str:
    candidate, n = wanted, 1
    while candidate in taken:
        candidate, n = f"{wanted}-restored-{n}", n + 1
    taken.add(candidate)
    return candidate


class RestoreLockedCells(OverwriteCells):
    """``OverwriteCells`` that also restores deleted, moved and re-flagged locked cells (see the
    module docstring)."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        """Overwrite and restore the locked cells of ``nb`` as described in the module docstring."""
        self._locked_roles: dict[str, dict[str, bool]] | None = None  # this notebook's, read once
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int):
        """Reset a locked cell's role flags from the gradebook, then overwrite it as nbgrader does."""
        name = grade_id(cell)
        if name is not None:
            self._reset_role_flags(cell, name)
        return super().preprocess_cell(cell, resources, cell_index)

    def _roles(self, name: str) -> dict[str, bool] | None:
        """The role flags the gradebook gives cell ``name``; None when it is not a locked cell."""
        if self._locked_roles is None:
            self._locked_roles = self._read_locked_roles()
        return self._locked_roles.get(name)

    def _read_locked_roles(self) -> dict[str, dict[str, bool]]:
        """The role flags of every locked cell of this notebook, by grade id, in one read of the
        gradebook (four queries per cell took 0.11 s of CPU a notebook; one read, 0.045 s)."""
        notebook = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        graded = {cell.name for cell in notebook.grade_cells}
        solutions = {cell.name for cell in notebook.solution_cells}
        tasks = {cell.name for cell in notebook.task_cells}
        # nbgrader records a task as a graded cell too; the flags in a notebook say task only
        return {
            cell.name: dict(
                zip(ROLE_FLAGS, (cell.name in graded - tasks, cell.name in solutions, cell.name in tasks), strict=True)
            )
            for cell in notebook.source_cells
            if cell.locked
        }

    def _reset_role_flags(self, cell: NotebookNode, name: str) -> None:
        roles = self._roles(name)
        if roles is None:
            return
        meta = cell.metadata.nbgrader
        for flag, value in roles.items():
            if bool(meta.get(flag, False)) != value:
                self.report_change(name, flag, value, meta.get(flag, False))
            if value or flag in meta:
                meta[flag] = value

    def add_missing_grade_cells(self, nb: NotebookNode, resources: ResourcesDict):
        """Rebuild the notebook in source order, re-creating missing locked cells (module doc)."""
        coursedir = CourseDirectory(config=self.config)
        source_path = (
            Path(coursedir.format_path(coursedir.source_directory, ".", self.assignment_id))
            / f"{self.notebook_id}.ipynb"
        )
        order = source_order(source_path)
        taken = {cell.get("id") for cell in nb.cells if cell.get("id")}
        nb.cells = canonical_cells(nb.cells, order, lambda name: self._restored(name, taken))
        return nb, resources

    def _restored(self, name: str, taken: set[str]) -> NotebookNode | None:
        """Cell ``name`` re-created from the gradebook when it is locked, else None."""
        roles = self._roles(name)
        if roles is None:
            return None
        self.log.warning("Missing locked cell %s encountered, adding it back to the notebook", name)
        args = (name, self.notebook_id, self.assignment_id)
        source_cell = self.gradebook.find_source_cell(*args)
        points = self.gradebook.find_graded_cell(*args).max_score if roles["grade"] or roles["task"] else 0
        cell = nbformat.from_dict(
            self.missing_cell_transform(source_cell, points, is_solution=roles["solution"], is_task=roles["task"])
        )
        if not (roles["grade"] or roles["task"]):  # a read-only cell: restored, never graded
            cell.metadata.nbgrader["grade"] = False
            cell.metadata.nbgrader.pop("points", None)
        cell["id"] = _unique_id(name, taken)
        return cell
