"""Derive Singer schemas from the OpenAPI descriptions vendored in ``tap_copilot_metrics/openapi``.

Deriving (rather than retyping) keeps the schemas honest: a field GitHub describes is a field
we declare. The conversion

* resolves ``$ref`` (sibling keys such as ``description`` override the target's);
* merges ``allOf`` parts, and ``oneOf``/``anyOf`` alternatives into one object that declares
  the union of their properties (a target column cannot be "one of two shapes");
* turns OpenAPI 3.0 ``nullable: true``, 3.1 ``"type": [..., "null"]`` and
  ``anyOf: [{"type": "null"}, X]`` into a ``"null"`` type member, and makes every property
  nullable anyway (callers re-declare their key columns as non-null);
* declares every object's properties and sets ``additionalProperties: true`` on it: GitHub's
  nested objects are open by JSON-Schema default, and the SDK drops undeclared nested fields
  unless ``additionalProperties`` is truthy;
* keeps ``description``, ``deprecated`` and the formats targets act on (``date``,
  ``date-time``); turns ``enum`` into a "Known values" note (GitHub adds values, an enum
  would reject them); drops ``required``, ``title``, ``example``, ``x-*`` and
  non-standard formats (``int64``, ``uri`` on URL templates).
"""

from __future__ import annotations

import functools
import json
import typing as t
from importlib import resources

from tap_copilot_metrics.schemas.common import JSONSchema

_KEPT_FORMATS = frozenset({"date", "date-time"})
_REF_PREFIX = "#/components/schemas/"


@functools.cache
def load_openapi(filename: str) -> JSONSchema:
    """Load a vendored OpenAPI description (``legacy-metrics.openapi.json``, ...)."""
    text = resources.files("tap_copilot_metrics").joinpath("openapi", filename).read_text("utf-8")
    spec: JSONSchema = json.loads(text)
    return spec


def component_schema(filename: str, name: str) -> JSONSchema:
    """The Singer schema of ``#/components/schemas/<name>`` (a fresh, mutable copy)."""
    spec = load_openapi(filename)
    return _Converter(spec).convert({"$ref": _REF_PREFIX + name})


def nullable(schema: JSONSchema) -> JSONSchema:
    """``schema`` with ``"null"`` added to its type list (an untyped schema already allows it)."""
    if "type" not in schema:
        return schema
    return {**schema, "type": _types([*_type_list(schema), "null"])}


def _type_list(schema: t.Mapping[str, t.Any]) -> list[str]:
    raw = schema.get("type", [])
    return [raw] if isinstance(raw, str) else list(raw)


def _types(types: t.Iterable[str]) -> list[str]:
    """Deduplicated type list with "null" last, the order Singer schemas use."""
    seen = dict.fromkeys(types)
    return [x for x in seen if x != "null"] + (["null"] if "null" in seen else [])


class _Converter:
    def __init__(self, spec: JSONSchema) -> None:
        self.components: JSONSchema = spec.get("components", {}).get("schemas", {})

    def convert(self, node: t.Mapping[str, t.Any], refs: tuple[str, ...] = ()) -> JSONSchema:
        node, refs = self._deref(node, refs)
        if "allOf" in node:
            rest = {k: v for k, v in node.items() if k != "allOf"}
            parts = [self.convert(p, refs) for p in node["allOf"]]
            if _type_list(rest) or "properties" in rest:
                parts.append(self.convert(rest, refs))
            merged = functools.reduce(_merge, parts)
            # allOf is an intersection: null only if every part allows it
            if not all("null" in _type_list(p) for p in parts):
                merged["type"] = [x for x in merged["type"] if x != "null"]
            return self._annotate(merged, rest)
        alternatives = node.get("oneOf") or node.get("anyOf")
        if alternatives:
            converted = [self.convert(a, refs) for a in alternatives]
            shapes = [c for c in converted if _type_list(c) != ["null"]]
            merged = functools.reduce(_merge, shapes) if shapes else {"type": []}
            extra = _type_list(node) + (["null"] if len(shapes) < len(converted) else [])
            merged["type"] = _types([*merged["type"], *extra])
            return self._annotate(merged, node)
        return self._plain(node, refs)

    def _deref(
        self, node: t.Mapping[str, t.Any], refs: tuple[str, ...]
    ) -> tuple[t.Mapping[str, t.Any], tuple[str, ...]]:
        while "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith(_REF_PREFIX):
                msg = f"unsupported $ref {ref!r}"
                raise ValueError(msg)
            if ref in refs:
                msg = f"recursive $ref {ref!r} cannot be declared as a flat Singer schema"
                raise ValueError(msg)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**self.components[ref.removeprefix(_REF_PREFIX)], **siblings}
            refs = (*refs, ref)
        return node, refs

    def _plain(self, node: t.Mapping[str, t.Any], refs: tuple[str, ...]) -> JSONSchema:
        types = _type_list(node)
        if not types and "properties" in node:
            types = ["object"]
        if node.get("nullable"):
            types.append("null")
        out: JSONSchema = {"type": _types(types)} if types else {}
        if "object" in types:
            out["properties"] = {
                name: nullable(self.convert(prop, refs))
                for name, prop in node.get("properties", {}).items()
            }
            out["additionalProperties"] = True
        if "array" in types and "items" in node:
            out["items"] = self.convert(node["items"], refs)
        if node.get("format") in _KEPT_FORMATS:
            out["format"] = node["format"]
        return self._annotate(out, node)

    @staticmethod
    def _annotate(out: JSONSchema, node: t.Mapping[str, t.Any]) -> JSONSchema:
        description = node.get("description")
        if "enum" in node:
            known = ", ".join(str(v) for v in node["enum"] if v is not None)
            lead = description.rstrip() if description else ""
            if lead and not lead.endswith((".", "!", "?")):
                lead += "."
            description = f"{lead} Known values: {known}.".lstrip()
        if description:
            out["description"] = description
        if node.get("deprecated"):
            out["deprecated"] = True
        return out


def _merge(a: JSONSchema, b: JSONSchema) -> JSONSchema:
    """Union of two converted schemas (types, properties, items), ``a`` winning on text."""
    out: JSONSchema = {**b, **a, "type": _types([*_type_list(a), *_type_list(b)])}
    if a.get("format") != b.get("format"):
        out.pop("format", None)
    if "properties" in a or "properties" in b:
        props = dict(b.get("properties", {}))
        for name, schema in a.get("properties", {}).items():
            props[name] = _merge(schema, props[name]) if name in props else schema
        # keep a's order first, then b's extras
        order = [
            *a.get("properties", {}),
            *(n for n in b.get("properties", {}) if n not in a.get("properties", {})),
        ]
        out["properties"] = {name: props[name] for name in order}
        out["additionalProperties"] = True
    if "items" in a and "items" in b:
        out["items"] = _merge(a["items"], b["items"])
    return out
