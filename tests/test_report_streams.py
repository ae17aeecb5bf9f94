"""Usage-report streams over real HTTP against the simulator: records, days, state, not-ready days.

Every expected value comes from the simulator's truth API (`sim.truth.report_lines`): a record
is the file line as served plus `scope`/`scope_name`, nothing lost, nothing changed. Runs are
in-process (fast); logs are read with `caplog` (the tap's loggers propagate to the root logger).
Downloads, file formats and faults are in test_report_downloads.py; the SDK's standard tests
(every stream, catalog, discovery) in test_sdk_standard.py.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections import defaultdict
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator
from copilot_devkit.simulator.data import EXAMPLES_DIR

from tap_copilot_metrics.clock import utc_today
from tap_copilot_metrics.errors import TapAPIError
from tap_copilot_metrics.handoff import DAYS_PER_BATCH
from tests.report_support import (
    REPORT_STREAMS,
    REPORTS,
    SMALL,
    TWO_SCOPES,
    assert_equals_truth,
    assert_keys_sound,
    config,
    day_range,
    expected,
    messages_of,
    records_of,
    requested_days,
)
from tests.sim_support import MakeSimulator, days_ago
from tests.tap_runner import TapRun, bookmark, sync_in_process
from tests.truth import report_scopes as scopes

EXAMPLES = EXAMPLES_DIR

# --- helpers (the shared ones are in tests/report_support.py) ----------------------------------


def sim_today() -> dt.date:
    """Today as the simulator and the tap read it (for settings built before start)."""
    return utc_today()


def resume(run: TapRun) -> dict[str, Any]:
    """A copy of a run's last STATE, to start the next run with (the SDK mutates its input)."""
    return copy.deepcopy(run.final_state)


# --- records equal the truth -------------------------------------------------------------------


def test_every_report_stream_equals_truth_for_organizations_and_enterprises(
    make_simulator: MakeSimulator,
) -> None:
    sim = make_simulator(**SMALL, files_per_report=2)
    days = day_range(days_ago(sim, 3), days_ago(sim, 1))
    run = sync_in_process(config(sim, days[0]), streams=REPORT_STREAMS)

    assert_equals_truth(sim, run, days)
    for stream in REPORT_STREAMS:
        for scope, name in scopes(sim):
            # Guard: the comparison above is not vacuous for any stream or scope.
            assert expected(sim, stream, scope, name, days), (stream, scope, name)
            in_output = [r["day"] for r in records_of(run, stream, scope, name)]
            assert in_output == sorted(in_output)
            report = REPORTS[stream][scope]
            asked = requested_days(sim, report, scope, name)
            assert sorted(asked) == [d.isoformat() for d in days]  # each day once
            assert bookmark(run.final_state, stream, scope, name) == days[-1].isoformat()


# --- incremental runs and state ----------------------------------------------------------------


def test_incremental_runs_ask_only_from_bookmark_minus_lookback(
    make_simulator: MakeSimulator,
) -> None:
    streams = ("copilot_usage_daily", "copilot_user_usage_daily")
    sim = make_simulator(
        **SMALL, **TWO_SCOPES, reports_ready_through=sim_today() - dt.timedelta(days=3)
    )
    start = days_ago(sim, 8)
    lookback = 2
    first = sync_in_process(config(sim, start, lookback_days=lookback), streams=streams)
    assert_equals_truth(sim, first, day_range(start, days_ago(sim, 3)), streams)

    # Two more days become ready; the next run starts at bookmark - lookback_days.
    sim.settings.reports_ready_through = days_ago(sim, 1)
    sim.clear_requests()
    second = sync_in_process(
        config(sim, start, lookback_days=lookback), streams=streams, state=resume(first)
    )
    for stream in streams:
        for scope, name in scopes(sim):
            mark = dt.date.fromisoformat(bookmark(first.final_state, stream, scope, name) or "")
            assert mark == days_ago(sim, 3)
            days = day_range(mark - dt.timedelta(days=lookback), days_ago(sim, 1))
            asked = requested_days(sim, REPORTS[stream][scope], scope, name)
            assert sorted(asked) == [d.isoformat() for d in days], (stream, scope, name)
            assert records_of(second, stream, scope, name) == expected(
                sim, stream, scope, name, days
            )
            assert bookmark(second.final_state, stream, scope, name) == days_ago(sim, 1).isoformat()
        assert_keys_sound(second, stream)


