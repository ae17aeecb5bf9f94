"""Derive Singer schemas from the OpenAPI descriptions vendored in ``tap_copilot_metrics/openapi``.

Deriving (rather than retyping) keeps the schemas honest: a field GitHub describes is a field
we declare. The SDK's ``OpenAPISchema`` loads a file and resolves its ``$ref``s, and its
``OpenAPISchemaNormalizer`` turns ``nullable: true`` into a ``"null"`` type member, unwraps
``allOf`` and drops ``pattern``. :class:`SingerNormalizer` adds what the tap's catalog needs:

* ``oneOf``/``anyOf`` alternatives become one object declaring the union of their properties
  (a target column cannot be "one of two shapes"); a ``{"type": "null"}`` alternative makes
  the result nullable;
* every property is nullable (callers re-declare their key columns as non-null), and type
  lists are deduplicated with ``"null"`` last;
* every object declares its properties and sets ``additionalProperties: true``: the SDK drops
  undeclared nested fields unless ``additionalProperties`` is truthy;
* ``enum`` becomes a "Known values" note in the description (GitHub adds values, an enum
  would reject them);
* only ``type``, ``properties``, ``additionalProperties``, ``items``, ``description``,
  ``deprecated`` and the formats targets act on (``date``, ``date-time``) are kept: no
  ``required``, ``title``, ``example``, ``x-*``, ``int64`` or ``uri`` (on URL templates).
"""

from __future__ import annotations

import functools
import typing as t
from collections.abc import Sequence
from importlib import resources

from singer_sdk.schema.source import OpenAPISchema, OpenAPISchemaNormalizer

from tap_copilot_metrics.schemas.common import JSONSchema

_KEPT_FORMATS = frozenset({"date", "date-time"})


class SingerNormalizer(OpenAPISchemaNormalizer):
    """The SDK's OpenAPI normalizer, plus the conventions in the module docstring."""

    def normalize_schema(
        self, schema: JSONSchema, *, key_properties: Sequence[str] = ()
    ) -> JSONSchema:
        """Normalize as the SDK does (``anyOf`` handled like ``oneOf``), then tidy up."""
        if "anyOf" in schema:
            schema = {k: v for k, v in schema.items() if k != "anyOf"} | {"oneOf": schema["anyOf"]}
        return _tidy(super().normalize_schema(schema, key_properties=key_properties))

    def handle_object(
        self, schema: JSONSchema, *, key_properties: Sequence[str] = ()
    ) -> JSONSchema:
        """Normalize each property and make it nullable (keys are re-declared by callers)."""
        props = schema.get("properties", {})
        schema["properties"] = {
            name: nullable(self.normalize_schema(p)) for name, p in props.items()
        }
        return schema

    def handle_one_of(self, schema: JSONSchema) -> JSONSchema:
        """Merge the alternatives into one schema; a null alternative makes it nullable."""
        rest = {k: v for k, v in schema.items() if k != "oneOf"}
        alternatives = [self.normalize_schema(a) for a in schema["oneOf"]]
        shapes = [a for a in alternatives if _type_list(a) != ["null"]]
        merged = functools.reduce(_merge, shapes) if shapes else {}
        extra = ["null"] if len(shapes) < len(alternatives) else []
        types = _types([*_type_list(merged), *_type_list(rest), *extra])
        notes = {k: v for k, v in rest.items() if k in ("description", "deprecated", "enum")}
        return {**merged, **notes, "type": types}

    def handle_enum(self, schema: JSONSchema) -> JSONSchema:
        """Replace ``enum`` by a "Known values" note in the description."""
        known = ", ".join(str(v) for v in schema.pop("enum") if v is not None)
        lead = str(schema.get("description") or "").rstrip()
        if lead and not lead.endswith((".", "!", "?")):
            lead += "."
        schema["description"] = f"{lead} Known values: {known}.".lstrip()
        return schema


@functools.cache
def _source(filename: str) -> OpenAPISchema:
    spec = resources.files("tap_copilot_metrics").joinpath("openapi", filename)
    return OpenAPISchema(spec, preprocessor=SingerNormalizer())


def component_schema(filename: str, name: str) -> JSONSchema:
    """The Singer schema of ``#/components/schemas/<name>`` (a fresh, mutable copy)."""
    return _source(filename).get_schema(name)


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


def _tidy(schema: JSONSchema) -> JSONSchema:
    """Only the keywords the catalog carries, in a stable order."""
    types = _types(_type_list(schema))
    out: JSONSchema = {"type": types} if types else {}
    if "object" in types:
        out["properties"] = schema.get("properties", {})
        out["additionalProperties"] = True
    if "array" in types and "items" in schema:
        out["items"] = schema["items"]
    if schema.get("format") in _KEPT_FORMATS:
        out["format"] = schema["format"]
    if schema.get("description"):
        out["description"] = schema["description"]
    if schema.get("deprecated"):
        out["deprecated"] = True
    return out


def _merge(a: JSONSchema, b: JSONSchema) -> JSONSchema:
    """Union of two normalized schemas (types, properties, items), ``a`` winning on text."""
    out: JSONSchema = {**b, **a, "type": _types([*_type_list(a), *_type_list(b)])}
    if a.get("format") != b.get("format"):
        out.pop("format", None)
    if "properties" in a or "properties" in b:
        a_props, b_props = a.get("properties", {}), b.get("properties", {})
        merged = {n: _merge(s, b_props[n]) if n in b_props else s for n, s in a_props.items()}
        out["properties"] = merged | {n: s for n, s in b_props.items() if n not in a_props}
        out["additionalProperties"] = True
    if "items" in a and "items" in b:
        out["items"] = _merge(a["items"], b["items"])
    return out
