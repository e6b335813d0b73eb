"""Serve mermaid from the book's own static files so diagrams render with no network.

sphinxcontrib-mermaid is pointed (``mermaid_use_local``) at ``mermaid-local.mjs``, a tiny
module that re-exports the global set by ``mermaid.min.js``. This extension adds that classic
script, and a file:// fallback, to the pages that hold a diagram.
``tools/fetch_mermaid.sh`` puts ``mermaid.min.js`` in place before the build.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinxcontrib.mermaid import mermaid

LIBRARY = "mermaid.min.js"
FALLBACK = "offline-mermaid.js"


def _check_library(app: Sphinx) -> None:
    """Fail the build early, and say how to fix it, when the library was not fetched."""
    static_dirs = [Path(app.confdir) / p for p in app.config.html_static_path]
    if not any((d / LIBRARY).is_file() for d in static_dirs):
        raise ExtensionError(
            f"{LIBRARY} is missing from html_static_path {app.config.html_static_path}; "
            "run tools/fetch_mermaid.sh (or `make book`) first"
        )


def _add_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: nodes.document | None
) -> None:
    """Load the library before sphinxcontrib-mermaid's module script, on diagram pages only."""
    if doctree is None or doctree.next_node(mermaid) is None:
        return
    # Lower priority numbers come first; the mermaid module script uses mermaid_js_priority.
    first = app.config.mermaid_js_priority - 10
    app.add_js_file(LIBRARY, priority=first)
    app.add_js_file(FALLBACK, priority=first + 1)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinxcontrib.mermaid")
    app.connect("builder-inited", _check_library)
    app.connect("html-page-context", _add_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
