"""`copilot_metrics` over real HTTP against the simulator: records, windows, state and paging.

Expected values always come from the simulator's truth (`sim.truth.legacy_metrics`), never from
numbers written here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
from pathlib import Path
from typing import Any

import pytest
import requests
from copilot_devkit.simulator import Simulator
from singer_sdk.exceptions import ConfigurationError, FatalAPIError

from tap_copilot_metrics.errors import ConfigError, TapAPIError
from tap_copilot_metrics.streams.metrics import RETENTION_DAYS, CopilotMetricsStream
from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.metrics_support import (
    KEYS,
    STREAM,
    cli_in_process,
    expected_records,
    keyed,
    metrics_config,
    metrics_requests,
    scopes,
)
from tests.reliability_support import state_with
from tests.sim_support import days_ago
from tests.tap_runner import TapRun, bookmark, catalog_selecting, run_tap, sync_in_process


def since(day: dt.date | str) -> str:
    return f"{day}T00:00:00Z"


def until(day: dt.date | str) -> str:
    return f"{day}T23:59:59Z"


def scope_of_path(path: str) -> tuple[str, str]:
    """(scope, scope_name) a simulator request was for."""
    parts = path.strip("/").split("/")
    if parts[0] == "enterprises":
        return "enterprise", parts[1]
    if parts[2] == "team":
        return "team", f"{parts[1]}/{parts[3]}"
    return "organization", parts[1]


def expected_pages(
    sim: Simulator,
    config: dict[str, Any],
    scope: tuple[str, str],
    first: dt.date,
    last: dt.date,
    days_per_page: int,
) -> list[int]:
    """The page numbers the tap must ask for one scope's window first..last, from the truth.

    Every page that holds days, and one more (which comes back empty) unless the window's last
    day was served: GitHub omits days with fewer than 5 active members, also at the window's end.
    """
    served = [r["date"] for r in expected_records(sim, config, first, last, only=[scope])]
    pages = -(-len(served) // days_per_page)
    if not served or served[-1] < last.isoformat():
        pages += 1
    return list(range(1, pages + 1))


def pages_asked(sim: Simulator, scope: tuple[str, str]) -> list[dict[str, str]]:
    """The query of each metrics request the simulator received for one scope, in order."""
    return [r.query for r in metrics_requests(sim) if scope_of_path(r.path) == scope]


def sync_until_failure(
    config: dict[str, Any], *, state: dict[str, Any] | None = None
) -> tuple[TapRun, Exception]:
    """An in-process sync that is expected to fail: what it printed, and why it stopped."""
    out = io.StringIO()
    tap = TapCopilotMetrics(config=config, state=state, catalog=catalog_selecting(config, [STREAM]))
    with (
        contextlib.redirect_stdout(out),
        pytest.raises((FatalAPIError, ConfigurationError)) as failure,
    ):
        tap.sync_all()
    return TapRun.parse(1, out.getvalue(), ""), failure.value


def assert_clean_keys(run: TapRun) -> None:
    """Key columns are never null or empty, and no key is emitted twice."""
    for record in run.records(STREAM):
        for key in KEYS:
            assert isinstance(record[key], str)
            assert record[key].strip(), f"empty {key} in {record}"
    assert run.duplicate_keys(STREAM, KEYS) == []


def test_records_equal_truth_for_every_scope(simulator: Simulator) -> None:
    config = metrics_config(simulator, first_day=8)
    first, last = days_ago(simulator, 8), days_ago(simulator, 1)

    run = sync_in_process(config, streams=[STREAM])

    records = run.records(STREAM)
    assert records == expected_records(simulator, config, first, last)
    assert {r["scope"] for r in records} == {"organization", "team", "enterprise"}
    # Team names stay exactly as configured ("org/team-slug").
    assert {r["scope_name"] for r in records if r["scope"] == "team"} == set(config["teams"])
    assert_clean_keys(run)
    # Per scope the window, 100 days per page: page 1, and page 2 (empty) only when the
    # window's last day is missing from page 1.
    requests_ = metrics_requests(simulator)
    assert {scope_of_path(r.path) for r in requests_} == set(scopes(config))
    for scope in scopes(config):
        assert pages_asked(simulator, scope) == [
            {"since": since(first), "until": until(last), "per_page": "100", "page": str(page)}
            for page in expected_pages(simulator, config, scope, first, last, 100)
        ]
    for request in requests_:
        assert request.headers["x-github-api-version"] == "2026-03-10"
        assert request.headers["user-agent"].startswith("tap-copilot-metrics/")
    # The bookmark of each partition is the last day emitted for it.
    for scope, name in scopes(config):
        days = [r["date"] for r in records if (r["scope"], r["scope_name"]) == (scope, name)]
        assert days == sorted(days)
        assert bookmark(run.final_state, STREAM, scope, name) == days[-1]


def test_schema_message_declares_keys_and_date_replication(simulator: Simulator) -> None:
    config = metrics_config(simulator, first_day=3, organizations=["acme"], teams=[])
    run = sync_in_process(config, streams=[STREAM])
    schema = next(m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == STREAM)
    assert schema["key_properties"] == KEYS
    assert schema["bookmark_properties"] == ["date"]
    assert schema["schema"]["properties"]["date"]["format"] == "date"


def test_incremental_resume_from_a_state_file(make_simulator: Any, tmp_path: Path) -> None:
    sim = make_simulator()
    lookback = 3
    config = metrics_config(sim, first_day=30, lookback_days=lookback)
    first_run = sync_in_process(
        {**config, "end_date": days_ago(sim, 12).isoformat()}, streams=[STREAM]
    )
    state = first_run.final_state
    marks = {scope: bookmark(state, STREAM, *scope) for scope in scopes(config)}
    assert all(marks.values())
    sim.clear_requests()

    resumed = run_tap(config, tmp_path=tmp_path, streams=[STREAM], state=state)

    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    yesterday = days_ago(sim, 1)
    expected = []
    for scope, mark in marks.items():
        resume_from = dt.date.fromisoformat(str(mark)) - dt.timedelta(days=lookback)
        asked = pages_asked(sim, scope)
        assert {q["since"] for q in asked} == {since(resume_from)}
        assert {q["until"] for q in asked} == {until(yesterday)}
        pages = expected_pages(sim, config, scope, resume_from, yesterday, 100)
        assert [int(q["page"]) for q in asked] == pages
        expected += expected_records(sim, config, resume_from, yesterday, only=[scope])
        assert bookmark(resumed.final_state, STREAM, *scope) == expected[-1]["date"]
    assert resumed.records(STREAM) == expected
    assert_clean_keys(resumed)


def test_interrupted_run_resumes_from_the_last_bookmark_written(make_simulator: Any) -> None:
    sim = make_simulator()
    config = metrics_config(
        sim, first_day=10, organizations=["octo-org", "acme"], teams=[], enterprises=[]
    )
    sim.faults.add(path=r"^/orgs/acme/copilot/metrics$", kind="403", times=1)

    interrupted, failure = sync_until_failure(config)

    assert isinstance(failure, TapAPIError)
    assert "organization 'acme'" in str(failure)
    octo = ("organization", "octo-org")
    acme = ("organization", "acme")
    state = interrupted.final_state
    octo_mark = bookmark(state, STREAM, *octo)
    assert octo_mark == expected_records(sim, config, days_ago(sim, 10), only=[octo])[-1]["date"]
    assert bookmark(state, STREAM, *acme) is None
    sim.clear_requests()

    resumed = sync_in_process(config, streams=[STREAM], state=state)

    octo_from = dt.date.fromisoformat(str(octo_mark)) - dt.timedelta(days=3)
    queries = {scope_of_path(r.path): r.query["since"] for r in metrics_requests(sim)}
    assert queries == {octo: since(octo_from), acme: since(days_ago(sim, 10))}
    assert resumed.records(STREAM) == (
        expected_records(sim, config, octo_from, only=[octo])
        + expected_records(sim, config, days_ago(sim, 10), only=[acme])
    )
    # Together the two runs hold every day exactly once per key (targets upsert the overlap).
    union = keyed(interrupted.records(STREAM)) | keyed(resumed.records(STREAM))
    assert union == keyed(expected_records(sim, config, days_ago(sim, 10)))


def test_since_is_clamped_to_the_last_100_days_with_a_warning(
    simulator: Simulator, tmp_path: Path
) -> None:
    config = metrics_config(simulator, first_day=200, teams=["acme/platform"])
    oldest = days_ago(simulator, RETENTION_DAYS - 1)

    run = cli_in_process(config, tmp_path, streams=[STREAM])

    assert run.exit_code == 0, run.stderr[-2000:]
    requests_ = metrics_requests(simulator)
    assert {r.query["since"] for r in requests_} == {since(oldest)}
    assert {r.status for r in requests_} == {200}  # GitHub's 422 for an old `since` never hit
    assert run.records(STREAM) == expected_records(simulator, config, oldest)
    lost = f"{days_ago(simulator, 200)}..{days_ago(simulator, RETENTION_DAYS)}"
    warnings = [line for line in run.stderr.splitlines() if "| WARNING " in line]
    for scope, name in scopes(config):
        assert any(
            lost in w and f"{scope} '{name}'" in w and "can no longer be fetched" in w
            for w in warnings
        ), warnings


def test_old_bookmark_is_clamped_too(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    config = metrics_config(
        simulator, first_day=300, organizations=["acme"], teams=[], enterprises=[]
    )
    old = days_ago(simulator, 150).isoformat()
    state = state_with({(STREAM, "organization", "acme"): old})
    with caplog.at_level(logging.WARNING):
        run = sync_in_process(config, streams=[STREAM], state=state)
    oldest = days_ago(simulator, RETENTION_DAYS - 1)
    assert {r.query["since"] for r in metrics_requests(simulator)} == {since(oldest)}
    assert run.records(STREAM) == expected_records(simulator, config, oldest)
    lost_from = dt.date.fromisoformat(old) - dt.timedelta(days=3)
    assert any(
        f"{lost_from}..{days_ago(simulator, RETENTION_DAYS)}" in r.getMessage()
        for r in caplog.records
    )


def test_end_date_is_respected(simulator: Simulator) -> None:
    end = days_ago(simulator, 5)
    config = metrics_config(simulator, first_day=15, end_date=end.isoformat())

    run = sync_in_process(config, streams=[STREAM])

    assert {r.query["until"] for r in metrics_requests(simulator)} == {until(end)}
    records = run.records(STREAM)
    assert records == expected_records(simulator, config, days_ago(simulator, 15), end)
    assert max(r["date"] for r in records) <= end.isoformat()
    for scope in scopes(config):
        assert str(bookmark(run.final_state, STREAM, *scope)) <= end.isoformat()


def test_pages_are_followed_until_the_window_s_last_day(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The simulator never publishes 100 days in a row (days with < 5 users are missing), so
    # GitHub's page of 100 cannot fill up; a small page size makes paging observable.
    page_size = 7
    monkeypatch.setattr(CopilotMetricsStream, "page_size", page_size)
    config = metrics_config(simulator, first_day=40, teams=["octo-org/avengers"])
    first, last = days_ago(simulator, 40), days_ago(simulator, 1)

    run = sync_in_process(config, streams=[STREAM])

    assert run.records(STREAM) == expected_records(simulator, config, first)
    assert_clean_keys(run)
    for scope in scopes(config):
        available = len(expected_records(simulator, config, first, only=[scope]))
        assert available > page_size
        pages = pages_asked(simulator, scope)
        # Pages follow each other until one holds the window's last day, or comes back empty.
        assert [int(q["page"]) for q in pages] == expected_pages(
            simulator, config, scope, first, last, page_size
        )
        assert {(q["per_page"], q["since"]) for q in pages} == {(str(page_size), since(first))}


@pytest.mark.parametrize("days_per_page", [28, 1])
def test_short_pages_lose_no_day(make_simulator: Any, days_per_page: int) -> None:
    # A server that serves fewer days than `per_page` asks, and no `Link` header: a short page
    # is not the last one. Every day of a 90-day window must still arrive.
    sim = make_simulator(legacy_max_days_per_page=days_per_page)
    config = metrics_config(sim, first_day=90)
    first, last = days_ago(sim, 90), days_ago(sim, 1)

    run = sync_in_process(config, streams=[STREAM])

    assert run.records(STREAM) == expected_records(sim, config, first, last)
    assert_clean_keys(run)
    for scope in scopes(config):
        served = expected_records(sim, config, first, last, only=[scope])
        assert len(served) > days_per_page  # page 1 was short of `per_page`, more followed
        pages = pages_asked(sim, scope)
        assert [int(q["page"]) for q in pages] == expected_pages(
            sim, config, scope, first, last, days_per_page
        )
        assert {(q["per_page"], q["since"], q["until"]) for q in pages} == {
            ("100", since(first), until(last))
        }


def test_capped_pages_carry_no_link_header(make_simulator: Any) -> None:
    # GitHub declares no `Link` header on this endpoint: the tap's no-Link path is the one tested.
    sim = make_simulator(legacy_max_days_per_page=28)
    response = requests.get(
        f"{sim.base_url}/orgs/octo-org/copilot/metrics",
        params={"since": since(days_ago(sim, 90)), "per_page": 100},
        headers={"Authorization": f"Bearer {sim.settings.token}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert len(response.json()) == 28
    assert "link" not in {name.lower() for name in response.headers}


def test_missing_last_days_cost_one_empty_page(make_simulator: Any) -> None:
    # The window ends on a day GitHub omitted (fewer than 5 active members): the tap cannot know
    # it will never come, asks one more page, gets an empty page and stops.
    days_per_page = 28
    sim = make_simulator(legacy_max_days_per_page=days_per_page)
    scope = ("organization", "octo-org")
    first = days_ago(sim, 90)
    published = {d["date"] for d in sim.truth.legacy_metrics(*scope)}
    window = [days_ago(sim, n) for n in range(90, 0, -1)]
    omitted = [day for day in window[days_per_page + 1 :] if day.isoformat() not in published]
    assert omitted, "the simulator omitted no day late in the window"
    end = omitted[-1]
    config = metrics_config(
        sim,
        first_day=90,
        end_date=end.isoformat(),
        organizations=["octo-org"],
        teams=[],
        enterprises=[],
    )

    run = sync_in_process(config, streams=[STREAM])

    served = expected_records(sim, config, first, end)
    assert run.records(STREAM) == served
    full_pages = -(-len(served) // days_per_page)
    assert [int(q["page"]) for q in pages_asked(sim, scope)] == list(range(1, full_pages + 2))
    assert [r.status for r in metrics_requests(sim)] == [200] * (full_pages + 1)


def test_a_server_ignoring_page_ends_paging_without_duplicates(simulator: Simulator) -> None:
    # Every page answers the same short page: the second one brings no later day, so paging
    # stops there, and each day is emitted once.
    scope = ("organization", "octo-org")
    config = metrics_config(
        simulator, first_day=20, organizations=["octo-org"], teams=[], enterprises=[]
    )
    first, last = days_ago(simulator, 20), days_ago(simulator, 1)
    body = expected_records(simulator, config, first, days_ago(simulator, 10), only=[scope])
    simulator.faults.add(
        path=r"^/orgs/octo-org/copilot/metrics$",
        kind="body",
        times=None,
        json=[{k: v for k, v in r.items() if k not in ("scope", "scope_name")} for r in body],
    )

    run = sync_in_process(config, streams=[STREAM])

    assert run.records(STREAM) == body
    assert_clean_keys(run)
    assert [int(q["page"]) for q in pages_asked(simulator, scope)] == [1, 2]
    assert bookmark(run.final_state, STREAM, *scope) == body[-1]["date"] < last.isoformat()


def test_a_complete_window_costs_one_request_per_scope(simulator: Simulator) -> None:
    # A normal run: GitHub serves the whole window on page 1, its last day included; the tap
    # asks no further page.
    config = metrics_config(simulator, first_day=90)
    first = days_ago(simulator, 90)
    published = [
        {r["date"] for r in expected_records(simulator, config, first, only=[scope])}
        for scope in scopes(config)
    ]
    # The window ends on the latest day every scope published, so each window is complete.
    end = dt.date.fromisoformat(max(set.intersection(*published)))
    config["end_date"] = end.isoformat()

    run = sync_in_process(config, streams=[STREAM])

    assert run.records(STREAM) == expected_records(simulator, config, first, end)
    for scope in scopes(config):
        assert pages_asked(simulator, scope) == [
            {"since": since(first), "until": until(end), "per_page": "100", "page": "1"}
        ]


def test_rerunning_a_window_yields_the_same_keys(simulator: Simulator) -> None:
    config = metrics_config(simulator, first_day=12)

    first = sync_in_process(config, streams=[STREAM])
    again = sync_in_process(config, streams=[STREAM])
    incremental = sync_in_process(config, streams=[STREAM], state=first.final_state)

    assert again.records(STREAM) == first.records(STREAM)
    assert again.final_state == first.final_state
    overlap = keyed(incremental.records(STREAM))
    assert overlap  # the lookback days come again ...
    assert set(overlap) <= set(keyed(first.records(STREAM)))  # ... under the same keys
    assert all(keyed(first.records(STREAM))[key] == record for key, record in overlap.items())
    assert incremental.final_state == first.final_state


def test_up_to_date_partition_requests_nothing(simulator: Simulator) -> None:
    end = days_ago(simulator, 3)
    config = metrics_config(
        simulator,
        first_day=8,
        end_date=end.isoformat(),
        lookback_days=0,
        organizations=["octo-org"],
        teams=[],
        enterprises=[],
    )
    state_at_end = state_with(
        {(STREAM, "organization", "octo-org"): (end + dt.timedelta(days=1)).isoformat()}
    )
    run = sync_in_process(config, streams=[STREAM], state=state_at_end)
    assert metrics_requests(simulator) == []
    assert run.records(STREAM) == []


def test_malformed_bookmark_is_a_clear_error_before_any_request(simulator: Simulator) -> None:
    config = metrics_config(
        simulator, first_day=8, organizations=["octo-org"], teams=[], enterprises=[]
    )
    state = state_with({(STREAM, "organization", "octo-org"): "last tuesday"})
    # The state is reviewed when the tap loads it, before any stream starts.
    with pytest.raises(ConfigError) as raised:
        sync_until_failure(config, state=state)
    failure = raised.value
    assert failure.setting == "state"
    assert "'last tuesday'" in str(failure)
    assert "organization 'octo-org'" in str(failure)
    assert simulator.requests == []
