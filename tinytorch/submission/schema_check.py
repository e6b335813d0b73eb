"""JSON Schema checking that keeps jsonschema's complete error reports but is fast on valid input.

A submission carries a few hundred raw latency samples, each checked against the schema;
jsonschema spends ~7 ms per submission on that, mostly resolving `$ref`s. A leaderboard loads
thousands of files, so `SchemaChecker` does two things, neither of which changes a verdict:

1. valid input is accepted by the same schema, its local `$ref`s written out in place, compiled
   to Python with fastjsonschema (~0.06 ms: with the refs inlined, each raw sample is checked in
   the compiled loop instead of by a function call), when that package is installed;
2. anything it does not accept goes to jsonschema (Draft 2020-12) on the ref-inlined schema,
   which lists every violation about twice as fast as on the schema with its refs.

Both work on copies: fastjsonschema rewrites the `$ref`s of the schema it compiles in place
(into absolute URIs), which would change the shared schema and stop their inlining.

jsonschema itself is imported only when needed (a file the compiled check does not accept),
and without its optional IRI format checker, whose import alone costs ~3 s of CPU.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any


class _Cyclic(Exception):
    """A `$ref` that refers back to itself cannot be written out in place."""


def _pointer(schema: dict, ref: str) -> Any:
    node: Any = schema
    for part in ref[2:].split("/") if ref != "#" else []:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def inline_refs(schema: dict) -> dict:
    """A copy of `schema` with every local `$ref` ("#/...") replaced by its target.

    A `$ref` beside other keywords becomes one more `allOf` entry, which is what it means in
    Draft 2020-12. Raises ValueError for a recursive schema (its refs cannot be written out).
    """

    def walk(node: Any, active: tuple) -> Any:
        if isinstance(node, list):
            return [walk(v, active) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v, active) for k, v in node.items() if k != "$ref"}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            if ref in active:
                raise _Cyclic(ref)
            target = walk(copy.deepcopy(_pointer(schema, ref)), active + (ref,))
            if len(out) == 0:
                return target
            out["allOf"] = list(out.get("allOf", [])) + [target]
        elif ref is not None:
            out["$ref"] = ref
        return out

    try:
        return walk(schema, ())
    except _Cyclic as cycle:
        raise ValueError(f"schema: recursive $ref {cycle} cannot be inlined") from None


#: Optional packages jsonschema imports only to check "format" keywords (IRIs, hostnames, dates,
#: durations, colours...). The submission schema has no "format" keyword, and in Draft 2020-12
#: formats are annotations unless a format checker is asked for, so its checks need none of them.
FORMAT_PACKAGES = (
    "fqdn",
    "idna",
    "isoduration",
    "jsonpointer",
    "rfc3339_validator",
    "rfc3986_validator",
    "rfc3987",
    "rfc3987_syntax",
    "uri_template",
    "webcolors",
)

#: What this process leaves out when it imports jsonschema: see `leave_out_format_packages`.
_left_out = ["rfc3987_syntax"]


def leave_out_format_packages() -> None:
    """Import jsonschema in this process, when it comes to that, without any of FORMAT_PACKAGES.

    Their imports cost more than the rest of jsonschema (~0.3 s of CPU together), but without
    them jsonschema's format checker skips their formats for the rest of the process. So only a
    process that checks nothing but submissions asks for this: a leaderboard's worker.
    """
    _left_out[:] = FORMAT_PACKAGES


def import_jsonschema() -> Any:
    """The jsonschema module, imported without the rfc3987_syntax package when possible (and
    without all of FORMAT_PACKAGES after `leave_out_format_packages`).

    When rfc3987_syntax is installed, jsonschema builds ~40 parsers from it at import time to
    check the "iri" formats, which nothing here needs.
    """
    left_out = [name for name in _left_out if name not in sys.modules]
    if "jsonschema" in sys.modules or not left_out:
        import jsonschema

        return jsonschema
    for name in left_out:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import <name>` raise ImportError
    try:
        import jsonschema
    finally:
        for name in left_out:
            del sys.modules[name]  # later imports by anyone else work as usual
    return jsonschema


def _without_local_refs(schema: dict) -> dict:
    """A copy of `schema` with its local refs inlined; an untouched copy when they cannot be."""
    try:
        return inline_refs(schema)
    except ValueError:  # a recursive schema: keep its refs
        return copy.deepcopy(schema)


def _compiled(schema: dict) -> Callable[[Any], Any] | None:
    try:
        import fastjsonschema

        return fastjsonschema.compile(_without_local_refs(schema))
    except Exception:  # not installed, or this schema is beyond it: jsonschema alone decides
        return None


def _passes(check: Callable[[Any], Any] | None, instance: Any) -> bool:
    """True when the compiled `check` accepts `instance` (False when unsure or unavailable)."""
    if check is None:
        return False
    try:
        check(instance)
        return True
    except Exception:  # a violation, or a value the compiled code cannot handle
        return False


def _subschemas(schema: Any) -> Iterator[dict]:
    """Every dict in `schema`, itself included (schema objects and the mappings that hold them)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _item_checks(schema: dict) -> dict[int, tuple[dict, Callable[[Any], Any] | None]]:
    """For each `items` subschema of `schema`, by its id: the subschema, kept so that its id stays
    its own, and the compiled check of a whole array against it (one per distinct subschema)."""
    by_text: dict[str, Callable[[Any], Any] | None] = {}
    checks = {}
    for node in _subschemas(schema):
        items = node.get("items")
        if isinstance(items, dict):
            text = json.dumps(items, sort_keys=True)
            if text not in by_text:
                by_text[text] = _compiled({"items": items})
            checks[id(items)] = (items, by_text[text])
    return checks


class SchemaChecker:
    """`iter_errors(instance)` like a jsonschema validator: every violation, none for valid input."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.fast = _compiled(schema)
        self._full: Any = None

    @property
    def full(self) -> Any:
        """The jsonschema Draft 2020-12 validator (on the ref-inlined schema), built on first use.

        Its `items` keyword first tries the whole array with a compiled check and descends into
        the items only when that check does not accept them: an invalid submission is usually
        wrong in one place, and 200 latency samples checked one by one by jsonschema cost about
        a millisecond. Only arrays without errors are skipped, so the errors are jsonschema's own.
        """
        if self._full is None:
            jsonschema = import_jsonschema()
            base = jsonschema.Draft202012Validator
            base.check_schema(self.schema)
            schema = _without_local_refs(self.schema)
            checks = _item_checks(schema) if self.fast is not None else {}
            every_item = base.VALIDATORS["items"]

            def items(validator: Any, items: Any, instance: Any, subschema: dict) -> Iterator[Any]:
                _, check = checks.get(id(items), (items, None))
                # beside prefixItems, `items` covers only the rest of the array: leave that to jsonschema
                whole = isinstance(instance, list) and "prefixItems" not in subschema
                if not (whole and _passes(check, instance)):
                    yield from every_item(validator, items, instance, subschema)

            self._full = jsonschema.validators.extend(base, {"items": items})(schema)
        return self._full

    def accepts_fast(self, instance: Any) -> bool:
        """True when the compiled check accepts `instance` (False when unsure or unavailable)."""
        return _passes(self.fast, instance)

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        """Every violation of the schema by `instance`, as jsonschema's ValidationErrors."""
        if self.accepts_fast(instance):
            return iter(())
        return self.full.iter_errors(instance)
