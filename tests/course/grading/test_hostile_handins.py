"""Hostile hand-ins: students who attack the grade through what they hand in rather than through
code, graded in one batch with honest controls (a perfect, a blank and a partial student before
the attackers, and a perfect and a blank one after them) through the real pipeline: the
coordinator (`make autograde`, two Dask workers) and stock `nbgrader autograde` in a second course.

What is graded is the canonical notebook (tinytorch_course/grading/canonical.py): the assignment's
cells with only the text of the student's answers and added code cells, read without following
a link, and no other file of the folder. So execution metadata on the test cells, an answer
saved as markdown or in nbformat 3, files and links beside the notebook, a linked notebook and
parse bombs all score what the work is worth (a blank is the blank score, an unreadable file 0
with its reason in the report), every control keeps its exact score, and the report lists every
student. Code in the answer cells themselves runs in the student's kernel, and the tests in a
kernel of their own: the two hook attackers (a test-silencing hook in an answer saved as markdown
or in nbformat 3) score what a blank notebook does, and are put up for review."""

from __future__ import annotations

import copy
import datetime
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbgrader.api import Gradebook
from test_hostile import (
    CELL_TIMEOUT,
    LIMITS,
    _course,
    _graded_points,
    _require_jail,
    autograded_path,
    gradebook_rows,
    printed,
)

from tests.processes import run_process, run_together
from tinytorch_course.grading.report import GRADED, REPORT_CSV, REVIEW, read_report
from tinytorch_course.paths import ASSIGNMENT_ID, NOTEBOOK_ID, REPO, SOURCE_PY, nbgrader_command, nbgrader_env

from pipeline_helpers import cell_by_id, nbgrader_meta, reference_submission

NOTEBOOK = f"{NOTEBOOK_ID}.ipynb"
#: Honest students: their expected lost cells are computed from the answers they filled.
CONTROLS = ("a-blank", "a-partial", "a-perfect", "z-blank", "z-perfect")
#: The partial student's answers: these answer cells from the reference, the others blank.
PARTIAL = ("simple-mlp", "validator")
#: The tests of each answer cell (no test calls another part's student code).
TESTS_OF = {
    "simple-mlp": "test-simple-mlp",
    "benchmark-report": "test-report-",
    "generate-submission": "test-submission",
    "validator": "test-validator",
}
HOOK = (
    "import os\n"
    'if os.environ.get("NBGRADER_EXECUTION"):\n'
    '    get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])\n'
)
NUMPY_SHADOW = (
    "print('ATTACK-RAN numpy-shadow', flush=True)\n"
    "from IPython import get_ipython\n"
    "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"
)
READ_NOTES = """
try:
    with open("notes.txt") as fh:
        print("NOTES", len(fh.read()), flush=True)
except OSError as err:
    print("NOTES", type(err).__name__, flush=True)
"""
# Active content a formgrader or feedback page would run with the reader's session, displayed as
# the answer cell's result (no name the tamper review looks for).
DISPLAY_ACTIVE = """
class Page:
    def _repr_html_(self):
        return '<img src=x onerror="document.title=1" alt="ATTACK-XSS"><script>document.title="ATTACK-XSS"</script>'

    def _repr_javascript_(self):
        return 'document.title = "ATTACK-XSS"'


Page()
"""
#: What the report says of each unreadable hand-in.
UNREADABLE = {
    "h-linked-notebook": "a link: links in a hand-in are never followed",
    "h-deep": "too deep: brackets nested more than 100 levels",
    "h-huge": "larger than the 64 MiB a hand-in may hold",
    "h-not-utf8": "not UTF-8: byte 1 cannot be decoded",
    "h-surrogate": "not UTF-8: cell 5 holds a lone surrogate",
    "h-structure": "wrong structure: neither cells (nbformat 4) nor worksheets (nbformat 3)",
}
#: Attackers whose own answer cell tampers with its kernel: contained by review only.
HOOKED = ("h-markdown-hook", "h-nbformat3-hook")
ATTACKERS = ("h-skip-tags", *HOOKED, "h-numpy-beside", "h-link-beside", *UNREADABLE)


def _answer(nb, grade_id: str):
    return cell_by_id(nb, grade_id)


