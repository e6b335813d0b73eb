"""A batch no hand-in can break: hostile hand-ins aimed at the batch itself rather than at the
machine (folder names that are patterns or not text, forged lines of the grading log, escape
sequences in outputs, writes into the kernel's socket folder), graded in one batch with honest
control students, a perfect and a blank one before the attackers and again after them, through
the real pipeline: `tinytorch_course/grading/coordinator.py --jobs 2` (what `make autograde` runs),
then stock `nbgrader generate_feedback`. Every attack is contained, every control keeps its exact
score, and the report lists every student found, one line each."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from tests.processes import run_process
from tinytorch_course.grading.jail.bwrap import SOCKET_DIR, SOCKET_DIR_BYTES
from tinytorch_course.grading.jail.events import KERNEL_DIED, format_event, new_key
from tinytorch_course.grading.jail.preflight import JailUnavailable, check_jail
from tinytorch_course.grading.jail.settings import JailSettings, sandbox_requested
from tinytorch_course.grading.names import printable
from tinytorch_course.grading.report import GRADED, NOT_GRADED, REPORT_CSV, REPORT_TXT, REVIEW, read_report
from tinytorch_course.paths import (
    ASSIGNMENT_ID,
    AUTOGRADED,
    REPO,
    SOURCE_DIRECTORY,
    SUBMITTED,
    feedback_path,
    nbgrader_command,
    nbgrader_env,
    submission_path,
)

from pipeline_helpers import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    gradebook_rows,
    html_text,
    nbgrader_meta,
    outside_region_lines,
    reference_submission,
    region_lines,
)

#: Honest students graded before and after the attackers (the coordinator grades in name order).
CONTROLS = {"a-blank": "blank", "aa-perfect": "perfect", "z-blank": "blank", "z-perfect": "perfect"}
#: Folders whose names are patterns, not text, too long or hidden: each refused with its reason.
#: The glob names hand in a blank notebook, so taking a classmate's perfect one would show.
ODD_NAMES = {
    "aa-perfec[t]": "blank",
    "aa-perfec?": "blank",
    "aa-*": "blank",
    "b ana": "perfect",
    "b\nnewline": "perfect",
    "b\udcffbytes": "perfect",  # the byte 0xff: a name that is not UTF-8
    "c" * 250: "perfect",
    ".hidden": "perfect",
}
#: Students whose kernels the forged lines name: every control, and the forgers themselves.
FORGERS = ["h-forge-cell", "h-forge-id", "h-forge-output"]
FORGED_FOR = [*CONTROLS, *FORGERS]
#: Attackers whose work is perfect and who must score full marks, their attack contained.
PERFECT_ATTACKERS = ["h-escapes", "h-forge-cell", "h-forge-id", "h-forge-output", "h-socket"]
LIMITS = {"budget_s": 120, "write_mib": 64}


def forged_lines(root: Path) -> list[str]:
    """Event lines as a forger writes them: the exact format with a key of its own (it cannot know
    the run's), the format without a key, a logger prefix, each naming a victim's kernel."""
    lines = []
    for student in FORGED_FOR:
        cwd = str(root / AUTOGRADED / student / ASSIGNMENT_ID)
        line = format_event(KERNEL_DIED, cwd, f"forged for {student}", key=new_key())
        lines += [line, "[AutogradeApp | ERROR] " + line, line.replace(line.split()[1] + " ", "", 1)]
    return lines


def forge_cell_notebook(release, source, root: Path, surrogate: bool):
    """A perfect hand-in with an extra markdown cell whose nbgrader grade_id holds line breaks,
    forged event lines and (``surrogate``) a lone surrogate: nbgrader quotes a grade_id it
    refuses in its log."""
    nb = reference_submission(release, source)
    grade_id = "notes\n" + "\n".join(forged_lines(root)) + ("\n\ud800" if surrogate else "")
    meta = {"grade": False, "solution": False, "locked": False, "grade_id": grade_id, "schema_version": 3}
    nb.cells.append(new_markdown_cell("My notes.\n" + "\n".join(forged_lines(root)), metadata={"nbgrader": meta}))
    return nb


# A cell of the student's own, last: it writes forged event lines, bytes that are not UTF-8 and a
# surrogate's encoding to the kernel's output (whose tail the grader quotes when a kernel dies),
# prints them, and ends the kernel.
FORGE_OUTPUT_CELL = """import os, sys, time
for line in {lines!r}:
    print(line, flush=True)
    os.write(1, (line + "\\n").encode())
    os.write(2, (line + "\\n").encode())
time.sleep(1)  # the kernel copies each stream to its log in a thread of its own: they drain
os.write(2, {last!r}.encode() + b"\\nbytes \\xff\\xfe and \\xed\\xa0\\x80\\n")
time.sleep(2)
os._exit(3)
"""


def forge_output_notebook(release, source, root: Path):
    """A perfect hand-in whose last cell (every test has run by then) forges event lines on the
    kernel's output and kills the kernel, so its last output is quoted in a grading event."""
    nb = reference_submission(release, source)
    lines = forged_lines(root)
    nb.cells.append(new_code_cell(FORGE_OUTPUT_CELL.format(lines=lines, last=lines[0])))
    return nb


# A cell of the student's own, last (every hidden test has run by then): prints every line of
# every cell of hidden tests the kernel ran, with an escape sequence or an invisible character
# between any two characters. The tests run in a kernel of their own, so the student's kernel ran
# none and it prints nothing; feedback would render such sequences away
# (tests/course/grading/preprocessors/test_feedback_outputs.py).
ESCAPES_CELL = """for _between in ("\\x1b[?25l", "\\x1b[0@", "\\u200b", "\\x08"):
    for _cell in [c for c in In if "HIDDEN TESTS" in c]:
        for _line in _cell.splitlines():
            print(_between.join(_line))
"""
# A cell of the student's own, last: files of 1 MiB each into the kernel's socket folder (named by
# its connection file) until it is full, then a report of how many fitted.
SOCKET_CELL = """import errno, json, os
from ipykernel.kernelapp import IPKernelApp
_folder = os.path.dirname(json.load(open(IPKernelApp.instance().connection_file))["ip"])
_written, _error = 0, None
try:
    for _n in range({files}):
        with open(os.path.join(_folder, f"fill-{{_n}}"), "wb") as _out:
            _out.write(bytes(1 << 20))
        _written += 1
except OSError as _err:
    _error = errno.errorcode[_err.errno]
print("RESULT " + json.dumps({{"folder": _folder, "written_mib": _written, "error": _error}}))
"""


def extra_cell_notebook(release, source, code: str):
    """A perfect hand-in with ``code`` in a cell of the student's own, last."""
    nb = reference_submission(release, source)
    nb.cells.append(new_code_cell(code))
    return nb


@dataclass
class Batch:
    root: Path
    run: subprocess.CompletedProcess
    rows: dict  # gradebook rows of the graded students
    report: dict  # the written CSV, by printed student name
    report_txt: str
    full: float  # the assignment's points


def _require_jail() -> None:
    if not sandbox_requested():
        pytest.fail("SANDBOX=0 is set: the hostile batch needs the grading jail")
    try:
        check_jail(JailSettings())
    except JailUnavailable as err:
        pytest.fail(f"the hostile batch needs the grading jail: {err}")


def _hand_in(root: Path, student: str, nb) -> None:
    """Write the hand-in as JSON text: a lone surrogate is kept as its JSON escape ``\\ud800``,
    as a file saved by any JSON writer holds it."""
    path = submission_path(root, student)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(nb, indent=1), encoding="ascii")


