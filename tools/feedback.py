"""Keep hidden tests out of what students get back.

nbgrader restores the full test cells (hidden tests included) before it executes a submission, so
the autograded notebook, and the feedback rendered from it, show the hidden test code twice: in
the cell source and in the traceback of every failing hidden test (nbgrader issue #917).

``SanitizeHiddenTests`` is an nbgrader preprocessor for ``GenerateFeedback.preprocessors``
(see nbgrader_config.py). For every cell it
- removes the hidden-test regions from the source, and
- in every traceback frame that quotes a hidden-test line, drops the quoted code but keeps the
  frame header (which names the test function) and the final ``ExceptionType: message`` line;
  stream output lines that quote hidden-test code are dropped the same way.
So the student still reads which test failed and why, never how it checks.
"""
from __future__ import annotations

import re
from typing import Iterable

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, GetGrades
from traitlets import List

from tools.course import BEGIN_HIDDEN, END_HIDDEN, is_marker, regions

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A quoted source line in an IPython/Python traceback: optional "--->" arrow, a line number, code.
CONTEXT_LINE = re.compile(r"^\s*(?:-*>\s*)?(\d+)(?:\s(.*))?$")
# Python 3.11+ column markers under a quoted line.
MARKER_LINE = re.compile(r"^\s*[\^~]+\s*$")
HIDDEN_NOTE = "    (hidden test code not shown)"


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes."""
    return ANSI_ESCAPE.sub("", text)


def _meaningful(line: str) -> bool:
    """Lines of pure punctuation (``)``, ``]``) identify nothing and are not worth hiding."""
    return any(ch.isalnum() for ch in line)


def hidden_lines(source: str, begin: str = BEGIN_HIDDEN, end: str = END_HIDDEN) -> set[str]:
    """The stripped, meaningful lines of every hidden-test region of ``source`` (markers included)."""
    markers = [line for line in source.splitlines() if is_marker(line, begin, end)]
    inside = [line for region in regions(source, begin, end) for line in region]
    return {line.strip() for line in markers + inside if _meaningful(line)}


def _quotes_hidden(lines: Iterable[str], hidden: set[str]) -> bool:
    for line in lines:
        match = CONTEXT_LINE.match(strip_ansi(line))
        if match and (match.group(2) or "").strip() in hidden:
            return True
    return False


def sanitize_frame(frame: str, hidden: set[str]) -> str:
    """One traceback entry; its quoted code is dropped when any quoted line is hidden test code."""
    lines = frame.split("\n")
    if not _quotes_hidden(lines, hidden):
        return frame
    kept = [line for line in lines
            if not CONTEXT_LINE.match(strip_ansi(line)) and not MARKER_LINE.match(strip_ansi(line))]
    return "\n".join(kept + [HIDDEN_NOTE])


def sanitize_traceback(traceback: list[str], hidden: set[str]) -> list[str]:
    """Every entry of an error output's traceback, sanitized."""
    return [sanitize_frame(entry, hidden) for entry in traceback]


def sanitize_text(text: str, hidden: set[str]) -> str:
    """Drop the lines of printed output (e.g. warnings) that quote hidden test code."""
    lines = text.split("\n")
    return "\n".join(line for line in lines if strip_ansi(line).strip() not in hidden)


def sanitize_outputs(outputs: list[NotebookNode], hidden: set[str]) -> None:
    """Sanitize error tracebacks and stream text of one cell's outputs, in place."""
    for output in outputs:
        if output.get("output_type") == "error":
            output["traceback"] = sanitize_traceback(list(output.get("traceback", [])), hidden)
        elif output.get("output_type") == "stream":
            output["text"] = sanitize_text(output.get("text", ""), hidden)


class SanitizeHiddenTests(ClearHiddenTests):
    """Remove hidden-test regions and the hidden-test lines quoted in outputs (see module doc)."""

    # nbgrader configures this option for every preprocessor of the feedback step; declared here
    # only so the shared setting applies without a warning.
    display_data_priority = List(GetGrades.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        """Collect the hidden lines of the whole notebook first: a hidden helper defined in one
        cell may show up in the traceback of another."""
        self._hidden: set[str] = set()
        for cell in nb.cells:
            self._hidden |= hidden_lines(cell.source, self.begin_test_delimeter,
                                         self.end_test_delimeter)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int):
        """Clear the cell's hidden regions, then its outputs' quotes of any hidden line."""
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code" and self._hidden:
            sanitize_outputs(cell.get("outputs", []), self._hidden)
        return cell, resources
