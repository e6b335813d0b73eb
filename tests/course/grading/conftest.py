"""Fixtures of the grading tests: the archetypes stock nbgrader grades once per run, the reference
that `make autograde`'s rows are compared with (tests/course/grading/archetypes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archetypes import StockGraded, graded_by_stock


@pytest.fixture(scope="session")
def stock_graded(built_course, run_folder: Path) -> StockGraded:
    """STOCK_GRADED, graded by one stock sequential nbgrader run shared by every test process."""
    return graded_by_stock(built_course, run_folder)
