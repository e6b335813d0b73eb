"""JSON Schema checking that keeps jsonschema's complete error reports but is fast on valid input.

A submission carries a few hundred raw latency samples, each checked against the schema;
jsonschema spends ~7 ms per submission on that, mostly resolving `$ref`s. A leaderboard loads
thousands of files, so `SchemaChecker` does two things, neither of which changes a verdict:

1. valid input is accepted by the same schema compiled to Python with fastjsonschema (~0.5 ms),
   when that package is installed;
2. anything it does not accept goes to jsonschema (Draft 2020-12) on a copy of the schema with
   its local `$ref`s written out in place, which lists every violation about twice as fast.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterator, Optional

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


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


def _compiled(schema: dict) -> Optional[Callable[[Any], Any]]:
    try:
        import fastjsonschema
        return fastjsonschema.compile(schema)
    except Exception:  # not installed, or this schema is beyond it: jsonschema alone decides
        return None


class SchemaChecker:
    """`iter_errors(instance)` like a jsonschema validator: every violation, none for valid input."""

    def __init__(self, schema: dict) -> None:
        Draft202012Validator.check_schema(schema)
        try:
            full_schema = inline_refs(schema)
        except ValueError:
            full_schema = schema
        self.full = Draft202012Validator(full_schema)
        self.fast = _compiled(schema)

    def accepts_fast(self, instance: Any) -> bool:
        """True when the compiled check accepts `instance` (False when unsure or unavailable)."""
        if self.fast is None:
            return False
        try:
            self.fast(instance)
            return True
        except Exception:  # a violation, or a value the compiled code cannot handle
            return False

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        """Every violation of the schema by `instance`, as jsonschema reports them."""
        if self.accepts_fast(instance):
            return iter(())
        return self.full.iter_errors(instance)
