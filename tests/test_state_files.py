"""State files the tap did not write this way: older versions, damage, scopes no longer configured.

What is right for a user:

* a state from an older version is used where it can be (a `YYYY-MM-DDT00:00:00Z` bookmark is
  that day); a bookmark the partitioned streams cannot use (one without a scope) is ignored
  with a warning, and each scope starts from its own bookmark or start_date: nothing skipped;
* a damaged state stops the run with one line naming the problem, before any request, and
  never a traceback: guessing would either skip days (lost data) or silently re-read a year;
* bookmarks of scopes (or streams) no longer configured are harmless: kept unchanged in the
  state, so they resume if the scope comes back, with a warning naming them.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.errors import ConfigError
from tap_copilot_metrics.settings import parse_settings
from tap_copilot_metrics.statefiles import load_state_text, review_state
from tests.reliability_support import (
    ENTERPRISE,
    ORG,
    QUICK_RETRIES,
    TEAM,
    assert_nothing_leaks,
    error_line,
    keyed,
    partition_bookmarks,
    records,
    run_cli,
    sentinel_token,
    state_with,
    tail,
)
from tests.sim_support import days_ago
from tests.tap_runner import TapRun

USAGE, METRICS = "copilot_usage_daily", "copilot_metrics"
STREAMS = (USAGE, METRICS)
DAYS = 6
LOOKBACK = 1


pytestmark = [
    pytest.mark.simulator(
        token=sentinel_token(),
        organizations={ORG: ["justice-league"]},
        enterprises=[ENTERPRISE],
        users_per_org=12,
        users_per_enterprise=20,
        seats_per_org=3,
        files_per_report=1,
    ),
    pytest.mark.usefixtures("fresh_sim"),
]


def day(sim: Simulator, days: int) -> str:
    return days_ago(sim, days).isoformat()


@pytest.fixture(scope="module")
def config(sim: Simulator) -> dict[str, Any]:
    return sim.tap_config(
        start_date=day(sim, DAYS), teams=[TEAM], lookback_days=LOOKBACK, **QUICK_RETRIES
    )


@pytest.fixture(scope="module")
def clean(config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> TapRun:
    run = run_cli(config, tmp_path_factory.mktemp("clean"), streams=STREAMS)
    assert run.exit_code == 0, tail(run.stderr)
    assert records(run.messages, USAGE)
    assert records(run.messages, METRICS)
    return run


def partition(scope: str, name: str, value: Any, key: str = "day") -> dict[str, Any]:
    return {
        "context": {"scope": scope, "scope_name": name},
        "replication_key": key,
        "replication_key_value": value,
    }


def report_days_asked(sim: Simulator, scope_path: str) -> list[str]:
    report = "organization-1-day" if scope_path.startswith("/orgs/") else "enterprise-1-day"
    path = f"{scope_path}/copilot/metrics/reports/{report}"
    return sorted(r.query["day"] for r in sim.requests if r.path == path)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# --- older versions ----------------------------------------------------------------------------


def test_a_timestamp_bookmark_of_an_older_version_resumes_from_its_day(
    sim: Simulator, config: dict[str, Any], clean: TapRun, tmp_path: Path
) -> None:
    mark = day(sim, 3)
    state = {
        "bookmarks": {
            USAGE: {"partitions": [partition("organization", ORG, f"{mark}T00:00:00Z")]},
            METRICS: {
                "partitions": [partition("organization", ORG, f"{mark}T00:00:00+00:00", "date")]
            },
        }
    }

    run = run_cli(config, tmp_path, streams=STREAMS, state=state)

    assert run.exit_code == 0, tail(run.stderr)
    # Read from the bookmark's day minus the lookback, like a date bookmark.
    assert report_days_asked(sim, f"/orgs/{ORG}")[0] == day(sim, 3 + LOOKBACK)
    assert report_days_asked(sim, f"/enterprises/{ENTERPRISE}")[0] == day(sim, DAYS)
    legacy = [r for r in sim.requests if r.path == f"/orgs/{ORG}/copilot/metrics"]
    assert legacy[0].query["since"] == f"{day(sim, 3 + LOOKBACK)}T00:00:00Z"
    # The new bookmarks are plain dates, and the same as a clean run's.
    assert partition_bookmarks(run.final_state) == partition_bookmarks(clean.final_state)
    # Every record from the re-read days on is there, as in the clean run.
    for stream in STREAMS:
        got = keyed(run.messages, stream)
        field = "day" if stream == USAGE else "date"
        want = {
            k: r
            for k, r in keyed(clean.messages, stream).items()
            if r["scope_name"] != ORG or r[field] >= day(sim, 3 + LOOKBACK)
        }
        assert got == want, stream


def test_a_bookmark_without_a_scope_partition_skips_nothing(
    sim: Simulator, config: dict[str, Any], clean: TapRun, tmp_path: Path
) -> None:
    """An older version's stream-level bookmark: the partitioned streams cannot tell which
    scope it belonged to, so every scope starts from start_date (re-read, never skipped)."""
    state = {"bookmarks": {USAGE: {"replication_key": "day", "replication_key_value": day(sim, 2)}}}

    run = run_cli(config, tmp_path, streams=[USAGE], state=state)

    assert run.exit_code == 0, tail(run.stderr)
    assert keyed(run.messages, USAGE) == keyed(clean.messages, USAGE)


# --- damaged state -----------------------------------------------------------------------------

DAMAGED_TEXT: dict[str, str] = {
    "not-json": '{"bookmarks": {',
    "empty-file": "",
    "a-json-list": "[]",
    "a-json-string": '"bookmarks"',
}
DAMAGED_SHAPE: dict[str, Any] = {
    "bookmarks-is-a-list": {"bookmarks": []},
    "stream-state-is-a-string": {"bookmarks": {USAGE: "2025-01-01"}},
    "partitions-is-an-object": {"bookmarks": {USAGE: {"partitions": {}}}},
    "partition-without-context": {
        "bookmarks": {USAGE: {"partitions": [{"replication_key_value": "2025-01-01"}]}}
    },
}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param(DAMAGED_TEXT["not-json"], "not valid JSON (line 1", id="not-json"),
        pytest.param(DAMAGED_TEXT["empty-file"], "empty", id="empty-file"),
        pytest.param(DAMAGED_TEXT["a-json-list"], "JSON object", id="a-json-list"),
        pytest.param(DAMAGED_TEXT["a-json-string"], "JSON object", id="a-json-string"),
    ],
)
def test_a_state_file_that_is_not_a_json_object_is_one_line_before_any_request(
    sim: Simulator, config: dict[str, Any], tmp_path: Path, text: str, words: str
) -> None:
    run = run_cli(config, tmp_path, streams=STREAMS, state_text=text)

    assert run.exit_code == 1
    line = error_line(run.stderr)
    assert line.startswith("Invalid setting `state`: "), line
    assert words in line
    assert sim.requests == []


@pytest.mark.parametrize("name", list(DAMAGED_SHAPE))
def test_a_state_of_the_wrong_shape_is_one_line_before_any_request(
    sim: Simulator, config: dict[str, Any], tmp_path: Path, name: str
) -> None:
    run = run_cli(config, tmp_path, streams=STREAMS, state=DAMAGED_SHAPE[name])

    assert run.exit_code == 1
    assert error_line(run.stderr).startswith("Invalid setting `state`: ")
    assert sim.requests == []


@pytest.mark.parametrize(
    ("value", "words"),
    [
        pytest.param("yesterday", "is not a date", id="a-word"),
        pytest.param("2025-02-30", "is not a date", id="an-impossible-date"),
        pytest.param("20250101", "is not a date", id="digits-only"),
        pytest.param(20250101, "is not a date", id="a-number"),
        pytest.param("2025-01-01garbage", "is not a date", id="trailing-garbage"),
        pytest.param("2999-01-01", "is in the future", id="in-the-future"),
    ],
)
def test_a_bookmark_that_is_not_a_usable_date_is_one_line_naming_it(
    sim: Simulator, config: dict[str, Any], tmp_path: Path, value: Any, words: str
) -> None:
    """The first partition the run reads: refused before any request."""
    state = {"bookmarks": {USAGE: {"partitions": [partition("organization", ORG, value)]}}}

    run = run_cli(config, tmp_path, streams=[USAGE], state=state)

    assert run.exit_code == 1, tail(run.stderr)
    line = error_line(run.stderr)
    assert line.startswith("Invalid setting `state`: "), line
    for text in (words, USAGE, f"organization '{ORG}'", "fix or remove"):
        assert text in line, line
    assert sim.requests == []
    assert_nothing_leaks(run, [sim.settings.token])


def test_a_bad_bookmark_of_a_later_stream_stops_the_run_with_one_line(
    sim: Simulator, config: dict[str, Any], tmp_path: Path
) -> None:
    state = state_with({(METRICS, "enterprise", ENTERPRISE): "soon"})

    run = run_cli(config, tmp_path, streams=STREAMS, state=state)

    assert run.exit_code == 1, tail(run.stderr)
    line = error_line(run.stderr)
    assert METRICS in line, line
    assert f"enterprise '{ENTERPRISE}'" in line, line


def test_a_bad_bookmark_of_a_later_stream_is_refused_before_any_request(
    sim: Simulator, config: dict[str, Any], tmp_path: Path
) -> None:
    state = state_with({(METRICS, "enterprise", ENTERPRISE): "soon"})

    run = run_cli(config, tmp_path, streams=STREAMS, state=state)

    assert run.exit_code == 1
    assert sim.requests == []


# --- partitions and streams that are not configured any more -----------------------------------

STALE_STATE: dict[str, Any] = {
    "bookmarks": {
        USAGE: {"partitions": [partition("organization", "gone-org", "2025-01-01")]},
        METRICS: {"partitions": [partition("team", "octo-org/disbanded", "2025-01-01", "date")]},
        "copilot_old_stream": {"replication_key_value": "2025-01-01"},
    }
}


def test_bookmarks_of_scopes_and_streams_no_longer_configured_are_kept_unchanged(
    config: dict[str, Any], clean: TapRun, tmp_path: Path
) -> None:
    run = run_cli(config, tmp_path, streams=STREAMS, state=copy.deepcopy(STALE_STATE))

    assert run.exit_code == 0, tail(run.stderr)
    for stream in STREAMS:
        assert keyed(run.messages, stream) == keyed(clean.messages, stream)
    final = run.final_state["bookmarks"]
    assert final["copilot_old_stream"] == STALE_STATE["bookmarks"]["copilot_old_stream"]
    for stream in STREAMS:
        stale = STALE_STATE["bookmarks"][stream]["partitions"][0]
        assert stale in final[stream]["partitions"]
    marks = partition_bookmarks(run.final_state)
    assert marks == {
        **partition_bookmarks(clean.final_state),
        (USAGE, "organization", "gone-org"): "2025-01-01",
        (METRICS, "team", "octo-org/disbanded"): "2025-01-01",
    }


@pytest.mark.parametrize(
    ("state", "words"),
    [
        pytest.param(STALE_STATE, ["organization 'gone-org'", "not configured"], id="gone-scope"),
        pytest.param(STALE_STATE, ["copilot_old_stream"], id="unknown-stream"),
        pytest.param(
            {"bookmarks": {USAGE: {"replication_key_value": "2025-01-01"}}},
            ["without a scope", "older version"],
            id="bookmark-without-partition",
        ),
    ],
)
def test_harmless_leftovers_in_the_state_are_named_in_a_warning(
    config: dict[str, Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    state: dict[str, Any],
    words: list[str],
) -> None:
    caplog.set_level(logging.WARNING)
    run = run_cli(config, tmp_path, streams=STREAMS, state=copy.deepcopy(state))
    assert run.exit_code == 0, tail(run.stderr)
    assert any(all(w in m for w in words) for m in warnings_of(caplog)), warnings_of(caplog)


# --- the checks themselves (statefiles.py), ready for the tap to call --------------------------


@pytest.fixture
def settings(config: dict[str, Any]) -> Any:
    return parse_settings({**config, "teams": [TEAM, "acme/*"], "organizations": [ORG, "acme"]})


def test_review_state_accepts_what_the_tap_writes(clean: TapRun, settings: Any) -> None:
    assert review_state(clean.final_state, settings=settings, streams=STREAMS) == []
    assert review_state({}, settings=settings, streams=STREAMS) == []


def test_review_state_warns_about_harmless_leftovers(settings: Any) -> None:
    state = copy.deepcopy(STALE_STATE)
    state["bookmarks"][METRICS]["partitions"].append(
        partition("team", "acme/any-team", "2025-01-01", "date")  # covered by `acme/*`
    )
    state["bookmarks"][USAGE]["replication_key_value"] = "2025-01-01"

    warnings = review_state(state, settings=settings, streams=STREAMS)

    assert len(warnings) == 4, warnings
    joined = "\n".join(warnings)
    for words in ("organization 'gone-org'", "team 'octo-org/disbanded'", "copilot_old_stream"):
        assert words in joined
    assert "acme/any-team" not in joined
    assert "older version" in joined


@pytest.mark.parametrize(
    "state",
    [
        pytest.param([], id="a-list"),
        *(pytest.param(value, id=name) for name, value in DAMAGED_SHAPE.items()),
        pytest.param(
            {"bookmarks": {USAGE: {"partitions": [partition("organization", ORG, "x")]}}},
            id="bad-bookmark",
        ),
        pytest.param(
            {"bookmarks": {USAGE: {"partitions": [partition("organization", ORG, "2999-01-01")]}}},
            id="future-bookmark",
        ),
    ],
)
def test_review_state_refuses_damage_in_one_line(settings: Any, state: Any) -> None:
    with pytest.raises(ConfigError, match=r"^Invalid setting `state`: [^\n]+$"):
        review_state(state, settings=settings, streams=STREAMS)


@pytest.mark.parametrize("name", list(DAMAGED_TEXT))
def test_load_state_text_refuses_what_is_not_a_json_object(name: str) -> None:
    with pytest.raises(ConfigError, match=r"^Invalid setting `state`: [^\n]+$"):
        load_state_text(DAMAGED_TEXT[name])


def test_load_state_text_reads_a_state(clean: TapRun) -> None:
    assert load_state_text(json.dumps(clean.final_state)) == clean.final_state
