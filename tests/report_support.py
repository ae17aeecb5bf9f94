"""Shared by the usage-report suites (test_report_streams.py, test_report_downloads.py): which
report each stream reads, simulator settings, a quick tap config, and the records a run must emit,
from the simulator's truth API (`sim.truth.report_lines`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tests.tap_runner import KEYS, TapRun
from tests.truth import report_scopes

#: stream -> report name per scope kind (the URL segment).
REPORTS: dict[str, dict[str, str]] = {
    "copilot_usage_daily": {
        "organization": "organization-1-day",
        "enterprise": "enterprise-1-day",
    },
    "copilot_user_usage_daily": {"organization": "users-1-day", "enterprise": "users-1-day"},
    "copilot_user_teams_daily": {
        "organization": "user-teams-1-day",
        "enterprise": "user-teams-1-day",
    },
    "copilot_repository_usage_daily": {
        "organization": "repos-1-day",
        "enterprise": "repos-1-day",
    },
}
REPORT_STREAMS = tuple(REPORTS)
#: Enough users that every team has the 5 seated members GitHub requires for user-teams rows.
SMALL = {"users_per_org": 12, "users_per_enterprise": 20, "seats_per_org": 3}
#: One organization and one enterprise: both scope kinds, fewest requests.
TWO_SCOPES = {"organizations": {"octo-org": ["justice-league"]}, "enterprises": ["octo-ent"]}


def day_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from first to last, inclusive."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def config(sim: Simulator, start: dt.date, **extra: Any) -> dict[str, Any]:
    """A tap config for this simulator with short retry waits (faults are retried quickly)."""
    return sim.tap_config(
        start_date=start.isoformat(),
        teams=[],
        retry_initial_wait_seconds=0.01,
        secondary_rate_limit_wait_seconds=0.01,
        **extra,
    )


def expected(
    sim: Simulator, stream: str, scope: str, name: str, days: Iterable[dt.date]
) -> list[dict[str, Any]]:
    """The records a stream must emit for one scope: file lines as served, scope columns added."""
    report = REPORTS[stream][scope]
    return [
        {"scope": scope, "scope_name": name, **line}
        for day in days
        for line in sim.truth.report_lines(report, scope, name, day)
    ]


def records_of(run: TapRun, stream: str, scope: str, name: str) -> list[dict[str, Any]]:
    """One scope's records of a stream, in output order."""
    return [r for r in run.records(stream) if (r["scope"], r["scope_name"]) == (scope, name)]


def requested_days(sim: Simulator, report: str, scope: str, name: str) -> list[str]:
    """`day` of every `?day=` call the simulator received for one report and scope."""
    prefix = "/orgs/" if scope == "organization" else "/enterprises/"
    path = f"{prefix}{name}/copilot/metrics/reports/{report}"
    return [r.query["day"] for r in sim.requests if r.path == path and "day" in r.query]


def assert_keys_sound(run: TapRun, stream: str) -> None:
    """Key columns never null or empty, and no key twice."""
    for record in run.records(stream):
        for key in KEYS[stream]:
            assert record.get(key) not in (None, ""), (stream, key, record)
    assert run.duplicate_keys(stream, KEYS[stream]) == []


def assert_equals_truth(
    sim: Simulator,
    run: TapRun,
    days: list[dt.date],
    streams: Iterable[str] = REPORT_STREAMS,
) -> None:
    """Each stream's records, per scope, are exactly the truth of `days` in ascending order."""
    for stream in streams:
        assert_keys_sound(run, stream)
        seen = set()
        for scope, name in report_scopes(sim):
            got = records_of(run, stream, scope, name)
            want = expected(sim, stream, scope, name, days)
            assert got == want, (stream, scope, name)
            seen.add((scope, name))
        assert {(r["scope"], r["scope_name"]) for r in run.records(stream)} <= seen


def messages_of(caplog: pytest.LogCaptureFixture, stream: str) -> list[str]:
    """Log messages of one stream's logger."""
    return [r.getMessage() for r in caplog.records if r.name.endswith(f".{stream}")]
