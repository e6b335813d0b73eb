"""Fast checks (no kernel) of the feedback redaction rule: an output of any type that contains a
hidden-test line the notebook does not also show is redacted, however the line was dressed up;
outputs that quote only visible code stay as they are. The end-to-end proof, with real kernels
and `nbgrader generate_feedback`, is the exfiltration attacker of tests/hostile/."""

from __future__ import annotations

import html
import json

import pytest
from nbformat.v4 import new_output

from tinytorch_course.grading.preprocessors.sanitizehiddentests import (
    REDACTED_NOTE,
    leaks,
    redact_output,
    sanitize_outputs,
    secret_lines,
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
