"""Streams of the usage-metrics reports API: one `?day=` report per scope and day.

Each report call answers with signed `download_links` to NDJSON files. A day is emitted whole,
in ascending day order, and the bookmark is written after each batch of complete days (one day,
or a week while breakdown tables are selected: tap_copilot_metrics.handoff): an interrupted run
resumes after the last batch it finished (re-read with the lookback window), so nothing is lost
and, because targets upsert on the key, nothing doubles.

This module is the stream, read top to bottom: scope -> window -> days -> records -> checkpoint.
How one day reaches local disk (links, files, the 28-day shortcut, the scope probe, expired
links) is reportdays.py.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests
from singer_sdk.helpers.types import Context

from tap_copilot_metrics.client import decoded_json
from tap_copilot_metrics.downloads import ReportDownloader, read_records
from tap_copilot_metrics.errors import ReportUnreadable, TapAPIError
from tap_copilot_metrics.handoff import days_per_batch
from tap_copilot_metrics.prefetch import DayPrefetcher, FetchedDay
from tap_copilot_metrics.reportdays import SETTLING_DAYS, ReportDays, describe_file
from tap_copilot_metrics.reportfiles import ReportFileError, expand_day_totals
from tap_copilot_metrics.schemas import (
    COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA,
    COPILOT_USAGE_DAILY_SCHEMA,
    COPILOT_USER_TEAMS_DAILY_SCHEMA,
    COPILOT_USER_USAGE_DAILY_SCHEMA,
)
from tap_copilot_metrics.scopes import Scope, ScopeKind
from tap_copilot_metrics.streams.daily import DailyStream

#: GitHub keeps about a year of reports; enterprise reports start on this day.
RETENTION_DAYS = 365
ENTERPRISE_REPORTS_START = dt.date(2025, 10, 10)

_REPORT_PERMISSIONS = (
    "organization reports need a classic token with `read:org` (or `manage_billing:copilot`), "
    'or the fine-grained/App organization permission "Organization Copilot metrics" (read); '
    "enterprise reports need `manage_billing:copilot` or `read:enterprise`, or a GitHub App "
    'with "Enterprise Copilot metrics" (read). The "Copilot usage metrics" policy must be '
    "enabled"
)


@dataclass
class DayBatch:
    """What one batch of report days held, filled in while its records are read."""

    #: At most this many days with a report.
    days: int
    complete_days: list[dt.date] = field(default_factory=list)
    #: No day follows: the window ended, or a recent day has no report yet.
    is_last: bool = False


class ReportStream(DailyStream):
    """A `…/copilot/metrics/reports/<report>?day=` report, read day by day."""

    scope_kinds = (ScopeKind.ORGANIZATION, ScopeKind.ENTERPRISE)
    # Never requested as such (report URLs are built in reportdays.py), but kept: it is the
    # endpoint tag of every request's METRIC line (see GitHubStream._send, as the SDK does).
    path = "/copilot/metrics/reports"
    replication_key = "day"
    is_sorted = True
    # The bookmark is set by `checkpoint` to the last complete day, whatever order rows of
    # a file come in (28-day wrappers list several days).
    check_sorted = False
    # State is written by `checkpoint` after each batch of complete days, never inside a day.
    STATE_MSG_FREQUENCY = 10**12
    endpoint_label = "the Copilot usage metrics reports API"
    required_permissions = _REPORT_PERMISSIONS
    # A report day GitHub has not produced: 204, or 404 for the day (the scope exists).
    empty_statuses = frozenset({204, 404})
    max_age_days = RETENTION_DAYS
    kept_words = "the reports GitHub keeps"

    #: Report name per scope kind, e.g. {ORGANIZATION: "organization-1-day", ...}.
    reports: ClassVar[dict[ScopeKind, str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._declared = frozenset(self.schema["properties"])
        self._unknown_seen: set[str] = set()
        self.report_days = ReportDays(self)

    @property
    def downloader(self) -> ReportDownloader:
        """Fetches report files outside the GitHub API session."""
        return self.copilot_tap.report_downloader

    def report_name(self, scope: Scope) -> str:
        """The report path segment for this scope, e.g. `users-1-day`."""
        return self.reports[scope.kind]

    def served_from(self, scope: Scope) -> dt.date | None:
        """Enterprise reports exist from ENTERPRISE_REPORTS_START on."""
        return ENTERPRISE_REPORTS_START if scope.kind is ScopeKind.ENTERPRISE else None

    def get_new_paginator(self) -> None:
        """Report endpoints are not paginated: one envelope per day."""
        return

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The envelope, unless the answer says there is no report."""
        if response.status_code in self.empty_statuses or not response.content:
            return
        body = decoded_json(response)
        if isinstance(body, str):  # `""` or "No report available"
            return
        if not isinstance(body, dict) or not isinstance(body.get("download_links"), list):
            msg = (
                f"{self.endpoint_label} ({response.request.path_url.split('?')[0]}) answered an "
                "unexpected body: expected an object with `download_links`"
            )
            raise TapAPIError(msg)
        yield body

    # --- scope -> window -> days -> records -> checkpoint ---------------------------------

    def scope_records(self, scope: Scope, context: Context) -> Iterator[dict[str, Any]]:
        """Every day of the window, oldest first, checkpointing the bookmark after each."""
        window = self.window_for(scope, context)
        if window.is_empty:
            return
        self.logger.info(
            "%s for %s: reading days %s..%s", self.name, scope.label, window.first, window.last
        )
        latest = self.report_days.fetch_latest(scope, window, context)
        if latest:
            self.logger.info(
                "%s for %s: days %s..%s come from the latest 28-day report (one call instead of "
                "one per day)",
                self.name,
                scope.label,
                max(latest.first, window.first),
                min(latest.last, window.last),
            )

        def fetch(day: dt.date, stopped: threading.Event) -> FetchedDay:
            if latest and latest.covers(day):
                return latest.take(day)
            return self.report_days.fetch_day(scope, day, context, stopped)

        without_report: list[str] = []
        prefetcher = DayPrefetcher(
            fetch,
            window.days(),
            ahead=self.settings.download_concurrency,
            name=f"{self.name}-fetch",
            on_worker_exit=self._release_worker_sessions,
        )
        try:
            yield from self._emit_days(prefetcher, scope, context, without_report)
        finally:
            if latest:
                latest.close()
        if without_report:
            self.logger.info(
                "%s for %s: days without a report: %s",
                self.name,
                scope.label,
                ", ".join(without_report),
            )

    def _emit_days(
        self,
        prefetcher: DayPrefetcher,
        scope: Scope,
        context: Context | None,
        without_report: list[str],
    ) -> Iterator[dict[str, Any]]:
        """The fetched days' records in order, a checkpoint after each batch of complete days."""
        days = iter(prefetcher)
        batch_days = days_per_batch(self.child_streams)
        while True:
            batch = DayBatch(batch_days)
            # A batch of days is one batch of breakdown rows (see tap_copilot_metrics.handoff).
            yield from self.handoff.batch(self._batch_records(days, scope, without_report, batch))
            if batch.complete_days:
                self.checkpoint(context, batch.complete_days[-1])
            if batch.is_last:
                return

    def _batch_records(
        self,
        days: Iterator[FetchedDay],
        scope: Scope,
        without_report: list[str],
        batch: DayBatch,
    ) -> Iterator[dict[str, Any]]:
        """The records of the batch's days with a report, noted in `batch`."""
        while len(batch.complete_days) < batch.days:
            fetched = next(days, None)
            if fetched is None:
                batch.is_last = True
                return
            day = fetched.day
            if not fetched.has_report:
                without_report.append(day.isoformat())
                if day >= self.settings.today - dt.timedelta(days=SETTLING_DAYS):
                    self.logger.info(
                        "%s for %s: no report for %s yet; the bookmark stays before it and "
                        "the next run asks again",
                        self.name,
                        scope.label,
                        day,
                    )
                    batch.is_last = True
                    return
                continue
            yield from self.day_records(fetched, scope)
            batch.complete_days.append(day)

    def _release_worker_sessions(self) -> None:
        """A prefetch worker ends: its API and download sessions go back for reuse."""
        self.release_session()
        self.downloader.release_session()

    def day_records(self, fetched: FetchedDay, scope: Scope) -> Iterator[dict[str, Any]]:
        """All records of one day, file by file, from the spooled downloads."""
        report = self.report_name(scope)
        for index, spooled in enumerate(fetched.files):
            source = describe_file(report, scope, fetched.day, index, len(fetched.files))
            for line in read_records(spooled, source=source):
                yield from self.rows_of(line, scope, fetched.day, source)

    def rows_of(
        self, line: dict[str, Any], scope: Scope, day: dt.date, source: str
    ) -> Iterator[dict[str, Any]]:
        """A file line as records: scope columns first, GitHub's fields and values unchanged."""
        try:
            rows = list(expand_day_totals(line, source=source))
        except ReportFileError as exc:
            raise ReportUnreadable(str(exc)) from None
        for row in rows:
            self._note_unknown_fields(row)
            record = {"scope": scope.kind.value, "scope_name": scope.name, **row}
            if not record.get("day"):
                record["day"] = day.isoformat()
            for key in self.primary_keys:
                if record.get(key) is None or record.get(key) == "":
                    msg = f"{source}: a line has no `{key}`, which identifies its row"
                    raise ReportUnreadable(msg)
            yield record

    def _note_unknown_fields(self, line: dict[str, Any]) -> None:
        """Fields GitHub added after our schema still reach the target; say so once per run."""
        if self._declared.issuperset(line):
            return
        new = set(line) - self._declared - self._unknown_seen
        if new:
            self._unknown_seen |= new
            self.logger.warning(
                "%s: GitHub sends fields this tap does not declare yet; passing them through "
                "unchanged: %s",
                self.name,
                ", ".join(sorted(new)),
            )


