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

The tests run in a kernel of their own and judge only the data the acts (given code run in the
student's kernel) send back, so what a student's code can still do is make an act answer with
data it did not measure: by replacing the act relay (``tinytorch.acts``, whose names are listed
below) or by redefining what the given code defines (an act, a fixture, a helper an act calls:
``report_data = ...``, ``KnownCostModel.log = ...``). A cell that binds a name the assignment's
given cells define, or an attribute of one, is flagged as ``redefines given <names>``.
"""

from __future__ import annotations

import ast
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
        # the act relay between the student's kernel and the tests'
        "acts",
        "_ACTS",
        "serve",
        "REPLY_MIME",
        "RELAY_VARIABLE",
        "publish_display_data",
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


def given_names(assignment: dict) -> frozenset[str]:
    """The names the assignment's given code cells (locked, neither answers nor tests) define at
    their top level: functions, classes and assigned names (imports are not counted: a student may import
    numpy again)."""
    names: set[str] = set()
    for cell in assignment.get("cells", []):
        meta = (cell.get("metadata", {}) or {}).get("nbgrader") or {}
        if cell.get("cell_type") != "code" or not meta.get("locked") or meta.get("solution") or meta.get("grade"):
            continue
        try:
            tree = ast.parse(_text(cell.get("source", "")))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return frozenset(names)


def _root(node: ast.AST) -> ast.AST:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def rebound_names(source: str, given: frozenset[str]) -> list[str]:
    """The ``given`` names ``source`` binds at its top level (def, class, assignment, import as)
    or whose attributes or items it assigns anywhere (``KnownCostModel.log = ...``), sorted."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and statement.name in given:
            found.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            found.update(a.asname or a.name for a in statement.names if (a.asname or a.name) in given)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                for part in ast.walk(target) if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                    root = _root(part)
                    top_level = node in tree.body or part is not root
                    if isinstance(root, ast.Name) and root.id in given and top_level:
                        found.add(root.id)
        elif isinstance(node, ast.Global):
            found.update(name for name in node.names if name in given)
    return sorted(found)


def tamper_signs(submitted: dict, assignment: dict) -> list[str]:
    """The suspicious names in the code cells of ``submitted`` (a notebook as parsed JSON) that
    are not cells of ``assignment`` (the assignment's source notebook) as given, and the given
    names they redefine, each named with the cell it is in:
    ``["get_ipython, input_transformers_post (cell 'simple-mlp')", "redefines given report_data
    (cell 'benchmark-report')"]``."""
    redefinable = given_names(assignment)
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
        grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        where = f"cell {grade_id!r}" if grade_id else f"cell {index + 1}"
        names = suspicious_names(source)
        if names:
            signs.append(f"{', '.join(names)} ({where})")
        rebound = rebound_names(source, redefinable)
        if rebound:
            signs.append(f"redefines given {', '.join(rebound)} ({where})")
    return signs


def _text(source: object) -> str:
    """A cell source as one string (nbformat allows a list of lines)."""
    if isinstance(source, list):
        return "".join(str(line) for line in source)
    return str(source)