@pytest.fixture(scope="module")
def batch(built_course, tmp_path_factory) -> Batch:
    _require_jail()
    root = tmp_path_factory.mktemp("hostile-batch")
    shutil.copytree(built_course.root / SOURCE_DIRECTORY, root / SOURCE_DIRECTORY)
    shutil.copy(built_course.root / "gradebook.db", root / "gradebook.db")
    release, source = built_course.release, built_course.source
    perfect = reference_submission(release, source)
    for student, base in {**CONTROLS, **ODD_NAMES}.items():
        _hand_in(root, student, perfect if base == "perfect" else release)
    _hand_in(root, "h-forge-cell", forge_cell_notebook(release, source, root, surrogate=True))
    _hand_in(root, "h-forge-id", forge_cell_notebook(release, source, root, surrogate=False))
    _hand_in(root, "h-forge-output", forge_output_notebook(release, source, root))
    _hand_in(root, "h-escapes", extra_cell_notebook(release, source, ESCAPES_CELL))
    _hand_in(root, "h-socket", extra_cell_notebook(release, source, SOCKET_CELL.format(files=2 * LIMITS["write_mib"])))
    options = [f"--JailSettings.{k}={v}" for k, v in LIMITS.items()]
    run = subprocess.run(
        [sys.executable, "-m", "tinytorch_course.grading.coordinator", "--jobs", "2", "--per-task", "3"]
        + ["--course-root", str(root), "--", *options],
        cwd=REPO,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
        errors="backslashreplace",
    )
    run_process(
        nbgrader_command("generate_feedback", ASSIGNMENT_ID, f"--CourseDirectory.root={root}"),
        cwd=REPO,
        env=nbgrader_env(),
    )
    graded = [s for s in (*CONTROLS, *PERFECT_ATTACKERS) if (root / AUTOGRADED / s).is_dir()]
    full = sum(float(nbgrader_meta(c)["points"]) for c in release.cells if nbgrader_meta(c).get("grade"))
    report_txt = (root / REPORT_TXT).read_text(encoding="utf-8") if (root / REPORT_TXT).is_file() else ""
    return Batch(root, run, gradebook_rows(root, graded), read_report(root / REPORT_CSV), report_txt, full)