def same_report_name(report: str) -> dict[ScopeKind, str]:
    """Reports that organizations and enterprises ask for by the same name."""
    return dict.fromkeys((ScopeKind.ORGANIZATION, ScopeKind.ENTERPRISE), report)


class CopilotUsageDailyStream(ReportStream):
    """Organization / enterprise totals per day (`organization-1-day`, `enterprise-1-day`)."""

    name = "copilot_usage_daily"
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "day"]
    declared_schema = COPILOT_USAGE_DAILY_SCHEMA
    reports: ClassVar[dict[ScopeKind, str]] = {
        ScopeKind.ORGANIZATION: "organization-1-day",
        ScopeKind.ENTERPRISE: "enterprise-1-day",
    }


class CopilotUserUsageDailyStream(ReportStream):
    """One row per user and day with activity (`users-1-day`)."""

    name = "copilot_user_usage_daily"
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "day", "user_id"]
    declared_schema = COPILOT_USER_USAGE_DAILY_SCHEMA
    reports = same_report_name("users-1-day")


class CopilotUserTeamsDailyStream(ReportStream):
    """Team memberships of users per day (`user-teams-1-day`), to join with user usage."""

    name = "copilot_user_teams_daily"
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "day", "user_id", "team_id"]
    declared_schema = COPILOT_USER_TEAMS_DAILY_SCHEMA
    reports = same_report_name("user-teams-1-day")


class CopilotRepositoryUsageDailyStream(ReportStream):
    """Pull-request activity per repository and day (`repos-1-day`)."""

    name = "copilot_repository_usage_daily"
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "day", "repo_id"]
    declared_schema = COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA
    reports = same_report_name("repos-1-day")


REPORT_STREAMS: tuple[type[ReportStream], ...] = (
    CopilotUsageDailyStream,
    CopilotUserUsageDailyStream,
    CopilotUserTeamsDailyStream,
    CopilotRepositoryUsageDailyStream,
)
