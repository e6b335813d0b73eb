"""Signs that a submission tampers with its own kernel, for the instructor to review by hand.

The jail keeps a student's code away from the grader, the gradebook and the other students, but
not from its own kernel: code that registers an IPython input transformer, replaces
``_showtraceback``, patches builtins or traces execution can make the tests that run after it
pass without testing anything, and nothing inside that kernel can be trusted to notice. This
check runs outside the kernel, on the submitted file: every code cell the student wrote or
changed (a cell whose source is not one of the assignment's own cells) is read token by token
for the names such tampering needs, in code and in string literals (``getattr(ip,
"input_transformers_post")``), and for IPython magics and shell escapes. Nothing the capstone
asks for needs any of them. A flagged submission keeps its score and is listed in the grading
report with the names found, so the instructor reads those cells before releasing grades.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable

#: Names whose use in a student's cell is a sign of tampering with the kernel or the grader.
SUSPICIOUS_NAMES = frozenset(
    {
        # IPython's machinery: hooks, transformers, error display, cell execution
        "get_ipython",
        "IPython",
        "ipykernel",
        "input_transformers_post",
        "input_transformers_cleanup",
        "input_transformer_manager",
        "ast_transformers",
        "events",
        "set_custom_exc",
        "showtraceback",
        "_showtraceback",
        "run_cell",
        "run_code",
        "user_ns",
        "_ih",
        "_oh",
        "In",
        "Out",
        # the interpreter's own machinery
        "settrace",
        "setprofile",
        "builtins",
        "__builtins__",
        "__import__",
        "importlib",
        "modules",
        "exec",
        "eval",
        "ctypes",
        "gc",
        "__code__",
        "__globals__",
        # noticing the grader, or leaving the kernel
        "NBGRADER_EXECUTION",
        "environ",
        "signal",
        "subprocess",
        "system",
        "fork",
        "socket",
        "atexit",
    }
)

#: The names also looked for inside string literals: only those no prose sentence contains.
SPELLED_NAMES = frozenset(
    name
    for name in SUSPICIOUS_NAMES
    if "_" in name
    or name in {"IPython", "ipykernel", "ctypes", "importlib", "settrace", "setprofile", "subprocess", "builtins"}
)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAGIC = re.compile(r"^\s*[%!]", re.MULTILINE)


def _names(source: str) -> Iterable[str]:
    """The suspicious identifiers of ``source``: names in its code, distinctive names spelled
    inside its string literals (comments are not read)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # not Python (a magic, a syntax error): every distinctive word counts
        yield from (word for word in _WORD.findall(source) if word in SPELLED_NAMES)
        return
    for token in tokens:
        if token.type == tokenize.NAME and token.string in SUSPICIOUS_NAMES:
            yield token.string
        elif token.type == tokenize.STRING:
            yield from (word for word in _WORD.findall(token.string) if word in SPELLED_NAMES)


def suspicious_names(source: str) -> list[str]:
    """The suspicious names ``source`` uses, sorted; ``%magic`` or ``!shell`` lines as "magic"."""
    found = set(_names(source))
    if _MAGIC.search(source):
        found.add("magic")
    return sorted(found)


def _normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def tamper_signs(submitted: dict, assignment: dict) -> list[str]:
    """The suspicious names in the code cells of ``submitted`` (a notebook as parsed JSON) that
    are not cells of ``assignment`` (the assignment's source notebook) as given, each named with
    the cell it is in: ``["get_ipython, input_transformers_post (cell 'simple-mlp')"]``."""
    given = {
        _normalized(_text(cell.get("source", "")))
        for cell in assignment.get("cells", [])
        if cell.get("cell_type") == "code"
    }
    signs = []
    for index, cell in enumerate(submitted.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _text(cell.get("source", ""))
        if _normalized(source) in given:
            continue
        names = suspicious_names(source)
        if names:
            grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
            where = f"cell {grade_id!r}" if grade_id else f"cell {index + 1}"
            signs.append(f"{', '.join(names)} ({where})")
    return signs


def _text(source: object) -> str:
    """A cell source as one string (nbformat allows a list of lines)."""
    if isinstance(source, list):
        return "".join(str(line) for line in source)
    return str(source)
