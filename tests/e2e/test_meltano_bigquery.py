"""Simulated GitHub -> real Meltano -> z3-target-bigquery -> a local BigQuery emulator.

Run as the docs say: `meltano invoke target-bigquery:begin`, `meltano run tap-copilot-metrics
target-bigquery` (`method: batch_job`, `denormalized: true`, `upsert: true` from meltano.yml),
then `meltano invoke target-bigquery:check`, which counts in BigQuery the rows the run loaded.
Two runs (the second incremental, from Meltano's state): every table holds exactly the truth's
keys once each, `day` columns are DATE, nested values are RECORDs that BigQuery SQL can read, the
queries of docs/bigquery.md give the numbers computed independently from the truth, and a load the
emulator refuses makes the pipeline fail (the target alone exits 0). The emulator and what it is
taught (tests/e2e/bigquery_support.py) stand in for BigQuery; docs/bigquery.md lists what they
cannot prove.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
from copilot_devkit import demo
from copilot_devkit.demo import DemoError
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.e2e.bigquery_support import (
    INFLATED,
    REFUSED,
    BigQueryEmulator,
    bigquery_emulator,
    install_no_wait_hook,
)
from tests.e2e.e2e_support import (
    PROJECT,
    UNKNOWN,
    Key,
    Meltano,
    Pipeline,
    expected_keys,
    iso_days,
    report_requests_days,
    table_spec,
    truth_acceptance,
    truth_daily_users,
    truth_features,
    truth_idle_seats,
    truth_team_usage,
)

__all__ = ["bigquery_emulator"]  # the session fixture, used here

pytestmark = [pytest.mark.bigquery]

DATASET = "copilot"  # meltano.yml's default; docs/bigquery.md's queries name it
LOOKBACK_DAYS = 2
LOADER = "target-bigquery"


#: The tables loaded here: every column shape the tap emits (wide report rows with REPEATED
#: and RECORD columns, flat breakdown rows with `__` names, keys of one to six columns, DATE
#: days, timestamps with offsets, decimals, cost rows, snapshots) and every table docs/bigquery.md's
#: queries read. Not all of meltano.yml's selection: each table costs the target several requests
#: and worker processes per run (and, against real BigQuery, fixed consistency sleeps).
#: DuckDB, PostgreSQL and Snowflake load every selected table.
TABLES = (
    "copilot_usage_daily",
    "copilot_usage_daily_by_ide",
    "copilot_usage_daily_by_language_feature",
    "copilot_usage_daily_pull_requests_by_comment_type",
    "copilot_user_usage_daily",
    "copilot_user_usage_daily_by_feature",
    "copilot_user_usage_daily_by_language_model",
    "copilot_user_teams_daily",
    "copilot_repository_usage_daily_pull_request_review_times",
    "copilot_seats",
    "copilot_seat_snapshots",
    "copilot_billing",
    "copilot_ai_credit_usage",
)


@dataclass
class CheckedPipeline(Pipeline):
    """docs/bigquery.md's three steps: begin, `meltano run`, check (each with its own log)."""

    def run(self) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        env = self.meltano.env(
            self.workdir / "meltano.db",
            {**demo.tap_settings_env(self.tap_config), **self.loader_env, **self.extra_env},
        )
        steps = [
            ("begin", ["invoke", f"{LOADER}:begin"]),
            ("run", ["run", self.extractor, self.loader]),
            ("check", ["invoke", f"{LOADER}:check"]),
        ]
        completed = None
        for name, args in steps:
            log = self.workdir / f"{name}-{self.runs}.log"
            completed = self.meltano.run(args, env=env, log=log)
        assert completed is not None
        return completed


@dataclass
class Loaded:
    """The dataset after two runs, and the simulator it was loaded from."""

    emulator: BigQueryEmulator
    pipeline: CheckedPipeline
    keys_after_first: dict[str, list[Key]]
    check_logs: list[str]

    @property
    def sim(self) -> Simulator:
        return self.pipeline.sim

    @property
    def days(self) -> list[str]:
        return iso_days(self.pipeline.start_day, self.pipeline.end_day)

    def query(self, sql: str) -> list[dict[str, Any]]:
        return self.emulator.query(sql)


