"""Streams of the usage-metrics reports API: one `?day=` report per scope and day.

Each report call answers with signed `download_links` to NDJSON files. A day is emitted whole,
in ascending day order, and the bookmark is written after each complete day: an interrupted run
resumes at the last day it finished (re-read with the lookback window), so nothing is lost and,
because targets upsert on the key, nothing doubles.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Iterable, Iterator
from typing import IO, Any, ClassVar

import msgspec
import requests
from singer_sdk.helpers.types import Context

from tap_copilot_metrics.client import GitHubStream, decoded_json, github_message
from tap_copilot_metrics.days import DayWindow, parse_bookmark, request_window
from tap_copilot_metrics.downloads import LinkRejected, ReportDownloader, read_records
from tap_copilot_metrics.errors import ReportUnreadable, TapAPIError
from tap_copilot_metrics.prefetch import DayPrefetcher, FetchedDay, FetchStopped
from tap_copilot_metrics.reportfiles import ReportFileError, expand_day_totals
from tap_copilot_metrics.schemas import (
    COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA,
    COPILOT_USAGE_DAILY_SCHEMA,
    COPILOT_USER_TEAMS_DAILY_SCHEMA,
    COPILOT_USER_USAGE_DAILY_SCHEMA,
)
from tap_copilot_metrics.scopes import Scope, ScopeKind

#: GitHub keeps about a year of reports; enterprise reports start on this day.
RETENTION_DAYS = 365
ENTERPRISE_REPORTS_START = dt.date(2025, 10, 10)
#: GitHub's data can take up to 3 UTC days to settle: a missing report that recent is "not yet",
#: so the bookmark stops before it; an older missing report is a day without data.
SETTLING_DAYS = 3
#: The 28-day reports of the 1-day reports that have one, and when a backfill uses them.
LATEST_REPORTS = {
    "users-1-day": "users-28-day",
    "organization-1-day": "organization-28-day",
    "enterprise-1-day": "enterprise-28-day",
}
LATEST_REPORT_DAYS = 28
LATEST_MIN_DAYS = 8
#: Fields a 28-day users line repeats on every line; the 1-day lines do not carry them.
_LATEST_WINDOW_FIELDS = ("report_start_day", "report_end_day")
_ENCODE = msgspec.json.Encoder().encode
#: How often a day's links are fetched again after blob storage refused one.
LINK_REFRESHES = 3
#: The day-less report of each scope kind, asked when a day answers 404 (see _require_scope).
_SCOPE_PROBE_REPORTS = {
    ScopeKind.ORGANIZATION: "organization-28-day",
    ScopeKind.ENTERPRISE: "enterprise-28-day",
}

_REPORT_PERMISSIONS = (
    "organization reports need a classic token with `read:org` (or `manage_billing:copilot`), "
    'or the fine-grained/App organization permission "Organization Copilot metrics" (read); '
    "enterprise reports need `manage_billing:copilot` or `read:enterprise`, or a GitHub App "
    'with "Enterprise Copilot metrics" (read). The "Copilot usage metrics" policy must be '
    "enabled"
)


class NoReport(Exception):
    """GitHub has no report for this day (yet): 204, 404, or a bare JSON string body."""


class LatestReport:
    """A 28-day report's rows, split into one spooled NDJSON file per day."""

    def __init__(self, first: dt.date, last: dt.date, *, by_day_totals: bool) -> None:
        self.first, self.last = first, last
        self._by_day_totals = by_day_totals
        self._days: dict[dt.date, IO[bytes]] = {}
        self._lock = threading.Lock()

    def split(self, lines: Iterable[dict[str, Any]], window: DayWindow) -> None:
        """Route each row to its day's file (rows outside the window are not needed)."""
        for line in lines:
            rows = (line.get("day_totals") or ()) if self._by_day_totals else (line,)
            for row in rows:
                if not isinstance(row, dict):
                    continue
                day = _day_of(row)
                if day is None or not (window.first <= day <= window.last):
                    continue
                for name in _LATEST_WINDOW_FIELDS:
                    row.pop(name, None)
                spooled = self._days.get(day)
                if spooled is None:
                    # Closed by take()'s FetchedDay or by close().
                    spooled = tempfile.TemporaryFile(prefix="copilot-28d-")  # noqa: SIM115
                    self._days[day] = spooled
                spooled.write(_ENCODE(row) + b"\n")

    def covers(self, day: dt.date) -> bool:
        """Whether the 28-day report answers for `day`.

        Users reports list only users with activity, so every day of the window is covered
        (no line = nobody active). An org/enterprise report has one row per day: a day it
        lacks is asked for with the 1-day report instead.
        """
        if not self.first <= day <= self.last:
            return False
        return not self._by_day_totals or day in self._days

    def take(self, day: dt.date) -> FetchedDay:
        """The day's rows as a fetched day (the caller closes it)."""
        with self._lock:
            spooled = self._days.pop(day, None)
        if spooled is None:  # a day without activity: an empty file
            spooled = tempfile.TemporaryFile(prefix="copilot-28d-")  # noqa: SIM115
        spooled.seek(0)
        return FetchedDay(day, files=[spooled])

    def close(self) -> None:
        """Remove the files of days that were not taken."""
        with self._lock:
            for spooled in self._days.values():
                spooled.close()
            self._days.clear()


