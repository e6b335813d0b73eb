"""How the capstone source marks what students never see: the export tag and nbgrader's region
markers, with the one reading of them that the export, the release, the feedback redaction and
the tests share."""

from __future__ import annotations

#: A source cell whose first line is this tag is exported to the package.
EXPORT_TAG = "#| export"

#: nbgrader's region markers: solutions (replaced by stubs in the release) and hidden tests
#: (removed from the release). A line holding the text is a marker line, as nbgrader reads them.
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def is_marker(line: str, begin: str, end: str) -> bool:
    """Whether ``line`` opens or closes a ``begin``/``end`` region (nbgrader's rule: it holds the
    marker text anywhere)."""
    return begin in line or end in line


def partition(text: str, begin: str, end: str) -> tuple[list[str], list[list[str]]]:
    """The lines of ``text`` outside every ``begin``/``end`` region, and the lines strictly inside
    each region; marker lines belong to neither. A region opened twice or never closed is a
    ValueError, as nbgrader refuses it too; a stray closing marker is only dropped."""
    outside: list[str] = []
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in text.split("\n"):
        if begin in line:
            if current is not None:
                raise ValueError(f"a {begin!r} region opens inside another: {line.strip()!r}")
            current = []
        elif end in line:
            if current is not None:
                found.append(current)
            current = None
        elif current is not None:
            current.append(line)
        else:
            outside.append(line)
    if current is not None:
        raise ValueError(f"a {begin!r} region is never closed by {end!r}")
    return outside, found


def regions(text: str, begin: str, end: str) -> list[list[str]]:
    """The lines strictly inside each ``begin``/``end`` region of ``text``."""
    return partition(text, begin, end)[1]