def test_days_older_than_github_keeps_are_not_requested(
    make_simulator: MakeSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """start_date more than a year back: the first day asked is the oldest GitHub keeps."""
    caplog.set_level(logging.INFO)
    stream = "copilot_usage_daily"
    sim = make_simulator(**SMALL, **TWO_SCOPES)
    oldest = sim.settings.oldest_report_day("organization")
    start, end = oldest - dt.timedelta(days=30), oldest + dt.timedelta(days=2)
    run = sync_in_process(config(sim, start, end_date=end.isoformat()), streams=[stream])

    days = day_range(oldest, end)
    assert_equals_truth(sim, run, days, [stream])
    for scope, name in scopes(sim):
        asked = requested_days(sim, REPORTS[stream][scope], scope, name)
        assert sorted(asked) == [d.isoformat() for d in days]
    assert any(
        start.isoformat() in m and oldest.isoformat() in m for m in messages_of(caplog, stream)
    )


def test_state_is_written_after_each_batch_of_complete_days_and_never_ahead_of_records(
    make_simulator: MakeSimulator,
) -> None:
    sim = make_simulator(**SMALL, **TWO_SCOPES, files_per_report=3)
    days = day_range(days_ago(sim, DAYS_PER_BATCH + 3), days_ago(sim, 1))
    # The default selection: the report streams with their breakdown tables (child streams);
    # one 1-day report per day (the 28-day report's last day carries more fields).
    run = sync_in_process(config(sim, days[0], backfill_from_28_day_reports=False))

    def parent_of(stream: str) -> str | None:
        parents = [p for p in REPORT_STREAMS if stream == p or stream.startswith(p + "_")]
        return max(parents, key=len) if parents else None

    day_rows = [
        (message["stream"], parent_of(message["stream"]), message["record"])
        for message in run.messages
        if message["type"] == "RECORD" and parent_of(message["stream"])
    ]
    final_counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for stream, _, record in day_rows:
        final_counts[(stream, record["scope"], record["scope_name"], record["day"])] += 1
    assert {stream for stream, parent, _ in day_rows if stream != parent}, "no breakdown rows"

    emitted: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
    progress: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for message in run.messages:
        if message["type"] == "RECORD" and parent_of(message["stream"]):
            record = message["record"]
            key = (message["stream"], record["scope"], record["scope_name"], record["day"])
            counts[key] += 1
            if message["stream"] in REPORTS:
                emitted[key].append(record)
        if message["type"] != "STATE":
            continue
        for stream in REPORT_STREAMS:
            for scope, name in scopes(sim):
                mark = bookmark(message["value"], stream, scope, name)
                if mark is None:
                    continue
                # Every day up to the bookmark was emitted whole before this STATE, the rows
                # of its breakdown tables included.
                for day in day_range(days[0], dt.date.fromisoformat(mark)):
                    got = emitted[(stream, scope, name, day.isoformat())]
                    assert got == expected(sim, stream, scope, name, [day]), (stream, name, day)
                    same_day = (scope, name, day.isoformat())
                    for key, total in final_counts.items():
                        if key[1:] == same_day and parent_of(key[0]) == stream:
                            assert counts[key] == total, (key, mark)
                marks = progress[(stream, scope, name)]
                if not marks or marks[-1] != mark:
                    marks.append(mark)
    # A STATE after each batch of complete days: the bookmark steps through every batch's last
    # day, in order; a week per batch with breakdown tables, else a day.
    with_breakdowns = {parent for stream, parent, _ in day_rows if stream != parent}
    assert with_breakdowns < set(REPORT_STREAMS)
    for stream in REPORT_STREAMS:
        per_batch = DAYS_PER_BATCH if stream in with_breakdowns else 1
        batch_ends = sorted({*days[per_batch - 1 :: per_batch], days[-1]})
        for scope, name in scopes(sim):
            assert progress[(stream, scope, name)] == [d.isoformat() for d in batch_ends]


# --- days without a report ---------------------------------------------------------------------


@pytest.mark.parametrize("style", ["204", "404", "bare-string"])
def test_not_ready_days_keep_the_bookmark_and_are_read_by_a_later_run(
    make_simulator: MakeSimulator, caplog: pytest.LogCaptureFixture, style: str
) -> None:
    caplog.set_level(logging.INFO)
    streams = ("copilot_usage_daily", "copilot_user_usage_daily")
    today = sim_today()
    missing = today - dt.timedelta(days=3)  # inside the 3-day settling window
    sim = make_simulator(
        **SMALL,
        **TWO_SCOPES,
        empty_report_style=style,
        reports_ready_through=today - dt.timedelta(days=2),
        missing_report_days={missing},
    )
    start = days_ago(sim, 5)
    cfg = config(sim, start, lookback_days=0)

    # Run 1: the settling day that has no report stops the run before it.
    first = sync_in_process(cfg, streams=streams)
    assert_equals_truth(sim, first, day_range(start, missing - dt.timedelta(days=1)), streams)
    for stream in streams:
        for scope, name in scopes(sim):
            assert bookmark(first.final_state, stream, scope, name) == days_ago(sim, 4).isoformat()
            asked = requested_days(sim, REPORTS[stream][scope], scope, name)
            assert missing.isoformat() in asked
        assert any(missing.isoformat() in m for m in messages_of(caplog, stream))

    # Run 2: the missing day arrived; yesterday is still not processed.
    sim.settings.missing_report_days.clear()
    caplog.clear()
    second = sync_in_process(cfg, streams=streams, state=resume(first))
    assert_equals_truth(sim, second, day_range(days_ago(sim, 4), days_ago(sim, 2)), streams)
    for stream in streams:
        for scope, name in scopes(sim):
            assert bookmark(second.final_state, stream, scope, name) == days_ago(sim, 2).isoformat()
        assert any(days_ago(sim, 1).isoformat() in m for m in messages_of(caplog, stream))

    # Run 3: yesterday is ready too.
    sim.settings.reports_ready_through = days_ago(sim, 1)
    third = sync_in_process(cfg, streams=streams, state=resume(second))
    assert_equals_truth(sim, third, day_range(days_ago(sim, 2), days_ago(sim, 1)), streams)
    for stream in streams:
        for scope, name in scopes(sim):
            assert bookmark(third.final_state, stream, scope, name) == days_ago(sim, 1).isoformat()


@pytest.mark.parametrize(("days_back", "settled"), [(4, True), (3, False)])
def test_a_missing_day_older_than_the_settling_window_is_skipped(
    make_simulator: MakeSimulator,
    caplog: pytest.LogCaptureFixture,
    days_back: int,
    settled: bool,
) -> None:
    """reports.py: a missing day before today - SETTLING_DAYS (3) has no data and is passed
    over (logged); one inside the window is "not yet" and stops the run before it."""
    caplog.set_level(logging.INFO)
    stream = "copilot_user_usage_daily"
    missing = sim_today() - dt.timedelta(days=days_back)
    sim = make_simulator(**SMALL, **TWO_SCOPES, missing_report_days={missing})
    start = days_ago(sim, 6)
    run = sync_in_process(config(sim, start), streams=[stream])

    before = day_range(start, missing - dt.timedelta(days=1))
    after = day_range(missing + dt.timedelta(days=1), days_ago(sim, 1))
    read = before + after if settled else before
    assert_equals_truth(sim, run, read, [stream])
    assert expected(sim, stream, "organization", "octo-org", after)  # later days have data
    for scope, name in scopes(sim):
        assert bookmark(run.final_state, stream, scope, name) == read[-1].isoformat()
    logged = [m for m in messages_of(caplog, stream) if missing.isoformat() in m]
    assert len(logged) >= len(scopes(sim))


# --- fields ------------------------------------------------------------------------------------


def test_a_new_unknown_field_reaches_the_records_and_is_logged_once(
    make_simulator: MakeSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stream = "copilot_user_usage_daily"
    sim = make_simulator(**SMALL, **TWO_SCOPES, extra_user_fields={"brand_new_metric": 7})
    days = day_range(days_ago(sim, 2), days_ago(sim, 1))
    run = sync_in_process(config(sim, days[0]), streams=[stream])

    assert_equals_truth(sim, run, days, [stream])
    records = run.records(stream)
    assert records
    assert all(r["brand_new_metric"] == 7 for r in records)
    naming = [m for m in messages_of(caplog, stream) if "brand_new_metric" in m]
    assert len(naming) == 1
    assert all(
        "brand_new_metric" not in r.getMessage()
        for r in caplog.records
        if not r.name.endswith(f".{stream}")
    )


def test_new_nested_fields_reach_the_records_unchanged(make_simulator: MakeSimulator) -> None:
    """Fields GitHub adds inside objects and array elements pass through too."""
    stream = "copilot_user_usage_daily"
    nested = {
        "totals_by_cli": {
            "session_count": 2,
            "brand_new_nested": 5,
            "token_usage": {"output_tokens_sum": 10, "brand_new_deeper": 1.5},
        },
        "totals_by_ide": [{"ide": "vscode", "brand_new_in_element": [1, 2]}],
    }
    sim = make_simulator(**SMALL, **TWO_SCOPES, extra_user_fields=nested)
    day = days_ago(sim, 1)
    run = sync_in_process(config(sim, day), streams=[stream])

    assert_equals_truth(sim, run, [day], [stream])
    assert run.records(stream)
    for record in run.records(stream):
        assert {k: record[k] for k in nested} == nested


def _example_records(relative: str) -> list[dict[str, Any]]:
    """Records of an example file: NDJSON, one object, an array, or {"records": [...]}."""
    text = (EXAMPLES / relative).read_text(encoding="utf-8")
    if relative.endswith(".ndjson"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    value = json.loads(text)
    if isinstance(value, dict) and "records" in value:
        value = value["records"]
    return value if isinstance(value, list) else [value]


def _paths(value: Any, prefix: str = "") -> set[str]:
    """Every field path of a JSON value (`a.b`, arrays as `a[].b`)."""
    out: set[str] = set()
    if isinstance(value, dict):
        for name, item in value.items():
            path = f"{prefix}.{name}" if prefix else name
            out |= {path} | _paths(item, path)
    elif isinstance(value, list):
        for item in value:
            out |= _paths(item, f"{prefix}[]")
    return out


USER_EXAMPLES = [
    "reports/docs_example-schema_users-1-day_record.json",
    "usage-metrics-user-level-records.example.json",
    "reports/secondary/transcribed_example-schema_users-1-day_late2026.json",
]
#: Identify the row: the simulator sets them per user and day.
USER_IDENTITY = {"user_id", "user_login", "day", "enterprise_id", "organization_id"}


@pytest.mark.parametrize("example", USER_EXAMPLES)
def test_official_user_example_goes_through_without_losing_a_field(
    make_simulator: MakeSimulator, example: str
) -> None:
    """The simulator serves users-1-day lines carrying every field of GitHub's example record
    (with its values); the tap's records equal the served lines and keep each example value."""
    stream = "copilot_user_usage_daily"
    record = _example_records(example)[0]
    fields = {k: v for k, v in record.items() if k not in USER_IDENTITY}
    sim = make_simulator(**SMALL, **TWO_SCOPES, extra_user_fields=fields)
    day = days_ago(sim, 1)
    run = sync_in_process(config(sim, day), streams=[stream])

    assert_equals_truth(sim, run, [day], [stream])
    records = run.records(stream)
    assert records
    for got in records:
        assert {k: got[k] for k in fields} == fields
        assert _paths(record) <= _paths(got)


@pytest.mark.parametrize(
    ("stream", "examples"),
    [
        (
            "copilot_usage_daily",
            [
                "usage-metrics-enterprise-level-28-day.example.json",
                "reports/docs_example-schema_enterprise-28-day_0afe69c.json",
                "reports/docs_example-schema_enterprise-28-day_66e9f1d.json",
            ],
        ),
        (
            "copilot_user_teams_daily",
            ["reports/docs_team-level-metrics_organization_user_teams_1_day.ndjson"],
        ),
        (
            "copilot_repository_usage_daily",
            ["reports/secondary/transcribed_example-schema_repos-1-day_late2026.ndjson"],
        ),
    ],
)
def test_official_example_fields_reach_the_output(
    make_simulator: MakeSimulator, stream: str, examples: list[str]
) -> None:
    """Every field path of GitHub's examples (a 28-day wrapper's `day_totals[]` elements are
    1-day lines) appears in the tap's records, which equal the lines the simulator served."""
    # Default sizes: enough repositories that optional fields (medians) occur.
    sim = make_simulator(**TWO_SCOPES)
    want: set[str] = set()
    for name in examples:
        for line in _example_records(name):
            for row in line.get("day_totals", [line]):
                want |= _paths(row)
    days = days_serving(sim, stream, want)
    run = sync_in_process(config(sim, days[0]), streams=[stream])

    assert_equals_truth(sim, run, days, [stream])
    got = set().union(*(_paths(r) for r in run.records(stream)))
    assert sorted(want - got) == []


def days_serving(sim: Simulator, stream: str, paths: set[str]) -> list[dt.date]:
    """The shortest run of days ending yesterday in which the simulator serves every path.

    Some fields are optional by GitHub's rules (a median to merge only on days something
    merged), so which days hold them depends on the simulated calendar: the window is chosen
    from the truth, never fixed, and the test passes whatever day the suite is pinned to.
    """
    served: set[str] = set()
    for back in range(1, 29):
        day = days_ago(sim, back)
        for scope, name in scopes(sim):
            for record in expected(sim, stream, scope, name, [day]):
                served |= _paths(record)
        if paths <= served:
            return day_range(day, days_ago(sim, 1))
    pytest.fail(f"the simulator served none of {sorted(paths - served)} in 28 days")


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "wanted"),
    [
        ("401", ["Authentication failed (401)", "organization 'octo-org'"]),
        (
            "403",
            [
                "Permission denied (403)",
                "organization 'octo-org'",
                "read:org",
                "manage_billing:copilot",
                "read:enterprise",
                '"Organization Copilot metrics"',
                '"Enterprise Copilot metrics"',
                '"Copilot usage metrics" policy',
            ],
        ),
    ],
)
def test_refused_report_calls_fail_with_one_actionable_line(
    make_simulator: MakeSimulator, kind: str, wanted: list[str]
) -> None:
    sim = make_simulator(**SMALL, **TWO_SCOPES)
    sim.faults.add(path=r"/copilot/metrics/reports/", kind=kind, times=None)
    with pytest.raises(TapAPIError) as raised:
        sync_in_process(config(sim, days_ago(sim, 2)), streams=["copilot_user_usage_daily"])
    message = str(raised.value)
    assert "\n" not in message
    for text in wanted:
        assert text in message
    assert sim.settings.token not in message


@pytest.mark.parametrize("style", ["204", "404"])
@pytest.mark.parametrize(
    ("scope", "setting"), [("organization", "organizations"), ("enterprise", "enterprises")]
)
def test_an_unknown_scope_fails_with_a_404_line_naming_it(
    make_simulator: MakeSimulator, style: str, scope: str, setting: str
) -> None:
    """GitHub answers 404 both for a day without a report and for a wrong name: a wrong name
    must not pass silently as "no report yet"."""
    sim = make_simulator(**SMALL, **TWO_SCOPES, empty_report_style=style)
    scopes_config = {"organizations": [], "enterprises": [], setting: ["no-such-name"]}
    cfg = config(sim, days_ago(sim, 2), **scopes_config)
    with pytest.raises(TapAPIError) as raised:
        sync_in_process(cfg, streams=["copilot_user_usage_daily"])
    message = str(raised.value)
    assert "\n" not in message
    assert "Not found (404)" in message
    assert f"{scope} 'no-such-name'" in message
    assert f"`{setting}`" in message