def _day_of(row: dict[str, Any]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(row.get("day")))
    except ValueError:
        return None


class ReportStream(GitHubStream):
    """A `…/copilot/metrics/reports/<report>?day=` report, read day by day."""

    scope_kinds = (ScopeKind.ORGANIZATION, ScopeKind.ENTERPRISE)
    path = "/copilot/metrics/reports"  # under each scope; see fetch_links
    replication_key = "day"
    is_sorted = True
    # The bookmark is set by `_checkpoint` to the last complete day, whatever order rows of
    # a file come in (28-day wrappers list several days).
    check_sorted = False
    # State is written by `_checkpoint` after each complete day, never in the middle of one.
    STATE_MSG_FREQUENCY = 10**12
    endpoint_label = "the Copilot usage metrics reports API"
    required_permissions = _REPORT_PERMISSIONS
    # A report day GitHub has not produced: 204, or 404 for the day (the scope exists).
    empty_statuses = frozenset({204, 404})

    #: Report name per scope kind, e.g. {ORGANIZATION: "organization-1-day", ...}.
    reports: ClassVar[dict[ScopeKind, str]]
    #: Columns besides scope/scope_name/day that identify a row (never null).
    row_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._declared = frozenset(self.schema["properties"])
        self._unknown_seen: set[str] = set()
        # Scopes GitHub answered for with something other than 404 in this run.
        self._known_scopes: set[Scope] = set()

    @property
    def downloader(self) -> ReportDownloader:
        """Fetches report files outside the GitHub API session."""
        return self._tap.report_downloader

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

    # --- days ---------------------------------------------------------------------------

    def scope_records(self, scope: Scope, context: Context) -> Iterator[dict[str, Any]]:
        """Every day of the window, oldest first, checkpointing the bookmark after each."""
        window = self.window_for(scope, context)
        if window.is_empty:
            self.logger.info("%s for %s: already up to date", self.name, scope.label)
            return
        self.logger.info(
            "%s for %s: reading days %s..%s", self.name, scope.label, window.first, window.last
        )
        latest = self.fetch_latest(scope, window, context)
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
            return self.fetch_day(scope, day, context, stopped)

        without_report: list[str] = []
        prefetcher = DayPrefetcher(
            fetch,
            window.days(),
            ahead=self.settings.download_concurrency,
            name=f"{self.name}-fetch",
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
        """Each fetched day's records in order, a checkpoint after each complete day."""
        for fetched in prefetcher:
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
                    break
                continue
            yield from self._marking_day_end(self.day_records(fetched, scope))
            self.checkpoint(context, day)

    def _marking_day_end(self, records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Pass records through, one behind, so the last one of a day is known as such.

        Breakdown rows are handed to child streams in batches that close at a day's end.
        """
        previous: dict[str, Any] | None = None
        for record in records:
            if previous is not None:
                self._record_closes_batch = False
                yield previous
            previous = record
        if previous is not None:
            self._record_closes_batch = True
            yield previous

    def window_for(self, scope: Scope, context: Context | None) -> DayWindow:
        """Days to ask for: bookmark - lookback, start_date, and what GitHub still keeps."""
        oldest = self.settings.today - dt.timedelta(days=RETENTION_DAYS)
        if scope.kind is ScopeKind.ENTERPRISE:
            oldest = max(oldest, ENTERPRISE_REPORTS_START)
        window = request_window(
            bookmark=parse_bookmark(
                self.get_starting_replication_key_value(context),
                stream=self.name,
                scope_label=scope.label,
                today=self.settings.today,
            ),
            lookback_days=self.settings.lookback_days,
            start_date=self.settings.start_date,
            end_date=self.settings.end_date,
            oldest_available=oldest,
        )
        if window.lost_from:
            self.logger.warning(
                "%s for %s: days %s..%s are older than the reports GitHub keeps and can no "
                "longer be fetched; starting at %s",
                self.name,
                scope.label,
                window.lost_from,
                oldest - dt.timedelta(days=1),
                oldest,
            )
        return window

    # --- one day ------------------------------------------------------------------------

    def report_name(self, scope: Scope) -> str:
        """The report path segment for this scope, e.g. `users-1-day`."""
        return self.reports[scope.kind]

    def fetch_links(self, scope: Scope, day: dt.date, context: Context | None) -> list[str]:
        """Ask the report endpoint for the day's download links (raises NoReport)."""
        report = self.report_name(scope)
        url = f"{self.url_base}{scope.path_prefix}/copilot/metrics/reports/{report}"
        response = self.get_json(url, {"day": day.isoformat()}, context)
        if response.status_code == 404:
            self._require_scope(scope, context)
        else:
            self._known_scopes.add(scope)
        envelope = next(iter(self.parse_response(response)), None)
        if envelope is None:
            raise NoReport
        return [str(link) for link in envelope["download_links"]]

    def _require_scope(self, scope: Scope, context: Context | None) -> None:
        """Tell "no report for this day" from a wrong name: GitHub answers 404 to both.

        The scope's 28-day report takes no day: a 404 there too means the organization or
        enterprise is unknown (or hidden from the credentials), which must stop the run with
        the 404 message instead of passing for days without data. Asked once per scope.
        """
        if scope in self._known_scopes:
            return
        report = _SCOPE_PROBE_REPORTS[scope.kind]
        url = f"{self.url_base}{scope.path_prefix}/copilot/metrics/reports/{report}/latest"
        response = self.get_json(url, context=context)
        if response.status_code == 404:
            raise TapAPIError(self.not_found_message(scope, github_message(response)))
        self._known_scopes.add(scope)

    def fetch_latest(
        self, scope: Scope, window: DayWindow, context: Context | None
    ) -> LatestReport | None:
        """The `*-28-day/latest` report, split by day on disk, when it saves many day calls.

        Used only for a window of at least LATEST_MIN_DAYS recent days (a backfill), and only
        for reports GitHub also publishes over 28 days. Its lines are the 1-day lines of those
        days (users lines repeat the report window, which is dropped; org/enterprise lines are
        the `day_totals` elements), so the records are the same as day by day.
        """
        latest_name = LATEST_REPORTS.get(self.report_name(scope))
        recent = self.settings.today - dt.timedelta(days=LATEST_REPORT_DAYS + SETTLING_DAYS)
        if (
            not latest_name
            or not self.settings.backfill_from_28_day_reports
            or (window.last - window.first).days + 1 < LATEST_MIN_DAYS
            or window.last < recent
        ):
            return None
        url = f"{self.url_base}{scope.path_prefix}/copilot/metrics/reports/{latest_name}/latest"
        for _ in range(LINK_REFRESHES + 1):
            response = self.get_json(url, context=context)
            envelope = next(iter(self.parse_response(response)), None)
            if envelope is None:
                return None
            first = dt.date.fromisoformat(str(envelope["report_start_day"]))
            last = dt.date.fromisoformat(str(envelope["report_end_day"]))
            overlap = (min(last, window.last) - max(first, window.first)).days + 1
            if overlap < LATEST_MIN_DAYS:
                return None
            latest = LatestReport(first, last, by_day_totals=latest_name != "users-28-day")
            try:
                for index, link in enumerate(envelope["download_links"]):
                    source = f"{latest_name} report for {scope.label}, file {index + 1}"
                    with self.downloader.download(str(link), source=source) as spooled:
                        self.count("files")
                        latest.split(read_records(spooled, source=source), window)
            except LinkRejected:
                latest.close()
                continue  # the links expired while downloading: ask for fresh ones
            except BaseException:
                latest.close()
                raise
            return latest
        # The 28-day report is only a shortcut: the 1-day reports hold the same records.
        self.logger.warning(
            "%s for %s: the %s report's files kept being refused; reading day by day instead",
            self.name,
            scope.label,
            latest_name,
        )
        return None

    def fetch_day(
        self,
        scope: Scope,
        day: dt.date,
        context: Context | None,
        stopped: threading.Event | None = None,
    ) -> FetchedDay:
        """Envelope and files of one day, on disk (runs ahead, on a worker thread).

        A link blob storage refuses (expired) is replaced by fresh links from the report
        endpoint; nothing of the day has been emitted yet, so that is always safe.
        """
        try:
            links = self.fetch_links(scope, day, context)
        except NoReport:
            return FetchedDay(day, has_report=False)
        fetched = FetchedDay(day)
        refreshes = 0
        try:
            while len(fetched.files) < len(links):
                if stopped and stopped.is_set():
                    raise FetchStopped
                index = len(fetched.files)
                source = self.describe_file(scope, day, index, len(links))
                try:
                    fetched.files.append(self.downloader.download(links[index], source=source))
                    self.count("files")
                except LinkRejected as exc:
                    refreshes += 1
                    if refreshes > LINK_REFRESHES:
                        msg = (
                            f"downloading {source} was refused ({exc.status}) even after "
                            f"fetching fresh links {LINK_REFRESHES} times"
                        )
                        raise ReportUnreadable(msg) from None
                    self.logger.info(
                        "%s: link refused (%s); fetching fresh links", source, exc.status
                    )
                    links = self._fresh_links(scope, day, context, expected=len(links))
        except BaseException:
            fetched.close()
            raise
        return fetched

    def _fresh_links(
        self, scope: Scope, day: dt.date, context: Context | None, *, expected: int
    ) -> list[str]:
        """New links for a day whose old ones expired; the report must not have changed shape."""
        report = self.report_name(scope)
        try:
            fresh = self.fetch_links(scope, day, context)
        except NoReport:
            msg = (
                f"{report} report for {scope.label}, day {day} was withdrawn while it was being "
                "downloaded (no report when asked for fresh links); run again"
            )
            raise ReportUnreadable(msg) from None
        if len(fresh) != expected:
            msg = (
                f"{report} report for {scope.label}, day {day} changed from {expected} to "
                f"{len(fresh)} files while it was being read; run again"
            )
            raise ReportUnreadable(msg)
        return fresh

    def describe_file(self, scope: Scope, day: dt.date, index: int, count: int) -> str:
        """How messages name a report file (never by its signed URL)."""
        report = self.report_name(scope)
        return f"{report} report for {scope.label}, day {day}, file {index + 1} of {count}"

    def day_records(self, fetched: FetchedDay, scope: Scope) -> Iterator[dict[str, Any]]:
        """All records of one day, file by file, from the spooled downloads."""
        for index, spooled in enumerate(fetched.files):
            source = self.describe_file(scope, fetched.day, index, len(fetched.files))
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
            for key in self.row_keys:
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
    row_keys = ("user_id",)
    reports: ClassVar[dict[ScopeKind, str]] = {
        ScopeKind.ORGANIZATION: "users-1-day",
        ScopeKind.ENTERPRISE: "users-1-day",
    }


class CopilotUserTeamsDailyStream(ReportStream):
    """Team memberships of users per day (`user-teams-1-day`), to join with user usage."""

    name = "copilot_user_teams_daily"
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "day", "user_id", "team_id"]
    declared_schema = COPILOT_USER_TEAMS_DAILY_SCHEMA
    row_keys = ("user_id", "team_id")
    reports: ClassVar[dict[ScopeKind, str]] = {
        ScopeKind.ORGANIZATION: "user-teams-1-day",
        ScopeKind.ENTERPRISE: "user-teams-1-day",
    }


class CopilotRepositoryUsageDailyStream(ReportStream):
    """Pull-request activity per repository and day (`repos-1-day`)."""

    name = "copilot_repository_usage_daily"
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "day", "repo_id"]
    declared_schema = COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA
    row_keys = ("repo_id",)
    reports: ClassVar[dict[ScopeKind, str]] = {
        ScopeKind.ORGANIZATION: "repos-1-day",
        ScopeKind.ENTERPRISE: "repos-1-day",
    }


REPORT_STREAMS: tuple[type[ReportStream], ...] = (
    CopilotUsageDailyStream,
    CopilotUserUsageDailyStream,
    CopilotUserTeamsDailyStream,
    CopilotRepositoryUsageDailyStream,
)
