"""`make student`: the student edition holds what a student needs, exactly the student package,
no line of any solution or hidden-test region, and is rebuilt identically (a stale copy fails)."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.course.pipeline_helpers import json_strings, outside_region_lines
from tinytorch_course.authoring.markers import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, regions
from tinytorch_course.authoring.release import source_notebook
from tinytorch_course.paths import RELEASE_NOTEBOOK, REPO, SOURCE_PY
from tinytorch_course.student.edition import DEFAULT_OUT, STUDENT_REQUIREMENTS, edition_files, main, stubbed_functions
from tinytorch_course.student.package import student_package_files

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

NOTEBOOK = RELEASE_NOTEBOOK.relative_to(REPO)


# What counts as a leaked line: a stripped line of a solution or hidden-test region of the source
# that has at least MIN_CHARS characters, is not a comment, and does not also appear in the
# source outside every region (such a line, e.g. a shared `assert` or `return submission`, is
# shown to students anyway). Shorter lines (`pass`, `)`, `x = 0`, `return errors`) are too common
# to identify a solution.
# In the student package's own modules, a region line found alone among framework code is
# shared vocabulary, not a solution (the framework's system-info dict and a solution's
# submission dict both hold `"tinytorch_version": tinytorch.__version__,`). There it counts when
# it is a whole region by itself (a one-line solution) or when a neighbouring line is a region
# line too (a copied block).
MIN_CHARS = 16
# Tools, test runners and instructor packages a student environment must not pull in.
INSTRUCTOR_ONLY = (
    "nbgrader",
    "jupyter-book",
    "jupyter_book",
    "playwright",
    "pytest",
    "nbval",
    "hypothesis",
    "pyperf",
    "sphinx",
    "mlflow",
    "matplotlib",
)


@dataclass(frozen=True)
class Secrets:
    """The source's region lines to look for, and what the package rule needs to know."""

    lines: frozenset[str]  # distinctive region lines nobody may see
    region: frozenset[str]  # every region line with a letter or digit (neighbour check)
    whole: frozenset[str]  # distinctive lines that are a whole region by themselves
    shown: str  # the source's lines outside every region, joined

    def found_in(self, text: str) -> list[str]:
        """The secret lines ``text`` shows: as a line of it, or inside one of its lines unless a
        line students see anyway contains that secret (a fixture holding two dict entries on one
        line contains the solution's one-entry line)."""
        lines = {line.strip() for line in text.split("\n")}
        return sorted(line for line in self.lines if line in lines or (line in text and line not in self.shown))


def secrets() -> Secrets:
    source = source_notebook(SOURCE_PY)
    shown = outside_region_lines(source)
    region, whole = set(), set()
    for cell in source.cells:
        for begin, end in ((BEGIN_SOLUTION, END_SOLUTION), (BEGIN_HIDDEN, END_HIDDEN)):
            for found in regions(cell.source, begin, end):
                kept = [line.strip() for line in found if any(ch.isalnum() for ch in line)]
                region.update(kept)
                if len(kept) == 1:
                    whole.add(kept[0])
    lines = {line for line in region if len(line) >= MIN_CHARS and not line.startswith("#") and line not in shown}
    return Secrets(frozenset(lines), frozenset(region - shown), frozenset(whole & lines), "\n".join(shown))


def searchable_texts(name: str, data: bytes) -> list[str]:
    """Every text a file can show: UTF-8 text as is and, for JSON, its decoded strings (escapes
    undone); a zip archive (numpy's .npz) member by member; other bytes as Latin-1, which maps
    every byte, so a line stored in any ASCII-compatible encoding is still found."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [
                text
                for member in archive.namelist()
                for text in searchable_texts(f"{name}:{member}", archive.read(member))
            ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [data.decode("latin-1")]
    texts = [text]
    if name.endswith((".ipynb", ".json")):
        texts.append("\n".join(json_strings(json.loads(text))))
    return texts


def _package_hits(text: str, hits: list[str], found: Secrets) -> list[str]:
    """The hits of a package module that count (see the rule at the top)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    counted = []
    for hit in hits:
        positions = [i for i, line in enumerate(lines) if line == hit]
        if (
            hit in found.whole
            or not positions
            or any(lines[j] in found.region for i in positions for j in (i - 1, i + 1) if 0 <= j < len(lines))
        ):
            counted.append(hit)
    return counted


