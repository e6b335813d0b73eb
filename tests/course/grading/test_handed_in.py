"""The safe reader of a hand-in (tinytorch_course/grading/handed_in.py): every file a student can
leave in place of a notebook is either read for the four fields grading takes, or refused with
its reason; nothing raises, follows a link, blocks or reads past the size cap."""

from __future__ import annotations

import json
import os
import sys

import nbformat
import pytest

from tinytorch_course.grading.handed_in import (
    MAX_BYTES,
    MAX_DEPTH,
    StudentCell,
    Unreadable,
    folder_names,
    nesting_depth,
    parse_handed_in,
    read_handed_in,
)

PARTS = ("ana", "20_capstone", "capstone.ipynb")


def _hand_in(root, data: bytes) -> None:
    folder = root.joinpath(*PARTS[:-1])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PARTS[-1]).write_bytes(data)


def _notebook(**cell_fields) -> bytes:
    cell = {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [], "execution_count": None}
    cell.update(cell_fields)
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}).encode()


def test_a_notebook_gives_only_the_fields_grading_takes(tmp_path):
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell(["def f():\n", "    return 1\n"], id="simple-mlp")
    answer.metadata = {"nbgrader": {"grade_id": "simple-mlp", "solution": True}, "tags": ["skip-execution"]}
    answer.outputs = [nbformat.v4.new_output("stream", text="hello")]
    nb.cells = [answer, nbformat.v4.new_markdown_cell("# notes", id="n1")]
    _hand_in(tmp_path, nbformat.writes(nb).encode())
    assert read_handed_in(tmp_path, PARTS) == [
        StudentCell("code", "def f():\n    return 1\n", "simple-mlp", "simple-mlp"),
        StudentCell("markdown", "# notes", None, "n1"),
    ]


def test_nbformat_3_is_read_from_its_worksheets():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.metadata = {"nbgrader": {"grade_id": "simple-mlp", "solution": True}}
    nb.cells = [cell, nbformat.v4.new_markdown_cell("*text*")]
    old = nbformat.writes(nbformat.convert(nb, 3), version=3).encode()
    assert b'"worksheets"' in old and b'"input"' in old
    assert parse_handed_in(old) == [
        StudentCell("code", "print(1)", "simple-mlp", None),
        StudentCell("markdown", "*text*", None, None),
    ]


def test_text_that_is_not_a_string_is_read_as_absent():
    assert parse_handed_in(_notebook(source=12)) == [StudentCell("code", None, None, None)]
    assert parse_handed_in(_notebook(source=["a", 3])) == [StudentCell("code", None, None, None)]
    odd = _notebook(cell_type=["code"], metadata={"nbgrader": {"grade_id": 7}}, id={"x": 1})
    assert parse_handed_in(odd) == [StudentCell(None, "x = 1", None, None)]


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\xff\xfe{}", "not UTF-8: byte 0 cannot be decoded"),
        (b'{"cells": [', "not JSON: Expecting value at line 1 column 12"),
        (b"1" * 5000, "not JSON: a number too long to read"),
        (b"[1, 2]", "wrong structure: not a JSON object"),
        (b'{"cells": 3}', "wrong structure: neither cells (nbformat 4) nor worksheets (nbformat 3)"),
        (b'{"worksheets": [{"cells": {}}]}', "wrong structure: a worksheet without a list of cells"),
        (b'{"cells": ["code"]}', "wrong structure: cell 1 is not an object"),
        (_notebook(source="\\ud800"), "not UTF-8: cell 1 holds a lone surrogate"),
        (_notebook(source=["ok", "\\udfff"]), "not UTF-8: cell 1 holds a lone surrogate"),
    ],
)
def test_unreadable_notebooks_are_refused_with_their_reason(data, reason):
    data = data.replace(b"\\\\u", b"\\u")  # json.dumps escaped the escape
    assert parse_handed_in(data) == Unreadable(reason)


def test_deep_nesting_is_refused_before_any_parser_recurses():
    bomb = b"[" * 20000 + b"]" * 20000
    assert parse_handed_in(bomb) == Unreadable(f"too deep: brackets nested more than {MAX_DEPTH} levels")
    objects = b'{"a":' * 20000 + b"1" + b"}" * 20000
    assert parse_handed_in(objects) == Unreadable(f"too deep: brackets nested more than {MAX_DEPTH} levels")
    assert 20000 > sys.getrecursionlimit()


def test_brackets_inside_strings_do_not_count_as_nesting():
    source = "[" * 5000 + '"\\' + "{" * 5000
    text = json.dumps({"cells": [{"source": source}]})
    assert nesting_depth(text) == 3
    assert nesting_depth("[[[]]] [[]]") == 3 and nesting_depth("") == 0
    assert parse_handed_in(text.encode()) == [StudentCell(None, source, None, None)]


def test_a_file_past_the_cap_is_refused_without_being_read(tmp_path):
    folder = tmp_path.joinpath(*PARTS[:-1])
    folder.mkdir(parents=True)
    with open(folder / PARTS[-1], "wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: its size says enough
    assert read_handed_in(tmp_path, PARTS) == Unreadable("larger than the 64 MiB a hand-in may hold")
    assert parse_handed_in(b" " * (MAX_BYTES + 1)) == Unreadable("larger than the 64 MiB a hand-in may hold")


def test_links_are_never_followed(tmp_path):
    secret = tmp_path / "source.ipynb"
    secret.write_bytes(_notebook(source="the solution"))
    folder = tmp_path / "submitted" / "ana" / "20_capstone"
    folder.mkdir(parents=True)
    (folder / "capstone.ipynb").symlink_to(secret)
    assert read_handed_in(tmp_path / "submitted", PARTS) == Unreadable("a link: links in a hand-in are never followed")
    # a linked folder on the way is refused too
    (folder / "capstone.ipynb").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "capstone.ipynb").write_bytes(secret.read_bytes())
    folder.rmdir()
    folder.symlink_to(elsewhere)
    assert read_handed_in(tmp_path / "submitted", PARTS) == Unreadable("a link: links in a hand-in are never followed")


def test_a_fifo_or_folder_is_refused_without_blocking(tmp_path):
    folder = tmp_path.joinpath(*PARTS[:-1])
    folder.mkdir(parents=True)
    os.mkfifo(folder / PARTS[-1])
    assert read_handed_in(tmp_path, PARTS) == Unreadable("not a regular file")
    (folder / PARTS[-1]).unlink()
    (folder / PARTS[-1]).mkdir()
    assert read_handed_in(tmp_path, PARTS) == Unreadable("not a regular file")


def test_a_missing_file_is_not_found_and_names_are_never_paths(tmp_path):
    (tmp_path / "ana" / "20_capstone").mkdir(parents=True)
    (tmp_path / "ana" / "20_capstone" / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError):
        read_handed_in(tmp_path, PARTS)
    assert folder_names(tmp_path, PARTS[:-1]) == ["notes.txt"]
    for bad in ("..", ".", "", "a/b"):
        with pytest.raises(ValueError, match="not a plain file or folder name"):
            read_handed_in(tmp_path, (bad, "20_capstone", "capstone.ipynb"))
