"""Simulated GitHub -> real Meltano -> target-duckdb, run twice as a user would.

One module-scoped pipeline (two `meltano run`s) feeds every test here, to keep the suite short:
the first run loads every selected table exactly as the simulator's truth says, the second run
(Meltano's saved state) asks only for the lookback window and upserts without duplicates, and
the demo's summary queries give the numbers computed independently from the truth.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from copilot_devkit import demo
from copilot_devkit.simulator import RequestLog, Simulator

from tests.e2e.e2e_support import (
    AGGREGATE,
    PROJECT,
    Key,
    Meltano,
    Pipeline,
    expected_keys,
    iso_days,
    report_requests_days,
    report_scopes,
    selected_tables,
    table_spec,
    truth_acceptance,
    truth_daily_users,
    truth_features,
    truth_idle_seats,
    truth_team_usage,
)

pytestmark = [pytest.mark.duckdb]

LOOKBACK_DAYS = 2
STATE_ID = "dev:tap-copilot-metrics-to-target-duckdb"


@dataclass
class TwoRuns:
    """What the two runs left behind."""

    pipeline: Pipeline
    database: Path
    keys_after_first: dict[str, list[Key]]
    requests_first: list[RequestLog]
    requests_second: list[RequestLog]

    @property
    def sim(self) -> Simulator:
        return self.pipeline.sim

    @property
    def days(self) -> list[str]:
        return iso_days(self.pipeline.start_day, self.pipeline.end_day)

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.database), read_only=True)


def table_keys(database: Path, tables: list[str]) -> dict[str, list[Key]]:
    """Key tuples of every row of each table (as strings, like the truth's keys)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {table: _keys(con, table) for table in tables}


def _keys(con: duckdb.DuckDBPyConnection, table: str) -> list[Key]:
    columns = ", ".join(f'"{c}"' for c in table_spec(table).key_columns)
    rows = con.execute(f"select {columns} from copilot.{table}").fetchall()  # noqa: S608
    return [tuple(str(v) for v in row) for row in rows]


@pytest.fixture(scope="module")
def two_runs(meltano: Meltano, sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    workdir = tmp_path_factory.mktemp("duckdb")
    database = workdir / "copilot_metrics.duckdb"  # not copilot.duckdb: catalog = schema
    pipeline = Pipeline(
        meltano,
        sim,
        workdir,
        loader="target-duckdb",
        loader_env={"TARGET_DUCKDB_FILEPATH": str(database)},
        extra_env={"TAP_COPILOT_METRICS_LOOKBACK_DAYS": str(LOOKBACK_DAYS)},
    )
    pipeline.run()
    requests_first = sim.requests
    keys_after_first = table_keys(database, selected_tables())
    sim.clear_requests()
    pipeline.run()
    return TwoRuns(pipeline, database, keys_after_first, requests_first, sim.requests)


@pytest.mark.parametrize("table", selected_tables())
def test_first_run_loads_exactly_the_truth(two_runs: TwoRuns, table: str) -> None:
    loaded = two_runs.keys_after_first[table]
    expected = expected_keys(two_runs.sim, table, two_runs.days)
    assert expected, f"the simulator has no {table} rows: the test would prove nothing"
    assert len(loaded) == len(expected)
    assert set(loaded) == expected


@pytest.mark.parametrize("table", selected_tables())
def test_second_run_upserts_without_duplicates(two_runs: TwoRuns, table: str) -> None:
    loaded = table_keys(two_runs.database, [table])[table]
    duplicates = {key for key in loaded if loaded.count(key) > 1}
    assert not duplicates
    assert set(loaded) == expected_keys(two_runs.sim, table, two_runs.days)


def expected_report_calls(sim: Simulator, days: list[str]) -> set[tuple[str, str]]:
    """(path, day) of every report call for every scope and day (all report streams selected)."""
    calls = set()
    for kind, name in report_scopes(sim):
        prefix = f"/orgs/{name}" if kind == "organization" else f"/enterprises/{name}"
        for report in (AGGREGATE[kind], "users-1-day", "user-teams-1-day", "repos-1-day"):
            calls |= {(f"{prefix}/copilot/metrics/reports/{report}", day) for day in days}
    return calls


def report_calls(requests: list[RequestLog]) -> set[tuple[str, str]]:
    return {
        (r.path, r.query["day"])
        for r in requests
        if "/copilot/metrics/reports/" in r.path and "day" in r.query
    }


def test_first_run_reads_every_day_of_the_window(two_runs: TwoRuns) -> None:
    assert report_calls(two_runs.requests_first) == expected_report_calls(
        two_runs.sim, two_runs.days
    )


def test_second_run_reads_only_the_lookback_window(two_runs: TwoRuns) -> None:
    end = two_runs.pipeline.end_day
    window = iso_days(end - dt.timedelta(days=LOOKBACK_DAYS), end)
    assert report_requests_days(two_runs.sim) == set(window)
    assert report_calls(two_runs.requests_second) == expected_report_calls(two_runs.sim, window)


def test_meltano_keeps_the_bookmarks(two_runs: TwoRuns) -> None:
    pipeline = two_runs.pipeline
    env = pipeline.meltano.env(pipeline.workdir / "meltano.db", {})
    got = pipeline.meltano.run(["state", "get", STATE_ID], env=env, log=pipeline.workdir / "s.log")
    state = json.loads(got.stdout[got.stdout.index("{") :])
    bookmarks = state["singer_state"]["bookmarks"]
    for stream in ("copilot_usage_daily", "copilot_user_usage_daily", "copilot_user_teams_daily"):
        days = {
            p["context"]["scope_name"]: p["replication_key_value"]
            for p in bookmarks[stream]["partitions"]
        }
        assert days == dict.fromkeys(
            [name for _, name in report_scopes(two_runs.sim)], pipeline.end_day.isoformat()
        )


# --- the demo's summary queries, checked against the truth --------------------------------


def test_daily_active_and_engaged_users(two_runs: TwoRuns) -> None:
    with two_runs.connect() as con:
        rows = con.execute(demo.DAILY_USERS_SQL).fetchall()
    loaded = {(scope, day.isoformat()): (active, engaged) for scope, day, active, engaged in rows}
    assert loaded == truth_daily_users(two_runs.sim, two_runs.days)


@pytest.mark.parametrize(
    ("sql", "array", "dimension"),
    [
        (demo.ACCEPTANCE_BY_LANGUAGE_SQL, "totals_by_language_feature", "language"),
        (demo.ACCEPTANCE_BY_EDITOR_SQL, "totals_by_ide", "ide"),
    ],
    ids=["language", "editor"],
)
def test_acceptance_rates(two_runs: TwoRuns, sql: str, array: str, dimension: str) -> None:
    with two_runs.connect() as con:
        rows = con.execute(sql).fetchall()
    truth = truth_acceptance(two_runs.sim, two_runs.days, array, dimension)
    assert {(scope, value): (int(s), int(a)) for scope, value, s, a, _ in rows} == truth
    for scope, value, suggestions, acceptances, pct in rows:
        assert pct == round(100.0 * acceptances / suggestions, 1), (scope, value)
    suggestions_in_order = [int(row[2]) for row in rows if row[0] == rows[0][0]]
    assert suggestions_in_order == sorted(suggestions_in_order, reverse=True)


def test_top_features(two_runs: TwoRuns) -> None:
    with two_runs.connect() as con:
        rows = con.execute(demo.TOP_FEATURES_SQL).fetchall()
    loaded = {
        (scope, feature): (users, int(interactions))
        for scope, feature, users, interactions, *_ in rows
    }
    assert loaded == truth_features(two_runs.sim, two_runs.days)


def test_active_users_per_team(two_runs: TwoRuns) -> None:
    with two_runs.connect() as con:
        rows = con.execute(demo.TEAM_USAGE_SQL).fetchall()
    loaded = {(scope, team): (users, int(accepted)) for scope, team, users, accepted in rows}
    truth = truth_team_usage(two_runs.sim, two_runs.days)
    assert truth, "the simulator serves no team memberships: the test would prove nothing"
    assert loaded == truth


def test_idle_seats(two_runs: TwoRuns) -> None:
    with two_runs.connect() as con:
        rows = con.execute(demo.IDLE_SEATS_SQL).fetchall()
        (today,) = con.execute("select current_date").fetchall()[0]
    loaded = {scope: (seats, idle, pending) for scope, seats, idle, pending in rows}
    truth = truth_idle_seats(two_runs.sim, today)
    assert any(idle for _, idle, _ in truth.values()), "no idle seat: the test would prove little"
    assert loaded == truth


def normalized(sql: str) -> str:
    return " ".join(sql.split())


def test_docs_show_the_tested_queries() -> None:
    """docs/queries.md's example queries are these, verbatim, so what users copy is what CI ran."""
    doc = normalized((PROJECT.root / "docs" / "queries.md").read_text())
    missing = [title for title, sql in demo.EXAMPLE_QUERIES.items() if normalized(sql) not in doc]
    assert not missing, f"docs/queries.md lacks the tested SQL of: {missing}"
