"""The KPI project (transform/) on the cloud warehouses' dbt adapters, installed by Meltano from
meltano.yml: dbt-snowflake compiles every model to Snowflake SQL (no connection: the adapter
cache is not populated), dbt-bigquery parses the project (its compile needs credentials).

Nothing here reaches a warehouse: the marts' values are proven on DuckDB and PostgreSQL
(test_dbt_duckdb.py, test_dbt_postgres.py); this proves that the Jinja, the macros and the
profiles render for the other two adapters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.dbt_support import TRANSFORM_DIR, dbt_env, install_transformers
from tests.e2e.e2e_support import Meltano

pytestmark = pytest.mark.dbt

ADAPTERS = ("dbt-snowflake", "dbt-bigquery")


@pytest.fixture(scope="module")
def workdir(meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dbt-cloud")
    install_transformers(meltano, path, *ADAPTERS)
    return path


def invoke(meltano: Meltano, workdir: Path, transformer: str, *args: str) -> Path:
    """`meltano invoke <transformer> <args>`; returns dbt's target directory."""
    target = workdir / transformer
    env = meltano.env(workdir / "meltano.db", dbt_env(target))
    meltano.run(["invoke", transformer, *args], env=env, log=workdir / f"{transformer}.log")
    return target / "dbt-target"


def models() -> set[str]:
    return {p.stem for p in (TRANSFORM_DIR / "models").rglob("*.sql")}


def test_snowflake_compiles_every_model(meltano: Meltano, workdir: Path) -> None:
    target = invoke(meltano, workdir, "dbt-snowflake", "compile", "--no-populate-cache")
    compiled = {
        p.stem: p.read_text()
        for p in (target / "compiled" / "copilot_metrics" / "models").rglob("*.sql")
    }
    assert models() <= set(compiled)  # and the data tests
    # Snowflake's own SQL: its float type, camelCase billing names unquoted (the loader stores
    # them case-insensitively), the marts reading the staging schema.
    assert "cast(grossQuantity as float)" in compiled["stg_ai_credit_usage"]
    assert ".copilot_staging.stg_usage_daily" in compiled["kpi_daily"]


def test_bigquery_parses_the_project(meltano: Meltano, workdir: Path) -> None:
    target = invoke(meltano, workdir, "dbt-bigquery", "parse")
    assert (target / "manifest.json").is_file()
