"""Simulated GitHub -> real Meltano -> MeltanoLabs target-postgres -> a real PostgreSQL server.

Two runs (the second incremental, from Meltano's state): every selected table exists, holds
exactly the truth's keys once each (upserted, not appended), nested objects and arrays are JSONB
with GitHub's values, and `date`/`day` columns are DATE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from copilot_devkit.simulator import Simulator
from psycopg import sql

from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.e2e.e2e_support import (
    Key,
    Meltano,
    Pipeline,
    expected_keys,
    iso_days,
    selected_tables,
    table_spec,
)
from tests.e2e.pg_cluster import PgServer

pytestmark = pytest.mark.postgres

SCHEMA = "copilot"
DATABASE = "copilot_e2e"


@dataclass
class Loaded:
    """The database after two runs, and the simulator it was loaded from."""

    server: PgServer
    sim: Simulator
    days: list[str]
    keys_after_first: dict[str, list[Key]]

    def connect(self) -> psycopg.Connection:
        return self.server.connect(DATABASE)


def select(conn: psycopg.Connection, table: str, columns: tuple[str, ...]) -> list[tuple]:
    """`select <columns> from copilot.<table>`, identifiers quoted by psycopg."""
    query = sql.SQL("select {} from {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(SCHEMA, table)
    )
    return conn.execute(query).fetchall()


def table_keys(conn: psycopg.Connection, table: str) -> list[Key]:
    rows = select(conn, table, table_spec(table).key_columns)
    return [tuple(_text(v) for v in row) for row in rows]


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@pytest.fixture(scope="module")
def loaded(
    meltano: Meltano,
    postgres_server: PgServer,
    sim: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Loaded:
    postgres_server.create_database(DATABASE)
    workdir = tmp_path_factory.mktemp("postgres")
    loader_env = {
        "TARGET_POSTGRES_HOST": postgres_server.host,
        "TARGET_POSTGRES_PORT": str(postgres_server.port),
        "TARGET_POSTGRES_USER": postgres_server.user,
        "TARGET_POSTGRES_PASSWORD": postgres_server.password,
        "TARGET_POSTGRES_DATABASE": DATABASE,
    }
    pipeline = Pipeline(meltano, sim, workdir, loader="target-postgres", loader_env=loader_env)
    pipeline.run()
    with postgres_server.connect(DATABASE) as conn:
        first = {table: table_keys(conn, table) for table in selected_tables()}
    pipeline.run()
    return Loaded(postgres_server, sim, iso_days(pipeline.start_day, pipeline.end_day), first)


@pytest.mark.parametrize("table", selected_tables())
def test_each_run_leaves_exactly_the_truth(loaded: Loaded, table: str) -> None:
    expected = expected_keys(loaded.sim, table, loaded.days)
    assert expected, f"the simulator has no {table} rows: the test would prove nothing"
    with loaded.connect() as conn:
        after_second = table_keys(conn, table)
    for keys in (loaded.keys_after_first[table], after_second):
        assert len(keys) == len(expected)
        assert set(keys) == expected


def declared_columns() -> dict[str, dict[str, dict[str, Any]]]:
    """Each stream's JSON schema properties, as the tap declares them to the target."""
    catalog = TapCopilotMetrics(config={}, validate_config=False, setup_mapper=False).catalog_dict
    return {s["tap_stream_id"]: s["schema"]["properties"] for s in catalog["streams"]}


def _types(prop: dict[str, Any]) -> set[str]:
    declared = prop.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    for option in prop.get("anyOf", []):
        types |= _types(option)
    return types


@pytest.mark.parametrize("table", selected_tables())
def test_nested_values_are_jsonb_and_days_are_dates(loaded: Loaded, table: str) -> None:
    """Objects are JSONB, arrays JSONB[] (target-postgres 0.8.1), `date` columns DATE."""
    with loaded.connect() as conn:
        rows = conn.execute(
            "select column_name, data_type, udt_name from information_schema.columns "
            "where table_schema = %s and table_name = %s",
            (SCHEMA, table),
        ).fetchall()
    actual = {name: udt for name, _, udt in rows}
    properties = declared_columns()[table]
    objects = {name for name, p in properties.items() if "object" in _types(p)}
    arrays = {name for name, p in properties.items() if "array" in _types(p)}
    dates = {name for name, p in properties.items() if p.get("format") == "date"}
    assert {name: actual[name] for name in objects} == dict.fromkeys(objects, "jsonb")
    assert {name: actual[name] for name in arrays} == dict.fromkeys(arrays, "_jsonb")
    assert {name: actual[name] for name in dates} == dict.fromkeys(dates, "date")
    if "day" in properties:
        assert "day" in dates


def test_json_columns_hold_githubs_objects(loaded: Loaded) -> None:
    usage = table_spec("copilot_usage_daily").rows(loaded.sim, loaded.days)
    seats = table_spec("copilot_seats").rows(loaded.sim, loaded.days)
    with loaded.connect() as conn:
        pull_requests = select(
            conn,
            "copilot_usage_daily",
            ("scope", "scope_name", "day", "pull_requests", "totals_by_ide"),
        )
        assignees = select(conn, "copilot_seats", ("scope", "scope_name", "seat_key", "assignee"))
    assert pull_requests
    for scope, name, day, prs, ides in pull_requests:
        line = usage[(scope, name, day.isoformat())]
        assert (prs, ides) == (line["pull_requests"], line["totals_by_ide"])
    for scope, name, key, assignee in assignees:
        assert assignee == seats[(scope, name, key)]["assignee"]
