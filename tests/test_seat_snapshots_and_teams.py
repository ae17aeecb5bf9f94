"""Seat history and enterprise teams (issue 12), over real HTTP against the simulator.

`copilot_seat_snapshots` (the seats of `copilot_seats`, keyed by the run's day as well, with no
request of its own), `copilot_enterprise_teams` and `copilot_enterprise_team_members` equal the
simulator's truth for organizations and enterprises; a second run the same day re-emits that
day's rows under the same keys, a run on the next day adds a day; every team of an enterprise's
user-teams rows has a name; `Link` pages are followed; the privacy variants of meltano.yml keep
logins out of the new tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import secrets
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from copilot_devkit.simulator import Simulator
from copilot_devkit.simulator.data import example
from jsonschema import Draft7Validator, FormatChecker

from tap_copilot_metrics.clock import TODAY_VARIABLE
from tap_copilot_metrics.schemas.snapshots import (
    COPILOT_ENTERPRISE_TEAM_MEMBERS_SCHEMA,
    COPILOT_ENTERPRISE_TEAMS_SCHEMA,
    COPILOT_SEAT_SNAPSHOTS_SCHEMA,
)
from tests.sim_support import MakeSimulator
from tests.tap_runner import TapRun, bookmark, run_tap, run_warnings, sync_in_process
from tests.truth import MIXES, ScopeRef, configured_scopes, table_spec

ENTERPRISE = "octo-ent"
SETTINGS: dict[str, Any] = {
    "organizations": {"octo-org": ["justice-league"]},
    "enterprises": [ENTERPRISE],
    "enterprise_teams": {ENTERPRISE: ["copilot-champions", "platform-guild", "pair-pals"]},
    "users_per_org": 20,
    "users_per_enterprise": 40,
    "seats_per_org": 12,
}
pytestmark = [pytest.mark.simulator(**SETTINGS), pytest.mark.usefixtures("fresh_sim")]

SEATS, SNAPSHOTS = "copilot_seats", "copilot_seat_snapshots"
TEAMS, MEMBERS = "copilot_enterprise_teams", "copilot_enterprise_team_members"
NEW_STREAMS = (SNAPSHOTS, TEAMS, MEMBERS)
#: Columns the tap adds to GitHub's objects.
ADDED = {
    SNAPSHOTS: {"scope", "scope_name", "snapshot_day", "seat_key"},
    TEAMS: {"scope", "scope_name", "snapshot_day", "team_id"},
    MEMBERS: {"scope", "scope_name", "snapshot_day", "team_id", "user_id", "team_slug"},
}
SCHEMAS = {
    SNAPSHOTS: COPILOT_SEAT_SNAPSHOTS_SCHEMA,
    TEAMS: COPILOT_ENTERPRISE_TEAMS_SCHEMA,
    MEMBERS: COPILOT_ENTERPRISE_TEAM_MEMBERS_SCHEMA,
}
MELTANO_YML = Path(__file__).resolve().parent.parent / "meltano.yml"


def config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    """Every organization and enterprise of `sim`, from yesterday; `extra` overrides."""
    yesterday = sim.settings.today - dt.timedelta(days=1)
    base = sim.tap_config(start_date=yesterday.isoformat(), retry_initial_wait_seconds=0.01)
    return {**base, "teams": [], **extra}


def keyed(run: TapRun, stream: str) -> dict[tuple[str, ...], dict[str, Any]]:
    """Records by key (as strings, like the truth's); no key empty, none twice."""
    columns = table_spec(stream).key_columns
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for record in run.records(stream):
        assert all(record[column] not in (None, "") for column in columns), record
        key = tuple(str(record[column]) for column in columns)
        assert key not in out, (stream, key)
        out[key] = record
    return out


def assert_equals_truth(
    sim: Simulator, run: TapRun, scopes: list[ScopeRef], streams: tuple[str, ...] = NEW_STREAMS
) -> None:
    """Each stream: the truth's keys, and GitHub's fields unchanged besides the added."""
    for stream in streams:
        want = table_spec(stream).rows(sim, [], scopes)
        got = {
            key: {name: value for name, value in record.items() if name not in ADDED[stream]}
            for key, record in keyed(run, stream).items()
        }
        assert got == want, stream


def snapshot_days(run: TapRun, stream: str) -> set[str]:
    return {record["snapshot_day"] for record in run.records(stream)}


# --- what the streams emit -------------------------------------------------------------------


@pytest.mark.parametrize("mix", ["organizations", "enterprises", "all-three"])
def test_each_stream_equals_the_truth_and_skips_what_is_not_configured(
    sim: Simulator, tmp_path: Path, mix: str
) -> None:
    cfg = config(sim, **MIXES[mix])
    run = run_tap(cfg, tmp_path=tmp_path, streams=[SEATS, *NEW_STREAMS])

    assert run.exit_code == 0, run.stderr[-3000:]
    assert run_warnings(run.stderr) == []
    assert_equals_truth(sim, run, configured_scopes(sim, cfg))
    today = sim.settings.today.isoformat()
    assert snapshot_days(run, SNAPSHOTS) == {today}
    enterprise = bool(cfg["enterprises"])
    assert bool(run.records(TEAMS)) == bool(run.records(MEMBERS)) == enterprise
    for stream in (TEAMS, MEMBERS):
        skipped = [line for line in run.stderr.splitlines() if f"{stream}: skipped:" in line]
        assert len(skipped) == (0 if enterprise else 1), skipped
    # The snapshot rows are the seats emitted, plus the day.
    seats = keyed(run, SEATS)
    snapshots = {key[:2] + key[3:]: record for key, record in keyed(run, SNAPSHOTS).items()}
    assert snapshots.keys() == seats.keys()
    for key, record in snapshots.items():
        assert {**record, "snapshot_day": None} == {**seats[key], "snapshot_day": None}


def test_seat_snapshots_make_no_request_of_their_own(sim: Simulator) -> None:
    cfg = config(sim)
    sync_in_process(cfg, streams=[SEATS])
    seats_only = Counter(request.path for request in sim.requests)
    sim.clear_requests()

    run = sync_in_process(cfg, streams=[SNAPSHOTS])

    assert Counter(request.path for request in sim.requests) == seats_only
    assert len(seats_only) == len(configured_scopes(sim, cfg))
    assert run.records(SNAPSHOTS)
    assert not run.records(SEATS)


def test_a_second_run_the_same_day_re_emits_that_day_under_the_same_keys(
    sim: Simulator,
) -> None:
    cfg = config(sim)
    first = sync_in_process(cfg, streams=NEW_STREAMS)
    second = sync_in_process(cfg, streams=NEW_STREAMS, state=first.final_state)

    today = sim.settings.today.isoformat()
    for stream in NEW_STREAMS:
        assert keyed(second, stream).keys() == keyed(first, stream).keys(), stream
        assert snapshot_days(second, stream) == {today}
    assert second.final_state == first.final_state
    for stream in NEW_STREAMS:
        assert bookmark(second.final_state, stream, "enterprise", ENTERPRISE) == today


def test_a_run_on_the_next_day_adds_that_day(
    sim: Simulator, make_simulator: MakeSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sync_in_process(config(sim), streams=NEW_STREAMS)
    next_day = sim.settings.today + dt.timedelta(days=1)
    later = make_simulator(**SETTINGS, today=next_day)
    monkeypatch.setenv(TODAY_VARIABLE, next_day.isoformat())

    second = sync_in_process(config(later), streams=NEW_STREAMS, state=first.final_state)

    assert_equals_truth(later, second, configured_scopes(later, config(later)))
    days = {sim.settings.today.isoformat(), next_day.isoformat()}
    for stream in NEW_STREAMS:
        assert snapshot_days(second, stream) == {next_day.isoformat()}
        both = keyed(first, stream) | keyed(second, stream)
        assert len(both) == len(keyed(first, stream)) + len(keyed(second, stream))
        assert {key[2] for key in both} == days
        assert bookmark(second.final_state, stream, "enterprise", ENTERPRISE) == max(days)
    assert bookmark(second.final_state, SNAPSHOTS, "organization", "octo-org") == max(days)


def test_every_team_of_the_enterprise_user_teams_rows_has_a_name_and_its_members(
    sim: Simulator,
) -> None:
    cfg = config(sim, organizations=[])
    run = sync_in_process(cfg, streams=["copilot_user_teams_daily", TEAMS, MEMBERS])

    memberships = run.records("copilot_user_teams_daily")
    assert {row["scope"] for row in memberships} == {"enterprise"}
    names = {team["team_id"]: team["name"] for team in run.records(TEAMS)}
    listed = {(member["team_id"], member["user_id"]) for member in run.records(MEMBERS)}
    assert memberships, "no user-teams rows: the join would prove nothing"
    for row in memberships:
        assert names.get(row["team_id"]), row
        assert (row["team_id"], row["user_id"]) in listed, row


def test_team_and_member_lists_follow_link_pages(make_simulator: MakeSimulator) -> None:
    """101 teams (two pages of 100) with up to ~200 members each (up to two pages)."""
    sim = make_simulator(
        organizations={},
        enterprises=[ENTERPRISE],
        enterprise_teams={ENTERPRISE: [f"team-{i:03d}" for i in range(101)]},
        users_per_enterprise=300,
        seats_per_org=1,
    )
    cfg = config(sim, organizations=[])
    run = sync_in_process(cfg, streams=[TEAMS, MEMBERS])

    assert_equals_truth(sim, run, [("enterprise", ENTERPRISE)], (TEAMS, MEMBERS))
    pages: defaultdict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
    for request in sim.requests:
        pages[request.path].append((request.query.get("page"), request.query.get("per_page")))
    assert pages.pop(f"/enterprises/{ENTERPRISE}/teams") == [("1", "100"), ("2", "100")]
    teams = sim.truth.enterprise_teams(ENTERPRISE)
    assert len(pages) == len(teams) == 101
    for team in teams:
        size = len(sim.truth.enterprise_team_members(ENTERPRISE, str(team["id"])))
        path = f"/enterprises/{ENTERPRISE}/teams/{team['id']}/memberships"
        assert pages[path] == [(str(n), "100") for n in range(1, math.ceil(size / 100) + 1)]
    assert any(len(requested) == 2 for requested in pages.values())


# --- schemas and privacy ---------------------------------------------------------------------


def _example_rows() -> dict[str, dict[str, Any]]:
    seat = example("copilot-seats-list.json")["seats"][0]
    team = example("billing/enterprise-teams-list.200.json")[0]
    user = example("billing/enterprise-team-members-list.200.json")[0]
    head = {"scope": "enterprise", "scope_name": ENTERPRISE, "snapshot_day": "2026-11-16"}
    return {
        SNAPSHOTS: {**head, "seat_key": seat["assignee"]["login"], **seat},
        TEAMS: {**head, "team_id": team["id"], **team},
        MEMBERS: {**head, "team_id": 1, "user_id": user["id"], "team_slug": "ent:x", **user},
    }


@pytest.mark.parametrize("stream", NEW_STREAMS)
def test_github_examples_fit_the_schemas(stream: str) -> None:
    record, schema = _example_rows()[stream], SCHEMAS[stream]
    Draft7Validator(schema, format_checker=FormatChecker()).validate(record)
    assert set(record) <= set(schema["properties"])
    # Key columns are never null; every other column may be (docs/streams.md).
    for name, prop in schema["properties"].items():
        assert ("null" in prop["type"]) == (name not in schema["required"]), name
    assert (
        schema["required"]
        == list(table_spec(stream).key_columns)
        == list(schema["properties"])[: len(schema["required"])]
    )


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - what the recipe computes


@pytest.mark.parametrize(
    "variant", ["tap-copilot-metrics-pseudonymized", "tap-copilot-metrics-no-logins"]
)
def test_meltano_privacy_variants_keep_logins_out_of_the_new_tables(
    sim: Simulator, variant: str
) -> None:
    extractors = yaml.safe_load(MELTANO_YML.read_text())["plugins"]["extractors"]
    maps = next(e for e in extractors if e["name"] == variant)["config"]["stream_maps"]
    salt = secrets.token_hex(8)
    cfg = config(sim, stream_maps=maps, stream_map_config={"login_salt": salt})

    # The maps of the older tables need their tables selected (the SDK checks each map against
    # the selected columns); the new tables' maps load whether they are selected or not.
    older = ["copilot_user_usage_daily", "copilot_user_teams_daily", SEATS]
    assert sync_in_process(cfg, streams=older).records(SEATS)
    run = sync_in_process(cfg, streams=[*older, SNAPSHOTS, MEMBERS])

    truth_members = table_spec(MEMBERS).rows(sim, [])
    truth_seats = table_spec(SNAPSHOTS).rows(sim, [])
    logins = {user["login"] for user in truth_members.values()}
    logins |= {seat["assignee"]["login"] for seat in truth_seats.values()}
    text = json.dumps([run.records(SNAPSHOTS), run.records(MEMBERS)])
    assert not [login for login in logins if login in text]
    members = keyed(run, MEMBERS)
    assert members.keys() == truth_members.keys()
    assert len(keyed(run, SNAPSHOTS)) == len(truth_seats)
    for key, member in members.items():
        if variant.endswith("pseudonymized"):
            assert member.pop("login") == md5(salt + truth_members[key]["login"])
        assert set(member) == ADDED[MEMBERS]
