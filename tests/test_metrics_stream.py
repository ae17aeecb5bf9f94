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
from metrics_support import (
    KEYS,
    STREAM,
    cli_in_process,
    days_ago,
    expected_records,
    keyed,
    metrics_config,
    metrics_requests,
    scopes,
)
from singer_sdk.exceptions import ConfigurationError, FatalAPIError
from tap_runner import TapRun, bookmark, catalog_selecting, run_tap, sync_in_process

from tap_copilot_metrics.errors import ConfigError, TapAPIError
from tap_copilot_metrics.simulator import Simulator
from tap_copilot_metrics.streams.metrics import RETENTION_DAYS, CopilotMetricsStream
from tap_copilot_metrics.tap import TapCopilotMetrics


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
    # One request per scope: the window, 100 days per page, page 1 came back short.
    requests_ = metrics_requests(simulator)
    assert sorted(scope_of_path(r.path) for r in requests_) == sorted(scopes(config))
    for request in requests_:
        assert request.query == {
            "since": since(first),
            "until": until(last),
            "per_page": "100",
            "page": "1",
        }
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
        asked = [r for r in metrics_requests(sim) if scope_of_path(r.path) == scope]
        assert [r.query["since"] for r in asked] == [since(resume_from)]
        assert [r.query["until"] for r in asked] == [until(yesterday)]
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
    state = {
        "bookmarks": {
            STREAM: {
                "partitions": [
                    {
                        "context": {"scope": "organization", "scope_name": "acme"},
                        "replication_key": "date",
                        "replication_key_value": old,
                    }
                ]
            }
        }
    }
    with caplog.at_level(logging.WARNING):
        run = sync_in_process(config, streams=[STREAM], state=state)
    oldest = days_ago(simulator, RETENTION_DAYS - 1)
    assert [r.query["since"] for r in metrics_requests(simulator)] == [since(oldest)]
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


def test_a_full_page_is_followed_by_the_next_page(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The simulator never publishes 100 days in a row (days with < 5 users are missing), so
    # GitHub's page of 100 cannot fill up; a small page size makes paging observable.
    page_size = 7
    monkeypatch.setattr(CopilotMetricsStream, "page_size", page_size)
    config = metrics_config(simulator, first_day=40, teams=["octo-org/avengers"])
    first = days_ago(simulator, 40)

    run = sync_in_process(config, streams=[STREAM])

    assert run.records(STREAM) == expected_records(simulator, config, first)
    assert_clean_keys(run)
    for scope in scopes(config):
        available = len(expected_records(simulator, config, first, only=[scope]))
        assert available > page_size
        pages = [r.query for r in metrics_requests(simulator) if scope_of_path(r.path) == scope]
        # Full pages are followed by the next one; the first short (or empty) page ends it.
        assert [int(q["page"]) for q in pages] == list(range(1, available // page_size + 2))
        assert {(q["per_page"], q["since"]) for q in pages} == {(str(page_size), since(first))}


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
    state_at_end = {
        "bookmarks": {
            STREAM: {
                "partitions": [
                    {
                        "context": {"scope": "organization", "scope_name": "octo-org"},
                        "replication_key": "date",
                        "replication_key_value": (end + dt.timedelta(days=1)).isoformat(),
                    }
                ]
            }
        }
    }
    run = sync_in_process(config, streams=[STREAM], state=state_at_end)
    assert metrics_requests(simulator) == []
    assert run.records(STREAM) == []


def test_malformed_bookmark_is_a_clear_error_before_any_request(simulator: Simulator) -> None:
    config = metrics_config(
        simulator, first_day=8, organizations=["octo-org"], teams=[], enterprises=[]
    )
    state = {
        "bookmarks": {
            STREAM: {
                "partitions": [
                    {
                        "context": {"scope": "organization", "scope_name": "octo-org"},
                        "replication_key": "date",
                        "replication_key_value": "last tuesday",
                    }
                ]
            }
        }
    }
    # The state is reviewed when the tap loads it, before any stream starts.
    with pytest.raises(ConfigError) as raised:
        sync_until_failure(config, state=state)
    failure = raised.value
    assert failure.setting == "state"
    assert "'last tuesday'" in str(failure)
    assert "organization 'octo-org'" in str(failure)
    assert simulator.requests == []