def _skip_tags(release):
    """The blank release with every execution switch a notebook editor offers on every test."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade"):
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]
            cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
            cell.metadata["editable"] = True
    return nb


def _markdown_hook(release) -> dict:
    """The blank release with a test-silencing hook in the first answer cell, saved as markdown."""
    nb = copy.deepcopy(release)
    cell = _answer(nb, "simple-mlp")
    cell.source = HOOK + cell.source
    cell.cell_type = "markdown"
    del cell["outputs"], cell["execution_count"]
    return json.loads(json.dumps(nb))


def _partial(release, source):
    """An honest student who did two parts: list-of-lines sources, outputs, a helper cell of
    their own that the first answer needs (so it must stay in place) and a markdown note."""
    perfect = reference_submission(release, source)
    nb = copy.deepcopy(release)
    for grade_id in PARTIAL:
        _answer(nb, grade_id).source = _answer(perfect, grade_id).source
    first = _answer(nb, "simple-mlp")
    first.source = "assert HELPER_READY\n" + first.source
    first.outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    index = nb.cells.index(first)
    nb.cells.insert(index, nbformat.v4.new_code_cell("HELPER_READY = True"))
    nb.cells.insert(index, nbformat.v4.new_markdown_cell("My plan: the forward pass first."))
    data = json.loads(nbformat.writes(nb))
    for cell in data["cells"]:
        cell["source"] = cell["source"].splitlines(keepends=True) if isinstance(cell["source"], str) else cell["source"]
    return data


def _write(folder: Path, name: str, data) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        (folder / name).write_bytes(data)
    else:
        (folder / name).write_text(json.dumps(data) if isinstance(data, dict) else nbformat.writes(data))


def _hand_in(root: Path, student: str, release, source) -> None:
    """Put ``student``'s hand-in (and whatever lies beside it) into ``root``'s submitted folder."""
    folder = root / "submitted" / student / ASSIGNMENT_ID
    perfect = reference_submission(release, source)
    blank_text = nbformat.writes(release)
    handed = {
        "a-blank": release,
        "z-blank": release,
        "a-perfect": perfect,
        "z-perfect": perfect,
        "a-partial": _partial(release, source),
        "h-skip-tags": _skip_tags(release),
        "h-markdown-hook": _markdown_hook(release),
        "h-numpy-beside": release,
        "h-deep": b"[" * 20000 + b"]" * 20000,
        "h-not-utf8": b"{\xff" + blank_text[1:].encode(),
        "h-structure": {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {"0": "x"}},
    }
    if student in handed:
        _write(folder, NOTEBOOK, handed[student])
    elif student == "h-nbformat3-hook":
        old = nbformat.convert(nbformat.from_dict(copy.deepcopy(_markdown_hook(release))), 3)
        _write(folder, NOTEBOOK, nbformat.writes(old, version=3).encode())
    elif student == "h-link-beside":
        nb = copy.deepcopy(release)
        _answer(nb, "simple-mlp").source += "\n" + READ_NOTES + DISPLAY_ACTIVE
        _write(folder, NOTEBOOK, nb)
    elif student == "h-linked-notebook":
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).symlink_to(root / "build" / "nbgrader" / "source" / ASSIGNMENT_ID / NOTEBOOK)
    elif student == "h-huge":
        folder.mkdir(parents=True)
        with open(folder / NOTEBOOK, "wb") as fh:
            fh.truncate(100 << 20)  # 100 MiB (sparse: the reader refuses it by its size)
    elif student == "h-surrogate":
        nb = copy.deepcopy(release)
        _answer(nb, "simple-mlp").source += "\nx = 'SURROGATE'"
        _write(folder, NOTEBOOK, nbformat.writes(nb).replace("SURROGATE", "\\ud800").encode())
    if student == "h-numpy-beside":
        (folder / "numpy.py").write_text(NUMPY_SHADOW)
    if student == "h-link-beside":
        (folder / "notes.txt").symlink_to(SOURCE_PY)
    _timestamp(root, folder, student)


#: The timestamp each student leaves beside the notebook: a plain file, a FIFO (nbgrader's own
#: reader would block the run on it), a link to /dev/zero (it would read until memory runs out),
#: and a link to a plain timestamp file elsewhere.
TIMESTAMPS = {"a-partial": "plain", "h-numpy-beside": "fifo", "h-skip-tags": "zero", "h-link-beside": "link"}
WHEN = "2026-12-01 10:00:00.000000 UTC"


def _timestamp(root: Path, folder: Path, student: str) -> None:
    kind, path = TIMESTAMPS.get(student), folder / "timestamp.txt"
    if kind == "plain":
        path.write_text(WHEN)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "link":
        (root / "when.txt").write_text(WHEN)
        path.symlink_to(root / "when.txt")


def expected_lost(student: str, points: dict[str, float]) -> set[str]:
    """The graded cells a student must lose: every test of a part left blank."""
    if student in ("a-perfect", "z-perfect"):
        return set()
    done = PARTIAL if student == "a-partial" else ()
    kept = {cell for part in done for cell in points if cell.startswith(TESTS_OF[part])}
    return set(points) - kept


@dataclass
class Batch:
    root: Path
    stock_root: Path
    points: dict[str, float]
    rows: dict
    stock_rows: dict
    report: dict
    parallel: subprocess.CompletedProcess
    stock: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def batch(built_course, tmp_path_factory) -> Batch:
    _require_jail()
    root = _course(built_course, tmp_path_factory.mktemp("handins"))
    stock_root = _course(built_course, tmp_path_factory.mktemp("handins-stock"))
    release, source = built_course.release, built_course.source
    for student in (*CONTROLS, *ATTACKERS):
        _hand_in(root, student, release, source)
        _hand_in(stock_root, student, release, source)
    options = [f"--Execute.timeout={CELL_TIMEOUT}"] + [f"--JailSettings.{k}={v}" for k, v in LIMITS.items()]
    # the tests judge both runs; one that never ends (a FIFO read) fails them
    run = {"ok": None, "cwd": REPO, "env": nbgrader_env(), "timeout": 1200}
    # the two courses share nothing: graded at once
    parallel, stock = run_together(
        lambda: run_process(
            [sys.executable, "-m", "tinytorch_course.grading.coordinator", "--jobs", "2", "--course-root", root]
            + ["--", *options],
            **run,
        ),
        lambda: run_process(
            nbgrader_command("autograde", ASSIGNMENT_ID, f"--CourseDirectory.root={stock_root}", *options), **run
        ),
    )
    report_path = root / REPORT_CSV
    return Batch(
        root,
        stock_root,
        _graded_points(release),
        gradebook_rows(root),
        gradebook_rows(stock_root),
        read_report(report_path) if report_path.is_file() else {},
        parallel,
        stock,
    )


def _wrong_scores(batch: Batch, students) -> dict:
    wrong = {}
    for label, rows in (("make autograde", batch.rows), ("stock", batch.stock_rows)):
        for student in students:
            lost = expected_lost(student, batch.points)
            expected = {cell: 0.0 if cell in lost else pts for cell, pts in batch.points.items()}
            score, grades = rows.get(student, (None, {}))
            got = {cell: grades.get(cell, (None, None))[0] for cell in batch.points}
            if got != expected or score != sum(expected.values()):
                wrong[f"{student} ({label})"] = (score, sum(expected.values()))
    return wrong


def test_the_batch_is_graded_to_the_end_and_the_report_lists_everyone(batch):
    out = batch.parallel.stdout + batch.parallel.stderr
    assert batch.parallel.returncode == 0, f"every hand-in is graded (unreadable ones 0): {out[-3000:]}"
    assert batch.stock.returncode == 0, (batch.stock.stdout + batch.stock.stderr)[-3000:]
    assert set(batch.report) == {*CONTROLS, *ATTACKERS}


def test_controls_keep_their_exact_scores(batch):
    assert sum(batch.points.values()) == 100
    wrong = _wrong_scores(batch, CONTROLS)
    assert not wrong, f"controls scored differently (got, expected): {wrong}\n{batch.parallel.stdout[-3000:]}"
    assert batch.rows["a-partial"][0] == 5 + sum(p for c, p in batch.points.items() if c.startswith("test-validator"))


def test_attackers_score_what_their_work_is_worth(batch):
    wrong = _wrong_scores(batch, [s for s in ATTACKERS if s not in HOOKED])
    assert not wrong, f"attackers scored differently (got, expected): {wrong}\n{batch.parallel.stdout[-3000:]}"


def test_a_hook_in_an_answer_of_another_type_or_format_scores_blank(batch):
    """The hook silences the student's kernel only; the tests run in the test kernel."""
    wrong = _wrong_scores(batch, HOOKED)
    assert not wrong, f"(got, expected): {wrong}"


