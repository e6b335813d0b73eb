"""The built book, opened in headless Chromium: diagrams, tabs, dropdowns, glued numbers."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCREENSHOT_DIR = ROOT / "build" / "book-screenshots"
# What a glue reference looks like when it was not replaced by its value.
PLACEHOLDER = re.compile(r"\{glue(:\w+)?\}|glue:text|glue:md")


# What a page of the book may load: the local server, or the built book itself on disk.
LOCAL_PREFIXES = ("http://127.0.0.1:", "data:", "blob:")


class PageSession:
    """A browser page that records console errors, uncaught exceptions and outside requests.

    Every request that does not start with one of `allowed` is refused and recorded: the book
    must work offline.
    """

    def __init__(self, page, allowed: tuple[str, ...] = LOCAL_PREFIXES) -> None:
        self.page = page
        self.allowed = allowed
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.route("**/*", self._local_only)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))

    def _local_only(self, route) -> None:
        url = route.request.url
        if url.startswith(self.allowed):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@contextmanager
def _open(browser, url: str, allowed: tuple[str, ...] = LOCAL_PREFIXES) -> Iterator[PageSession]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    session = PageSession(context.new_page(), allowed)
    session.page.goto(url, wait_until="load")
    try:
        yield session
    finally:
        context.close()


@pytest.fixture()
def chapter(browser, book_url: str) -> Iterator[PageSession]:
    with _open(browser, f"{book_url}/book/capstone.html") as session:
        yield session


@pytest.fixture()
def results_page(browser, book_url: str) -> Iterator[PageSession]:
    with _open(browser, f"{book_url}/book/results.html") as session:
        yield session


def test_mermaid_diagram_renders_to_svg(chapter: PageSession) -> None:
    svg = chapter.page.wait_for_selector("pre.mermaid svg", timeout=20_000)
    box = svg.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50, f"diagram SVG too small: {box}"
    # The rendered diagram holds the workflow's nodes, not an error message.
    text = chapter.page.inner_text("pre.mermaid")
    assert "generate_submission" in text, f"diagram text unexpected: {text[:200]!r}"
    assert "Syntax error" not in text


def test_mermaid_is_served_by_the_book_not_a_cdn(chapter: PageSession) -> None:
    chapter.page.wait_for_selector("pre.mermaid svg", timeout=20_000)
    scripts = chapter.page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert any(s.split("?")[0].endswith("/_static/mermaid.min.js") for s in scripts), scripts
    html = chapter.page.content()
    assert "cdn.jsdelivr.net" not in html and "unpkg.com/mermaid" not in html


def test_tab_switch_shows_the_other_tab(chapter: PageSession) -> None:
    page = chapter.page
    labels = page.locator(".sd-tab-set > label")
    assert labels.count() >= 2, "the chapter should have a tab set with at least two tabs"
    panels = page.locator(".sd-tab-set > .sd-tab-content")
    assert panels.nth(0).is_visible() and not panels.nth(1).is_visible()
    labels.nth(1).click()
    assert panels.nth(1).is_visible(), "second tab did not open"
    assert not panels.nth(0).is_visible(), "first tab still visible after the switch"
    assert "mlflow.log_metric" in panels.nth(1).inner_text()


def test_dropdown_answer_opens(chapter: PageSession) -> None:
    page = chapter.page
    page.wait_for_selector(".admonition.dropdown button.toggle-button", timeout=10_000)
    dropdown = page.locator(".admonition.dropdown").first
    body = dropdown.locator("p").nth(1)
    assert not body.is_visible(), "answer visible before the dropdown was opened"
    dropdown.locator("button.toggle-button").click()
    body.wait_for(state="visible", timeout=5_000)
    assert "Mann" in body.inner_text()


def test_glued_numbers_show_values(chapter: PageSession) -> None:
    page = chapter.page
    pasted = page.locator("span.pasted-text").all_text_contents()  # hidden ones too
    assert len(pasted) >= 40, f"expected the chapter's glued numbers, found {len(pasted)}"
    empty = [t for t in pasted if not t.strip()]
    assert not empty, f"{len(empty)} glued values are empty"
    numeric = [t for t in pasted if re.fullmatch(r"[+-]?[\d,]+(\.\d+)?", t.strip())]
    assert len(numeric) >= 40, f"glued values are not numbers: {pasted[:10]}"
    body = page.inner_text("main")
    assert not PLACEHOLDER.search(body), PLACEHOLDER.search(body)


def test_results_page_shows_the_measured_run(results_page: PageSession) -> None:
    """The page's numbers are the ones in the submission file the build read."""
    submission = json.loads((ROOT / "build" / "results" / "submission.json").read_text())
    imp = submission["improvements"]
    text = results_page.page.inner_text("main")
    assert f"{imp['speedup']:.3f}" in text, "measured speed-up missing from the results page"
    assert f"{imp['compression_ratio']:.2f}×" in text, "compression ratio missing"
    assert f"{100 * imp['accuracy_delta']:+.2f} percentage points" in text, "accuracy delta missing"
    assert submission["system_info"]["platform"] in text, "system info missing"
    assert not PLACEHOLDER.search(text)
    images = results_page.page.locator("main figure img")
    assert images.count() >= 2, "the results page should show the two plots"
    for i in range(images.count()):
        width = images.nth(i).evaluate("img => img.naturalWidth")
        assert width > 100, f"plot {i} did not load (natural width {width})"


@pytest.mark.parametrize("page_name", ["intro", "capstone", "results"])
def test_no_console_errors_and_screenshot(browser, book_url: str, page_name: str) -> None:
    with _open(browser, f"{book_url}/book/{page_name}.html") as session:
        if page_name == "capstone":
            session.page.wait_for_selector("pre.mermaid svg", timeout=20_000)
        session.page.wait_for_load_state("networkidle")
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOT_DIR / f"{page_name}.png"
        session.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert not session.outside, f"{page_name}: requests left localhost: {session.outside}"
        assert not session.errors, f"{page_name}: browser reported errors: {session.errors}"


def test_book_opened_from_disk_works_offline(browser, built_book: Path) -> None:
    """A person opens _build/html/index.html straight from disk (file://), with no network.

    The front page must lead to the chapter, and the chapter's diagram must render to SVG
    with no console error and no request leaving the book's own folder.
    """
    root = built_book.resolve().as_uri() + "/"
    with _open(browser, root + "index.html", allowed=(root, "data:", "blob:")) as session:
        page = session.page
        # index.html only redirects to the front page.
        page.wait_for_url("**/book/intro.html", timeout=10_000)
        page.wait_for_load_state("load")
        page.locator("a[href$='capstone.html']").first.click()
        page.wait_for_url("**/book/capstone.html", timeout=10_000)
        page.wait_for_load_state("load")
        svg = page.wait_for_selector("pre.mermaid svg", timeout=20_000)
        box = svg.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, f"diagram SVG too small: {box}"
        assert "generate_submission" in page.inner_text("pre.mermaid")
        page.wait_for_timeout(500)  # let late console messages arrive
        assert not session.outside, f"requests left the book's folder: {session.outside}"
        assert not session.errors, f"browser reported errors on file://: {session.errors}"
