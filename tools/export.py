"""Export the `#| export` cells of the capstone source into the package.

    python tools/export.py            # write tinytorch/olympics.py
    python tools/export.py --check    # exit 1 when the committed file is stale

The source is a jupytext percent file: cells start with a `# %%` line. A cell whose first line
is `#| export` goes to the package, in order, with the solution markers and the `# TODO:` hints
for students removed (the package carries the reference solution; the release carries stubs).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.course import BEGIN_SOLUTION, END_SOLUTION, EXPORT_TAG, REPO, SOURCE_PY, is_marker  # noqa: E402

TARGET = REPO / "tinytorch" / "olympics.py"

CELL_START = re.compile(r"^# %%")
# A student hint: a `# TODO:` comment and the indented comment lines continuing it.
HINT_START = re.compile(r"^\s*# TODO:")
HINT_CONTINUED = re.compile(r"^\s*#\s{2,}\S")


def cells(text: str) -> list[list[str]]:
    """The source split into cells, each a list of lines without its `# %%` header."""
    found: list[list[str]] = []
    for line in text.splitlines():
        if CELL_START.match(line):
            found.append([])
        elif found:
            found[-1].append(line)
    return found


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
        if not cell or cell[0].strip() != EXPORT_TAG:
            continue
        body = [line for line in without_hints(cell[1:]) if not is_marker(line, BEGIN_SOLUTION, END_SOLUTION)]
        blocks.append("\n".join(body).strip("\n"))
    if not blocks:
        raise SystemExit(f"{SOURCE_PY}: no cell starts with '{EXPORT_TAG}'")
    header = (f"# Generated from {SOURCE_PY.relative_to(REPO)} by tools/export.py; do not edit.\n"
              "# Change the source and run `make export`.\n")
    return header + "\n\n\n".join(blocks) + "\n"


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
