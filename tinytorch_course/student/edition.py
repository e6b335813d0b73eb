"""Build the student edition: the folder a course publishes as the students' own repository.

    python -m tinytorch_course.student.edition                # write build/student/
    python -m tinytorch_course.student.edition --check        # exit 1 when build/student/ is stale
    python -m tinytorch_course.student.edition --out DIR      # write somewhere else

What it holds, all taken from this tree (nothing is written by hand twice):

- ``modules/20_capstone/capstone.ipynb``, the committed release (the instructor repository's
  layout, so ``jupytext.toml``, copied as is, pairs it with a ``.py`` the same way);
- ``tinytorch/``, the student package of ``tinytorch_course.student.package`` (data and schema included);
- ``pyproject.toml`` for that package (no ``tinytorch`` command: the command line is built on the
  solutions and stays with the instructor), ``requirements.txt`` with only what the notebook
  needs, and ``postBuild`` installing the package, which is also what Binder runs;
- a student ``README.md`` (from ``tinytorch_course/student/README.md``), the ``LICENSE`` and a ``.gitignore``.

The build is deterministic and a second run changes nothing: files are written only when their
bytes differ, and files the edition no longer has are removed (a ``.git`` folder a course keeps
there is left alone). Exit codes: 0 written (or up to date with ``--check``), 1 stale, 2 usage
error or unreadable input.
"""

from __future__ import annotations

import argparse
import ast
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as a package (pytest depends on it)
    import tomli as tomllib

from tinytorch_course.paths import RELEASE_NOTEBOOK, REPO
from tinytorch_course.student.package import copy_student_package

DEFAULT_OUT = REPO / "build" / "student"
README_TEMPLATE = Path(__file__).with_name("README.md")

#: What the student package imports (its pyproject dependencies; no matplotlib: only the
#: instructor's plots use it).
PACKAGE_REQUIREMENTS = ("numpy", "jsonschema", "fastjsonschema", "tqdm", "threadpoolctl")
#: What opens and runs the notebook, and pairs it with a script.
NOTEBOOK_TOOLS = ("ipykernel", "jupyterlab", "jupytext")
#: A student's environment: both, with the version ranges of the instructor's requirements.txt,
#: so the two environments agree. No nbgrader (its extensions are instructor tools), no book
#: builder, no test tools.
STUDENT_REQUIREMENTS = PACKAGE_REQUIREMENTS + NOTEBOOK_TOOLS

#: Paths inside the output folder that the build never touches: a course may keep the student
#: repository's git checkout right there.
PRESERVED = (".git",)

STUB = "raise NotImplementedError()"

POSTBUILD = """\
#!/bin/sh
# Binder runs this after `pip install -r requirements.txt`; on your own machine run both.
# Installs the framework (tinytorch/) that the notebook imports.
set -e
pip install --no-cache-dir .
"""

GITIGNORE = """\
# Written when you run the notebook; not part of what you hand in.
.ipynb_checkpoints/
__pycache__/
submission.json
build/
*.egg-info/
"""


def requirement_lines(
    names: tuple[str, ...] = STUDENT_REQUIREMENTS, requirements: Path = REPO / "requirements.txt"
) -> list[str]:
    """The line of the instructor's ``requirements`` for each of ``names`` (``name>=a,<b``)."""
    pinned: dict[str, str] = {}
    for number, line in enumerate(requirements.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):  # pip options (-e ., -r file) name no range
            try:
                req = Requirement(line)
            except ValueError as err:
                raise ValueError(f"{requirements}:{number}: not a requirement: {line!r} ({err})") from None
            pinned[req.name.lower()] = line
    missing = [name for name in names if name.lower() not in pinned]
    if missing:
        raise ValueError(
            f"{requirements}: no version range for {', '.join(missing)} "
            "(the student edition takes its ranges from there)"
        )
    return [pinned[name.lower()] for name in names]


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def student_pyproject(dependencies: list[str], pyproject: Path = REPO / "pyproject.toml") -> str:
    """The student package's pyproject.toml: the instructor project's name, version and package
    data, ``dependencies``, and no console script or extras."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    meta = project["project"]
    package_data = project["tool"]["setuptools"]["package-data"]["tinytorch"]
    return "\n".join(
        [
            "[build-system]",
            f"requires = {_toml_list(project['build-system']['requires'])}",
            f'build-backend = "{project["build-system"]["build-backend"]}"',
            "",
            "[project]",
            f'name = "{meta["name"]}"',
            f'version = "{meta["version"]}"',
            f'description = "{meta["description"]}"',
            'readme = "README.md"',
            f'requires-python = "{meta["requires-python"]}"',
            f'license = "{meta["license"]}"',
            'license-files = ["LICENSE"]',
            f"dependencies = {_toml_list(dependencies)}",
            "",
            "[tool.setuptools.packages.find]",
            'include = ["tinytorch*"]',
            "",
            "[tool.setuptools.package-data]",
            f"tinytorch = {_toml_list(package_data)}",
            "",
        ]
    )


def stubbed_functions(notebook: nbformat.NotebookNode) -> list[str]:
    """Qualified names (``SimpleMLP.forward``) of the functions whose body holds a stub the
    student replaces, in notebook order."""
    names: list[str] = []

    def visit(node: ast.AST, prefix: str, source: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", source)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if STUB in (ast.get_source_segment(source, child) or ""):
                    names.append(prefix + child.name)

    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            try:
                visit(ast.parse(cell.source), "", cell.source)
            except SyntaxError as err:
                raise ValueError(f"release cell {cell.get('id')!r} is not valid Python: {err}") from None
    return names


def student_readme(notebook: nbformat.NotebookNode, notebook_path: str) -> str:
    """The student README: the template with the notebook's path and the parts to write."""
    parts = "\n".join(f"- `{name}`" for name in stubbed_functions(notebook))
    text = README_TEMPLATE.read_text(encoding="utf-8")
    return text.replace("{notebook}", notebook_path).replace("{parts}", parts)


