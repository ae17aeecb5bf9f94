"""Simulated GitHub -> real Meltano -> MeltanoLabs target-snowflake -> fakesnow (a local Snowflake).

fakesnow cannot run the target's staging (PUT to the user stage, a MERGE that reads the staged
file, REMOVE, DROP FILE FORMAT), so the load is proven in two parts, both through real Meltano
and the real target (tests/e2e/snowflake_support.py has the details):

- as is: `meltano run tap-copilot-metrics target-snowflake`, nothing of the target replaced. It
  creates the schema and every table from the tap's catalog (VARIANT for objects and arrays, DATE
  for days, key columns NOT NULL), then its first PUT fails on fakesnow: the pipeline exits
  non-zero and Meltano saves no state, so the next run reads the whole window again.
- with the stage stand-in: the same pipeline, run twice (the second incremental, from Meltano's
  state), with only the four staging steps stood in for; the target's own MERGE (its columns,
  casts, keys and clauses; only its source rewritten) upserts every batch. Every table then holds
  exactly the truth's keys once each, nested values are VARIANT with GitHub's values and can be
  queried by path, and docs/snowflake.md's queries give the numbers computed from the truth.

What fakesnow cannot run is held to fakesnow here too (`test_fakesnow_still_cannot_run`): each
item of docs/snowflake.md's list is a statement the target builds, which must fail on fakesnow; when
one starts to pass, the stand-in and the list can shrink.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from copilot_devkit import demo
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.e2e.e2e_support import (
    PROJECT,
    Key,
    Meltano,
    Pipeline,
    expected_keys,
    iso_days,
    selected_tables,
    table_spec,
    truth_acceptance,
    truth_daily_users,
    truth_features,
    truth_idle_seats,
    truth_team_usage,
)
from tests.e2e.snowflake_support import (
    ENDPOINT_ENV,
    LOADER,
    STAGE_ENV,
    STAGE_LOG_ENV,
    Fakesnow,
    fakesnow,
    install_hook,
    stage_events,
)

__all__ = ["fakesnow"]  # the session fixture, used here

pytestmark = [pytest.mark.snowflake]

SCHEMA = "COPILOT"
#: The target as is: its tables, then its failing PUT.
AS_IS_DATABASE = "COPILOT_AS_IS"
#: The target with the stage stand-in: two runs.
DATABASE = "COPILOT_E2E"
STAGE_SCHEMA = "E2E_STAGE"
STAGE_TABLE = f"{DATABASE}.{STAGE_SCHEMA}.FILES"
LOOKBACK_DAYS = 2
STATE_ID = f"dev:tap-copilot-metrics-to-{LOADER}"


def loader_env(server: Fakesnow, database: str) -> dict[str, str]:
    """The settings of docs/snowflake.md's example, and where fakesnow listens."""
    return {
        "TARGET_SNOWFLAKE_ACCOUNT": "myorg-myaccount",
        "TARGET_SNOWFLAKE_USER": "COPILOT_LOADER",
        "TARGET_SNOWFLAKE_PASSWORD": "fakesnow-accepts-any",
        "TARGET_SNOWFLAKE_DATABASE": database,
        "TARGET_SNOWFLAKE_WAREHOUSE": "LOADING",
        "TARGET_SNOWFLAKE_ROLE": "COPILOT_LOADER",
        ENDPOINT_ENV: server.endpoint,
    }


@pytest.fixture(scope="module")
def hooked(meltano: Meltano) -> Meltano:
    """The session's Meltano, with the fakesnow hook in target-snowflake's venv."""
    install_hook(meltano)
    return meltano


# --- as is ------------------------------------------------------------------------------------


@dataclass
class AsIs:
    """What the unchanged target did before and when it failed."""

    error: str
    log: str
    state: dict[str, Any] | None
    columns: dict[str, dict[str, tuple[str, str]]]  # table -> column -> (data_type, is_nullable)
    row_counts: dict[str, int]


