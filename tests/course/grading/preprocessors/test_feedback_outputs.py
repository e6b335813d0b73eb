"""Fast checks (no kernel) of the feedback redaction rule: an output of any type that contains a
hidden-test line the notebook does not also show is redacted, however the line was dressed up;
outputs that quote only visible code stay as they are; and what the feedback renderer
(nbconvert's HTML exporter) shows of a sanitized output holds no hidden line, whatever escape
sequences or invisible characters were put between its characters. The end-to-end proof, with
real kernels and `nbgrader generate_feedback`, is the exfiltration attacker of
tests/course/grading/test_hostile.py and the escape-sequence attacker of test_hostile_batch.py."""

from __future__ import annotations

import copy
import html
import json
import re
import unicodedata

import pytest
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tinytorch_course.grading.preprocessors.sanitizehiddentests import (
    REDACTED_NOTE,
    SanitizeHiddenTests,
    leaks,
    redact_output,
    sanitize_outputs,
    secret_lines,
    squash,
)

TEST_CELL = """def test_speed():
    assert speed() > 1, "speed should be above 1"
    ### BEGIN HIDDEN TESTS
    secret = speed(calibrate=True)
    assert abs(secret - 2.0) < 1e-6, "speed must be baseline / optimized"
    ### END HIDDEN TESTS
"""
HIDDEN = 'assert abs(secret - 2.0) < 1e-6, "speed must be baseline / optimized"'
SECRETS = secret_lines([TEST_CELL, "print('hello')"])


def test_secret_lines_are_hidden_lines_not_visible_elsewhere():
    shared = TEST_CELL.replace("secret = speed(calibrate=True)", "x = speed()")
    visible_copy = "x = speed()  # also outside the region"
    secrets = secret_lines([shared, visible_copy])
    assert "x=speed()" not in secrets, "a line the student can see is no secret"
    assert 'assertabs(secret-2.0)<1e-6,"speedmustbebaseline/optimized"' in secrets
    assert "###BEGINHIDDENTESTS" in secrets


@pytest.mark.parametrize(
    "dressed",
    [
        HIDDEN,
        f"\x1b[31m{HIDDEN}\x1b[0m",  # coloured
        "    " + HIDDEN.replace(" ", "   "),  # re-indented, spaced
        html.escape(HIDDEN),  # HTML entities
        "<pre>" + HIDDEN.replace("abs(", "<b>abs</b>(") + "</pre>",  # markup inside the line
        repr(TEST_CELL),  # print(_ih) / repr
        json.dumps({"cells": [TEST_CELL]}),  # JSON escapes
    ],
)
def test_a_hidden_line_is_found_however_dressed(dressed):
    assert leaks(dressed, SECRETS)


def test_visible_text_and_the_failure_message_do_not_leak():
    assert not leaks('assert speed() > 1, "speed should be above 1"', SECRETS)
    assert not leaks("AssertionError: speed must be baseline / optimized", SECRETS)


@pytest.mark.parametrize(
    "output",
    [
        new_output("stream", name="stdout", text=f"before\n{TEST_CELL}after\n"),
        new_output(
            "display_data",
            data={
                "text/html": f"<pre>{html.escape(TEST_CELL)}</pre>",
                "text/plain": "<IPython.core.display.HTML object>",
            },
        ),
        new_output("execute_result", execution_count=3, data={"application/json": {"src": TEST_CELL}}),
        new_output("display_data", data={"text/markdown": "ok"}, metadata={"note": TEST_CELL}),
        new_output("error", ename="AssertionError", evalue=TEST_CELL, traceback=["tb"]),
        new_output("error", ename=HIDDEN, evalue="x", traceback=[HIDDEN]),
    ],
)
def test_every_output_type_is_redacted(output):
    assert leaks(json.dumps(output), SECRETS)
    outputs = [output]
    sanitize_outputs(outputs, set(), SECRETS)
    assert not leaks(json.dumps(outputs[0]), SECRETS)
    assert outputs[0]["output_type"] == output["output_type"], "the output keeps its type"


def test_an_unknown_output_field_is_caught_too():
    output = new_output("display_data", data={"text/plain": "fine"})
    output["extra"] = [TEST_CELL]
    redacted = redact_output(output, SECRETS)
    assert redacted["output_type"] == "stream" and redacted["text"] == REDACTED_NOTE + "\n"


