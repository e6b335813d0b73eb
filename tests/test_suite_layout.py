"""The suite's own layout: what pytest needs to collect every tier together."""

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_modules_have_unique_basenames() -> None:
    """Test folders are not packages, so pytest imports each test file by its basename: two files
    with one name collect alone, one tier at a time, but break `make test`, which collects all."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        by_name[path.name].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not clashes, f"test files sharing a basename: {clashes}"


def test_the_longest_first_order_names_test_files_that_exist() -> None:
    """The order the suite's files are handed out in (tests/conftest.py) names only real files, each
    once: a renamed file would silently lose its place at the front."""
    from tests.conftest import LONGEST_FIRST

    root = TESTS.parent
    missing = [path for path in LONGEST_FIRST if not (root / path).is_file()]
    assert not missing, f"LONGEST_FIRST names files that do not exist: {missing}"
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST), "LONGEST_FIRST names a file twice"