@pytest.fixture(scope="module")
def as_is(
    hooked: Meltano, fakesnow: Fakesnow, sim: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> AsIs:
    workdir = tmp_path_factory.mktemp("snowflake-as-is")
    pipeline = Pipeline(
        hooked, sim, workdir, loader=LOADER, loader_env=loader_env(fakesnow, AS_IS_DATABASE)
    )
    try:
        pipeline.run()
    except demo.DemoError as failed:
        error = str(failed)
    else:
        pytest.fail("the as-is run loaded into fakesnow: its staging works now (docs/snowflake.md)")
    env = hooked.env(workdir / "meltano.db", {})
    state = demo.read_state(hooked.executable, PROJECT, STATE_ID, env, workdir / "state.log")
    rows = fakesnow.rows(
        AS_IS_DATABASE,
        "select lower(table_name), lower(column_name), data_type, is_nullable "
        "from information_schema.columns where table_schema = 'COPILOT'",
    )
    columns: dict[str, dict[str, tuple[str, str]]] = {}
    for table, column, data_type, nullable in rows:
        columns.setdefault(table, {})[column] = (data_type, nullable)
    tables = sorted(set(selected_tables()) & set(columns))
    counts = fakesnow.query(
        AS_IS_DATABASE,
        [f"select count(*) from {SCHEMA}.{t}" for t in tables],  # noqa: S608
    )
    return AsIs(
        error=error,
        log=(workdir / "meltano-run-1.log").read_text(),
        state=state,
        columns=columns,
        row_counts={t: result.rows[0][0] for t, result in zip(tables, counts, strict=True)},
    )


def test_as_is_run_fails_at_the_stage_and_exits_non_zero(as_is: AsIs) -> None:
    """fakesnow refuses the target's PUT to `@~`: a failing load fails the whole pipeline."""
    assert "failed (exit" in as_is.error
    assert "(exit 0)" not in as_is.error
    assert "ProgrammingError" in as_is.log
    assert "[SQL: put %(file_uri)s '@~/target-snowflake/" in as_is.log


def test_failed_run_saves_no_state(as_is: AsIs) -> None:
    """No bookmark after the failed load, so the next run reads the whole window again."""
    assert demo.saved_bookmark(as_is.state) is None


def test_as_is_run_created_every_table_before_failing(as_is: AsIs) -> None:
    assert sorted(as_is.row_counts) == sorted(selected_tables())
    assert set(as_is.row_counts.values()) == {0}


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
def test_tables_are_typed_from_the_catalog(as_is: AsIs, table: str) -> None:
    """Made by the unchanged target: objects/arrays VARIANT, dates DATE, keys NOT NULL, ..."""
    actual = as_is.columns[table]
    # unquoted, so case-insensitive: discountQuantity is the column DISCOUNTQUANTITY
    properties = {name.lower(): p for name, p in declared_columns()[table].items()}
    assert set(actual) == set(properties)
    nested = {n for n, p in properties.items() if _types(p) & {"object", "array"}}
    dates = {n for n, p in properties.items() if p.get("format") == "date"}
    times = {n for n, p in properties.items() if p.get("format") == "date-time"}
    integers = {n for n, p in properties.items() if _types(p) - {"null"} == {"integer"}}
    assert {n: actual[n][0] for n in nested} == dict.fromkeys(nested, "VARIANT")
    assert {n: actual[n][0] for n in dates} == dict.fromkeys(dates, "DATE")
    assert {n: actual[n][0] for n in times} == dict.fromkeys(times, "TIMESTAMP_NTZ")
    assert {n: actual[n][0] for n in integers} == dict.fromkeys(integers, "NUMBER")
    if "day" in properties:
        assert "day" in dates
    keys = set(table_spec(table).key_columns)
    assert {n: actual[n][1] for n in keys} == dict.fromkeys(keys, "NO")


# --- with the stage stand-in: two runs --------------------------------------------------------


@dataclass
class Loaded:
    """fakesnow after two runs, and what the stand-in logged in each."""

    server: Fakesnow
    sim: Simulator
    days: list[str]
    keys_after_first: dict[str, list[Key]]
    events: list[list[dict[str, Any]]]

    def rows(self, sql: str) -> list[list[Any]]:
        return self.server.rows(DATABASE, sql)


def table_keys(server: Fakesnow, tables: list[str]) -> dict[str, list[Key]]:
    """Key tuples of every row of each table (as text, like the truth's keys)."""
    statements = [
        f"select {', '.join(table_spec(t).key_columns)} from {SCHEMA}.{t}"  # noqa: S608
        for t in tables
    ]
    results = server.query(DATABASE, statements)
    out = {}
    for table, result in zip(tables, results, strict=True):
        assert result.error is None, f"{table}: {result.error}"
        out[table] = [tuple(str(v) for v in row) for row in result.rows]
    return out


@pytest.fixture(scope="module")
def loaded(
    hooked: Meltano, fakesnow: Fakesnow, sim: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> Loaded:
    workdir = tmp_path_factory.mktemp("snowflake")
    for result in fakesnow.query(
        DATABASE,
        [
            f"create schema if not exists {DATABASE}.{STAGE_SCHEMA}",
            f"create table {STAGE_TABLE} (SYNC_ID varchar, SEQ number, DOC variant)",
        ],
    ):
        assert result.error is None, result.error
    log = workdir / "stage.jsonl"
    pipeline = Pipeline(
        hooked,
        sim,
        workdir,
        loader=LOADER,
        loader_env={
            **loader_env(fakesnow, DATABASE),
            STAGE_ENV: STAGE_TABLE,
            STAGE_LOG_ENV: str(log),
        },
        extra_env={"TAP_COPILOT_METRICS_LOOKBACK_DAYS": str(LOOKBACK_DAYS)},
    )
    events = []
    pipeline.run()
    events.append(stage_events(log))
    keys_after_first = table_keys(fakesnow, selected_tables())
    log.unlink()
    pipeline.run()
    events.append(stage_events(log))
    days = iso_days(pipeline.start_day, pipeline.end_day)
    return Loaded(fakesnow, sim, days, keys_after_first, events)


@pytest.mark.parametrize("table", selected_tables())
def test_each_run_leaves_exactly_the_truth(loaded: Loaded, table: str) -> None:
    expected = expected_keys(loaded.sim, table, loaded.days)
    assert expected, f"the simulator has no {table} rows: the test would prove nothing"
    after_second = table_keys(loaded.server, [table])[table]
    for keys in (loaded.keys_after_first[table], after_second):
        assert len(keys) == len(expected)  # no key twice
        assert set(keys) == expected


def merged_rows(events: list[dict[str, Any]]) -> dict[str, int]:
    """Table -> rows its MERGEs read from the stand-in's stage in one run."""
    staged = {}
    for event in events:
        if event["step"] == "put":
            staged[event["sync_id"]] = staged.get(event["sync_id"], 0) + event["rows"]
    out: dict[str, int] = {}
    for event in events:
        if event["step"] == "merge":
            table = event["table"].split(".")[-1].strip('"').lower()
            out[table] = out.get(table, 0) + staged[event["sync_id"]]
    return out


def test_every_batch_went_through_the_targets_merge_on_the_keys(loaded: Loaded) -> None:
    for events in loaded.events:
        assert set(merged_rows(events)) == set(selected_tables())
        for event in (e for e in events if e["step"] == "merge"):
            table = event["table"].split(".")[-1].strip('"').lower()
            assert event["keys"] == list(table_spec(table).key_columns)
            assert event["target_sql"].startswith(f"merge into {event['table']} d using (select ")
        removed = {e["sync_id"] for e in events if e["step"] == "remove"}
        assert removed == {e["sync_id"] for e in events if e["step"] == "merge"}
    staged = loaded.rows(f"select count(*) from {STAGE_TABLE}")  # noqa: S608
    assert staged == [[0]]  # every batch removed


def test_second_run_merged_rows_already_there_without_duplicates(loaded: Loaded) -> None:
    """Run two re-sends the lookback days and every seat: the MERGE replaces, not appends."""
    second = merged_rows(loaded.events[1])
    for table in ("copilot_usage_daily", "copilot_user_usage_daily", "copilot_seats"):
        resent = second[table]
        assert resent > 0
        total = len(expected_keys(loaded.sim, table, loaded.days))
        assert resent < total or table == "copilot_seats"
        assert len(table_keys(loaded.server, [table])[table]) == total
    assert second["copilot_seats"] == len(expected_keys(loaded.sim, "copilot_seats", loaded.days))


def test_variant_columns_hold_githubs_objects(loaded: Loaded) -> None:
    usage = table_spec("copilot_usage_daily").rows(loaded.sim, loaded.days)
    seats = table_spec("copilot_seats").rows(loaded.sim, loaded.days)
    rows = loaded.rows(
        "select scope, scope_name, day, pull_requests, totals_by_ide "
        "from copilot.copilot_usage_daily"
    )
    assert len(rows) == len(usage)
    for scope, name, day, prs, ides in rows:
        line = usage[(scope, name, day)]
        assert (_json(prs), _json(ides)) == (line["pull_requests"], line["totals_by_ide"])
    assignees = loaded.rows(
        "select scope, scope_name, seat_key, assignee from copilot.copilot_seats"
    )
    assert len(assignees) == len(seats)
    for scope, name, key, assignee in assignees:
        assert _json(assignee) == seats[(scope, name, key)]["assignee"]


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


NESTED_LOGIN_SQL = "select seat_key, assignee:login::string as login from copilot.copilot_seats"

NESTED_FIRST_IDE_SQL = """
select scope_name, day, totals_by_ide[0]:ide::string as first_ide
from copilot.copilot_usage_daily
"""

NESTED_FLATTEN_SQL = """
select d.scope_name,
       f.value:ide::string as ide,
       sum(f.value:code_acceptance_activity_count::number) as acceptances
from copilot.copilot_usage_daily d, lateral flatten(input => d.totals_by_ide) f
group by all
"""


def test_variant_paths_are_queryable(loaded: Loaded) -> None:
    """docs/snowflake.md's nested values: `col:field::type`, `col[0]:field`, LATERAL FLATTEN."""
    seats = table_spec("copilot_seats").rows(loaded.sim, loaded.days)
    logins = sorted(tuple(row) for row in loaded.rows(NESTED_LOGIN_SQL))
    truth_logins = sorted(
        (key[2], (seat["assignee"] or {}).get("login")) for key, seat in seats.items()
    )
    assert any(login for _, login in truth_logins)
    assert logins == truth_logins

    usage = table_spec("copilot_usage_daily").rows(loaded.sim, loaded.days)
    first_ides = {(name, day): ide for name, day, ide in loaded.rows(NESTED_FIRST_IDE_SQL)}
    truth_first = {
        (key[1], key[2]): ((line["totals_by_ide"] or [{}])[0]).get("ide")
        for key, line in usage.items()
    }
    assert any(truth_first.values())
    assert first_ides == truth_first

    flattened = {(name, ide): n for name, ide, n in loaded.rows(NESTED_FLATTEN_SQL)}
    truth = truth_acceptance(loaded.sim, loaded.days, "totals_by_ide", "ide")
    assert truth
    assert flattened == {key: accepted for key, (_, accepted) in truth.items()}


# --- docs/snowflake.md's queries, in Snowflake's dialect -------------------------------------

DAILY_USERS_SQL = """
select d.scope_name,
       d.day,
       d.daily_active_users as active_users,
       count(u.user_id) as engaged_users
from copilot.copilot_usage_daily d
left join copilot.copilot_user_usage_daily u
  on u.scope = d.scope and u.scope_name = d.scope_name and u.day = d.day
 and (u.user_initiated_interaction_count > 0 or u.code_acceptance_activity_count > 0)
group by all
order by d.scope_name, d.day desc
"""


# Snowflake runs the demo's DuckDB SQL of these four as it is: one text, imported.
ACCEPTANCE_BY_LANGUAGE_SQL = demo.ACCEPTANCE_BY_LANGUAGE_SQL
ACCEPTANCE_BY_EDITOR_SQL = demo.ACCEPTANCE_BY_EDITOR_SQL
TOP_FEATURES_SQL = demo.TOP_FEATURES_SQL
TEAM_USAGE_SQL = demo.TEAM_USAGE_SQL

IDLE_SEATS_SQL = """
select scope_name,
       count(*) as seats,
       count_if(last_activity_at is null
                or last_activity_at < dateadd(day, -30, current_date())) as idle_30_days,
       count(pending_cancellation_date) as pending_cancellation
from copilot.copilot_seats
group by all
order by scope_name
"""

#: docs/snowflake.md's Snowflake versions of the example queries ("Loading into Snowflake").
SNOWFLAKE_QUERIES = {
    "Active and engaged users per day": DAILY_USERS_SQL,
    "Code acceptance rate by language": ACCEPTANCE_BY_LANGUAGE_SQL,
    "Code acceptance rate by editor": ACCEPTANCE_BY_EDITOR_SQL,
    "Top features by users": TOP_FEATURES_SQL,
    "Active users per team": TEAM_USAGE_SQL,
    "Seats without activity for 30 days": IDLE_SEATS_SQL,
    "Nested values: a field of an object": NESTED_LOGIN_SQL,
    "Nested values: an element of an array": NESTED_FIRST_IDE_SQL,
    "Nested values: one row per element": NESTED_FLATTEN_SQL,
}


def test_daily_active_and_engaged_users(loaded: Loaded) -> None:
    rows = loaded.rows(DAILY_USERS_SQL)
    got = {(scope, day): (active, engaged) for scope, day, active, engaged in rows}
    assert got == truth_daily_users(loaded.sim, loaded.days)


@pytest.mark.parametrize(
    ("sql", "array", "dimension"),
    [
        (ACCEPTANCE_BY_LANGUAGE_SQL, "totals_by_language_feature", "language"),
        (ACCEPTANCE_BY_EDITOR_SQL, "totals_by_ide", "ide"),
    ],
    ids=["language", "editor"],
)
def test_acceptance_rates(loaded: Loaded, sql: str, array: str, dimension: str) -> None:
    rows = loaded.rows(sql)
    truth = truth_acceptance(loaded.sim, loaded.days, array, dimension)
    assert {(scope, value): (s, a) for scope, value, s, a, _ in rows} == truth
    for scope, value, suggestions, acceptances, pct in rows:
        expected = None if not suggestions else 100.0 * acceptances / suggestions
        assert pct == pytest.approx(expected, abs=0.05 + 1e-9), (scope, value)
    suggestions_in_order = [row[2] for row in rows if row[0] == rows[0][0]]
    assert suggestions_in_order == sorted(suggestions_in_order, reverse=True)


def test_top_features(loaded: Loaded) -> None:
    rows = loaded.rows(TOP_FEATURES_SQL)
    got = {(scope, feature): (users, n) for scope, feature, users, n, *_ in rows}
    assert got == truth_features(loaded.sim, loaded.days)


def test_active_users_per_team(loaded: Loaded) -> None:
    rows = loaded.rows(TEAM_USAGE_SQL)
    truth = truth_team_usage(loaded.sim, loaded.days)
    assert truth, "the simulator serves no team memberships: the test would prove nothing"
    assert {(scope, team): (users, accepted) for scope, team, users, accepted in rows} == truth


def test_idle_seats(loaded: Loaded) -> None:
    rows = loaded.rows(IDLE_SEATS_SQL)
    ((today,),) = loaded.rows("select current_date()")
    truth = truth_idle_seats(loaded.sim, dt.date.fromisoformat(today))
    assert any(idle for _, idle, _ in truth.values()), "no idle seat: the test would prove little"
    assert {scope: (seats, idle, pending) for scope, seats, idle, pending in rows} == truth


def readme_snowflake_section() -> str:
    """docs/snowflake.md, where docs/snowflake.md's Snowflake section points."""
    return (PROJECT.root / "docs" / "snowflake.md").read_text()


def normalized(sql: str) -> str:
    return " ".join(sql.split())


def test_readme_shows_the_tested_queries() -> None:
    """docs/snowflake.md's queries are these, verbatim, so what users copy is what CI ran."""
    section = normalized(readme_snowflake_section())
    missing = [title for title, sql in SNOWFLAKE_QUERIES.items() if normalized(sql) not in section]
    assert not missing, f"docs/snowflake.md lacks the tested SQL of: {missing}"


# --- what fakesnow cannot run, held to fakesnow -----------------------------------------------


def _event(loaded: Loaded, step: str) -> dict[str, Any]:
    return next(e for e in loaded.events[0] if e["step"] == step)


def _changed(sql: str, old: str, new: str) -> str:
    assert old in sql, (old, sql)
    return sql.replace(old, new)


def _qualify_in_using(sent: str) -> str:
    """The sent MERGE with its QUALIFY straight on the select list, as the target writes it."""
    sql = _changed(sent, "with staged as (select ", "select ")
    return _changed(sql, ") select * from staged QUALIFY", " QUALIFY")


#: docs/snowflake.md list item -> (its words there, the statement from the first run's log).
CANNOT_RUN: dict[str, tuple[str, Callable[[Loaded], str]]] = {
    "put-to-user-stage": ("PUT", lambda ld: _event(ld, "put")["target_sql"]),
    "merge-from-staged-file": (
        "(file_format =>",
        lambda ld: _event(ld, "merge")["target_sql"],
    ),
    "positional-column": (
        "$1:",
        lambda ld: _changed(_event(ld, "merge")["sent_sql"], "DOC:", "$1:"),
    ),
    "seq8-in-window": (
        "SEQ8()",
        lambda ld: _changed(
            _event(ld, "merge")["sent_sql"], 'ORDER BY "E2E_SEQ"', "ORDER BY SEQ8()"
        ),
    ),
    "qualify-on-aliases-in-merge-source": (
        "QUALIFY",
        lambda ld: _qualify_in_using(_event(ld, "merge")["sent_sql"]),
    ),
    "remove": ("REMOVE", lambda ld: _event(ld, "remove")["target_sql"]),
    "drop-file-format": (
        "DROP FILE FORMAT",
        lambda ld: _event(ld, "drop_file_format")["target_sql"],
    ),
    "copy-into-from-stage": ("COPY INTO", lambda ld: _event(ld, "merge")["copy_sql"]),
}


#: The sent MERGE in a session without a current schema, as the target's sessions start.
MERGE_WITHOUT_SCHEMA = "merge-without-session-schema"


@pytest.fixture(scope="module")
def cannot_run(loaded: Loaded) -> dict[str, Any]:
    """Each statement of CANNOT_RUN run on fakesnow, and the sent MERGE as a control: in a
    session with a current schema (it runs, merging nothing: its staged rows are gone) and in
    one without (it fails)."""
    names = list(CANNOT_RUN)
    statements = [CANNOT_RUN[name][1](loaded) for name in names]
    control = _event(loaded, "merge")["sent_sql"]
    results = loaded.server.query(DATABASE, [*statements, control], schema=STAGE_SCHEMA, timeout=5)
    (without_schema,) = loaded.server.query(DATABASE, [control], timeout=5)
    return {
        "control": results[-1],
        MERGE_WITHOUT_SCHEMA: without_schema,
        **dict(zip(names, results, strict=False)),
    }


def test_the_sent_merge_runs_on_fakesnow(cannot_run: dict[str, Any]) -> None:
    assert cannot_run["control"].error is None


@pytest.mark.parametrize("item", [*CANNOT_RUN, MERGE_WITHOUT_SCHEMA])
def test_fakesnow_still_cannot_run(cannot_run: dict[str, Any], item: str) -> None:
    """When this fails, fakesnow runs the statement now: shrink the stand-in and the doc's list."""
    assert cannot_run[item].error is not None


@pytest.mark.parametrize("item", list(CANNOT_RUN))
def test_readme_lists_what_fakesnow_cannot_run(item: str) -> None:
    assert CANNOT_RUN[item][0] in readme_snowflake_section()


def test_readme_says_fakesnow_merges_only_in_a_schema() -> None:
    assert "current schema" in readme_snowflake_section()
