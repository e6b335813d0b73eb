"""Keep hidden tests out of what students get back.

nbgrader restores the full test cells (hidden tests included) before it executes a submission, so
the autograded notebook, and the feedback rendered from it, show the hidden test code twice: in
the cell source and in the traceback of every failing hidden test (nbgrader issue #917). And the
student's own code runs in the same kernel as the hidden tests, so it can copy them into any
output: an IPython ``pre_run_cell`` hook that prints each cell's source, ``print(_ih)``, a
display's HTML or JSON, an exception's message or even its class name.

``SanitizeHiddenTests`` is an nbgrader preprocessor for ``GenerateFeedback.preprocessors``
(see nbgrader_config.py). For every cell it
- removes the hidden-test regions from the source;
- in every traceback frame that quotes a hidden-test line, drops the quoted code but keeps the
  frame header (which names the test function) and the final ``ExceptionType: message`` line;
  stream output lines that quote hidden-test code are dropped the same way;
- then redacts, in every output of every type (stream text, every mime type of a display or
  result, output metadata, an error's name, message and each traceback entry, any field an
  output may carry), every string that still contains a *secret line*: a hidden-test line with
  a letter or digit that the notebook's visible text (its sources without the hidden regions)
  does not also hold. Containment is checked in what a reader of the feedback HTML sees: every
  escape sequence nbconvert's renderer drops is dropped with the renderer's own pattern, HTML
  tags and entities and Markdown are rendered away, characters with no glyph (control and
  formatting characters: zero-width spaces, direction marks, backspaces) are removed, and so is
  all whitespace; backslash escapes (``repr``, JSON) are decoded too. So re-indenting, escaping,
  colouring or interleaving a line with invisible characters does not hide it. A redacted string
  is replaced by a note; a display whose data leaks is replaced as a whole.
So the student still reads which test failed and why, never how it checks. What this cannot
catch is hidden code the student's code *transforms* (base64, reversed, split across outputs):
the copy is no longer the line. docs/architecture.md (threat model) says what stops that.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.filters.ansi import ansi2html, strip_ansi as _renderer_strip_ansi
from nbconvert.filters.markdown import markdown2html
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests, GetGrades
from traitlets import List

from tinytorch_course.authoring.markers import BEGIN_HIDDEN, END_HIDDEN, is_marker, partition, regions

# A quoted source line in an IPython/Python traceback: optional "--->" arrow, a line number, code.
CONTEXT_LINE = re.compile(r"^\s*(?:-*>\s*)?(\d+)(?:\s(.*))?$")
# Python 3.11+ column markers under a quoted line.
MARKER_LINE = re.compile(r"^\s*[\^~]+\s*$")
HIDDEN_NOTE = "    (hidden test code not shown)"
REDACTED_NOTE = "(output removed: it quoted hidden test code)"
HTML_TAG = re.compile(r"</?[A-Za-z!][^>]*>")  # as browsers read tags: "< 1" is text
WHITESPACE = re.compile(r"\s+")


def strip_ansi(text: str) -> str:
    """``text`` without the terminal escape sequences the feedback renderer drops (nbconvert's own
    pattern: any ``ESC [`` … final byte, colour codes or not)."""
    return _renderer_strip_ansi(text)


@functools.cache
def _invisible() -> re.Pattern[str]:
    # Control and formatting characters other than white space: a browser draws no glyph for them
    # (the planes past 0x30000 hold only the tag characters, U+E0000-U+E007F).
    chars = (chr(c) for c in range(0x30000))
    found = "".join(c for c in chars if unicodedata.category(c) in ("Cc", "Cf") and not c.isspace())
    return re.compile("[" + re.escape(found) + "\U000e0000-\U000e007f]")


def visible(text: str) -> str:
    """``text`` without the characters a reader cannot see (control and formatting characters)."""
    return _invisible().sub("", text)


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
    kept = [
        line for line in lines if not CONTEXT_LINE.match(strip_ansi(line)) and not MARKER_LINE.match(strip_ansi(line))
    ]
    return "\n".join(kept + [HIDDEN_NOTE])


def sanitize_traceback(traceback: list[str], hidden: set[str]) -> list[str]:
    """Every entry of an error output's traceback, sanitized."""
    return [sanitize_frame(entry, hidden) for entry in traceback]


def sanitize_text(text: str, hidden: set[str]) -> str:
    """Drop the lines of printed output (e.g. warnings) that quote hidden test code."""
    lines = text.split("\n")
    return "\n".join(line for line in lines if strip_ansi(line).strip() not in hidden)


def squash(text: str) -> str:
    """``text`` without any whitespace: the form in which lines are compared for containment."""
    return WHITESPACE.sub("", text)


def secret_lines(sources: Iterable[str], begin: str = BEGIN_HIDDEN, end: str = END_HIDDEN) -> set[str]:
    """The squashed hidden-test lines of ``sources`` (cell sources of one notebook) that its
    visible text does not hold: the lines no output may contain."""
    sources = list(sources)
    hidden = set().union(*(hidden_lines(source, begin, end) for source in sources))
    visible = squash("\n".join("\n".join(partition(source, begin, end)[0]) for source in sources))
    return {line for line in map(squash, hidden) if line and line not in visible}


def _decoded(text: str) -> str:
    """``text`` with backslash escapes (``\\n``, ``\\"``, ``\\u00e9``) decoded, as printed by repr/JSON."""
    try:
        return text.encode("utf-8", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:  # a lone trailing backslash: nothing escaped to decode
        return text


def _views(text: str) -> list[str]:
    """The squashed forms of ``text`` a copied line could hide in, as a reader of the rendered
    feedback sees it: escape sequences dropped as the renderer drops them, as is or with its markup
    removed, entities and backslash escapes decoded, invisible characters removed."""
    shown = strip_ansi(text)
    plain = html.unescape(shown)
    untagged = html.unescape(HTML_TAG.sub("", shown))
    # the renderer's own pipeline for text output: escaped as HTML first, then its escape
    # sequences dropped (so "\x1b[<" and "\x1b[&lt;" differ), then shown
    rendered = html.unescape(HTML_TAG.sub("", ansi2html(text)))
    views = (plain, untagged, rendered, _decoded(plain), _decoded(untagged))
    return [squash(visible(view)) for view in views]


def rendered_markdown(text: str) -> str:
    """Markdown as the feedback renderer shows it: nbconvert's own Markdown filter (``a**ss**ert``
    reads ``assert``)."""
    return markdown2html(text)


def leaks(text: str, secrets: set[str]) -> bool:
    """Whether ``text`` contains any secret line, in any of its views."""
    return any(secret in view for view in _views(text) for secret in secrets)


def _strings(node: Any) -> Iterable[str]:
    """Every string of a JSON-like value: dict keys included, numbers and booleans as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _strings(item)
    elif node is not None:
        yield str(node)


def any_leaks(node: Any, secrets: set[str]) -> bool:
    """Whether any string of ``node`` contains a secret line (a line split across two strings of a
    list, as nbformat stores multi-line text, is found in their concatenation)."""
    strings = list(_strings(node))
    return leaks("".join(strings), secrets) or any(leaks(s, secrets) for s in strings)


def _redact_error(output: NotebookNode, secrets: set[str]) -> None:
    for field in ("ename", "evalue"):
        if any_leaks(output.get(field, ""), secrets):
            output[field] = REDACTED_NOTE
    output["traceback"] = [REDACTED_NOTE if leaks(entry, secrets) else entry for entry in output.get("traceback", [])]


def _data_leaks(data: Any, secrets: set[str]) -> bool:
    """Whether a display's data leaks, as stored or, for Markdown, as rendered."""
    if any_leaks(data, secrets):
        return True
    markdown = data.get("text/markdown") if isinstance(data, dict) else None
    if isinstance(markdown, list):
        markdown = "".join(map(str, markdown))
    return isinstance(markdown, str) and leaks(rendered_markdown(markdown), secrets)


def redact_output(output: NotebookNode, secrets: set[str]) -> NotebookNode:
    """``output`` with every field that contains a secret line replaced by a note; an output that
    still leaks somewhere after that becomes a plain note."""
    kind = output.get("output_type")
    if kind == "error":
        _redact_error(output, secrets)
    elif kind == "stream" and any_leaks(output.get("text", ""), secrets):
        output["text"] = REDACTED_NOTE + "\n"
    elif kind in ("display_data", "execute_result") and _data_leaks(output.get("data", {}), secrets):
        output["data"] = {"text/plain": REDACTED_NOTE}
    if any_leaks(output.get("metadata", {}), secrets):
        output["metadata"] = {}
    if any_leaks(output, secrets):  # a field no rule above knows of
        return new_output("stream", name="stdout", text=REDACTED_NOTE + "\n")
    return output


def sanitize_outputs(outputs: list[NotebookNode], hidden: set[str], secrets: set[str] | None = None) -> None:
    """Sanitize error tracebacks and stream text of one cell's outputs, then redact every output
    that still contains one of ``secrets`` (squashed lines, see ``secret_lines``), in place."""
    for index, output in enumerate(outputs):
        if output.get("output_type") == "error":
            output["traceback"] = sanitize_traceback(list(output.get("traceback", [])), hidden)
        elif output.get("output_type") == "stream":
            output["text"] = sanitize_text(output.get("text", ""), hidden)
        if secrets:
            outputs[index] = redact_output(output, secrets)


class SanitizeHiddenTests(ClearHiddenTests):
    """Remove hidden-test regions and the hidden-test lines quoted in outputs (see module doc)."""

    # nbgrader configures this option for every preprocessor of the feedback step; declared here
    # only so the shared setting applies without a warning.
    display_data_priority = List(GetGrades.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        """Collect the hidden and secret lines of the whole notebook first: a hidden test of one
        cell may show up in the output of any other."""
        sources = [cell.source for cell in nb.cells]
        self._hidden: set[str] = set().union(
            *(hidden_lines(source, self.begin_test_delimeter, self.end_test_delimeter) for source in sources)
        )
        self._secrets = secret_lines(sources, self.begin_test_delimeter, self.end_test_delimeter)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int):
        """Clear the cell's hidden regions, then its outputs' quotes of any hidden line."""
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code" and self._hidden:
            sanitize_outputs(cell.get("outputs", []), self._hidden, self._secrets)
        return cell, resources
