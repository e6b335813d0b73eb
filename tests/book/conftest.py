"""Fixtures for the book tests: the built book, a local web server over it, a headless browser.

The tests look at the real book: when _build/html is missing it is built with `make book`
(the same command people use), never faked.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import launched_chromium
from tests.processes import run_process
from tinytorch_course.student.venv import locked

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The built HTML book, built with `make book` when it is not there yet, by one test process
    at a time (parallel workers would each start the build over, removing the other's)."""
    with locked(ROOT / "build" / "book.lock"):
        if not (HTML / "book" / "capstone.html").is_file():
            run_process(["make", "book"], cwd=ROOT)
    return HTML


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@pytest.fixture(scope="session")
def book_url(built_book: Path) -> Iterator[str]:
    """Base URL of the built book served on localhost by a thread of this process."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by playwright, for this module's tests only."""
    with launched_chromium() as chromium:
        yield chromium
