"""The exporter of ``nbgrader autograde`` that grades the canonical notebook of each hand-in.

Stock autograde reads each submitted notebook with ``exporter.from_filename`` (the first,
sanitizing pass, over ``submitted/``) and reads its own output back the same way (the executing
pass, over ``autograded/``). ``nbgrader_config.py`` sets ``c.Autograde.exporter_class`` to
:class:`CanonicalNotebookExporter`, whose first pass reads the hand-in with
:func:`~tinytorch_course.grading.handed_in.read_handed_in` (no link followed, size, depth, UTF-8
and structure checked) and returns :func:`~tinytorch_course.grading.canonical.canonical_notebook`
of it and the assignment's source notebook, so nothing else of the student's file is ever
graded, reviewed or shown as feedback; an unreadable hand-in becomes a notebook that scores 0
with its reason instead of an error that stops the student's grading. Files the grader wrote
itself (the second pass) are read as stock nbgrader reads them.

A grading task of ``make autograde`` is sent notebooks the coordinator already made canonical
(with this same function) and runs with ``--CanonicalNotebookExporter.prebuilt=True``, which
reads them as they are.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import NotebookExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from traitlets import Bool

from tinytorch_course.grading.canonical import canonical_notebook
from tinytorch_course.grading.handed_in import read_handed_in


class CanonicalNotebookExporter(NotebookExporter):
    """A ``NotebookExporter`` that reads a hand-in as its canonical notebook (module docstring)."""

    prebuilt = Bool(
        False,
        help="The submitted notebooks are canonical notebooks the grading coordinator built "
        "(a grading task's scratch course): read them as they are.",
    ).tag(config=True)

    _assignments: dict[tuple[str, int, int], NotebookNode]

    def from_filename(  # type: ignore[override]  # a NotebookExporter's output is the notebook's text
        self, filename: str, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        """The canonical notebook of a hand-in under the submitted folder; any other file
        (the grader's own autograded notebook) as stock nbconvert reads it."""
        parts = None if self.prebuilt else self._handed_in_parts(filename)
        if parts is None:
            return super().from_filename(filename, resources, **kw)  # type: ignore[return-value]
        coursedir = self.parent.coursedir  # type: ignore[union-attr]  # parts were found through it
        handed_in = read_handed_in(Path(coursedir.root, coursedir.submitted_directory), parts)
        notebook_id = os.path.splitext(parts[-1])[0]
        assignment = self._assignment(
            Path(coursedir.format_path(coursedir.source_directory, ".", parts[-2])) / f"{notebook_id}.ipynb"
        )
        return self.from_notebook_node(
            canonical_notebook(assignment, handed_in), _file_resources(filename, resources), **kw
        )

    def _handed_in_parts(self, filename: str) -> list[str] | None:
        """The names below the submitted folder of ``filename`` (student, assignment, file),
        or None when it is not under the submitted folder of the converter's course."""
        coursedir = getattr(self.parent, "coursedir", None)
        if coursedir is None:
            return None
        submitted = os.path.join(coursedir.root, coursedir.submitted_directory)
        relative = os.path.relpath(os.path.abspath(filename), submitted)
        parts = relative.split(os.sep)
        return None if parts[0] in (os.pardir, os.curdir) or len(parts) < 3 else parts

    def _assignment(self, path: Path) -> NotebookNode:
        """The assignment's source notebook at ``path``, read once per content of the file."""
        info = path.stat()
        key = (str(path), info.st_mtime_ns, info.st_size)
        if not hasattr(self, "_assignments"):
            self._assignments = {}
        if key not in self._assignments:
            self._assignments[key] = nbformat.read(str(path), as_version=4)
        return self._assignments[key]


def _file_resources(filename: str, resources: dict[str, Any] | None) -> dict[str, Any]:
    """The resources stock ``from_filename`` fills in (name, folder, modified date), from the
    file's own entry (a link is not followed)."""
    resources = resources if resources is not None else ResourcesDict()
    if not resources.get("metadata"):
        resources["metadata"] = ResourcesDict()
    path, basename = os.path.split(filename)
    resources["metadata"]["name"] = os.path.splitext(basename)[0]
    resources["metadata"]["path"] = path
    modified = datetime.datetime.fromtimestamp(os.lstat(filename).st_mtime, tz=datetime.timezone.utc)
    resources["metadata"]["modified_date"] = modified.strftime("%B %-d, %Y")
    return resources