def build(out: Path, repo: Path = REPO) -> Path:
    """Write the complete student edition into ``out`` (an empty or missing folder)."""
    out = Path(out)
    notebook_rel = RELEASE_NOTEBOOK.relative_to(REPO)
    release = repo / notebook_rel
    if not release.is_file():
        raise FileNotFoundError(f"release notebook not found: {release} (run `make release`)")
    notebook = nbformat.read(str(release), as_version=4)
    requirements = requirement_lines(requirements=repo / "requirements.txt")
    files = {
        str(notebook_rel): release.read_bytes(),
        "jupytext.toml": (repo / "jupytext.toml").read_bytes(),
        "LICENSE": (repo / "LICENSE").read_bytes(),
        "README.md": student_readme(notebook, notebook_rel.as_posix()).encode(),
        "requirements.txt": (
            "# What the notebook needs; postBuild (Binder runs it) installs tinytorch.\n"
            + "\n".join(requirements)
            + "\n"
        ).encode(),
        "pyproject.toml": student_pyproject(
            requirement_lines(PACKAGE_REQUIREMENTS, repo / "requirements.txt"), repo / "pyproject.toml"
        ).encode(),
        "postBuild": POSTBUILD.encode(),
        ".gitignore": GITIGNORE.encode(),
    }
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (out / "postBuild").chmod(0o755)
    copy_student_package(out, repo)
    return out


def edition_files(folder: Path) -> set[str]:
    """Files of an edition folder, relative and POSIX-style, preserved paths left out."""
    folder = Path(folder)
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).parts[0] not in PRESERVED
    }


def differences(built: Path, existing: Path) -> list[str]:
    """What differs between a fresh build and ``existing``: one line per file, sorted."""
    new, old = edition_files(built), edition_files(existing)
    lines = [f"missing: {name}" for name in sorted(new - old)]
    lines += [f"not in the edition: {name}" for name in sorted(old - new)]
    lines += [
        f"differs: {name}"
        for name in sorted(new & old)
        if not filecmp.cmp(built / name, existing / name, shallow=False)
        or (built / name).stat().st_mode != (existing / name).stat().st_mode
    ]
    return sorted(lines)


def sync(built: Path, out: Path) -> list[str]:
    """Make ``out`` hold exactly the files of ``built``, touching only what differs; returns the
    differences it fixed."""
    changes = differences(built, out) if out.is_dir() else [f"missing: {n}" for n in sorted(edition_files(built))]
    for line in changes:
        name = line.split(": ", 1)[1]
        target = out / name
        if line.startswith("not in the edition"):
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built / name, target)
    for folder in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
        if folder.relative_to(out).parts[0] not in PRESERVED and not any(folder.iterdir()):
            folder.rmdir()  # left empty by a removed file
    return changes


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write (default build/student)")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when OUT is stale")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="student-edition-") as tmp:
        try:
            built = build(Path(tmp) / "student")
        except (FileNotFoundError, ValueError) as err:
            print(f"student_edition: {err}", file=sys.stderr)
            return 2
        if args.check:
            stale = differences(built, args.out) if args.out.is_dir() else [f"missing: {args.out}"]
            for line in stale:
                print(f"student_edition: {line}", file=sys.stderr)
            if stale:
                print(f"student_edition: {args.out} is stale: run `make student`", file=sys.stderr)
                return 1
            print(f"student_edition: {args.out} is up to date")
            return 0
        changed = sync(built, args.out)
    print(f"student_edition: wrote {args.out} ({len(changed)} file(s) changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
