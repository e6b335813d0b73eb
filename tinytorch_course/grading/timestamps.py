"""nbgrader's reader of a hand-in's ``timestamp.txt``, made to read as ``make autograde`` does.

Stock nbgrader reads the timestamp of ``submitted/<student>/<assignment>/`` with ``open()`` before
any of its hooks or preprocessors run: a link is followed (to ``/dev/zero``, the grader reads
until its memory runs out) and a FIFO blocks the whole run forever. nbgrader's ``CourseDirectory``
is not a class its configuration can replace, so the course's ``nbgrader_config.py`` puts
:func:`existing_timestamp` in place of its ``get_existing_timestamp``
(:func:`read_timestamps_without_links`). Below the course root (or its submitted folder, which an
instructor may link elsewhere) no link is followed, and only a regular file of at most
``TIMESTAMP_BYTES`` is read (:func:`tinytorch_course.grading.handed_in.read_timestamp`); anything
else is no timestamp, as ``make autograde`` grades it: handed in on time, with a warning naming
the folder. What the file says is read as nbgrader reads it.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import parse_utc

from tinytorch_course.grading.handed_in import TIMESTAMP, read_timestamp


def _beneath(coursedir: CourseDirectory, folder: Path) -> tuple[Path, tuple[str, ...]]:
    """The trusted folder ``folder`` lies in (the submitted folder, else the course root, else
    ``folder`` itself) and the names below it."""
    root = Path(coursedir.root)
    for base in (root / coursedir.submitted_directory, root):
        relative = os.path.relpath(folder, base)
        if relative != os.curdir and not relative.startswith(os.pardir):
            return base, Path(relative).parts
    return folder, ()


def existing_timestamp(self: CourseDirectory, dest_path: str) -> datetime.datetime | None:
    """The timestamp of the hand-in (or graded) folder ``dest_path``, read without following a
    link (see the module's docstring); None when it has none, or none that is a plain small file."""
    base, parts = _beneath(self, Path(dest_path))
    data = read_timestamp(base, (*parts, TIMESTAMP))
    if data is None:
        if os.path.lexists(os.path.join(dest_path, TIMESTAMP)):
            self.log.warning("Timestamp not read (a link or not a plain small file): %s", dest_path)
        return None
    try:
        when = parsed_timestamp(data)
    except ValueError:
        raise ValueError(f"Invalid timestamp string: {os.path.join(dest_path, TIMESTAMP)}") from None
    if when is None:
        self.log.warning("Empty timestamp file: %s", os.path.join(dest_path, TIMESTAMP))
    return when


def timestamp_text(data: bytes) -> str:
    """What nbgrader reads of a timestamp file's bytes."""
    return data.decode("utf-8", errors="replace").strip()


def parsed_timestamp(data: bytes) -> datetime.datetime | None:
    """The date nbgrader reads in a timestamp file's bytes (None when they hold nothing); a
    ValueError when they hold no date, a number too large for one included (nbgrader's parser
    raises OverflowError for that)."""
    text = timestamp_text(data)
    if not text:
        return None
    try:
        return parse_utc(text)
    except OverflowError as error:
        raise ValueError(f"not a date: {error}") from None


def read_timestamps_without_links() -> None:
    """Make nbgrader read every hand-in's timestamp with :func:`existing_timestamp`."""
    CourseDirectory.get_existing_timestamp = existing_timestamp
