"""Read a handed-in notebook file as untrusted bytes: the few fields of each cell that grading
takes from a student, or the reason the file cannot be read as a notebook.

A hand-in is whatever a student left in ``submitted/<student>/<assignment>/``, so nothing about it
is assumed. The file is opened without following a link (in any folder below the trusted
submitted folder either), must be a regular file of at most :data:`MAX_BYTES`, strict UTF-8,
nested at most :data:`MAX_DEPTH` brackets deep (checked before ``json.loads``, so a file of
20,000 nested brackets is refused instead of raising ``RecursionError`` here or in any later
reader), and shaped like nbformat 4 (``cells``) or 3 (``worksheets`` of ``cells``).

Of each cell only its type, its text, its nbgrader ``grade_id`` and its cell ``id`` are read
(:class:`StudentCell`): nothing else of the file (tags, metadata, outputs, attachments, the
kernel spec, the nbformat version) reaches grading. A cell's text that is not a string or a list
of strings is read as absent (``None``): the cell then counts as holding no text (see
:mod:`tinytorch_course.grading.canonical`). Text that cannot be written back as UTF-8 (a lone
surrogate from a ``\\ud800`` escape) makes the whole hand-in unreadable, since the graded notebook
could not be saved.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The largest hand-in read; the capstone's notebook is about 0.1 MiB without outputs.
MAX_BYTES = 64 * 1024 * 1024
#: The deepest bracket nesting read. A notebook needs about ten (widget state a few more); far
#: below the depth at which a recursive JSON reader or validator runs out of stack.
MAX_DEPTH = 100
#: The file of a submitted folder nbgrader reads besides the notebook: when it was handed in.
TIMESTAMP = "timestamp.txt"
#: The longest timestamp file read (nbgrader writes about 30 bytes).
TIMESTAMP_BYTES = 1024

# A JSON string, escapes included; its brackets are text, not nesting.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_OPENING = np.frombuffer(b"[{", dtype=np.uint8)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class StudentCell:
    """What grading reads of one handed-in cell; every field is None when absent or not a
    string (``text`` also when it is not a list of strings)."""

    cell_type: str | None
    text: str | None
    grade_id: str | None
    cell_id: str | None


@dataclass(frozen=True)
class Unreadable:
    """A hand-in that cannot be read as a notebook, and why (the grader's words, never the
    file's content)."""

    reason: str


HandedIn = list[StudentCell] | Unreadable


def read_handed_in(folder: Path, parts: Sequence[str]) -> HandedIn:
    """The cells of the hand-in at ``folder/part/.../part``, or why it is unreadable.

    ``folder`` is trusted (the course's submitted folder; it may be reached through links);
    each of ``parts`` (the student, the assignment, the notebook's file name, passed as names,
    never as a path to interpret) is opened without following a link. Raises
    ``FileNotFoundError`` when there is no such file, ``ValueError`` for a part that is not a
    plain name."""
    try:
        data = read_beneath(Path(folder), parts)
    except FileNotFoundError:
        raise
    except OSError as err:
        return Unreadable(_open_reason(err))
    except TooLarge:
        return Unreadable(f"larger than the {MAX_BYTES >> 20} MiB a hand-in may hold")
    return parse_handed_in(data)


def parse_handed_in(data: bytes) -> HandedIn:
    """The cells of a hand-in's bytes, or why they are not a readable notebook."""
    if len(data) > MAX_BYTES:
        return Unreadable(f"larger than the {MAX_BYTES >> 20} MiB a hand-in may hold")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return Unreadable(f"not UTF-8: byte {err.start} cannot be decoded")
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        return Unreadable(f"too deep: brackets nested more than {MAX_DEPTH} levels")
    try:
        document = json.loads(text)
    except ValueError as err:  # JSONDecodeError, and integers too long to convert
        return Unreadable(f"not JSON: {_json_reason(err)}")
    return _cells(document)


def nesting_depth(text: str) -> int:
    """How deep the brackets of JSON ``text`` nest (outside strings), computed without
    recursion and stopped early once past :data:`MAX_DEPTH`; unbalanced text counts as far as
    it goes (the JSON parser then says what is wrong)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    level, deepest = 0, 0
    for start in range(0, len(codes), _CHUNK):
        steps = np.where(np.isin(codes[start : start + _CHUNK], _OPENING), 1, -1)
        levels = level + np.cumsum(steps)
        deepest = max(deepest, int(levels.max()))
        if deepest > MAX_DEPTH:
            break
        level = int(levels[-1])
    return deepest


def read_beneath(folder: Path, parts: Sequence[str], limit: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file ``folder/parts...``, every part opened with O_NOFOLLOW
    (``OSError`` ELOOP for a link); a FIFO or device is opened without blocking and refused
    (EINVAL), a file longer than ``limit`` is not read past it (:class:`TooLarge`)."""
    fd = _open_beneath(folder, parts)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > limit:
            raise TooLarge
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while read
            raise TooLarge
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_timestamp(folder: Path, parts: Sequence[str]) -> bytes | None:
    """The bytes of the hand-in's timestamp file ``folder/parts...`` (:data:`TIMESTAMP`, read as
    :func:`read_beneath` reads, at most :data:`TIMESTAMP_BYTES`); None when there is none, or it
    is not a plain small file (a link, a FIFO, a device, a folder): graded as handed in on time."""
    try:
        return read_beneath(folder, parts, TIMESTAMP_BYTES)
    except (OSError, TooLarge):
        return None


def folder_names(folder: Path, parts: Sequence[str]) -> list[str]:
    """The sorted names in the folder ``folder/parts...``, reached without following a link."""
    fd = _open_beneath(folder, parts, directory=True)
    try:
        return sorted(os.listdir(fd))
    finally:
        os.close(fd)


class TooLarge(Exception):
    """A file holds more than it may."""


def _open_beneath(folder: Path, parts: Sequence[str], directory: bool = False) -> int:
    """A descriptor of ``folder/parts...`` opened one name at a time, none through a link."""
    for part in parts:
        if part in ("", ".", "..") or "/" in part or "\0" in part:
            raise ValueError(f"not a plain file or folder name: {part!r}")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        mode = flags | (os.O_NONBLOCK if last and not directory else os.O_DIRECTORY)
        try:
            inner = os.open(part, mode, dir_fd=fd)
        except NotADirectoryError:
            # O_NOFOLLOW | O_DIRECTORY says ENOTDIR for a link too: tell the two apart
            if stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode):
                raise OSError(errno.ELOOP, "a link", part) from None
            raise
        finally:
            os.close(fd)
        fd = inner
    return fd


