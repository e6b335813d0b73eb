"""In-kernel attackers against the two-kernel grading (act, then judge): each tampers with its own
kernel, from an answer cell of a blank notebook, and must score exactly 0, because the tests run in
a kernel no student line reaches and judge only the data the acts send back.

They reach IPython's hooks without any name the tamper review looks for, patch the builtins,
numpy and tinytorch functions the tests use, rewrite later cells, hide tracebacks, end their
kernel early, and flood the relay or answer it with data of the wrong shape. Honest controls (a
perfect and a blank notebook) are graded before and after them in the same batch, with exact
scores, through `make autograde`'s coordinator (a Dask LocalCluster of two workers), and a few of
the same students again by one stock `nbgrader autograde`, which must give the same rows."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.processes import run_process, run_together
from tinytorch.acts import MAX_REPLY_CHARS
from tinytorch_course.grading.report import GRADED, REPORT_CSV, REVIEW, read_report
from tinytorch_course.paths import (
    ASSIGNMENT_ID,
    NOTEBOOK_ID,
    REPO,
    SOURCE_DIRECTORY,
    nbgrader_command,
    nbgrader_env,
    submission_path,
)

from hostile_attacks import Attack, attacker_notebook
from pipeline_helpers import cell_by_id, gradebook_rows, nbgrader_meta, reference_submission, write_submission

TOKEN = "hk" + secrets.token_hex(4)
CELL_TIMEOUT = 20
FIRST = ("simple-mlp",)

# IPython's shell reached without `get_ipython`, then a hook that turns every later cell into `pass`.
UNNAMED_HOOK = """
shell = globals()["get_" + "ipython"]()
getattr(shell, "input_" + "transformers_post").append(lambda lines: ["pass\\n"])
_report(hooked="input transformer")
"""

# Every later cell compiled without its assert and raise statements.
AST_REWRITE = """
import ast
class _Disarm(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
    def visit_Raise(self, node):
        return ast.Pass()
shell = globals()["get_" + "ipython"]()
getattr(shell, "ast_" + "transformers").append(_Disarm())
_report(hooked="ast transformer")
"""

# The builtins, numpy and tinytorch functions the tests use, made to agree with anything.
PATCHES = """
import builtins, numpy
import tinytorch.perf.profiling, tinytorch.submission.schema
builtins.abs = lambda value: 0.0
numpy.allclose = numpy.isclose = numpy.array_equal = lambda *args, **kwargs: True
tinytorch.submission.schema.schema_errors = lambda submission: []
tinytorch.perf.profiling.model_size_bytes = lambda model: 0
_report(patched=["abs", "numpy.allclose", "schema_errors", "model_size_bytes"])
"""

# Failures leave no error output: the shell's traceback display and the excepthook do nothing.
HIDDEN_TRACEBACKS = """
shell = globals()["get_" + "ipython"]()
for name in ("_showtraceback", "showtraceback", "showsyntaxerror"):
    setattr(shell, name, lambda *args, **kwargs: None)
sys.excepthook = lambda *args: None
_report(hidden="tracebacks")
"""

EXITS_EARLY = """
import time
_report(exiting=True)
time.sleep(0.5)
os._exit(0)
"""

# The relay's server replaced: every act is answered by a flood of replies, one of them too long.
RELAY_FLOOD = """
import tinytorch.acts
from IPython.display import publish_display_data
def _flood(request):
    for _ in range(50):
        publish_display_data({{tinytorch.acts.REPLY_MIME: '{{"ok": 1}}'}})
    publish_display_data({{tinytorch.acts.REPLY_MIME: '{{"ok": "' + "x" * {size} + '"}}'}})
    print("y" * 100_000)
tinytorch.acts.serve = _flood
_report(relay="flooded")
"""

# The relay's server replaced: one reply of each wrong shape, in turn.
WRONG_SHAPES = [
    '{"ok": {"__ndarray__": {"dtype": "object", "shape": [1], "data": [1]}}}',
    '{"ok": {"__ndarray__": {"dtype": "float64", "shape": [5, 10], "data": [0.0]}}}',
    '{"ok": ' + "[" * 100 + "]" * 100 + "}",
    '{"ok": 1, "error": "both"}',
    "__import__('os').system('true')",
    '{"ok": {"type": "Tensor", "shape": "(5, 10)", "scores": "array"}}',
    '{"error": {"nested": "not a message"}}',
]
RELAY_WRONG_SHAPE = """
import itertools, tinytorch.acts
from IPython.display import publish_display_data
_shapes = itertools.cycle({shapes!r})
tinytorch.acts.serve = lambda request: publish_display_data({{tinytorch.acts.REPLY_MIME: next(_shapes)}})
_report(relay="wrong shapes")
"""

ATTACKS = {
    "k-unnamed-hook": UNNAMED_HOOK,
    "k-ast-rewrite": AST_REWRITE,
    "k-patches": PATCHES,
    "k-hidden-tracebacks": HIDDEN_TRACEBACKS,
    "k-exits-early": EXITS_EARLY,
    "k-relay-flood": RELAY_FLOOD,
    "k-relay-wrong-shape": RELAY_WRONG_SHAPE,
}
CONTROLS = {"a-blank": "blank", "a-perfect": "perfect", "z-blank": "blank", "z-perfect": "perfect"}
#: Graded again by one stock `nbgrader autograde` process.
STOCK = ["a-perfect", "k-unnamed-hook", "k-exits-early", "k-relay-wrong-shape", "z-blank"]


@dataclass
class Batch:
    root: Path
    points: dict[str, float]
    rows: dict
    stock_rows: dict
    parallel: subprocess.CompletedProcess
    stock: subprocess.CompletedProcess


def _course(built_course, root: Path) -> Path:
    shutil.copytree(built_course.root / SOURCE_DIRECTORY, root / SOURCE_DIRECTORY)
    shutil.copy(built_course.root / "gradebook.db", root / "gradebook.db")
    return root


@pytest.fixture(scope="module")
def batch(built_course, tmp_path_factory) -> Batch:
    root = _course(built_course, tmp_path_factory.mktemp("hostile-kernel"))
    stock_root = _course(built_course, tmp_path_factory.mktemp("hostile-kernel-stock"))
    release, source = built_course.release, built_course.source
    params = {"token": TOKEN, "size": MAX_REPLY_CHARS + 10, "shapes": WRONG_SHAPES}
    subs = {
        name: reference_submission(release, source) if base == "perfect" else release for name, base in CONTROLS.items()
    }
    subs |= {
        name: attacker_notebook(name, Attack(((code, FIRST),), "blank"), release, source, params)
        for name, code in ATTACKS.items()
    }
    for student, nb in subs.items():
        write_submission(nb, submission_path(root, student))
        if student in STOCK:
            write_submission(nb, submission_path(stock_root, student))
    timeout = f"--Execute.timeout={CELL_TIMEOUT}"
    run = {"ok": None, "cwd": REPO, "env": nbgrader_env()}  # the tests judge both runs
    # the two courses share nothing: graded at once
    parallel, stock = run_together(
        lambda: run_process(
            [sys.executable, "-m", "tinytorch_course.grading.coordinator", "--jobs", "2", "--course-root", root]
            + ["--", timeout],
            **run,
        ),
        lambda: run_process(
            nbgrader_command("autograde", ASSIGNMENT_ID, f"--CourseDirectory.root={stock_root}", timeout), **run
        ),
    )
    points = {
        nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
        for c in release.cells
        if nbgrader_meta(c).get("grade")
    }
    return Batch(root, points, gradebook_rows(root, list(subs)), gradebook_rows(stock_root, STOCK), parallel, stock)


def _autograded(root: Path, student: str):
    return nbformat.read(str(root / "autograded" / student / ASSIGNMENT_ID / f"{NOTEBOOK_ID}.ipynb"), as_version=4)


def _printed(root: Path, student: str) -> str:
    """The stream outputs of the cells the student's kernel ran (test cells excluded)."""
    return "".join(
        o.get("text", "")
        for c in _autograded(root, student).cells
        if c.cell_type == "code" and not nbgrader_meta(c).get("grade")
        for o in c.outputs
        if o.output_type == "stream"
    )


def _scores(batch: Batch, student: str) -> dict[str, float]:
    return {cell: grade[0] for cell, grade in batch.rows[student]["grades"].items()}


def test_controls_before_and_after_the_attackers_keep_their_exact_scores(batch):
    for student, base in CONTROLS.items():
        expected = batch.points if base == "perfect" else dict.fromkeys(batch.points, 0.0)
        assert _scores(batch, student) == expected, (student, batch.parallel.stdout[-3000:])
        assert batch.rows[student]["score"] == sum(expected.values()), student


def test_every_in_kernel_attacker_scores_exactly_zero(batch):
    wrong = {
        student: {cell: score for cell, score in _scores(batch, student).items() if score != 0.0}
        for student in ATTACKS
        if batch.rows[student]["score"] != 0.0 or any(_scores(batch, student).values())
    }
    assert not wrong, f"attackers that scored: {wrong}\n{batch.parallel.stdout[-3000:]}"


def test_every_attack_ran_in_the_student_kernel(batch):
    silent = [student for student in ATTACKS if f"ATTACK-RAN {student}" not in _printed(batch.root, student)]
    assert not silent, f"no trace of the attack in the answer cell of: {silent}"


def test_the_hooks_took_hold_of_the_student_kernel_and_not_of_the_tests(batch):
    """The unnamed hook silenced every later cell of its own kernel (the training cell that
    prints for the blank control printed nothing), yet every test cell ran in the test kernel and
    failed with an error output, the traceback hider's included."""
    training = [
        i
        for i, c in enumerate(_autograded(batch.root, "a-blank").cells)
        if "baseline_model = train_baseline" in c.source
    ]
    (index,) = training
    assert _autograded(batch.root, "a-blank").cells[index].outputs, "the blank control's training cell prints"
    assert _autograded(batch.root, "k-unnamed-hook").cells[index].outputs == []
    for student in ATTACKS:
        nb = _autograded(batch.root, student)
        tests = [c for c in nb.cells if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]
        quiet = [nbgrader_meta(c)["grade_id"] for c in tests if not any(o.output_type == "error" for o in c.outputs)]
        assert not quiet, f"{student}: test cells without an error output: {quiet}"


def test_a_flood_or_a_wrong_shape_is_refused_by_the_relay_with_a_reason(batch):
    flood = cell_by_id(_autograded(batch.root, "k-relay-flood"), "test-simple-mlp").outputs
    assert any("gave 51 answers instead of one" in o.get("evalue", "") for o in flood), flood
    shapes = [
        o.get("evalue", "")
        for c in _autograded(batch.root, "k-relay-wrong-shape").cells
        if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert any("dtype 'object'" in e for e in shapes), shapes
    assert any("not JSON" in e for e in shapes), shapes


def test_stock_nbgrader_and_make_autograde_agree(batch):
    assert batch.stock.returncode == 0, batch.stock.stderr[-3000:]
    assert batch.stock_rows == {student: batch.rows[student] for student in STOCK}


def test_every_attacker_is_put_up_for_review_and_no_control_is(batch):
    """The review reads each notebook from outside its kernels: the relay's replacements are
    named by what they replace."""
    report = read_report(batch.root / REPORT_CSV)
    assert {s for s, row in report.items() if row["status"] == REVIEW} == set(ATTACKS), report
    for student in ("k-relay-flood", "k-relay-wrong-shape"):
        assert "acts" in report[student]["reason"] and "serve" in report[student]["reason"], report[student]
    for student in CONTROLS:
        assert (report[student]["status"], report[student]["reason"]) == (GRADED, ""), report[student]