def _context(batch: Batch) -> str:
    return f"\nstdout:\n{batch.run.stdout[-3000:]}\nstderr:\n{batch.run.stderr[-3000:]}"


def test_the_report_lists_every_student_found_one_line_each(batch):
    everyone = [*CONTROLS, *ODD_NAMES, *FORGERS, "h-escapes", "h-socket"]
    assert set(batch.report) == {printable(s) for s in everyone}, _context(batch)
    assert len(batch.report_txt.splitlines()) == 1 + len(everyone), batch.report_txt
    assert batch.run.returncode == 1, "refused folders are not graded: exit code 1" + _context(batch)


def test_controls_keep_their_exact_scores(batch):
    expected = {s: batch.full if base == "perfect" else 0.0 for s, base in CONTROLS.items()}
    got = {s: batch.rows[s]["score"] for s in CONTROLS if s in batch.rows}
    assert got == expected, _context(batch)
    for student in CONTROLS:
        row = batch.report[student]
        assert (row["status"], float(row["score"]), row["reason"]) == (GRADED, expected[student], ""), row


def test_odd_folder_names_are_refused_with_their_reason_and_graded_nowhere(batch):
    for student in ODD_NAMES:
        row = batch.report[printable(student)]
        assert (row["status"], row["score"]) == (NOT_GRADED, ""), row
        assert row["reason"].startswith("folder name refused: it "), row
        assert not (batch.root / AUTOGRADED / student).exists()
    assert "holds a glob character" in batch.report["aa-perfec[t]"]["reason"]
    assert "is not UTF-8" in batch.report["b\\xffbytes"]["reason"]
    assert "starts with a dot" in batch.report[".hidden"]["reason"]
    assert (batch.root / SUBMITTED / "aa-perfec[t]").is_dir(), "the hand-in itself is left as it was"