def leaks_in(folder: Path, found: Secrets) -> dict[str, list[str]]:
    """File (relative) -> the secret lines it contains, for every file under ``folder``."""
    leaks = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        hits = sorted({hit for text in searchable_texts(name, path.read_bytes()) for hit in found.found_in(text)})
        if hits and name.startswith("tinytorch/") and name.endswith(".py"):
            hits = _package_hits(path.read_text(encoding="utf-8"), hits, found)
        if hits:
            leaks[name] = hits
    return leaks


def test_the_source_has_secrets_to_look_for():
    found = secrets()
    assert len(found.lines) >= 20, f"expected the source's regions to hold real code, found {sorted(found.lines)}"
    assert found.whole, "the source has one-line solutions (SimpleMLP.forward); the rule must see them"


def test_leak_search_finds_a_planted_line_in_every_kind_of_file(tmp_path):
    found = secrets()
    secret = sorted(found.lines - found.whole)[0]
    (tmp_path / "a.py").write_text(f"x = 1\n    {secret}\n")
    (tmp_path / "b.ipynb").write_text(json.dumps({"cells": [{"source": [f"{secret}\n"]}]}))
    (tmp_path / "c.txt").write_bytes(f"{secret}\n".encode("latin-1", "replace") + b"\xff")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("arr.npy", b"\x93NUMPY" + secret.encode())
    (tmp_path / "d.npz").write_bytes(buffer.getvalue())
    (tmp_path / "clean.md").write_text("nothing to see\n")
    assert sorted(leaks_in(tmp_path, found)) == ["a.py", "b.ipynb", "c.txt", "d.npz"]


def test_package_rule_counts_copied_blocks_and_one_line_solutions(tmp_path):
    found = secrets()
    package = tmp_path / "tinytorch"
    package.mkdir()
    source = source_notebook(SOURCE_PY)
    block = next(
        kept
        for cell in source.cells
        for r in regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)
        if len(kept := [line.strip() for line in r if line.strip()]) >= 3
    )
    one_line = sorted(found.whole)[0]
    shared = sorted(found.lines - found.whole)[0]
    (package / "copied.py").write_text("def f():\n" + "".join(f"    {line}\n" for line in block))
    (package / "one.py").write_text(f"def forward(self, x):\n    {one_line}\n")
    (package / "shared.py").write_text(f"framework_code = (1,\n    {shared}\n    2)\n")
    leaks = leaks_in(tmp_path, found)
    assert "tinytorch/copied.py" in leaks and "tinytorch/one.py" in leaks, leaks
    assert "tinytorch/shared.py" not in leaks, "a line shared with framework code alone is vocabulary"


def test_no_solution_or_hidden_test_line_in_any_file(edition):
    compiled = [p for p in edition.rglob("*") if p.suffix in (".pyc", ".pyo") or p.name == "__pycache__"]
    assert not compiled, f"compiled files in the edition: {compiled}"
    leaks = leaks_in(edition, secrets())
    assert not leaks, f"the student edition shows solution or hidden-test lines: {leaks}"


def test_edition_holds_exactly_what_a_student_needs(edition, release):
    files = edition_files(edition)
    package = {p.as_posix() for p in student_package_files()}
    assert {f for f in files if f.startswith("tinytorch/")} == package
    assert not any(f.startswith("tinytorch/olympics") for f in files), "the solutions' package shipped"
    expected = {
        str(NOTEBOOK),
        "jupytext.toml",
        "README.md",
        "LICENSE",
        "requirements.txt",
        "pyproject.toml",
        "postBuild",
        ".gitignore",
    }
    assert files - package == expected
    assert (edition / NOTEBOOK).read_bytes() == RELEASE_NOTEBOOK.read_bytes()
    assert (edition / "jupytext.toml").read_bytes() == (REPO / "jupytext.toml").read_bytes()
    assert os.access(edition / "postBuild", os.X_OK), "Binder runs postBuild only when it is executable"
    assert "tinytorch/data/digits.npz" in files, "the data the notebook loads must ship"


