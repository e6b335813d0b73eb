"""The book may show the student release, never the instructor's solutions or hidden tests."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import jupytext
import nbformat

from tests.course.pipeline_helpers import leaked_lines, outside_region_lines, region_lines
from tinytorch_course.authoring.markers import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION
from tinytorch_course.paths import SOURCE_PY as SOURCE

# Lines too generic to identify a solution (`return x`, `pass`, brackets) are not checked.
MIN_CHARS = 12
GENERIC = re.compile(r"^(return\b.{0,12}|pass|else:|try:|\)|\]|\}|break|continue)$")
# Files whose markup hides the text: tags are stripped before searching.
MARKUP = {".html", ".htm", ".xhtml", ".svg", ".xml"}


def collapse(text: str) -> str:
    """Runs of whitespace as one space, so line breaks and indentation do not hide a match."""
    return re.sub(r"\s+", " ", text)


def secret_lines(source: nbformat.NotebookNode) -> set[str]:
    """Distinctive lines inside the solution and hidden-test regions of `source`, collapsed."""
    lines = region_lines(source, BEGIN_SOLUTION, END_SOLUTION) | region_lines(source, BEGIN_HIDDEN, END_HIDDEN)
    return {
        collapse(line)
        for line in lines
        if len(line) >= MIN_CHARS and not line.startswith("#") and not GENERIC.match(line)
    }


def shown_lines(source: nbformat.NotebookNode) -> set[str]:
    """The lines of `source` outside every region, collapsed: students see these anyway (a
    fixture may build the same dict as a solution), so the book may show them too."""
    return {collapse(line) for line in outside_region_lines(source)}


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def page_text(path: Path) -> str:
    """An HTML page as text: tags removed, entities decoded, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))
    return collapse(html.unescape(text))


def json_strings(node: object) -> list[str]:
    """Every string inside a parsed JSON document (a notebook's cell sources and outputs)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in json_strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in json_strings(value)]
    return []


def file_text(path: Path) -> str | None:
    """The searchable text of any file of the built book; None for a binary file.

    Markup pages lose their tags; JSON (notebooks, .json) is searched as the strings it holds,
    with escapes decoded; every other text file (sources, .md, .txt, .js, .css) as it is.
    """
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    suffix = path.suffix.lower()
    if suffix in MARKUP:
        return page_text(path)
    text = html.unescape(raw)
    if suffix in {".ipynb", ".json"}:
        try:
            text += "\n" + "".join(json_strings(json.loads(raw)))
        except json.JSONDecodeError:
            pass  # searched as plain text
    return collapse(text)


def test_solution_regions_found() -> None:
    lines = secret_lines(jupytext.read(SOURCE))
    assert len(lines) >= 10, f"expected solution code in {SOURCE}, found {len(lines)} lines"


def test_a_line_shown_outside_the_regions_is_no_secret() -> None:
    shared = '"submission_type": "capstone_benchmark",'
    secret = "hidden_value = compute_the_secret(x)"
    hidden = "assert hidden_check(f()) == 42"
    source = notebook(
        f'def fixture():\n    return {{"schema_version": 2, {shared}}}',
        f"def f():\n    {BEGIN_SOLUTION}\n    {shared}\n    {secret}\n    {END_SOLUTION}",
        f"def test():\n    {BEGIN_HIDDEN}\n    {hidden}\n    {END_HIDDEN}",
    )
    page = f"... {shared} ... {secret} ... {hidden} ..."
    assert leaked_lines(secret_lines(source), shown_lines(source), page) == sorted([secret, hidden])


def test_helper_finds_a_planted_solution_line(tmp_path: Path) -> None:
    secret = "value = compute_the_secret_answer(x, y)"
    source = notebook(f"def f():\n    {BEGIN_SOLUTION}\n    {secret}\n    {END_SOLUTION}")
    page = tmp_path / "page.html"
    page.write_text("<pre><span>value</span> = compute_the_secret_answer(x, y)</pre>")
    assert secret_lines(source) == {secret}
    assert secret in page_text(page)


def test_helper_finds_a_planted_line_in_a_notebook_and_a_source(tmp_path: Path) -> None:
    secret = 'errors.append(f"{key}: does not match")'
    notebook = tmp_path / "page.ipynb"
    notebook.write_text(json.dumps({"cells": [{"source": ["x = 1\n", f"    {secret}\n"]}]}))
    source = tmp_path / "page.md"
    source.write_text(f"```python\n{secret}\n```\n")
    binary = tmp_path / "font.woff2"
    binary.write_bytes(b"\0\1" + secret.encode())
    assert secret in file_text(notebook)
    assert secret in file_text(source)
    assert file_text(binary) is None


def test_no_solution_line_in_built_book(built_book: Path) -> None:
    source = jupytext.read(SOURCE)
    secrets, shown = secret_lines(source), shown_lines(source)
    files = sorted(p for p in built_book.rglob("*") if p.is_file())
    scanned, leaks = set(), {}
    for path in files:
        text = file_text(path)
        if text is None:
            continue
        name = str(path.relative_to(built_book))
        scanned.add(name)
        found = leaked_lines(secrets, shown, text)
        if found:
            leaks[name] = found[:5]
    # The pages, their sources and notebooks, and the search index were all read.
    for expected in (
        "book/capstone.html",
        "_sources/book/capstone.md",
        "_sources/book/capstone.ipynb",
        "searchindex.js",
    ):
        assert expected in scanned, f"{expected} was not scanned (scanned {len(scanned)} files)"
    assert any(n.startswith("_downloads/") and n.endswith(".ipynb") for n in scanned), (
        "the notebook the chapter offers for download was not scanned"
    )
    assert not leaks, f"solution or hidden-test lines in the built book: {leaks}"
