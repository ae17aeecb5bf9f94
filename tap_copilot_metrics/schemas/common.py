"""Building blocks shared by every stream schema.

Conventions:

* Key columns are non-null; every other property at every nesting level is nullable, because
  GitHub uses null, absent and 0/false as three different states and adds fields over time.
* Every object node declares its properties (targets that flatten objects drop undeclared
  ones) and keeps ``additionalProperties: true`` so a field GitHub adds tomorrow still passes
  the SDK's record conformance and reaches the target.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

JSONSchema = dict[str, t.Any]

SCOPE_DESCRIPTION = 'Kind of scope the record was read for: "organization", "team" or "enterprise".'
SCOPE_NAME_DESCRIPTION = (
    'Organization login, "org/team-slug" exactly as configured, or enterprise slug.'
)


def key(
    name: str, wrapped: type[th.JSONTypeHelper] | th.JSONTypeHelper, description: str = ""
) -> th.Property:
    """A key column: required and never null."""
    return th.Property(name, wrapped, required=True, description=description or None)


def scope_columns() -> list[th.Property]:
    """``scope`` and ``scope_name``, the first two key columns of every stream."""
    return [
        key("scope", th.StringType, SCOPE_DESCRIPTION),
        key("scope_name", th.StringType, SCOPE_NAME_DESCRIPTION),
    ]


def _many(wrapped: type[th.JSONTypeHelper], names: tuple[str, ...]) -> list[th.Property]:
    # Property(required=False) appends "null" to the type: nullable by construction.
    return [th.Property(name, wrapped) for name in names]


def ints(*names: str) -> list[th.Property]:
    """Nullable integer properties (counts, ids GitHub sends as JSON numbers)."""
    return _many(th.IntegerType, names)


def numbers(*names: str) -> list[th.Property]:
    """Nullable decimal properties (averages, medians, percentiles, credits)."""
    return _many(th.DecimalType, names)  # JSON "number" (NumberType is deprecated)


def strings(*names: str) -> list[th.Property]:
    """Nullable string properties."""
    return _many(th.StringType, names)


def booleans(*names: str) -> list[th.Property]:
    """Nullable booleans: null ("no data") differs from false in GitHub's files."""
    return _many(th.BooleanType, names)


def dates(*names: str) -> list[th.Property]:
    """Nullable ``YYYY-MM-DD`` strings."""
    return _many(th.DateType, names)


def datetimes(*names: str) -> list[th.Property]:
    """Nullable ISO 8601 timestamps."""
    return _many(th.DateTimeType, names)


def obj(name: str, *props: th.Property | list[th.Property], description: str = "") -> th.Property:
    """A nullable nested object whose every property is declared."""
    return th.Property(name, th.ObjectType(*_flatten(props)), description=description or None)


def array_of(
    name: str, *props: th.Property | list[th.Property], description: str = ""
) -> th.Property:
    """A nullable array of objects whose every property is declared."""
    item = th.ObjectType(*_flatten(props))
    return th.Property(name, th.ArrayType(item), description=description or None)


def _flatten(props: tuple[th.Property | list[th.Property], ...]) -> list[th.Property]:
    flat: list[th.Property] = []
    for p in props:
        if isinstance(p, list):
            flat.extend(p)
        else:
            flat.append(p)
    return flat


def record_schema(*props: th.Property | list[th.Property]) -> JSONSchema:
    """The top-level record schema: an open object (``additionalProperties: true``).

    ``th.ObjectType`` rather than ``th.PropertiesList`` keeps the draft-07 style Singer uses
    (PropertiesList stamps a 2020-12 ``$schema``).
    """
    flat = _flatten(props)
    names = [p.name for p in flat]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        msg = f"duplicate properties in schema: {duplicates}"
        raise ValueError(msg)
    schema: JSONSchema = th.ObjectType(*flat, additional_properties=True).to_dict()
    return schema
