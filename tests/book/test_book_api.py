"""The chapter's API reference matches the code it documents."""

from __future__ import annotations

import html
import inspect
import re
from pathlib import Path

import pytest

from tinytorch import olympics

DOCUMENTED = [
    "BenchmarkReport",
    "BenchmarkReport.benchmark_model",
    "measure_model",
    "generate_submission",
    "submission_errors",
    "validate_submission_schema",
    "save_submission",
]
PROPERTIES = ["model_name", "metrics", "system_info", "timestamp"]


def signature_block(page: str, qualname: str) -> str:
    """The HTML of the <dt> signature line autodoc wrote for `tinytorch.olympics.<qualname>`."""
    match = re.search(
        rf'<dt class="sig[^"]*" id="tinytorch\.olympics\.{re.escape(qualname)}">'
        r"(.*?)</dt>",
        page,
        re.S,
    )
    if match is None:
        raise AssertionError(f"the chapter does not document tinytorch.olympics.{qualname}")
    return match.group(1)


def documented_parameters(block: str) -> list[str]:
    params = re.findall(r'<em class="sig-param">(.*?)</em>', block, re.S)
    names = []
    for param in params:
        text = html.unescape(re.sub(r"<[^>]+>", "", param))
        names.append(re.split(r"[:=]", text, maxsplit=1)[0].strip().lstrip("*"))
    return [name for name in names if name]  # a bare `*` (keyword-only marker) names nothing


def code_parameters(qualname: str) -> list[str]:
    obj = olympics
    for part in qualname.split("."):
        obj = getattr(obj, part)
    target = obj.__init__ if inspect.isclass(obj) else obj
    return [p for p in inspect.signature(target).parameters if p != "self"]


@pytest.fixture(scope="module")
def chapter_html(built_book: Path) -> str:
    return (built_book / "book" / "capstone.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("qualname", DOCUMENTED)
def test_documented_signature_matches_code(chapter_html: str, qualname: str) -> None:
    documented = documented_parameters(signature_block(chapter_html, qualname))
    assert documented == code_parameters(qualname), qualname


@pytest.mark.parametrize("name", PROPERTIES)
def test_report_properties_documented_and_real(chapter_html: str, name: str) -> None:
    signature_block(chapter_html, f"BenchmarkReport.{name}")
    assert hasattr(olympics.BenchmarkReport("m"), name), f"BenchmarkReport has no .{name}"


def test_parameter_parser_reads_autodoc_markup() -> None:
    block = (
        '<em class="sig-param"><span class="n"><span class="pre">submission</span></span>'
        '<span class="p"><span class="pre">:</span></span> <span class="n">dict</span></em>, '
        '<em class="sig-param"><span class="n"><span class="pre">filepath</span></span>'
        '<span class="o"><span class="pre">=</span></span>'
        '<span class="default_value"><span class="pre">\'x.json\'</span></span></em>'
    )
    assert documented_parameters(block) == ["submission", "filepath"]
