"""Breakdown tables: one flat row per element of a record's nested arrays (or per object).

Warehouses want `sum(total_code_acceptances) / sum(total_code_suggestions)` to be one plain
query, not a JSON walk through editors > models > languages. Each breakdown stream is an SDK
child of the stream whose records hold the arrays; its rows are computed from records the parent
already fetched, with no second request (how they are handed over: tap_copilot_metrics.handoff).
Selecting a breakdown without its parent works: the SDK then reads the parent without emitting
it.

Rows keep the parent's key columns and GitHub's field names. A dimension GitHub leaves null or
empty becomes `unknown` (key columns may never be null or empty; target-duckdb loads "" as NULL),
and a dimension is a string column even where GitHub sends a number (`phase_number`), so that
`unknown` fits. An object (`totals_by_cli`, `pull_requests`) is taken as an array of one element:
its table has one row per parent record that carries it. Which tables exist:
tap_copilot_metrics.streams.breakdown_tables.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from singer_sdk import Stream

from tap_copilot_metrics.handoff import CollectingStream, Row

#: The value a null or empty dimension takes, so the row still has a usable key.
UNKNOWN = "unknown"
#: Separator of flattened nested objects (`last_known_ide_version__ide_version`).
NESTED_SEPARATOR = "__"

Schema = dict[str, Any]


@dataclass(frozen=True)
class Level:
    """One array on the way down to the breakdown's elements (an object counts as an array of one).

    `dimension` names the column that takes each element's `name` (the metrics API's style,
    e.g. editors[].name -> `editor`); None when elements carry their own key fields (reports).
    """

    array: str
    dimension: str | None = None


@dataclass(frozen=True)
class Breakdown:
    """Where a breakdown's elements sit in the parent record, and what identifies them."""

    #: Object property of the parent record that holds the first array (metrics API), if any.
    container: str | None
    levels: tuple[Level, ...]
    #: Key columns besides the parent's, in key order.
    dimensions: tuple[str, ...]

    def rows(self, record: Row, parent_keys: Iterable[str]) -> Iterator[Row]:
        """The flat rows of one parent record."""
        base = {key: record[key] for key in parent_keys}
        root = record.get(self.container) if self.container else record
        if isinstance(root, dict):
            yield from self._walk(root, self.levels, base)

    def _walk(self, node: Row, levels: tuple[Level, ...], carried: Row) -> Iterator[Row]:
        level, deeper = levels[0], levels[1:]
        for element in _elements(node.get(level.array)):
            row = dict(carried)
            if level.dimension:
                row[level.dimension] = element.get("name")
            if deeper:
                row.update(_carried_fields(element, level.dimension))
                yield from self._walk(element, deeper, row)
            else:
                row.update(_leaf_fields(element, named=level.dimension is not None))
                for dimension in self.dimensions:
                    row[dimension] = _key_value(row.get(dimension))
                yield row

    def schema(self, parent_schema: Schema, parent_keys: Iterable[str]) -> Schema:
        """Columns: the parent's keys, the dimensions, then the elements' own fields."""
        properties: dict[str, Any] = {key: parent_schema["properties"][key] for key in parent_keys}
        node = parent_schema["properties"][self.container] if self.container else parent_schema
        for index, level in enumerate(self.levels):
            item = _element_schema(node["properties"][level.array])
            if level.dimension:
                properties[level.dimension] = {"type": ["string"]}
            if index < len(self.levels) - 1:
                properties.update(_carried_schema(item, level.dimension))
            else:
                properties.update(_leaf_schema(item, named=level.dimension is not None))
            node = item
        for dimension in self.dimensions:
            properties[dimension] = {
                "type": ["string"],
                "description": f"Breakdown dimension; `{UNKNOWN}` where GitHub sent none.",
            }
        keys = [*parent_keys, *self.dimensions]
        return {
            "type": "object",
            "properties": properties,
            "required": keys,
            "additionalProperties": True,
        }


