"""The README's stream-map recipes (SDK built-in `stream_maps`), run for real through Meltano.

meltano.yml ships them as two extractors that inherit tap-copilot-metrics:
`tap-copilot-metrics-pseudonymized` (salted md5 of every login) and
`tap-copilot-metrics-no-logins` (logins dropped). Each is run into DuckDB and the loaded rows are
compared with the simulator's truth.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import duckdb
import pytest
from copilot_devkit.simulator import Simulator

from tests.e2e.e2e_support import Meltano, Pipeline, iso_days, table_spec

pytestmark = pytest.mark.duckdb

#: The streams that carry logins (a short selection keeps these runs quick).
STREAMS = ("copilot_user_usage_daily", "copilot_user_teams_daily", "copilot_seats")


def run_variant(
    meltano: Meltano, sim: Simulator, workdir: Path, extractor: str, extra_env: dict[str, str]
) -> Pipeline:
    """One `meltano run <extractor> target-duckdb` over two days and the login streams."""
    prefix = extractor.upper().replace("-", "_")
    pipeline = Pipeline(
        meltano,
        sim,
        workdir,
        loader="target-duckdb",
        loader_env={"TARGET_DUCKDB_FILEPATH": str(workdir / "copilot_metrics.duckdb")},
        extractor=extractor,
        days=2,
        extra_env={f"{prefix}__SELECT": json.dumps([f"{s}.*" for s in STREAMS]), **extra_env},
    )
    pipeline.run()
    return pipeline


def rows(pipeline: Pipeline, table: str) -> list[dict]:
    database = pipeline.workdir / "copilot_metrics.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(f"select * from copilot.{table}")  # noqa: S608
        names = [c[0] for c in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def truth(pipeline: Pipeline, table: str) -> dict:
    days = iso_days(pipeline.start_day, pipeline.end_day)
    return table_spec(table).rows(pipeline.sim, days)


def user_key(row: dict) -> tuple[str, ...]:
    return (row["scope"], row["scope_name"], str(row["day"]), str(row["user_id"]))


@pytest.fixture(scope="module")
def salt() -> str:
    return secrets.token_hex(8)


@pytest.fixture(scope="module")
def pseudonymized(meltano: Meltano, sim: Simulator, salt: str, tmp_path_factory) -> Pipeline:
    workdir = tmp_path_factory.mktemp("pseudonymized")
    return run_variant(
        meltano,
        sim,
        workdir,
        "tap-copilot-metrics-pseudonymized",
        {"COPILOT_LOGIN_SALT": salt},
    )


@pytest.fixture(scope="module")
def no_logins(meltano: Meltano, sim: Simulator, tmp_path_factory) -> Pipeline:
    workdir = tmp_path_factory.mktemp("no-logins")
    return run_variant(meltano, sim, workdir, "tap-copilot-metrics-no-logins", {})


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - what the recipe computes


@pytest.mark.parametrize("table", ["copilot_user_usage_daily", "copilot_user_teams_daily"])
def test_pseudonymized_logins_are_salted_md5(
    pseudonymized: Pipeline, salt: str, table: str
) -> None:
    expected = truth(pseudonymized, table)
    loaded = rows(pseudonymized, table)
    assert loaded
    assert len(loaded) == len(expected)
    logins = {line["user_login"] for line in expected.values()}
    for row in loaded:
        key = (*user_key(row), *([str(row["team_id"])] if "team_id" in row else []))
        assert row["user_login"] == md5(salt + expected[key]["user_login"])
        assert row["user_login"] not in logins


def test_pseudonymized_seats_have_no_assignee(pseudonymized: Pipeline, salt: str) -> None:
    expected = truth(pseudonymized, "copilot_seats")
    loaded = rows(pseudonymized, "copilot_seats")
    assert "assignee" not in loaded[0]
    hashed = {(scope, name, md5(salt + login)) for scope, name, login in expected}
    assert {(r["scope"], r["scope_name"], r["seat_key"]) for r in loaded} == hashed


@pytest.mark.parametrize("table", ["copilot_user_usage_daily", "copilot_user_teams_daily"])
def test_no_logins_drops_the_column_and_keeps_user_ids(no_logins: Pipeline, table: str) -> None:
    expected = truth(no_logins, table)
    loaded = rows(no_logins, table)
    assert loaded
    assert "user_login" not in loaded[0]
    assert len(loaded) == len(expected)
    assert {user_key(row) for row in loaded} == {key[:4] for key in expected}


def test_no_logins_keys_seats_by_user_id(no_logins: Pipeline) -> None:
    expected = truth(no_logins, "copilot_seats")
    loaded = rows(no_logins, "copilot_seats")
    assert "assignee" not in loaded[0]
    by_id = {
        (scope, name, str(seat["assignee"]["id"]) if seat.get("assignee") else key)
        for (scope, name, key), seat in expected.items()
    }
    assert {(r["scope"], r["scope_name"], r["seat_key"]) for r in loaded} == by_id
