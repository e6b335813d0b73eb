"""The built book, opened in headless Chromium: diagrams, tabs, dropdowns, glued numbers, launch links."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import NormalDist

import pytest
import yaml

from tinytorch_course.paths import RELEASE_NOTEBOOK, REPO

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


@pytest.fixture(scope="module")
def chapter_shared(browser, book_url: str) -> Iterator[PageSession]:
    """One chapter page for the tests that each open a different part of it (dropdowns, links),
    so the page and its diagram load once for all of them."""
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


def classic_answers() -> dict[str, list[str]]:
    """What each of the five classic questions' answers must show, derived here from the
    questions' own data (and, for Q1 and Q5, from the real model and validator)."""
    from tinytorch.olympics import SimpleMLP, SubmissionValidationError, validate_submission_schema
    from tinytorch.perf.profiling import model_size_bytes
    from tinytorch.perf.quantization import quantize_model

    params, mib = 5_000_000, 2**20
    mlp = SimpleMLP()
    measured_ratio = model_size_bytes(mlp) / model_size_bytes(quantize_model(mlp))
    q1 = [
        f"{4 * params:,} bytes",
        f"{4 * params / mib:.2f} MiB",
        f"{params / mib:.2f} MiB",
        f"{3 * params:,} bytes",
        f"{3 * params / mib:.2f} MiB",
        "75% reduction",
        "4.00×",
        f"a ratio of {measured_ratio:.2f}×",
    ]

    z99 = NormalDist().inv_cdf(0.99)
    q2 = [
        "Deploy A",
        "from 9.4 to 10.6 ms",
        "from 4.0 to 16.0 ms",
        f"mean + {z99:.3f}σ",
        f"{10 + z99 * 0.3:.2f} ms for A and {10 + z99 * 3.0:.2f} ms for B",
        f"{100 * NormalDist().cdf(2):.1f}th percentile",
        "not a 95% confidence interval",
    ]

    fixed = (100 - 32 * 8) / (1 - 32)
    q3 = [
        f"{100 / 32:.3f} ms is the amortized",
        f"{fixed:.3f} ms",
        f"{8 - fixed:.3f} ms",
        f"fixed + per-sample = {fixed + (8 - fixed):.3f} ms",
        f"fixed + 32 × per-sample = {fixed + 32 * (8 - fixed):.3f} ms",
    ]

    q4 = [
        f"{20 / 5:.1f}×",
        f"handles {100 * 20 / 5:.0f}",
        f"{1000 * 5 / 20:,.0f} dollars",
        f"{60 * 5 / 20:.0f}% busy",
        f"{100 - 60 * 5 / 20:.0f}%",
    ]

    submission = json.loads((ROOT / "build" / "results" / "submission.json").read_text())
    baseline_only = {k: v for k, v in submission.items() if k not in ("optimized", "improvements")}
    q5 = []
    for value in ("92%", 92, 0.92, "good"):
        candidate = json.loads(json.dumps(baseline_only))
        candidate["baseline"]["metrics"]["accuracy"] = value
        try:
            validate_submission_schema(candidate)
            q5.append(f'"accuracy": {json.dumps(value)}: accepted')
        except SubmissionValidationError as error:
            q5.append(f'"accuracy": {json.dumps(value)}: refused, {error.errors[0]}')
    return {"q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5}


@pytest.fixture(scope="module")
def expected_answers() -> dict[str, list[str]]:
    return classic_answers()


@pytest.mark.parametrize("question", ["q1", "q2", "q3", "q4", "q5"])
def test_classic_question_dropdown_shows_computed_answer(
    chapter_shared: PageSession, expected_answers: dict[str, list[str]], question: str
) -> None:
    page = chapter_shared.page
    dropdown = page.locator(f".admonition.dropdown.answer-{question}")
    assert dropdown.count() == 1, f"the chapter should have one dropdown answer for {question}"
    dropdown.locator("button.toggle-button").wait_for(timeout=10_000)
    body = dropdown.locator("p").nth(1)
    assert not body.is_visible(), f"{question}: answer visible before the dropdown was opened"
    dropdown.locator("button.toggle-button").click()
    body.wait_for(state="visible", timeout=5_000)
    text = " ".join(dropdown.inner_text().split())
    missing = [item for item in expected_answers[question] if item not in text]
    assert not missing, f"{question}: the answer lacks {missing}; it reads: {text[:600]}"
    assert not PLACEHOLDER.search(text)


def test_own_question_dropdown_opens(chapter_shared: PageSession) -> None:
    page = chapter_shared.page
    page.wait_for_selector(".admonition.dropdown button.toggle-button", timeout=10_000)
    dropdown = page.locator(".admonition.dropdown", has_text="Mann–Whitney U test could not").first
    body = dropdown.locator("p").nth(1)
    assert not body.is_visible(), "answer visible before the dropdown was opened"
    dropdown.locator("button.toggle-button").click()
    body.wait_for(state="visible", timeout=5_000)
    assert "Mann" in body.inner_text()


def test_binder_button_and_notebook_link(chapter_shared: PageSession, built_book: Path) -> None:
    """The launch buttons open the release on the Binder of the student edition's repository set
    in _config.yml, and that repository; the download link serves the release notebook itself."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    expected = (
        f"{config['launch_buttons']['binderhub_url'].rstrip('/')}/v2/gh/{repo}/"
        f"{config['repository'].get('branch', 'main')}"
        f"?urlpath=lab/tree/{RELEASE_NOTEBOOK.relative_to(REPO).as_posix()}"
    )
    button = chapter_shared.page.locator("a.sd-btn.launch-binder")
    assert button.count() == 1 and button.is_visible(), "the Binder launch button is missing"
    assert button.get_attribute("href") == expected
    edition = chapter_shared.page.locator("a.sd-btn.launch-edition")
    assert edition.is_visible() and edition.get_attribute("href") == config["repository"]["url"].rstrip("/")
    link = chapter_shared.page.locator("a.reference.download", has_text="capstone.ipynb")
    assert link.count() == 1, "the link to the notebook is missing"
    served = (built_book / "book" / link.get_attribute("href")).resolve()
    assert served.read_bytes() == RELEASE_NOTEBOOK.read_bytes(), f"{served} is not the release notebook"
    warning = chapter_shared.page.locator(".admonition.warning", has_text="Binder sessions are temporary")
    assert warning.is_visible(), "the warning that Binder sessions are temporary is missing"


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
