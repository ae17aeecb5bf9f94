"""Reading `copilot-metrics-report`'s HTML back, and checking its numbers against the marts.

The page says where each table comes from (`data-mart`, `data-where`, one `data-field` per
column); the checks here query those columns from the database themselves and compare them with
what the page shows (table cells, parsed back to numbers) and with what it draws (each chart's
inline data), so a wrong number anywhere fails whatever produced it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

#: Runs one SQL query with `?`-style parameters (DuckDB) and returns the rows as tuples.
Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


@dataclass
class Table:
    chart: str
    mart: str
    where: dict[str, str]
    fields: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Section:
    scope: str
    hidden: bool
    date_range: str = ""
    last_day: str = ""
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)  # ids of chart containers
    no_data: list[str] = field(default_factory=list)  # ids of "no rows" placeholders


@dataclass
class Report:
    header: dict[str, str] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    options: list[str] = field(default_factory=list)
    specs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)  # src/href attributes found
    scripts: int = 0


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.report = Report()
        self._section: Section | None = None
        self._table: Table | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._capture: str | None = None  # what the current text belongs to
        self._text: list[str] = []
        self._dt: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name in ("src", "href", "srcset", "action", "poster"):
            if name in a:
                self.report.external.append(f"<{tag} {name}={a[name]}>")
        if tag == "link":
            self.report.external.append(f"<link {a}>")
        if tag == "script":
            self.report.scripts += 1
            if a.get("id") == "report-specs":
                self._capture, self._text = "specs", []
        if tag == "option":
            self.report.options.append(a.get("value", ""))
        if tag == "section" and "data-scope" in a:
            self._section = Section(a["data-scope"], hidden="hidden" in a)
            self.report.sections[self._section.scope] = self._section
        if tag == "dt":
            self._capture, self._text = "dt", []
        if tag == "dd" and self._dt:
            self._capture, self._text = "dd", []
        if tag == "span" and self._section and a.get("class") in ("date-range", "last-day"):
            self._capture, self._text = a["class"], []
        if self._section is not None:
            if tag == "div" and a.get("class") == "chart":
                self._section.charts.append(a["id"])
            if tag == "p" and a.get("class") == "no-data":
                self._section.no_data.append(a["id"])
            if tag == "table":
                self._table = Table(a["data-chart"], a["data-mart"], json.loads(a["data-where"]))
                self._section.tables.append(self._table)
        if self._table is not None:
            if tag == "th":
                self._table.fields.append(a["data-field"])
            if tag == "tr":
                self._row = []
            if tag == "td":
                self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._capture:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        text = "".join(self._text).strip()
        if tag == "script" and self._capture == "specs":
            self.report.specs = json.loads(text)
            self._capture = None
        elif tag == "dt" and self._capture == "dt":
            self._dt, self._capture = text, None
        elif tag == "dd" and self._capture == "dd" and self._dt:
            self.report.header[self._dt] = text
            self._dt = self._capture = None
        elif tag == "span" and self._capture in ("date-range", "last-day") and self._section:
            setattr(self._section, self._capture.replace("-", "_"), text)
            self._capture = None
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        if tag == "tr" and self._row and self._table is not None:
            self._table.rows.append(self._row)
            self._row = None
        if tag == "table":
            self._table = None
        if tag == "section":
            self._section = None


def parse_report(page: str) -> Report:
    parser = _Parser()
    parser.feed(page)
    parser.close()
    return parser.report


# --- comparing with the marts -----------------------------------------------------------------


def split_scope(key: str) -> tuple[str, str]:
    kind, _, name = key.partition(":")
    return kind, name


def mart_rows(
    query: Query, mart: str, scope: str, fields: Sequence[str], where: dict[str, str]
) -> list[tuple[Any, ...]]:
    """The mart's rows for one scope (and the table's filter), straight from the database."""
    kind, name = split_scope(scope)
    conditions = ["scope = ?", "scope_name = ?", *(f"{column} = ?" for column in where)]
    sql = (
        f"select {', '.join(fields)} from copilot_marts.{mart} "  # noqa: S608
        f"where {' and '.join(conditions)}"
    )
    return query(sql, [kind, name, *where.values()])


def cell_matches(text: str, value: Any) -> bool:
    """Whether a table cell shows `value` (to the precision the page prints)."""
    if value is None:
        return text == "\N{EN DASH}"
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, dt.datetime):
        return text == value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return text in (value.isoformat(), value.strftime("%Y-%m"))
    if isinstance(value, (bool, str)):
        return text == str(value)
    if text.endswith("%"):
        return math.isclose(float(text[:-1]) / 100, value, abs_tol=0.0005 + 1e-9)
    if isinstance(value, int):
        return text == str(value)
    return math.isclose(float(text), value, abs_tol=0.005 + 1e-9)


#: Columns that, with the scope, identify a table row (the marts' keys).
KEY_FIELDS = frozenset(
    (
        "day",
        "snapshot_day",
        "month",
        "language",
        "ide",
        "model",
        "feature",
        "phase_number",
        "team_slug",
        "assignee_login",
        "sku",
    )
)


def _key_text(field_name: str, value: Any) -> str:
    """How the page prints a key value (days ISO, months YYYY-MM, NULL as a dash)."""
    if value is None:
        return "\N{EN DASH}"
    if field_name == "month":
        return value.strftime("%Y-%m")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def check_tables(report: Report, query: Query) -> int:
    """Every table of every scope equals its mart's rows; returns the cells compared."""
    compared = 0
    for scope, section in report.sections.items():
        for table in section.tables:
            keys = [i for i, f in enumerate(table.fields) if f in KEY_FIELDS]
            shown = {tuple(row[i] for i in keys): row for row in table.rows}
            assert len(shown) == len(table.rows), (scope, table.chart, "duplicate rows")
            expected = mart_rows(query, table.mart, scope, table.fields, table.where)
            assert len(table.rows) == len(expected), (scope, table.chart)
            for row in expected:
                cells = shown[tuple(_key_text(table.fields[i], row[i]) for i in keys)]
                for column, text, value in zip(table.fields, cells, row, strict=True):
                    assert cell_matches(text, value), (scope, table.chart, column, text, value)
                    compared += 1
    return compared


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def check_chart_data(report: Report, query: Query) -> int:
    """Each chart's inline data equals its mart's rows (exactly); returns the values compared."""
    compared = 0
    for scope, charts in report.specs.items():
        tables = {t.chart: t for t in report.sections[scope].tables}
        for chart in charts:
            key = chart["chart"]
            table = tables[key]
            spec = chart["spec"]
            (values,) = (
                spec["datasets"].values() if "datasets" in spec else [spec["data"]["values"]]
            )
            fields = list(values[0])
            expected = [
                {f: json_value(v) for f, v in zip(fields, row, strict=True)}
                for row in mart_rows(query, table.mart, scope, fields, table.where)
            ]
            order = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
            assert sorted(values, key=order) == sorted(expected, key=order), (scope, key)
            compared += len(values) * len(fields)
    return compared
