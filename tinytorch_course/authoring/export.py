"""Export the `#| export` cells of the capstone source into the package.

    python -m tinytorch_course.authoring.export            # write tinytorch/olympics/capstone.py
    python -m tinytorch_course.authoring.export --check    # exit 1 when the committed file is stale

The source is a jupytext percent file: cells start with a `# %%` line. A cell whose first line
is `#| export` goes to the package, in order, with the solution markers and the `# TODO:` hints
for students removed (the package carries the reference solution; the release carries stubs).
The generated module says so in its first lines, lists its public names in `__all__`, and
marks each block with the source cell it came from (grade id and line), so a traceback into it
leads back to the source.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from dataclasses import dataclass

from tinytorch_course.authoring.markers import BEGIN_SOLUTION, END_SOLUTION, EXPORT_TAG, is_marker
from tinytorch_course.paths import REPO, SOURCE_PY

TARGET = REPO / "tinytorch" / "olympics" / "capstone.py"

CELL_START = re.compile(r"^# %%")
# A student hint: a `# TODO:` comment and the indented comment lines continuing it.
HINT_START = re.compile(r"^\s*# TODO:")
HINT_CONTINUED = re.compile(r"^\s*#\s{2,}\S")


NBGRADER_METADATA = re.compile(r"nbgrader=(\{.*\})")


@dataclass
class Cell:
    """One cell of the source: its 1-based header line, its nbgrader grade id (if any), its lines."""

    line: int
    grade_id: str | None
    lines: list[str]

    @property
    def origin(self) -> str:
        """Where the cell is in the source, as a reader looks it up: `file:line (grade id)`."""
        where = f"{SOURCE_PY.relative_to(REPO)}:{self.line}"
        return f"{where} (cell {self.grade_id!r})" if self.grade_id else where


def cells(text: str) -> list[Cell]:
    """The source split into cells, each without its `# %%` header line."""
    found: list[Cell] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if CELL_START.match(line):
            metadata = NBGRADER_METADATA.search(line)
            grade_id = json.loads(metadata.group(1)).get("grade_id") if metadata else None
            found.append(Cell(number, grade_id, []))
        elif found:
            found[-1].lines.append(line)
    return found


def public_names(code: str) -> list[str]:
    """The names `code` defines at top level (functions, classes, assignments), without `_` ones."""
    names: list[str] = []
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [target.id for target in node.targets if isinstance(target, ast.Name)]
    return [name for name in dict.fromkeys(names) if not name.startswith("_")]


def without_hints(lines: list[str]) -> list[str]:
    """`lines` without student hints, which mean nothing in the package."""
    kept, in_hint = [], False
    for line in lines:
        in_hint = bool(HINT_START.match(line) or (in_hint and HINT_CONTINUED.match(line)))
        if not in_hint:
            kept.append(line)
    return kept


def exported_code(text: str) -> str:
    """The package module built from the exported cells of `text`."""
    blocks = []
    for cell in cells(text):
        if not cell.lines or cell.lines[0].strip() != EXPORT_TAG:
            continue
        body = [line for line in without_hints(cell.lines[1:]) if not is_marker(line, BEGIN_SOLUTION, END_SOLUTION)]
        blocks.append(f"# ---- from {cell.origin}\n" + "\n".join(body).strip("\n"))
    if not blocks:
        raise SystemExit(f"{SOURCE_PY}: no cell starts with '{EXPORT_TAG}'")
    names = public_names("\n\n".join(blocks))
    header = (
        f"# GENERATED from {SOURCE_PY.relative_to(REPO)} by tinytorch_course/authoring/export.py: do not edit.\n"
        "# It carries the reference solutions. Change the source and run `make export`;\n"
        "# each block below names the source cell it came from.\n"
    )
    exports = "__all__ = [\n" + "".join(f"    {name!r},\n" for name in names) + "]"
    first, *rest = blocks
    return header + "\n\n\n".join([first, exports, *rest]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed export is stale")
    args = parser.parse_args(argv)
    code = exported_code(SOURCE_PY.read_text(encoding="utf-8"))
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != code:
            print(f"{TARGET.relative_to(REPO)} is stale: run `make export`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(code, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
