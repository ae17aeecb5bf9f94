"""Fetching report days to local disk, for the report streams (streams/reports.py).

One day is one `?day=` call to the reports API, which answers with signed `download_links`, then
one download per file. Around that sit three things the API makes necessary:

* a scope probe: GitHub answers 404 both for "no report that day" and for an unknown scope;
* fresh links: blob storage refuses a link once it expired, and the day is asked for again;
* the 28-day shortcut: for a backfill of recent weeks, one `*-28-day/latest` report, split into
  days on disk, replaces one call per day.

`fetch_day` runs on prefetch worker threads; everything it touches is thread-safe.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

import msgspec
from singer_sdk.helpers.types import Context

from tap_copilot_metrics.client import github_message
from tap_copilot_metrics.days import DayWindow
from tap_copilot_metrics.downloads import LinkRejected, read_records
from tap_copilot_metrics.errors import ReportUnreadable, TapAPIError
from tap_copilot_metrics.prefetch import FetchedDay, FetchStopped
from tap_copilot_metrics.reportfiles import window_fields
from tap_copilot_metrics.scopes import Scope, ScopeKind

if TYPE_CHECKING:
    from tap_copilot_metrics.streams.reports import ReportStream

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


class NoReport(Exception):
    """GitHub has no report for this day (yet): 204, 404, or a bare JSON string body."""


def describe_file(report: str, scope: Scope, day: dt.date, index: int, count: int) -> str:
    """How messages name a report file (never by its signed URL)."""
    return f"{report} report for {scope.label}, day {day}, file {index + 1} of {count}"


class LatestReport:
    """A 28-day report's rows, split into one spooled NDJSON file per day."""

    def __init__(self, first: dt.date, last: dt.date, *, by_day_totals: bool) -> None:
        self.first, self.last = first, last
        self._by_day_totals = by_day_totals
        self._days: dict[dt.date, IO[bytes]] = {}
        self._lock = threading.Lock()

    def split(self, lines: Iterable[dict[str, Any]], window: DayWindow) -> None:
        """Route each row to its day's file (rows outside the window are not needed).

        A wrapper's 28-day figures (`copilot_feature_engagement`) go onto the row of the
        window's last day, as for any wrapper line (reportfiles.expand_day_totals).
        """
        for line in lines:
            rows = (line.get("day_totals") or ()) if self._by_day_totals else (line,)
            anchor, window_level = window_fields(line) if self._by_day_totals else (None, {})
            for index, row in enumerate(rows):
                if not isinstance(row, dict):
                    continue
                day = _day_of(row)
                if day is None or not (window.first <= day <= window.last):
                    continue
                for name in _LATEST_WINDOW_FIELDS:
                    row.pop(name, None)
                if index == anchor:
                    for name, value in window_level.items():
                        row.setdefault(name, value)
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


class ReportDays:
    """Fetches the days of one report stream, with its auth, retries, counts and messages."""

    def __init__(self, stream: ReportStream) -> None:
        self._stream = stream
        # Scopes GitHub answered for with something other than 404 in this run.
        self._known_scopes: set[Scope] = set()

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
            links = self._links(scope, day, context)
        except NoReport:
            return FetchedDay(day, has_report=False)
        stream = self._stream
        report = stream.report_name(scope)
        fetched = FetchedDay(day)
        refreshes = 0
        try:
            while len(fetched.files) < len(links):
                if stopped and stopped.is_set():
                    raise FetchStopped
                index = len(fetched.files)
                source = describe_file(report, scope, day, index, len(links))
                try:
                    fetched.files.append(stream.downloader.download(links[index], source=source))
                    stream.count("files")
                except LinkRejected as exc:
                    refreshes += 1
                    if refreshes > LINK_REFRESHES:
                        msg = (
                            f"downloading {source} was refused ({exc.status}) even after "
                            f"fetching fresh links {LINK_REFRESHES} times"
                        )
                        raise ReportUnreadable(msg) from None
                    stream.logger.info(
                        "%s: link refused (%s); fetching fresh links", source, exc.status
                    )
                    links = self._fresh_links(scope, day, context, expected=len(links))
        except BaseException:
            fetched.close()
            raise
        return fetched

    def fetch_latest(
        self, scope: Scope, window: DayWindow, context: Context | None
    ) -> LatestReport | None:
        """The `*-28-day/latest` report, split by day on disk, when it saves many day calls.

        Used only for a window of at least LATEST_MIN_DAYS recent days (a backfill), and only
        for reports GitHub also publishes over 28 days. Its lines are the 1-day lines of those
        days (users lines repeat the report window, which is dropped; org/enterprise lines are
        the `day_totals` elements), so the records are the same as day by day.
        """
        stream = self._stream
        latest_name = LATEST_REPORTS.get(stream.report_name(scope))
        recent = stream.settings.today - dt.timedelta(days=LATEST_REPORT_DAYS + SETTLING_DAYS)
        if (
            not latest_name
            or not stream.settings.backfill_from_28_day_reports
            or (window.last - window.first).days + 1 < LATEST_MIN_DAYS
            or window.last < recent
        ):
            return None
        url = self._url(scope, f"{latest_name}/latest")
        for _ in range(LINK_REFRESHES + 1):
            response = stream.get_json(url, context=context)
            envelope = next(iter(stream.parse_response(response)), None)
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
                    with stream.downloader.download(str(link), source=source) as spooled:
                        stream.count("files")
                        latest.split(read_records(spooled, source=source), window)
            except LinkRejected:
                latest.close()
                continue  # the links expired while downloading: ask for fresh ones
            except BaseException:
                latest.close()
                raise
            return latest
        # The 28-day report is only a shortcut: the 1-day reports hold the same records.
        stream.logger.warning(
            "%s for %s: the %s report's files kept being refused; reading day by day instead",
            stream.name,
            scope.label,
            latest_name,
        )
        return None

    def _url(self, scope: Scope, report_path: str) -> str:
        return f"{self._stream.url_base}{scope.path_prefix}/copilot/metrics/reports/{report_path}"

    def _links(self, scope: Scope, day: dt.date, context: Context | None) -> list[str]:
        """Ask the report endpoint for the day's download links (raises NoReport)."""
        stream = self._stream
        url = self._url(scope, stream.report_name(scope))
        response = stream.get_json(url, {"day": day.isoformat()}, context)
        if response.status_code == 404:
            self._require_scope(scope, context)
        else:
            self._known_scopes.add(scope)
        envelope = next(iter(stream.parse_response(response)), None)
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
        url = self._url(scope, f"{_SCOPE_PROBE_REPORTS[scope.kind]}/latest")
        response = self._stream.get_json(url, context=context)
        if response.status_code == 404:
            raise TapAPIError(self._stream.not_found_message(scope, github_message(response)))
        self._known_scopes.add(scope)

    def _fresh_links(
        self, scope: Scope, day: dt.date, context: Context | None, *, expected: int
    ) -> list[str]:
        """New links for a day whose old ones expired; the report must not have changed shape."""
        report = self._stream.report_name(scope)
        try:
            fresh = self._links(scope, day, context)
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
