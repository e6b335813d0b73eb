"""Student folder names are data: which ones are graded, and how any name is printed.

nbgrader turns a student id into a glob pattern (``submitted/<id>/<assignment>``), a regular
expression and a path, so a folder ``aa-perfec[t]`` matches its classmate ``aa-perfect``'s
folder. A folder is graded only when its name is plain: ASCII letters and digits, then also
``_ . @ + -``, at most :data:`MAX_NAME_CHARS` characters. Any other folder is refused, with one
reason per rule it breaks, and is never handed to nbgrader, so it cannot change anyone's grade.

Whatever a name holds (newlines, lone surrogates from bytes that are not UTF-8, control or
direction characters), :func:`printable` turns it into one line of plain text for the grading
report and the log.
"""

from __future__ import annotations

import re
import unicodedata

#: The longest folder name that is graded (nbgrader's gradebook keeps ids of up to 128 characters).
MAX_NAME_CHARS = 128
#: The characters a graded name may hold besides ASCII letters and digits.
PUNCTUATION = "_.@+-"
GLOB_CHARACTERS = "*?[]"
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*")


def _undecodable(name: str) -> bool:
    # os.listdir gives the bytes of a name that is not UTF-8 as lone surrogates (surrogateescape)
    return any("\ud800" <= ch <= "\udfff" for ch in name)


#: The rules a graded name keeps: (whether ``name`` breaks it, the reason given when it does).
RULES = (
    (_undecodable, "is not UTF-8"),
    (lambda name: name.startswith("."), "starts with a dot (a hidden folder)"),
    (lambda name: len(name) > MAX_NAME_CHARS, f"is longer than {MAX_NAME_CHARS} characters"),
    (lambda name: any(ch in GLOB_CHARACTERS for ch in name), "holds a glob character (* ? [ ])"),
    (lambda name: any(ch.isspace() for ch in name), "holds white space (a space, tab or line break)"),
    (
        lambda name: any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name),
        "holds a control or formatting character",
    ),
)
#: The reason of a name that breaks none of :data:`RULES` and is still not plain.
NOT_PLAIN = f"is not an ASCII letter or digit followed by ASCII letters, digits and {' '.join(PUNCTUATION)}"


def refusal(name: str) -> str | None:
    """Why the student folder ``name`` is not graded (every rule it breaks), or None when it is
    a plain name that is graded."""
    if _PLAIN.fullmatch(name) and len(name) <= MAX_NAME_CHARS:
        return None
    broken = [reason for breaks, reason in RULES if breaks(name)] or [NOT_PLAIN]
    return "folder name refused: it " + "; it ".join(broken) + " (see README, grading)"


def printable(text: str) -> str:
    """``text`` as one line of printable text: a backslash doubled; line breaks, tabs, control and
    formatting characters (bidirectional overrides included) as ``\\n``, ``\\t``, ``\\xNN`` (below
    0x80) or ``\\uNNNN``; a byte that was not UTF-8 (a lone surrogate from ``surrogateescape``) as
    ``\\xNN``, any other lone surrogate as ``\\uNNNN``. Plain text is returned unchanged, and
    nothing a student writes can start a new line of a log or report."""
    return "".join(_printable_char(ch) for ch in text)


_SHORT = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _printable_char(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
        # \xNN only below 0x80: \x80-\xff stand for the bytes that were not UTF-8
        return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"
    return ch
