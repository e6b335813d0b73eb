"""JSON Schema checking that keeps jsonschema's complete error reports but is fast on valid input.

A submission carries a few hundred raw latency samples, each checked against the schema;
jsonschema spends ~7 ms per submission on that, mostly resolving `$ref`s. A leaderboard loads
thousands of files, so `SchemaChecker` does two things, neither of which changes a verdict:

1. valid input is accepted by the same schema compiled to Python with fastjsonschema (~0.5 ms),
   when that package is installed;
2. anything it does not accept goes to jsonschema (Draft 2020-12) on a copy of the schema with
   its local `$ref`s written out in place, which lists every violation about twice as fast.

jsonschema itself is imported only when needed (a file the compiled check does not accept),
and without its optional IRI format checker, whose import alone costs ~3 s of CPU.
"""

from __future__ import annotations

import copy
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


def import_jsonschema() -> Any:
    """The jsonschema module, imported without the rfc3987_syntax package when possible.

    When rfc3987_syntax is installed, jsonschema builds ~40 parsers from it at import time to
    check the "iri" formats. The submission schema uses no "format" keyword (and formats are
    annotations only in Draft 2020-12), so nothing here needs them.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        import jsonschema

        return jsonschema
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes `import rfc3987_syntax` raise ImportError
    try:
        import jsonschema
    finally:
        del sys.modules["rfc3987_syntax"]  # later imports by anyone else work as usual
    return jsonschema


def _compiled(schema: dict) -> Callable[[Any], Any] | None:
    try:
        import fastjsonschema

        return fastjsonschema.compile(schema)
    except Exception:  # not installed, or this schema is beyond it: jsonschema alone decides
        return None


class SchemaChecker:
    """`iter_errors(instance)` like a jsonschema validator: every violation, none for valid input."""

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.fast = _compiled(schema)
        self._full: Any = None

    @property
    def full(self) -> Any:
        """The jsonschema Draft 2020-12 validator (on the ref-inlined schema), built on first use."""
        if self._full is None:
            validator = import_jsonschema().Draft202012Validator
            validator.check_schema(self.schema)
            try:
                self._full = validator(inline_refs(self.schema))
            except ValueError:  # a recursive schema: keep its refs
                self._full = validator(self.schema)
        return self._full

    def accepts_fast(self, instance: Any) -> bool:
        """True when the compiled check accepts `instance` (False when unsure or unavailable)."""
        if self.fast is None:
            return False
        try:
            self.fast(instance)
            return True
        except Exception:  # a violation, or a value the compiled code cannot handle
            return False

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        """Every violation of the schema by `instance`, as jsonschema's ValidationErrors."""
        if self.accepts_fast(instance):
            return iter(())
        return self.full.iter_errors(instance)