def test_no_forged_line_reaches_the_report(batch):
    """The forged lines named every control and every forger; no control's line holds an event
    (their reason is empty: above), the cell forgers' lines hold none, and the output forger's
    holds one, the real one, which quotes the forged lines only as its kernel's last output."""
    for student in ("h-forge-cell", "h-forge-id"):
        assert "kernel died" not in batch.report[student]["reason"], batch.report[student]
    reason = batch.report["h-forge-output"]["reason"]
    assert reason.count("kernel died:") == 1 and "forged for" not in reason.split("its last output")[0], reason


def test_a_kernel_quoting_forged_lines_and_bad_bytes_is_one_escaped_line(batch):
    row = batch.report["h-forge-output"]
    assert (row["status"], float(row["score"])) == (GRADED, batch.full), row
    assert row["reason"].startswith("kernel died: the kernel ended while the notebook was graded"), row
    # the tail of the kernel's output, quoted: its lines escaped, bytes that are not UTF-8 replaced
    assert "\\\\nbytes \ufffd\ufffd and \ufffd\ufffd\ufffd" in row["reason"], row
    assert row["reason"].isprintable(), row
    (line,) = [text for text in batch.report_txt.splitlines() if text.startswith("h-forge-output ")]
    assert line.endswith(row["reason"])


def test_a_forged_grade_id_is_never_read(batch):
    """The canonical notebook takes no metadata from the hand-in, so the forged grade_id (and
    its lone surrogate) never reaches nbgrader or its log: the forger's perfect work is graded as
    such, with nothing to report."""
    for student in ("h-forge-cell", "h-forge-id"):
        row = batch.report[student]
        assert (row["status"], float(row["score"]), row["reason"]) == (GRADED, batch.full, ""), row


def test_perfect_attackers_score_full_marks(batch):
    got = {s: batch.rows[s]["score"] for s in PERFECT_ATTACKERS if s in batch.rows}
    assert got == dict.fromkeys(PERFECT_ATTACKERS, batch.full), _context(batch)


def _printed(batch: Batch, student: str) -> str:
    nb = batch.root / AUTOGRADED / student / ASSIGNMENT_ID / "capstone.ipynb"
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return "".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code" for o in c["outputs"])


def _reader_sees(path: Path) -> str:
    """The text of an HTML page as a reader sees it: no characters without a glyph."""
    text = html_text(path)
    return "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf"))


def test_feedback_shows_no_hidden_line_printed_between_escape_sequences(batch, built_course):
    hidden = region_lines(built_course.source, BEGIN_HIDDEN, END_HIDDEN)
    printed = _printed(batch, "h-escapes")
    dressed = [line for line in hidden if "\x1b[?25l".join(line) in printed or line in printed]
    assert not dressed, "a hidden test reached the student's kernel, which printed it"
    seen = _reader_sees(feedback_path(batch.root, "h-escapes"))
    leaks = sorted(line for line in hidden - outside_region_lines(built_course.source) if line in seen)
    assert not leaks, f"feedback shows hidden tests: {leaks}"
    row = batch.report["h-escapes"]  # its own cell reads In, the cells the kernel ran
    assert (row["status"], float(row["score"])) == (REVIEW, batch.full), row


def test_the_socket_folder_holds_no_more_than_its_megabyte(batch):
    (line,) = [line for line in _printed(batch, "h-socket").splitlines() if line.startswith("RESULT ")]
    found = json.loads(line[len("RESULT ") :])
    assert found["folder"] == SOCKET_DIR, found
    assert found["written_mib"] <= SOCKET_DIR_BYTES >> 20 and found["error"] == "ENOSPC", found
    row = batch.report["h-socket"]  # its own cell imports ipykernel: read by hand, graded in full
    assert (row["status"], float(row["score"])) == (REVIEW, batch.full), row
    assert "kernel died" not in row["reason"], "the kernel kept working: its sockets are intact"
