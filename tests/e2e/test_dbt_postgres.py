"""`meltano run tap-copilot-metrics target-postgres dbt-postgres:build`: the same KPI marts
(transform/, issue 13) built by real dbt in a real PostgreSQL server, equal to the values
computed from the simulator's truth, like on DuckDB (test_dbt_duckdb.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tests.e2e import kpi_truth
from tests.e2e.dbt_support import (
    CHECKED_MARTS,
    CONTRACT,
    differences,
    install_transformers,
    leading_columns_ok,
    mart_rows,
    run_with_blocks,
)
from tests.e2e.e2e_support import Meltano, Pipeline, iso_days
from tests.e2e.pg_cluster import PgServer
from tests.e2e.test_dbt_duckdb import seat_prices

pytestmark = [pytest.mark.postgres, pytest.mark.dbt]

DATABASE = "copilot_dbt"
TRANSFORMER = "dbt-postgres"


@dataclass
class Built:
    server: PgServer
    sim: Simulator
    days: list[str]

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.server.connect(DATABASE) as conn:
            cursor = conn.execute(sql)
            assert cursor.description is not None
            return [c.name for c in cursor.description], cursor.fetchall()


@pytest.fixture(scope="module")
def built(
    meltano: Meltano,
    postgres_server: PgServer,
    sim: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Built:
    postgres_server.create_database(DATABASE)
    workdir = tmp_path_factory.mktemp("dbt-postgres")
    install_transformers(meltano, workdir, TRANSFORMER)
    connection = {
        "HOST": postgres_server.host,
        "PORT": str(postgres_server.port),
        "USER": postgres_server.user,
        "PASSWORD": postgres_server.password,
    }
    loader_env = {f"TARGET_POSTGRES_{k}": v for k, v in connection.items()}
    loader_env |= {f"DBT_POSTGRES_{k}": v for k, v in connection.items()}
    loader_env |= {"TARGET_POSTGRES_DATABASE": DATABASE, "DBT_POSTGRES_DBNAME": DATABASE}
    pipeline = Pipeline(meltano, sim, workdir, loader="target-postgres", loader_env=loader_env)
    run_with_blocks(pipeline, f"{TRANSFORMER}:build")
    return Built(postgres_server, sim, iso_days(pipeline.start_day, pipeline.end_day))


def test_the_marts_have_the_contract_columns(built: Built) -> None:
    _, rows = built.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'copilot_marts' order by table_name, ordinal_position"
    )
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    assert set(CONTRACT) <= set(columns)
    assert [m for m in CONTRACT if not leading_columns_ok(columns[m], m)] == []


@pytest.mark.parametrize("mart", CHECKED_MARTS)
def test_mart_equals_the_truth(built: Built, mart: str) -> None:
    key_columns, truth_of = kpi_truth.MARTS[mart]
    expected = truth_of(built.sim, built.days)
    assert expected, f"the truth has no {mart} rows: the test would prove nothing"
    columns, rows = built.query(f"select * from copilot_marts.{mart}")  # noqa: S608
    assert differences(expected, mart_rows(columns, rows, key_columns)) == []


def test_cost_per_active_user(built: Built) -> None:
    expected = kpi_truth.kpi_cost_per_active_user_monthly(built.sim, built.days, seat_prices())
    columns, rows = built.query("select * from copilot_marts.kpi_cost_per_active_user_monthly")
    loaded = mart_rows(columns, rows, ("scope", "scope_name", "month"))
    assert differences(expected, loaded) == []
