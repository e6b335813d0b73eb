"""Fixtures for the book tests: the built book, a local web server over it, a headless browser.

The tests look at the real book: when _build/html is missing it is built with `make book`
(the same command people use), never faked.
"""
from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags chromium keeps trying to reach Google services,
# which a closed network refuses; the book itself must need no network at all.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The built HTML book, built with `make book` when it is not there yet."""
    if not (HTML / "book" / "capstone.html").is_file():
        subprocess.run(["make", "book"], cwd=ROOT, check=True)
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


# Module scope: Playwright's sync API holds the thread's event loop while it is open, so it must
# be closed before another module's browser test (the student edition's) starts its own.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by playwright (playwright's own browsers are never used)."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make install-chromium` as root "
            "(or `sudo apt-get install -y chromium`, or set CHROMIUM=/path/to/chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