def table_keys(emulator: BigQueryEmulator, table: str, dataset: str = DATASET) -> list[Key]:
    columns = ", ".join(f"`{c}`" for c in table_spec(table).key_columns)
    rows = emulator.query(f"select {columns} from `{dataset}.{table}`")  # noqa: S608
    return [tuple(_text(v) for v in row.values()) for row in rows]


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@pytest.fixture(scope="module")
def bigquery_meltano(meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> Meltano:
    """The session's Meltano with target-bigquery installed from meltano.yml."""
    workdir = tmp_path_factory.mktemp("bigquery-install")
    env = meltano.env(workdir / "meltano.db", {})
    meltano.run(["install", LOADER], env=env, log=workdir / "install.log")
    install_no_wait_hook(meltano)
    return meltano


@pytest.fixture(scope="module")
def loaded(
    bigquery_meltano: Meltano,
    bigquery_emulator: BigQueryEmulator,
    sim: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Loaded:
    workdir = tmp_path_factory.mktemp("bigquery")
    pipeline = CheckedPipeline(
        bigquery_meltano,
        sim,
        workdir,
        loader=LOADER,
        loader_env=bigquery_emulator.loader_env(DATASET),
        extra_env={
            "TAP_COPILOT_METRICS_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
            "TAP_COPILOT_METRICS__SELECT": json.dumps([f"{table}.*" for table in TABLES]),
        },
    )
    pipeline.run()
    first = {table: table_keys(bigquery_emulator, table) for table in TABLES}
    sim.clear_requests()
    pipeline.run()
    logs = [(workdir / f"check-{n}.log").read_text() for n in (1, 2)]
    return Loaded(bigquery_emulator, pipeline, first, logs)


# --- every table, exactly the truth -----------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_each_run_leaves_exactly_the_truth(loaded: Loaded, table: str) -> None:
    """After each run: the truth's keys, each once (the second run upserted, not appended)."""
    expected = expected_keys(loaded.sim, table, loaded.days)
    assert expected, f"the simulator has no {table} rows: the test would prove nothing"
    after_second = table_keys(loaded.emulator, table)
    for keys in (loaded.keys_after_first[table], after_second):
        duplicates = {key for key in keys if keys.count(key) > 1}
        assert not duplicates
        assert set(keys) == expected
        assert len(keys) == len(expected)


def test_second_run_reads_only_the_lookback_window(loaded: Loaded) -> None:
    """The second run started from Meltano's saved state."""
    end = loaded.pipeline.end_day
    window = iso_days(end - dt.timedelta(days=LOOKBACK_DAYS), end)
    assert len(window) < len(loaded.days)
    assert report_requests_days(loaded.sim) == set(window)


def test_check_counted_every_table_in_both_runs(loaded: Loaded) -> None:
    """`target-bigquery:check` passed after each run, having counted rows in every table."""
    for log in loaded.check_logs:
        counted = dict(re.findall(r"target-bigquery:check: (\w+): (\d+) rows loaded", log))
        assert sorted(counted) == sorted(TABLES)
        assert all(int(n) > 0 for n in counted.values()), counted


def test_the_target_uploaded_gzip(loaded: Loaded) -> None:
    """What the emulator had to be taught was used: the target's uploads are gzip."""
    inflated = {line.removeprefix(INFLATED) for line in loaded.emulator.log_lines(INFLATED)}
    loaded_into = {name.split("__")[0] for name in inflated}
    assert loaded_into >= set(TABLES)


# --- types: DATE days, RECORD nested values ---------------------------------------------------


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


@pytest.mark.parametrize("table", TABLES)
def test_days_are_dates_and_nested_values_records(loaded: Loaded, table: str) -> None:
    """`date` columns are DATE; arrays are REPEATED; objects RECORD (JSON without properties)."""
    fields = loaded.emulator.table_fields(DATASET, table)
    properties = declared_columns()[table]
    kind = {name: f["type"].upper() for name, f in fields.items()}
    mode = {name: (f.get("mode") or "NULLABLE").upper() for name, f in fields.items()}
    dates = {name for name, p in properties.items() if p.get("format") == "date"}
    arrays = {name for name, p in properties.items() if "array" in _types(p)}
    objects = {name for name, p in properties.items() if "object" in _types(p)} - arrays
    assert {name: kind[name] for name in dates} == dict.fromkeys(dates, "DATE")
    if "day" in properties:
        assert "day" in dates
    assert {name: mode[name] for name in arrays} == dict.fromkeys(arrays, "REPEATED")
    assert {kind[name] for name in objects} <= {"RECORD", "JSON"}


def test_nested_breakdown_is_queryable(loaded: Loaded) -> None:
    """UNNEST of the RECORD array `totals_by_ide` gives the by-IDE breakdown's truth."""
    rows = loaded.query(
        "select d.scope, d.scope_name, d.day, ide.ide, ide.code_acceptance_activity_count "
        "from copilot.copilot_usage_daily d, unnest(d.totals_by_ide) as ide"
    )
    truth = table_spec("copilot_usage_daily_by_ide").rows(loaded.sim, loaded.days)
    assert rows
    loaded_values = {
        (r["scope"], r["scope_name"], r["day"].isoformat(), r["ide"] or UNKNOWN): r[
            "code_acceptance_activity_count"
        ]
        for r in rows
    }
    assert loaded_values == {
        key: element.get("code_acceptance_activity_count") for key, element in truth.items()
    }


def test_nested_record_field_is_queryable(loaded: Loaded) -> None:
    """A RECORD column's field, `assignee.login`, is GitHub's value."""
    rows = loaded.query(
        "select scope, scope_name, seat_key, assignee.login as login from copilot.copilot_seats"
    )
    seats = table_spec("copilot_seats").rows(loaded.sim, loaded.days)
    assert any(r["login"] for r in rows)
    for r in rows:
        assignee = seats[(r["scope"], r["scope_name"], r["seat_key"])].get("assignee") or {}
        assert r["login"] == assignee.get("login")


# --- docs/bigquery.md's queries, checked against the truth -----------------------------------

#: docs/bigquery.md's example queries in BigQuery's dialect ("Loading into BigQuery"), by title.
DAILY_USERS_SQL = """
select d.scope_name,
       d.day,
       d.daily_active_users as active_users,
       count(u.user_id) as engaged_users
from copilot.copilot_usage_daily d
left join copilot.copilot_user_usage_daily u
  on u.scope = d.scope and u.scope_name = d.scope_name and u.day = d.day
 and (u.user_initiated_interaction_count > 0 or u.code_acceptance_activity_count > 0)
group by d.scope_name, d.day, d.daily_active_users
order by d.scope_name, d.day desc
"""

ACCEPTANCE_BY_LANGUAGE_SQL = """
select scope_name,
       language,
       sum(code_generation_activity_count) as suggestions,
       sum(code_acceptance_activity_count) as acceptances,
       round(100 * safe_divide(sum(code_acceptance_activity_count),
                               sum(code_generation_activity_count)), 1) as acceptance_pct
from copilot.copilot_usage_daily_by_language_feature
group by scope_name, language
order by scope_name, suggestions desc, language
"""

ACCEPTANCE_BY_EDITOR_SQL = """
select scope_name,
       ide as editor,
       sum(code_generation_activity_count) as suggestions,
       sum(code_acceptance_activity_count) as acceptances,
       round(100 * safe_divide(sum(code_acceptance_activity_count),
                               sum(code_generation_activity_count)), 1) as acceptance_pct
from copilot.copilot_usage_daily_by_ide
group by scope_name, editor
order by scope_name, suggestions desc, editor
"""

TOP_FEATURES_SQL = """
select scope_name,
       feature,
       count(distinct user_id) as users,
       sum(user_initiated_interaction_count) as interactions,
       sum(code_generation_activity_count) as suggestions,
       sum(code_acceptance_activity_count) as acceptances
from copilot.copilot_user_usage_daily_by_feature
group by scope_name, feature
order by scope_name, users desc, interactions desc, feature
"""

TEAM_USAGE_SQL = """
select t.scope_name,
       t.slug as team,
       count(distinct u.user_id) as active_users,
       sum(u.code_acceptance_activity_count) as acceptances
from copilot.copilot_user_teams_daily t
join copilot.copilot_user_usage_daily u
  on u.scope = t.scope and u.scope_name = t.scope_name and u.day = t.day
 and u.user_id = t.user_id
group by t.scope_name, team
order by t.scope_name, active_users desc, team
"""

IDLE_SEATS_SQL = """
select scope_name,
       count(*) as seats,
       countif(last_activity_at is null
               or last_activity_at < timestamp(date_sub(current_date(), interval 30 day)))
         as idle_30_days,
       count(pending_cancellation_date) as pending_cancellation
from copilot.copilot_seats
group by scope_name
order by scope_name
"""

BIGQUERY_QUERIES = {
    "Active and engaged users per day": DAILY_USERS_SQL,
    "Code acceptance rate by language": ACCEPTANCE_BY_LANGUAGE_SQL,
    "Code acceptance rate by editor": ACCEPTANCE_BY_EDITOR_SQL,
    "Top features by users": TOP_FEATURES_SQL,
    "Active users per team": TEAM_USAGE_SQL,
    "Seats without activity for 30 days": IDLE_SEATS_SQL,
}


def test_daily_active_and_engaged_users(loaded: Loaded) -> None:
    rows = loaded.query(DAILY_USERS_SQL)
    got = {
        (r["scope_name"], r["day"].isoformat()): (r["active_users"], r["engaged_users"])
        for r in rows
    }
    assert got == truth_daily_users(loaded.sim, loaded.days)
    assert all(isinstance(r["day"], dt.date) for r in rows)


@pytest.mark.parametrize(
    ("sql", "column", "array", "dimension"),
    [
        (ACCEPTANCE_BY_LANGUAGE_SQL, "language", "totals_by_language_feature", "language"),
        (ACCEPTANCE_BY_EDITOR_SQL, "editor", "totals_by_ide", "ide"),
    ],
    ids=["language", "editor"],
)
def test_acceptance_rates(
    loaded: Loaded, sql: str, column: str, array: str, dimension: str
) -> None:
    rows = loaded.query(sql)
    truth = truth_acceptance(loaded.sim, loaded.days, array, dimension)
    got = {(r["scope_name"], r[column]): (r["suggestions"], r["acceptances"]) for r in rows}
    assert got == truth
    for r in rows:
        if r["suggestions"]:
            exact = 100 * r["acceptances"] / r["suggestions"]
            assert abs(r["acceptance_pct"] - exact) <= 0.05 + 1e-9, r
        else:
            assert r["acceptance_pct"] is None
    first_scope = [r["suggestions"] for r in rows if r["scope_name"] == rows[0]["scope_name"]]
    assert first_scope == sorted(first_scope, reverse=True)


def test_top_features(loaded: Loaded) -> None:
    rows = loaded.query(TOP_FEATURES_SQL)
    got = {(r["scope_name"], r["feature"]): (r["users"], r["interactions"]) for r in rows}
    assert got == truth_features(loaded.sim, loaded.days)


def test_active_users_per_team(loaded: Loaded) -> None:
    rows = loaded.query(TEAM_USAGE_SQL)
    truth = truth_team_usage(loaded.sim, loaded.days)
    assert truth, "the simulator serves no team memberships: the test would prove nothing"
    assert {(r["scope_name"], r["team"]): (r["active_users"], r["acceptances"]) for r in rows} == (
        truth
    )


def test_idle_seats(loaded: Loaded) -> None:
    rows = loaded.query(IDLE_SEATS_SQL)
    (today,) = loaded.query("select current_date() as today")
    truth = truth_idle_seats(loaded.sim, today["today"])
    assert any(idle for _, idle, _ in truth.values()), "no idle seat: the test would prove little"
    got = {
        r["scope_name"]: (r["seats"], r["idle_30_days"], r["pending_cancellation"]) for r in rows
    }
    assert got == truth


def normalized(sql: str) -> str:
    return " ".join(sql.split())


def test_docs_show_the_tested_queries() -> None:
    """docs/bigquery.md holds these queries verbatim, each under its title."""
    section = (PROJECT.root / "docs" / "bigquery.md").read_text()
    missing = [
        title
        for title, sql in BIGQUERY_QUERIES.items()
        if title not in section or normalized(sql) not in normalized(section)
    ]
    assert not missing, f"docs/bigquery.md lacks the tested SQL of: {missing}"


# --- a load the warehouse refuses fails the pipeline ------------------------------------------


def test_refused_load_fails_the_pipeline(
    bigquery_meltano: Meltano,
    bigquery_emulator: BigQueryEmulator,
    sim: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The emulator refuses every load into copilot_billing: `meltano run` still exits 0 (the
    target's bug), the table has no row, and `target-bigquery:check` fails the pipeline."""
    workdir = tmp_path_factory.mktemp("bigquery-refused")
    pipeline = CheckedPipeline(
        bigquery_meltano,
        sim,
        workdir,
        loader=LOADER,
        loader_env=bigquery_emulator.loader_env("copilot_refused"),
        extra_env={"TAP_COPILOT_METRICS__SELECT": json.dumps(["copilot_billing.*"])},
    )
    with (
        bigquery_emulator.refusing_loads("copilot_billing__*"),
        pytest.raises(DemoError, match="no row loaded into copilot_billing") as failed,
    ):
        pipeline.run()
    assert "target-bigquery:check" in str(failed.value)
    assert "Run completed" in (workdir / "run-1.log").read_text(), "meltano run itself failed"
    refused = bigquery_emulator.log_lines(f"{REFUSED}copilot_billing__")
    assert refused, "the emulator refused nothing: the test proved nothing"
    count = "select count(*) as n from copilot_refused.copilot_billing"
    assert bigquery_emulator.query(count) == [{"n": 0}]
    expected = expected_keys(sim, "copilot_billing", iso_days(pipeline.start_day, pipeline.end_day))
    assert expected, "the simulator serves no billing: the refusal would lose nothing"
