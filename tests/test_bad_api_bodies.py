"""API bodies odd, valid or malformed: what the metrics API, the teams list, seats, billing and the
report calls may answer, served by the simulator (its "body" fault) to the real tap over HTTP.

Odd but valid bodies are property-based (Hypothesis), generated from GitHub's own OpenAPI
descriptions (tests/body_strategies.py): the records must be GitHub's values unchanged, plus the
scope columns, and validate against the tap's own declared schema (`tap.streams[name].schema`).
Malformed bodies (an HTML page, JSON of the wrong type, a 200 with nothing in it, wrong shapes
inside well-formed JSON) must end in one clear line, never a traceback. Report files are in
test_bad_report_files.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import requests
from copilot_devkit.simulator import Simulator
from hypothesis import given
from hypothesis import strategies as st

from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.bad_input_support import (
    assert_valid_for_the_tap,
    base_config,
    serve,
    simulator_marks,
    sync,
)
from tests.body_strategies import (
    FILE_CASES,
    LEGACY,
    PROPERTY_SETTINGS,
    REPORTS,
    USERS,
    component,
    response_schema,
    strategy_for,
)
from tests.reliability_support import (
    ENTERPRISE,
    ORG,
    assert_nothing_leaks,
    error_line,
    records,
    run_cli,
    tail,
)
from tests.truth import expected_seat_key

pytestmark = simulator_marks()


# --- the legacy metrics API and the teams list --------------------------------------------------

DAY_SCHEMA = component(LEGACY, "copilot-usage-metrics-day")
TEAM_SCHEMA = component(LEGACY, "team")


@PROPERTY_SETTINGS
@given(days=st.lists(strategy_for(DAY_SCHEMA), max_size=4), data=st.data())
def test_odd_but_valid_metrics_days_reach_the_output_unchanged(
    sim: Simulator, days: list[dict[str, Any]], data: st.DataObject
) -> None:
    window = [(sim.settings.today - dt.timedelta(days=n)).isoformat() for n in range(1, 5)]
    dates = data.draw(
        st.lists(st.sampled_from(window), min_size=len(days), max_size=len(days), unique=True)
    )
    body = [{**day, "date": date} for day, date in zip(days, dates, strict=True)]
    serve(sim, rf"^/orgs/{ORG}/copilot/metrics$", json=body)
    config = base_config(sim, teams=[], enterprises=[], start_date=window[-1])

    found = records(sync(config, "copilot_metrics").messages, "copilot_metrics")

    want = [{"scope": "organization", "scope_name": ORG, **day} for day in body]
    assert found == sorted(want, key=lambda record: record["date"])
    assert_valid_for_the_tap("copilot_metrics", found)


@PROPERTY_SETTINGS
@given(teams=st.lists(strategy_for(TEAM_SCHEMA), max_size=3))
def test_odd_but_valid_team_lists_expand_to_the_named_teams(
    sim: Simulator, teams: list[dict[str, Any]]
) -> None:
    """`org/*`: whatever else a team object holds, its `slug` names the team to read."""
    slugs = ["justice-league", "avengers"]
    body = [{**team, "slug": slugs[i % 2]} for i, team in enumerate(teams)]
    serve(sim, rf"^/orgs/{ORG}/teams$", json=body)
    config = base_config(sim, enterprises=[], teams=[f"{ORG}/*"])

    found = records(sync(config, "copilot_metrics").messages, "copilot_metrics")

    asked = {r.path for r in sim.requests if "/team/" in r.path}
    assert asked == {f"/orgs/{ORG}/team/{team['slug']}/copilot/metrics" for team in body}
    assert {r["scope_name"] for r in found if r["scope"] == "team"} <= {
        f"{ORG}/{team['slug']}" for team in body
    }
    assert_valid_for_the_tap("copilot_metrics", found)


# --- seats and billing --------------------------------------------------------------------------

SEATS_SCHEMA = response_schema(REPORTS, "/orgs/{org}/copilot/billing/seats")
BILLING_SCHEMA = component(REPORTS, "copilot-organization-details")


@PROPERTY_SETTINGS
@given(body=strategy_for(SEATS_SCHEMA))
def test_odd_but_valid_seat_lists_reach_the_output_unchanged(
    sim: Simulator, body: dict[str, Any]
) -> None:
    seats, keys = [], set()
    for index, seat in enumerate(body.get("seats") or []):
        if isinstance(seat.get("assignee"), dict):
            # GitHub's logins are unique; hypothesis' are not.
            seat = {
                **seat,
                "assignee": {
                    **seat["assignee"],
                    "login": f"u{index}-{seat['assignee'].get('login')}",
                },
            }
        if expected_seat_key(seat) not in keys:
            keys.add(expected_seat_key(seat))
            seats.append(seat)
    body = {**body, "seats": seats}
    serve(sim, rf"^/orgs/{ORG}/copilot/billing/seats$", json=body)
    config = base_config(sim, enterprises=[], teams=[])

    found = records(sync(config, "copilot_seats").messages, "copilot_seats")

    want = [
        {"scope": "organization", "scope_name": ORG, "seat_key": expected_seat_key(seat), **seat}
        for seat in seats
    ]
    assert found == want
    assert_valid_for_the_tap("copilot_seats", found)


SEAT_COLUMNS = {"scope", "scope_name", "seat_key"}


def _unassigned_seat(**fields: Any) -> dict[str, Any]:
    """A seat whose user no longer exists, granted with its team's other members."""
    return {
        "created_at": "2026-03-02T09:00:00Z",
        "updated_at": "2026-03-02T09:00:00Z",
        "pending_cancellation_date": None,
        "last_activity_at": None,
        "last_activity_editor": None,
        "last_authenticated_at": None,
        "plan_type": "business",
        "assignee": None,
        "assigning_team": {"id": 7, "slug": "justice-league", "name": "Justice League"},
        **fields,
    }


