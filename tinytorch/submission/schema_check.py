"""JSON Schema checking that keeps jsonschema's complete error reports but is fast on valid input.

A submission carries a few hundred raw latency samples, each checked against the schema;
jsonschema spends ~7 ms per submission on that, mostly resolving `$ref`s. A leaderboard loads
thousands of files, so `SchemaChecker` does three things, none of which changes a verdict:

1. valid input is accepted by the same schema, its local `$ref`s written out in place, compiled
   to Python with fastjsonschema, when that package is installed;
2. an array of numbers within bounds (the raw samples: `{"type": "number", "exclusiveMinimum":
   0}` for each item) is checked whole at C speed (the types of its items, their sum, their
   minimum) instead of item by item, which was half of what the compiled check spent (~0.03 ms
   for a submission instead of ~0.06 ms); that check says yes only when it is sure, and anything
   else goes to the item-by-item check;
3. anything they do not accept goes to jsonschema (Draft 2020-12) on the ref-inlined schema,
   which lists every violation about twice as fast as on the schema with its refs.

Both work on copies: fastjsonschema rewrites the `$ref`s of the schema it compiles in place
(into absolute URIs), which would change the shared schema and stop their inlining.

jsonschema itself is imported only when needed (a file the compiled check does not accept),
and without its optional IRI format checker, whose import alone costs ~3 s of CPU.
"""

from __future__ import annotations

import copy
import functools
import json
import operator
import sys
from collections.abc import Callable, Iterator
from typing import Any

from tinytorch.submission.values import only_finite_numbers


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
    process that checks nothing but submissions asks for this: the `tinytorch` command line and a
    leaderboard's worker.
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


#: Draft 2020-12 keywords fastjsonschema does not know (it implements up to draft 2019-09 without
#: them, and ignores a keyword it does not know): a schema with any of them would be accepted
#: where jsonschema refuses, so it is not compiled.
UNCOMPILED_KEYWORDS = frozenset(
    {
        "prefixItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "dependentRequired",
        "dependentSchemas",
        "minContains",
        "maxContains",
        "$dynamicRef",
    }
)


def _compiled(schema: dict) -> Callable[[Any], Any] | None:
    """The fastjsonschema check of `schema` (raising on a violation); None when that package is
    missing or the schema is beyond it."""
    if any(not UNCOMPILED_KEYWORDS.isdisjoint(node) for node in _subschemas(schema)):
        return None
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


#: The bounds `_numbers_check` decides for a whole array: keyword → (which end of the array it
#: limits, how that end must compare with the bound).
_BOUNDS = {
    "minimum": (min, operator.ge),
    "exclusiveMinimum": (min, operator.gt),
    "maximum": (max, operator.le),
    "exclusiveMaximum": (max, operator.lt),
}
#: Keywords that only annotate: they change no verdict.
_ANNOTATIONS = frozenset({"title", "description", "$comment"})

ArrayCheck = Callable[[Any], bool]


def _numbers_check(items: Any) -> ArrayCheck | None:
    """For an `items` subschema that asks only for numbers within bounds: a check of a whole
    array at C speed, True only when it is sure every item passes (so False sends the array to
    the item-by-item check). None for any other subschema.

    Sure means: a list of plain ints and floats, all finite (so the minimum and maximum are
    exact, NaN cannot hide from them, and no bool or subclass is judged here), whose minimum and
    maximum are within the bounds.
    """
    if not (
        isinstance(items, dict) and items.get("type") == "number" and set(items) <= {"type", *_BOUNDS, *_ANNOTATIONS}
    ):
        return None
    bounds = [(*_BOUNDS[key], bound) for key, bound in items.items() if key in _BOUNDS]
    if not all(type(bound) in (int, float) for *_, bound in bounds):
        return None

    def check(values: Any) -> bool:
        if type(values) is not list or not only_finite_numbers(values):
            return False
        return not values or all(compare(end(values), bound) for end, compare, bound in bounds)

    return check


