"""A student's session, for real: JupyterLab from the student edition's venv, on 127.0.0.1 with
a token, driven in Debian's headless Chromium. Run All on the blank notebook shows the first
test's failure and reaches the closing summary with the kernel alive; locked cells refuse edits;
no nbgrader tools in the UI; typing the SimpleMLP.forward solution into its cell makes its test
pass. A screenshot of the notebook is saved in the test's temporary folder."""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chromium import launched_chromium
from tinytorch_course.authoring.markers import BEGIN_SOLUTION, END_SOLUTION, regions
from tinytorch_course.authoring.reference import nbgrader_meta
from tinytorch_course.authoring.release import source_notebook
from tinytorch_course.paths import SOURCE_PY
from tinytorch_course.student.edition import STUB

PART = "SimpleMLP.forward"  # the part the test types in, as the issue asks
RUN_TIMEOUT_S = 300
ERROR_MIME = "application/vnd.jupyter.stderr"


@dataclass
class Lab:
    url: str
    token: str

    def api(self, path: str):
        with urllib.request.urlopen(f"{self.url}{path}?token={self.token}", timeout=10) as response:
            return json.load(response)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _user_settings(home: Path) -> None:
    """Settings a test needs, not a student: every cell stays in the page (JupyterLab 4 leaves
    cells scrolled out of view out of the DOM), and no news toast covers the notebook."""
    settings = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    for plugin, values in {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(student, tmp_path_factory) -> Iterator[Lab]:
    """`jupyter lab` of the student's venv, serving the student's checkout, stopped at the end."""
    _user_settings(student.home)
    token, port = secrets.token_hex(16), _free_port()
    log = tmp_path_factory.mktemp("jupyterlab") / "server.log"
    cmd = [
        str(student.venv / "bin" / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={student.root}",
    ]
    if os.geteuid() == 0:  # CI runs as root; Jupyter refuses that unless told
        cmd.append("--allow-root")
    with open(log, "w") as out:
        server = subprocess.Popen(cmd, env=student.env(), stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                lab.api("/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


class Notebook:
    """The open notebook in the page, cell by cell (same order as the file's cells)."""

    def __init__(self, page) -> None:
        self.page = page
        self.cells = page.locator(".jp-Notebook .jp-Cell")

    def prompt(self, index: int) -> str:
        return self.cells.nth(index).locator(".jp-InputArea-prompt").inner_text().strip()

    def output(self, index: int) -> str:
        return self.cells.nth(index).locator(".jp-OutputArea").inner_text()

    def error_count(self, index: int) -> int:
        return self.cells.nth(index).locator(f'.jp-OutputArea-output[data-mime-type="{ERROR_MIME}"]').count()

    def menu(self, menu: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()

    def wait_executed(self, indices: list[int], after: dict[int, str] | None = None) -> None:
        """Wait until every cell of ``indices`` shows an execution count (different from
        ``after``'s, for a re-run)."""
        after = after or {}
        deadline = time.monotonic() + RUN_TIMEOUT_S
        idle_polls = 0
        while True:
            prompts = {i: self.prompt(i) for i in indices}
            pending = {i: p for i, p in prompts.items() if not re.fullmatch(r"\[\d+\]:", p) or p == after.get(i)}
            if not pending:
                return
            # Nothing running or queued while cells are left: the run stopped at an error.
            idle_polls = idle_polls + 1 if "[*]:" not in prompts.values() else 0
            if idle_polls >= 6:
                ran = [i for i in indices if i not in pending]
                stopped = ran[-1] if ran else None
                raise AssertionError(
                    f"the run stopped at cell {stopped}, cells {sorted(pending)} never ran:\n"
                    f"{self.output(stopped) if stopped is not None else ''}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"cells still not run after {RUN_TIMEOUT_S} s: {pending}")
            time.sleep(0.5)


@dataclass
class Layout:
    """Where things are in the release, found from its metadata (never from fixed positions)."""

    code: list[int]  # every code cell
    tests: list[int]  # graded test cells
    solution: int  # the cell holding PART
    test: int  # the first graded test cell after it
    stub_index: int  # which stub of that cell is PART's
    answer: str  # the reference solution of PART, as the student types it


def _layout(release) -> Layout:
    code = [i for i, c in enumerate(release.cells) if c.cell_type == "code"]
    tests = [
        i
        for i in code
        if nbgrader_meta(release.cells[i]).get("grade") and not nbgrader_meta(release.cells[i]).get("solution")
    ]
    cls, method = PART.split(".")
    for i in code:
        cell = release.cells[i]
        if not nbgrader_meta(cell).get("solution"):
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == cls:
                func = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == method), None)
                if func is None:
                    continue
                lines = cell.source.split("\n")
                stubs = [n for n, line in enumerate(lines, 1) if STUB in line]
                mine = [k for k, n in enumerate(stubs) if func.lineno <= n <= func.end_lineno]
                grade_id = nbgrader_meta(cell)["grade_id"]
                source_cell = next(
                    c for c in source_notebook(SOURCE_PY).cells if nbgrader_meta(c).get("grade_id") == grade_id
                )
                region = regions(source_cell.source, BEGIN_SOLUTION, END_SOLUTION)[mine[0]]
                answer = "\n".join(region).strip()
                test = next(t for t in tests if t > i)
                return Layout(code, tests, i, test, mine[0], answer)
    raise AssertionError(f"no solution cell of the release defines {PART}")


@pytest.fixture(scope="module")
def layout(release) -> Layout:
    return _layout(release)


@pytest.fixture(scope="module")
def notebook(lab, browser, release, layout) -> Iterator[Notebook]:
    """The release opened in JupyterLab, after Run → Run All Cells has finished."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{lab.url}/lab/tree/modules/20_capstone/capstone.ipynb?token={lab.token}")
    nb = Notebook(page)
    # The cells are rendered a few at a time; then the kernel must be ready.
    page.wait_for_function(
        f"document.querySelectorAll('.jp-Notebook .jp-Cell').length == {len(release.cells)}", timeout=60_000
    )
    page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=60_000)
    nb.menu("Run", "Run All Cells")
    nb.wait_executed(layout.code)
    try:
        yield nb
    finally:
        context.close()


def test_run_all_reaches_the_summary_with_the_first_failure_shown(notebook, layout, lab):
    first = notebook.output(layout.tests[0])
    assert notebook.error_count(layout.tests[0]) == 1, "the first test should fail on the blank notebook"
    assert "NotImplementedError" in first and "YOUR CODE HERE" in first and PART.split(".")[1] in first, (
        f"the first test's message should lead to the part to write:\n{first}"
    )
    last = layout.code[-1]
    assert re.fullmatch(r"\[\d+\]:", notebook.prompt(last)) and notebook.output(last).strip(), (
        "Run All did not reach the closing summary"
    )
    for index in layout.tests:
        assert notebook.error_count(index) == 1, f"test cell {index} shows no failure on the blank notebook"
    assert notebook.page.locator(".jp-Dialog").count() == 0, "a dialog (kernel error?) is open"
    kernels = lab.api("/api/kernels")
    assert len(kernels) == 1 and kernels[0]["execution_state"] == "idle", kernels
    assert notebook.page.locator(".jp-StatusBar-Widget", has_text="Idle").count() >= 1


def test_locked_cells_refuse_edits_and_deletion(notebook, layout, release):
    """JupyterLab enforces nbgrader's locks through the cell metadata the release carries
    (`editable: false`, `deletable: false`). The answer cell taking the typed solution, in the
    last test, is the other half: the same keystrokes do reach an editable cell."""
    page, index = notebook.page, layout.tests[0]
    assert release.cells[index].metadata.get("editable") is False
    cell = notebook.cells.nth(index)
    before = cell.locator(".cm-content").inner_text()
    cell.locator(".cm-content").click()
    page.keyboard.type("x = 1  # a change")
    assert cell.locator(".cm-content").inner_text() == before, "a locked test cell took an edit"
    page.keyboard.press("Escape")
    count = notebook.cells.count()
    cell.locator(".jp-InputPrompt").click()  # select the cell in command mode
    page.keyboard.press("d")
    page.keyboard.press("d")
    assert notebook.cells.count() == count, "a locked test cell was deleted"


def test_no_nbgrader_tools_in_the_ui(notebook):
    page = notebook.page
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert {"File", "Run", "Kernel"} <= set(menus), menus  # the menu bar was read
    assert not any("nbgrader" in m.lower() for m in menus), f"an nbgrader menu is shown: {menus}"
    tabs = [
        t or ""
        for t in page.locator(".lm-TabBar-tab").evaluate_all(
            "tabs => tabs.map(t => t.getAttribute('title') || t.textContent)"
        )
    ]
    assert tabs, "no side-bar tabs were found"
    assert not any("assignment" in t.lower() or "nbgrader" in t.lower() for t in tabs), tabs
    assert page.get_by_text("Create Assignment").count() == 0


def test_typing_the_forward_solution_makes_its_test_pass(notebook, layout, student, tmp_path_factory):
    page = notebook.page
    editor = notebook.cells.nth(layout.solution).locator(".cm-content")
    stub_line = editor.locator(".cm-line", has_text=STUB).nth(layout.stub_index)
    stub_line.click()
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")  # to the end of the indentation, which the answer keeps
    page.keyboard.insert_text(layout.answer)
    assert layout.answer.split("\n")[0] in editor.inner_text() and STUB not in editor.inner_text()
    before = {i: notebook.prompt(i) for i in range(layout.solution, layout.test + 1)}
    for _ in range(layout.solution, layout.test + 1):  # run the answer cell and down to its test
        page.keyboard.press("Shift+Enter")
    notebook.wait_executed([i for i in layout.code if layout.solution <= i <= layout.test], after=before)
    assert notebook.error_count(layout.test) == 0, (
        f"the test still fails after typing the solution:\n{notebook.output(layout.test)}"
    )
    assert notebook.output(layout.test).strip(), "the passing test printed nothing"
    # The student README promises that saving in JupyterLab also writes the paired script.
    page.keyboard.press("Control+s")
    script = student.notebook.with_suffix(".py")
    deadline = time.monotonic() + 30
    while not (script.is_file() and layout.answer.split("\n")[0] in script.read_text()):
        assert time.monotonic() < deadline, f"saving did not write the paired {script.name} with the answer"
        time.sleep(0.5)
    notebook.cells.nth(layout.test).scroll_into_view_if_needed()
    shot = tmp_path_factory.mktemp("screenshots") / "jupyterlab-notebook.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
