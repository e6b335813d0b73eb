"""Load each script once per page.

jupyter-book registers sphinx-thebe's configuration script twice; the second copy redeclares
a ``const`` and the browser reports a script error on every page. Dropping exact duplicates
(same source or body, same attributes, whatever their priority) keeps the console clean without touching the theme.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx


def _drop_duplicates(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: nodes.document | None
) -> None:
    # The copies may differ in priority, so the key leaves it out; the earliest copy is kept.
    scripts = sorted(context.get("script_files", []), key=lambda js: js.priority)
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        # An inline script has filename None or "", depending on who added it.
        key = (str(script.filename or ""), tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    # Late priority: run after every extension that adds scripts to the page.
    app.connect("html-page-context", _drop_duplicates, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
