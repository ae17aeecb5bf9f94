"""Reading the KPI marts (schema ``copilot_marts``) from a DuckDB file or a PostgreSQL URL."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

SCHEMA = "copilot_marts"

#: The columns read from each mart (the contract's; marts may have more) and their row order.
MART_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "kpi_daily": (
        (
            "day",
            "daily_active_users",
            "weekly_active_users",
            "monthly_active_users",
            "users_with_activity",
            "code_generations",
            "code_acceptances",
            "code_acceptance_rate",
        ),
        "day",
    ),
    "kpi_language_daily": (
        ("day", "language", "code_generations", "code_acceptances", "code_acceptance_rate"),
        "day, language",
    ),
    "kpi_ide_daily": (
        ("day", "ide", "code_generations", "code_acceptances", "code_acceptance_rate"),
        "day, ide",
    ),
    "kpi_model_daily": (
        ("day", "model", "code_generations", "code_acceptances", "code_acceptance_rate"),
        "day, model",
    ),
    "kpi_feature_adoption_daily": (
        ("day", "feature", "users", "active_users", "adoption_rate"),
        "day, feature",
    ),
    "kpi_adoption_phase_daily": (
        ("day", "phase_number", "phase", "engaged_users", "users_in_phase_28d"),
        "day, phase_number",
    ),
    "kpi_seat_utilization_daily": (
        (
            "snapshot_day",
            "seats",
            "active_7d",
            "active_28d",
            "inactive_28d",
            "never_active",
            "utilization_28d",
        ),
        "snapshot_day",
    ),
    "kpi_inactive_seats": (
        ("snapshot_day", "assignee_login", "last_activity_at", "days_inactive"),
        "days_inactive desc nulls first, assignee_login",
    ),
    "kpi_team_daily": (
        (
            "day",
            "team_slug",
            "members_active",
            "code_generations",
            "code_acceptances",
            "code_acceptance_rate",
        ),
        "day, team_slug",
    ),
    "kpi_pull_requests_daily": (
        (
            "day",
            "prs_created_by_copilot",
            "prs_merged_created_by_copilot",
            "copilot_pr_merge_rate",
            "prs_reviewed_by_copilot",
            "suggestions",
            "applied_suggestions",
            "applied_suggestion_rate",
            "median_minutes_to_merge_copilot_authored",
        ),
        "day",
    ),
    "kpi_cost_daily": (
        ("day", "usage_kind", "model", "sku", "net_quantity", "net_amount"),
        "day, usage_kind, model, sku",
    ),
    "kpi_cost_per_active_user_monthly": (
        (
            "month",
            "usage_net_amount",
            "seats",
            "seat_cost",
            "total_cost",
            "active_users",
            "cost_per_active_user",
        ),
        "month",
    ),
}

#: Columns read when a mart has them (beyond the contract).
MART_OPTIONAL: dict[str, tuple[str, ...]] = {"kpi_daily": ("engaged_users",)}

Row = dict[str, Any]


class ReportError(Exception):
    """The marts cannot be read (missing file, schema or mart); the message says what to do."""


@dataclass(frozen=True, order=True)
class Scope:
    """An organization or enterprise, as the tap writes it (`scope`, `scope_name`)."""

    kind: str
    name: str

    @property
    def key(self) -> str:
        """A stable id for the page (`organization:octo-org`)."""
        return f"{self.kind}:{self.name}"


@dataclass
class ScopeData:
    """Every mart's rows for one scope, columns as in :data:`MART_COLUMNS`."""

    scope: Scope
    marts: dict[str, list[Row]] = field(default_factory=dict)

    def rows(self, mart: str) -> list[Row]:
        """The mart's rows for this scope (empty when it has none)."""
        return self.marts.get(mart, [])

    @property
    def days(self) -> list[dt.date]:
        """Days of `kpi_daily`, in order."""
        return [row["day"] for row in self.rows("kpi_daily")]


@dataclass
class ReportData:
    """The marts of every scope, scopes sorted (enterprises first, then organizations)."""

    source: str
    scopes: list[ScopeData]