def test_a_line_split_across_list_items_is_caught():
    output = new_output(
        "display_data",
        data={"text/plain": ["assert abs(secret - 2.0) ", '< 1e-6, "speed must be baseline / optimized"']},
    )
    assert redact_output(output, SECRETS)["data"] == {"text/plain": REDACTED_NOTE}


def test_clean_outputs_are_kept_as_they_are():
    outputs = [
        new_output("stream", name="stdout", text="accuracy 0.97\n"),
        new_output(
            "error",
            ename="AssertionError",
            evalue="speed must be baseline / optimized",
            traceback=["AssertionError: speed must be baseline / optimized"],
        ),
    ]
    before = json.dumps(outputs)
    sanitize_outputs(outputs, set(), SECRETS)
    assert json.dumps(outputs) == before


# Each hidden line interleaved, character by character, with something a reader of the rendered
# feedback does not see: escape sequences nbconvert's renderer drops (colour codes or not),
# characters with no glyph, Markdown emphasis, HTML entities of invisible characters.
INTERLEAVED = {
    "cursor codes": "\x1b[?25l",
    "an odd final byte": "\x1b[0@",
    "a private parameter": "\x1b[=5h",
    "a screen switch": "\x1b[?1049h",
    "an empty colour code": "\x1b[m",
    "a zero-width space": "\u200b",
    "a word joiner": "\u2060",
    "a soft hyphen": "\u00ad",
    "a backspace": "\x08",
    "a right-to-left mark": "\u200f",
}


def _interleaved(line: str, between: str) -> str:
    return between.join(line)


def _reader_sees(rendered: str) -> str:
    """What a reader of an HTML page reads: its text, entities decoded, without the characters a
    browser draws no glyph for (control and formatting characters)."""
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    return "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf"))


def _feedback_html(outputs: list, sanitized: bool = True) -> str:
    """A notebook of the graded test cell and one cell with ``outputs``, through
    SanitizeHiddenTests (unless not ``sanitized``: then the outputs alone), rendered by nbconvert's
    own HTML exporter, as `nbgrader generate_feedback` renders feedback."""
    test = new_code_cell(TEST_CELL, metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1}})
    run = new_code_cell("run()", outputs=copy.deepcopy(outputs))
    nb = new_notebook(cells=[test, run] if sanitized else [run])
    if sanitized:
        nb, _ = SanitizeHiddenTests().preprocess(nb, {})
    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


def _outputs(between: str) -> list:
    dressed = _interleaved(HIDDEN, between)
    return [
        new_output("stream", name="stdout", text=f"{dressed}\n"),
        new_output("error", ename="AssertionError", evalue=dressed, traceback=[dressed]),
        new_output("display_data", data={"text/plain": dressed}),
    ]


@pytest.mark.parametrize("what", INTERLEAVED)
def test_a_hidden_line_interleaved_with_what_the_reader_does_not_see_is_redacted(what):
    outputs = _outputs(INTERLEAVED[what])
    shown = squash(_reader_sees(_feedback_html(outputs, sanitized=False)))
    assert squash(HIDDEN) in shown, "the renderer shows the line: the attack is real"
    assert squash(HIDDEN) not in squash(_reader_sees(_feedback_html(outputs)))
    sanitize_outputs(outputs, set(), SECRETS)
    assert all(REDACTED_NOTE in json.dumps(output) for output in outputs)


@pytest.mark.parametrize(
    "data",
    [
        {"text/markdown": re.sub(r"(\w+)", r"**\1**", HIDDEN)},  # every word bold
        {"text/markdown": "`" + HIDDEN + "`"},
        {"text/html": "&#8203;".join(HIDDEN)},
        {"text/html": "<span>" + "</span><span>".join(HIDDEN) + "</span>"},
    ],
)
def test_a_hidden_line_rendered_from_markup_is_redacted(data):
    outputs = [new_output("display_data", data=data)]
    assert squash(HIDDEN[:40]) in squash(_reader_sees(_feedback_html(outputs, sanitized=False)))
    assert squash(HIDDEN[:40]) not in squash(_reader_sees(_feedback_html(outputs)))
    sanitize_outputs(outputs, set(), SECRETS)
    assert outputs[0]["data"] == {"text/plain": REDACTED_NOTE}


def test_visible_text_dressed_the_same_way_is_kept():
    outputs = [new_output("stream", name="stdout", text="\x1b[?25l".join("accuracy 0.97") + "\n")]
    before = json.dumps(outputs)
    sanitize_outputs(outputs, set(), SECRETS)
    assert json.dumps(outputs) == before