def _array_check(items: Any) -> ArrayCheck | None:
    """A check of a whole array against one `items` subschema, True only when every item passes:
    `_numbers_check` where it applies, else the compiled check (None when there is neither)."""
    numbers = _numbers_check(items)
    if numbers is not None:
        return numbers
    compiled = _compiled({"items": items})
    return None if compiled is None else functools.partial(_passes, compiled)


def _item_checks(schema: dict) -> dict[int, tuple[dict, ArrayCheck | None]]:
    """For each `items` subschema of `schema`, by its id: the subschema, kept so that its id stays
    its own, and the check of a whole array against it (one per distinct subschema)."""
    by_text: dict[str, ArrayCheck | None] = {}
    checks = {}
    for node in _subschemas(schema):
        items = node.get("items")
        if isinstance(items, dict):
            text = json.dumps(items, sort_keys=True)
            if text not in by_text:
                by_text[text] = _array_check(items)
            checks[id(items)] = (items, by_text[text])
    return checks


#: Keywords that make `items` depend on the rest of a schema: next to `prefixItems` it covers only
#: the rest of the array, and `unevaluatedItems` (anywhere) depends on what `items` evaluated.
#: A `$ref` left after inlining (a recursive schema) could lead into a node whose `items` was taken out.
_ITEMS_ENTANGLED = ("prefixItems", "unevaluatedItems", "$ref", "$dynamicRef")


def _split_number_arrays(schema: dict) -> tuple[dict, list[tuple[tuple, ArrayCheck]]]:
    """A copy of `schema` without the `items` that `_numbers_check` decides, and for each one the
    property names that lead to its array in an instance, with its check.

    Only arrays reached through `properties` and `allOf` alone are taken out: their place in any
    instance is a fixed path of keys. Nothing is taken out of a schema with any `_ITEMS_ENTANGLED` keyword.
    """
    if any(key in node for node in _subschemas(schema) for key in _ITEMS_ENTANGLED):
        return schema, []
    out = copy.deepcopy(schema)
    arrays = []

    def walk(node: Any, path: tuple) -> None:
        if not isinstance(node, dict):
            return
        check = _numbers_check(node.get("items"))
        if check is not None:
            del node["items"]
            arrays.append((path, check))
        properties = node.get("properties")
        for key, subschema in properties.items() if isinstance(properties, dict) else ():
            walk(subschema, (*path, key))
        for subschema in node.get("allOf", []) if isinstance(node.get("allOf"), list) else ():
            walk(subschema, path)

    walk(out, ())
    return out, arrays


def _arrays_pass(arrays: list[tuple[tuple, ArrayCheck]], instance: Any) -> bool:
    """True when every array at the places `_split_number_arrays` found passes its check (a place
    the instance does not have, or that holds no array, has nothing for `items` to check)."""
    for path, check in arrays:
        node = instance
        for key in path:
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        else:
            if isinstance(node, (list, tuple)) and not check(node):
                return False
    return True


class SchemaChecker:
    """`iter_errors(instance)` like a jsonschema validator: every violation, none for valid input."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        rest, self._number_arrays = _split_number_arrays(_without_local_refs(schema))
        self.fast = _compiled(rest)
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
            checks = _item_checks(schema)
            every_item = base.VALIDATORS["items"]

            def items(validator: Any, items: Any, instance: Any, subschema: dict) -> Iterator[Any]:
                _, check = checks.get(id(items), (items, None))
                # beside prefixItems, `items` covers only the rest of the array: leave that to jsonschema
                whole = isinstance(instance, list) and "prefixItems" not in subschema
                if not (whole and check is not None and check(instance)):
                    yield from every_item(validator, items, instance, subschema)

            self._full = jsonschema.validators.extend(base, {"items": items})(schema)
        return self._full

    def accepts_fast(self, instance: Any) -> bool:
        """True when the compiled check and the whole-array checks accept `instance` (False when
        unsure or unavailable)."""
        return _passes(self.fast, instance) and _arrays_pass(self._number_arrays, instance)

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        """Every violation of the schema by `instance`, as jsonschema's ValidationErrors."""
        if self.accepts_fast(instance):
            return iter(())
        return self.full.iter_errors(instance)