def is_postgres_url(source: str) -> bool:
    """Whether `source` is a PostgreSQL URL rather than a DuckDB file path."""
    return source.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def load_marts(source: str | Path) -> ReportData:
    """Read every mart of :data:`MART_COLUMNS` from a DuckDB file or a PostgreSQL URL."""
    text = str(source)
    if is_postgres_url(text):
        tables = _read_postgres(text.replace("postgresql+psycopg://", "postgresql://", 1))
        shown = text.split("@")[-1]  # never print the password
    else:
        tables = _read_duckdb(Path(text))
        shown = text
    return ReportData(source=shown, scopes=group_by_scope(tables))


def mart_query(mart: str, present: Iterable[str] = ()) -> str:
    """The SELECT of one mart: scope columns, the contract's columns (and the optional ones in
    `present`), a stable order."""
    columns, order = MART_COLUMNS[mart]
    optional = [c for c in MART_OPTIONAL.get(mart, ()) if c in set(present)]
    select = ", ".join(("scope", "scope_name", *columns, *optional))
    return f"select {select} from {SCHEMA}.{mart} order by scope, scope_name, {order}"  # noqa: S608


def _read_duckdb(path: Path) -> dict[str, list[Row]]:
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - the extra brings it
        msg = "duckdb is missing: pip install 'tap-copilot-metrics[report]'"
        raise ReportError(msg) from exc
    if not path.is_file():
        msg = f"{path}: no such DuckDB file"
        raise ReportError(msg)
    with duckdb.connect(str(path), read_only=True) as con:
        catalog = con.execute(COLUMNS_SQL.replace("%s", "?"), [SCHEMA]).fetchall()
        present = _check_present(catalog, str(path))
        out = {}
        for mart in MART_COLUMNS:
            cursor = con.execute(mart_query(mart, present[mart]))
            names = [d[0] for d in cursor.description]
            out[mart] = [_row(names, values) for values in cursor.fetchall()]
        return out


def _read_postgres(url: str) -> dict[str, list[Row]]:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - the extra brings it
        msg = "psycopg is missing: pip install 'tap-copilot-metrics[report]'"
        raise ReportError(msg) from exc
    try:
        con = psycopg.connect(url)
    except psycopg.Error as exc:
        msg = f"cannot connect to PostgreSQL: {exc}"
        raise ReportError(msg) from exc
    with con, con.cursor() as cursor:
        cursor.execute(COLUMNS_SQL, [SCHEMA])
        present = _check_present(cursor.fetchall(), "the PostgreSQL database")
        out = {}
        for mart in MART_COLUMNS:
            cursor.execute(mart_query(mart, present[mart]).encode())
            names = [d.name for d in cursor.description or []]
            out[mart] = [_row(names, values) for values in cursor.fetchall()]
        return out


COLUMNS_SQL = (
    "select table_name, column_name from information_schema.columns where table_schema = %s"
)


def _check_present(catalog: Iterable[tuple[str, str]], where: str) -> dict[str, set[str]]:
    """The columns of each mart; fails naming the marts that are missing."""
    present: dict[str, set[str]] = defaultdict(set)
    for table, column in catalog:
        present[table].add(column)
    missing = sorted(set(MART_COLUMNS) - set(present))
    if missing:
        msg = (
            f"{where} lacks {len(missing)} mart(s) of schema {SCHEMA}: {', '.join(missing)}. "
            "Build them first (dbt build in transform/, see docs/report.md)."
        )
        raise ReportError(msg)
    return present


def _row(names: Sequence[str], values: Iterable[Any]) -> Row:
    return {name: _plain(value) for name, value in zip(names, values, strict=True)}


def _plain(value: Any) -> Any:
    """DECIMAL as float, TIMESTAMP as a UTC datetime; dates, ints, text and NULL unchanged."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def group_by_scope(tables: dict[str, list[Row]]) -> list[ScopeData]:
    """Split each mart's rows by scope; every scope found in any mart gets a section."""
    scopes: dict[Scope, ScopeData] = {}
    for mart, rows in tables.items():
        for row in rows:
            scope = Scope(row.pop("scope"), row.pop("scope_name"))
            data = scopes.setdefault(scope, ScopeData(scope))
            data.marts.setdefault(mart, []).append(row)
    return [scopes[s] for s in sorted(scopes, key=lambda s: (s.kind != "enterprise", s.name))]
