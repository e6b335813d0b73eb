"""SanitizeOutputs: what a student's kernel displayed keeps no active content; the assignment's
own cells and plain outputs are left as they are."""

from __future__ import annotations

import copy

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output, new_raw_cell

from tinytorch_course.grading.preprocessors.sanitizeoutputs import SanitizeOutputs


def _notebook():
    shown = new_code_cell("Page()")
    shown.outputs = [
        new_output(
            "execute_result",
            execution_count=1,
            data={
                "text/plain": "<Page>",
                "text/html": '<b>bold</b><script>steal()</script><img src=x onerror="steal()">',
                "text/markdown": "<script>steal()</script>*fine*",
                "application/javascript": "steal()",
                "image/svg+xml": "<svg onload='steal()'/>",
                "image/png": "iVBORw0KGgo=",
            },
        ),
        new_output("stream", name="stdout", text="<script>printed()</script>\n"),
        new_output("error", ename="ValueError", evalue="<b>x</b>", traceback=["ValueError: <b>x</b>"]),
    ]
    return nbformat.v4.new_notebook(
        cells=[shown, new_markdown_cell("<details>the assignment's</details>"), new_raw_cell("<div>raw</div>")]
    )


def test_active_content_is_dropped_or_escaped_and_nothing_else_changes():
    before = _notebook()
    after, _ = SanitizeOutputs()(copy.deepcopy(before), {})
    shown, stream, error = after.cells[0].outputs
    assert shown.data == {
        "text/plain": "<Page>",
        "text/html": '<b>bold</b>&lt;script&gt;steal()&lt;/script&gt;&lt;img src=x onerror="steal()"&gt;',
        "text/markdown": "&lt;script&gt;steal()&lt;/script&gt;*fine*",
        "image/png": "iVBORw0KGgo=",
    }
    assert (stream, error) == tuple(before.cells[0].outputs[1:])  # text, shown as text
    assert after.cells[1:] == before.cells[1:]  # the assignment's markdown and raw cells
