"""Score 0 for a hand-in that could not be read as a notebook, with the reason on every cell.

Its canonical notebook (``tinytorch_course.grading.canonical``) is the assignment with every answer
a stub and the reason under ``metadata.tinytorch.unreadable``. Running it is harmless (no line of
the student's is in it) but would leave each test's score to whether that test needs an answer.
``FailUnreadable`` runs right after the execute step and gives every code cell of such a notebook
one error output naming the reason, so every test cell scores 0 whatever ran, the student's
feedback says why, and the rest of the batch is graded as usual.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from tinytorch_course.grading.canonical import unreadable_reason

#: The error name every code cell of an unreadable hand-in shows.
ERROR_NAME = "HandInUnreadable"


class FailUnreadable(NbGraderPreprocessor):
    """Fail every code cell of a notebook whose hand-in could not be read (module docstring)."""

    def preprocess(self, nb: NotebookNode, resources: Any):
        reason = unreadable_reason(nb)
        if reason is None:
            return nb, resources
        self.log.warning("the hand-in could not be read (%s): every cell fails, it scores 0", reason)
        message = f"the hand-in could not be read: {reason}"
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [
                    NotebookNode(output_type="error", ename=ERROR_NAME, evalue=message, traceback=[message])
                ]
        return nb, resources