def test_unassigned_seats_granted_in_the_same_second_keep_distinct_stable_keys(
    sim: Simulator,
) -> None:
    seats = [
        _unassigned_seat(
            last_activity_at="2026-04-01T10:00:00Z",
            last_activity_editor="vscode/1.98.0/copilot-chat/0.25.0",
            last_authenticated_at="2026-04-01T09:00:00Z",
        ),
        _unassigned_seat(
            last_activity_at="2026-04-03T16:30:00Z",
            last_activity_editor="JetBrains-IC/2024.3/copilot-intellij/1.5.30",
            last_authenticated_at="2026-04-03T16:00:00Z",
        ),
        _unassigned_seat(assigning_team=None),  # granted directly, never used
    ]
    config = base_config(sim, enterprises=[], teams=[])
    serve(sim, rf"^/orgs/{ORG}/copilot/billing/seats$", json={"total_seats": 3, "seats": seats})

    found = records(sync(config, "copilot_seats").messages, "copilot_seats")

    assert [{k: v for k, v in r.items() if k not in SEAT_COLUMNS} for r in found] == seats
    keys = [r["seat_key"] for r in found]
    assert len(set(keys)) == 3
    assert all(key.startswith("unassigned:2026-03-02T09:00:00Z:") for key in keys)
    assert keys == [expected_seat_key(seat) for seat in seats]

    # The next run: the seats were cancelled, the plan changed, the team renamed. Same seats,
    # same keys.
    changed = [
        {
            **seat,
            "pending_cancellation_date": "2026-05-01",
            "plan_type": "enterprise",
            "assigning_team": seat["assigning_team"]
            and {**seat["assigning_team"], "slug": "jla", "name": "JLA"},
        }
        for seat in seats
    ]
    serve(sim, rf"^/orgs/{ORG}/copilot/billing/seats$", json={"total_seats": 3, "seats": changed})
    again = records(sync(config, "copilot_seats").messages, "copilot_seats")
    assert [r["seat_key"] for r in again] == keys


@PROPERTY_SETTINGS
@given(body=strategy_for(BILLING_SCHEMA))
def test_odd_but_valid_billing_details_reach_the_output_unchanged(
    sim: Simulator, body: dict[str, Any]
) -> None:
    serve(sim, rf"^/orgs/{ORG}/copilot/billing$", json=body)
    config = base_config(sim, enterprises=[], teams=[])

    found = records(sync(config, "copilot_billing").messages, "copilot_billing")

    assert found == [{"scope": "organization", "scope_name": ORG, **body}]
    assert_valid_for_the_tap("copilot_billing", found)


# --- the reports API: envelopes -----------------------------------------------------------------

ENVELOPE_SCHEMA = component(REPORTS, "copilot-usage-metrics-1-day-report")