def _elements(value: Any) -> list[Row]:
    """The object elements of an array; an object is an array of one element."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [element for element in value if isinstance(element, dict)]
    return []


def _element_schema(prop: Schema) -> Schema:
    """The schema of one element: an array's items, or the object itself."""
    return prop["items"] if "array" in _types(prop) else prop


def _key_value(value: Any) -> str:
    """A dimension as a key column: never null or empty, always a string."""
    return UNKNOWN if value is None or value == "" else str(value)


def _carried_fields(element: Row, dimension: str | None) -> Row:
    """Scalars of an intermediate level (e.g. a model's `is_custom_model`) for its leaf rows.

    Its `total_engaged_users` would clash with the leaf's, so it becomes `<dimension>_…`.
    """
    carried: Row = {}
    for name, value in element.items():
        if name == "name" or isinstance(value, list | dict):
            continue
        carried[f"{dimension}_{name}" if name == "total_engaged_users" else name] = value
    return carried


def _carried_schema(item: Schema, dimension: str | None) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name, prop in item["properties"].items():
        if name == "name" or _is_container(prop):
            continue
        columns[f"{dimension}_{name}" if name == "total_engaged_users" else name] = prop
    return columns


def _leaf_fields(element: Row, *, named: bool) -> Row:
    """An element's fields, nested objects flattened one level, arrays left out."""
    fields: Row = {}
    for name, value in element.items():
        if named and name == "name":
            continue
        if isinstance(value, dict):
            for sub_name, sub_value in value.items():
                fields[f"{name}{NESTED_SEPARATOR}{sub_name}"] = sub_value
        elif not isinstance(value, list):
            fields[name] = value
    return fields


def _leaf_schema(item: Schema, *, named: bool) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for name, prop in item["properties"].items():
        if named and name == "name":
            continue
        if "object" in _types(prop):
            for sub_name, sub_prop in prop.get("properties", {}).items():
                columns[f"{name}{NESTED_SEPARATOR}{sub_name}"] = sub_prop
        elif "array" not in _types(prop):
            columns[name] = prop
    return columns


def _types(prop: Schema) -> list[str]:
    kind = prop.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _is_container(prop: Schema) -> bool:
    return bool({"object", "array"} & set(_types(prop)))


class BreakdownStream(CollectingStream):
    """Rows of one breakdown, made from the parent's records (see tap_copilot_metrics.handoff)."""

    breakdown: ClassVar[Breakdown]
    # Rows arrive in the parent's order: per scope, days ascending, so each scope partition's
    # bookmark is the last day delivered. As for the parents, a run starts `lookback_days`
    # before that bookmark on purpose, which the SDK's sort check would take for unsorted data.
    # The parent's bookmark decides what is read; this one only records what was delivered.
    is_sorted = True
    check_sorted = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent classes declare these as plain class attributes (the SDK's are properties).
        parent: Any = self.parent_stream_type
        parent_keys: tuple[str, ...] = tuple(parent.primary_keys)
        schema = self.breakdown.schema(parent.declared_schema, parent_keys)
        kwargs.setdefault("schema", copy.deepcopy(schema))  # its own copy, see GitHubStream
        super().__init__(*args, **kwargs)
        self.parent_keys = parent_keys
        self.primary_keys = [*parent_keys, *self.breakdown.dimensions]
        self.replication_key = parent.replication_key

    def rows_of(self, record: Row) -> Iterable[Row]:
        """The breakdown's flat rows of one parent record."""
        return self.breakdown.rows(record, self.parent_keys)


def breakdown_stream(
    name: str, parent: type[Stream], breakdown: Breakdown, doc: str
) -> type[BreakdownStream]:
    """A breakdown stream class: `name`, made from `parent`'s records."""
    return type(
        _class_name(name),
        (BreakdownStream,),
        {
            "name": name,
            "parent_stream_type": parent,
            "breakdown": breakdown,
            # A breakdown of an opt-in stream (copilot_metrics) is opt-in too: selecting it
            # would read its parent's API.
            "selected_by_default": parent.selected_by_default,
            "__doc__": doc,
        },
    )


def _class_name(stream_name: str) -> str:
    return "".join(part.title() for part in stream_name.split("_")) + "Stream"