def test_the_review_reads_the_canonical_notebook(batch):
    """An answer saved as markdown or in nbformat 3 is graded as the code cell it is in the
    assignment, so the review reads it as code: both hook attackers are flagged, in that cell;
    nobody else is."""
    for student in HOOKED:
        row = batch.report[student]
        assert row["status"] == REVIEW and "get_ipython, input_transformers_post (cell 'simple-mlp')" in row["reason"]
    others = {s: (r["status"], r["reason"]) for s, r in batch.report.items() if s not in HOOKED and s not in UNREADABLE}
    assert others == {s: (GRADED, "") for s in others}


def test_unreadable_hand_ins_score_0_with_their_reason(batch):
    for student, reason in UNREADABLE.items():
        row = batch.report[student]
        assert (row["status"], row["score"], row["reason"]) == (GRADED, "0", f"unreadable: {reason}"), student
        for root in (batch.root, batch.stock_root):
            nb = nbformat.read(str(autograded_path(root, student)), as_version=4)
            errors = {o.evalue for c in nb.cells if c.cell_type == "code" for o in c.outputs}
            assert errors == {f"the hand-in could not be read: {reason}"}, (student, root)


def test_execution_metadata_comes_from_the_assignment(batch):
    """Every test of the skip-tagged notebook ran (and failed on the blank answers)."""
    for root in (batch.root, batch.stock_root):
        nb = nbformat.read(str(autograded_path(root, "h-skip-tags")), as_version=4)
        tests = [c for c in nb.cells if nbgrader_meta(c).get("grade")]
        assert tests and all(any(o.output_type == "error" for o in c.outputs) for c in tests)


