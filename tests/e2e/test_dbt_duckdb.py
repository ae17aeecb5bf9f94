"""`meltano run tap-copilot-metrics target-duckdb dbt-duckdb:build`: the KPI marts (transform/,
issue 13) built by real dbt in the DuckDB file the real loader wrote, equal to the values
computed in Python from the simulator's truth (tests/e2e/kpi_truth.py).

One module-scoped pipeline (one `meltano run`, the dbt tests included in `build`) feeds every
test here.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from copilot_devkit import demo
from copilot_devkit.simulator import Simulator

from tests.e2e import kpi_truth
from tests.e2e.dbt_support import (
    CHECKED_MARTS,
    CONTRACT,
    MARTS_SCHEMA,
    MARTS_YML,
    TRANSFORM_DIR,
    differences,
    install_transformers,
    leading_columns_ok,
    mart_rows,
    run_with_blocks,
)
from tests.e2e.e2e_support import (
    Meltano,
    Pipeline,
    iso_days,
    truth_acceptance,
    truth_daily_users,
)
from tests.truth import expected_seat_key, report_scopes

pytestmark = [pytest.mark.duckdb, pytest.mark.dbt]

TRANSFORMER = "dbt-duckdb"


@dataclass
class Built:
    pipeline: Pipeline
    database: Path
    seconds: float

    @property
    def sim(self) -> Simulator:
        return self.pipeline.sim

    @property
    def days(self) -> list[str]:
        return iso_days(self.pipeline.start_day, self.pipeline.end_day)

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            cursor = con.execute(sql)
            return [c[0] for c in cursor.description], cursor.fetchall()


@pytest.fixture(scope="module")
def built(meltano: Meltano, sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Built:
    workdir = tmp_path_factory.mktemp("dbt-duckdb")
    install_transformers(meltano, workdir, TRANSFORMER)
    database = workdir / "copilot_metrics.duckdb"
    pipeline = Pipeline(
        meltano,
        sim,
        workdir,
        loader="target-duckdb",
        # Only the loader's filepath: dbt-duckdb reads the same variable (one source of truth).
        loader_env={"TARGET_DUCKDB_FILEPATH": str(database)},
    )
    started = time.monotonic()
    run_with_blocks(pipeline, f"{TRANSFORMER}:build")
    return Built(pipeline, database, time.monotonic() - started)


def test_the_marts_have_the_contract_columns(built: Built) -> None:
    _, rows = built.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'copilot_marts' order by table_name, ordinal_position"
    )
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    assert set(CONTRACT) <= set(columns)
    wrong = {
        mart: columns[mart] for mart in CONTRACT if not leading_columns_ok(columns[mart], mart)
    }
    assert not wrong


def test_days_are_dates_and_rates_doubles(built: Built) -> None:
    _, rows = built.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'copilot_marts' and (column_name in ('day', 'snapshot_day', "
        "'month', 'first_active_day', 'last_active_day') or column_name like '%rate' "
        "or column_name like 'utilization%')"
    )
    assert rows
    for table, column, data_type in rows:
        wanted = "DOUBLE" if "rate" in column or "utilization" in column else "DATE"
        assert data_type == wanted, (table, column)


@pytest.mark.parametrize("mart", CHECKED_MARTS)
def test_mart_equals_the_truth(built: Built, mart: str) -> None:
    key_columns, truth_of = kpi_truth.MARTS[mart]
    expected = truth_of(built.sim, built.days)
    assert expected, f"the truth has no {mart} rows: the test would prove nothing"
    columns, rows = built.query(f"select * from {MARTS_SCHEMA}.{mart}")  # noqa: S608
    loaded = mart_rows(columns, rows, key_columns)
    assert differences(expected, loaded) == []


def seat_prices() -> dict[str, float]:
    variables = yaml.safe_load((TRANSFORM_DIR / "dbt_project.yml").read_text())["vars"]
    return {
        "business": float(variables["copilot_seat_price_business"]),
        "enterprise": float(variables["copilot_seat_price_enterprise"]),
    }


def test_cost_per_active_user(built: Built) -> None:
    expected = kpi_truth.kpi_cost_per_active_user_monthly(built.sim, built.days, seat_prices())
    columns, rows = built.query("select * from copilot_marts.kpi_cost_per_active_user_monthly")
    loaded = mart_rows(columns, rows, ("scope", "scope_name", "month"))
    assert any(row["cost_per_active_user"] for row in expected.values())
    assert differences(expected, loaded) == []


def test_inactive_seats_are_the_seats_idle_for_28_days(built: Built) -> None:
    today = built.sim.settings.today
    cutoff = dt.datetime.combine(today - dt.timedelta(days=27), dt.time(), dt.UTC)
    expected = {}
    for kind, name in report_scopes(built.sim):
        for seat in built.sim.truth.seats(kind, name):
            last = seat.get("last_activity_at")
            when = dt.datetime.fromisoformat(last.replace("Z", "+00:00")) if last else None
            if when is None or when < cutoff:
                days = None if when is None else (today - when.date()).days
                expected[(kind, name, expected_seat_key(seat))] = (today.isoformat(), days)
    _, rows = built.query(
        "select scope, scope_name, assignee_login, snapshot_day, days_inactive "
        "from copilot_marts.kpi_inactive_seats"
    )
    assert expected, "no idle seat in the simulator: the test would prove little"
    assert {(s, n, login): (day.isoformat(), d) for s, n, login, day, d in rows} == expected


def test_dbt_build_time(built: Built) -> None:
    """Not a figure to assert tightly: a guard that the transform stays cheap in CI."""
    print(f"meltano run with {built.pipeline.days} days + dbt-duckdb:build: {built.seconds:.1f} s")
    assert built.seconds < 300


def test_every_built_column_is_documented(built: Built) -> None:
    _, rows = built.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'copilot_marts' order by table_name, ordinal_position"
    )
    built_columns: dict[str, list[str]] = {}
    for table, column in rows:
        built_columns.setdefault(table, []).append(column)
    models = yaml.safe_load(MARTS_YML.read_text())["models"]
    documented = {m["name"]: [c["name"] for c in m["columns"]] for m in models}
    assert built_columns == documented


# --- the demo's summary, read from the marts, checked against the truth -----------------------


def test_demo_daily_users_from_the_marts(built: Built) -> None:
    _, rows = built.query(demo.MART_DAILY_USERS_SQL)
    loaded = {(scope, day.isoformat()): (active, engaged) for scope, day, active, engaged in rows}
    assert loaded == truth_daily_users(built.sim, built.days)


@pytest.mark.parametrize(
    ("sql", "array", "dimension"),
    [
        (demo.MART_ACCEPTANCE_BY_LANGUAGE_SQL, "totals_by_language_feature", "language"),
        (demo.MART_ACCEPTANCE_BY_EDITOR_SQL, "totals_by_ide", "ide"),
    ],
    ids=["language", "editor"],
)
def test_demo_acceptance_rates_from_the_marts(
    built: Built, sql: str, array: str, dimension: str
) -> None:
    _, rows = built.query(sql)
    truth = truth_acceptance(built.sim, built.days, array, dimension)
    assert {(scope, value): (int(s), int(a)) for scope, value, s, a, _ in rows} == truth
    for scope, value, suggestions, acceptances, pct in rows:
        assert pct == round(100.0 * acceptances / suggestions, 1), (scope, value)


def test_docs_show_the_tested_mart_queries() -> None:
    """docs/queries.md's queries on the marts are these, verbatim: what users copy CI ran."""
    doc = " ".join((demo.find_project().root / "docs" / "queries.md").read_text().split())
    shown = {title: " ".join(sql.split()) for title, sql in demo.MART_QUERIES.items()}
    missing = [title for title, sql in shown.items() if sql not in doc]
    assert not missing, f"docs/queries.md lacks the tested SQL of: {missing}"
