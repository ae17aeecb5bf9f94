"""The day window (days.day_window), the one rule both API families use to pick days.

Expected dates are worked out by hand in each test (calendar arithmetic written down, or counted
with `date.toordinal`), never taken from the function under test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from typing import Any

import pytest

from tap_copilot_metrics.days import DayWindow, day_window
from tap_copilot_metrics.scopes import Scope, ScopeKind
from tap_copilot_metrics.streams.metrics import RETENTION_DAYS
from tap_copilot_metrics.tap import TapCopilotMetrics

D = dt.date.fromisoformat
TODAY = D("2026-11-16")
YESTERDAY = D("2026-11-15")


def window(**overrides: Any) -> DayWindow:
    """A report-family window as of TODAY (a year kept), with only what a test changes."""
    args: dict[str, Any] = {
        "today": TODAY,
        "bookmark": None,
        "lookback_days": 3,
        "start_date": None,
        "end_date": YESTERDAY,
        "max_age_days": 365,
    }
    return day_window(**{**args, **overrides})


# --- where the window starts -----------------------------------------------------------------


def test_without_bookmark_or_start_date_it_starts_at_the_oldest_day_served() -> None:
    # 2026-11-16 minus 365 days: 2026 is not a leap year, so the same date one year earlier.
    assert window() == DayWindow(D("2025-11-16"), YESTERDAY)


def test_a_bookmark_starts_lookback_days_before_it() -> None:
    assert window(bookmark=D("2026-11-10"), lookback_days=3).first == D("2026-11-07")
    assert window(bookmark=D("2026-11-10"), lookback_days=0).first == D("2026-11-10")


def test_a_later_start_date_wins_over_an_older_bookmark() -> None:
    """start_date moved forward after runs: days before it are no longer wanted."""
    got = window(bookmark=D("2026-10-01"), lookback_days=3, start_date=D("2026-11-01"))
    assert got.first == D("2026-11-01")


def test_a_later_bookmark_wins_over_start_date() -> None:
    """The usual incremental run: start_date was the first run's, the bookmark is newer."""
    got = window(bookmark=D("2026-11-12"), lookback_days=3, start_date=D("2026-01-01"))
    assert got.first == D("2026-11-09")


def test_the_window_ends_at_end_date_inclusive() -> None:
    got = window(start_date=D("2026-11-01"), end_date=D("2026-11-05"))
    assert list(got.days()) == [D(f"2026-11-0{n}") for n in range(1, 6)]


# --- what GitHub no longer serves ------------------------------------------------------------


def test_days_older_than_retention_are_lost_and_the_window_starts_at_the_oldest() -> None:
    got = window(start_date=D("2025-01-01"))
    assert got.first == D("2025-11-16")
    assert got.lost_from == D("2025-01-01")


def test_nothing_is_lost_when_the_wanted_start_is_the_oldest_day_served() -> None:
    got = window(start_date=D("2025-11-16"))
    assert (got.first, got.lost_from) == (D("2025-11-16"), None)


def test_a_bookmark_minus_lookback_older_than_retention_is_lost_too() -> None:
    # 2025-11-17 - 3 days = 2025-11-14, two days before the oldest day served (2025-11-16).
    got = window(bookmark=D("2025-11-17"), lookback_days=3)
    assert (got.first, got.lost_from) == (D("2025-11-16"), D("2025-11-14"))


def test_a_first_day_served_later_than_retention_limits_the_window() -> None:
    """Enterprise reports exist only from a given day on, within the year kept."""
    # As of 2026-03-01 a year kept reaches back to 2025-03-01, before 2025-10-10.
    got = window(
        today=D("2026-03-01"),
        start_date=D("2025-09-01"),
        end_date=D("2026-02-28"),
        served_from=D("2025-10-10"),
    )
    assert (got.first, got.lost_from) == (D("2025-10-10"), D("2025-09-01"))


def test_a_first_day_served_older_than_retention_changes_nothing() -> None:
    got = window(start_date=D("2025-01-01"), served_from=D("2024-06-01"))
    assert (got.first, got.lost_from) == (D("2025-11-16"), D("2025-01-01"))


def test_the_legacy_family_keeps_99_days_back() -> None:
    # 2026-11-16 minus 99 days, month by month: 16 days back to 10-31 (83 left), 31 to 09-30
    # (52 left), 30 to 08-31 (22 left), then 08-31 - 22 = 08-09.
    got = window(start_date=D("2026-01-01"), max_age_days=99)
    assert (got.first, got.lost_from) == (D("2026-08-09"), D("2026-01-01"))


# --- empty windows -----------------------------------------------------------------------------


def test_a_bookmark_past_end_date_leaves_nothing_to_ask() -> None:
    """end_date lowered after runs: bookmark 11-15, lookback 1 -> 11-14, end_date 11-10."""
    got = window(bookmark=D("2026-11-15"), lookback_days=1, end_date=D("2026-11-10"))
    assert got.is_empty
    assert list(got.days()) == []


