"""nbgrader reads a hand-in's timestamp as `make autograde` does: a plain small file, no link."""

from __future__ import annotations

import datetime
import logging
import os
import threading
from pathlib import Path

import pytest
from nbgrader.coursedir import CourseDirectory

from tinytorch_course.grading.coordinator import timestamp_refusal
from tinytorch_course.grading.handed_in import TIMESTAMP_BYTES
from tinytorch_course.grading.timestamps import existing_timestamp, read_timestamps_without_links

WHEN = "2026-12-01 10:00:00.000000 UTC"
PARSED = datetime.datetime(2026, 12, 1, 10, 0)


@pytest.fixture
def course(tmp_path) -> CourseDirectory:
    return CourseDirectory(root=str(tmp_path))


def _folder(course: CourseDirectory, student: str = "alice") -> Path:
    folder = Path(course.root) / "submitted" / student / "20_capstone"
    folder.mkdir(parents=True)
    return folder


def _read(course: CourseDirectory, folder: Path) -> datetime.datetime | None:
    """existing_timestamp within 10 s (a FIFO must not block it)."""
    found: list = []
    reader = threading.Thread(target=lambda: found.append(existing_timestamp(course, str(folder))), daemon=True)
    reader.start()
    reader.join(10)
    assert found, "reading the timestamp blocked"
    return found[0]


def test_a_plain_timestamp_is_read_as_nbgrader_reads_it(course):
    folder = _folder(course)
    (folder / "timestamp.txt").write_text(f"  {WHEN}\n")
    assert _read(course, folder) == PARSED
    assert _read(course, _folder(course, "bob")) is None  # none handed in


def test_links_fifos_devices_and_long_files_are_no_timestamp(course, tmp_path, caplog):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text(WHEN)
    cases = {
        "link": lambda path: path.symlink_to(elsewhere),
        "zero": lambda path: path.symlink_to("/dev/zero"),
        "fifo": lambda path: os.mkfifo(path),
        "folder": lambda path: path.mkdir(),
        "long": lambda path: path.write_text(WHEN + " " * TIMESTAMP_BYTES),
    }
    for student, make in cases.items():
        folder = _folder(course, student)
        make(folder / "timestamp.txt")
        with caplog.at_level(logging.WARNING):
            assert _read(course, folder) is None, student
        assert f"Timestamp not read (a link or not a plain small file): {folder}" in caplog.text, student
    linked_student = Path(course.root) / "submitted" / "mallory"
    linked_student.symlink_to(_folder(course, "alice").parent)  # a linked student folder
    (linked_student / "20_capstone" / "timestamp.txt").write_text(WHEN)
    assert _read(course, linked_student / "20_capstone") is None


def test_a_linked_submitted_folder_is_the_instructors_and_is_followed(course, tmp_path):
    shared = tmp_path / "shared"
    (shared / "alice" / "20_capstone").mkdir(parents=True)
    (shared / "alice" / "20_capstone" / "timestamp.txt").write_text(WHEN)
    (Path(course.root) / "submitted").symlink_to(shared)
    assert _read(course, Path(course.root) / "submitted" / "alice" / "20_capstone") == PARSED


@pytest.mark.parametrize("text", ["yesterday-ish", "9" * 30, "2026-13-45 10:00:00 UTC"])
def test_an_invalid_timestamp_names_its_file(course, text):
    # a number too large for a date makes nbgrader's parser raise OverflowError, not ValueError
    folder = _folder(course)
    (folder / "timestamp.txt").write_text(text)
    with pytest.raises(ValueError, match=f"Invalid timestamp string: {folder / 'timestamp.txt'}"):
        existing_timestamp(course, str(folder))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"yesterday-ish", "timestamp refused: timestamp.txt holds 'yesterday-ish', which is not a date"),
        (b"9" * 30, f"timestamp refused: timestamp.txt holds '{'9' * 30}', which is not a date"),
        (
            b"no\ndate" + b"x" * 50,
            "timestamp refused: timestamp.txt holds 'no\\ndate" + "x" * 33 + "...', which is not a date",
        ),
        (WHEN.encode(), None),
        (b"  \n", None),
    ],
)
def test_make_autograde_refuses_what_stock_nbgrader_cannot_read(data, reason):
    """The report shows the start of the text, on one line."""
    assert timestamp_refusal(data) == reason


def test_the_course_configuration_puts_the_reader_in_nbgraders_place(monkeypatch):
    monkeypatch.setattr(CourseDirectory, "get_existing_timestamp", CourseDirectory.get_existing_timestamp)
    read_timestamps_without_links()
    assert CourseDirectory.get_existing_timestamp is existing_timestamp
