"""The tables of the 2026 report arrays and objects (streams/breakdown_tables.py) against the truth.

Adoption phases, CLI customizations, third-party agents, code-review comment types, repository
review times, the 28-day feature engagement, and the objects as flat columns (`totals_by_cli`,
`totals_by_copilot_app`, `totals_by_vscode_agent`, `pull_requests`, `ai_adoption_phase`). Every
expected row comes from the simulator's truth API (tests/truth.py), flattened here as the README
says (nested objects as `<object>__<field>`, arrays left out); never from the tap's code.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.streams.breakdown_tables import BREAKDOWN_STREAMS
from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.report_support import REPORT_STREAMS, config, day_range
from tests.sim_support import MakeSimulator, days_ago
from tests.tap_runner import KEYS, TapRun, sync_in_process
from tests.truth import UNKNOWN, iso_days, report_scopes, table_spec

ROOT = Path(__file__).parent.parent
#: The tables this suite covers (the older per-IDE/feature/language/model ones are covered by
#: the scope matrix and the end-to-end tests).
NEW_TABLES = tuple(
    f"{parent}_{suffix}"
    for parent, suffixes in (
        (
            "copilot_usage_daily",
            (
                "by_ai_adoption_phase",
                "pull_requests",
                "pull_requests_by_comment_type",
                "feature_engagement",
            ),
        ),
        ("copilot_user_usage_daily", ("ai_adoption_phase",)),
        (
            "copilot_repository_usage_daily",
            ("pull_requests", "pull_requests_by_comment_type", "pull_request_review_times"),
        ),
    )
    for suffix in suffixes
) + tuple(
    f"{parent}_{suffix}"
    for parent in ("copilot_usage_daily", "copilot_user_usage_daily")
    for suffix in (
        "by_3rd_party_agent",
        "by_skill",
        "by_custom_agent",
        "by_mcp",
        "by_slash_cmd",
        "by_plugin",
        "cli",
        "copilot_app",
        "vscode_agent",
    )
)
#: Rows only when a run reads the 28-day report (a backfill of recent weeks).
WINDOW_TABLE = "copilot_usage_daily_feature_engagement"
PARENTS = ("copilot_usage_daily", "copilot_user_usage_daily", "copilot_repository_usage_daily")

pytestmark = [
    pytest.mark.simulator(
        organizations={"octo-org": ["justice-league"]},
        enterprises=["octo-ent"],
        users_per_org=40,
        users_per_enterprise=40,
        seats_per_org=3,
        # Weekends as busy as weekdays: every table has rows whatever day the suite is pinned to.
        weekend_activity=1.0,
    ),
    pytest.mark.usefixtures("fresh_sim"),
]


def flat(element: dict[str, Any]) -> dict[str, Any]:
    """An element as the README documents its row: nested objects as `<object>__<field>`."""
    row: dict[str, Any] = {}
    for name, value in element.items():
        if isinstance(value, dict):
            row.update({f"{name}__{sub}": sub_value for sub, sub_value in value.items()})
        elif not isinstance(value, list):
            row[name] = value
    return row


def assert_table_equals_truth(sim: Simulator, run: TapRun, table: str, days: list[str]) -> None:
    spec = table_spec(table)
    keys = spec.key_columns
    assert tuple(KEYS[table]) == keys
    want = spec.rows(sim, days)
    got: dict[tuple[str, ...], dict[str, Any]] = {}
    for record in run.records(table):
        for column in keys:
            assert record[column] not in (None, ""), (table, column, record)
        for column in keys[keys.index("day") + 1 :]:
            if column not in ("user_id", "repo_id"):
                assert isinstance(record[column], str), (table, column, record)  # dimensions
        key = tuple(str(record[column]) for column in keys)
        assert key not in got, (table, key)
        got[key] = {name: value for name, value in record.items() if name not in keys}
    assert set(got) == set(want), table
    for key, element in want.items():
        expected = {name: value for name, value in flat(element).items() if name not in keys}
        assert got[key] == expected, (table, key)


@pytest.fixture(scope="module")
def backfill(sim: Simulator) -> tuple[TapRun, list[str]]:
    """Ten recent days: users and org/enterprise days come from the 28-day reports."""
    days = day_range(days_ago(sim, 10), days_ago(sim, 1))
    run = sync_in_process(config(sim, days[0]), streams=[*PARENTS, *NEW_TABLES])
    return run, [d.isoformat() for d in days]


@pytest.mark.parametrize("table", NEW_TABLES)
def test_a_backfill_emits_every_new_table_equal_to_the_truth(
    sim: Simulator, backfill: tuple[TapRun, list[str]], table: str
) -> None:
    run, days = backfill
    assert_table_equals_truth(sim, run, table, days)
    for scope in report_scopes(sim):
        # Guard: the comparison is not of two empty sets, for either scope kind.
        assert any(key[:2] == scope for key in table_spec(table).rows(sim, days)), (table, scope)


def test_day_by_day_runs_emit_the_same_tables_and_no_window_figure(sim: Simulator) -> None:
    """Read day by day (no 28-day report), the tables equal the truth just the same; the 28-day
    feature engagement has no rows: only the 28-day report carries it."""
    last = days_ago(sim, 1)
    days = iso_days(last - dt.timedelta(days=2), last)
    run = sync_in_process(
        config(sim, dt.date.fromisoformat(days[0]), backfill_from_28_day_reports=False),
        streams=[*PARENTS, *NEW_TABLES],
    )
    for table in NEW_TABLES:
        assert_table_equals_truth(sim, run, table, days)
    assert run.records(WINDOW_TABLE) == []
    assert any(run.records(table) for table in NEW_TABLES)


def test_the_feature_engagement_is_keyed_by_the_last_day_of_its_window(
    sim: Simulator, backfill: tuple[TapRun, list[str]]
) -> None:
    run, _days = backfill
    for kind, name in report_scopes(sim):
        report = f"{kind}-28-day"
        _start, end, (wrapper,) = sim.truth.report_28_day(report, kind, name)
        engagement = wrapper["copilot_feature_engagement"]
        rows = [
            r for r in run.records(WINDOW_TABLE) if (r["scope"], r["scope_name"]) == (kind, name)
        ]
        assert {r["day"] for r in rows} == {end}
        assert sorted(r["feature"] for r in rows) == sorted(
            f["feature"] for f in engagement["totals_by_feature"]
        )
        assert {r["active_user_count"] for r in rows} == {engagement["active_user_count"]}
        # The parent keeps it on that day's record only.
        parents = [
            r
            for r in run.records("copilot_usage_daily")
            if (r["scope"], r["scope_name"]) == (kind, name) and "copilot_feature_engagement" in r
        ]
        assert [(r["day"], r["copilot_feature_engagement"]) for r in parents] == [(end, engagement)]


def report_requests(sim: Simulator) -> Counter[tuple[str, str | None]]:
    """Every request the tap made: path and `?day=` (signed download queries vary)."""
    return Counter((r.path, r.query.get("day")) for r in sim.requests)


def test_the_new_tables_cost_no_request(sim: Simulator) -> None:
    days = day_range(days_ago(sim, 9), days_ago(sim, 1))  # 28-day reports and 1-day reports
    counts = []
    for streams in (PARENTS, (*PARENTS, *NEW_TABLES), NEW_TABLES):
        sim.clear_requests()
        run = sync_in_process(config(sim, days[0]), streams=streams)
        counts.append(report_requests(sim))
        assert run.records(PARENTS[0]) or streams == NEW_TABLES
    assert counts[0] == counts[1] == counts[2]
    assert any(path.endswith("/latest") for path, _day in counts[0])
    assert any(day for _path, day in counts[0])


def test_a_missing_dimension_becomes_unknown(make_simulator: MakeSimulator) -> None:
    """Elements without their key (absent, null or "") are kept, under `unknown`."""
    missing = {
        "totals_by_skill": [{"interaction_count": 3}],
        "totals_by_mcp": [{"interaction_count": 2, "mcp": None}],
        "totals_by_3rd_party_agent": [
            {"agent_id": "", "agent_name": "x", "user_initiated_interaction_count": 1}
        ],
    }
    sim = make_simulator(
        organizations={"octo-org": []},
        enterprises=["octo-ent"],
        users_per_org=8,
        users_per_enterprise=8,
        seats_per_org=3,
        weekend_activity=1.0,
        extra_user_fields=missing,
    )
    day = days_ago(sim, 1)
    tables = {
        "copilot_user_usage_daily_by_skill": "skill",
        "copilot_user_usage_daily_by_mcp": "mcp",
        "copilot_user_usage_daily_by_3rd_party_agent": "agent_id",
    }
    run = sync_in_process(config(sim, day), streams=["copilot_user_usage_daily", *tables])
    users = run.records("copilot_user_usage_daily")
    assert users
    for table, dimension in tables.items():
        assert_table_equals_truth(sim, run, table, [day.isoformat()])
        rows = run.records(table)
        assert len(rows) == len(users)
        assert {r[dimension] for r in rows} == {UNKNOWN}


def _stream(name: str) -> Any:
    return next(cls for cls in BREAKDOWN_STREAMS if cls.name == name)


@pytest.mark.parametrize(
    ("table", "record", "dimension", "expected"),
    [
        (
            "copilot_usage_daily_by_ai_adoption_phase",
            {"totals_by_ai_adoption_phase": [{"phase_number": 0}, {"phase": "Phase ?"}]},
            "phase_number",
            ["0", UNKNOWN],
        ),
        (
            "copilot_usage_daily_pull_requests_by_comment_type",
            {"pull_requests": {"copilot_suggestions_by_comment_type": [{"comment_type": ""}]}},
            "comment_type",
            [UNKNOWN],
        ),
        (
            "copilot_usage_daily_feature_engagement",
            {"copilot_feature_engagement": {"totals_by_feature": [{"feature": None}]}},
            "feature",
            [UNKNOWN],
        ),
    ],
)
def test_aggregate_dimensions_are_strings_and_unknown_when_missing(
    table: str, record: dict[str, Any], dimension: str, expected: list[str]
) -> None:
    """Aggregate lines the simulator cannot be told to break: the rule on its own."""
    parent = {"scope": "organization", "scope_name": "octo-org", "day": "2026-11-01", **record}
    keys = ("scope", "scope_name", "day")
    rows = list(_stream(table).breakdown.rows(parent, keys))
    assert [row[dimension] for row in rows] == expected


def test_objects_are_one_row_per_record_that_has_them() -> None:
    stream = _stream("copilot_user_usage_daily_cli")
    keys = ("scope", "scope_name", "day", "user_id")
    base = {"scope": "enterprise", "scope_name": "octo-ent", "day": "2026-11-01", "user_id": 7}
    cli = {"session_count": 2, "token_usage": {"prompt_tokens_sum": 5}, "new_list": [1]}
    assert list(stream.breakdown.rows(base, keys)) == []  # omitted: no CLI use
    assert list(stream.breakdown.rows({**base, "totals_by_cli": None}, keys)) == []
    assert list(stream.breakdown.rows({**base, "totals_by_cli": cli}, keys)) == [
        {**base, "session_count": 2, "token_usage__prompt_tokens_sum": 5}
    ]


def test_new_table_schemas_type_keys_and_flatten_objects() -> None:
    tap = TapCopilotMetrics(config={}, validate_config=False, setup_mapper=False)
    for table in NEW_TABLES:
        schema = tap.streams[table].schema
        assert schema["required"] == list(KEYS[table])
        assert schema["required"][:3] == ["scope", "scope_name", "day"]
        for name, prop in schema["properties"].items():
            types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
            assert ("null" in types) == (name not in schema["required"]), (table, name)
            assert not {"object", "array"} & set(types), (table, name)
    cli = tap.streams["copilot_usage_daily_cli"].schema["properties"]
    assert cli["token_usage__avg_tokens_per_request"]["type"] == ["number", "null"]
    assert cli["last_known_cli_version__cli_version"]["type"] == ["string", "null"]
    phases = tap.streams["copilot_usage_daily_by_ai_adoption_phase"].schema["properties"]
    assert phases["phase_number"]["type"] == ["string"]  # a key column: `unknown` must fit


def test_docs_and_meltano_list_every_new_table() -> None:
    streams = (ROOT / "docs" / "streams.md").read_text(encoding="utf-8")
    selected = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    extractor = next(
        p for p in selected["plugins"]["extractors"] if p["name"] == "tap-copilot-metrics"
    )
    for table in NEW_TABLES:
        parent = next(p for p in REPORT_STREAMS if table.startswith(f"{p}_"))
        suffix = table.removeprefix(parent)
        assert f"`{table}`" in streams or f"`…{suffix}`" in streams, table
        # The feature engagement fills only on 28-day backfills: not in the default selection.
        assert (f"{table}.*" in extractor["select"]) == (table != WINDOW_TABLE), table