def test_an_end_date_older_than_retention_leaves_nothing_and_says_it_is_lost() -> None:
    got = window(start_date=D("2025-01-01"), end_date=D("2025-02-01"))
    assert got.is_empty
    assert got.lost_from == D("2025-01-01")


def test_a_bookmark_at_end_date_without_lookback_reads_that_day_again() -> None:
    got = window(bookmark=YESTERDAY, lookback_days=0)
    assert list(got.days()) == [YESTERDAY]


# --- calendar edges ----------------------------------------------------------------------------


def test_lookback_crosses_a_year_boundary() -> None:
    got = window(today=D("2026-01-03"), bookmark=D("2026-01-02"), end_date=D("2026-01-02"))
    assert list(got.days()) == [D("2025-12-30"), D("2025-12-31"), D("2026-01-01"), D("2026-01-02")]


def test_lookback_crosses_the_end_of_february_in_a_leap_year() -> None:
    got = window(today=D("2028-03-03"), bookmark=D("2028-03-02"), end_date=D("2028-03-02"))
    assert got.first == D("2028-02-28")
    assert D("2028-02-29") in list(got.days())


def test_lookback_crosses_the_end_of_february_in_a_common_year() -> None:
    got = window(today=D("2027-03-03"), bookmark=D("2027-03-02"), end_date=D("2027-03-02"))
    assert got.first == D("2027-02-27")


def test_retention_counts_the_leap_day() -> None:
    # 365 days before 2028-03-01: the year before holds 2028-02-29, so one day later than
    # the same date a year earlier.
    got = window(today=D("2028-03-01"), end_date=D("2028-02-29"))
    assert got.first == D("2027-03-02")


@pytest.mark.parametrize(
    ("first", "last"),
    [("2025-12-25", "2026-01-07"), ("2026-01-28", "2026-03-03"), ("2028-02-27", "2028-03-01")],
)
def test_days_are_consecutive_and_inclusive_across_month_and_year_ends(
    first: str, last: str
) -> None:
    days = list(DayWindow(D(first), D(last)).days())
    assert days[0] == D(first)
    assert days[-1] == D(last)
    assert len(days) == D(last).toordinal() - D(first).toordinal() + 1
    assert all(b.toordinal() - a.toordinal() == 1 for a, b in itertools.pairwise(days))


# --- the families, as their streams use the rule --------------------------------------------


def tap_for(state: dict[str, Any] | None = None, **config: Any) -> TapCopilotMetrics:
    base = {"auth_token": "ghp_x", "organizations": ["octo-org"], "enterprises": ["octo-ent"]}
    return TapCopilotMetrics(config={**base, **config}, state=state, setup_mapper=False)


def test_the_legacy_stream_never_asks_for_a_since_older_than_100_days() -> None:
    """GitHub compares `since` with the time of the request: midnight of the first day asked
    must be less than RETENTION_DAYS days before any moment of today."""
    tap = tap_for(start_date="2020-01-01")
    stream = tap.streams["copilot_metrics"]
    org = Scope(ScopeKind.ORGANIZATION, "octo-org")
    first = stream.window_for(org, org.context).first
    today = tap.settings.today
    end_of_today = dt.datetime.combine(today, dt.time(23, 59, 59))
    assert end_of_today - dt.datetime.combine(first, dt.time()) < dt.timedelta(RETENTION_DAYS)


def test_report_streams_keep_a_year_and_enterprise_reports_start_on_2025_10_10() -> None:
    tap = tap_for(start_date="2020-01-01")
    stream = tap.streams["copilot_usage_daily"]
    today = tap.settings.today
    org = Scope(ScopeKind.ORGANIZATION, "octo-org")
    ent = Scope(ScopeKind.ENTERPRISE, "octo-ent")
    year_ago = dt.date.fromordinal(today.toordinal() - 365)
    assert stream.window_for(org, org.context).first == year_ago
    assert stream.window_for(ent, ent.context).first == max(year_ago, D("2025-10-10"))


def test_a_stream_warns_once_of_days_it_can_no_longer_fetch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    org = Scope(ScopeKind.ORGANIZATION, "octo-org")
    stream = tap_for(start_date="2020-01-01").streams["copilot_metrics"]
    got = stream.window_for(org, org.context)
    lost = [r.getMessage() for r in caplog.records if "can no longer be fetched" in r.getMessage()]
    assert lost == [
        f"copilot_metrics for organization 'octo-org': days 2020-01-01.."
        f"{dt.date.fromordinal(got.first.toordinal() - 1)} are older than the {RETENTION_DAYS} "
        f"days GitHub keeps and can no longer be fetched; starting at {got.first}"
    ]
