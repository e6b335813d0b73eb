"""Serve mermaid from the book's own static files so diagrams render with no network.

sphinxcontrib-mermaid renders diagrams from an inline module script that starts with
``import mermaid from "<url>"``. Importing a module file is refused by browsers on a page
opened from disk (file://: "blocked by CORS policy"), so this extension loads the classic
build ``mermaid.min.js`` (which defines ``globalThis.mermaid``) as an ordinary script, and
rewrites that import to take the global instead. The inline module then runs the same way
over http and from disk, and nothing is fetched from a CDN.
``scripts/fetch_mermaid.sh`` puts ``mermaid.min.js`` in place before the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinxcontrib.mermaid import mermaid

LIBRARY = "mermaid.min.js"
# The import sphinxcontrib-mermaid writes at the top of its inline module script.
IMPORT = re.compile(r"""import\s+mermaid\s+from\s+(["'])[^"']*\1;?""")
FROM_GLOBAL = "const mermaid = globalThis.mermaid;"


def _check_library(app: Sphinx) -> None:
    """Fail the build early, and say how to fix it, when the library was not fetched."""
    static_dirs = [Path(app.confdir) / p for p in app.config.html_static_path]
    if not any((d / LIBRARY).is_file() for d in static_dirs):
        raise ExtensionError(
            f"{LIBRARY} is missing from html_static_path {app.config.html_static_path}; "
            "run scripts/fetch_mermaid.sh (or `make book`) first"
        )


def _has_diagram(doctree: nodes.document | None) -> bool:
    return doctree is not None and doctree.next_node(mermaid) is not None


def _add_library(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: nodes.document | None) -> None:
    """Load the library before sphinxcontrib-mermaid's module script, on diagram pages only."""
    if _has_diagram(doctree):
        # Lower priority numbers come first; the mermaid module script uses mermaid_js_priority.
        app.add_js_file(LIBRARY, priority=app.config.mermaid_js_priority - 10)


def _import_from_global(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: nodes.document | None
) -> None:
    """Rewrite the module script's import of mermaid to the global the library defined."""
    if not _has_diagram(doctree):
        return
    scripts, rewritten = [], 0
    for script in context.get("script_files", []):
        body = script.attributes.get("body", "")
        if script.attributes.get("type") == "module" and IMPORT.search(body):
            attributes = {**script.attributes, "body": IMPORT.sub(FROM_GLOBAL, body, count=1)}
            script = type(script)(script.filename, priority=script.priority, **attributes)
            rewritten += 1
        scripts.append(script)
    if not rewritten:
        # A changed sphinxcontrib-mermaid would otherwise leave a page that fails from disk.
        raise ExtensionError(
            f"{pagename}: no mermaid module script with `import mermaid from` "
            "to rewrite; check sphinxcontrib-mermaid's page script"
        )
    context["script_files"] = scripts


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinxcontrib.mermaid")
    app.connect("builder-inited", _check_library)
    app.connect("html-page-context", _add_library)
    # Late, after sphinxcontrib-mermaid has added its script to the page.
    app.connect("html-page-context", _import_from_global, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
