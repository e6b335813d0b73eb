"""No active content in a graded notebook's outputs: nbconvert's ``SanitizeHTML``, on code cells.

The graded notebook holds the outputs the student's kernel sent for the given and student cells,
and whatever the student's code displays is theirs to choose. Rendered as they came, an
``application/javascript`` output is a ``<script>`` in the feedback page and in nbgrader's
formgrader, where it runs with the instructor's session, and raw ``text/html`` can carry the same
(``<img onerror=…>``). ``SanitizeOutputs`` runs right after the execute step, so the autograded
notebook, formgrader's view of it and the feedback made from it keep only outputs of safe types
(text, LaTeX, JSON, PNG and JPEG images), HTML and Markdown cleaned by bleach (unsafe tags
escaped), and every other type dropped. Markdown and raw cells are the assignment's own (a
canonical notebook holds no other: ``grading.canonical``), so they are left as written.
"""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat import NotebookNode
from traitlets import Bool


class SanitizeOutputs(SanitizeHTML):
    """``SanitizeHTML`` of code cells' outputs only (see the module's docstring)."""

    enabled = Bool(True, help="nbconvert's preprocessors are off unless enabled; this one is on").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: Any, cell_index: int) -> tuple[NotebookNode, Any]:
        if cell.cell_type == "code":
            cell.outputs = self.sanitize_code_outputs(cell.outputs)
        return cell, resources