def _open_reason(err: OSError) -> str:
    """The report's words for a hand-in the file system refused to open as a plain file."""
    if err.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link
        return "a link: links in a hand-in are never followed"
    if err.errno == errno.ENOTDIR:
        return "a file where a folder belongs"
    if err.errno == errno.EINVAL:
        return "not a regular file"
    return f"cannot be opened ({errno.errorcode.get(err.errno or 0, 'error')})"


def _json_reason(err: ValueError) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"{err.msg} at line {err.lineno} column {err.colno}"
    return "a number too long to read"


def _cells(document: object) -> HandedIn:
    """The cells of a parsed notebook, nbformat 4 (``cells``) or 3 (``worksheets``)."""
    if not isinstance(document, dict):
        return Unreadable("wrong structure: not a JSON object")
    if isinstance(document.get("cells"), list):
        raw, version = document["cells"], 4
    elif isinstance(document.get("worksheets"), list):
        sheets = document["worksheets"]
        if not all(isinstance(sheet, dict) and isinstance(sheet.get("cells"), list) for sheet in sheets):
            return Unreadable("wrong structure: a worksheet without a list of cells")
        raw, version = [cell for sheet in sheets for cell in sheet["cells"]], 3
    else:
        return Unreadable("wrong structure: neither cells (nbformat 4) nor worksheets (nbformat 3)")
    cells = []
    for index, cell in enumerate(raw):
        if not isinstance(cell, dict):
            return Unreadable(f"wrong structure: cell {index + 1} is not an object")
        read = _student_cell(cell, version)
        if read.text is not None and not _encodable(read.text):
            return Unreadable(f"not UTF-8: cell {index + 1} holds a lone surrogate")
        cells.append(read)
    return cells


def _student_cell(cell: dict, version: int) -> StudentCell:
    cell_type = _string(cell.get("cell_type"))
    # nbformat 3 keeps a code cell's text in "input"
    text_key = "input" if version == 3 and cell_type == "code" else "source"
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    grade_id = _string(nbgrader.get("grade_id")) if isinstance(nbgrader, dict) else None
    return StudentCell(cell_type, _text(cell.get(text_key)), grade_id, _string(cell.get("id")))


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _text(value: object) -> str | None:
    """A cell's text: a string, or nbformat's list of lines; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
