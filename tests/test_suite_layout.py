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