@pytest.fixture(scope="module")
def users_day(sim: Simulator) -> tuple[dt.date, list[str], list[dict[str, Any]]]:
    """Yesterday's users report of the organization: its links, and its records."""
    day = sim.settings.today - dt.timedelta(days=1)
    answer = requests.get(
        f"{sim.base_url}/orgs/{ORG}/copilot/metrics/reports/users-1-day",
        params={"day": day.isoformat()},
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    lines = sim.truth.report_lines("users-1-day", "organization", ORG, day)
    want = [{"scope": "organization", "scope_name": ORG, **line} for line in lines]
    return day, answer.json()["download_links"], want


@PROPERTY_SETTINGS
@given(envelope=strategy_for(ENVELOPE_SCHEMA))
def test_odd_but_valid_report_envelopes_lead_to_the_files(
    sim: Simulator,
    users_day: tuple[dt.date, list[str], list[dict[str, Any]]],
    envelope: dict[str, Any],
) -> None:
    """Whatever else the envelope says (report_day, new fields), its links are what counts."""
    day, links, want = users_day
    serve(sim, r"/copilot/metrics/reports/users-1-day$", json={**envelope, "download_links": links})
    config = base_config(sim, enterprises=[], teams=[], start_date=day.isoformat())

    run = sync(config, USERS)

    assert records(run.messages, USERS) == want


LATEST_ENVELOPE_SCHEMA = component(REPORTS, "copilot-usage-metrics-28-day-report")


@pytest.fixture(scope="module")
def users_backfill(sim: Simulator) -> tuple[dt.date, dict[str, Any], list[dict[str, Any]]]:
    """The organization's latest users-28-day envelope, and ten days of users records."""
    first = sim.settings.today - dt.timedelta(days=10)
    answer = requests.get(
        f"{sim.base_url}/orgs/{ORG}/copilot/metrics/reports/users-28-day/latest",
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )
    answer.raise_for_status()
    want = [
        {"scope": "organization", "scope_name": ORG, **line}
        for n in range(10, 0, -1)
        for line in sim.truth.report_lines(
            "users-1-day", "organization", ORG, sim.settings.today - dt.timedelta(days=n)
        )
    ]
    return first, answer.json(), want


@PROPERTY_SETTINGS
@given(envelope=strategy_for(LATEST_ENVELOPE_SCHEMA))
def test_odd_but_valid_28_day_envelopes_lead_to_the_same_records(
    sim: Simulator,
    users_backfill: tuple[dt.date, dict[str, Any], list[dict[str, Any]]],
    envelope: dict[str, Any],
) -> None:
    """A backfill reads the 28-day report; new fields in its envelope change nothing (its
    links and window are GitHub's own: a window that lied about the files is out of scope)."""
    first, real, want = users_backfill
    fields = ("download_links", "report_start_day", "report_end_day")
    serve(
        sim,
        r"/copilot/metrics/reports/users-28-day/latest$",
        json={**envelope, **{field: real[field] for field in fields}},
    )
    config = base_config(sim, enterprises=[], teams=[], start_date=first.isoformat())

    run = sync(config, USERS)

    assert any(r.path.endswith("/users-28-day/latest") for r in sim.requests)
    assert sorted(records(run.messages, USERS), key=lambda r: (r["day"], r["user_id"])) == sorted(
        want, key=lambda r: (r["day"], r["user_id"])
    )


# --- malformed bodies: one clear line, never a traceback ----------------------------------------

#: endpoint -> (path, stream, extra config)
BODY_ENDPOINTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "metrics": (rf"^/orgs/{ORG}/copilot/metrics$", "copilot_metrics", {"teams": []}),
    "teams-list": (rf"^/orgs/{ORG}/teams$", "copilot_metrics", {"teams": [f"{ORG}/*"]}),
    "report-call": (r"/copilot/metrics/reports/users-1-day$", USERS, {}),
    "report-download": (r"^/_downloads/", USERS, {}),
    "seats": (rf"^/orgs/{ORG}/copilot/billing/seats$", "copilot_seats", {}),
    "billing": (rf"^/orgs/{ORG}/copilot/billing$", "copilot_billing", {}),
}
#: name -> (fault kind, params): answers that are wrong for every endpoint, on every try.
MALFORMED: dict[str, tuple[str, dict[str, Any]]] = {
    "html-error-page": ("html", {}),
    "json-of-the-wrong-type": ("wrong-type", {}),
    "json-null": ("body", {"json": None}),
    "a-bare-number": ("body", {"json": 42}),
    "200-with-an-empty-body": ("empty", {}),
}
#: What each malformed answer must say, beyond naming where (by default: the endpoint retried
#: it until the budget, or refused its shape).
#: An empty file is a file without rows: see
#: test_bad_report_files.py::test_an_empty_report_file_is_a_file_without_rows.
NOT_AN_ERROR = {("report-download", "200-with-an-empty-body")}


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        pytest.param(endpoint, name, id=f"{endpoint}-{name}")
        for endpoint in BODY_ENDPOINTS
        for name in MALFORMED
        if (endpoint, name) not in NOT_AN_ERROR
    ],
)
def test_a_malformed_body_is_one_clear_line(
    sim: Simulator, tmp_path: Path, endpoint: str, name: str
) -> None:
    path, stream, extra = BODY_ENDPOINTS[endpoint]
    kind, params = MALFORMED[name]
    sim.faults.add(path=path, kind=kind, times=None, **params)
    config = base_config(sim, retry_max_elapsed_seconds=0.3, **extra)

    run = run_cli(config, tmp_path, streams=[stream])

    assert run.exit_code == 1, tail(run.stderr)
    line = error_line(run.stderr)
    assert len(line) > 40, line
    assert any(word in line for word in (ORG, ENTERPRISE, "API", "report")), line
    assert_nothing_leaks(run, [sim.settings.token])