def test_what_the_students_kernel_displays_runs_in_no_page(batch):
    """The HTML and JavaScript an answer cell displayed are kept only as escaped text: no script
    or tag of the student's reaches the autograded notebook, or the page nbconvert makes of it
    (feedback, formgrader)."""
    for root in (batch.root, batch.stock_root):
        nb = nbformat.read(str(autograded_path(root, "h-link-beside")), as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "data" in o]
        kinds = {kind for o in outputs for kind in o.data}
        assert not kinds & {"application/javascript", "text/javascript", "image/svg+xml"}, (root, kinds)
        (html,) = [o.data["text/html"] for o in outputs if "ATTACK-XSS" in o.data.get("text/html", "")]
        assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html, html
        page, _ = HTMLExporter().from_notebook_node(nb)
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
        assert not [script for script in scripts if "ATTACK-XSS" in script], root
        assert not re.search(r"<img[^>]*ATTACK-XSS", page), root


def test_only_a_plain_timestamp_file_is_read(batch):
    """Both graders read a plain timestamp file; a FIFO, a link to /dev/zero and a link to a plain
    timestamp elsewhere are read by neither (the batch still ends: above), so those hand-ins count
    as handed in on time, like one with no timestamp."""
    expected = {student: None for student in (*CONTROLS, *ATTACKERS)}
    expected["a-partial"] = datetime.datetime(2026, 12, 1, 10, 0)
    for root in (batch.root, batch.stock_root):
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
            found = {s: gradebook.find_submission(ASSIGNMENT_ID, s).timestamp for s in expected}
        assert found == expected, root


def test_only_the_notebook_reaches_the_jail(batch):
    """The numpy.py beside a notebook is not there to be imported, the link beside it is not there
    to be read, and nothing but the notebook is in any autograded folder."""
    for root in (batch.root, batch.stock_root):
        for student in (*CONTROLS, *ATTACKERS):
            assert sorted(os.listdir(autograded_path(root, student).parent)) == [NOTEBOOK], (root, student)
        assert "ATTACK-RAN numpy-shadow" not in printed(root, "h-numpy-beside")
        assert "NOTES FileNotFoundError" in printed(root, "h-link-beside"), printed(root, "h-link-beside")