def test_requirements_are_the_students_own(edition):
    lines = [
        line for line in (edition / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    names = [re.split(r"[<>=!~; ]", line, maxsplit=1)[0].lower() for line in lines]
    assert names == [n.lower() for n in STUDENT_REQUIREMENTS]
    assert not set(names) & set(INSTRUCTOR_ONLY)
    project = tomllib.loads((edition / "pyproject.toml").read_text())
    assert "scripts" not in project["project"], "the tinytorch command is built on the solutions"
    assert "optional-dependencies" not in project["project"]
    deps = [re.split(r"[<>=!~; ]", d, maxsplit=1)[0] for d in project["project"]["dependencies"]]
    assert not set(deps) & set(INSTRUCTOR_ONLY), deps
    assert "pip install" in (edition / "postBuild").read_text()


def test_readme_names_every_part_and_the_notebook(edition, release):
    readme = (edition / "README.md").read_text()
    parts = stubbed_functions(release)
    assert len(parts) >= 3, parts
    for part in parts:
        assert f"`{part}`" in readme, f"README does not list {part}"
    for needed in (str(NOTEBOOK), "YOUR CODE HERE", "jupytext --sync", "Run All", "Hand in", "Binder"):
        assert needed in readme, f"README does not mention {needed!r}"
    assert "{parts}" not in readme and "{notebook}" not in readme


def test_second_build_changes_nothing(tmp_path):
    out = tmp_path / "student"
    assert main(["--out", str(out)]) == 0
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert main(["--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps
    assert main(["--out", str(out), "--check"]) == 0


def test_check_fails_on_a_stale_edition_and_names_the_files(tmp_path, capsys):
    out = tmp_path / "student"
    main(["--out", str(out)])
    (out / "README.md").write_text("old\n")
    (out / "tinytorch" / "olympics.py").write_text("SOLUTION = 1\n")
    (out / "LICENSE").unlink()
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # the course's checkout: kept
    capsys.readouterr()
    assert main(["--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    for line in ("differs: README.md", "not in the edition: tinytorch/olympics.py", "missing: LICENSE"):
        assert line in err, err
    assert ".git" not in err
    assert main(["--out", str(out)]) == 0
    assert main(["--out", str(out), "--check"]) == 0
    assert (out / ".git" / "HEAD").is_file() and not (out / "tinytorch" / "olympics.py").exists()


def test_make_student_output_is_current():
    """build/student (what `make student` wrote, and a course publishes) matches the tree."""
    assert DEFAULT_OUT.is_dir(), f"{DEFAULT_OUT} is missing: run `make student`"
    assert main(["--check"]) == 0, "build/student is stale: run `make student`"


def test_the_books_binder_link_opens_a_file_of_the_edition(edition):
    """The book's launch button (book/capstone.md) opens the release's repository path on the
    repository `_config.yml` names: that path must exist in the edition the course pushes there,
    and the edition must hold what Binder builds from."""
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert config["repository"]["url"].startswith("https://github.com/"), "Binder's gh/ provider needs a GitHub URL"
    assert config["launch_buttons"]["binderhub_url"].startswith("https://")
    assert (edition / RELEASE_NOTEBOOK.relative_to(REPO)).is_file()
    assert (edition / "requirements.txt").is_file() and (edition / "postBuild").is_file()


def _imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of the modules a Python file imports (relative imports resolved against
    ``package``, the file's own package), wherever the import statement sits."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.update(f"{base}.{alias.name}" for alias in node.names)
            found.add(base)
    return found


def test_no_student_module_imports_the_solutions_package(edition, tmp_path):
    """Even a lazy import inside a function would fail at a student's desk, or pull the
    solutions in: none of the package's modules may name tinytorch.olympics."""

    def offenders(root: Path) -> dict[str, list[str]]:
        bad = {}
        for path in sorted(root.glob("tinytorch/**/*.py")):
            rel = path.relative_to(root).with_suffix("")
            package = ".".join(rel.parts[:-1])  # a module's package; for __init__, its own
            names = sorted(
                n
                for n in _imported_modules(path, package)
                if n == "tinytorch.olympics" or n.startswith("tinytorch.olympics.")
            )
            if names:
                bad[rel.as_posix()] = names
        return bad

    assert not offenders(edition), offenders(edition)
    planted = tmp_path / "tinytorch" / "perf"
    planted.mkdir(parents=True)
    (planted / "lazy.py").write_text("def f():\n    from ..olympics import capstone\n    return capstone\n")
    assert offenders(tmp_path) == {"tinytorch/perf/lazy": ["tinytorch.olympics", "tinytorch.olympics.capstone"]}