#: Wrong shapes inside otherwise well-formed JSON; the third item is how each one failed
#: before the tap checked for it (a traceback, or data dropped without a word).
INNER_SHAPES: dict[str, tuple[str, dict[str, Any], str]] = {
    "metrics-array-of-numbers": (
        "metrics",
        {"json": [1, "x"]},
        "metrics.py get_records: a day that is not an object raises AttributeError",
    ),
    "teams-list-entry-without-slug": (
        "teams-list",
        {"json": [{"name": "Justice League", "id": 1}]},
        "metrics.py teams_of: a team without `slug` raises KeyError",
    ),
    "seats-array-of-numbers": (
        "seats",
        {"json": {"total_seats": 1, "seats": [1]}},
        "billing.py: a seat that is not an object raises AttributeError in seat_key/post_process",
    ),
    "report-link-that-is-not-a-url": (
        "report-call",
        {"json": {"download_links": ["not a url?sig=SENTINELSIG"], "report_day": "2025-01-01"}},
        "downloads.py: requests' InvalidURL/MissingSchema escape as a traceback that quotes "
        "the link (a signed URL is a credential)",
    ),
    "report-line-with-day-totals-not-a-list": (
        "report-download",
        {"raw": '{"user_id": 1, "day_totals": 5}'},
        "reports.py rows_of: expand_day_totals' ReportFileError is not turned into "
        "ReportUnreadable, so it escapes main() as a traceback",
    ),
}


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        pytest.param(endpoint, body, id=name)
        for name, (endpoint, body, _was_a_bug) in INNER_SHAPES.items()
    ],
)
def test_a_wrong_shape_inside_a_body_is_one_clear_line(
    sim: Simulator, tmp_path: Path, endpoint: str, body: dict[str, Any]
) -> None:
    path, stream, extra = BODY_ENDPOINTS[endpoint]
    sim.faults.add(path=path, kind="body", times=None, **body)

    run = run_cli(base_config(sim, **extra), tmp_path, streams=[stream])

    assert run.exit_code == 1
    error_line(run.stderr)
    assert_nothing_leaks(run, [sim.settings.token, "SENTINELSIG"])


def test_a_metrics_day_without_a_date_is_not_dropped_silently(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.faults.add(
        path=BODY_ENDPOINTS["metrics"][0], kind="body", times=None, json=[{"total_active_users": 7}]
    )

    run = run_cli(base_config(sim, teams=[]), tmp_path, streams=["copilot_metrics"])

    assert run.exit_code == 1
    assert "date" in error_line(run.stderr)


def test_a_team_slug_from_the_api_cannot_reach_another_endpoint(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.faults.add(
        path=BODY_ENDPOINTS["teams-list"][0], kind="body", times=None, json=[{"slug": "../../acme"}]
    )

    run = run_cli(base_config(sim, teams=[f"{ORG}/*"]), tmp_path, streams=["copilot_metrics"])

    assert not [r.path for r in sim.requests if not r.path.startswith(f"/orgs/{ORG}/")]
    assert run.exit_code == 1
    assert "slug" in error_line(run.stderr)


def test_property_tests_ran_against_the_tap_schemas(sim: Simulator) -> None:
    """Guard: the streams the property tests validate exist with the declared keys."""
    tap = TapCopilotMetrics(config={}, validate_config=False, setup_mapper=False)
    for stream in ("copilot_metrics", "copilot_seats", "copilot_billing", *FILE_CASES):
        assert stream in tap.streams
        assert set(tap.streams[stream].primary_keys) <= set(
            tap.streams[stream].schema["properties"]
        )
