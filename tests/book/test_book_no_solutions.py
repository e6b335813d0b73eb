"""The book may show the student release, never the instructor's solutions."""
from __future__ import annotations

import html
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SOURCE = ROOT / "src" / "20_capstone" / "20_capstone.py"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# Lines too generic to identify a solution (`return x`, `pass`, brackets) are not checked.
MIN_CHARS = 12
GENERIC = re.compile(r"^(return\b.{0,12}|pass|else:|try:|\)|\]|\}|break|continue)$")


def solution_lines(source: str) -> list[str]:
    """Distinctive, stripped lines inside the BEGIN/END SOLUTION regions of the source."""
    lines, inside = [], False
    for raw in source.splitlines():
        line = raw.strip()
        if line.startswith(BEGIN):
            inside = True
        elif line.startswith(END):
            inside = False
        elif inside and len(line) >= MIN_CHARS and not line.startswith("#") \
                and not GENERIC.match(line):
            lines.append(line)
    if inside:
        raise ValueError(f"{SOURCE}: a {BEGIN} region is never closed")
    return lines


def page_text(path: Path) -> str:
    """An HTML page as text: tags removed, entities decoded, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", html.unescape(text))


def test_solution_regions_found() -> None:
    lines = solution_lines(SOURCE.read_text(encoding="utf-8"))
    assert len(lines) >= 10, f"expected solution code in {SOURCE}, found {len(lines)} lines"


def test_helper_finds_a_planted_solution_line(tmp_path: Path) -> None:
    secret = "value = compute_the_secret_answer(x, y)"
    source = f"def f():\n    {BEGIN}\n    {secret}\n    {END}\n"
    page = tmp_path / "page.html"
    page.write_text(f"<pre><span>value</span> = compute_the_secret_answer(x, y)</pre>")
    assert solution_lines(source) == [secret]
    assert secret in page_text(page)


def test_no_solution_line_in_built_book(built_book: Path) -> None:
    lines = set(solution_lines(SOURCE.read_text(encoding="utf-8")))
    pages = sorted(built_book.rglob("*.html"))
    assert pages, f"no HTML pages under {built_book}"
    leaks = {}
    for page in pages:
        text = page_text(page)
        found = sorted(line for line in lines if line in text)
        if found:
            leaks[str(page.relative_to(built_book))] = found[:5]
    assert not leaks, f"solution lines in the built book: {leaks}"
